// The AI SDK 7's callbacks that watch a run's calls (js/run/call-watchers.ts): onToolExecutionStart
// / onToolExecutionEnd right before a tool's implementation runs and right after, and
// onLanguageModelCallStart / onLanguageModelCallEnd around each request to the provider; awaited,
// with the AI SDK's fields, for runPrompt's own calls and every call of a directive run; a callback
// that throws is ignored; calls a cache or a durable replay answers are not reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createEngine, L, memoryStorage, mockModel, replay, run, runPrompt } from '../../dist/node.js';

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

/** Model call callbacks that log in order; the start waits a tick, so an unawaited one would log after the call. */
function modelWatcher(log, seen) {
  return {
    onLanguageModelCallStart: async (event) => {
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(event);
      log.push(`model start ${event.provider} messages:${event.messages.length}`);
    },
    onLanguageModelCallEnd: (event) => {
      seen.push(event);
      log.push(`model end ${event.finishReason} ${event.content.map((p) => p.type).join(',')}`);
    },
  };
}

test('runPrompt: each model request between onLanguageModelCallStart and End, before the tools run; a cached answer is not reported', async () => {
  const log = [];
  const seen = [];
  const engine = await createEngine();
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Paris' } }, { type: 'text', text: 'done' }]);
  const ask = () =>
    runPrompt(
      (ctx) => {
        ctx.defCache('answers', 'lru');
        ctx.defSystem('role', 'Be brief.');
        ctx.defTool('weather', 'Weather', citySchema, weatherTool(log));
        ctx.$`Weather?`;
      },
      { model, engine, cache: 'answers', temperature: 0.5, providerOptions: { openai: { user: 'u1' } }, ...modelWatcher(log, seen), onToolExecutionStart: () => log.push('tool start') },
    ).then(({ result }) => result.text);
  assert.equal(await ask(), 'done');
  assert.deepEqual(log, ['model start mock messages:1', 'model end tool-calls tool-call', 'tool start', 'execute Paris', 'model start mock messages:3', 'model end stop text']);
  const [start, end] = seen;
  assert.match(start.system, /Be brief\./);
  assert.deepEqual([start.modelId, start.temperature, start.tools.map((t) => t.name), start.providerOptions], ['mock', 0.5, ['weather'], { openai: { user: 'u1' } }]);
  assert.equal(start.callId, end.callId);
  assert.ok(!('headers' in start), 'headers (which may hold credentials) are left out');
  assert.ok(end.usage.outputTokens > 0 && end.usage.totalTokens === end.usage.inputTokens + end.usage.outputTokens, JSON.stringify(end.usage));
  assert.ok(end.performance.responseTimeMs >= 0 && Number.isFinite(end.performance.effectiveOutputTokensPerSecond));

  log.length = 0;
  assert.equal(await ask(), 'done');
  assert.deepEqual(log, ['tool start', 'execute Paris'], 'both model calls were answered from the cache: no provider request to report');
});

test('a directive run reports the model calls of every conversation; a throwing callback is ignored', async () => {
  const log = [];
  const model = mockModel([{ type: 'text', text: 'root' }, { type: 'end-step' }, { type: 'text', text: 'branch' }]);
  const value = await run(function* () {
    yield* L.user`Hi`;
    yield* L.reply;
    return yield* L.branch(function* () {
      yield* L.user`Again`;
      return (yield* L.reply).value;
    });
  }, {
    models: { default: model },
    onLanguageModelCallStart: () => {
      throw new Error('watcher broke');
    },
    onLanguageModelCallEnd: ({ content }) => log.push(content[0].text),
  });
  assert.equal(value, 'branch');
  assert.deepEqual(log, ['root', 'branch']);
});

test('onLanguageModelCallEnd\'s performance: the time to the first streamed delta and the rates before and after it; none of those for an answer that did not stream', async () => {
  const usage = { inputTokens: 40, outputTokens: 20, totalTokens: 60 };
  const model = (stream) => ({
    provider: 'custom',
    modelId: stream ? 'streams' : 'whole',
    async generate(_request, { onDelta }) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (stream) onDelta?.({ type: 'text-delta', text: 'Hel' });
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (stream) onDelta?.({ type: 'text-delta', text: 'lo' });
      return { content: [{ type: 'text', text: 'Hello' }], finishReason: 'stop', usage };
    },
  });
  const ends = [];
  for (const stream of [true, false]) {
    const { result } = await runPrompt({ model: model(stream), prompt: 'Hi', onLanguageModelCallEnd: ({ performance }) => void ends.push(performance) });
    assert.equal(await result.text, 'Hello');
  }
  const [streamed, whole] = ends;
  assert.ok(streamed.timeToFirstOutputMs >= 25 && streamed.timeToFirstOutputMs < streamed.responseTimeMs, JSON.stringify(streamed));
  assert.ok(streamed.responseTimeMs >= 55, JSON.stringify(streamed));
  assert.ok(Math.abs(streamed.outputTokensPerSecond - (20 * 1000) / (streamed.responseTimeMs - streamed.timeToFirstOutputMs)) < 1e-6);
  assert.ok(Math.abs(streamed.inputTokensPerSecond - (40 * 1000) / streamed.timeToFirstOutputMs) < 1e-6);
  assert.ok(Math.abs(streamed.effectiveTotalTokensPerSecond - (60 * 1000) / streamed.responseTimeMs) < 1e-6);
  assert.deepEqual([whole.timeToFirstOutputMs, whole.outputTokensPerSecond, whole.inputTokensPerSecond], [undefined, undefined, undefined]);
  assert.ok(whole.effectiveOutputTokensPerSecond > 0);
});

test('onLanguageModelCallEnd\'s timeBetweenOutputChunksMs: min, p10, median, avg, p90 and max of the gaps between streamed deltas; absent below two deltas', async () => {
  const sentAt = [];
  const model = (waits) => ({
    provider: 'custom',
    modelId: 'gaps',
    async generate(_request, { onDelta }) {
      for (const ms of waits) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        sentAt.push(performance.now());
        onDelta?.({ type: 'text-delta', text: 'x' });
      }
      return { content: [{ type: 'text', text: 'x'.repeat(waits.length) }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  });
  const ends = [];
  await (await runPrompt({ model: model([0, 40, 5, 80, 20, 10]), prompt: 'Hi', onLanguageModelCallEnd: ({ performance }) => void ends.push(performance) })).result.text;
  const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
  const sorted = [...gaps].sort((a, b) => a - b); // 5 gaps: nearest rank gives p10 = the least, median = the third, p90 = the greatest
  const stats = ends[0].timeBetweenOutputChunksMs;
  const near = (actual, expected, what) => assert.ok(Math.abs(actual - expected) < 2, `${what}: ${actual} vs the model's ${expected}`);
  near(stats.min, sorted[0], 'min');
  near(stats.p10, sorted[0], 'p10');
  near(stats.median, sorted[2], 'median');
  near(stats.p90, sorted[4], 'p90');
  near(stats.max, sorted[4], 'max');
  near(stats.avg, gaps.reduce((a, b) => a + b, 0) / gaps.length, 'avg');
  assert.ok(stats.max >= 78 && stats.min < stats.median && stats.median < stats.max, JSON.stringify(stats));
  sentAt.length = 0;
  await (await runPrompt({ model: model([0]), prompt: 'Hi', onLanguageModelCallEnd: ({ performance }) => void ends.push(performance) })).result.text;
  assert.equal('timeBetweenOutputChunksMs' in ends[1], false);
});

test('one callId names all of a run\'s calls, and runs of two engines (each its run 1) get different ones', async () => {
  const ids = async () => {
    const engine = await createEngine();
    const seen = new Set();
    const note = ({ callId }) => void seen.add(callId);
    const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Paris' } }, { type: 'text', text: 'done' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('weather', 'Weather', citySchema, () => 'sunny');
      ctx.$`Weather?`;
    }, { model, engine, onLanguageModelCallStart: note, onLanguageModelCallEnd: note, onToolExecutionStart: note, onToolExecutionEnd: note, onStart: note, onStepStart: note });
    assert.equal(await result.text, 'done');
    assert.equal(seen.size, 1, `one id for the run, got ${[...seen].join(', ')}`);
    const [id] = seen;
    assert.match(id, /^[0-9a-f]{16}$/);
    return id;
  };
  assert.notEqual(await ids(), await ids());
});
