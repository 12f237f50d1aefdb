// The AI SDK 7's onToolExecutionStart / onToolExecutionEnd (js/run/tool-execution.ts): called right
// before a tool's implementation runs and right after, awaited, with the AI SDK's fields, for
// runPrompt's own tools and every tool of a directive run; a callback that throws is ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, L, memoryStorage, mockModel, replay, run, runPrompt } from '../../dist/node.js';

const citySchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

/** Start and end callbacks that log in order with the tool's own log; the start waits a tick, so an unawaited callback would log after the tool. */
function watcher(log) {
  return {
    onToolExecutionStart: async ({ callId, toolCall, messages }) => {
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`start ${toolCall.type} ${toolCall.toolCallId} ${toolCall.toolName} ${JSON.stringify(toolCall.input)} messages:${messages.length > 0} callId:${typeof callId}`);
    },
    onToolExecutionEnd: ({ toolCall, toolOutput, toolExecutionMs }) => {
      const outcome = toolOutput.type === 'tool-result' ? JSON.stringify(toolOutput.output) : toolOutput.error.message;
      log.push(`end ${toolCall.toolCallId} ${toolOutput.type} ${toolOutput.toolName} ${outcome} ms:${toolExecutionMs >= 0}`);
    },
  };
}

const calls = () => [
  { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Paris' } },
  { type: 'tool-call', toolCallId: 'c2', toolName: 'weather', args: { city: 'Atlantis' } },
  { type: 'text', text: 'done' },
];

function weatherTool(log) {
  return (args) => {
    log.push(`execute ${args.city}`);
    if (args.city === 'Atlantis') throw new Error('no such city');
    return `sunny in ${args.city}`;
  };
}

test('runPrompt: each tool runs between its start and end callbacks, awaited; a thrown tool ends as tool-error', async () => {
  const log = [];
  const { result } = await runPrompt({
    model: mockModel(calls()),
    prompt: 'Weather?',
    tools: { weather: { description: 'Weather', inputSchema: citySchema, execute: weatherTool(log) } },
    ...watcher(log),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(log, [
    'start tool-call c1 weather {"city":"Paris"} messages:true callId:string',
    'execute Paris',
    'end c1 tool-result weather "sunny in Paris" ms:true',
    'start tool-call c2 weather {"city":"Atlantis"} messages:true callId:string',
    'execute Atlantis',
    'end c2 tool-error weather no such city ms:true',
  ]);
});

test('a callback that throws is ignored (the tool runs and its result stands); the older names work; both names or a non-function are ConfigErrors', async () => {
  const log = [];
  const { result } = await runPrompt({
    model: mockModel(calls()),
    prompt: 'Weather?',
    tools: { weather: { description: 'Weather', inputSchema: citySchema, execute: weatherTool(log) } },
    experimental_onToolCallStart: () => {
      throw new Error('watcher broke');
    },
    experimental_onToolCallFinish: ({ toolOutput }) => log.push(`finish ${toolOutput.type}`),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(log, ['execute Paris', 'finish tool-result', 'execute Atlantis', 'finish tool-error']);
  assert.equal((await result.steps)[0].toolResults[0].result, 'sunny in Paris');

  const model = mockModel([{ type: 'text', text: 'x' }]);
  await assert.rejects(runPrompt({ model, prompt: 'x', onToolExecutionStart: () => {}, experimental_onToolCallStart: () => {} }).text, (e) => e instanceof ConfigError && /give 'experimental_onToolCallStart' or 'onToolExecutionStart' \(two names of one option\), not both/.test(e.message));
  await assert.rejects(runPrompt({ model, prompt: 'x', onToolExecutionEnd: 'log' }).text, (e) => e instanceof ConfigError && /'onToolExecutionEnd' must be a function/.test(e.message));
  await assert.rejects(runPrompt({ model, prompt: 'x', onToolExecutionEnds: () => {} }).text, (e) => e instanceof ConfigError && /did you mean 'onToolExecutionEnd'/.test(e.message));
});

test('a directive run: L.tool and config.tools, in a branch too; a durable replay does not call them again', async () => {
  const log = [];
  const model = mockModel([
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Paris' } },
    { type: 'text', text: 'sunny' },
    { type: 'end-step' },
    { type: 'tool-call', toolCallId: 'c2', toolName: 'lookup', args: { city: 'Oslo' } },
    { type: 'text', text: 'found' },
  ]);
  const agent = function* () {
    yield* L.user`Weather?`;
    yield* L.reply;
    return yield* L.branch(function* () {
      yield* L.tool('lookup', 'Looks a city up', citySchema, ({ city }) => (log.push(`execute lookup ${city}`), `${city} found`));
      yield* L.user`Look Oslo up`;
      return (yield* L.reply).value;
    });
  };
  const config = { models: { default: model }, tools: { weather: { description: 'Weather', parameters: citySchema, execute: weatherTool(log) } }, ...watcher(log) };
  const live = run(agent, { ...config, durable: { id: 'tool-execution', storage: memoryStorage() } });
  assert.equal(await live, 'found');
  assert.deepEqual(log, [
    'start tool-call c1 weather {"city":"Paris"} messages:true callId:string',
    'execute Paris',
    'end c1 tool-result weather "sunny in Paris" ms:true',
    'start tool-call c2 lookup {"city":"Oslo"} messages:true callId:string',
    'execute lookup Oslo',
    'end c2 tool-result lookup "Oslo found" ms:true',
  ]);
  const replayed = [];
  assert.equal(await replay(live.journal(), agent, { ...config, ...watcher(replayed) }), 'found');
  assert.deepEqual(replayed, [], 'the journal answered the tools: nothing ran, so nothing was reported');
});
