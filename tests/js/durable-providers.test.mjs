// Durable runs against the recorded provider exchanges (issue 20): "Replay of every recorded provider
// exchange run is byte-identical with the network disabled."
//
// For each recorded exchange a prompt run can consume (tests/fixtures/providers, SOURCES.md), a
// durable prompt run is driven against the loopback fixture server, mirroring the recorded request
// (same question, tools, system prompt, generation settings) so the provider parses the recorded
// answer; multi-exchange fixtures (NAME.1, NAME.2 ...) are served in order as one run's model calls.
// Then the server is closed, `globalThis.fetch` and the provider's own `fetch` are replaced by ones
// that count calls and fail loudly, and the journal is replayed: text, steps, events, response
// messages, usage, finishReason, tool calls and results, and the streamed text (joined per step)
// must be identical, with 0 network calls and 0 tool executions. A run that fails must replay to the
// same failure (error class, message and fields). Error fixtures also run with a retry policy (the
// journal then holds the engine's backoff timers), and the recorded streams also run cut mid-way.
//
// The /embeddings fixtures (openai-embeddings/*, openai-compatible/ollama-embeddings-nomic) hold no
// chat answer: no model call can consume them. They are consumed by a memory (model.embed ops) of a
// durable run with a scripted chat model, in the last describe block.
//
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { FIXTURES, loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';
import {
  createAnthropic, createGoogle, createOpenAI, createOpenAICompatible, memoryStorage, replay, runPrompt,
} from '../../dist/node.js';

const KEY = 'sk-test-FAKEKEY-0123456789abcdef';

// ------------------------------------------------------------------------------------------------
// Network guard

/** A fetch that records the call and fails: nothing may reach the network during a replay. */
function blockedFetch(calls, who) {
  return async (input) => {
    calls.push(`${who}: ${typeof input === 'string' ? input : input?.url ?? String(input)}`);
    throw new Error(`network access during a replay (${who}): ${input}`);
  };
}

/** Runs `body` with `globalThis.fetch` replaced by a counting, failing one. */
async function withNetworkDisabled(calls, body) {
  const saved = globalThis.fetch;
  globalThis.fetch = blockedFetch(calls, 'globalThis.fetch');
  try {
    return await body();
  } finally {
    globalThis.fetch = saved;
  }
}

// ------------------------------------------------------------------------------------------------
// Capturing a run's outcome

/** What is compared between the recorded run and its replay. */
async function outcomeOf(result, prompt) {
  const parts = [];
  for await (const part of result.fullStream) parts.push(streamPart(part));
  await prompt.finished;
  const events = JSON.stringify(prompt.events);
  let value;
  try {
    value = {
      ok: true,
      text: await result.text,
      steps: await result.steps,
      messages: (await result.response).messages,
      usage: await result.usage,
      finishReason: await result.finishReason,
      toolCalls: await result.toolCalls,
      toolResults: await result.toolResults,
    };
  } catch (error) {
    value = { ok: false, error: errorShape(error) };
  }
  return { ...value, events, parts, textStream: parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('') };
}

/** An error as compared: its class, message and own fields (status, code, retryAfterMs, partialText ...). */
function errorShape(error) {
  if (!(error instanceof Error)) return { value: error };
  const own = {};
  for (const key of Object.keys(error)) own[key] = error[key];
  return { class: error.constructor.name, name: error.name, message: error.message, own: JSON.parse(JSON.stringify(own)) };
}

function streamPart(part) {
  return JSON.parse(JSON.stringify(part.type === 'error' ? { type: 'error', error: errorShape(part.error) } : part));
}

const isDelta = (p) => p.type === 'text-delta' || p.type === 'reasoning-delta';

/** The stream's deltas joined per step and kind, in order (where they sit among the events aside). */
function deltasOf(parts) {
  return coalesced(parts.filter(isDelta));
}

/** The stream with consecutive deltas of one kind and step joined (chunk boundaries aside). */
function coalesced(parts) {
  const out = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (isDelta(p) && last && last.type === p.type && last.stepNumber === p.stepNumber) last.text += p.text;
    else out.push(isDelta(p) ? { ...p } : p);
  }
  return out;
}

/** Whether some step streamed a kind of delta in more than one chunk. */
function streamedInChunks(parts) {
  const seen = new Map();
  for (const p of parts.filter(isDelta)) seen.set(`${p.type}:${p.stepNumber}`, (seen.get(`${p.type}:${p.stepNumber}`) ?? 0) + 1);
  return [...seen.values()].some((n) => n > 1);
}

// ------------------------------------------------------------------------------------------------
// The driver

let runIds = 0;

/** Rejects when `promise` has not settled after `ms` (a replay that hangs fails instead of stalling the file). */
function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Drives one case: serves its exchanges, runs it durably, closes the server, replays the journal
 * with the network disabled, and asserts what issue 20 asks to be identical. Returns both outcomes.
 */
async function recordAndReplay(c) {
  const srv = await startFixtureServer();
  // An exchange is [folder, name, n], or {fx: [folder, name, n], serve: options of srv.enqueue}.
  const fixtures = c.exchanges.map((ex) => (Array.isArray(ex) ? { fx: ex } : ex));
  for (const { fx, serve } of fixtures) srv.enqueue(loadFixture(...fx), serve);
  const executions = [];
  const fn = (ctx) => c.prompt(ctx, executions);
  const config = c.config ?? {};
  let recorded;
  let journal;
  try {
    const { result, prompt } = await runPrompt(fn, { ...config, model: c.model({ baseURL: srv.url }), durable: { id: `fixture-${++runIds}`, storage: memoryStorage() } });
    recorded = await within(10_000, outcomeOf(result, prompt), 'the recorded run');
    journal = prompt.journal;
  } finally {
    await srv.close();
  }
  // The run consumed every exchange it was given, and asked for no more.
  assert.equal(srv.requests.length, fixtures.length, `the run made ${srv.requests.length} requests for ${fixtures.length} recorded exchanges`);
  assert.ok(journal && journal.records.length > 0, 'the run was journaled');
  // The run offered the tools the recording did (the provider then parses the recorded calls).
  fixtures.forEach(({ fx }, i) => {
    const recordedRequest = loadFixture(...fx).request;
    if (recordedRequest?.tools) assert.deepEqual(toolNames(srv.requests[i].body), toolNames(recordedRequest), `the tools of request ${i + 1}`);
  });
  const executedLive = executions.length;

  const network = [];
  const replayed = await withNetworkDisabled(network, () =>
    within(2_000, (async () => {
      const model = c.model({ baseURL: srv.url, fetch: blockedFetch(network, 'provider fetch') });
      const { result, prompt } = await replay(journal, fn, { ...config, model });
      return outcomeOf(result, prompt);
    })(), 'the replay'),
  );

  assert.deepEqual(network, [], 'the replay made no network call');
  assert.equal(executions.length, executedLive, `the replay executed no tool (executions: ${JSON.stringify(executions.slice(executedLive))})`);
  assert.equal(srv.requests.length, fixtures.length, 'the closed server got no request');

  assert.equal(replayed.ok, recorded.ok, `recorded run ${recorded.ok ? 'succeeded' : `failed (${recorded.error?.message})`}, replay ${replayed.ok ? 'succeeded' : `failed (${replayed.error?.message})`}`);
  if (recorded.ok) {
    assert.equal(replayed.text, recorded.text, 'text');
    assert.deepEqual(replayed.steps, recorded.steps, 'steps');
    assert.deepEqual(replayed.messages, recorded.messages, 'response messages');
    assert.deepEqual(replayed.usage, recorded.usage, 'usage');
    assert.equal(replayed.finishReason, recorded.finishReason, 'finishReason');
    assert.deepEqual(replayed.toolCalls, recorded.toolCalls, 'toolCalls');
    assert.deepEqual(replayed.toolResults, recorded.toolResults, 'toolResults');
  } else {
    assert.deepEqual(replayed.error, recorded.error, 'the same failure (class, message, fields)');
  }
  assert.equal(replayed.events, recorded.events, 'events (JSON)');
  return { recorded, replayed, executions, journal, requests: srv.requests };
}

/** The tool names of a request body, whatever the provider's wire format. */
function toolNames(body) {
  return (body?.tools ?? []).flatMap((t) => (t.functionDeclarations ? t.functionDeclarations.map((f) => f.name) : [t.function?.name ?? t.name])).sort();
}

/** The streams: the text streamed per step, every part in order, and the chunks themselves. */
async function streamChecks(t, { recorded, replayed }) {
  const hasDeltas = recorded.parts.some(isDelta);
  await t.test('textStream: the same text and reasoning, joined per step', {}, () => {
    assert.equal(replayed.textStream, recorded.textStream, 'textStream (joined)');
    assert.deepEqual(deltasOf(replayed.parts), deltasOf(recorded.parts), 'text and reasoning deltas, joined per step');
  });
  await t.test('fullStream: the same parts in the same order (deltas joined per step)', {}, () => {
    assert.deepEqual(coalesced(replayed.parts), coalesced(recorded.parts));
  });
  await t.test('fullStream: byte-identical, chunk for chunk', {}, () => {
    assert.equal(JSON.stringify(replayed.parts), JSON.stringify(recorded.parts));
  });
}

// ------------------------------------------------------------------------------------------------
// Models, tools and requests mirroring the recordings

const openai = (id) => ({ baseURL, fetch }) => createOpenAI({ baseURL: `${baseURL}/v1`, apiKey: KEY, fetch })(id);
const openaiResponses = (id) => ({ baseURL, fetch }) => createOpenAI({ baseURL: `${baseURL}/v1`, apiKey: KEY, fetch }).responses(id);
const ollama = (id) => ({ baseURL, fetch }) => createOpenAICompatible({ name: 'ollama', baseURL: `${baseURL}/v1`, apiKey: KEY, fetch })(id);
const anthropic = (id, headers) => ({ baseURL, fetch }) => createAnthropic({ baseURL: `${baseURL}/v1`, apiKey: KEY, fetch, ...(headers ? { headers } : {}) })(id);
const gemini = (id) => ({ baseURL, fetch }) => createGoogle({ baseURL: `${baseURL}/v1beta`, apiKey: KEY, fetch })(id);

/** A tool that logs each execution; `answer` is what the recording's next request sent back. */
function tool(ctx, executions, name, description, parameters, answer) {
  ctx.defTool(name, description, parameters, (args) => {
    executions.push({ name, args });
    return typeof answer === 'function' ? answer(args) : answer;
  });
}

// The parallel-tool recordings of Ollama, Anthropic and Gemini come from the same upstream test.
const question = "What's the weather in Berlin (52.5200, 13.4050) and what's the best language to learn?";
const weatherParams = {
  type: 'object',
  properties: {
    latitude: { type: 'string', description: 'Latitude (e.g., 52.5200)' },
    longitude: { type: 'string', description: 'Longitude (e.g., 13.4050)' },
  },
  required: ['latitude', 'longitude'],
  additionalProperties: false,
};
const weatherPlain = { type: 'object', properties: weatherParams.properties, required: weatherParams.required };
const weatherAnswer = 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h';
function berlinTools(ctx, executions) {
  tool(ctx, executions, 'weather', 'Gets current weather for a location', weatherParams, weatherAnswer);
  tool(ctx, executions, 'best_language_to_learn', 'Gets the best language to learn', { type: 'object', properties: {}, required: [], additionalProperties: false }, 'Ruby');
}

const intSchema = {
  properties: { a: { title: 'A', type: 'integer' }, b: { title: 'B', type: 'integer' } },
  required: ['a', 'b'],
  type: 'object',
};
function plusMinus(ctx, executions) {
  tool(ctx, executions, 'plus', 'Adds', intSchema, ({ a, b }) => String(a + b));
  tool(ctx, executions, 'minus', 'Subtracts', intSchema, ({ a, b }) => String(a - b));
}

/** The recorded conversation of an error fixture (long placeholder turns, then "Hi"), as run messages. */
function recordedConversation(folder, name) {
  const req = loadFixture(folder, name, 1).request;
  if (req.contents) return req.contents.map((m) => ({ role: m.role === 'model' ? 'assistant' : 'user', content: m.parts.map((p) => p.text).join('') }));
  return req.messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
}

/** A byte offset inside the SSE event after the one holding `marker` (a cut after some text streamed). */
function cutAfterEvent(body, marker) {
  const at = body.indexOf(marker);
  assert.ok(at > 0, `marker ${marker} in the recorded body`);
  const end = Math.min(body.indexOf('\n\n', at) === -1 ? Infinity : body.indexOf('\n\n', at), body.indexOf('\r\n\r\n', at) === -1 ? Infinity : body.indexOf('\r\n\r\n', at));
  return end + 10;
}

/** Ends the run after the step that made the recorded tool calls (the recording has no next turn). */
const stopAfterTools = { stopWhen: () => true };

const textOnly = (text) => (ctx) => {
  ctx.$`${text}`;
};

/**
 * One entry per recorded exchange sequence a prompt run can consume. `exchanges` are served in
 * order; `check` asserts the recorded run really consumed them (so the replay check is not vacuous).
 */
const CASES = [
  // ---- OpenAI chat completions
  {
    name: 'openai-chat/text-nonstream',
    exchanges: [['openai-chat', 'text-nonstream', 1]],
    model: openai('gpt-3.5-turbo'),
    prompt: textOnly('Hello, how are you?'),
    config: { maxOutputTokens: 50, temperature: 0 },
    check: (r) => assert.match(r.text, /^Hello! I'm just a computer program/),
  },
  {
    name: 'openai-chat/text-stream-include-usage',
    exchanges: [['openai-chat', 'text-stream-include-usage', 1]],
    model: openai('gpt-3.5-turbo'),
    prompt: textOnly('Count from 1 to 5'),
    config: { maxOutputTokens: 50, temperature: 0 },
    check: (r) => {
      assert.equal(r.text, '1, 2, 3, 4, 5');
      assert.equal(r.usage.totalTokens, 27);
    },
  },
  {
    name: 'openai-chat/tool-call-single-nonstream',
    exchanges: [['openai-chat', 'tool-call-single-nonstream', 1]],
    model: openai('gpt-3.5-turbo'),
    prompt: (ctx, ex) => {
      tool(ctx, ex, 'getCurrentWeather', 'Get the current weather in a given location', {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['location'],
      }, ({ location }) => `Sunny in ${location}`);
      ctx.$`What is the weather like in Boston?`;
    },
    config: { temperature: 0, ...stopAfterTools },
    check: (r, ex) => {
      assert.deepEqual(ex, [{ name: 'getCurrentWeather', args: { location: 'Boston' } }]);
      assert.equal(r.finishReason, 'tool-calls');
    },
  },
  {
    name: 'openai-chat/structured-json-schema-nonstream',
    exchanges: [['openai-chat', 'structured-json-schema-nonstream', 1]],
    model: openai('gpt-4o-2024-08-06'),
    prompt: textOnly('Solve 2 + 2'),
    config: { system: 'You are a student taking a math exam.', temperature: 0 },
    check: (r) => assert.deepEqual(JSON.parse(r.text), { final_answer: '4' }),
  },
  {
    name: 'openai-chat/tool-calls-parallel-stream',
    exchanges: [['openai-chat', 'tool-calls-parallel-stream', 1]],
    model: openai('gpt-4o'),
    prompt: (ctx, ex) => {
      plusMinus(ctx, ex);
      ctx.$`Sum 2 and 3. Also subtract 2 from 3.`;
    },
    config: { toolChoice: 'required', ...stopAfterTools },
    check: (r, ex) => {
      assert.deepEqual(ex.map((e) => [e.name, e.args]).sort(), [['minus', { a: 3, b: 2 }], ['plus', { a: 2, b: 3 }]]);
      assert.deepEqual(r.toolResults.map((t) => t.result).sort(), ['1', '5']);
    },
  },
  {
    name: 'openai-chat/errors-429-tpm-chat_500-responses.1 (chat 429)',
    exchanges: [['openai-chat', 'errors-429-tpm-chat_500-responses', 1]],
    model: openai('gpt-4.1-nano'),
    prompt: () => {},
    config: { messages: recordedConversation('openai-chat', 'errors-429-tpm-chat_500-responses'), temperature: 0.7, maxRetries: 0 },
    check: (r) => {
      assert.equal(r.error.class, 'RateLimitError');
      assert.match(r.error.message, /Request too large for gpt-4\.1-nano-long-context/);
    },
  },
  {
    name: 'openai-chat/errors-429-tpm-chat_500-responses.1 (chat 429, retried by a policy)',
    exchanges: [1, 2, 3].map(() => ['openai-chat', 'errors-429-tpm-chat_500-responses', 1]),
    model: openai('gpt-4.1-nano'),
    prompt: (ctx) => ctx.defRetry('quick', { maxAttempts: 3, backoff: 'exponential', baseDelay: 5, maxDelay: 20, jitter: 0.5 }),
    config: { messages: recordedConversation('openai-chat', 'errors-429-tpm-chat_500-responses'), temperature: 0.7, retry: 'quick' },
    check: (r) => {
      assert.equal(r.error.class, 'RateLimitError');
      assert.equal(JSON.parse(r.events).filter((e) => e.type === 'retry').length, 2, 'two retries, each waiting on an engine timer');
    },
  },
  // ---- OpenAI Responses API (the only recorded Responses exchange is this 500)
  {
    name: 'openai-chat/errors-429-tpm-chat_500-responses.2 (Responses API 500)',
    exchanges: [['openai-chat', 'errors-429-tpm-chat_500-responses', 2]],
    model: openaiResponses('gpt-4.1-nano'),
    prompt: () => {},
    config: { messages: recordedConversation('openai-chat', 'errors-429-tpm-chat_500-responses'), temperature: 0.7, maxRetries: 0 },
    check: (r, ex, requests) => {
      assert.equal(requests[0].path, '/v1/responses');
      assert.equal(r.error.class, 'ProviderError');
      assert.equal(r.error.own.status, 500);
      assert.match(r.error.message, /req_630c2c7cf0cdc55830bd88fee6ac4495/);
    },
  },
  {
    name: 'openai-chat/errors-429-tpm-chat_500-responses.2 (Responses API 500, retried by a policy)',
    exchanges: [1, 2, 3].map(() => ['openai-chat', 'errors-429-tpm-chat_500-responses', 2]),
    model: openaiResponses('gpt-4.1-nano'),
    prompt: (ctx) => ctx.defRetry('quick', { maxAttempts: 3, backoff: 'constant', baseDelay: 5 }),
    config: { messages: recordedConversation('openai-chat', 'errors-429-tpm-chat_500-responses'), temperature: 0.7, retry: 'quick' },
    check: (r) => assert.equal(r.error.own.status, 500),
  },
  // ---- OpenAI-compatible (Ollama)
  {
    name: 'openai-compatible/ollama-qwen3-parallel-tool-calls-nonstream',
    exchanges: [1, 2].map((n) => ['openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', n]),
    model: ollama('qwen3'),
    prompt: (ctx, ex) => {
      berlinTools(ctx, ex);
      ctx.$`${question}`;
    },
    check: (r, ex) => {
      assert.deepEqual(ex.map((e) => e.name).sort(), ['best_language_to_learn', 'weather']);
      assert.match(r.text, /^The current weather in Berlin/);
      assert.ok(r.parts.some((d) => d.type === 'reasoning-delta'), 'the recorded reasoning reached the stream');
      assert.equal(r.steps.length, 2);
    },
  },
  {
    name: 'openai-compatible/ollama-cloud-error-400-context-length',
    exchanges: [['openai-compatible', 'ollama-cloud-error-400-context-length', 1]],
    model: ollama('gpt-oss:120b'),
    prompt: () => {},
    config: { messages: recordedConversation('openai-compatible', 'ollama-cloud-error-400-context-length') },
    check: (r) => {
      assert.equal(r.error.class, 'ContextLengthError');
      assert.match(r.error.message, /exceeded max context length by 1119046 tokens/);
    },
  },
  // ---- Anthropic
  {
    name: 'anthropic/text-nonstream',
    exchanges: [['anthropic', 'text-nonstream', 1]],
    model: anthropic('claude-3-opus-20240229'),
    prompt: textOnly('Hello, how are you?'),
    config: { maxOutputTokens: 100, temperature: 0 },
    check: (r) => assert.match(r.text, /^Hello! As an AI language model/),
  },
  {
    name: 'anthropic/text-stream',
    exchanges: [['anthropic', 'text-stream', 1]],
    model: anthropic('claude-3-opus-20240229'),
    prompt: textOnly('Count from 1 to 5'),
    config: { maxOutputTokens: 100, temperature: 0 },
    check: (r) => assert.equal(r.text, '1\n2\n3\n4\n5'),
  },
  {
    name: 'anthropic/max-tokens-nonstream',
    exchanges: [['anthropic', 'max-tokens-nonstream', 1]],
    model: anthropic('claude-3-opus-20240229', { 'anthropic-beta': 'test-beta-flag' }),
    prompt: (ctx, ex) => {
      tool(ctx, ex, 'get_weather', 'Get the weather for a location', {
        properties: { location: { description: 'The location to get weather for', type: 'string' } },
        required: ['location'],
        type: 'object',
      }, 'sunny');
      ctx.$`What's the weather like?`;
    },
    config: { maxOutputTokens: 100, temperature: 0 },
    check: (r, ex) => {
      assert.equal(r.finishReason, 'length');
      assert.ok(r.text.endsWith('Could you please provide the city'));
      assert.deepEqual(ex, []);
    },
  },
  {
    name: 'anthropic/parallel-tool-use-nonstream',
    exchanges: [1, 2].map((n) => ['anthropic', 'parallel-tool-use-nonstream', n]),
    model: anthropic('claude-haiku-4-5-20251001'),
    prompt: (ctx, ex) => {
      berlinTools(ctx, ex);
      ctx.$`${question}`;
    },
    config: { maxOutputTokens: 64000 },
    check: (r, ex) => {
      assert.deepEqual(ex.map((e) => e.name), ['weather', 'best_language_to_learn']);
      assert.match(r.text, /^Here's the information you requested/);
    },
  },
  {
    name: 'anthropic/parallel-tool-use-stream-input-json-delta',
    exchanges: [['anthropic', 'parallel-tool-use-stream-input-json-delta', 1]],
    model: anthropic('claude-3-opus-20240229'),
    prompt: (ctx, ex) => {
      plusMinus(ctx, ex);
      ctx.$`Use the plus tool to sum 1 and 2. Use the minus tool to subtract 1 from 2. Use both tools at the same time.`;
    },
    config: { maxOutputTokens: 1024, toolChoice: 'required', ...stopAfterTools },
    check: (r, ex) => assert.deepEqual(ex.map((e) => [e.name, e.args]).sort(), [['minus', { a: 2, b: 1 }], ['plus', { a: 1, b: 2 }]]),
  },
  {
    name: 'anthropic/structured-output-json-schema',
    exchanges: [['anthropic', 'structured-output-json-schema', 1]],
    model: anthropic('claude-haiku-4-5-20251001'),
    prompt: textOnly('Generate a person named John who is 30 years old'),
    config: { maxOutputTokens: 64000 },
    check: (r) => assert.deepEqual(JSON.parse(r.text), { name: 'John', age: 30 }),
  },
  {
    name: 'anthropic/error-529-overloaded',
    exchanges: [1, 2].map((n) => ['anthropic', 'error-529-overloaded', n]),
    model: anthropic('claude-3-5-haiku-20241022'),
    prompt: (ctx, ex) => {
      tool(ctx, ex, 'weather', 'Gets current weather for a location', weatherPlain, weatherAnswer);
      ctx.$`What's the weather in Berlin? (52.5200, 13.4050)`;
    },
    config: { temperature: 0.7, maxOutputTokens: 8192, maxRetries: 0 },
    check: (r, ex) => {
      assert.deepEqual(ex, [{ name: 'weather', args: { latitude: '52.5200', longitude: '13.4050' } }]);
      assert.equal(r.error.class, 'ProviderError');
      assert.equal(r.error.own.status, 529);
    },
  },
  {
    name: 'anthropic/error-529-overloaded (529 retried by a policy)',
    exchanges: [['anthropic', 'error-529-overloaded', 1], ...[1, 2, 3].map(() => ['anthropic', 'error-529-overloaded', 2])],
    model: anthropic('claude-3-5-haiku-20241022'),
    prompt: (ctx, ex) => {
      ctx.defRetry('quick', { maxAttempts: 3, backoff: 'linear', baseDelay: 5, jitter: 0.3 });
      tool(ctx, ex, 'weather', 'Gets current weather for a location', weatherPlain, weatherAnswer);
      ctx.$`What's the weather in Berlin? (52.5200, 13.4050)`;
    },
    config: { temperature: 0.7, maxOutputTokens: 8192, retry: 'quick' },
    check: (r, ex) => {
      assert.equal(ex.length, 1);
      assert.equal(r.error.own.status, 529);
    },
  },
  {
    name: 'anthropic/error-429-rate-limit-retry-after',
    exchanges: [['anthropic', 'error-429-rate-limit-retry-after', 1]],
    model: anthropic('claude-haiku-4-5-20251001'),
    prompt: () => {},
    // Retry-After: 41 s; retried, the run would wait 41 s: no retries.
    config: { messages: recordedConversation('anthropic', 'error-429-rate-limit-retry-after'), maxOutputTokens: 64000, maxRetries: 0 },
    check: (r) => {
      assert.equal(r.error.class, 'RateLimitError');
      assert.equal(r.error.own.retryAfterMs, 41000);
    },
  },
  // ---- Gemini
  {
    name: 'gemini/text-nonstream',
    exchanges: [['gemini', 'text-nonstream', 1]],
    model: gemini('gemini-2.5-flash'),
    prompt: textOnly("What's 2 + 2?"),
    check: (r) => {
      assert.equal(r.text, '2 + 2 = **4**');
      assert.equal(r.usage.reasoningTokens, 23);
    },
  },
  {
    name: 'gemini/text-stream-sse',
    exchanges: [['gemini', 'text-stream-sse', 1]],
    model: gemini('gemini-2.0-flash-exp'),
    prompt: textOnly('What is the capital of France?'),
    config: { system: 'You are a helpful chatbot.', temperature: 0 },
    check: (r) => assert.equal(r.text, 'The capital of France is Paris.\n'),
  },
  {
    name: 'gemini/parallel-function-calls-nonstream',
    exchanges: [1, 2].map((n) => ['gemini', 'parallel-function-calls-nonstream', n]),
    model: gemini('gemini-2.5-flash'),
    prompt: (ctx, ex) => {
      berlinTools(ctx, ex);
      ctx.$`${question}`;
    },
    check: (r, ex, requests) => {
      assert.deepEqual(ex.map((e) => e.name).sort(), ['best_language_to_learn', 'weather']);
      assert.equal(r.text, 'The weather in Berlin (52.5200, 13.4050) is 15°C with a wind of 10 km/h. The best language to learn is Ruby.');
      assert.ok(JSON.stringify(requests[1].body).includes('thoughtSignature'), 'the signature went back in the second request');
    },
  },
  {
    name: 'gemini/error-429-resource-exhausted-retryinfo',
    exchanges: [['gemini', 'error-429-resource-exhausted-retryinfo', 1]],
    model: gemini('gemini-2.5-flash'),
    prompt: () => {},
    // RetryInfo says 48 s; retried, the run would wait 48 s: no retries.
    config: { messages: recordedConversation('gemini', 'error-429-resource-exhausted-retryinfo'), maxRetries: 0 },
    check: (r) => {
      assert.equal(r.error.class, 'RateLimitError');
      assert.equal(r.error.own.retryAfterMs, 48000);
    },
  },
  // ---- The recorded streams cut mid-way (after some text): the run fails with a ProviderError keeping
  // the partial text, which the live run streamed.
  ...[
    ['openai-chat', 'text-stream-include-usage', openai('gpt-3.5-turbo'), 'Count from 1 to 5', { maxOutputTokens: 50, temperature: 0 }, '"content":"3"'],
    ['anthropic', 'text-stream', anthropic('claude-3-opus-20240229'), 'Count from 1 to 5', { maxOutputTokens: 100, temperature: 0 }, '"text":"\\n2\\n3"'],
    ['gemini', 'text-stream-sse', gemini('gemini-2.0-flash-exp'), 'What is the capital of France?', { system: 'You are a helpful chatbot.', temperature: 0 }, '" capital of France"'],
  ].map(([folder, name, model, question, config, marker]) => ({
    name: `${folder}/${name} (cut after ${marker})`,
    exchanges: [{ fx: [folder, name, 1], serve: { cutAfter: cutAfterEvent(loadFixture(folder, name, 1).body, marker) } }],
    model,
    prompt: textOnly(question),
    config: { ...config, maxRetries: 0 },
    check: (r) => {
      assert.equal(r.error.class, 'ProviderError');
      assert.ok(r.error.own.partialText.length > 0, 'the error keeps the partial text');
      assert.equal(r.textStream, r.error.own.partialText, 'the live run streamed the partial text');
    },
  })),
];

// ------------------------------------------------------------------------------------------------

describe('durable replay of every recorded provider exchange, network disabled', () => {
  for (const c of CASES) {
    test(c.name, async (t) => {
      const run = await recordAndReplay(c);
      c.check(run.recorded, run.executions, run.requests);
      await streamChecks(t, run);
    });
  }

  test('the network guard is not vacuous: a model call during it is caught and counted, by both fetches', async () => {
    const calls = [];
    await withNetworkDisabled(calls, async () => {
      const req = { messages: [{ role: 'user', content: 'hi' }], stream: true };
      await assert.rejects(openai('gpt-4o')({ baseURL: 'http://127.0.0.1:9', fetch: blockedFetch(calls, 'provider fetch') }).generate(req, {}));
      await assert.rejects(gemini('gemini-2.5-flash')({ baseURL: 'http://127.0.0.1:9' }).generate(req, {}));
    });
    assert.deepEqual(calls.map((c) => c.split(':')[0]), ['provider fetch', 'globalThis.fetch']);
  });

  test('every recorded chat exchange in tests/fixtures/providers is covered above', () => {
    const id = ([folder, name, n]) => `${folder}/${name}.${n}`;
    const served = new Set(CASES.flatMap((c) => c.exchanges.map((ex) => id(Array.isArray(ex) ? ex : ex.fx))));
    const all = [];
    for (const folder of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
      for (const file of readdirSync(`${FIXTURES}/${folder}`)) {
        const m = /^(.*)\.(\d+)\.response\.http$/.exec(file);
        if (m) all.push(`${folder}/${m[1]}.${m[2]}`);
      }
    }
    const embeddings = (id) => id.startsWith('openai-embeddings/') || id.startsWith('openai-compatible/ollama-embeddings-');
    assert.deepEqual(all.filter((id) => !embeddings(id) && !served.has(id)), [], 'chat exchanges no case serves');
    assert.deepEqual(all.filter((id) => embeddings(id) && !EMBEDDING_EXCHANGES.has(id)), [], 'embedding exchanges no case serves');
  });
});

// ------------------------------------------------------------------------------------------------
// The /embeddings exchanges: no model call of a prompt run consumes them, a memory does (model.embed
// ops). The chat model is a scripted stand-in (these fixtures hold no chat answer) that fails when a
// replay calls it; the memory's embedder talks to the loopback server (live) or to the failing fetch.

const EMBEDDING_EXCHANGES = new Set();

/** A chat model answering turn n (assistant messages so far) with `turns[n]`; `blocked` fails every call. */
function scriptedModel(turns, calls, blocked) {
  return {
    provider: 'scripted',
    modelId: 'memory-run',
    async generate(request) {
      calls.push(request.messages.length);
      if (blocked) throw new Error('the chat model was called during a replay');
      const content = turns[request.messages.filter((m) => m.role === 'assistant').length];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}


// includeRawChunks: a journaled call keeps its raw chunks with how many deltas came before each,
// and a replay puts them back between the same deltas (js/run/raw-chunks.ts); cut streams and
// failed calls included. streamChecks compares the whole fullStream, raw parts and all.
describe('durable replay with includeRawChunks: the same raw chunks between the same deltas', () => {
  const seen = [];
  for (const c of CASES) {
    test(c.name, async (t) => {
      const run = await recordAndReplay({ ...c, config: { ...c.config, includeRawChunks: true } });
      c.check(run.recorded, run.executions, run.requests);
      const raws = (parts) => parts.filter((p) => p.type === 'raw').length;
      seen.push({ ok: run.recorded.ok, raws: raws(run.recorded.parts) });
      if (streamedInChunks(run.recorded.parts)) assert.ok(raws(run.recorded.parts) > 1, 'a streamed answer came with its raw chunks');
      assert.equal(raws(run.replayed.parts), raws(run.recorded.parts), 'as many raw chunks replayed as streamed');
      await streamChecks(t, run);
    });
  }
  test('the cases replayed raw chunks of answers and of calls that failed mid-stream', () => {
    assert.equal(seen.length, CASES.length);
    assert.ok(seen.some((s) => s.ok && s.raws > 1), 'an answer streamed in raw chunks');
    assert.ok(seen.some((s) => !s.ok && s.raws > 0), `a failed call that had shown raw chunks (${JSON.stringify(seen)})`);
  });
});

describe('durable replay of the recorded /embeddings exchanges, through a memory, network disabled', () => {
  const connect = {
    openai: ({ baseURL, fetch }) => createOpenAI({ baseURL: `${baseURL}/v1`, apiKey: KEY, fetch }),
    ollama: ({ baseURL, fetch }) => createOpenAICompatible({ name: 'ollama', baseURL: `${baseURL}/v1`, fetch }),
  };
  const storeSearch = (texts, query) => async (memory) => {
    await memory.store(texts.map((content) => ({ content })));
    const found = await memory.search(query, { limit: 2 });
    return found.map((f) => f.content).join(' / ');
  };
  const nomic = [1, 2].map((n) => loadFixture('openai-compatible', 'ollama-embeddings-nomic', n));
  const prefs = [1, 2].map((n) => loadFixture('openai-embeddings', 'memory-store-search', n));
  const memoryCases = [
    {
      name: 'openai-embeddings/memory-store-search (memory filled and searched by a tool)',
      fixture: ['openai-embeddings', 'memory-store-search', 2],
      embedder: (conn) => connect.openai(conn).embedding('text-embedding-3-small'),
      use: storeSearch(prefs[0].request.input, prefs[1].request.input[0]),
      inTool: true,
      check: (r) => assert.match(r.steps[0].toolResults[0].result, /^User prefers functional programming \/ /),
    },
    {
      name: 'openai-compatible/ollama-embeddings-nomic (memory filled and searched by a tool)',
      fixture: ['openai-compatible', 'ollama-embeddings-nomic', 2],
      embedder: (conn) => connect.ollama(conn).embedding('nomic-embed-text'),
      use: storeSearch(nomic[0].request.input, nomic[1].request.input[0]),
      inTool: true,
      check: (r) => assert.match(r.steps[0].toolResults[0].result, /^The deploy script lives in scripts\/deploy\.sh/),
    },
    {
      // The second batch answers 500: the tool fails, the model gets the error and answers.
      name: 'openai-embeddings/error-500-second-batch (a tool whose store fails)',
      fixture: ['openai-embeddings', 'error-500-second-batch', 2],
      embedder: (conn) => connect.openai(conn).embedding('text-embedding-3-small', { maxBatchSize: 2, maxParallelCalls: 1 }),
      use: storeSearch(prefs[0].request.input, 'unused'),
      inTool: true,
      check: (r) => {
        assert.equal(r.steps[0].toolResults[0].isError, true);
        assert.ok(JSON.parse(r.events).some((e) => e.type === 'tool-error'), 'a tool-error event');
      },
    },
    {
      // The prompt function itself fills and searches the memory; a replay runs it again.
      name: 'openai-compatible/ollama-embeddings-nomic (memory filled and searched by the prompt function)',
      fixture: ['openai-compatible', 'ollama-embeddings-nomic', 2],
      embedder: (conn) => connect.ollama(conn).embedding('nomic-embed-text'),
      use: storeSearch(nomic[0].request.input, nomic[1].request.input[0]),
      inTool: false,
      check: (r, found) => {
        assert.equal(found.length, 2, 'the prompt function ran live and again on replay');
        assert.equal(found[1], found[0], 'the replayed prompt function got the same search results (from the journal)');
        assert.match(found[0], /^The deploy script lives in scripts\/deploy\.sh/);
      },
    },
  ];

  for (const mc of memoryCases) {
    const [folder, name, count] = mc.fixture;
    const exchanges = [];
    for (let n = 1; n <= count; n++) {
      exchanges.push([folder, name, n]);
      EMBEDDING_EXCHANGES.add(`${folder}/${name}.${n}`);
    }
    test(mc.name, async (t) => {
      const turns = mc.inTool ? [[{ type: 'tool-call', toolCallId: 'r1', toolName: 'recall', args: {} }], [{ type: 'text', text: 'done' }]] : [[{ type: 'text', text: 'done' }]];
      const chatCalls = [];
      const found = [];
      let connection; // the model factory runs before the prompt function, live and on replay
      const run = await recordAndReplay({
        exchanges,
        model: (conn) => {
          connection = conn;
          return scriptedModel(turns, chatCalls, conn.fetch !== undefined);
        },
        prompt: async (ctx, executions) => {
          ctx.defMemory('facts', 'vector', { dimensions: 4, embeddingModel: mc.embedder(connection) });
          if (mc.inTool) {
            ctx.defTool('recall', 'Stores and searches', { type: 'object', properties: {} }, () => {
              executions.push({ name: 'recall' });
              return mc.use(ctx.memory('facts'));
            });
          } else {
            found.push(await mc.use(ctx.memory('facts')));
          }
          ctx.$`Recall.`;
        },
      });
      assert.equal(run.recorded.text, 'done');
      assert.deepEqual(run.requests.map((r) => r.path), exchanges.map(() => '/v1/embeddings'));
      assert.equal(chatCalls.length, turns.length, 'the chat model answered live only');
      if (mc.inTool) assert.equal(run.executions.length, 1);
      mc.check(run.recorded, found);
      await streamChecks(t, run);
    });
  }
});
