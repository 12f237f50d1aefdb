// Memory and context windows at their edges: a turn that cannot fit the window, an empty priority
// list, vectors at the ends of float32's range, a message without content.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, ContextLengthError, countTokens, mockModel, runPrompt } from '../../dist/node.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };

test('a window the newest message (or tool call with its result) cannot fit fails with ContextLengthError instead of calling the model with nothing', async () => {
  const calls = [];
  const model = {
    provider: 'openai',
    modelId: 'gpt-4o',
    async generate(request) {
      calls.push(request.messages.map((m) => m.role));
      if (calls.length === 1 && request.tools?.length) return { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'fetchPage', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage };
      return { content: [{ type: 'text', text: 'answered' }], finishReason: 'stop', usage };
    },
  };
  for (const strategy of ['sliding-window']) {
    calls.length = 0;
    const { result } = await runPrompt((ctx) => {
      ctx.defContext('main', strategy, { maxTokens: 200 });
      ctx.$`${'word '.repeat(500)}`;
    }, { model });
    await assert.rejects(result.text, (e) => e instanceof ContextLengthError && /context "main": the newest message alone needs \d+ tokens but the budget is \d+/.test(e.message), strategy);
    assert.deepEqual(calls, [], `${strategy}: the model was not called`);
  }
  // The user's task fits; the tool's result does not: the next call would have had no conversation.
  calls.length = 0;
  const { result } = await runPrompt((ctx) => {
    ctx.defContext('main', 'sliding-window', { maxTokens: 600 });
    ctx.defTool('fetchPage', 'Fetches', { type: 'object', properties: {} }, async () => 'lorem ipsum '.repeat(400));
    ctx.$`Summarize the page.`;
  }, { model });
  await assert.rejects(result.text, (e) => e instanceof ContextLengthError && /the newest messages \(a tool call with its results\) alone need \d+ tokens/.test(e.message));
  assert.deepEqual(calls, [['user']], 'only the first call, which fit');
});

test("defContext refuses an empty 'prioritize' (it would keep nothing)", async () => {
  const { result } = await runPrompt((ctx) => {
    ctx.defContext('main', 'sliding-window', { maxTokens: 5000, prioritize: [] });
    ctx.$`hi`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await assert.rejects(result.text, (e) => e instanceof ConfigError && /"prioritize" must be a non-empty array of system, first, recent or relevant, got \[\]/.test(e.message));
});

test('vector memory: a tiny (subnormal) vector has its direction; an infinite value is named as such', async () => {
  const seen = {};
  const { result } = await runPrompt(async (ctx) => {
    ctx.defMemory('m', 'vector', { dimensions: 3 });
    const memory = ctx.memory('m');
    await memory.store([{ vector: [1, 0, 0], id: 'x' }, { vector: [0, 1, 0], id: 'y' }, { vector: [1e-40, 0, 0], id: 'tiny' }]);
    seen.near = (await memory.search([1, 0, 0], { limit: 10, exact: true })).map((r) => [r.id, Math.round(r.score * 1e6) / 1e6]);
    seen.threshold = (await memory.search([0, 1, 0], { limit: 10, threshold: 0.99 })).map((r) => r.id);
    seen.infinite = await memory.store({ vector: [Infinity, 0, 1] }).catch((e) => `${e.code}: ${e.message}`);
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  await result.text;
  assert.deepEqual(seen.near.slice(0, 2).map(([, score]) => score), [1, 1]);
  assert.deepEqual(new Set(seen.near.slice(0, 2).map(([id]) => id)), new Set(['x', 'tiny']));
  assert.deepEqual(seen.near[2], ['y', 0]);
  assert.deepEqual(seen.threshold, ['y']);
  assert.match(seen.infinite, /^NON_FINITE_VECTOR: .*has NaN or an infinite value \(JSON carries neither: they arrive as null\) at index 0/);
});

test('countTokens refuses a message without content', async () => {
  await assert.rejects(countTokens('openai:gpt-4o', [{ role: 'user' }]), /messages\[0\]\.content must be a string or an array of parts, got undefined/);
  assert.ok((await countTokens('openai:gpt-4o', [{ role: 'user', content: 'Hi' }])).tokens > 0);
});
