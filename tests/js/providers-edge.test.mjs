// The provider edge under bad or odd servers (issue 11): a 200 answer that is an HTML page (or any
// body that is neither SSE nor JSON), {NAME}_API_BASE for the built-in providers, and the idle
// timeout of streamed calls (keep-alive comments and pings are not content).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY, callModel, ok, textOf, response, assertNoSecret, sse } from './helpers/provider-calls.mjs';
import {
  AbortError, ConfigError, createAnthropic, createEngine, createGoogle, createOpenAI, createOpenAICompatible, ProviderError, resolveModel, runPrompt, TimeoutError, ValidationError, VirtualClock,
} from '../../dist/node.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const openai = (options) => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-4o', options);
const count = { messages: [{ role: 'user', content: 'Count from 1 to 5' }] };
const html = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Corporate proxy: please sign in</h1></body></html>';

describe('a 2xx body that is not what the API sends', () => {
  test('an HTML page (status 200) for a streamed call -> non-retryable ProviderError naming status and content type', async () => {
    const r = await callModel(srv, openai(), response(html, 'text/html; charset=utf-8'), { ...count, stream: true });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, false);
    assert.equal(r.error.status, 200);
    assert.match(r.error.message, /^openai: expected an SSE stream \(text\/event-stream\) but the server answered HTTP 200 with text\/html; charset=utf-8: "<!DOCTYPE html> <html><head><title>Sign in/);
    assert.match(r.error.message, /Check the base URL \(http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\)/);
    assertNoSecret(r.error);
  });

  test('the same page for a non-streamed call, and without any content type (sniffed)', async () => {
    let r = await callModel(srv, openai(), response(html, 'text/html'), { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, false);
    assert.match(r.error.message, /expected a JSON response but the server answered HTTP 200 with text\/html/);
    r = await callModel(srv, openai(), { status: 200, headers: {}, body: `\n  ${html}` }, { ...count, stream: true });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, false);
    assert.match(r.error.message, /with no content type: "<!DOCTYPE html>/);
  });

  test('plain text that is not SSE -> non-retryable; an empty body -> named as empty; JSON labelled text/plain still parses', async () => {
    let r = await callModel(srv, openai(), response('Service temporarily unavailable, try later', 'text/plain'), { ...count, stream: true });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, false);
    assert.match(r.error.message, /expected an SSE stream \(text\/event-stream\) but the server answered HTTP 200 with text\/plain/);
    r = await callModel(srv, openai(), response('', 'application/octet-stream'), { ...count, stream: true });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.match(r.error.message, /with application\/octet-stream and an empty body/);
    const fx = loadFixture('openai-chat', 'text-nonstream', 1);
    r = await callModel(srv, openai(), { status: 200, headers: { 'content-type': 'text/plain' }, body: fx.body }, { ...count, stream: true });
    assert.match(textOf(ok(r)), /^Hello! I'm just a computer program/);
  });

  test('an event-stream that closes with no event at all is a cut connection: retryable', async () => {
    const r = await callModel(srv, openai(), response(': hello\n\n'), { ...count, stream: true });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /ended before its completion event \(a finish_reason or data: \[DONE\]\) after 0 event/);
  });

  test('through runPrompt: the HTML page fails the run once, without the default retries', async () => {
    const own = await startFixtureServer();
    try {
      for (let i = 0; i < 3; i++) own.enqueue(response(html, 'text/html'));
      const model = createOpenAI({ baseURL: `${own.url}/v1`, apiKey: KEY })('gpt-4o');
      const { result } = await runPrompt((ctx) => ctx.$`hi`, { model });
      await assert.rejects(result.text, (err) => err instanceof ProviderError && /text\/html/.test(err.message));
      assert.equal(own.requests.length, 1, 'not retried');
    } finally {
      await own.close();
    }
  });
});

describe('{NAME}_API_BASE for the built-in providers', () => {
  test('resolveModel: OPENAI_API_BASE, ANTHROPIC_API_BASE, GOOGLE_API_BASE; *_BASE_URL wins when both are set', async () => {
    const env = {
      OPENAI_API_KEY: KEY,
      OPENAI_API_BASE: `${srv.url}/openai-base/v1`,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_API_BASE: `${srv.url}/anthropic-base/v1`,
      GEMINI_API_KEY: KEY,
      GOOGLE_API_BASE: `${srv.url}/google-base/v1beta`,
    };
    const cases = [
      ['openai:gpt-4o', ['openai-chat', 'text-nonstream', 1], '/openai-base/v1/chat/completions'],
      ['anthropic:claude', ['anthropic', 'text-nonstream', 1], '/anthropic-base/v1/messages'],
      ['google:gemini-2.5-flash', ['gemini', 'text-nonstream', 1], '/google-base/v1beta/models/gemini-2.5-flash:generateContent'],
    ];
    for (const [spec, fx, path] of cases) {
      const r = await callModel(srv, resolveModel(spec, env), fx, { ...count, stream: false });
      ok(r);
      assert.equal(r.sent.path, path, spec);
    }
    const both = resolveModel('openai:gpt-4o', { ...env, OPENAI_BASE_URL: `${srv.url}/base-url/v1` });
    const r = await callModel(srv, both, ['openai-chat', 'text-nonstream', 1], { ...count, stream: false });
    assert.equal(r.sent.path, '/base-url/v1/chat/completions');
  });

  test('createOpenAI / createAnthropic read OPENAI_API_BASE / ANTHROPIC_API_BASE and the keys from process.env', async () => {
    const names = ['OPENAI_API_BASE', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY'];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    process.env.OPENAI_API_BASE = `${srv.url}/o/v1`;
    process.env.OPENAI_API_KEY = KEY;
    process.env.ANTHROPIC_API_BASE = `${srv.url}/a/v1`;
    process.env.ANTHROPIC_API_KEY = KEY;
    try {
      let r = await callModel(srv, createOpenAI()('gpt-4o'), ['openai-chat', 'text-nonstream', 1], { ...count, stream: false });
      assert.equal(r.sent.path, '/o/v1/chat/completions');
      assert.equal(r.sent.headers.authorization, `Bearer ${KEY}`);
      r = await callModel(srv, createAnthropic()('claude'), ['anthropic', 'text-nonstream', 1], { ...count, stream: false });
      assert.equal(r.sent.path, '/a/v1/messages');
      assert.equal(r.sent.headers['x-api-key'], KEY);
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
    }
  });
});

/** A server that answers 200 text/event-stream and then only writes `chunk` every `everyMs` (until the client goes). */
async function keepAliveServer(chunk, everyMs = 50, { headers = true } = {}) {
  const timers = new Set();
  const server = createServer((req, res) => {
    req.resume();
    if (!headers) return; // never answers
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const t = setInterval(() => res.write(chunk), everyMs);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('Anthropic: a turn with no content is left out of the request (the API refuses it), the turns around it merged', async () => {
  const model = createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude-sonnet-4-5');
  const answer = { id: 'm', type: 'message', role: 'assistant', model: 'c', content: [{ type: 'text', text: '{"ok":true}' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
  const messages = [
    { role: 'user', content: 'Give JSON' },
    { role: 'assistant', content: [] },
    { role: 'user', content: 'Your reply was refused: it was empty.' },
    { role: 'assistant', content: '' },
    { role: 'user', content: 'Again.' },
  ];
  const r = await callModel(srv, model, response(answer, 'application/json'), { messages, stream: false });
  ok(r);
  assert.deepEqual(r.sent.body.messages.map((m) => [m.role, Array.isArray(m.content) ? m.content.map((b) => b.text).join('|') : m.content]), [
    ['user', 'Give JSON|Your reply was refused: it was empty.|Again.'],
  ]);
});

describe('Retry-After on server errors', () => {
  test('a 503 or 529 that says when to come back gives retryAfterMs, and the run waits that long (virtual time)', async () => {
    const unavailable = { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '20' }, body: JSON.stringify({ error: { message: 'busy', type: 'server_error' } }) };
    let r = await callModel(srv, openai(), unavailable, { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.equal(r.error.retryAfterMs, 20_000);
    const overloaded = { status: 529, headers: { 'content-type': 'application/json', 'retry-after-ms': '15000' }, body: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) };
    r = await callModel(srv, createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude'), overloaded, { ...count, stream: false });
    assert.equal(r.error.retryAfterMs, 15_000);
    // A 400 is not retried, so it carries no delay.
    r = await callModel(srv, openai(), { ...unavailable, status: 400 }, { ...count, stream: false });
    assert.equal(r.error.retryAfterMs, undefined);

    const clock = new VirtualClock();
    const engine = await createEngine({ clock });
    let calls = 0;
    const model = {
      provider: 'test', modelId: 'busy',
      async generate() {
        if (calls++ === 0) throw new ProviderError('busy (HTTP 503)', { status: 503, retryable: true, retryAfterMs: 20_000 });
        return { content: [{ type: 'text', text: 'ok' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
      },
    };
    const events = [];
    const started = clock.now();
    const { result } = await runPrompt((ctx) => ctx.$`hi`, { model, engine, onEvent: (e) => events.push(e) });
    assert.equal(await result.text, 'ok');
    assert.deepEqual(events.filter((e) => e.type === 'retry').map((e) => [e.delayMs, e.errorKind]), [[20_000, 'provider']]);
    assert.equal(clock.now() - started, 20_000);
  });
});

describe('idle timeout of streamed calls', () => {
  test('a server that sends the whole answer, its completion event included, then stays silent: the answer is kept', async () => {
    const chunk = (delta, finish) => ({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
    const answer = sse([chunk({ role: 'assistant', content: 'The full answer.' }, null), chunk({}, 'stop')]);
    const open = new Set();
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(answer); // and never [DONE] nor the end
      open.add(res);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const model = createOpenAI({ baseURL: `http://127.0.0.1:${server.address().port}`, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 300 });
      const { result } = await runPrompt({ model, prompt: 'Say it.', maxRetries: 0 });
      assert.equal(await result.text, 'The full answer.');
      assert.equal(await result.finishReason, 'stop');
      // Without the completion event the silence is still a timeout.
      const cut = createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse([chunk({ role: 'assistant', content: 'The full' }, null)]));
        open.add(res);
      });
      await new Promise((r) => cut.listen(0, '127.0.0.1', r));
      const partial = createOpenAI({ baseURL: `http://127.0.0.1:${cut.address().port}`, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 300 });
      const error = await partial.generate({ ...count, stream: true }, { onDelta: () => undefined }).then(() => undefined, (e) => e);
      assert.ok(error instanceof TimeoutError, String(error));
      for (const res of open) res.destroy();
      await new Promise((r) => cut.close(r));
    } finally {
      for (const res of open) res.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('a server that only sends keep-alive comments -> TimeoutError (retryable kind), for every provider', async () => {
    const comments = await keepAliveServer(': keep-alive\n\n');
    const pings = await keepAliveServer('event: ping\ndata: {"type": "ping"}\n\n');
    try {
      const models = [
        createOpenAI({ baseURL: comments.url, apiKey: KEY, idleTimeoutMs: 400 })('gpt-4o'),
        createOpenAI({ baseURL: comments.url, apiKey: KEY }).responses('gpt-5', { idleTimeoutMs: 400 }),
        createOpenAICompatible({ name: 'ollama', baseURL: comments.url })('qwen3', { idleTimeoutMs: 400 }),
        createGoogle({ baseURL: comments.url, apiKey: KEY, idleTimeoutMs: 400 })('gemini-2.5-flash'),
        createAnthropic({ baseURL: pings.url, apiKey: KEY })('claude', { idleTimeoutMs: 400 }),
      ];
      for (const m of models) {
        const started = performance.now();
        const err = await m.generate(count, { onDelta: () => undefined }).catch((e) => e);
        assert.ok(err instanceof TimeoutError, `${m.provider}: ${err}`);
        assert.equal(err.code, 'TIMEOUT');
        assert.match(err.message, new RegExp(`^${m.provider}: no content from the server for 400 ms \\(idle timeout of a streamed call\\)`));
        assert.ok(performance.now() - started < 10_000, 'settles within seconds');
      }
    } finally {
      await comments.close();
      await pings.close();
    }
  });

  test('no response headers at all -> TimeoutError; the caller aborting wins over the timeout', async () => {
    const silent = await keepAliveServer('', 1000, { headers: false });
    try {
      const m = createOpenAI({ baseURL: silent.url, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 300 });
      const err = await m.generate({ ...count, stream: true }, {}).catch((e) => e);
      assert.ok(err instanceof TimeoutError, String(err));
      const slow = createOpenAI({ baseURL: silent.url, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 60_000 });
      const aborted = await slow.generate({ ...count, stream: true }, { signal: AbortSignal.timeout(200) }).catch((e) => e);
      assert.ok(aborted instanceof AbortError, String(aborted));
    } finally {
      await silent.close();
    }
  });

  test('content that keeps coming resets the timer; calls that do not stream have no idle timeout', async () => {
    // 25 events 100 ms apart (2.5 s in all) against a 2 s idle timeout: passes only if every event
    // resets it. The gaps are timer waits, so a loaded machine only makes them longer in total.
    const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const events = [...Array.from({ length: 24 }, (_, i) => chunk({ content: `${i} ` })), chunk({}, 'stop')];
    const slowFetch = async () => {
      let i = 0;
      const body = new ReadableStream({
        async pull(controller) {
          if (i === events.length) return controller.close();
          await new Promise((r) => setTimeout(r, 100));
          controller.enqueue(new TextEncoder().encode(events[i++]));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
    const started = performance.now();
    const res = await createOpenAI({ apiKey: KEY, fetch: slowFetch })('gpt-4o', { idleTimeoutMs: 2000 }).generate(count, { onDelta: () => undefined });
    assert.equal(res.finishReason, 'stop');
    assert.equal(res.content[0].text.split(' ').length, 25);
    assert.ok(performance.now() - started >= 2400, 'the stream lasted longer than the idle timeout');
    const silent = await keepAliveServer('', 1000, { headers: false });
    try {
      const m = createOpenAI({ baseURL: silent.url, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 100 });
      const err = await m.generate({ ...count, stream: false }, { signal: AbortSignal.timeout(600) }).catch((e) => e);
      assert.ok(err instanceof AbortError, `a non-streamed call waits for the caller's bound: ${err}`);
    } finally {
      await silent.close();
    }
  });

  test('an idle timeout beyond 2^31-1 ms does not fire at once (timers are chained)', async () => {
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    const r = await callModel(srv, openai({ idleTimeoutMs: 2 ** 32 }), fx, { ...count, stream: true }, { seed: 2, maxChunk: 200, maxDelayMs: 5 });
    assert.equal(textOf(ok(r)), '1, 2, 3, 4, 5');
  });

  test('idleTimeoutMs is checked: negative, NaN or non-numbers -> ValidationError; 0 and Infinity turn it off', () => {
    for (const bad of [-1, NaN, '60s']) {
      assert.throws(() => createOpenAI({ apiKey: KEY })('m', { idleTimeoutMs: bad }), (e) => e instanceof ValidationError && /idleTimeoutMs must be a number of milliseconds >= 0/.test(e.message));
      assert.throws(() => createAnthropic({ apiKey: KEY, idleTimeoutMs: bad })('m'), ValidationError);
    }
    for (const off of [0, Infinity]) assert.ok(createGoogle({ apiKey: KEY })('m', { idleTimeoutMs: off }));
  });

  test('through runPrompt: a keep-alive-only server does not keep the run pending', async () => {
    const comments = await keepAliveServer(': keep-alive\n\n');
    try {
      const model = createOpenAI({ baseURL: comments.url, apiKey: KEY })('gpt-4o', { idleTimeoutMs: 300 });
      const { result } = await runPrompt((ctx) => ctx.$`hi`, { model, options: { maxRetries: 0 } });
      await assert.rejects(result.text, (err) => err instanceof TimeoutError && /idle timeout/.test(err.message));
    } finally {
      await comments.close();
    }
  });
});

test('provider settings and model options are checked where they are given: unknown keys with a did-you-mean, wrong types, and no secret in the message', () => {
  const refused = (fn, pattern) => assert.throws(fn, (e) => e instanceof ConfigError && pattern.test(e.message), String(pattern));
  // A misspelled baseURL used to be ignored, sending the requests to the official API.
  refused(() => createOpenAI({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k' }), /^createOpenAI: unknown option 'baseUrl' \(did you mean 'baseURL'\?/);
  refused(() => createAnthropic({ apikey: 'k' }), /^createAnthropic: unknown option 'apikey' \(did you mean 'apiKey'\?/);
  refused(() => createGoogle({ header: {} }), /^createGoogle: unknown option 'header' \(did you mean 'headers'\?/);
  refused(() => createOpenAICompatible({ baseURL: 'http://127.0.0.1:1/v1' }), /^createOpenAICompatible: 'name' is required/);
  refused(() => createOpenAICompatible({ name: 'ollama' }), /^createOpenAICompatible: 'baseURL' is required/);
  // Values that may be secrets are not shown.
  const secretUrl = 'api.example.com/v1?key=sk-very-secret';
  for (const [settings, pattern] of [
    [{ baseURL: secretUrl }, /'baseURL' must be an absolute http\(s\) URL .*the string given is not a URL/],
    [{ baseURL: 'ftp://sk-very-secret@example.com' }, /'baseURL' must be an absolute http\(s\) URL .*not a ftp: URL/],
    [{ apiKey: 123456789 }, /'apiKey' must be a string, got a number \(not shown\)/],
    [{ headers: { authorization: 42 } }, /'headers' must be an object of header names to string values \(header 'authorization' is not a string\), got an object/],
    // These failed only when a request was sent, as a network error.
    [{ headers: { authorization: 'Bearer sk-very-secret\r\nX-Injected: 1' } }, /\(header 'authorization' has a line break or NUL in its value, not shown\)/],
    [{ headers: { authorization: 'Bearer sk-very-secret\u20ac' } }, /\(header 'authorization' has a character beyond Latin-1 in its value, not shown: encode it\)/],
    [{ headers: { 'x api key': 'sk-very-secret' } }, /\("x api key" is not a header name\)/],
  ]) {
    let error;
    try {
      createOpenAI(settings);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, pattern);
    assert.ok(!/sk-very-secret|123456789|42/.test(error.message), error.message);
  }
  // Model ids and options.
  const openai = createOpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k' });
  refused(() => openai(''), /^openai model: the model id must be a non-empty string, got the string ""/);
  refused(() => openai('gpt-4o', { idleTimeoutMS: 5 }), /^openai model "gpt-4o": unknown option 'idleTimeoutMS' \(did you mean 'idleTimeoutMs'\?/);
  refused(() => openai('gpt-4o', { reasoning: { effrot: 'low' } }), /^openai model "gpt-4o": reasoning: unknown option 'effrot' \(did you mean 'effort'\?/);
  refused(() => openai('gpt-4o', { reasoning: { effort: 'max' } }), /'effort' must be one of "minimal", "low", "medium", "high", got the string "max"/);
  refused(() => openai.responses('gpt-5', { store: 'yes' }), /^openai model "gpt-5": 'store' must be true or false/);
  refused(() => openai.embedding('text-embedding-3-small', { maxBatch: 10 }), /^openai embedding model "text-embedding-3-small": unknown option 'maxBatch' \(did you mean 'maxBatchSize'\?/);
  refused(() => createAnthropic({ apiKey: 'k' })('claude', { cache: { tll: '1h' } }), /^anthropic model "claude": cache: unknown option 'tll' \(did you mean 'ttl'\?/);
  refused(() => createGoogle({ apiKey: 'k' })('gemini', { reasonning: {} }), /did you mean 'reasoning'\?/);
  // What is right still makes a model.
  assert.equal(openai('gpt-4o', { idleTimeoutMs: 0, reasoning: { effort: 'low', budgetTokens: 1024, includeThoughts: false } }).modelId, 'gpt-4o');
  assert.equal(createAnthropic({ apiKey: 'k', name: 'proxy' })('claude', { cache: { system: true, ttl: '1h' } }).provider, 'proxy');
});

test("a tool name the provider's API refuses is named before anything is sent, with a name it takes", async () => {
  const tool = (name) => ({ name, description: 'd', parameters: { type: 'object', properties: {} } });
  const ask = (tools) => ({ messages: [{ role: 'user', content: 'hi' }], tools });
  const cases = [
    [createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-4o'), 'files.delete', /^openai: the API does not take the tool name "files\.delete" \(tool names there are letters, digits, _ and -, at most 64 characters\); rename the tool, e\.g\. "files_delete"$/],
    [createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-5'), 'x'.repeat(65), /^openai: the API does not take the tool name "x{65}" .*e\.g\. "x{64}"$/],
    [createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude'), 'files.delete', /^anthropic: .*"files\.delete" \(tool names there are letters, digits, _ and -, at most 128 characters\)/],
    [createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash'), `a${'.b'.repeat(40)}`, /^google: .*at most 64 characters\)/],
  ];
  for (const [model, name, pattern] of cases) {
    const before = srv.requests.length;
    await assert.rejects(model.generate(ask([tool('ok_name'), tool(name)])), (err) => err instanceof ValidationError && pattern.test(err.message));
    assert.equal(srv.requests.length, before, `${model.provider}: nothing is sent`);
  }
  // Gemini takes dots; a compatible server decides for itself: the name goes out as written.
  const r = await callModel(srv, createOpenAICompatible({ name: 'ollama', baseURL: `${srv.url}/v1` })('qwen3'), ['openai-chat', 'text-nonstream', 1], { ...ask([tool('files.delete')]), stream: false });
  ok(r);
  assert.equal(r.sent.body.tools[0].function.name, 'files.delete');
});

test('a request with nothing for the model to answer is refused before anything is sent, saying what is missing', async () => {
  const system = { role: 'system', content: 'Be brief.' };
  const cases = [
    // OpenAI takes a system message alone; Anthropic and Gemini need one beside it.
    [createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-4o'), [], /^openai: the request has no message for the model to answer; add a user message first/],
    [createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-5'), [], /^openai: the request has no message for the model/],
    [createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude'), [system], /^anthropic: the request has no message beside the system prompt for the model to answer/],
    [createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash'), [system], /^google: the request has no message beside the system prompt/],
  ];
  for (const [model, messages, pattern] of cases) {
    const before = srv.requests.length;
    await assert.rejects(model.generate({ messages }), (err) => err instanceof ValidationError && pattern.test(err.message), model.provider);
    assert.equal(srv.requests.length, before, `${model.provider}: nothing is sent`);
  }
  // Through a run: the prompt function added no message.
  const { result } = await runPrompt((ctx) => ctx.defSystem('rules', 'Be brief.'), { model: createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude'), maxRetries: 0 });
  await assert.rejects(result.text, (err) => err instanceof ValidationError && /no message beside the system prompt/.test(err.message));
});

describe('error messages keep secrets out and stay short', () => {
  const anthropic = () => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude-sonnet-4-5');
  const noKeyPiece = (message) => assert.ok(!message.includes(KEY.slice(0, 12)) && !message.includes(KEY.slice(-12)), `a piece of the key leaked: ${message}`);

  test('a key in a body cut for the message is masked before the cut (no half key left)', async () => {
    for (const cut of [290, 180]) {
      const body = `${'x'.repeat(cut)} key=${KEY} and more`;
      const r = await callModel(srv, openai(), response(body, 'text/plain', 500), { ...count, stream: false });
      assert.ok(r.error instanceof ProviderError, String(r.error));
      noKeyPiece(r.error.message);
      const page = await callModel(srv, anthropic(), response(`<html>${'y'.repeat(cut)}${KEY}</html>`, 'text/html'), { ...count, stream: false });
      noKeyPiece(page.error.message);
    }
  });

  test('a base URL with a user name and password is refused; one from the environment is masked in errors', async () => {
    assert.throws(() => createOpenAI({ baseURL: 'http://proxyuser:pw-SECRET-1@127.0.0.1:1/v1', apiKey: KEY }), (e) => e instanceof ConfigError && /without a user name or password/.test(e.message) && !e.message.includes('pw-SECRET-1'));
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = 'http://proxyuser:pw-SECRET-1@127.0.0.1:1/v1';
    try {
      const error = await createOpenAI({ apiKey: KEY })('gpt-4o').generate({ ...count, stream: false }).then(() => undefined, (e) => e);
      assert.ok(error instanceof ProviderError, String(error));
      assert.ok(!error.message.includes('pw-SECRET-1') && !error.message.includes('proxyuser'), error.message);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  test('a stream event that is not JSON is quoted with the key masked before the cut, for every stream format', async () => {
    const google = () => createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash');
    const responses = () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-5');
    // The key straddles the 200th character of the quoted event.
    const broken = `{${'x'.repeat(180)}${KEY}`;
    for (const model of [openai(), anthropic(), google(), responses()]) {
      const r = await callModel(srv, model, response(`data: ${broken}\n\n`), { ...count, stream: true });
      assert.ok(r.error instanceof ProviderError, `${model.provider}: ${r.error}`);
      assert.match(r.error.message, /malformed stream (chunk|event): \{x+\[redacted\]$/);
      noKeyPiece(r.error.message);
    }
  });

  test("a JSON body that does not parse is not quoted by the parser's message (which would show the key unmasked)", async () => {
    const r = await callModel(srv, anthropic(), response(`{"detail": ${KEY} is not valid}`, 'application/json'), { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.match(r.error.message, /not valid JSON \((at position \d+; )?\d+ characters, ending "\{"detail": \[redacted\] is not valid\}"\)/);
    noKeyPiece(r.error.message);
  });

  test("a server's huge JSON error message is clipped", async () => {
    const r = await callModel(srv, openai(), response({ error: { message: `overloaded ${'z'.repeat(200_000)}`, type: 'server_error' } }, 'application/json', 500), { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.ok(r.error.message.length < 2500, `message of ${r.error.message.length} characters`);
    assert.match(r.error.message, /^openai: overloaded z+… \(200011 characters\) \(HTTP 500, server_error\)$/);
  });

  test('an answer whose text is not a string is a ProviderError, not an empty answer', async () => {
    const chat = { id: 'x', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 42 }, finish_reason: 'stop' }] };
    let r = await callModel(srv, openai(), response(chat, 'application/json'), { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.match(r.error.message, /the message's content must be a string, an array of text parts or null, got number/);
    const message = { id: 'm', type: 'message', role: 'assistant', model: 'c', content: [{ type: 'text', text: { t: 'hi' } }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
    r = await callModel(srv, anthropic(), response(message, 'application/json'), { ...count, stream: false });
    assert.match(String(r.error?.message), /content\[0\] is a text block whose "text" is not a string \(object\)/);
  });

  test('a JSON body cut short says so and may be retried', async () => {
    const r = await callModel(srv, openai(), response('{"id":"c","choices":[{"index":0,"message":{"content":"hel', 'application/json'), { ...count, stream: false });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.retryable, true);
    assert.match(r.error.message, /^openai: the server answered HTTP 200 with application\/json, but the body is not valid JSON \(.+; 57 characters, ending "\{"id":"c",/);
  });
});
