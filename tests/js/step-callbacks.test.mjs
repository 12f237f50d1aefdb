// The AI SDK 7's onStart / onStepStart / onStepError (js/run/step-callbacks.ts, the engine's
// step_start seam): onStart once before the first step's hooks, onStepStart before each step's
// model call with the request as prepareStep left it, onStepError when a step's model call failed
// for good (real HTTP: a recorded OpenAI 500), before the run fails; awaited; a callback that
// throws is an `error` event; for runPrompt and for every reply of a directive run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createOpenAI, L, memoryStorage, mockModel, ProviderError, replay, run, runPrompt } from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const citySchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('runPrompt: onStart once, then per step prepareStep and onStepStart (awaited) before the model call, with the final request', async () => {
  const log = [];
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Paris' } }, { type: 'text', text: 'Sunny.' }]);
  const generate = model.generate.bind(model);
  model.generate = (request, options) => {
    log.push(`model call ${request.messages.length} messages`);
    return generate(request, options);
  };
  const starts = [];
  const stepStarts = [];
  const { result } = await runPrompt({
    model,
    system: 'Be brief.',
    prompt: 'Weather in Paris?',
    temperature: 0.2,
    providerOptions: { openai: { user: 'u1' } },
    tools: { weather: { description: 'Weather', inputSchema: citySchema, execute: () => 'sunny' }, news: { description: 'News', inputSchema: { type: 'object' }, execute: () => 'none' } },
    prepareStep: ({ stepNumber }) => {
      log.push(`prepareStep ${stepNumber}`);
      return stepNumber === 1 ? { activeTools: ['news'], system: 'Answer now.' } : undefined;
    },
    onStart: async (event) => {
      await tick();
      log.push('onStart');
      starts.push(event);
    },
    onStepStart: async (event) => {
      await tick(); // an unawaited callback would log after the model call
      log.push(`onStepStart ${event.stepNumber}`);
      stepStarts.push(event);
    },
  });
  assert.equal(await result.text, 'Sunny.');
  assert.deepEqual(log, ['onStart', 'prepareStep 0', 'onStepStart 0', 'model call 2 messages', 'prepareStep 1', 'onStepStart 1', 'model call 4 messages']);
  const [start] = starts;
  assert.equal(start.operationId, 'lmthing.runPrompt');
  assert.equal(start.provider, 'mock');
  assert.equal(start.modelId, model.modelId);
  assert.equal(typeof start.callId, 'string');
  assert.match(start.system, /Be brief\./);
  assert.deepEqual(start.messages, [{ role: 'user', content: 'Weather in Paris?' }]);
  assert.deepEqual(start.activeTools, ['weather', 'news']);
  assert.equal(start.temperature, 0.2);
  assert.deepEqual(start.providerOptions, { openai: { user: 'u1' } });
  const [first, second] = stepStarts;
  assert.equal(first.stepNumber, 0);
  assert.deepEqual(first.steps, []);
  assert.equal(first.callId, start.callId);
  assert.equal(second.stepNumber, 1);
  assert.equal(second.system, 'Answer now.'); // what prepareStep chose
  assert.deepEqual(second.activeTools, ['news']);
  assert.deepEqual(second.messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(second.steps.length, 1);
  assert.equal(second.steps[0].toolCalls[0].toolName, 'weather');
});

test('runPrompt: onStepError gets the step and the HTTP error before the run fails with it (a recorded OpenAI 500, no retries)', async () => {
  srv.enqueue(loadFixture('openai-chat', 'errors-429-tpm-chat_500-responses', 2));
  const log = [];
  const openai = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'sk-test-not-a-real-key' });
  const { result } = await runPrompt({
    model: openai('gpt-3.5-turbo'),
    prompt: 'Hello',
    maxRetries: 0,
    onStepStart: ({ stepNumber }) => void log.push(`start ${stepNumber}`),
    onStepError: async (event) => {
      await tick();
      log.push(`error ${event.stepNumber} ${event.error.constructor.name} ${event.error.status} ${event.messages.length} ${event.modelId}`);
    },
    onError: () => void log.push('onError'),
  });
  await assert.rejects(result.text, (err) => err instanceof ProviderError && err.status === 500);
  assert.deepEqual(log, ['start 0', 'error 0 ProviderError 500 1 gpt-3.5-turbo', 'onError']);
});

test('runPrompt: no onStepError for a step that succeeds or a run that is cancelled; a throwing callback is an error event, not the run\'s failure', async () => {
  const log = [];
  const controller = new AbortController();
  const stalled = { provider: 'test', modelId: 'stalled', generate: (_req, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) };
  const cancelled = await runPrompt({
    model: stalled,
    prompt: 'Hello',
    abortSignal: controller.signal,
    onStepStart: () => void setImmediate(() => controller.abort()),
    onStepError: () => void log.push('step error'),
  });
  await assert.rejects(cancelled.result.text, { name: 'AbortError' });
  const { result, prompt } = await runPrompt({
    model: mockModel([{ type: 'text', text: 'fine' }]),
    prompt: 'Hello',
    onStepStart: () => {
      throw new Error('watcher bug');
    },
    onStepError: () => void log.push('step error'),
  });
  assert.equal(await result.text, 'fine');
  assert.deepEqual(log, []);
  const failure = prompt.events.find((e) => e.type === 'error');
  assert.equal(failure.source, 'handler');
  assert.equal(failure.error.message, 'event handler onStepStart failed on step-start: watcher bug');
});

test('the older names work; both names, or a non-function, are ConfigErrors', async () => {
  const log = [];
  const { result } = await runPrompt({
    model: mockModel([{ type: 'text', text: 'ok' }]),
    prompt: 'Hi',
    experimental_onStart: () => void log.push('start'),
    experimental_onStepStart: ({ stepNumber }) => void log.push(`step ${stepNumber}`),
  });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(log, ['start', 'step 0']);
  await assert.rejects(
    runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi', onStart: () => {}, experimental_onStart: () => {} }),
    (err) => err instanceof ConfigError && /give 'experimental_onStart' or 'onStart' \(two names of one option\), not both/.test(err.message),
  );
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi', onStepError: 'log' }), (err) => err instanceof ConfigError && /onStepError/.test(err.message));
  await assert.rejects(
    run(function* () {}, { models: { default: mockModel([]) }, onStepStrat: () => {} }),
    (err) => err instanceof ConfigError && /did you mean 'onStepStart'/.test(err.message),
  );
});

test('run(): each reply of each conversation has its onStart and onStepStart (with its path and earlier steps), branches included', async () => {
  const log = [];
  const model = mockModel([
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } },
    { type: 'text', text: 'Cold.' },
    { type: 'text', text: 'Branch answer.' },
  ]);
  const agent = function* () {
    yield* L.user`Weather in Oslo?`;
    yield* L.reply;
    yield* L.branch(function* helper() {
      yield* L.user`And you?`;
      return yield* L.reply;
    });
  };
  const config = (log) => ({
    models: { default: model },
    tools: { weather: { description: 'Weather', inputSchema: citySchema, execute: () => 'cold' } },
    onStart: ({ operationId, path, messages }) => void log.push(`start ${operationId} ${path.join('/')} ${messages.length}`),
    onStepStart: ({ path, stepNumber, steps, activeTools }) => void log.push(`step ${path.join('/')} ${stepNumber} earlier:${steps.length} tools:${activeTools.join(',')}`),
  });
  const live = run(agent, { ...config(log), durable: { id: 'step-starts', storage: memoryStorage() } });
  await live;
  assert.deepEqual(log, [
    'start lmthing.reply root 1',
    'step root 0 earlier:0 tools:weather',
    'step root 1 earlier:1 tools:weather', // the reply's tool round
    'start lmthing.reply root/0 5', // the branch's reply: the root's 4 messages and its own
    'step root/0 0 earlier:0 tools:weather',
  ]);
  const replayed = [];
  await replay(live.journal(), agent, config(replayed));
  assert.deepEqual(replayed, [], 'a replay answers the callbacks from its journal, as it does onStepFinish');
});
