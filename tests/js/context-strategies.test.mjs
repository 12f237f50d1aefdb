// defContext's hierarchical and hybrid strategies (docs/memory.md) and the pre-call token budget
// check (docs/resilience.md) through the package: a 300-step hierarchical agent whose every call
// stays under maxTokens − reserveTokens counted exactly with js-tiktoken, chunk and session summaries
// as events; hybrid keeping the newest turns and the most relevant old one; a token budget that
// refuses a call before the model sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import { BudgetExceededError, ConfigError, createEngine, mockModel, runPrompt } from '../../dist/node.js';

const require = createRequire(import.meta.url);
const o200k = new Tiktoken(require('js-tiktoken/ranks/o200k_base'));
const engine = await createEngine();
const tokens = (text) => o200k.encode(text, [], []).length;

/** OpenAI's rule for one message's tokens (3 + role + content), with tool parts as the engine counts them. */
function messageTokens(m) {
  let n = 3 + tokens(m.role);
  if (typeof m.content === 'string') return n + tokens(m.content);
  for (const p of m.content) {
    if (p.type === 'text') n += tokens(p.text);
    if (p.type === 'tool-call') n += tokens(p.toolName) + tokens(JSON.stringify(p.args ?? {}));
    if (p.type === 'tool-result') n += tokens(typeof p.result === 'string' ? p.result : JSON.stringify(p.result));
  }
  return n;
}

const toolIds = (messages, type) => messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === type).map((p) => p.toolCallId) : []));

/** gpt-4o by name: chunk and session summary requests get short summaries, every other request calls `note` until `steps` calls. */
function agentModel(steps) {
  const calls = [];
  const chunks = [];
  const sessions = [];
  let n = 0;
  return {
    provider: 'openai',
    modelId: 'gpt-4o',
    calls,
    chunks,
    sessions,
    async generate(req) {
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      const system = req.messages[0]?.role === 'system' ? req.messages[0].content : '';
      if (system.startsWith('You compress conversations. Merge')) {
        sessions.push(req);
        return { content: [{ type: 'text', text: `Session ${sessions.length}: notes up to ${n} were taken; the task goes on.` }], finishReason: 'stop', usage };
      }
      if (system.startsWith('You compress conversations')) {
        chunks.push(req);
        return { content: [{ type: 'text', text: `Chunk ${chunks.length}: a few more notes, nothing unusual.` }], finishReason: 'stop', usage };
      }
      calls.push(req.messages);
      n++;
      if (n >= steps) return { content: [{ type: 'text', text: 'finished' }], finishReason: 'stop', usage };
      return { content: [{ type: 'tool-call', toolCallId: `c${n}`, toolName: 'note', args: { n } }], finishReason: 'tool-calls', usage };
    },
  };
}

test('a 300-step hierarchical agent stays under maxTokens with chunk and session summaries', async () => {
  const steps = 300;
  const model = agentModel(steps);
  const events = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('history', 'hierarchical', { maxTokens: 1500, reserveTokens: 300, maxChunks: 3 });
      ctx.defTool('note', 'Takes a note', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => `note ${n}: the task goes on, nothing unusual to report`);
      ctx.$`Take notes until you are done.`;
    },
    { model, engine, maxSteps: steps, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'finished', 'summaries are not part of the run’s text');
  assert.equal(model.calls.length, steps);
  const summarized = events.filter((e) => e.type === 'context-summarized');
  assert.equal(summarized.filter((e) => e.level === 'chunk').length, model.chunks.length);
  assert.equal(summarized.filter((e) => e.level === 'session').length, model.sessions.length);
  assert.ok(model.chunks.length >= 10 && model.sessions.length >= 3, `${model.chunks.length} chunks, ${model.sessions.length} sessions`);
  for (const messages of model.calls) {
    const sent = messages.reduce((sum, m) => sum + messageTokens(m), 3);
    assert.ok(sent <= 1500 - 300, `a call of ${sent} tokens`);
    assert.deepEqual(toolIds(messages, 'tool-call').sort(), toolIds(messages, 'tool-result').sort(), 'a tool result is never sent without its call');
  }
  // The last call: the latest session summary, then at most maxChunks chunks, then the newest turns verbatim.
  const first = model.calls.at(-1)[0];
  assert.equal(first.role, 'system');
  assert.match(first.content, new RegExp(`^Summary of the earlier conversation:\\nSession ${model.sessions.length}:`));
  assert.ok((first.content.match(/Chunk \d+:/g) ?? []).length <= 3);
  // A session summary folds the previous one and the chunks after it; a chunk only its own messages.
  assert.match(model.sessions.at(-1).messages[1].content, /The session summary so far:\nSession .*\n\nSummaries of what followed, in order:\n- Chunk /s);
  assert.ok(model.chunks.every((r) => !/summary so far/.test(r.messages[1].content)));
});

test('hybrid keeps the newest turns in its share and the most relevant older one', async () => {
  const requests = [];
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  const recorded = { ...model, generate: async (req) => (requests.push(req.messages), model.generate(req)) };
  const history = [];
  for (let i = 0; i < 30; i++) history.push({ role: 'user', content: `remark ${i} about the plan, its milestones and the people who own them` }, { role: 'assistant', content: `noted ${i}` });
  const run = (weights) =>
    runPrompt(
      (ctx) => {
        ctx.defContext('mixed', 'hybrid', { maxTokens: 300, relevanceScorer: (m) => (typeof m.content === 'string' && m.content.startsWith('remark 2 ') ? 1 : 0), weights });
        ctx.$`What about remark 2?`;
      },
      { model: recorded, messages: history, engine },
    ).then(({ result }) => result.text);
  await run({ recent: 1, relevant: 1 });
  const mixed = requests.at(-1).map((m) => m.content);
  assert.ok(mixed.some((c) => c.startsWith('remark 2 ')), 'the relevant old remark is kept');
  assert.equal(mixed.at(-1), 'What about remark 2?');
  assert.ok(mixed.includes('noted 29'), 'the newest turns are kept');
  assert.ok(!mixed.some((c) => c.startsWith('remark 10 ')), 'the middle is left out');
  await run({ recent: 1, relevant: 0 });
  assert.ok(!requests.at(-1).some((m) => m.content.startsWith('remark 2 ')), 'with no relevant weight it is a sliding window');
});

test('a token budget refuses a call whose input alone does not fit, before the model sees it', async () => {
  let called = 0;
  const model = { provider: 'openai', modelId: 'gpt-4o', generate: async () => (called++, { content: [{ type: 'text', text: 'ok' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) };
  const question = 'Compare the weather of Paris, Lyon and Nice over the last ten years, month by month.';
  const predicted = 3 + tokens('user') + tokens(question) + 3;
  const run = (max) =>
    runPrompt(
      (ctx) => {
        ctx.defConstraint('budget', 'tokens', { max });
        ctx.$`${question}`;
      },
      { model, engine },
    ).then(({ result }) => result.text);
  await assert.rejects(run(predicted - 1), (err) => {
    assert.ok(err instanceof BudgetExceededError);
    assert.equal(err.constraint, 'budget');
    assert.match(err.message, new RegExp(`input alone is ${predicted} tokens \\(exact, o200k_base\\) but only ${predicted - 1} of ${predicted - 1} remain`));
    return true;
  });
  assert.equal(called, 0);
  assert.equal(await run(predicted), 'ok');
  assert.equal(called, 1);
});

test('hybrid and hierarchical configs are checked', async () => {
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  const bad = [
    [['c', 'hierarchal', { maxTokens: 100 }], /did you mean 'hierarchical'/],
    [['c', 'hybrid', { maxTokens: 100 }], /'hybrid' needs a relevanceScorer/],
    [['c', 'sliding-window', { maxTokens: 100, weights: { recent: 1 } }], /'weights' applies to the 'hybrid' strategy only/],
    [['c', 'hybrid', { maxTokens: 100, relevanceScorer: () => 0, weights: { recnt: 1 } }], /recnt.*recent/],
    [['c', 'hybrid', { maxTokens: 100, relevanceScorer: () => 0, weights: { recent: 0, relevant: 0 } }], /must not all be 0/],
    [['c', 'hierarchical', { maxTokens: 100, maxChunks: 0 }], /maxChunks/],
    [['c', 'relevance-based', { maxTokens: 100, relevanceScorer: () => 0, maxChunks: 2 }], /'maxChunks' applies to the 'hierarchical' strategy only/],
    // A scorer the strategy would never call.
    [['c', 'sliding-window', { maxTokens: 100, relevanceScorer: () => 0 }], /'relevanceScorer' applies to the 'relevance-based' and 'hybrid' strategies only/],
    [['c', 'hierarchical', { maxTokens: 100, relevanceScorer: () => 0 }], /'relevanceScorer' applies to/],
  ];
  for (const [args, pattern] of bad)
    await assert.rejects(runPrompt((ctx) => ctx.defContext(...args), { model }), (err) => err instanceof ConfigError && pattern.test(err.message), JSON.stringify(args));
});

test("a relevanceScorer's answer that is not a finite number fails the run, naming the message (it was ranked 0 in silence)", async () => {
  for (const [answer, shown] of [['high', 'the string "high"'], [Number.NaN, 'the number NaN'], [undefined, 'undefined']]) {
    const model = mockModel([{ type: 'text', text: 'ok' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defContext('c', 'relevance-based', { maxTokens: 30, relevanceScorer: () => answer });
      ctx.$`first message about apples and oranges`;
      ctx.$`second message lorem ipsum dolor sit amet`;
    }, { model });
    await assert.rejects(result.text, (err) => err.message.includes(`the relevanceScorer returned ${shown} for message 0 (user); expected a finite number`), String(answer));
    assert.equal(model.calls.length, 0);
  }
});
