// The provider's metadata of an answer, as the AI SDK's `response.id`, `timestamp` and `headers`
// (docs/prompt-runs.md, "Result"): recorded OpenAI and Anthropic responses replayed over loopback
// HTTP, through each step's `response` to `result.response`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAnthropic, createOpenAI, mockModel, runPrompt } from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

const KEY = 'sk-test-not-a-real-key-000000000000';
let server;
before(async () => {
  server = await startFixtureServer();
});
after(() => server.close());

test("OpenAI, streamed: the response's id, its `created` time and its headers, on the step and on result.response", async () => {
  server.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1));
  const { result } = await runPrompt({ model: createOpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY })('gpt-3.5-turbo'), prompt: 'count' });
  const response = await result.response;
  assert.equal(response.id, 'chatcmpl-C6bjxzOr3Oz1rTiafksd6himIit3q');
  assert.ok(response.timestamp instanceof Date);
  assert.equal(response.timestamp.toISOString(), '2025-08-20T11:57:57.000Z', "the chunks' `created`");
  assert.equal(response.modelId, 'gpt-3.5-turbo', 'the configured id (prices and caches are keyed by it)');
  assert.equal(response.headers['x-request-id'], 'req_87b8e5a94cce414688e29d59b127eb67');
  assert.equal(response.headers['x-ratelimit-remaining-requests'], '9999');
  assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
  const [step] = await result.steps;
  assert.deepEqual(step.response, { id: response.id, timestamp: Date.parse('2025-08-20T11:57:57Z'), headers: response.headers });
});

test("Anthropic, a JSON answer: the message's id, the time its headers arrived, and no cookies", async () => {
  const fixture = loadFixture('anthropic', 'text-nonstream', 1);
  server.enqueue({ ...fixture, headers: [...fixture.headers, ['Set-Cookie', '__cf_bm=secret-session; path=/']] });
  const before = Date.now();
  const { result } = await runPrompt({ model: createAnthropic({ baseURL: `${server.url}/v1`, apiKey: KEY })('claude-3-opus-20240229'), prompt: 'hi' });
  await result.text;
  const response = await result.response;
  assert.equal(response.id, 'msg_014pVpaDLxzAdWjwpuN7rQQX');
  assert.ok(response.timestamp.getTime() >= before && response.timestamp.getTime() <= Date.now(), 'Anthropic sends no time of its own');
  assert.equal(response.headers['request-id'], 'req_011CSFCDzbeWe2qGKAeNMhfZ');
  assert.equal(response.headers['set-cookie'], undefined);
  assert.doesNotMatch(JSON.stringify(await result.steps), /secret-session/);
});

test('a model that says nothing about its answer (mockModel) leaves the fields out', async () => {
  const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'hi' });
  const response = await result.response;
  assert.deepEqual(Object.keys(response).sort(), ['messages', 'modelId']);
  assert.equal((await result.steps)[0].response, undefined);
});

test("a custom model's metadata: a Date as the AI SDK's models give it is kept as ms on the step", async () => {
  const model = {
    provider: 'mine',
    modelId: 'm1',
    generate: async () => ({ content: [{ type: 'text', text: 'ok' }], finishReason: 'stop', responseId: 'r-1', timestamp: new Date('2026-12-01T10:00:00Z'), headers: { 'x-trace': 't1' } }),
  };
  const { result } = await runPrompt({ model, prompt: 'hi' });
  const response = await result.response;
  assert.deepEqual([response.id, response.timestamp.toISOString(), response.headers], ['r-1', '2026-12-01T10:00:00.000Z', { 'x-trace': 't1' }]);
  assert.equal((await result.steps)[0].response.timestamp, Date.parse('2026-12-01T10:00:00Z'));
});
