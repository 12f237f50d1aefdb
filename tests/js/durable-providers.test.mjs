// Durable runs against the recorded provider exchanges (issue 20): "Replay of every recorded provider
// exchange run is byte-identical with the network disabled."
//
// For each recorded exchange a prompt run can consume (tests/fixtures/providers, SOURCES.md), a
// durable prompt run is driven against the loopback fixture server, mirroring the recorded request
// (same question, tools, system prompt, generation settings) so the provider parses the recorded
// answer; multi-exchange fixtures (NAME.1, NAME.2 ...) are served in order as one run's model calls.
// Then the server is closed, `globalThis.fetch` and the provider's own `fetch` are replaced by ones
// that count calls and fail loudly, and the journal is replayed: text, steps, events, response
// messages, usage, finishReason and the stream must be identical, with 0 network calls and 0 tool
// executions. A run that fails must replay to the same failure (same error class, message, fields).
//
// Fixtures not covered as chat runs:
// - openai-embeddings/* and openai-compatible/ollama-embeddings-nomic are /embeddings exchanges: no
//   prompt run's model call can consume them. They are driven through a memory instead (defMemory in
//   the prompt function and in a tool), see the 'embeddings' describe block at the end.
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
  for await (const part of result.fullStream) parts.push(part);
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
  return { ...value, events, stream: JSON.stringify(parts.map(streamPart)), deltas: deltasOf(parts), textStream: parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('') };
}

/** An error as compared: its class, message and own fields (status, code, retryAfterMs ...). */
function errorShape(error) {
  if (!(error instanceof Error)) return { value: error };
  const own = {};
  for (const key of Object.keys(error)) own[key] = error[key];
  return { class: error.constructor.name, name: error.name, message: error.message, own: JSON.parse(JSON.stringify(own)) };
}

function streamPart(part) {
  return part.type === 'error' ? { type: 'error', error: errorShape(part.error) } : part;
}

/** The stream's deltas joined per step and kind (chunk boundaries aside). */
function deltasOf(parts) {
  const joined = [];
  for (const p of parts) {
    if (p.type !== 'text-delta' && p.type !== 'reasoning-delta') continue;
    const last = joined[joined.length - 1];
    if (last && last.type === p.type && last.stepNumber === p.stepNumber) last.text += p.text;
    else joined.push({ type: p.type, stepNumber: p.stepNumber, text: p.text });
  }
  return joined;
}

// ------------------------------------------------------------------------------------------------
// The driver

let runIds = 0;

/**
 * Drives one case: serves its exchanges, runs it durably, closes the server, replays the journal
 * with the network disabled and asserts the replay is identical. Returns {recorded, replayed, ...}.
 */
async function recordAndReplay(c) {
  const srv = await startFixtureServer();
  const fixtures = c.exchanges.map((ex) => (Array.isArray(ex) ? loadFixture(...ex) : ex));
  for (const fx of fixtures) srv.enqueue(fx);
  const executions = [];
  const fn = (ctx) => c.prompt(ctx, executions);
  const config = c.config ?? {};
  let recorded;
  let journal;
  try {
    const { result, prompt } = await runPrompt(fn, { ...config, model: c.model({ baseURL: srv.url }), durable: { id: `fixture-${++runIds}`, storage: memoryStorage() } });
    recorded = await outcomeOf(result, prompt);
    journal = prompt.journal;
  } finally {
    await srv.close();
  }
  // The run consumed every exchange it was given, and asked for no more.
  assert.equal(srv.requests.length, fixtures.length, `the run made ${srv.requests.length} requests for ${fixtures.length} recorded exchanges`);
  assert.ok(journal && journal.records.length > 0, 'the run was journaled');
  const executedLive = executions.length;

  const network = [];
  const replayed = await withNetworkDisabled(network, async () => {
    const model = c.model({ baseURL: srv.url, fetch: blockedFetch(network, 'provider fetch') });
    const { result, prompt } = await replay(journal, fn, { ...config, model });
    return outcomeOf(result, prompt);
  });

  assert.deepEqual(network, [], 'the replay made no network call');
  assert.equal(executions.length, executedLive, `the replay executed no tool (executions: ${JSON.stringify(executions.slice(executedLive))})`);
  assert.equal(srv.requests.length, fixtures.length, 'the closed server got no request');
  assertSameOutcome(replayed, recorded);
  return { recorded, replayed, executions, journal, requests: srv.requests };
}

function assertSameOutcome(replayed, recorded) {
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
  assert.equal(replayed.textStream, recorded.textStream, 'textStream');
  assert.deepEqual(replayed.deltas, recorded.deltas, 'text and reasoning deltas per step');
  assert.equal(replayed.stream, recorded.stream, 'fullStream (JSON, every part)');
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
      assert.ok(r.deltas.some((d) => d.type === 'reasoning-delta'), 'the recorded reasoning reached the stream');
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
];

// ------------------------------------------------------------------------------------------------

describe('durable replay of every recorded provider exchange, network disabled', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const { recorded, executions, requests } = await recordAndReplay(c);
      c.check(recorded, executions, requests);
    });
  }

  test('every recorded chat exchange in tests/fixtures/providers is covered above', () => {
    const served = new Set(CASES.flatMap((c) => c.exchanges.map(([folder, name, n]) => `${folder}/${name}.${n}`)));
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
// The /embeddings exchanges, consumed by a memory of a durable run (model.embed ops). The chat
// model is a counting stand-in: these fixtures hold no chat answer.

const EMBEDDING_EXCHANGES = new Set();

/** A chat model answering from a script, counting its calls; `blocked` fails every call. */
function scriptedModel(steps, calls, blocked) {
  return {
    provider: 'scripted',
    modelId: 'embeddings-run',
    async generate(request) {
      calls.push(request.messages.length);
      if (blocked) throw new Error('the chat model was called during a replay');
      const content = steps[request.messages.filter((m) => m.role === 'assistant').length];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

describe('durable replay of the recorded /embeddings exchanges (through a memory), network disabled', () => {
  const factories = {
    openai: ({ baseURL, fetch }) => createOpenAI({ baseURL: `${baseURL}/v1`, apiKey: KEY, fetch }),
    ollama: ({ baseURL, fetch }) => createOpenAICompatible({ name: 'ollama', baseURL: `${baseURL}/v1`, fetch }),
  };
  const memoryCases = [
    {
      // The memory is filled and searched by a tool: the replay must not run it, so no embedding call.
      name: 'openai-embeddings/memory-store-search (memory used in a tool)',
      folder: 'openai-embeddings',
      fixture: 'memory-store-search',
      n: 2,
      provider: 'openai',
      embedder: (p) => p.embedding('text-embedding-3-small'),
      inTool: true,
      expect: (found) => assert.equal(found[0].content, 'User prefers functional programming'),
    },
    {
      // The memory is filled and searched by the prompt function, which a replay runs again.
      name: 'openai-compatible/ollama-embeddings-nomic (memory used in the prompt function)',
      folder: 'openai-compatible',
      fixture: 'ollama-embeddings-nomic',
      n: 2,
      provider: 'ollama',
      embedder: (p) => p.embedding('nomic-embed-text'),
      inTool: false,
      expect: (found) => assert.equal(found[0].content, 'The deploy script lives in scripts/deploy.sh'),
    },
    {
      // The second batch answers 500: the store fails in the prompt function, which goes on.
      name: 'openai-embeddings/error-500-second-batch (a store failing in the prompt function)',
      folder: 'openai-embeddings',
      fixture: 'error-500-second-batch',
      n: 2,
      provider: 'openai',
      embedder: (p) => p.embedding('text-embedding-3-small', { maxBatchSize: 2, maxParallelCalls: 1 }),
      inTool: false,
      failing: true,
      expect: (found, failure) => {
        assert.equal(failure.class, 'ProviderError');
        assert.deepEqual(found, []);
      },
    },
  ];
  for (const mc of memoryCases) {
    const exchanges = [];
    for (let n = 1; n <= mc.n; n++) {
      exchanges.push(loadFixture(mc.folder, mc.fixture, n));
      EMBEDDING_EXCHANGES.add(`${mc.folder}/${mc.fixture}.${n}`);
    }
    test(mc.name, async () => {
      const texts = mc.failing ? loadFixture('openai-embeddings', 'memory-store-search', 1).request.input : exchanges[0].request.input;
      const query = mc.failing ? 'anything' : exchanges[1].request.input[0];
      let liveModel = true;
      const observed = [];
      const chatCalls = [];
      const run = async (ctx, executions) => {
        ctx.defMemory('facts', 'vector', { dimensions: 4, embeddingModel: mc.embedder(factories[mc.provider](currentConnection)) });
        const useMemory = async () => {
          let failure = null;
          try {
            await ctx.memory('facts').store(texts.map((content) => ({ content })));
          } catch (err) {
            failure = errorShape(err);
          }
          const found = mc.failing ? await ctx.memory('facts').search([1, 0, 0, 0], { limit: 10 }) : await ctx.memory('facts').search(query, { limit: 2 });
          observed.push({ found: found.map((f) => ({ content: f.content, score: f.score })), failure });
          return found[0]?.content ?? 'nothing';
        };
        if (mc.inTool) {
          ctx.defTool('recall', 'Stores and searches', { type: 'object', properties: {} }, async () => {
            executions.push({ name: 'recall' });
            return useMemory();
          });
        } else {
          await useMemory();
        }
        ctx.$`Recall.`;
      };
      const steps = mc.inTool ? [[{ type: 'tool-call', toolCallId: 'r1', toolName: 'recall', args: {} }], [{ type: 'text', text: 'done' }]] : [[{ type: 'text', text: 'done' }]];
      let currentConnection;
      const c = {
        exchanges,
        prompt: run,
        model: (connection) => {
          currentConnection = connection;
          return scriptedModel(steps, chatCalls, !liveModel);
        },
      };
      // recordAndReplay builds the model (and so the connection the memory's embedder uses) before
      // the prompt function runs; the replay's connection has the failing fetch.
      const wrapped = {
        ...c,
        model: (connection) => {
          const model = c.model(connection);
          liveModel = connection.fetch === undefined;
          return model;
        },
      };
      const { recorded, executions, requests } = await recordAndReplay(wrapped);
      assert.equal(recorded.text, 'done');
      assert.deepEqual(requests.map((r) => r.path), exchanges.map(() => '/v1/embeddings'));
      mc.expect(observed[0].found, observed[0].failure);
      if (mc.inTool) {
        assert.equal(executions.length, 1);
        assert.equal(observed.length, 1, 'the tool (and its memory calls) ran once, live');
      } else {
        assert.equal(observed.length, 2, 'the prompt function ran live and again on replay');
        assert.deepEqual(observed[1], observed[0], 'the memory answered the replayed prompt function from the journal, identically');
      }
      assert.equal(chatCalls.length, steps.length, 'the chat model answered live only');
    });
  }
});
