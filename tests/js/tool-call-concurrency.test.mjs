// toolCallConcurrency (the AI SDK's; src/agent/agent_loop.cpp, run_tools): at most that many of a
// step's tool calls run at once, started in the model's order; by default all run at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, L, run, runPrompt } from '../../dist/node.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
const call = (id) => ({ type: 'tool-call', toolCallId: id, toolName: 'work', args: { id } });

/** A model that makes four calls at its first step, then answers `done`. */
const fourCalls = () => ({
  provider: 'scripted',
  modelId: 'm',
  calls: 0,
  async generate() {
    return ++this.calls === 1 ? { content: ['a', 'b', 'c', 'd'].map(call), finishReason: 'tool-calls', usage } : { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
  },
});

/** A tool that logs its start and end and takes a few turns of the event loop; `peak` is the most running at once. */
function worker() {
  const state = { log: [], running: 0, peak: 0 };
  state.execute = async ({ id }) => {
    state.log.push(`start ${id}`);
    state.peak = Math.max(state.peak, ++state.running);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    state.running--;
    state.log.push(`end ${id}`);
    return id;
  };
  return state;
}

const tools = (w) => ({ work: { description: 'works', inputSchema: { type: 'object', properties: { id: { type: 'string' } } }, execute: w.execute } });

test('runPrompt: 1 runs a step\'s calls one by one in order, 2 two at a time, none all at once; the results keep the model\'s order', async () => {
  for (const [limit, peak] of [[1, 1], [2, 2], [undefined, 4]]) {
    const w = worker();
    const { result } = await runPrompt({ model: fourCalls(), prompt: 'go', tools: tools(w), ...(limit ? { toolCallConcurrency: limit } : {}) });
    assert.equal(await result.text, 'done');
    assert.equal(w.peak, peak, `toolCallConcurrency ${limit}`);
    assert.deepEqual((await result.steps)[0].toolResults.map((r) => r.result), ['a', 'b', 'c', 'd']);
    if (limit === 1) assert.deepEqual(w.log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
    if (limit === 2) assert.deepEqual(w.log.filter((e) => e.startsWith('start')), ['start a', 'start b', 'start c', 'start d']);
  }
});

test('run(agent): every reply\'s steps; a bad value is a ConfigError', async () => {
  const w = worker();
  const value = await run(function* () {
    yield* L.user`go`;
    return (yield* L.reply).value;
  }, { models: { default: fourCalls() }, tools: { work: { description: 'works', parameters: tools(w).work.inputSchema, execute: w.execute } }, toolCallConcurrency: 1 });
  assert.equal(value, 'done');
  assert.equal(w.peak, 1);
  await assert.rejects(runPrompt({ model: fourCalls(), prompt: 'go', toolCallConcurrency: 0 }).text, (e) => e instanceof ConfigError && /'toolCallConcurrency' must be an integer from 1 to 1000000/.test(e.message));
  await assert.rejects(run(function* () {}, { models: { default: fourCalls() }, toolCallConcurrency: 1.5 }), (e) => e instanceof ConfigError && /'toolCallConcurrency' must be an integer/.test(e.message));
});
