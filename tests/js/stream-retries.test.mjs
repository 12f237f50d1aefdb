// runPrompt's streamRetries (src/policy/retry.cpp): a model call that fails after it streamed text
// is retried that many times, apart from maxRetries; the shown text stays in the stream, the
// retried answer is the step's text. Over loopback HTTP with a recorded OpenAI stream cut short.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createOpenAI, L, ProviderError, run, runPrompt } from '../../dist/node.js';

/** The recorded stream's SSE events (the response's body after its head). */
const http = readFileSync(new URL('../fixtures/providers/openai-chat/text-stream-include-usage.1.response.http', import.meta.url), 'utf8').replace(/\r\n/g, '\n');
const recorded = http.slice(http.indexOf('\n\n') + 2);
const events = recorded.split(/\n\n/).filter((e) => e.startsWith('data:'));

let server;
let url;
let plan = [];
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const cut = plan.shift() ?? false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (!cut) return res.end(events.map((e) => `${e}\n\n`).join(''));
      // A few content events, then the connection drops.
      res.write(events.slice(0, 4).map((e) => `${e}\n\n`).join(''));
      setTimeout(() => res.destroy(), 20);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}/v1`;
});
after(() => new Promise((resolve) => server.close(resolve)));

const model = () => createOpenAI({ baseURL: url, apiKey: 'sk-test-not-a-real-key' })('gpt-3.5-turbo');

test('a stream cut after its first words is retried under streamRetries: the step\'s text is the whole answer, the stream keeps what was shown', async () => {
  plan = [true, false];
  const retries = [];
  const run = runPrompt({ model: model(), prompt: 'Count', streamRetries: 1, maxRetries: 0, onEvent: (e) => e.type === 'retry' && retries.push(e) });
  const streamed = [];
  for await (const text of run.textStream) streamed.push(text);
  const text = await run.text;
  const whole = events.map((e) => { try { return JSON.parse(e.slice(5)).choices?.[0]?.delta?.content ?? ''; } catch { return ''; } }).join('');
  assert.equal(text, whole, 'the retried answer');
  assert.ok(streamed.join('').length > whole.length && streamed.join('').endsWith(whole), 'the cut text, then the whole answer');
  assert.equal(retries.length, 1);
  assert.equal(retries[0].afterText, true);
  assert.equal((await run.steps).length, 1);
  assert.equal((await run.response).messages.at(-1).content.find?.((p) => p.type === 'text')?.text ?? (await run.response).messages.at(-1).content, whole);
});

test('without streamRetries the cut stream fails the run (text was shown); used up, the last cut does', async () => {
  plan = [true, false];
  await assert.rejects(runPrompt({ model: model(), prompt: 'Count' }).text, (e) => e instanceof ProviderError);
  plan = [true, true, false];
  await assert.rejects(runPrompt({ model: model(), prompt: 'Count', streamRetries: 1 }).text, (e) => e instanceof ProviderError);
  await assert.rejects(runPrompt({ model: model(), prompt: 'Count', streamRetries: -1 }), /'streamRetries' must be an integer from 0 to 100/);
});

test('run(agent, {streamRetries}): a directive reply whose stream was cut is retried the same way', async () => {
  plan = [true, false];
  const text = await run(function* () {
    yield* L.user`Count`;
    return (yield* L.reply).text;
  }, { models: { default: model() }, streamRetries: 1, maxRetries: 0 });
  assert.equal(text, '1, 2, 3, 4, 5');
  plan = [true, false];
  await assert.rejects(run(function* () {
    yield* L.user`Count`;
    return (yield* L.reply).text;
  }, { models: { default: model() }, maxRetries: 0 }), (e) => e instanceof ProviderError);
});
