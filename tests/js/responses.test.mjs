// OpenAI Responses API provider. No recording of it is in the fixtures, so the replayed bodies are
// written here from the API reference's documented streaming event sequence (response.created,
// response.in_progress, response.output_item.added/done, response.content_part.added/done,
// response.output_text.delta/done, response.reasoning_summary_part.added/done,
// response.reasoning_summary_text.delta/done, response.function_call_arguments.delta/done,
// response.completed / response.incomplete / response.failed, error), served over loopback and
// split at random byte boundaries.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startFixtureServer } from './helpers/fixture-server.mjs';
import { MODEL, RESP_ID, responsesStream } from './helpers/responses-stream.mjs';
import { KEY, callModel, ok, textOf, deltaText, checkStreamedToolCalls, assertNoSecret, response } from './helpers/provider-calls.mjs';
import { createOpenAI, createOpenAICompatible, openai } from '../../dist/providers/openai.js';
import { resolveModel } from '../../dist/providers/registry.js';
import { ContextLengthError, ProviderError, RateLimitError, ValidationError } from '../../dist/errors.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const model = (id = 'gpt-4.1', options) => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses(id, options);
const call = (fx, req, serveOpts, genOpts, options, id) => callModel(srv, model(id, options), fx, req, serveOpts, genOpts);


const usage = (input, output, cached = 0, reasoning = 0) => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: cached },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: reasoning },
  total_tokens: input + output,
});

const hello = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ],
  params: { maxOutputTokens: 64, temperature: 0.2, topP: 0.9, stopSequences: ['x'], seed: 3 },
};

describe('responses: streaming', () => {
  const body = responsesStream([{ type: 'message', chunks: ['Hello', ' there', '! 👋'] }], { usage: usage(1200, 5, 1024) });
  const expected = {
    content: [{ type: 'text', text: 'Hello there! 👋' }],
    finishReason: 'stop',
    rawFinishReason: 'completed',
    usage: { inputTokens: 1200, outputTokens: 5, totalTokens: 1205, cachedInputTokens: 1024, reasoningTokens: 0 },
    modelId: MODEL,
    responseId: RESP_ID,
    // `hello` asks for settings the Responses API does not have: left out of the body, reported.
    warnings: ['stopSequences', 'seed'].map((setting) => ({ type: 'unsupported-setting', setting, details: `openai's API has no ${setting}; it was left out of the request` })),
  };

  test('text: deltas, usage with cached tokens, stateless request body', async () => {
    const r = await call(response(body), hello);
    assert.deepEqual(ok(r), expected);
    assert.deepEqual(r.deltas, [
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: ' there' },
      { type: 'text-delta', text: '! 👋' },
    ]);
    assert.equal(r.sent.path, '/v1/responses');
    assert.equal(r.sent.headers.authorization, `Bearer ${KEY}`);
    assert.equal(r.sent.headers.accept, 'text/event-stream');
    assert.deepEqual(r.sent.body, {
      model: 'gpt-4.1',
      input: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      store: false,
      stream: true,
      max_output_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
    });
    assert.ok(!('previous_response_id' in r.sent.body));
  });

  test('text split at random byte boundaries', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await call(response(body), hello, { seed, maxChunk: 3 + seed * 11, maxDelayMs: seed % 2 });
      assert.deepEqual(ok(r), expected, `seed ${seed}`);
      assert.equal(deltaText(r.deltas), 'Hello there! 👋');
    }
  });

  const tools = [
    { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    { name: 'get_time', parameters: { type: 'object', properties: {} } },
  ];
  const callsBody = responsesStream(
    [
      { type: 'function_call', callId: 'call_A1', name: 'get_weather', chunks: ['{"ci', 'ty":', ' "Paris"}'] },
      { type: 'function_call', callId: 'call_B2', name: 'get_time', chunks: ['{}'] },
    ],
    { usage: usage(80, 40) },
  );
  const callsExpected = [
    { type: 'tool-call', toolCallId: 'call_A1', toolName: 'get_weather', args: { city: 'Paris' }, argsText: '{"city": "Paris"}' },
    { type: 'tool-call', toolCallId: 'call_B2', toolName: 'get_time', args: {}, argsText: '{}' },
  ];

  test('function calls: argument deltas per output index, .done authoritative, tools sent non-strict', async () => {
    for (const seed of [undefined, 7, 8]) {
      const r = await call(response(callsBody), { messages: [{ role: 'user', content: 'Weather and time?' }], tools, toolChoice: 'required' }, { seed, maxChunk: 8 + seed * 5, maxDelayMs: 1 });
      const res = ok(r);
      assert.deepEqual(res.content, callsExpected);
      assert.equal(res.finishReason, 'tool-calls');
      checkStreamedToolCalls(res, r.deltas);
      assert.deepEqual(r.deltas.filter((d) => d.type === 'tool-call-delta')[0], { type: 'tool-call-delta', index: 0, toolCallId: 'call_A1', toolName: 'get_weather', argsTextDelta: '' });
      assert.deepEqual(r.sent.body.tools, [
        { type: 'function', name: 'get_weather', description: 'Weather of a city', parameters: tools[0].parameters, strict: false },
        { type: 'function', name: 'get_time', parameters: tools[1].parameters, strict: false },
      ]);
      assert.equal(r.sent.body.tool_choice, 'required');
    }
  });

  test('arguments only in .done (no deltas) still reach the deltas and the result', async () => {
    const b = responsesStream([{ type: 'function_call', callId: 'call_Z', name: 'get_time', chunks: [] }], { usage: usage(1, 1) }).replace(
      /"response\.function_call_arguments\.done","sequence_number":(\d+),"item_id":"([^"]+)","output_index":0,"arguments":""/,
      '"response.function_call_arguments.done","sequence_number":$1,"item_id":"$2","output_index":0,"arguments":"{\\"tz\\":\\"UTC\\"}"',
    );
    const r = await call(response(b), { messages: [{ role: 'user', content: 't' }], tools });
    // output_item.done and response.completed still carry the empty arguments of the writer above;
    // the .done event's text is what the deltas report
    assert.equal(r.deltas.filter((d) => d.type === 'tool-call-delta').map((d) => d.argsTextDelta).join(''), '{"tz":"UTC"}');
  });

  const reasoningBody = responsesStream(
    [
      { type: 'reasoning', summaries: [['**Planning**', ' the answer'], ['Checking ', 'units']], encrypted: 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=' },
      { type: 'function_call', callId: 'call_R', name: 'get_weather', chunks: ['{"city":"Oslo"}'] },
    ],
    { usage: usage(300, 200, 0, 128) },
  );

  test('reasoning: summary deltas as reasoning-delta, encrypted content kept as the signature, request asks for it', async () => {
    for (const seed of [undefined, 21]) {
      const r = await call(response(reasoningBody), { messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools }, { seed, maxChunk: 29, maxDelayMs: 1 }, {}, { reasoning: { effort: 'low' } }, 'o4-mini');
      const res = ok(r);
      assert.deepEqual(res.content[0], {
        type: 'reasoning',
        text: '**Planning** the answer\n\nChecking units',
        signedBy: 'openai-responses',
        itemId: 'rs_06876cf02e0bc8192b74af0fb64b715ff',
        signature: 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=',
      });
      assert.equal(deltaText(r.deltas, 'reasoning-delta'), '**Planning** the answer\n\nChecking units');
      assert.deepEqual(res.usage, { inputTokens: 300, outputTokens: 200, totalTokens: 500, cachedInputTokens: 0, reasoningTokens: 128 });
      assert.deepEqual(r.sent.body.reasoning, { effort: 'low', summary: 'auto' });
      assert.deepEqual(r.sent.body.include, ['reasoning.encrypted_content']);
      assert.equal(r.sent.body.store, false);
    }
  });

  test('the next turn sends reasoning, function_call and function_call_output items in order', async () => {
    const first = ok(await call(response(reasoningBody), { messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools }, {}, {}, { reasoning: { effort: 'low' } }, 'o4-mini'));
    const r = await call(
      response(responsesStream([{ type: 'message', chunks: ['Cold.'] }], { usage: usage(400, 2) })),
      {
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: [{ type: 'reasoning', text: 'from another provider', signature: 'x', signedBy: 'anthropic' }, ...first.content] },
          { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_R', toolName: 'get_weather', result: { tempC: -3 } }] },
        ],
        tools,
      },
      {},
      {},
      { reasoning: { effort: 'low' } },
      'o4-mini',
    );
    assert.equal(textOf(ok(r)), 'Cold.');
    assert.deepEqual(r.sent.body.input, [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        type: 'reasoning',
        id: 'rs_06876cf02e0bc8192b74af0fb64b715ff',
        summary: [{ type: 'summary_text', text: '**Planning** the answer\n\nChecking units' }],
        encrypted_content: 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=',
      },
      { type: 'function_call', call_id: 'call_R', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'call_R', output: '{"tempC":-3}' },
    ]);
  });

  test('response.incomplete (max_output_tokens) -> finish length', async () => {
    const b = responsesStream([{ type: 'message', chunks: ['Once upon'] }], {
      usage: usage(10, 16),
      end: 'response.incomplete',
      status: 'incomplete',
      incomplete: { reason: 'max_output_tokens' },
    });
    const res = ok(await call(response(b), hello));
    assert.equal(res.finishReason, 'length');
    assert.equal(res.rawFinishReason, 'max_output_tokens');
    assert.equal(textOf(res), 'Once upon');
  });

  test('response.failed and error events -> typed errors with the partial text', async () => {
    let r = await call(response(responsesStream([{ type: 'message', chunks: ['Part'] }], { end: 'response.failed' })), hello);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.equal(r.error.partialText, 'Part');
    assert.match(r.error.message, /^openai: The model failed to generate a response\. \(stream error, server_error\)/);
    const errEvent = (code, message) =>
      responsesStream([{ type: 'message', chunks: ['Pa'] }], { cut: 1 }) + `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, sequence_number: 9 })}\n\n`;
    r = await call(response(errEvent('rate_limit_exceeded', 'Rate limit reached for gpt-4.1')), hello);
    assert.ok(r.error instanceof RateLimitError, String(r.error));
    r = await call(response(errEvent('context_length_exceeded', 'Your input exceeds the context window of this model.')), hello);
    assert.ok(r.error instanceof ContextLengthError, String(r.error));
    r = await call(response(errEvent(null, `bad key ${KEY}`)), hello);
    assert.ok(r.error instanceof ProviderError);
    assert.equal(r.error.retryable, false);
    assertNoSecret(r.error);
  });

  test('a stream that ends without response.completed -> retryable ProviderError naming it', async () => {
    const r = await call(response(responsesStream([{ type: 'message', chunks: ['Hel', 'lo'] }], { cut: 1 })), hello);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.equal(r.error.partialText, 'Hello');
    assert.match(r.error.message, /completion event \(response\.completed\)/);
  });
});

describe('responses: whole responses and request mapping', () => {
  const whole = {
    id: 'resp_1',
    object: 'response',
    status: 'completed',
    model: MODEL,
    output: [
      { id: 'rs_1', type: 'reasoning', summary: [] },
      { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '{"answer":4}', annotations: [] }] },
    ],
    usage: usage(20, 8, 0, 4),
  };

  test('non-streamed JSON, structured output through text.format json_schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    const r = await call(response(whole, 'application/json'), { messages: [{ role: 'user', content: '2+2' }], responseFormat: { type: 'json', schema, name: 'sum' }, stream: false });
    assert.deepEqual(ok(r), {
      content: [{ type: 'text', text: '{"answer":4}' }],
      finishReason: 'stop',
      rawFinishReason: 'completed',
      usage: { inputTokens: 20, outputTokens: 8, totalTokens: 28, cachedInputTokens: 0, reasoningTokens: 4 },
      modelId: MODEL,
      responseId: 'resp_1',
    });
    assert.deepEqual(r.sent.body.text, { format: { type: 'json_schema', name: 'sum', schema, strict: true } });
    assert.equal(r.sent.body.stream, undefined);
    const r2 = await call(response(whole, 'application/json'), { messages: [{ role: 'user', content: 'x' }], responseFormat: { type: 'json' }, stream: false });
    assert.deepEqual(r2.sent.body.text, { format: { type: 'json_object' } });
  });

  test('a failed response object and an HTTP error body -> typed errors', async () => {
    let r = await call(response({ ...whole, status: 'failed', error: { code: 'server_error', message: 'boom' } }, 'application/json'), { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof ProviderError);
    assert.equal(r.error.retryable, true);
    const limit = { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
    r = await call({ ...response(limit, 'application/json', 429), headers: { 'content-type': 'application/json', 'retry-after': '2' } }, { messages: [{ role: 'user', content: 'x' }], stream: false });
    assert.ok(r.error instanceof RateLimitError);
    assert.equal(r.error.retryAfterMs, 2000);
  });

  test('input items: user images, tool choice by name, system messages in place; refused image type', async () => {
    const r = await call(response(whole, 'application/json'), {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', data: new Uint8Array([0xff, 0xd8, 0xff, 0xdb]) }, { type: 'image', data: 'https://x.test/a.png' }] },
        { role: 'assistant', content: 'A cat.' },
        { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'And now?' },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      toolChoice: { type: 'tool', toolName: 'f' },
      stream: false,
    });
    ok(r);
    assert.deepEqual(r.sent.body.input, [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: 'data:image/jpeg;base64,/9j/2w==', detail: 'auto' },
          { type: 'input_image', image_url: 'https://x.test/a.png', detail: 'auto' },
        ],
      },
      { role: 'assistant', content: 'A cat.' },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'And now?' },
    ]);
    assert.deepEqual(r.sent.body.tool_choice, { type: 'function', name: 'f' });
    const err = await model().generate({ messages: [{ role: 'user', content: [{ type: 'image', data: 'AAAA', mediaType: 'image/tiff' }] }] }, {}).catch((e) => e);
    assert.ok(err instanceof ValidationError, String(err));
    assert.match(err.message, /^openai: image type image\/tiff is not accepted; convert the image to one of image\/png, image\/jpeg, image\/gif, image\/webp/);
  });

  test('store: true keeps reasoning ids without encrypted content; without store they are dropped', async () => {
    const turn = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: [{ type: 'reasoning', text: '', itemId: 'rs_9', signedBy: 'openai-responses' }, { type: 'text', text: 'a' }] },
      { role: 'user', content: 'q2' },
    ];
    let r = await call(response(whole, 'application/json'), { messages: turn, stream: false }, {}, {}, { store: true });
    assert.equal(r.sent.body.store, true);
    assert.deepEqual(r.sent.body.input[1], { type: 'reasoning', id: 'rs_9', summary: [] });
    r = await call(response(whole, 'application/json'), { messages: turn, stream: false });
    assert.deepEqual(r.sent.body.input.map((i) => i.type ?? i.role), ['user', 'assistant', 'user']);
  });

  test('openai-responses:model, openai.responses(), compatible servers and {NAME}_API_TYPE=openai-responses', async () => {
    const body = responsesStream([{ type: 'message', chunks: ['ok'] }], { usage: usage(1, 1) });
    const viaRegistry = resolveModel('openai-responses:gpt-5', { OPENAI_API_KEY: KEY, OPENAI_API_BASE: `${srv.url}/v1` });
    assert.equal(viaRegistry.provider, 'openai');
    let r = await callModel(srv, viaRegistry, response(body), hello);
    assert.equal(textOf(ok(r)), 'ok');
    assert.equal(r.sent.path, '/v1/responses');
    assert.equal(r.sent.body.model, 'gpt-5');

    const custom = resolveModel('vllm:gpt-oss-20b', { VLLM_API_BASE: `${srv.url}/v1`, VLLM_API_TYPE: 'openai-responses' });
    r = await callModel(srv, custom, response(body), hello);
    assert.equal(textOf(ok(r)), 'ok');
    assert.equal(r.sent.path, '/v1/responses');
    assert.equal(r.sent.headers.authorization, undefined);
    assert.equal(custom.provider, 'vllm');

    const compat = createOpenAICompatible({ name: 'lmstudio', baseURL: `${srv.url}/api/v1` }).responses('qwen3');
    r = await callModel(srv, compat, response(body), hello);
    assert.equal(r.sent.path, '/api/v1/responses');

    const saved = { base: process.env.OPENAI_API_BASE, key: process.env.OPENAI_API_KEY };
    process.env.OPENAI_API_BASE = `${srv.url}/v1`;
    process.env.OPENAI_API_KEY = KEY;
    try {
      r = await callModel(srv, openai.responses('gpt-5-mini'), response(body), hello);
      assert.equal(textOf(ok(r)), 'ok');
      assert.equal(r.sent.headers.authorization, `Bearer ${KEY}`);
    } finally {
      for (const [k, v] of [['OPENAI_API_BASE', saved.base], ['OPENAI_API_KEY', saved.key]]) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
