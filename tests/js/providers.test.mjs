// Provider tests against recorded real exchanges (shared/fixtures/providers beside the repo), replayed over loopback.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { ok } from './helpers/provider-calls.mjs';
import { createOpenAI, createOpenAICompatible } from '../../dist/providers/openai.js';
import { createAnthropic } from '../../dist/providers/anthropic.js';
import { resolveModel, knownProviders } from '../../dist/providers/registry.js';
import { parseRetryAfter } from '../../dist/providers/http.js';
import {
  AbortError,
  AuthenticationError,
  ContextLengthError,
  ProviderError,
  RateLimitError,
} from '../../dist/errors.js';

const KEY = 'sk-test-FAKEKEY-0123456789abcdef';
const SEEDS = [1, 2, 3, 4, 5, 6];

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const openai = () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY });
const ollama = () => createOpenAICompatible({ name: 'ollama', baseURL: `${srv.url}/v1`, apiKey: KEY });
const anthropic = () => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY });

/** Serves one response, runs generate, returns {result, error, deltas, sent, fx}. */
async function run(factory, modelId, fixtureOrResponse, req, serveOpts = {}, genOpts = {}) {
  const fx = Array.isArray(fixtureOrResponse) ? loadFixture(...fixtureOrResponse) : fixtureOrResponse;
  srv.enqueue(fx, serveOpts);
  const index = srv.requests.length;
  const deltas = [];
  let result;
  let error;
  try {
    result = await factory()(modelId).generate(req, { onDelta: (d) => deltas.push(d), ...genOpts });
  } catch (e) {
    error = e;
  }
  return { fx, result, error, deltas, sent: srv.requests[index] };
}

function assertNoSecret(err) {
  assert.ok(err instanceof Error);
  for (const s of [err.message, String(err.stack), JSON.stringify(err)]) {
    assert.ok(!s.includes(KEY), `secret leaked: ${s}`);
    assert.ok(!s.includes('0123456789abcdef'), `secret leaked: ${s}`);
  }
}

/** Same top-level keys as the recording, except keys known to be optional or vendor-specific. */
function assertSameKeys(sent, recorded, ignore = []) {
  const keys = (o) => Object.keys(o).filter((k) => !ignore.includes(k)).sort();
  assert.deepEqual(keys(sent), keys(recorded));
}

function textOf(r) {
  return r.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
}

function deltaText(deltas, type = 'text-delta') {
  return deltas.filter((d) => d.type === type).map((d) => d.text).join('');
}

/** Joins tool-call deltas per index into {id, name, argsText}. */
function joinToolDeltas(deltas) {
  const calls = [];
  for (const d of deltas) {
    if (d.type !== 'tool-call-delta') continue;
    calls[d.index] ??= { id: undefined, name: undefined, argsText: '' };
    if (d.toolCallId) calls[d.index].id = d.toolCallId;
    if (d.toolName) calls[d.index].name = d.toolName;
    calls[d.index].argsText += d.argsTextDelta;
  }
  return calls;
}

function checkStreamedToolCalls(result, deltas) {
  const joined = joinToolDeltas(deltas);
  const calls = result.content.filter((p) => p.type === 'tool-call');
  assert.equal(joined.length, calls.length);
  calls.forEach((c, i) => {
    assert.equal(joined[i].id, c.toolCallId);
    assert.equal(joined[i].name, c.toolName);
    assert.equal(joined[i].argsText, c.argsText);
  });
}

/** Replays a streaming fixture split at random byte boundaries; results must equal the unsplit one. */
async function checkSplits(factory, modelId, fixture, req, expected) {
  for (const seed of SEEDS) {
    const r = await run(factory, modelId, fixture, req, { seed, maxChunk: 1 + seed * 9, maxDelayMs: seed % 3 });
    assert.deepEqual(ok(r), expected, `seed ${seed}`);
    assert.equal(deltaText(r.deltas), textOf(expected));
    checkStreamedToolCalls(r.result, r.deltas);
  }
}

const strMessages = (recorded) => recorded.messages.map((m) => ({ role: m.role, content: m.content }));

// ---------------------------------------------------------------------------------------------------------
describe('openai-chat fixtures', () => {
  test('text-nonstream', async () => {
    const r = await run(openai, 'gpt-3.5-turbo', ['openai-chat', 'text-nonstream', 1], {
      messages: [{ role: 'user', content: 'Hello, how are you?' }],
      params: { maxOutputTokens: 50, temperature: 0 },
      stream: false,
    });
    assert.deepEqual(ok(r), {
      content: [
        {
          type: 'text',
          text: "Hello! I'm just a computer program, so I don't have feelings, but I'm here to help you. How can I assist you today?",
        },
      ],
      finishReason: 'stop',
      rawFinishReason: 'stop',
      usage: { inputTokens: 13, outputTokens: 31, totalTokens: 44, cachedInputTokens: 0, reasoningTokens: 0 },
      modelId: 'gpt-3.5-turbo-0125',
      responseId: 'chatcmpl-C6bhxDl79vlojU2DYKbzyDh0FmLZY',
    });
    assert.deepEqual(r.sent.body, r.fx.request);
    assert.equal(r.sent.method, 'POST');
    assert.equal(r.sent.path, '/v1/chat/completions');
    assert.equal(r.sent.headers.authorization, `Bearer ${KEY}`);
    assert.match(r.sent.headers['content-type'], /application\/json/);
    assert.deepEqual(r.deltas, []);
  });

  const countReq = {
    messages: [{ role: 'user', content: 'Count from 1 to 5' }],
    params: { maxOutputTokens: 50, temperature: 0 },
    stream: true,
  };
  const countExpected = {
    content: [{ type: 'text', text: '1, 2, 3, 4, 5' }],
    finishReason: 'stop',
    rawFinishReason: 'stop',
    usage: { inputTokens: 14, outputTokens: 13, totalTokens: 27, cachedInputTokens: 0, reasoningTokens: 0 },
    modelId: 'gpt-3.5-turbo-0125',
    responseId: 'chatcmpl-C6bjxzOr3Oz1rTiafksd6himIit3q',
  };

  test('text-stream-include-usage', async () => {
    const r = await run(openai, 'gpt-3.5-turbo', ['openai-chat', 'text-stream-include-usage', 1], countReq);
    assert.deepEqual(ok(r), countExpected);
    assert.deepEqual(r.sent.body, r.fx.request);
    assert.deepEqual(
      r.deltas.map((d) => d.text),
      ['1', ',', ' ', '2', ',', ' ', '3', ',', ' ', '4', ',', ' ', '5'],
    );
    assert.equal(r.sent.headers.accept, 'text/event-stream');
  });

  test('text-stream-include-usage split at random byte boundaries', async () => {
    await checkSplits(openai, 'gpt-3.5-turbo', ['openai-chat', 'text-stream-include-usage', 1], countReq, countExpected);
  });

  const weatherTool = {
    name: 'getCurrentWeather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  };

  test('tool-call-single-nonstream', async () => {
    const r = await run(openai, 'gpt-3.5-turbo', ['openai-chat', 'tool-call-single-nonstream', 1], {
      messages: [{ role: 'user', content: 'What is the weather like in Boston?' }],
      tools: [weatherTool],
      params: { temperature: 0 },
      stream: false,
    });
    assert.deepEqual(ok(r), {
      content: [
        {
          type: 'tool-call',
          toolCallId: 'call_olc8qHf1RDItRqwuEBNjsu3B',
          toolName: 'getCurrentWeather',
          args: { location: 'Boston' },
          argsText: '{"location":"Boston"}',
        },
      ],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_calls',
      usage: { inputTokens: 81, outputTokens: 14, totalTokens: 95, cachedInputTokens: 0, reasoningTokens: 0 },
      modelId: 'gpt-3.5-turbo-0125',
      responseId: 'chatcmpl-C6coS1jncfSG1hcFv7v36PkpgHlBq',
    });
    assert.deepEqual(r.sent.body, r.fx.request);
  });

  test('structured-json-schema-nonstream', async () => {
    const schema = {
      type: 'object',
      properties: { final_answer: { type: 'string', additionalProperties: false } },
      additionalProperties: false,
      required: ['final_answer'],
    };
    const r = await run(openai, 'gpt-4o-2024-08-06', ['openai-chat', 'structured-json-schema-nonstream', 1], {
      messages: [
        { role: 'system', content: 'You are a student taking a math exam.' },
        { role: 'user', content: 'Solve 2 + 2' },
      ],
      responseFormat: { type: 'json', schema, name: 'math_schema' },
      params: { temperature: 0 },
      stream: false,
    });
    const res = ok(r);
    assert.deepEqual(res.content, [{ type: 'text', text: '{"final_answer":"4"}' }]);
    assert.deepEqual(JSON.parse(textOf(res)), { final_answer: '4' });
    assert.equal(res.finishReason, 'stop');
    assert.deepEqual(res.usage, { inputTokens: 53, outputTokens: 6, totalTokens: 59, cachedInputTokens: 0, reasoningTokens: 0 });
    assert.equal(res.responseId, 'chatcmpl-C6coVnCXLoW5x80BoWWrkccMpvrEC');
    assert.deepEqual(r.sent.body, r.fx.request);
  });

  const intSchema = {
    properties: { a: { title: 'A', type: 'integer' }, b: { title: 'B', type: 'integer' } },
    required: ['a', 'b'],
    type: 'object',
  };
  const parallelReq = {
    messages: [{ role: 'user', content: 'Sum 2 and 3. Also subtract 2 from 3.' }],
    tools: [
      { name: 'plus', parameters: intSchema },
      { name: 'minus', parameters: intSchema },
    ],
    toolChoice: 'required',
    stream: true,
  };
  const parallelExpected = {
    content: [
      { type: 'tool-call', toolCallId: 'call_8Sp49rZGndlZALo0uq1XvA7A', toolName: 'plus', args: { a: 2, b: 3 }, argsText: '{"a": 2, "b": 3}' },
      { type: 'tool-call', toolCallId: 'call_u5dbdPz1mAis8zZVk4ZBqXgL', toolName: 'minus', args: { a: 3, b: 2 }, argsText: '{"a": 3, "b": 2}' },
    ],
    finishReason: 'tool-calls',
    rawFinishReason: 'tool_calls',
    usage: { inputTokens: 82, outputTokens: 50, totalTokens: 132, cachedInputTokens: 0, reasoningTokens: 0 },
    modelId: 'gpt-4o-2024-08-06',
    responseId: 'chatcmpl-AU9UWVZJHxSXwx1SffWtyoXswc5zK',
  };

  test('tool-calls-parallel-stream', async () => {
    const r = await run(openai, 'gpt-4o', ['openai-chat', 'tool-calls-parallel-stream', 1], parallelReq);
    assert.deepEqual(ok(r), parallelExpected);
    assert.deepEqual(r.sent.body, r.fx.request);
    // first delta of each call carries id + name, later ones only argument fragments
    const toolDeltas = r.deltas.filter((d) => d.type === 'tool-call-delta');
    assert.deepEqual(toolDeltas[0], { type: 'tool-call-delta', index: 0, toolCallId: 'call_8Sp49rZGndlZALo0uq1XvA7A', toolName: 'plus', argsTextDelta: '' });
    assert.deepEqual(toolDeltas[1], { type: 'tool-call-delta', index: 0, argsTextDelta: '{"a"' });
    assert.deepEqual(toolDeltas[5], { type: 'tool-call-delta', index: 1, toolCallId: 'call_u5dbdPz1mAis8zZVk4ZBqXgL', toolName: 'minus', argsTextDelta: '' });
    checkStreamedToolCalls(r.result, r.deltas);
  });

  test('tool-calls-parallel-stream split at random byte boundaries', async () => {
    await checkSplits(openai, 'gpt-4o', ['openai-chat', 'tool-calls-parallel-stream', 1], parallelReq, parallelExpected);
  });

  test('errors-429-tpm-chat_500-responses #1: 429 without Retry-After -> RateLimitError', async () => {
    const recorded = loadFixture('openai-chat', 'errors-429-tpm-chat_500-responses', 1).request;
    const r = await run(openai, 'gpt-4.1-nano', ['openai-chat', 'errors-429-tpm-chat_500-responses', 1], {
      messages: strMessages(recorded),
      params: { temperature: 0.7 },
      stream: false,
    });
    assert.ok(r.error instanceof RateLimitError, String(r.error));
    assert.equal(r.error.status, 429);
    assert.equal(r.error.retryAfterMs, undefined);
    assert.equal(r.error.code, 'RATE_LIMIT');
    assert.match(r.error.message, /Request too large for gpt-4\.1-nano-long-context/);
    assert.match(r.error.message, /rate_limit_exceeded/);
    assertNoSecret(r.error);
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    assert.deepEqual(r.sent.body.messages, recorded.messages);
  });

  test('errors-429-tpm-chat_500-responses #2: 500 -> retryable ProviderError', async () => {
    // The recording is from the Responses API (`input` instead of `messages`); only the error body and
    // status are replayed to our Chat Completions client, so the request shape is not compared.
    const r = await run(openai, 'gpt-4.1-nano', ['openai-chat', 'errors-429-tpm-chat_500-responses', 2], {
      messages: [{ role: 'user', content: 'Hi' }],
      params: { temperature: 0.7 },
      stream: false,
    });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.status, 500);
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /An error occurred while processing your request/);
    assert.match(r.error.message, /req_630c2c7cf0cdc55830bd88fee6ac4495/);
    assertNoSecret(r.error);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The parallel-tool recordings of Ollama and Anthropic come from the same upstream test: same tools, same question.
const weather = {
  name: 'weather',
  description: 'Gets current weather for a location',
  parameters: {
    type: 'object',
    properties: {
      latitude: { type: 'string', description: 'Latitude (e.g., 52.5200)' },
      longitude: { type: 'string', description: 'Longitude (e.g., 13.4050)' },
    },
    required: ['latitude', 'longitude'],
    additionalProperties: false,
    strict: true,
  },
};
const bestLanguage = {
  name: 'best_language_to_learn',
  description: 'Gets the best language to learn',
  parameters: { type: 'object', properties: {}, required: [], additionalProperties: false, strict: true },
};
const question = "What's the weather in Berlin (52.5200, 13.4050) and what's the best language to learn?";

describe('openai-compatible fixtures (Ollama)', () => {
  // `stream: false` and Ollama's `enable_thinking` are sent by the recording client but not by ours.
  const ignore = ['stream', 'enable_thinking'];

  const call1 = {
    type: 'tool-call',
    toolCallId: 'call_blwig54z',
    toolName: 'weather',
    args: { latitude: '52.5200', longitude: '13.4050' },
    argsText: '{"latitude":"52.5200","longitude":"13.4050"}',
  };
  const call2 = { type: 'tool-call', toolCallId: 'call_k7oscaqs', toolName: 'best_language_to_learn', args: {}, argsText: '{}' };

  test('ollama-qwen3-parallel-tool-calls-nonstream #1: two tool calls + reasoning', async () => {
    const r = await run(ollama, 'qwen3', ['openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', 1], {
      messages: [{ role: 'user', content: question }],
      tools: [weather, bestLanguage],
      stream: false,
    });
    const res = ok(r);
    assert.equal(res.content.length, 3);
    assert.equal(res.content[0].type, 'reasoning');
    assert.ok(res.content[0].text.startsWith('Okay, let me tackle this user query. The user is asking two things:'));
    assert.ok(res.content[0].text.endsWith('Just return both tool calls in the specified XML format.\n'));
    assert.deepEqual(res.content.slice(1), [call1, call2]);
    assert.equal(res.finishReason, 'tool-calls');
    assert.equal(res.rawFinishReason, 'tool_calls');
    assert.deepEqual(res.usage, { inputTokens: 235, outputTokens: 320, totalTokens: 555 });
    assert.equal(res.modelId, 'qwen3');
    assert.equal(res.responseId, 'chatcmpl-613');
    assertSameKeys(r.sent.body, r.fx.request, ignore);
    assert.deepEqual(r.sent.body.messages, r.fx.request.messages);
    assert.deepEqual(r.sent.body.tools, r.fx.request.tools);
  });

  test('ollama-qwen3-parallel-tool-calls-nonstream #2: tool results -> final text', async () => {
    const r = await run(ollama, 'qwen3', ['openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', 2], {
      messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: [{ type: 'reasoning', text: 'Okay, let me tackle this user query.' }, call1, call2] },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'call_blwig54z', toolName: 'weather', result: 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h' },
            { type: 'tool-result', toolCallId: 'call_k7oscaqs', toolName: 'best_language_to_learn', result: 'Ruby' },
          ],
        },
      ],
      tools: [weather, bestLanguage],
      stream: false,
    });
    const res = ok(r);
    assert.ok(textOf(res).startsWith('The current weather in Berlin (52.5200, 13.4050) is **15°C** with a wind speed of **10 km/h**'));
    assert.ok(textOf(res).endsWith('Ruby is great for web development and scripting. 🐍'));
    assert.equal(res.content[0].type, 'reasoning');
    assert.ok(res.content[0].text.startsWith('Okay, let me process the information.'));
    assert.equal(res.finishReason, 'stop');
    assert.deepEqual(res.usage, { inputTokens: 603, outputTokens: 269, totalTokens: 872 });
    assert.equal(res.responseId, 'chatcmpl-707');
    assertSameKeys(r.sent.body, r.fx.request, ignore);
    // the recorder also echoed Ollama's non-standard reasoning fields; we do not send reasoning back
    const recorded = r.fx.request.messages.map(({ reasoning, reasoning_content, ...m }) => m);
    assert.deepEqual(r.sent.body.messages, recorded);
  });

  test('ollama-cloud-error-400-context-length -> ContextLengthError', async () => {
    const recorded = loadFixture('openai-compatible', 'ollama-cloud-error-400-context-length', 1).request;
    const r = await run(ollama, 'gpt-oss:120b', ['openai-compatible', 'ollama-cloud-error-400-context-length', 1], {
      messages: strMessages(recorded),
      stream: false,
    });
    assert.ok(r.error instanceof ContextLengthError, String(r.error));
    assert.equal(r.error.code, 'CONTEXT_LENGTH');
    assert.match(r.error.message, /prompt too long; exceeded max context length by 1119046 tokens/);
    assert.match(r.error.message, /^ollama: /);
    assertNoSecret(r.error);
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    assert.deepEqual(r.sent.body.messages, recorded.messages);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('anthropic fixtures', () => {
  test('text-nonstream', async () => {
    const r = await run(anthropic, 'claude-3-opus-20240229', ['anthropic', 'text-nonstream', 1], {
      messages: [{ role: 'user', content: 'Hello, how are you?' }],
      params: { maxOutputTokens: 100, temperature: 0 },
      stream: false,
    });
    assert.deepEqual(ok(r), {
      content: [
        {
          type: 'text',
          text: "Hello! As an AI language model, I don't have feelings, but I'm functioning properly and ready to assist you. How can I help you today?",
        },
      ],
      finishReason: 'stop',
      rawFinishReason: 'end_turn',
      usage: { inputTokens: 13, outputTokens: 35, totalTokens: 48, cachedInputTokens: 0, cacheWriteInputTokens: 0 },
      modelId: 'claude-3-opus-20240229',
      responseId: 'msg_014pVpaDLxzAdWjwpuN7rQQX',
    });
    assert.deepEqual(r.sent.body, r.fx.request);
    assert.equal(r.sent.path, '/v1/messages');
    assert.equal(r.sent.headers['x-api-key'], KEY);
    assert.equal(r.sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(r.sent.headers.authorization, undefined);
  });

  const countReq = {
    messages: [{ role: 'user', content: 'Count from 1 to 5' }],
    params: { maxOutputTokens: 100, temperature: 0 },
    stream: true,
  };
  const countExpected = {
    content: [{ type: 'text', text: '1\n2\n3\n4\n5' }],
    finishReason: 'stop',
    rawFinishReason: 'end_turn',
    usage: { inputTokens: 15, outputTokens: 13, totalTokens: 28, cachedInputTokens: 0, cacheWriteInputTokens: 0 },
    modelId: 'claude-3-opus-20240229',
    responseId: 'msg_01Ju7oPaDmjgrhWq8gNP4AUj',
  };

  test('text-stream', async () => {
    const r = await run(anthropic, 'claude-3-opus-20240229', ['anthropic', 'text-stream', 1], countReq);
    assert.deepEqual(ok(r), countExpected);
    assert.deepEqual(r.deltas, [
      { type: 'text-delta', text: '1' },
      { type: 'text-delta', text: '\n2\n3' },
      { type: 'text-delta', text: '\n4\n5' },
    ]);
    assert.deepEqual(r.sent.body, r.fx.request);
  });

  test('text-stream split at random byte boundaries', async () => {
    await checkSplits(anthropic, 'claude-3-opus-20240229', ['anthropic', 'text-stream', 1], countReq, countExpected);
  });

  test('max-tokens-nonstream: truncated text, finish length, custom beta header passes through', async () => {
    const factory = () => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY, headers: { 'anthropic-beta': 'test-beta-flag' } });
    const r = await run(factory, 'claude-3-opus-20240229', ['anthropic', 'max-tokens-nonstream', 1], {
      messages: [{ role: 'user', content: "What's the weather like?" }],
      tools: [
        {
          name: 'get_weather',
          description: 'Get the weather for a location',
          parameters: {
            properties: { location: { description: 'The location to get weather for', type: 'string' } },
            required: ['location'],
            type: 'object',
          },
        },
      ],
      params: { maxOutputTokens: 100, temperature: 0 },
      stream: false,
    });
    const res = ok(r);
    assert.equal(res.content.length, 1);
    assert.ok(textOf(res).startsWith('<thinking>\nThe get_weather tool is relevant for answering this question about the weather.'));
    assert.ok(textOf(res).endsWith('Could you please provide the city'));
    assert.equal(res.finishReason, 'length');
    assert.equal(res.rawFinishReason, 'max_tokens');
    assert.deepEqual(res.usage, { inputTokens: 611, outputTokens: 100, totalTokens: 711, cachedInputTokens: 0, cacheWriteInputTokens: 0 });
    assert.equal(res.responseId, 'msg_01UHukvv2HJwxaYkFbr5FFuN');
    assert.deepEqual(r.sent.body, r.fx.request);
    assert.equal(r.sent.headers['anthropic-beta'], 'test-beta-flag');
  });

  const callWeather = {
    type: 'tool-call',
    toolCallId: 'toolu_01TjHdHxyQNDy4DipRieJU5n',
    toolName: 'weather',
    args: { latitude: '52.5200', longitude: '13.4050' },
    argsText: '{"latitude":"52.5200","longitude":"13.4050"}',
  };
  const callLang = { type: 'tool-call', toolCallId: 'toolu_01QHFWAkMuVLb3VgS4EDGUGY', toolName: 'best_language_to_learn', args: {}, argsText: '{}' };

  test('parallel-tool-use-nonstream #1: two tool_use blocks', async () => {
    const r = await run(anthropic, 'claude-haiku-4-5-20251001', ['anthropic', 'parallel-tool-use-nonstream', 1], {
      messages: [{ role: 'user', content: [{ type: 'text', text: question }] }],
      tools: [weather, bestLanguage],
      params: { maxOutputTokens: 64000 },
      stream: false,
    });
    assert.deepEqual(ok(r), {
      content: [callWeather, callLang],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_use',
      usage: { inputTokens: 701, outputTokens: 98, totalTokens: 799, cachedInputTokens: 0, cacheWriteInputTokens: 0 },
      modelId: 'claude-haiku-4-5-20251001',
      responseId: 'msg_011CeCGnz5QeBWHzpPHf1ThJ',
    });
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    assert.deepEqual(r.sent.body.messages, r.fx.request.messages);
    assert.deepEqual(r.sent.body.tools, r.fx.request.tools);
    assert.equal(r.sent.body.max_tokens, 64000);
  });

  test('parallel-tool-use-nonstream #2: tool results -> final text', async () => {
    const r = await run(anthropic, 'claude-haiku-4-5-20251001', ['anthropic', 'parallel-tool-use-nonstream', 2], {
      messages: [
        { role: 'user', content: [{ type: 'text', text: question }] },
        { role: 'assistant', content: [callWeather, callLang] },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: 'toolu_01TjHdHxyQNDy4DipRieJU5n', toolName: 'weather', result: 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h' },
            { type: 'tool-result', toolCallId: 'toolu_01QHFWAkMuVLb3VgS4EDGUGY', toolName: 'best_language_to_learn', result: 'Ruby' },
          ],
        },
      ],
      tools: [weather, bestLanguage],
      params: { maxOutputTokens: 64000 },
      stream: false,
    });
    const res = ok(r);
    assert.ok(textOf(res).startsWith("Here's the information you requested:\n\n**Weather in Berlin (52.5200, 13.4050):**\n- Temperature: 15°C"));
    assert.ok(textOf(res).endsWith("It's great for web development, scripting, and automation!"));
    assert.equal(res.finishReason, 'stop');
    assert.deepEqual(res.usage, { inputTokens: 893, outputTokens: 90, totalTokens: 983, cachedInputTokens: 0, cacheWriteInputTokens: 0 });
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    const [u, a, t] = r.sent.body.messages;
    const [ru, ra, rt] = r.fx.request.messages;
    assert.deepEqual(u, ru);
    assert.deepEqual(a, ra);
    assert.equal(t.role, 'user');
    // the recording wraps tool_result text in a text block; we send the equivalent plain string form
    assert.deepEqual(
      t.content.map((b) => [b.type, b.tool_use_id, b.content]),
      rt.content.map((b) => [b.type, b.tool_use_id, b.content[0].text]),
    );
  });

  const plusMinusSchema = {
    properties: { a: { title: 'A', type: 'integer' }, b: { title: 'B', type: 'integer' } },
    required: ['a', 'b'],
    type: 'object',
  };
  const streamToolsReq = {
    messages: [
      {
        role: 'user',
        content: [{ type: 'text', text: 'Use the plus tool to sum 1 and 2. Use the minus tool to subtract 1 from 2. Use both tools at the same time.' }],
      },
    ],
    tools: [
      { name: 'plus', description: '', parameters: plusMinusSchema },
      { name: 'minus', description: '', parameters: plusMinusSchema },
    ],
    toolChoice: 'required',
    params: { maxOutputTokens: 1024 },
    stream: true,
  };
  const streamToolsExpected = {
    content: [
      { type: 'tool-call', toolCallId: 'toolu_01CM7Nqnu3tF2UqzksSCxsqt', toolName: 'plus', args: { a: 1, b: 2 }, argsText: '{"a": 1, "b": 2}' },
      { type: 'tool-call', toolCallId: 'toolu_01MGZBHepZSnpCrVLDT34yxu', toolName: 'minus', args: { a: 2, b: 1 }, argsText: '{"a": 2, "b": 1}' },
    ],
    finishReason: 'tool-calls',
    rawFinishReason: 'tool_use',
    usage: { inputTokens: 469, outputTokens: 104, totalTokens: 573 },
    modelId: 'claude-3-opus-20240229',
    responseId: 'msg_01LZDJCvBkpvzQxKUK1YXzwc',
  };

  test('parallel-tool-use-stream-input-json-delta', async () => {
    const r = await run(anthropic, 'claude-3-opus-20240229', ['anthropic', 'parallel-tool-use-stream-input-json-delta', 1], streamToolsReq);
    assert.deepEqual(ok(r), streamToolsExpected);
    assert.deepEqual(r.deltas[0], { type: 'tool-call-delta', index: 0, toolCallId: 'toolu_01CM7Nqnu3tF2UqzksSCxsqt', toolName: 'plus', argsTextDelta: '' });
    checkStreamedToolCalls(r.result, r.deltas);
    assertSameKeys(r.sent.body, r.fx.request);
    assert.deepEqual(r.sent.body.messages, r.fx.request.messages);
    assert.deepEqual(r.sent.body.tools, r.fx.request.tools);
    assert.equal(r.sent.body.tool_choice.type, 'any');
    assert.equal(r.sent.body.stream, true);
  });

  test('parallel-tool-use-stream-input-json-delta split at random byte boundaries', async () => {
    await checkSplits(anthropic, 'claude-3-opus-20240229', ['anthropic', 'parallel-tool-use-stream-input-json-delta', 1], streamToolsReq, streamToolsExpected);
  });

  test('structured-output-json-schema', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const r = await run(anthropic, 'claude-haiku-4-5-20251001', ['anthropic', 'structured-output-json-schema', 1], {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Generate a person named John who is 30 years old' }] }],
      responseFormat: { type: 'json', schema },
      params: { maxOutputTokens: 64000 },
      stream: false,
    });
    const res = ok(r);
    assert.deepEqual(res.content, [{ type: 'text', text: '{"name":"John","age":30}' }]);
    assert.deepEqual(JSON.parse(textOf(res)), { name: 'John', age: 30 });
    assert.equal(res.finishReason, 'stop');
    assert.deepEqual(res.usage, { inputTokens: 181, outputTokens: 12, totalTokens: 193, cachedInputTokens: 0, cacheWriteInputTokens: 0 });
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    assert.deepEqual(r.sent.body.output_config, r.fx.request.output_config);
    assert.deepEqual(r.sent.body.messages, r.fx.request.messages);
  });

  const berlin = "What's the weather in Berlin? (52.5200, 13.4050)";
  const weatherPlain = {
    name: 'weather',
    description: 'Gets current weather for a location',
    parameters: {
      type: 'object',
      properties: {
        latitude: { type: 'string', description: 'Latitude (e.g., 52.5200)' },
        longitude: { type: 'string', description: 'Longitude (e.g., 13.4050)' },
      },
      required: ['latitude', 'longitude'],
    },
  };
  const haikuCall = {
    type: 'tool-call',
    toolCallId: 'toolu_01TYBwp3UmcWbnmtjzUzsuVc',
    toolName: 'weather',
    args: { latitude: '52.5200', longitude: '13.4050' },
    argsText: '{"latitude":"52.5200","longitude":"13.4050"}',
  };
  const haikuText = "I'll help you get the current weather in Berlin using the provided coordinates.";

  test('error-529-overloaded #1: text + tool_use', async () => {
    const r = await run(anthropic, 'claude-3-5-haiku-20241022', ['anthropic', 'error-529-overloaded', 1], {
      messages: [{ role: 'user', content: berlin }],
      tools: [weatherPlain],
      params: { temperature: 0.7, maxOutputTokens: 8192 },
      stream: false,
    });
    assert.deepEqual(ok(r), {
      content: [{ type: 'text', text: haikuText }, haikuCall],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_use',
      usage: { inputTokens: 389, outputTokens: 90, totalTokens: 479, cachedInputTokens: 0, cacheWriteInputTokens: 0 },
      modelId: 'claude-3-5-haiku-20241022',
      responseId: 'msg_01MGXvSzpYbpmxcnEFLYAxSf',
    });
    const { stream, ...recorded } = r.fx.request;
    assert.equal(stream, false);
    assert.deepEqual(r.sent.body, recorded);
  });

  test('error-529-overloaded #2: HTTP 529 -> retryable ProviderError', async () => {
    const r = await run(anthropic, 'claude-3-5-haiku-20241022', ['anthropic', 'error-529-overloaded', 2], {
      messages: [
        { role: 'user', content: berlin },
        { role: 'assistant', content: [{ type: 'text', text: haikuText }, haikuCall] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_01TYBwp3UmcWbnmtjzUzsuVc', toolName: 'weather', result: 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h' }] },
      ],
      tools: [weatherPlain],
      params: { temperature: 0.7, maxOutputTokens: 8192 },
      stream: false,
    });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.status, 529);
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /Overloaded/);
    assert.match(r.error.message, /overloaded_error/);
    assertNoSecret(r.error);
    const { stream, ...recorded } = r.fx.request;
    assert.equal(stream, false);
    assert.deepEqual(r.sent.body, recorded);
  });

  test('error-429-rate-limit-retry-after -> RateLimitError with retryAfterMs 41000', async () => {
    const recorded = loadFixture('anthropic', 'error-429-rate-limit-retry-after', 1).request;
    const r = await run(anthropic, 'claude-haiku-4-5-20251001', ['anthropic', 'error-429-rate-limit-retry-after', 1], {
      messages: recorded.messages.map((m) => ({ role: m.role, content: [{ type: 'text', text: m.content[0].text }] })),
      params: { maxOutputTokens: 64000 },
      stream: false,
    });
    assert.ok(r.error instanceof RateLimitError, String(r.error));
    assert.equal(r.error.retryAfterMs, 41000);
    assert.equal(r.error.status, 429);
    assert.match(r.error.message, /rate limit of 450,000 input tokens per minute/);
    assertNoSecret(r.error);
    assertSameKeys(r.sent.body, r.fx.request, ['stream']);
    assert.deepEqual(r.sent.body.messages, recorded.messages);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('stream failures, abort, error mapping', () => {
  const countReq = {
    messages: [{ role: 'user', content: 'Count from 1 to 5' }],
    params: { maxOutputTokens: 50, temperature: 0 },
    stream: true,
  };
  /** Byte offset just after the SSE event containing `marker`. */
  const afterEvent = (fx, marker) => {
    const i = fx.body.indexOf(marker);
    assert.ok(i > 0);
    return fx.body.indexOf('\n\n', i) + 2;
  };

  test('openai stream cut mid-way -> ProviderError keeping partialText', async () => {
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    const cut = afterEvent(fx, '"content":"3"') + 40; // inside the next event
    for (const seed of [undefined, 3]) {
      const r = await run(openai, 'gpt-3.5-turbo', fx, countReq, { cutAfter: cut, seed });
      assert.ok(r.error instanceof ProviderError, String(r.error));
      assert.equal(r.error.partialText, '1, 2, 3');
      assert.equal(r.error.retryable, true);
      assertNoSecret(r.error);
    }
  });

  test('openai stream that closes cleanly before [DONE]/finish_reason -> ProviderError', async () => {
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    const body = fx.body.subarray(0, afterEvent(fx, '"content":"2"'));
    const r = await run(openai, 'gpt-3.5-turbo', { ...fx, body }, countReq);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, '1, 2');
    assert.match(r.error.message, /ended before/);
  });

  test('anthropic stream cut mid-way -> ProviderError keeping partialText', async () => {
    const fx = loadFixture('anthropic', 'text-stream', 1);
    const cut = afterEvent(fx, '"text":"\\n2\\n3"') + 5;
    const r = await run(anthropic, 'claude-3-opus-20240229', fx, { ...countReq, params: { maxOutputTokens: 100 } }, { cutAfter: cut, seed: 9 });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, '1\n2\n3');
    assertNoSecret(r.error);
  });

  test('abort mid-stream -> AbortError quickly (openai and anthropic)', async () => {
    const cases = [
      [openai, loadFixture('openai-chat', 'text-stream-include-usage', 1), '"content":"1"'],
      [anthropic, loadFixture('anthropic', 'text-stream', 1), '"text":"1"'],
    ];
    for (const [factory, fx, marker] of cases) {
      const ac = new AbortController();
      let abortedAt = 0;
      const r = await run(factory, 'm', fx, countReq, { hangAfter: afterEvent(fx, marker) }, {
        signal: ac.signal,
        onDelta: (d) => {
          if (d.type === 'text-delta' && !abortedAt) {
            abortedAt = Date.now();
            ac.abort();
          }
        },
      });
      assert.ok(r.error instanceof AbortError, String(r.error));
      assert.ok(abortedAt > 0); // the stream hangs after the marker: only the abort can end it
    }
  });

  test('abort while waiting for response headers -> AbortError', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    // The server never sends headers: only the abort can end the request.
    const r = await run(anthropic, 'm', loadFixture('anthropic', 'text-nonstream', 1), { messages: [{ role: 'user', content: 'x' }], stream: false }, { hangBeforeHeaders: true }, { signal: ac.signal });
    assert.ok(r.error instanceof AbortError, String(r.error));
  });

  test('already-aborted signal -> AbortError without a request', async () => {
    const before = srv.requests.length;
    await assert.rejects(openai()('m').generate({ messages: [{ role: 'user', content: 'x' }] }, { signal: AbortSignal.abort() }), AbortError);
    assert.equal(srv.requests.length, before);
  });

  test('openai in-band {"error"} chunk mid-stream -> typed error with partialText', async () => {
    const body =
      'data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n' +
      'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n';
    const r = await run(openai, 'm', { status: 200, headers: { 'content-type': 'text/event-stream' }, body }, countReq);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, 'Hel');
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /The server had an error/);
  });

  test('openai in-band context-length error chunk -> ContextLengthError', async () => {
    const body = 'data: {"error":{"message":"This model\'s maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}\n\n';
    const r = await run(openai, 'm', { status: 200, headers: { 'content-type': 'text/event-stream' }, body }, countReq);
    assert.ok(r.error instanceof ContextLengthError, String(r.error));
  });

  test('anthropic in-band error event mid-stream -> retryable ProviderError with partialText', async () => {
    const body =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","model":"m","usage":{"input_tokens":3,"output_tokens":1}}}\n\n' +
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}\n\n' +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const r = await run(anthropic, 'm', { status: 200, headers: { 'content-type': 'text/event-stream' }, body }, countReq);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, 'Partial');
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /Overloaded/);
  });

  test('anthropic thinking_delta -> reasoning part and reasoning deltas', async () => {
    const body =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_t","model":"m","usage":{"input_tokens":5,"cache_read_input_tokens":2,"output_tokens":1}}}\n\n' +
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}\n\n' +
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
      'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Answer"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const r = await run(anthropic, 'm', { status: 200, headers: { 'content-type': 'text/event-stream' }, body }, countReq);
    assert.deepEqual(ok(r).content, [
      { type: 'reasoning', text: 'Let me think', signature: 'abc', signedBy: 'anthropic' },
      { type: 'text', text: 'Answer' },
    ]);
    assert.deepEqual(r.result.usage, { inputTokens: 7, outputTokens: 7, totalTokens: 14, cachedInputTokens: 2 });
    assert.deepEqual(r.deltas, [
      { type: 'reasoning-start' },
      { type: 'reasoning-delta', text: 'Let me think' },
      { type: 'text-delta', text: 'Answer' },
    ]);
  });

  test('openai stream with reasoning_content deltas (compatible servers)', async () => {
    const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const body = chunk({ reasoning_content: 'hmm ' }) + chunk({ reasoning_content: 'ok' }) + chunk({ content: 'Hi' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
    const r = await run(ollama, 'm', { status: 200, headers: { 'content-type': 'text/event-stream' }, body }, countReq);
    assert.deepEqual(ok(r).content, [
      { type: 'reasoning', text: 'hmm ok' },
      { type: 'text', text: 'Hi' },
    ]);
    assert.equal(deltaText(r.deltas, 'reasoning-delta'), 'hmm ok');
  });

  test('compatible stream: tool calls without index, SSE served without an event-stream content type', async () => {
    const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const body =
      chunk({ tool_calls: [{ id: 'a1', type: 'function', function: { name: 'f', arguments: '{"x"' } }] }) +
      chunk({ tool_calls: [{ function: { arguments: ': 1}' } }] }) +
      chunk({ tool_calls: [{ id: 'b2', type: 'function', function: { name: 'g', arguments: '{}' } }] }) +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const r = await run(ollama, 'm', { status: 200, headers: { 'content-type': 'text/plain' }, body }, countReq, { seed: 4, maxChunk: 7 });
    assert.deepEqual(ok(r).content, [
      { type: 'tool-call', toolCallId: 'a1', toolName: 'f', args: { x: 1 }, argsText: '{"x": 1}' },
      { type: 'tool-call', toolCallId: 'b2', toolName: 'g', args: {}, argsText: '{}' },
    ]);
    assert.equal(r.result.finishReason, 'tool-calls');
    checkStreamedToolCalls(r.result, r.deltas);
  });

  test('invalid JSON tool arguments -> args undefined, raw argsText kept', async () => {
    const body = JSON.stringify({
      id: 'x',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a": 1' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    const r = await run(openai, 'm', { status: 200, headers: { 'content-type': 'application/json' }, body }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.deepEqual(ok(r).content, [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'f', args: undefined, argsText: '{"a": 1' }]);
  });

  test('server answering a streaming request with JSON still works (deltas replayed)', async () => {
    const fx = loadFixture('openai-chat', 'text-nonstream', 1);
    const r = await run(openai, 'gpt-3.5-turbo', fx, countReq);
    assert.match(textOf(ok(r)), /^Hello! I'm just a computer program/);
    assert.equal(deltaText(r.deltas), textOf(r.result));
  });

  test('401 echoing the key -> AuthenticationError with the key redacted', async () => {
    const body = JSON.stringify({
      error: { message: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
    const r = await run(openai, 'm', { status: 401, headers: { 'content-type': 'application/json' }, body }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof AuthenticationError, String(r.error));
    assert.equal(r.error.status, 401);
    assert.match(r.error.message, /Incorrect API key provided: \[redacted\]/);
    assertNoSecret(r.error);
  });

  test('anthropic 401 / 403 -> AuthenticationError; Authorization header values are redacted too', async () => {
    const b401 = JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    let r = await run(anthropic, 'm', { status: 401, headers: { 'content-type': 'application/json' }, body: b401 }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof AuthenticationError);
    assert.equal(r.error.status, 401);
    const b403 = JSON.stringify({ type: 'error', error: { type: 'permission_error', message: `token Bearer ${KEY} may not use this model` } });
    r = await run(anthropic, 'm', { status: 403, headers: { 'content-type': 'application/json' }, body: b403 }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof AuthenticationError);
    assert.equal(r.error.status, 403);
    assertNoSecret(r.error);
  });

  test('Retry-After as HTTP date and retry-after-ms', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const body = JSON.stringify({ error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } });
    let r = await run(openai, 'm', { status: 429, headers: { 'content-type': 'application/json', 'retry-after': date }, body }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof RateLimitError);
    assert.ok(r.error.retryAfterMs > 28_000 && r.error.retryAfterMs <= 30_000, String(r.error.retryAfterMs));
    r = await run(openai, 'm', { status: 429, headers: { 'content-type': 'application/json', 'retry-after-ms': '1500', 'retry-after': '2' }, body }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.equal(r.error.retryAfterMs, 1500);
    const h = new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' });
    assert.equal(parseRetryAfter(h, Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')), 60_000);
    assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'soon' })), undefined);
  });

  test('status mapping: 408/409/5xx retryable, 404 not, non-JSON body kept', async () => {
    for (const [status, retryable] of [[408, true], [409, true], [503, true], [404, false], [400, false]]) {
      const r = await run(openai, 'm', { status, headers: { 'content-type': 'text/plain' }, body: `plain failure ${status}` }, { messages: [{ role: 'user', content: 'x' }], stream: false });
      assert.ok(r.error instanceof ProviderError, `${status}: ${r.error}`);
      assert.equal(r.error.status, status);
      assert.equal(r.error.retryable, retryable);
      assert.match(r.error.message, new RegExp(`plain failure ${status}`));
    }
  });

  test('network error (connection refused) -> retryable ProviderError without the key', async () => {
    const tmp = createServer();
    await new Promise((res) => tmp.listen(0, '127.0.0.1', res));
    const port = tmp.address().port;
    await new Promise((res) => tmp.close(res));
    const model = createOpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY })('m');
    const err = await model.generate({ messages: [{ role: 'user', content: 'x' }], stream: false }, {}).catch((e) => e);
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.retryable, true);
    assertNoSecret(err);
  });

  test('request mapping extras: images, tool choice by name, stop/seed/topP, json_object, anthropic system', async () => {
    const fx = loadFixture('openai-chat', 'text-nonstream', 1);
    const req = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'image', data: 'AAAA', mediaType: 'image/jpeg' }, { type: 'image', data: 'https://x.test/a.png' }] },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      toolChoice: { type: 'tool', toolName: 'f' },
      responseFormat: { type: 'json' },
      params: { stopSequences: ['END'], seed: 7, topP: 0.5, topK: 3, presencePenalty: 0.5, frequencyPenalty: 1 },
      stream: false,
    };
    let r = await run(openai, 'gpt-4o', fx, req);
    ok(r);
    assert.deepEqual(r.sent.body.messages[1].content, [
      { type: 'text', text: 'Describe' },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
      { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
    ]);
    assert.deepEqual(r.sent.body.tool_choice, { type: 'function', function: { name: 'f' } });
    assert.deepEqual(r.sent.body.response_format, { type: 'json_object' });
    assert.deepEqual(r.sent.body.stop, ['END']);
    assert.equal(r.sent.body.seed, 7);
    assert.equal(r.sent.body.top_p, 0.5);
    assert.equal(r.sent.body.top_k, undefined);
    assert.equal(r.sent.body.presence_penalty, 0.5);
    assert.equal(r.sent.body.frequency_penalty, 1);
    r = await run(anthropic, 'claude', loadFixture('anthropic', 'text-nonstream', 1), req);
    ok(r);
    assert.equal(JSON.stringify(r.sent.body).includes('penalty'), false, 'Anthropic has no penalties');
    assert.equal(r.sent.body.system, 'Be brief.');
    assert.equal(r.sent.body.max_tokens, 4096);
    assert.deepEqual(r.sent.body.tool_choice, { type: 'tool', name: 'f' });
    assert.deepEqual(r.sent.body.stop_sequences, ['END']);
    assert.equal(r.sent.body.top_k, 3);
    assert.deepEqual(r.sent.body.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } });
    assert.deepEqual(r.sent.body.messages[0].content[2], { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } });
    assert.ok(r.sent.body.messages.every((m) => m.role !== 'system'));
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('registry', () => {
  test('openai:model needs OPENAI_API_KEY; error names the variable, never a value', () => {
    assert.throws(
      () => resolveModel('openai:gpt-4o', { ANTHROPIC_API_KEY: KEY }),
      (e) => e instanceof AuthenticationError && /OPENAI_API_KEY/.test(e.message) && !e.message.includes(KEY),
    );
    assert.throws(() => resolveModel('anthropic:claude-sonnet-4-5', {}), (e) => e instanceof AuthenticationError && /ANTHROPIC_API_KEY/.test(e.message));
    const m = resolveModel('openai:gpt-4o', { OPENAI_API_KEY: KEY });
    assert.equal(m.provider, 'openai');
    assert.equal(m.modelId, 'gpt-4o');
    const a = resolveModel('anthropic:claude-3-5-haiku-20241022', { ANTHROPIC_API_KEY: KEY });
    assert.equal(a.provider, 'anthropic');
    assert.equal(a.modelId, 'claude-3-5-haiku-20241022');
  });

  test('unknown provider lists the known ones', () => {
    assert.throws(
      () => resolveModel('mystery:model', { OLLAMA_API_BASE: 'http://localhost:11434/v1' }),
      (e) => /Unknown provider 'mystery'/.test(e.message) && /openai, openai-responses, anthropic, google, ollama/.test(e.message) && /MYSTERY_API_BASE/.test(e.message),
    );
    assert.deepEqual(knownProviders({ OLLAMA_API_BASE: 'x', VLLM_API_BASE: 'y', OPENAI_API_BASE: 'z' }), ['openai', 'openai-responses', 'anthropic', 'google', 'ollama', 'vllm']);
  });

  test('a LanguageModel passes through', () => {
    const m = { provider: 'x', modelId: 'y', generate: async () => ({}) };
    assert.equal(resolveModel(m), m);
  });

  test('aliases LM_MODEL_<ALIAS> resolve, then hit OPENAI_BASE_URL', async () => {
    const env = { LM_MODEL_FAST: 'openai:gpt-4o-mini', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${srv.url}/v1` };
    const m = resolveModel('fast', env);
    assert.equal(m.provider, 'openai');
    assert.equal(m.modelId, 'gpt-4o-mini');
    srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
    const i = srv.requests.length;
    const res = await m.generate({ messages: [{ role: 'user', content: 'hi' }], stream: false }, {});
    assert.equal(res.usage.totalTokens, 44);
    assert.equal(srv.requests[i].body.model, 'gpt-4o-mini');
    assert.equal(srv.requests[i].headers.authorization, `Bearer ${KEY}`);
    assert.throws(() => resolveModel('slow', env), /LM_MODEL_SLOW/);
  });

  test('custom OpenAI-compatible provider from {NAME}_API_BASE / _API_TYPE / _API_KEY', async () => {
    const env = { OLLAMA_API_BASE: `${srv.url}/v1`, OLLAMA_API_TYPE: 'openai' };
    const m = resolveModel('ollama:qwen3', env);
    assert.equal(m.provider, 'ollama');
    assert.equal(m.modelId, 'qwen3');
    assert.equal(resolveModel('ollama:gpt-oss:120b', env).modelId, 'gpt-oss:120b');
    srv.enqueue(loadFixture('openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', 2));
    const i = srv.requests.length;
    const res = await m.generate({ messages: [{ role: 'user', content: 'hi' }], stream: false, params: { maxOutputTokens: 10 } }, {});
    assert.equal(res.finishReason, 'stop');
    assert.equal(srv.requests[i].path, '/v1/chat/completions');
    assert.equal(srv.requests[i].headers.authorization, undefined);
    assert.equal(srv.requests[i].body.max_tokens, 10);
    const keyed = resolveModel('groq:llama', { GROQ_API_BASE: 'https://example.invalid/v1', GROQ_API_KEY: KEY });
    assert.equal(keyed.provider, 'groq');
    assert.throws(() => resolveModel('x:y', { X_API_BASE: 'http://a', X_API_TYPE: 'soap' }), /X_API_TYPE/);
  });

  test('createOpenAI / createAnthropic read OPENAI_BASE_URL / ANTHROPIC_BASE_URL from process.env', async () => {
    const saved = [process.env.OPENAI_BASE_URL, process.env.ANTHROPIC_BASE_URL];
    process.env.OPENAI_BASE_URL = `${srv.url}/v1`;
    process.env.ANTHROPIC_BASE_URL = `${srv.url}/v1`;
    try {
      srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
      const r1 = await createOpenAI({ apiKey: KEY })('gpt-3.5-turbo').generate({ messages: [{ role: 'user', content: 'x' }], stream: false }, {});
      assert.equal(r1.usage.totalTokens, 44);
      srv.enqueue(loadFixture('anthropic', 'text-nonstream', 1));
      const r2 = await createAnthropic({ apiKey: KEY })('claude').generate({ messages: [{ role: 'user', content: 'x' }], stream: false }, {});
      assert.equal(r2.usage.totalTokens, 48);
    } finally {
      if (saved[0] === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved[0];
      if (saved[1] === undefined) delete process.env.ANTHROPIC_BASE_URL;
      else process.env.ANTHROPIC_BASE_URL = saved[1];
    }
  });
});
