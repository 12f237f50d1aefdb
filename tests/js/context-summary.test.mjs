// defContext summarization (docs/memory.md, "Summarization"): the seed's example as written, and a
// 500-step agent whose every model call stays under maxTokens − reserveTokens (counted exactly with
// js-tiktoken) because the oldest messages are folded into a running summary by model calls that
// are recorded as context-summarized events and do not reach the run's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import { ConfigError, ContextLengthError, createEngine, runPrompt } from '../../dist/node.js';

const require = createRequire(import.meta.url);
const o200k = new Tiktoken(require('js-tiktoken/ranks/o200k_base'));
const engine = await createEngine();

/** OpenAI's rule for one message's tokens (3 + role + content), with tool parts as the engine counts them. */
function messageTokens(m) {
  let n = 3 + o200k.encode(m.role, [], []).length;
  if (typeof m.content === 'string') return n + o200k.encode(m.content, [], []).length;
  for (const p of m.content) {
    if (p.type === 'text') n += o200k.encode(p.text, [], []).length;
    if (p.type === 'tool-call') n += o200k.encode(p.toolName, [], []).length + o200k.encode(JSON.stringify(p.args ?? {}), [], []).length;
    if (p.type === 'tool-result') n += o200k.encode(typeof p.result === 'string' ? p.result : JSON.stringify(p.result), [], []).length;
  }
  return n;
}

/**
 * A model named like OpenAI's gpt-4o: summary requests (the engine's own, recognised by their system
 * prompt) get a short summary; every other request calls the `note` tool until `steps` calls were made.
 */
function agentModel(steps) {
  const calls = [];
  const summaries = [];
  let n = 0;
  return {
    provider: 'openai',
    modelId: 'gpt-4o',
    calls,
    summaries,
    async generate(req) {
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      if (req.messages[0]?.role === 'system' && req.messages[0].content.startsWith('You compress conversations')) {
        summaries.push(req);
        return { content: [{ type: 'text', text: `Summary ${summaries.length}: notes 1 to ${n} were taken; each said the task goes on.` }], finishReason: 'stop', usage };
      }
      calls.push(req.messages);
      n++;
      if (n >= steps) return { content: [{ type: 'text', text: 'finished' }], finishReason: 'stop', usage };
      return { content: [{ type: 'tool-call', toolCallId: `c${n}`, toolName: 'note', args: { n } }], finishReason: 'tool-calls', usage };
    },
  };
}

test('a 500-step agent stays under maxTokens with summaries', async () => {
  const steps = 500;
  const model = agentModel(steps);
  const events = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('mainContext', 'sliding-window', {
        maxTokens: 2000,
        reserveTokens: 300,
        prioritize: ['system', 'recent'],
        summarization: { trigger: 0.8, ratio: 0.5 },
      });
      ctx.defTool('note', 'Takes a note', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => `note ${n}: the task goes on, nothing unusual to report`);
      ctx.$`Take notes until you are done.`;
    },
    { model, engine, maxSteps: steps, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'finished', 'summaries are not part of the run’s text');
  assert.equal(model.calls.length, steps);
  const summarized = events.filter((e) => e.type === 'context-summarized');
  assert.equal(summarized.length, model.summaries.length);
  assert.ok(summarized.length >= 10, `${summarized.length} summaries`);
  let tail = 0;
  for (const messages of model.calls) {
    const tokens = messages.reduce((sum, m) => sum + messageTokens(m), 3);
    assert.ok(tokens <= 2000 - 300, `a call of ${tokens} tokens`);
    const calls = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool-call').map((p) => p.toolCallId) : []));
    const results = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool-result').map((p) => p.toolCallId) : []));
    assert.deepEqual(calls.sort(), results.sort(), 'a tool result is never sent without its call');
    tail = messages.length;
  }
  // The last call starts with the latest summary and ends with the newest turn.
  const last = model.calls[steps - 1];
  assert.equal(last[0].role, 'system');
  assert.match(last[0].content, new RegExp(`Summary ${model.summaries.length}:`));
  // Each turn (a call and its result) costs about 40 tokens, so ~80 messages fill the 1,700 left.
  assert.ok(tail < 100, `${tail} messages in the last call, not ${2 * steps}`);
  // Each summary call folds the previous summary in.
  assert.match(model.summaries.at(-1).messages[1].content, /The summary so far:\nSummary /);
  assert.ok(summarized.every((e) => e.context === 'mainContext' && e.tokensAfter < e.tokensBefore));
});

test('seed: summarization as the proposal writes it', async () => {
  const model = agentModel(40);
  const events = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('mainContext', 'sliding-window', {
        maxTokens: 8000,
        reserveTokens: 2000, // Reserve for response
        prioritize: ['system', 'recent'],
        summarization: {
          trigger: 0.8, // Summarize at 80% capacity
          ratio: 0.5    // Compress to 50%
        }
      });
      ctx.defTool('note', 'Takes a note', { type: 'object', properties: {} }, () => 'x'.repeat(2000));
      ctx.$`Go.`;
    },
    { model, engine, maxSteps: 40, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'finished');
  assert.ok(events.some((e) => e.type === 'context-summarized'));
});

test('a system prompt too big for the context fails before any call, naming the context', async () => {
  const model = agentModel(3);
  await assert.rejects(
    runPrompt(
      (ctx) => {
        ctx.defContext('small', 'sliding-window', { maxTokens: 300, summarization: { trigger: 0.5 } });
        ctx.defSystem('rules', 'Follow every rule in the handbook to the letter. '.repeat(40));
        ctx.$`Go.`;
      },
      { model, engine },
    ).then(({ result }) => result.text),
    (e) => e instanceof ContextLengthError && /context "small"/.test(e.message),
  );
  assert.equal(model.calls.length + model.summaries.length, 0);
});

test('ctx.summarizeContext() folds the conversation into the summary before the next call, below the trigger', async () => {
  const model = agentModel(4);
  const events = [];
  let asked;
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('main', 'sliding-window', { maxTokens: 100000 });
      ctx.defTool('note', 'Takes a note', { type: 'object', properties: {} }, async (args, call) => {
        if (call.toolCallId === 'c2') asked = await ctx.summarizeContext();
        return 'noted';
      });
      ctx.$`Go.`;
    },
    { model, engine, maxSteps: 4, messages: [{ role: 'user', content: 'earlier question' }, { role: 'assistant', content: 'earlier answer' }], onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'finished');
  assert.deepEqual(asked, { contexts: ['main'] });
  const summarized = events.filter((e) => e.type === 'context-summarized');
  assert.equal(summarized.length, 1);
  assert.equal(summarized[0].stepNumber, 2);
  // Steps 0-1 saw the whole conversation; step 2 starts with the summary and keeps only the newest turn.
  assert.equal(model.calls[1][0].content, 'earlier question');
  assert.equal(model.calls[2][0].role, 'system');
  assert.match(model.calls[2][0].content, /^Summary of the earlier conversation:\nSummary 1:/);
  assert.equal(model.calls[2].length, 3, 'the summary, then the newest tool call and its result');
});

test('ctx.summarizeContext() in a run without contexts is a ConfigError', async () => {
  const model = agentModel(2);
  let failure;
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defTool('note', 'Takes a note', { type: 'object', properties: {} }, async () => {
        failure = await ctx.summarizeContext().then(() => null, (e) => e);
        return 'noted';
      });
    },
    { model, engine, maxSteps: 2 },
  );
  await result.text;
  assert.ok(failure instanceof ConfigError && /defines no context/.test(failure.message), String(failure));
});

test("a directive run's system message is never folded into the summary: it is still sent after the conversation was summarized", async () => {
  const { L, mockModel, run } = await import('../../dist/node.js');
  const answers = [];
  for (let i = 0; i < 40; i++) answers.push({ type: 'text', text: `answer ${i} filler filler filler filler` }, { type: 'end-step' });
  const model = mockModel(answers);
  const summarized = [];
  await run(
    function* () {
      yield* L.system`You are a pirate. Always answer in pirate speak.`;
      for (let i = 0; i < 8; i++) {
        yield* L.user`question ${i} with filler words filler words filler words`;
        yield* L.reply;
      }
    },
    {
      engine,
      models: { default: model },
      define: (ctx) => ctx.defContext('main', 'sliding-window', { maxTokens: 300, reserveTokens: 50, summarization: { trigger: 0.8, ratio: 0.5 } }),
      onEvent: (e) => e.type === 'context-summarized' && summarized.push(e),
    },
  );
  assert.ok(summarized.length > 0, 'the conversation was summarized');
  const summaryCall = model.calls.find((c) => /compress|summar/i.test(String(c.system)));
  assert.ok(summaryCall, 'a summary call was made');
  assert.doesNotMatch(JSON.stringify(summaryCall.messages), /pirate/, 'the system message is not in what is summarized');
  const last = model.calls.at(-1);
  assert.ok([last.system, ...last.messages.map((m) => JSON.stringify(m.content))].some((t) => String(t).includes('pirate')), 'the system message is still sent');
});
