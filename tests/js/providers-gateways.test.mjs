// Providers behind gateways and compatible servers: headers a factory is given replace the
// provider's own (whatever their case), credentials in any credential-like header stay out of
// errors, in-stream errors with a numeric code (OpenRouter, vLLM) are classified like HTTP ones,
// `strictJsonSchema` turns OpenAI's strict mode off, and a stream reset after its finish keeps the answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startFixtureServer } from './helpers/fixture-server.mjs';
import { KEY, callModel, ok, textOf, response, assertNoSecret, sse } from './helpers/provider-calls.mjs';
import { createAnthropic, createOpenAI, createOpenAICompatible, ProviderError, RateLimitError, runPrompt } from '../../dist/node.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const chunk = (delta, finish = null) => ({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
const answer = sse([chunk({ role: 'assistant', content: 'Hi.' }), chunk({}, 'stop'), '[DONE]']);
const hello = { messages: [{ role: 'user', content: 'Hello' }], stream: true };
const FACTORY_TOKEN = 'gw-token-7f3a9c21e5d84b06aa';

test("a factory's headers replace the provider's key header, whatever their case (one header is sent, the factory's)", async () => {
  for (const name of ['authorization', 'Authorization', 'AUTHORIZATION']) {
    for (const make of [createOpenAI, (o) => createOpenAICompatible({ name: 'gw', ...o })]) {
      const r = await callModel(srv, make({ baseURL: `${srv.url}/v1`, apiKey: KEY, headers: { [name]: `Bearer ${FACTORY_TOKEN}` } })('m'), response(answer), hello);
      assert.equal(textOf(ok(r)), 'Hi.');
      assert.equal(r.sent.headers.authorization, `Bearer ${FACTORY_TOKEN}`);
    }
  }
  const anthropicAnswer = sse([
    { event: 'message_start', data: { type: 'message_start', message: { id: 'msg', model: 'claude', usage: { input_tokens: 1, output_tokens: 0 } } } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi.' } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
  const r = await callModel(srv, createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY, headers: { 'X-Api-Key': FACTORY_TOKEN } })('claude'), response(anthropicAnswer), hello);
  assert.equal(textOf(ok(r)), 'Hi.');
  assert.equal(r.sent.headers['x-api-key'], FACTORY_TOKEN);
});

test("a credential in a gateway's own header is kept out of errors", async () => {
  for (const name of ['x-portkey-api-key', 'ocp-apim-subscription-key', 'x-auth-token', 'cf-aig-authorization']) {
    const echo = { error: { message: `invalid credential ${FACTORY_TOKEN}`, type: 'invalid_request_error' } };
    let r = await callModel(srv, createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY, headers: { [name]: FACTORY_TOKEN } })('m'), response(echo, 'application/json', 401), hello);
    assert.match(r.error.message, /invalid credential \[redacted\]/);
    assertNoSecret(r.error, FACTORY_TOKEN);
    srv.enqueue(response(echo, 'application/json', 401));
    const failed = await runPrompt({ model: createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('m'), prompt: 'Hello', headers: { [name]: FACTORY_TOKEN } }).text.catch((e) => e);
    assertNoSecret(failed, FACTORY_TOKEN);
  }
});

test('in-stream errors with a numeric code are classified as that HTTP status (OpenRouter, vLLM); a bare {object: "error"} chunk is an error', async () => {
  const model = createOpenAICompatible({ name: 'openrouter', baseURL: `${srv.url}/v1`, apiKey: KEY })('m');
  const midStream = (code, message = 'Provider disconnected unexpectedly') => response(sse([chunk({ role: 'assistant', content: 'Hel' }), { error: { code, message } }]));
  let r = await callModel(srv, model, midStream(429), hello);
  assert.ok(r.error instanceof RateLimitError, String(r.error));
  for (const code of [500, 502, 503]) {
    r = await callModel(srv, model, midStream(code), hello);
    assert.ok(r.error instanceof ProviderError && r.error.retryable === true && r.error.status === code, `${code}: ${r.error}`);
    assert.equal(r.error.partialText, 'Hel');
  }
  r = await callModel(srv, model, midStream(400, 'bad request'), hello);
  assert.equal(r.error.retryable, false);
  // vLLM's bare error object, first or after some text.
  const bare = { object: 'error', message: 'The engine is overloaded', type: 'ServiceUnavailableError', param: null, code: 503 };
  r = await callModel(srv, model, response(sse([bare])), hello);
  assert.ok(r.error instanceof ProviderError && r.error.status === 503 && r.error.retryable, String(r.error));
  assert.match(r.error.message, /The engine is overloaded/);
  r = await callModel(srv, model, response(sse([chunk({ role: 'assistant', content: 'Hel' }), bare])), hello);
  assert.ok(r.error instanceof ProviderError && r.error.partialText === 'Hel', String(r.error));
  // A run retries such an error that came before any text, as it does the same HTTP status.
  srv.enqueue(response(sse([{ error: { code: 502, message: 'upstream' } }])));
  srv.enqueue(response(answer));
  assert.equal(await runPrompt({ model, prompt: 'Hello', maxRetries: 1 }).text, 'Hi.');
});

test('providerOptions.openai.strictJsonSchema: false sends the response schema without strict mode (Chat and Responses)', async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, nickname: { type: 'string' } }, required: ['name'] };
  const req = (strict) => ({ ...hello, stream: false, responseFormat: { type: 'json', schema }, ...(strict === undefined ? {} : { providerOptions: { openai: { strictJsonSchema: strict } } }) });
  const json = { id: 'c', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: '{"name":"Ann"}' }, finish_reason: 'stop' }] };
  const chat = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-4o');
  for (const [strict, sent] of [[undefined, true], [false, false], [true, true]]) {
    const r = await callModel(srv, chat, response(json, 'application/json'), req(strict));
    ok(r);
    assert.equal(r.sent.body.response_format.json_schema.strict, sent);
  }
  const responses = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-4o');
  const reply = { id: 'r', object: 'response', status: 'completed', model: 'gpt-4o', output: [{ type: 'message', id: 'm', role: 'assistant', content: [{ type: 'output_text', text: '{"name":"Ann"}' }] }], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } };
  const r = await callModel(srv, responses, response(reply, 'application/json'), req(false));
  ok(r);
  assert.equal(r.sent.body.text.format.strict, false);
});

test("a connection reset after the stream's finish keeps the whole answer", async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse([chunk({ role: 'assistant', content: 'The full answer.' }), chunk({}, 'stop')]));
    setTimeout(() => res.socket.destroy(), 30);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const model = createOpenAI({ baseURL: `http://127.0.0.1:${server.address().port}/v1`, apiKey: KEY })('gpt-4o');
    assert.equal(await runPrompt({ model, prompt: 'Hello', maxRetries: 0 }).text, 'The full answer.');
  } finally {
    server.close();
  }
  // Cut before the finish, the same stream is still a cut connection.
  const cut = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse([chunk({ role: 'assistant', content: 'The full' })]));
    setTimeout(() => res.socket.destroy(), 30);
  });
  await new Promise((resolve) => cut.listen(0, '127.0.0.1', resolve));
  try {
    const model = createOpenAI({ baseURL: `http://127.0.0.1:${cut.address().port}/v1`, apiKey: KEY })('gpt-4o');
    const error = await runPrompt({ model, prompt: 'Hello', maxRetries: 0 }).text.catch((e) => e);
    assert.ok(error instanceof ProviderError && error.retryable, String(error));
  } finally {
    cut.close();
  }
});
