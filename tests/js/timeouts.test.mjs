// The AI SDK 7's `timeout` object (js/run/timeouts.ts): totalMs, stepMs, toolMs and tools laid onto
// lmthing's own limits, and firstChunkMs / chunkMs watching a streamed model call — over real HTTP
// from a loopback server that stops writing a recorded OpenAI stream midway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createOpenAI, L, mockModel, run, runPrompt, TimeoutError } from '../../dist/node.js';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY } from './helpers/provider-calls.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const stream = () => loadFixture('openai-chat', 'text-stream-include-usage');
/** The body's length up to the end of its `n`th event (the first is the role alone, which is no chunk; then one text chunk each). */
function afterEvent(body, n) {
  let at = 0;
  for (let i = 0; i < n; i++) at = body.indexOf('\n\n', at) + 2;
  return at;
}

test('chunkMs: a stream that stops after its first text fails with a TimeoutError naming the limit; the text shown is not sent again', async () => {
  const answer = stream();
  srv.enqueue(answer, { hangAfter: afterEvent(answer.body.toString('utf8'), 2) });
  const before = srv.requests.length;
  const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-3.5-turbo');
  const started = performance.now();
  const { result } = await runPrompt({ model, prompt: 'Count', timeout: { chunkMs: 150 } });
  await assert.rejects(result.text, (e) => e instanceof TimeoutError && e.message === 'model "openai:gpt-3.5-turbo": no chunk after chunk 1 within 150 ms (timeout.chunkMs)');
  assert.ok(performance.now() - started < 5000, 'the watch, not the provider\'s 5-minute idle timeout, ended the call');
  assert.equal(srv.requests.length - before, 1, 'its text reached the stream: the call was not tried again');
});

test('firstChunkMs: a call with no first chunk in time is tried again (a timeout is retryable); the second answers', async () => {
  const answer = stream();
  srv.enqueue(answer, { hangBeforeHeaders: true });
  srv.enqueue(answer);
  const before = srv.requests.length;
  const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-3.5-turbo');
  const events = [];
  const text = await runPrompt(
    (ctx) => {
      ctx.defRetry('soon', { maxAttempts: 2, backoff: 'constant', baseDelay: 10 });
      ctx.$`Count`;
    },
    { model, retry: 'soon', timeout: { firstChunkMs: 200, chunkMs: 5000 }, onEvent: (e) => events.push(e) },
  ).then(({ result }) => result.text);
  assert.match(text, /^1/);
  assert.equal(srv.requests.length - before, 2);
  const retry = events.find((e) => e.type === 'retry');
  assert.match(retry.error.message ?? JSON.stringify(retry), /no first chunk within 200 ms \(timeout\.firstChunkMs\)/);
});

test('totalMs, stepMs, toolMs and tools become timeout, modelTimeout, toolTimeout and a tool\'s own limit', async () => {
  const slow = { provider: 'slow', modelId: 's', generate: (_, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) };
  const total = runPrompt({ model: slow, prompt: 'x', maxRetries: 0, timeout: { totalMs: 100 } }).text;
  await assert.rejects(total, (e) => e instanceof TimeoutError);
  const step = runPrompt({ model: slow, prompt: 'x', maxRetries: 0, timeout: { stepMs: 100 } }).text;
  await assert.rejects(step, (e) => e instanceof TimeoutError && /model/.test(e.message));

  const hang = () => new Promise(() => {});
  const calls = () => mockModel([{ type: 'tool-call', toolName: 'slowTool', args: {} }, { type: 'tool-call', toolName: 'other', args: {} }, { type: 'text', text: 'done' }]);
  const tools = { slowTool: { description: 'hangs', inputSchema: { type: 'object' }, execute: hang }, other: { description: 'hangs too', inputSchema: { type: 'object' }, execute: hang } };
  const { result } = await runPrompt({ model: calls(), prompt: 'x', tools, timeout: { toolMs: 5000, tools: { slowToolMs: 100, otherMs: 150 } } });
  assert.equal(await result.text, 'done');
  const results = (await result.steps).flatMap((s) => s.toolResults);
  assert.deepEqual(results.map((r) => [r.toolName, r.isError, /100 ms|150 ms/.exec(JSON.stringify(r.result))?.[0]]), [['slowTool', true, '100 ms'], ['other', true, '150 ms']]);
});

test('a bad timeout object is a ConfigError naming what is wrong', async () => {
  const model = mockModel([{ type: 'text', text: 'x' }]);
  const rejects = (config, pattern) => assert.rejects(runPrompt({ model, prompt: 'x', ...config }).text, (e) => e instanceof ConfigError && pattern.test(e.message), pattern.source);
  await rejects({ timeout: { chunkMS: 5 } }, /runPrompt config: timeout: unknown option 'chunkMS' \(did you mean 'chunkMs'\?/);
  await rejects({ timeout: { stepMs: 5 }, modelTimeout: 5 }, /give 'timeout\.stepMs' or 'modelTimeout' \(two names of one limit\), not both/);
  await rejects({ timeout: { firstChunkMs: -1 } }, /'firstChunkMs' must be a number of milliseconds > 0/);
  await rejects({ timeout: 'soon' }, /'timeout' must be a number of milliseconds > 0 \(at most 1e12\) or an object/);
  await rejects({ timeout: { tools: { wether: 5 } } }, /timeout\.tools: 'wether' must be a tool's name followed by 'Ms'/);
  await rejects({ timeout: { tools: { wetherMs: 5 } }, tools: { weather: { description: 'w', inputSchema: { type: 'object' }, execute: () => 'x' } } }, /timeout\.tools: unknown tool "wether" \(did you mean "weather"\?/);
  await assert.rejects(run(function* () {
    yield* L.user`x`;
  }, { models: { default: model }, timeout: { tools: { weatherMs: 5 } } }), (e) => e instanceof ConfigError && /run config: timeout\.tools: a run's tools come as its agent enables them/.test(e.message));
});

test('a directive run takes the object too: chunkMs watches its replies', async () => {
  const answer = stream();
  srv.enqueue(answer, { hangAfter: afterEvent(answer.body.toString('utf8'), 3) });
  const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-3.5-turbo');
  await assert.rejects(run(function* () {
    yield* L.user`Count`;
    return (yield* L.reply).value;
  }, { models: { default: model }, timeout: { chunkMs: 150 } }), (e) => e instanceof TimeoutError && /no chunk after chunk 2 within 150 ms \(timeout\.chunkMs\)/.test(e.message));
});

test('the chunk timeouts count from the request: an onLanguageModelCallStart that takes longer does not use them up', async () => {
  srv.enqueue(stream());
  const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-3.5-turbo');
  const slowStart = () => new Promise((resolve) => setTimeout(resolve, 300));
  const text = await runPrompt({ model, prompt: 'Count', maxRetries: 0, timeout: { firstChunkMs: 200 }, onLanguageModelCallStart: slowStart }).text;
  assert.match(text, /^1/);
});
