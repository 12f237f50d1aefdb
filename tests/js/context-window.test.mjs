// defContext through the package (docs/memory.md): the seed's sliding-window and relevance-based
// examples as written (summarization: context-summary.test.mjs), messages trimmed before each
// model call with a context-trimmed event, tool calls kept with their results, strict configs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ContextLengthError, createEngine, runPrompt } from '../../dist/node.js';

const object = { type: 'object', properties: {} };
const filler = (i) => `turn ${i}: a long remark about the project plan, its milestones, the budget and who owns which part`;

/** A model that records the messages of every request and answers with `answers` in order. */
function recordingModel(answers) {
  const requests = [];
  let n = 0;
  return {
    provider: 'test',
    modelId: 'recorder',
    requests,
    async generate(req) {
      requests.push(req.messages);
      const content = answers[Math.min(n++, answers.length - 1)];
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage };
    },
  };
}

function history(turns) {
  const messages = [];
  for (let i = 0; i < turns; i++) messages.push({ role: 'user', content: filler(i) }, { role: 'assistant', content: `${filler(i)} (noted)` });
  return messages;
}

test('seed: a sliding-window context trims every model call of a run with tools, keeping calls with their results', async () => {
  const model = recordingModel([
    [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: {} }],
    [{ type: 'tool-call', toolCallId: 'c2', toolName: 'lookup', args: {} }],
    [{ type: 'text', text: 'done' }],
  ]);
  const events = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('mainContext', 'sliding-window', {
        maxTokens: 300,
        reserveTokens: 100, // Reserve for response
        prioritize: ['system', 'recent'],
      });
      ctx.defTool('lookup', 'Looks something up', object, () => 'a result '.repeat(20));
      ctx.$`Summarize the plan.`;
    },
    { model, messages: history(20), engine: await createEngine(), onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'done');
  assert.equal(model.requests.length, 3);
  for (const messages of model.requests) {
    assert.ok(messages.length < 41, 'older turns were left out');
    const calls = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool-call').map((p) => p.toolCallId) : []));
    const results = messages.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'tool-result').map((p) => p.toolCallId) : []));
    assert.deepEqual(calls.sort(), results.sort());
  }
  // The newest turn is always there: the last request ends with the second tool result.
  const last = model.requests[2];
  assert.equal(last[last.length - 1].role, 'tool');
  const trimmed = events.filter((e) => e.type === 'context-trimmed');
  assert.equal(trimmed.length, 3);
  assert.ok(trimmed.every((e) => e.context === 'mainContext' && e.keptTokens <= e.budget && e.dropped > 0));
  assert.equal(trimmed[0].budget, 300 - 100 - trimmed[0].fixedTokens);
  assert.ok(trimmed[0].fixedTokens > 3, 'the tool definition counts against the budget');
});

test('seed: a relevance-based context keeps what the relevanceScorer ranks highest (keepMinimum newest too)', async () => {
  const model = recordingModel([[{ type: 'text', text: 'ok' }]]);
  const calculateRelevance = (msg, currentTask) => (typeof msg.content === 'string' && msg.content.includes('turn 3:') ? 1 : msg.content === currentTask ? 0.5 : 0);
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('taskContext', 'relevance-based', {
        maxTokens: 120,
        relevanceScorer: (msg, currentTask) => calculateRelevance(msg, currentTask),
        keepMinimum: 1 // Always keep at least 1 message
      });
    },
    { model, messages: [...history(10), { role: 'user', content: 'what about turn 3?' }], engine: await createEngine() },
  );
  await result.text;
  const sent = model.requests[0];
  assert.ok(sent.some((m) => m.content === filler(3)));
  assert.equal(sent[sent.length - 1].content, 'what about turn 3?');
  assert.ok(sent.length < 8, 'only the best-ranked messages fit');
});

test('a context that cannot fit what it must keep fails the run with ContextLengthError naming it', async () => {
  const model = recordingModel([[{ type: 'text', text: 'ok' }]]);
  const { result } = await runPrompt((ctx) => ctx.defContext('tiny', 'sliding-window', { maxTokens: 30, keepMinimum: 4 }), {
    model,
    messages: history(4),
    engine: await createEngine(),
  });
  await assert.rejects(result.text, (err) => err instanceof ContextLengthError && /context "tiny"/.test(err.message));
  assert.equal(model.requests.length, 0);
});

test('defContext configs are checked strictly', async () => {
  const model = recordingModel([[{ type: 'text', text: 'ok' }]]);
  const bad = [
    [['c', 'sliding-window', { maxTokens: 100, reserveTokns: 10 }], /reserveTokens/],
    [['c', 'sliding-window', { reserveTokens: 10 }], /maxTokens/],
    [['c', 'sliding-window', { maxTokens: 100, reserveTokens: 100 }], /less than/],
    [['c', 'relevance-based', { maxTokens: 100 }], /relevanceScorer/],
    [['c', 'hierarchal', { maxTokens: 100 }], /did you mean 'hierarchical'/],
    [['c', 'sliding-window', { maxTokens: 100, summarization: { trigger: 1.8 } }], /summarization.*trigger/],
    [['c', 'sliding-window', { maxTokens: 100, summarization: { trigger: 0.8, ration: 0.5 } }], /ratio/],
    [['c', 'sliding-window', { maxTokens: 100, summarization: { trigger: 0.5, ratio: 0.9 } }], /'ratio' \(0\.9\) must not exceed 'trigger' \(0\.5\)/],
    [['c', 'sliding-window', { maxTokens: 100, summarization: { trigger: 0.3 } }], /'ratio' \(0\.5, the default\) must not exceed 'trigger' \(0\.3\)/],
    [['c', 'sliding-window', { maxTokens: 100, prioritize: ['recent', 'oldest'] }], /prioritize/],
  ];
  for (const [args, pattern] of bad) {
    await assert.rejects(
      runPrompt((ctx) => ctx.defContext(...args), { model }),
      (err) => err instanceof ConfigError && pattern.test(err.message),
      JSON.stringify(args),
    );
  }
});
