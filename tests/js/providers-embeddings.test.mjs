// Embedding models against a loopback server that computes each answer from the request: OpenAI
// `/embeddings` (also OpenAI-compatible servers) and Gemini `batchEmbedContents`, batching of large
// inputs, in-order reassembly, parallel batches (counted, not timed), errors and the registry.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as lmthing from '../../dist/node.js';

const { AbortError, AuthenticationError, createGoogle, createOpenAI, createOpenAICompatible, ProviderError, RateLimitError, resolveEmbeddingModel, ValidationError } = lmthing;

const KEY = 'sk-embed-0123456789abcdef';

/** A vector that identifies its text: [length, first char code, dimensions or 0]. */
const vectorOf = (text, dims) => [text.length, text.charCodeAt(0) || 0, dims ?? 0];

/**
 * The server. `hold`: keep each request until this many are in flight (or 10 s pass), so overlap is
 * observable without timing. `fail`: answers the n-th request (1-based) with this `{status, body}`.
 */
async function startEmbeddingServer() {
  const state = { requests: [], inFlight: 0, maxInFlight: 0, hold: 1, fail: new Map(), shuffle: false, dropOne: false, waiting: [] };
  const release = () => {
    if (state.inFlight >= state.hold) for (const w of state.waiting.splice(0)) w();
  };
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw);
    state.requests.push({ path: req.url, headers: req.headers, body });
    const n = state.requests.length;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      state.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
      release();
    });
    state.inFlight--;
    if (res.destroyed) return;
    const failure = state.fail.get(n);
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...(failure.headers ?? {}) });
      res.end(JSON.stringify(failure.body));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url.endsWith('/embeddings')) {
      let data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: vectorOf(text, body.dimensions) }));
      if (state.shuffle) data = data.reverse();
      if (state.dropOne) data = data.slice(1);
      res.end(JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: body.input.length * 3, total_tokens: body.input.length * 3 } }));
    } else {
      let embeddings = body.requests.map((r) => ({ values: vectorOf(r.content.parts[0].text, r.outputDimensionality) }));
      if (state.dropOne) embeddings = embeddings.slice(1);
      res.end(JSON.stringify({ embeddings }));
    }
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    /** Lets held requests (of an aborted call) finish, then starts a fresh record. */
    async reset() {
      for (const w of state.waiting.splice(0)) w();
      while (state.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      Object.assign(state, { requests: [], maxInFlight: 0, hold: 1, fail: new Map(), shuffle: false, dropOne: false });
    },
    async close() {
      for (const w of state.waiting.splice(0)) w();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

let srv;
before(async () => {
  srv = await startEmbeddingServer();
});
after(async () => {
  await srv.close();
});

const words = (n) => Array.from({ length: n }, (_, i) => `${String.fromCharCode(97 + (i % 26))}${'x'.repeat(i)}`);

describe('openai embeddings', () => {
  test('one request: body, headers, vectors ordered by index, token usage', async () => {
    await srv.reset();
    srv.state.shuffle = true;
    const m = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).embedding('text-embedding-3-small');
    assert.equal(m.provider, 'openai');
    assert.equal(m.modelId, 'text-embedding-3-small');
    assert.equal(m.maxBatchSize, 2048);
    const out = await m.embed({ values: ['hello', 'hi', 'hey'], dimensions: 256 });
    assert.deepEqual(out, { embeddings: [vectorOf('hello', 256), vectorOf('hi', 256), vectorOf('hey', 256)], usage: { tokens: 9 } });
    assert.equal(srv.state.requests.length, 1);
    const [r] = srv.state.requests;
    assert.equal(r.path, '/v1/embeddings');
    assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(r.body, { model: 'text-embedding-3-small', input: ['hello', 'hi', 'hey'], encoding_format: 'float', dimensions: 256 });
  });

  test('large inputs are split into batches of maxBatchSize, at most maxParallelCalls in flight, reassembled in order', async () => {
    await srv.reset();
    srv.state.hold = 3;
    const values = words(23);
    const m = createOpenAICompatible({ name: 'ollama', baseURL: `${srv.url}/v1` }).embedding('nomic-embed-text', { maxBatchSize: 4, maxParallelCalls: 3 });
    const out = await m.embed({ values });
    assert.deepEqual(out.embeddings, values.map((v) => vectorOf(v)));
    assert.equal(out.usage.tokens, 23 * 3);
    assert.deepEqual(srv.state.requests.map((r) => r.body.input.length).sort((a, b) => a - b), [3, 4, 4, 4, 4, 4]);
    assert.ok(srv.state.requests.every((r) => r.headers.authorization === undefined && r.body.dimensions === undefined));
    assert.equal(srv.state.maxInFlight, 3, 'three batches overlapped, never more');
    // the batches, joined in request order of their first value, cover the input exactly once
    assert.deepEqual(srv.state.requests.flatMap((r) => r.body.input).sort(), [...values].sort());
  });

  test('a failing batch fails the call with its typed error and stops the others; no values means no request', async () => {
    await srv.reset();
    srv.state.hold = 2;
    srv.state.fail.set(2, { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } } });
    const m = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).embedding('text-embedding-3-small', { maxBatchSize: 1, maxParallelCalls: 2 });
    const err = await m.embed({ values: words(10) }).catch((e) => e);
    assert.ok(err instanceof RateLimitError, String(err));
    assert.equal(err.retryAfterMs, 7000);
    assert.ok(srv.state.requests.length < 10, `stopped early (${srv.state.requests.length} requests)`);
    await srv.reset();
    assert.deepEqual(await m.embed({ values: [] }), { embeddings: [], usage: { tokens: 0 } });
    assert.equal(srv.state.requests.length, 0);
  });

  test('a server returning the wrong number of vectors -> ProviderError; bad input and options -> ValidationError', async () => {
    await srv.reset();
    srv.state.dropOne = true;
    const m = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).embedding('e');
    const err = await m.embed({ values: ['a', 'b'] }).catch((e) => e);
    assert.ok(err instanceof ProviderError, String(err));
    assert.match(err.message, /returned 1 embedding\(s\) for 2 input\(s\)/);
    for (const bad of [{ values: 'abc' }, { values: ['ok', 3] }, { values: ['a'], dimensions: 0 }, { values: ['a'], dimensions: 1.5 }]) {
      await assert.rejects(m.embed(bad), ValidationError);
    }
    assert.throws(() => createOpenAI({ apiKey: KEY }).embedding('e', { maxBatchSize: 0 }), /maxBatchSize must be a whole number >= 1/);
    assert.throws(() => createOpenAI({ apiKey: KEY }).embedding('e', { maxParallelCalls: 1.5 }), ValidationError);
  });

  test('abort: a signal aborts the pending batches with AbortError', async () => {
    await srv.reset();
    srv.state.hold = 99; // hold every request until aborted
    const m = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).embedding('e', { maxBatchSize: 1 });
    const ac = new AbortController();
    const pending = m.embed({ values: words(5) }, { signal: ac.signal });
    while (srv.state.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await assert.rejects(pending, AbortError);
    await assert.rejects(m.embed({ values: ['x'] }, { signal: AbortSignal.abort() }), AbortError);
  });
});

describe('gemini embeddings', () => {
  test('batchEmbedContents: path, key header, one request per value, outputDimensionality, batches of 100', async () => {
    await srv.reset();
    const values = words(130);
    const m = createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY }).embedding('gemini-embedding-001');
    assert.equal(m.maxBatchSize, 100);
    const out = await m.embed({ values, dimensions: 768 });
    assert.deepEqual(out.embeddings, values.map((v) => vectorOf(v, 768)));
    assert.deepEqual(out.usage, { tokens: 0 });
    assert.equal(srv.state.requests.length, 2);
    const first = srv.state.requests.find((r) => r.body.requests.length === 100);
    assert.equal(first.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    assert.equal(first.headers['x-goog-api-key'], KEY);
    assert.deepEqual(first.body.requests[0], { model: 'models/gemini-embedding-001', content: { parts: [{ text: values[0] }] }, outputDimensionality: 768 });
  });

  test('Gemini errors are typed (API_KEY_INVALID -> AuthenticationError); a short answer -> ProviderError', async () => {
    await srv.reset();
    srv.state.fail.set(1, {
      status: 400,
      body: { error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } },
    });
    const m = createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY }).embedding('models/text-embedding-004');
    assert.equal(m.modelId, 'text-embedding-004');
    const err = await m.embed({ values: ['a'] }).catch((e) => e);
    assert.ok(err instanceof AuthenticationError, String(err));
    assert.ok(!err.message.includes(KEY));
    await srv.reset();
    srv.state.dropOne = true;
    await assert.rejects(m.embed({ values: ['a', 'b'] }), ProviderError);
  });
});

describe('resolveEmbeddingModel', () => {
  test('openai:, google:, compatible servers and aliases; Anthropic has none; exported from the package', async () => {
    await srv.reset();
    const env = {
      OPENAI_API_KEY: KEY,
      OPENAI_API_BASE: `${srv.url}/v1`,
      GEMINI_API_KEY: KEY,
      GOOGLE_API_BASE: `${srv.url}/v1beta`,
      OLLAMA_API_BASE: `${srv.url}/ollama/v1`,
      ANTHROPIC_API_KEY: KEY,
      LM_MODEL_EMBED: 'openai:text-embedding-3-small',
    };
    const cases = [
      ['openai:text-embedding-3-small', 'openai', '/v1/embeddings'],
      ['google:gemini-embedding-001', 'google', '/v1beta/models/gemini-embedding-001:batchEmbedContents'],
      ['ollama:nomic-embed-text', 'ollama', '/ollama/v1/embeddings'],
      ['embed', 'openai', '/v1/embeddings'],
    ];
    for (const [spec, provider, path] of cases) {
      const m = resolveEmbeddingModel(spec, env);
      assert.equal(m.provider, provider);
      const before = srv.state.requests.length;
      const out = await m.embed({ values: ['abc'] });
      assert.deepEqual(out.embeddings, [vectorOf('abc')]);
      assert.equal(srv.state.requests[before].path, path, spec);
    }
    assert.throws(() => resolveEmbeddingModel('anthropic:claude', env), (e) => e instanceof ValidationError && /has no embeddings API/.test(e.message));
    assert.throws(() => resolveEmbeddingModel('openai:x', {}), (e) => e instanceof AuthenticationError && /OPENAI_API_KEY/.test(e.message));
    const own = { provider: 'x', modelId: 'y', maxBatchSize: 1, embed: async () => ({ embeddings: [], usage: { tokens: 0 } }) };
    assert.equal(resolveEmbeddingModel(own), own);
    assert.equal(typeof lmthing.createGoogle, 'function');
    assert.equal(typeof lmthing.openai.embedding, 'function');
    assert.equal(typeof lmthing.google.embedding, 'function');
  });
});
