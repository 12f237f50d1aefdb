// defMemory wired through the package (docs/memory.md): the seed's examples on the offline embedder,
// ctx.memory in the prompt function and inside tools, OpenAI and OpenAI-compatible (Ollama)
// embeddings over loopback HTTP from tests/fixtures/providers, embedding usage in token budgets,
// typed errors that leave the memory untouched, and persistence to file and Redis (reloaded by
// another engine without re-embedding).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError, createEngine, createOpenAI, createOpenAICompatible, fileStorage, MemoryError, mockModel, offlineEmbedding, ProviderError,
  redisStorage, runPrompt,
} from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';
import { startRedis } from './helpers/redis-server.mjs';
import { countingEmbedder } from './helpers/counting-embedder.mjs';

const object = { type: 'object', properties: {} };
let redis;
const dirs = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let unique = 0;
const name = (base) => `${base}-${process.pid}-${unique++}`;

const cosine = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

test('the offline embedder is deterministic, unit length, and scores shared words higher (it is not semantic)', async () => {
  const model = offlineEmbedding({ dimensions: 128 });
  const { embeddings, usage } = await model.embed({ values: ['user prefers functional programming', 'user prefers functional programming', 'functional programming', 'the weather in Berlin'] });
  assert.deepEqual(embeddings[0], embeddings[1]);
  assert.equal(embeddings[0].length, 128);
  assert.ok(Math.abs(Math.hypot(...embeddings[0]) - 1) < 1e-9);
  assert.ok(cosine(embeddings[0], embeddings[2]) > cosine(embeddings[0], embeddings[3]) + 0.3);
  assert.equal(usage.tokens, 4 + 4 + 2 + 4);
  assert.throws(() => offlineEmbedding({ dimensions: 0 }), /dimensions/);
});

test('seed: defMemory, store and search in the prompt function as written (offline embedder for the model)', async () => {
  const engine = await createEngine();
  let relevant;
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory('conversationHistory', 'vector', {
        maxSize: 1000,
        embeddingModel: offlineEmbedding({ dimensions: 1536 }),
        similarityThreshold: 0.1,
        dimensions: 1536
      });

      // Store and retrieve memories
      await ctx.memory('conversationHistory').store({
        content: 'User prefers functional programming',
        metadata: { timestamp: Date.now(), importance: 0.9 }
      });
      await ctx.memory('conversationHistory').store({ content: 'The office is in Berlin', metadata: { importance: 0.2 } });

      // Semantic search
      relevant = await ctx.memory('conversationHistory').search(
        'What are user preferences?',
        { limit: 5 }
      );
      ctx.$`Answer with the user's preferences.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
  assert.equal(await result.text, 'ok');
  assert.ok(relevant.length >= 1);
  assert.equal(relevant[0].content, 'User prefers functional programming');
  assert.equal(relevant[0].metadata.importance, 0.9);
  assert.ok(relevant[0].score > 0.1);
  assert.ok(relevant.every((r) => r.score >= 0.1)); // similarityThreshold applies
});

test('ctx.memory inside a tool joins the live run; a later run of the engine sees the same global memory', async () => {
  const engine = await createEngine();
  const memory = name('kb');
  const embedder = countingEmbedder();
  let found;
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: embedder });
      ctx.defTool('remember', 'Stores a fact', object, async () => {
        const stored = await ctx.memory(memory).store([
          { content: 'deploys run on fridays', metadata: { topic: 'ops' } },
          { content: 'lunch is at noon', metadata: { topic: 'office' } },
        ]);
        return stored.ids.join(',');
      });
      ctx.$`Remember.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'remember' }, { type: 'text', text: 'stored' }]), engine },
  );
  assert.equal(await result.text, 'stored');
  const second = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: embedder });
      found = await ctx.memory(memory).search('when do deploys run', { limit: 1, filter: { topic: 'ops' } });
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
  await second.result.text;
  assert.equal(found.length, 1);
  assert.equal(found[0].content, 'deploys run on fridays');
  assert.deepEqual(embedder.seen, ['deploys run on fridays', 'lunch is at noon', 'when do deploys run']);
});

test('OpenAI /embeddings over loopback: one request per batch, results by similarity, usage counted in a token budget', async () => {
  const server = await startFixtureServer();
  try {
    const store = loadFixture('openai-embeddings', 'memory-store-search', 1);
    const query = loadFixture('openai-embeddings', 'memory-store-search', 2);
    server.enqueue(store);
    server.enqueue(query);
    const openai = createOpenAI({ apiKey: 'sk-test-memory-0123456789', baseURL: `${server.url}/v1` });
    const memory = name('prefs');
    let relevant;
    let totals;
    const { result } = await runPrompt(
      (ctx) => {
        ctx.defConstraint('budget', 'tokens', { max: 1000, track: ['input', 'output', 'embeddings'] });
        ctx.defMemory(memory, 'vector', { dimensions: 4, embeddingModel: openai.embedding('text-embedding-3-small') });
        ctx.defTool('recall', 'Stores and searches', object, async () => {
          await ctx.memory(memory).store(store.request.input.map((content) => ({ content })));
          relevant = await ctx.memory(memory).search(query.request.input[0], { limit: 2 });
          totals = await ctx.checkConstraints();
          return relevant[0].content;
        });
        ctx.$`Recall.`;
      },
      { model: mockModel([{ type: 'tool-call', toolName: 'recall' }, { type: 'text', text: 'done' }]), engine: await createEngine() },
    );
    assert.equal(await result.text, 'done');
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0].path, '/v1/embeddings');
    assert.deepEqual(server.requests[0].body, store.request);
    assert.deepEqual(server.requests[1].body, query.request);
    assert.equal(server.requests[0].headers.authorization, 'Bearer sk-test-memory-0123456789');
    assert.equal(relevant[0].content, 'User prefers functional programming');
    assert.equal(relevant.length, 2);
    assert.ok(relevant[0].score > relevant[1].score);
    assert.equal(totals.embeddingTokens, 17 + 5);
  } finally {
    await server.close();
  }
});

test('an OpenAI-compatible server (Ollama /v1/embeddings) serves a memory the same way', async () => {
  const server = await startFixtureServer();
  try {
    const store = loadFixture('openai-compatible', 'ollama-embeddings-nomic', 1);
    const query = loadFixture('openai-compatible', 'ollama-embeddings-nomic', 2);
    server.enqueue(store);
    server.enqueue(query);
    const ollama = createOpenAICompatible({ name: 'ollama', baseURL: `${server.url}/v1` });
    const memory = name('docs');
    let hits;
    await (
      await runPrompt(
        async (ctx) => {
          ctx.defMemory(memory, 'vector', { dimensions: 4, embeddingModel: ollama.embedding('nomic-embed-text') });
          await ctx.memory(memory).store(store.request.input);
          hits = await ctx.memory(memory).search(query.request.input[0], { limit: 1 });
          ctx.$`Go.`;
        },
        { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine() },
      )
    ).result.text;
    assert.deepEqual(server.requests.map((r) => r.body), [store.request, query.request]);
    assert.equal(hits[0].content, 'The deploy script lives in scripts/deploy.sh');
  } finally {
    await server.close();
  }
});

test('an embedder failing mid-batch, wrong dimensions and NaN store nothing, with typed errors naming the memory', async () => {
  const server = await startFixtureServer();
  try {
    server.enqueue(loadFixture('openai-embeddings', 'error-500-second-batch', 1));
    server.enqueue(loadFixture('openai-embeddings', 'error-500-second-batch', 2));
    const openai = createOpenAI({ apiKey: 'sk-test-memory-0123456789', baseURL: `${server.url}/v1` });
    const memory = name('safe');
    const texts = loadFixture('openai-embeddings', 'memory-store-search', 1).request.input;
    await (
      await runPrompt(
        async (ctx) => {
          ctx.defMemory(memory, 'vector', { dimensions: 4, embeddingModel: openai.embedding('text-embedding-3-small', { maxBatchSize: 2, maxParallelCalls: 1 }) });
          await assert.rejects(ctx.memory(memory).store(texts), (err) => err instanceof ProviderError && !err.message.includes('sk-test'));
          await assert.rejects(ctx.memory(memory).store([{ vector: [1, 0, 0] }]), (err) => err instanceof MemoryError && err.code === 'DIMENSION_MISMATCH' && err.memory === memory);
          await assert.rejects(ctx.memory(memory).store([{ vector: [1, 0, 0, 0], id: 'ok' }, { vector: [NaN, 0, 0, 1], id: 'bad' }]), (err) => err instanceof MemoryError && err.code === 'NON_FINITE_VECTOR');
          await assert.rejects(ctx.memory(memory).delete('nope'), (err) => err instanceof MemoryError && err.code === 'UNKNOWN_ID');
          const all = await ctx.memory(memory).search([1, 0, 0, 0], { limit: 10 });
          assert.deepEqual(all, []); // no half-inserted batch
          ctx.$`Go.`;
        },
        { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine() },
      )
    ).result.text;
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('defMemory configs are checked strictly', async () => {
  await assert.rejects(
    runPrompt((ctx) => ctx.defMemory('m', 'vector', { dimensions: 4, maxSise: 3 }), { model: mockModel([]) }),
    (err) => err instanceof ConfigError && /maxSize/.test(err.message),
  );
  await assert.rejects(runPrompt((ctx) => ctx.defMemory('m', 'vector', {}), { model: mockModel([]) }), (err) => err instanceof ConfigError && /dimensions/.test(err.message));
  await assert.rejects(runPrompt((ctx) => ctx.defMemory('m', 'hierarchical', { dimensions: 4 }), { model: mockModel([]) }), (err) => err instanceof ConfigError && /needs an 'embeddingModel'/.test(err.message));
  await assert.rejects(runPrompt((ctx) => ctx.memory('nothing'), { model: mockModel([]) }), (err) => err instanceof ConfigError && /unknown memory/.test(err.message));
  await assert.rejects(runPrompt((ctx) => ctx.defMemory('m', 'vectr', { dimensions: 4 }), { model: mockModel([]) }), (err) => err instanceof ConfigError && /the type must be one of "vector", .*got the string "vectr" \(did you mean 'vector'\?\)$/.test(err.message));
  // Metadata is JSON: a function would be dropped and a cycle could not be sent; both are named.
  const metadataErrors = [];
  const meta = name('meta');
  await runPrompt(async (ctx) => {
    ctx.defMemory(meta, 'vector', { dimensions: 2 });
    const cyclic = {};
    cyclic.self = cyclic;
    for (const metadata of [{ f: () => 1 }, cyclic]) await ctx.memory(meta).store({ vector: [1, 0], metadata }).catch((err) => metadataErrors.push(err));
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  assert.deepEqual(metadataErrors.map((err) => err instanceof ConfigError), [true, true]);
  assert.match(metadataErrors[0].message, /store\[0\]: 'metadata' must be a JSON object \(metadata\.f is a function\)/);
  assert.match(metadataErrors[1].message, /'metadata' must be a JSON object \(metadata\.self refers back to one of its parents \(a cycle\)\)/);
  await assert.rejects(
    runPrompt((ctx) => ctx.defMemory('m', 'vector', { dimensions: 4, storage: 'redis' }), { model: mockModel([]) }),
    (err) => err instanceof ConfigError && /persist: true/.test(err.message),
  );
});

test('what a memory would ignore or never match is refused: empty texts, a word as importance, an ISO date as timestamp, a threshold above 1', async () => {
  await assert.rejects(
    runPrompt((ctx) => ctx.defMemory('m', 'vector', { dimensions: 4, similarityThreshold: 1.5 }), { model: mockModel([]) }),
    (err) => err instanceof ConfigError && err.message === 'defMemory("m"): \'similarityThreshold\' 1.5: no score can reach it: cosine scores are at most 1',
  );
  const errors = [];
  const memory = name('ignored');
  const graph = name('ignored-graph');
  let found;
  await runPrompt(async (ctx) => {
    ctx.defMemory(memory, 'vector', { embeddingModel: offlineEmbedding({ dimensions: 16 }), metric: 'l2' });
    ctx.defMemory(graph, 'graph', { embeddingModel: offlineEmbedding({ dimensions: 16 }) });
    const m = ctx.memory(memory);
    for (const attempt of [
      () => m.store(''),
      () => m.store({ content: '', metadata: { topic: 'x' } }),
      () => m.store({ content: 'rain', metadata: { importance: 'high' } }),
      () => m.store({ content: 'rain', metadata: { timestamp: '2026-01-01T00:00:00Z' } }),
      () => m.search(''),
      () => m.search('rain', { threshold: 1.2 }),
      () => m.search('rain', { from: 10, to: 5 }),
      () => ctx.graphMemory(graph).search('', {}),
    ])
      errors.push(await attempt().then(() => undefined, (err) => err));
    await m.store({ content: 'rain', metadata: { importance: 0.5, timestamp: 1000 } });
    found = await m.search('rain', { threshold: 0.9, from: 0, to: 2000 });
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  assert.ok(errors.every((err) => err instanceof ConfigError), errors.map(String).join('\n'));
  assert.deepEqual(errors.map((err) => err.message), [
    `memory("${memory}").store[0]: the content is empty: give a text to embed, or a vector`,
    `memory("${memory}").store[0]: the content is empty: give a text to embed, or a vector`,
    `memory("${memory}").store[0]: metadata.importance must be a number (higher is kept longer when the memory is full), got the string "high"`,
    `memory("${memory}").store[0]: metadata.timestamp must be a time in ms (a number, such as Date.now()), got the string "2026-01-01T00:00:00Z"`,
    `memory("${memory}").search: the query is empty: give a text to search for, or a vector`,
    `memory("${memory}").search: 'threshold' 1.2: no score can reach it: l2 scores are at most 1`,
    `memory("${memory}").search: 'from' (10) is after 'to' (5): no time is in that range`,
    `graphMemory("${graph}").search: the query is empty: give a text to search for, or a vector`,
  ]);
  assert.equal(found.length, 1, 'a threshold below 1 and a time range that holds the memory still find it');
});

test('ctx.memory in the prompt function works beside definitions that hold functions (a guard, a cache keyGenerator)', async () => {
  // The run before the prompt run carried every definition, and one with a function made it fail.
  const memory = name('beside');
  let found;
  const { result } = await runPrompt(async (ctx) => {
    ctx.defGuard('noSecrets', ({ path }) => !String(path).startsWith('.env'), { onFail: 'skip', message: 'secrets stay' });
    ctx.defCache('lookups', 'lru', { keyGenerator: (args) => JSON.stringify(args) });
    ctx.defMemory(memory, 'vector', { embeddingModel: offlineEmbedding({ dimensions: 16 }) });
    await ctx.memory(memory).store('the user prefers tabs');
    found = await ctx.memory(memory).search('tabs');
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(found.map((m) => m.content), ['the user prefers tabs']);
});

test("defMemory without dimensions takes the embedding model's (Example 2 of the proposal gives none)", async () => {
  let found;
  const { result } = await runPrompt(async (ctx) => {
    ctx.defMemory('known', 'vector', { maxSize: 10, embeddingModel: offlineEmbedding({ dimensions: 48 }) });
    await ctx.memory('known').store('agents call tools');
    found = await ctx.memory('known').search('tools', { limit: 1 });
    ctx.$`ok`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  assert.equal(await result.text, 'ok');
  assert.equal(found[0].content, 'agents call tools');
  // OpenAI's ids are known without a request (the key is only needed when it embeds).
  const env = { OPENAI_API_KEY: 'sk-test' };
  const openai = createOpenAI({ apiKey: env.OPENAI_API_KEY }).embedding('text-embedding-3-small');
  const withOpenAI = await runPrompt((ctx) => { ctx.defMemory('m', 'vector', { embeddingModel: openai }); ctx.$`x`; }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  assert.equal(await withOpenAI.result.text, 'x');
  // An embedding model of unknown length still needs them.
  const unknown = { provider: 'mine', modelId: 'my-embedder', maxBatchSize: 8, embed: async () => ({ embeddings: [], usage: { tokens: 0 } }) };
  await assert.rejects(runPrompt((ctx) => ctx.defMemory('m', 'vector', { embeddingModel: unknown }), { model: mockModel([]) }),
    (err) => err instanceof ConfigError && /'dimensions' is required .* unless the embedding model is one whose length is known/.test(err.message));
});

async function persistedRoundTrip(storage) {
  const memory = name('persisted');
  const writer = countingEmbedder();
  const first = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: writer, persist: true });
      await ctx.memory(memory).store([
        { content: 'the cat sleeps on the sofa', id: 'cat' },
        { content: 'invoices are due monthly', id: 'invoice' },
        { content: 'the dog barks at the mailman', id: 'dog' },
      ]);
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine(), storage },
  );
  await first.result.text;
  const stored = await storage.get(`memory:global:${memory}`);
  assert.equal(stored.value.format, 'lmthing.memory/1');

  const reader = countingEmbedder();
  let hits;
  const second = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: reader, persist: true });
      hits = await ctx.memory(memory).search('when are invoices due', { limit: 1 });
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine(), storage }, // a new engine: an empty heap
  );
  await second.result.text;
  assert.equal(hits[0].id, 'invoice');
  assert.equal(hits[0].content, 'invoices are due monthly');
  assert.deepEqual(reader.seen, ['when are invoices due']); // loaded, not rebuilt: nothing was re-embedded
}

test('a persisted memory is reloaded from fileStorage by another engine without re-embedding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-memory-'));
  dirs.push(dir);
  await persistedRoundTrip(fileStorage(dir));
});

test('a persisted memory is reloaded from a real redis-server by another engine without re-embedding', async () => {
  const storage = redisStorage({ url: redis.url, keyPrefix: `memory${process.pid}:` });
  try {
    await persistedRoundTrip(storage);
  } finally {
    await storage.close?.();
  }
});

test('a persisted memory shared by two processes never loses a write: the one that read a stale record gets STORAGE_CONFLICT and, trying again, stores over the fresh one', async () => {
  const { execFile } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-memory-shared-'));
  dirs.push(dir);
  const memory = name('shared');
  const dist = new URL('../../dist/node.js', import.meta.url).href;
  // Each process stores one item; a read reads the record, then waits until both processes have
  // read (a barrier of marker files), so both hold the record before either writes it. (Reading
  // after the barrier let the first process released read what the other had just written.)
  const child = (id) => `
    import { existsSync, writeFileSync } from 'node:fs';
    import { fileStorage, runPrompt, mockModel, offlineEmbedding } from ${JSON.stringify(dist)};
    const files = fileStorage(${JSON.stringify(join(dir, 'store'))});
    const marker = (who) => ${JSON.stringify(dir)} + '/reading-' + who;
    const barrier = async () => {
      writeFileSync(marker('${id}'), '');
      while (!existsSync(marker('a1')) || !existsSync(marker('b1'))) await new Promise((r) => setTimeout(r, 5));
    };
    const storage = { name: 'shared', get: async (k) => { const read = await files.get(k); await barrier(); return read; }, set: (...a) => files.set(...a), delete: (k) => files.delete(k), list: (p) => files.list(p), compareAndSet: (...a) => files.compareAndSet(...a) };
    const store = () => runPrompt(async (ctx) => {
      ctx.defMemory(${JSON.stringify(memory)}, 'vector', { dimensions: 32, embeddingModel: offlineEmbedding({ dimensions: 32 }), persist: true });
      await ctx.memory(${JSON.stringify(memory)}).store({ content: 'from ${id}', id: '${id}' });
      ctx.$\`Go.\`;
    }, { model: mockModel([{ type: 'text', text: 'ok' }]), storage }).then((p) => p.result.text);
    const first = await store().then(() => 'stored', (e) => e.code);
    if (first !== 'stored') await store();
    console.log(first);
  `;
  const run = (id) => new Promise((resolve, reject) => execFile(process.execPath, ['--input-type=module', '-e', child(id)], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim()))));
  const firsts = await Promise.all([run('a1'), run('b1')]);
  assert.deepEqual(firsts.sort(), ['STORAGE_CONFLICT', 'stored'], 'one of the two read a record the other then changed');
  const stored = await fileStorage(join(dir, 'store')).get(`memory:global:${memory}`);
  assert.deepEqual(Object.keys(stored.value.contents).sort(), ['a1', 'b1']);
});
