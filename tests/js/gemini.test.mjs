// Google Gemini provider: the recorded exchanges in tests/fixtures/providers/gemini replayed over
// loopback (also split at random byte boundaries), request shapes checked against the recorded
// requests, and hand-written bodies for what the recordings do not cover (thinking, safety, errors).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY, callModel, ok, textOf, deltaText, checkStreamedToolCalls, assertNoSecret, sse, response } from './helpers/provider-calls.mjs';
import { createGoogle } from '../../dist/providers/google.js';
import { resolveModel } from '../../dist/providers/registry.js';
import { toGeminiSchema } from '../../dist/providers/google-schema.js';
import { AuthenticationError, ContextLengthError, ProviderError, RateLimitError, ValidationError } from '../../dist/errors.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const gemini = (id, options) => createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })(id, options);
const call = (id, fx, req, serveOpts, genOpts, options) => callModel(srv, gemini(id, options), fx, req, serveOpts, genOpts);

// The recorded parallel-tool exchange uses the same tools and question as the Anthropic and Ollama ones.
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

describe('gemini recorded exchanges', () => {
  test('text-nonstream: generateContent, x-goog-api-key header, usage with thoughts', async () => {
    const r = await call('gemini-2.5-flash', ['gemini', 'text-nonstream', 1], { messages: [{ role: 'user', content: "What's 2 + 2?" }], stream: false });
    assert.deepEqual(ok(r), {
      content: [{ type: 'text', text: '2 + 2 = **4**' }],
      finishReason: 'stop',
      rawFinishReason: 'STOP',
      usage: { inputTokens: 10, outputTokens: 31, totalTokens: 41, reasoningTokens: 23 },
      modelId: 'gemini-2.5-flash',
      responseId: 'Cr-FaqLbNpfYkdUP-bmpoAw',
    });
    assert.deepEqual(r.sent.body, r.fx.request);
    assert.equal(r.sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(r.sent.headers['x-goog-api-key'], KEY);
    assert.equal(r.sent.headers.authorization, undefined);
    assert.ok(!r.sent.path.includes(KEY), 'the key is never put in the URL');
    assert.deepEqual(r.deltas, []);
  });

  const parisReq = {
    messages: [
      { role: 'system', content: 'You are a helpful chatbot.' },
      { role: 'user', content: 'What is the capital of France?' },
    ],
    params: { temperature: 0 },
    stream: true,
  };
  const parisExpected = {
    content: [{ type: 'text', text: 'The capital of France is Paris.\n' }],
    finishReason: 'stop',
    rawFinishReason: 'STOP',
    usage: { inputTokens: 13, outputTokens: 8, totalTokens: 21 },
    modelId: 'gemini-2.0-flash-exp',
    responseId: 'w1peaMz6INOvnvgPgYfPiQY',
  };

  test('text-stream-sse: streamGenerateContent?alt=sse, CRLF framing, system instruction', async () => {
    const r = await call('gemini-2.0-flash-exp', ['gemini', 'text-stream-sse', 1], parisReq);
    assert.deepEqual(ok(r), parisExpected);
    assert.deepEqual(r.deltas, [
      { type: 'text-delta', text: 'The' },
      { type: 'text-delta', text: ' capital of France' },
      { type: 'text-delta', text: ' is Paris.\n' },
    ]);
    assert.equal(r.sent.path, '/v1beta/models/gemini-2.0-flash-exp:streamGenerateContent?alt=sse');
    assert.equal(r.sent.headers.accept, 'text/event-stream');
    const { systemInstruction, ...rest } = r.sent.body;
    const { systemInstruction: recordedSystem, ...recordedRest } = r.fx.request;
    assert.deepEqual(rest, recordedRest);
    // the recording client also sent role "user" inside systemInstruction, which the API ignores
    assert.deepEqual(systemInstruction, { parts: recordedSystem.parts });
  });

  test('text-stream-sse split at random byte boundaries', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = await call('gemini-2.0-flash-exp', ['gemini', 'text-stream-sse', 1], parisReq, { seed, maxChunk: 1 + seed * 7, maxDelayMs: seed % 3 });
      assert.deepEqual(ok(r), parisExpected, `seed ${seed}`);
      assert.equal(deltaText(r.deltas), textOf(parisExpected));
    }
  });

  test('parallel function calls, two turns: schemas converted, thoughtSignature kept and sent back', async () => {
    const r1 = await call('gemini-2.5-flash', ['gemini', 'parallel-function-calls-nonstream', 1], {
      messages: [{ role: 'user', content: question }],
      tools: [weather, bestLanguage],
      stream: false,
    });
    const res1 = ok(r1);
    // the converted declarations (upper-case types, additionalProperties/strict dropped) equal the recording's
    assert.deepEqual(r1.sent.body, r1.fx.request);
    const signature = JSON.parse(r1.fx.body.toString('utf8')).candidates[0].content.parts[0].thoughtSignature;
    assert.equal(res1.content.length, 2);
    const [c1, c2] = res1.content;
    assert.equal(c1.type, 'tool-call');
    assert.equal(c1.toolName, 'weather');
    assert.deepEqual(c1.args, { latitude: '52.5200', longitude: '13.4050' });
    assert.equal(c1.argsText, '{"latitude":"52.5200","longitude":"13.4050"}');
    assert.equal(c1.signature, signature);
    assert.equal(c1.signedBy, 'google');
    assert.deepEqual({ ...c2, toolCallId: 'x' }, { type: 'tool-call', toolCallId: 'x', toolName: 'best_language_to_learn', args: {}, argsText: '{}' });
    assert.match(c1.toolCallId, /^gemini-call-\d+$/);
    assert.notEqual(c1.toolCallId, c2.toolCallId);
    assert.equal(res1.finishReason, 'tool-calls');
    assert.equal(res1.rawFinishReason, 'STOP');
    assert.deepEqual(res1.usage, { inputTokens: 143, outputTokens: 153, totalTokens: 296, reasoningTokens: 109 });

    // Turn 2: the assistant turn exactly as returned, then the tool results.
    const r2 = await call('gemini-2.5-flash', ['gemini', 'parallel-function-calls-nonstream', 2], {
      messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: res1.content },
        {
          role: 'tool',
          content: [
            { type: 'tool-result', toolCallId: c1.toolCallId, toolName: 'weather', result: 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h' },
            { type: 'tool-result', toolCallId: c2.toolCallId, toolName: 'best_language_to_learn', result: 'Ruby' },
          ],
        },
      ],
      tools: [weather, bestLanguage],
      stream: false,
    });
    const res2 = ok(r2);
    assert.equal(textOf(res2), 'The weather in Berlin (52.5200, 13.4050) is 15°C with a wind of 10 km/h. The best language to learn is Ruby.');
    assert.equal(res2.finishReason, 'stop');
    assert.deepEqual(res2.usage, { inputTokens: 277, outputTokens: 47, totalTokens: 324 });
    const sent = r2.sent.body;
    const recorded = r2.fx.request;
    assert.deepEqual(sent.tools, recorded.tools);
    assert.deepEqual(sent.generationConfig, recorded.generationConfig);
    assert.deepEqual(sent.contents[0], recorded.contents[0]);
    // the model turn: the first call carries its signature back, made-up ids are not sent
    assert.equal(sent.contents[1].role, 'model');
    assert.deepEqual(sent.contents[1].parts[0], recorded.contents[1].parts[0]);
    // the recording client copied the signature onto the second call too; Gemini gave it only to the first
    assert.deepEqual(sent.contents[1].parts[1], { functionCall: recorded.contents[1].parts[1].functionCall });
    // function responses: same names and order; the payload uses the documented `output` key
    assert.equal(sent.contents[2].role, 'user');
    assert.deepEqual(
      sent.contents[2].parts.map((p) => p.functionResponse.name),
      recorded.contents[2].parts.map((p) => p.functionResponse.name),
    );
    assert.deepEqual(sent.contents[2].parts.map((p) => p.functionResponse.response), [
      { output: recorded.contents[2].parts[0].functionResponse.response.content[0].text },
      { output: 'Ruby' },
    ]);
    assert.equal(sent.contents.length, 3);
  });

  test('function calls streamed (the recorded answer re-framed as two SSE chunks), split at random', async () => {
    const recorded = JSON.parse(loadFixture('gemini', 'parallel-function-calls-nonstream', 1).body.toString('utf8'));
    const [p1, p2] = recorded.candidates[0].content.parts;
    const chunk1 = { candidates: [{ content: { role: 'model', parts: [p1] }, index: 0 }], modelVersion: recorded.modelVersion, responseId: recorded.responseId };
    const chunk2 = { ...recorded, candidates: [{ ...recorded.candidates[0], content: { role: 'model', parts: [p2] } }] };
    const body = sse([chunk1, chunk2], { eol: '\r\n' });
    for (const seed of [undefined, 11, 12]) {
      const r = await call('gemini-2.5-flash', response(body), { messages: [{ role: 'user', content: question }], tools: [weather, bestLanguage] }, { seed, maxChunk: 9 + (seed % 5) * 6, maxDelayMs: 1 });
      const res = ok(r);
      assert.deepEqual(
        res.content.map((p) => [p.type, p.toolName, p.argsText, p.signature !== undefined]),
        [
          ['tool-call', 'weather', '{"latitude":"52.5200","longitude":"13.4050"}', true],
          ['tool-call', 'best_language_to_learn', '{}', false],
        ],
      );
      assert.equal(res.finishReason, 'tool-calls');
      assert.deepEqual(res.usage, { inputTokens: 143, outputTokens: 153, totalTokens: 296, reasoningTokens: 109 });
      checkStreamedToolCalls(res, r.deltas);
      assert.equal(r.sent.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    }
  });

  test('error-429-resource-exhausted-retryinfo -> RateLimitError with retryAfterMs from RetryInfo', async () => {
    const recorded = loadFixture('gemini', 'error-429-resource-exhausted-retryinfo', 1).request;
    const messages = recorded.contents.map((c) => ({ role: c.role === 'model' ? 'assistant' : 'user', content: c.parts[0].text }));
    const r = await call('gemini-2.5-flash', ['gemini', 'error-429-resource-exhausted-retryinfo', 1], { messages, stream: false });
    assert.ok(r.error instanceof RateLimitError, String(r.error));
    assert.equal(r.error.status, 429);
    assert.equal(r.error.retryAfterMs, 48_000);
    assert.match(r.error.message, /^google: You exceeded your current quota/);
    assert.match(r.error.message, /RESOURCE_EXHAUSTED/);
    assertNoSecret(r.error);
    assert.deepEqual(r.sent.body, recorded);
  });
});

describe('gemini: behaviour beyond the recordings', () => {
  const user = { messages: [{ role: 'user', content: 'hi' }] };

  test('400 API_KEY_INVALID -> AuthenticationError (key redacted); a Retry-After header wins over RetryInfo', async () => {
    const body = {
      error: {
        code: 400,
        message: `API key not valid. Please pass a valid API key. (${KEY})`,
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
      },
    };
    let r = await call('gemini-2.5-flash', response(body, 'application/json', 400), { ...user, stream: false });
    assert.ok(r.error instanceof AuthenticationError, String(r.error));
    assert.equal(r.error.status, 400);
    assert.match(r.error.message, /API key not valid/);
    assertNoSecret(r.error);
    const limited = { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] } };
    r = await call('gemini-2.5-flash', response(limited, 'application/json', 429), { ...user, stream: false });
    assert.equal(r.error.retryAfterMs, 1500);
    r = await call('gemini-2.5-flash', { ...response(limited, 'application/json', 429), headers: { 'content-type': 'application/json', 'retry-after': '3' } }, { ...user, stream: false });
    assert.equal(r.error.retryAfterMs, 3000);
  });

  test('400 token count over the limit -> ContextLengthError', async () => {
    const body = { error: { code: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' } };
    const r = await call('gemini-2.5-flash', response(body, 'application/json', 400), { ...user, stream: false });
    assert.ok(r.error instanceof ContextLengthError, String(r.error));
  });

  test('in-stream error chunk -> typed error keeping the partial text', async () => {
    const body = sse([
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Partial' }] } }] },
      { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } },
    ]);
    const r = await call('gemini-2.5-flash', response(body), user);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, 'Partial');
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /overloaded/);
  });

  test('a stream without a finishReason -> retryable ProviderError naming the missing completion', async () => {
    const body = sse([{ candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] } }] }]);
    const r = await call('gemini-2.5-flash', response(body), user);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.equal(r.error.partialText, 'Hel');
    assert.match(r.error.message, /^google: the stream ended before its completion event \(a chunk with finishReason\)/);
  });

  test('finishReason mapping: MAX_TOKENS, SAFETY, MALFORMED_FUNCTION_CALL, blocked prompt', async () => {
    for (const [raw, expected] of [['MAX_TOKENS', 'length'], ['SAFETY', 'content-filter'], ['RECITATION', 'content-filter'], ['MALFORMED_FUNCTION_CALL', 'error'], ['LANGUAGE', 'other']]) {
      const body = { candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason: raw }] };
      const r = await call('m', response(body, 'application/json'), { ...user, stream: false });
      assert.equal(ok(r).finishReason, expected, raw);
      assert.equal(r.result.rawFinishReason, raw);
    }
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } };
    const r = await call('m', response(sse([blocked])), user);
    assert.deepEqual(ok(r), { content: [], finishReason: 'content-filter', rawFinishReason: 'SAFETY', usage: { inputTokens: 4, outputTokens: 0, totalTokens: 4 } });
  });

  test('thinking: thought parts become reasoning (with signature), cached tokens reported, thinkingConfig sent, thoughts sent back', async () => {
    const body = sse([
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Considering ', thought: true }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'the sum.', thought: true, thoughtSignature: 'c2lnLTE=' }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: '4' }] } }] },
      {
        candidates: [{ content: { role: 'model', parts: [{ text: '', thoughtSignature: 'c2lnLTI=' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 100, cachedContentTokenCount: 64, candidatesTokenCount: 1, thoughtsTokenCount: 9, totalTokenCount: 110 },
      },
    ]);
    const r = await call('gemini-2.5-pro', response(body), { messages: [{ role: 'user', content: '2+2?' }] }, {}, {}, { reasoning: { budgetTokens: 512 } });
    const res = ok(r);
    assert.deepEqual(res.content, [
      { type: 'reasoning', text: 'Considering the sum.', signature: 'c2lnLTE=', signedBy: 'google' },
      { type: 'text', text: '4', signature: 'c2lnLTI=', signedBy: 'google' },
    ]);
    assert.deepEqual(res.usage, { inputTokens: 100, outputTokens: 10, totalTokens: 110, cachedInputTokens: 64, reasoningTokens: 9 });
    assert.equal(deltaText(r.deltas, 'reasoning-delta'), 'Considering the sum.');
    assert.equal(deltaText(r.deltas), '4');
    // One thought part, one block: it starts before its first delta.
    assert.deepEqual(r.deltas.map((d) => d.type), ['reasoning-start', 'reasoning-delta', 'reasoning-delta', 'text-delta']);
    assert.deepEqual(r.sent.body.generationConfig, { thinkingConfig: { includeThoughts: true, thinkingBudget: 512 } });

    // next turn: Gemini's own thought and text go back with their signatures; Anthropic's thinking does not
    const r2 = await call('gemini-2.5-pro', ['gemini', 'text-nonstream', 1], {
      messages: [
        { role: 'user', content: '2+2?' },
        { role: 'assistant', content: [{ type: 'reasoning', text: 'other', signature: 'anthropic-sig', signedBy: 'anthropic' }, ...res.content] },
        { role: 'user', content: 'and 3+3?' },
      ],
      stream: false,
    });
    ok(r2);
    assert.deepEqual(r2.sent.body.contents[1], {
      role: 'model',
      parts: [
        { text: 'Considering the sum.', thought: true, thoughtSignature: 'c2lnLTE=' },
        { text: '4', thoughtSignature: 'c2lnLTI=' },
      ],
    });
  });

  test('structured output: responseMimeType + responseSchema converted; toolChoice -> functionCallingConfig', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        age: { type: ['integer', 'null'], minimum: 0, exclusiveMaximum: 200 },
        kind: { enum: ['a', 'b', null] },
        when: { type: 'string', format: 'date-time' },
        email: { type: 'string', format: 'email' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3, uniqueItems: true },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] },
        ['__proto__']: { type: 'boolean' }, // an ordinary property name, kept
      },
      required: ['name', 'missing'],
      additionalProperties: false,
      $schema: 'http://json-schema.org/draft-07/schema#',
    };
    const r = await call('m', ['gemini', 'text-nonstream', 1], {
      ...user,
      responseFormat: { type: 'json', schema },
      tools: [weather],
      toolChoice: { type: 'tool', toolName: 'weather' },
      params: { maxOutputTokens: 99, topK: 3, topP: 0.5, stopSequences: ['END'], seed: 5, presencePenalty: 0.5, frequencyPenalty: -1 },
      stream: false,
    });
    ok(r);
    const gc = r.sent.body.generationConfig;
    assert.equal(gc.responseMimeType, 'application/json');
    assert.deepEqual(gc.responseSchema, {
      type: 'OBJECT',
      properties: {
        name: { type: 'STRING', minLength: 1 },
        age: { type: 'INTEGER', nullable: true, minimum: 0 },
        kind: { type: 'STRING', nullable: true, enum: ['a', 'b'] },
        when: { type: 'STRING', format: 'date-time' },
        email: { type: 'STRING' },
        tags: { type: 'ARRAY', maxItems: 3, items: { type: 'STRING' } },
        either: { nullable: true, anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] },
        ['__proto__']: { type: 'BOOLEAN' },
      },
      required: ['name'],
    });
    assert.ok(Object.keys(gc.responseSchema.properties).includes('__proto__'));
    assert.deepEqual({ maxOutputTokens: gc.maxOutputTokens, topK: gc.topK, topP: gc.topP, stopSequences: gc.stopSequences, seed: gc.seed, presencePenalty: gc.presencePenalty, frequencyPenalty: gc.frequencyPenalty }, { maxOutputTokens: 99, topK: 3, topP: 0.5, stopSequences: ['END'], seed: 5, presencePenalty: 0.5, frequencyPenalty: -1 });
    assert.deepEqual(r.sent.body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } });
  });

  test('schemas Gemini cannot express -> ValidationError naming the tool, the place and the fix; nothing is sent', async () => {
    const cases = [
      [{ type: 'object', properties: { a: { $ref: '#/definitions/x' } } }, /tool 'bad' parameters at \/properties\/a\/\$ref: \$ref cannot be expressed .* inline the referenced definition/],
      [{ type: 'object', allOf: [{ type: 'object' }] }, /at \/allOf: allOf .*merge the subschemas/],
      [{ type: 'object', properties: { t: { type: 'array', items: [{ type: 'string' }] } } }, /at \/properties\/t\/items: a tuple/],
      [{ type: 'object', properties: { m: { type: 'object', additionalProperties: { type: 'number' } } } }, /at \/properties\/m\/additionalProperties: a map/],
      [{ type: 'object', properties: { n: { enum: [1, 2] } } }, /at \/properties\/n\/enum: an enum of non-string values/],
      [{ type: 'object', properties: { any: {} } }, /at \/properties\/any: a schema without a type/],
      [{ type: 'object', properties: { x: { not: { type: 'string' } } } }, /at \/properties\/x\/not/],
    ];
    for (const [parameters, pattern] of cases) {
      const before = srv.requests.length;
      const err = await gemini('m').generate({ ...user, tools: [{ name: 'bad', parameters }] }, {}).catch((e) => e);
      assert.ok(err instanceof ValidationError, String(err));
      assert.match(err.message, /^google: /);
      assert.match(err.message, pattern);
      assert.equal(srv.requests.length, before, 'no request is made');
    }
    assert.throws(() => toGeminiSchema({ type: 'null' }, 'responseSchema'), /a value that can only be null/);
    assert.deepEqual(toGeminiSchema({ type: ['string', 'number'], description: 'd' }, 'x'), { anyOf: [{ type: 'STRING', description: 'd' }, { type: 'NUMBER', description: 'd' }] });
  });

  test('images: bytes -> inlineData (type detected), URL -> fileData; refused or unknown types -> ValidationError', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const jpegB64 = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1]).toString('base64');
    const r = await call('m', ['gemini', 'text-nonstream', 1], {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', data: png },
            { type: 'image', data: jpegB64 },
            { type: 'image', data: 'https://example.test/cat.webp' },
            { type: 'image', data: 'https://example.test/img?id=3', mediaType: 'image/png' },
          ],
        },
      ],
      stream: false,
    });
    ok(r);
    assert.deepEqual(r.sent.body.contents[0].parts, [
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: Buffer.from(png).toString('base64') } },
      { inlineData: { mimeType: 'image/jpeg', data: jpegB64 } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.test/cat.webp' } },
      { fileData: { mimeType: 'image/png', fileUri: 'https://example.test/img?id=3' } },
    ]);
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]);
    let err = await gemini('m').generate({ messages: [{ role: 'user', content: [{ type: 'image', data: gif }] }] }, {}).catch((e) => e);
    assert.ok(err instanceof ValidationError, String(err));
    assert.match(err.message, /^google: image type image\/gif is not accepted; convert the image to one of image\/png, image\/jpeg, image\/webp/);
    err = await gemini('m').generate({ messages: [{ role: 'user', content: [{ type: 'image', data: 'https://example.test/img' }] }] }, {}).catch((e) => e);
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, /an image URL needs a mediaType/);
  });

  test('registry: google:model with GOOGLE_GENERATIVE_AI_API_KEY or GEMINI_API_KEY, base URL from GOOGLE_API_BASE', async () => {
    assert.throws(
      () => resolveModel('google:gemini-2.5-flash', {}),
      (e) => e instanceof AuthenticationError && /GOOGLE_GENERATIVE_AI_API_KEY or GEMINI_API_KEY/.test(e.message),
    );
    for (const keyVar of ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY']) {
      const m = resolveModel('google:gemini-2.5-flash', { [keyVar]: KEY, GOOGLE_API_BASE: `${srv.url}/v1beta` });
      assert.equal(m.provider, 'google');
      assert.equal(m.modelId, 'gemini-2.5-flash');
      const r = await callModel(srv, m, ['gemini', 'text-nonstream', 1], { messages: [{ role: 'user', content: "What's 2 + 2?" }], stream: false });
      assert.equal(textOf(ok(r)), '2 + 2 = **4**');
      assert.equal(r.sent.headers['x-goog-api-key'], KEY);
    }
    const saved = { base: process.env.GOOGLE_API_BASE, key: process.env.GEMINI_API_KEY };
    process.env.GOOGLE_API_BASE = `${srv.url}/v1beta`;
    process.env.GEMINI_API_KEY = KEY;
    try {
      const r = await callModel(srv, createGoogle()('models/gemini-2.5-flash'), ['gemini', 'text-nonstream', 1], { messages: [{ role: 'user', content: 'x' }], stream: false });
      ok(r);
      assert.equal(r.sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
      assert.equal(r.sent.headers['x-goog-api-key'], KEY);
    } finally {
      for (const [k, v] of [['GOOGLE_API_BASE', saved.base], ['GEMINI_API_KEY', saved.key]]) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
