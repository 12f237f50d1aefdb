// defState/defCache beyond prompt runs and happy paths (docs/state-and-caches.md): directive runs
// (`run(agent, {storage, sessionId, cache, define})` with an `L.tool` cache and state persisted in
// file storage across two runs), a storage that refuses writes (quota) reaching a run as a typed
// StateError while the stored and live values stay consistent, and unreadable persistent cache
// entries (corrupted gzip) reported as `cache-error` and bypassed. The IndexedDB page-reload case
// runs in Chromium with the adapter's own tests (tests/js/storage-indexeddb.test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import {
  CacheError, ConfigError, createEngine, fileStorage, L, memoryStorage, mockModel, registerStorage, run, runPrompt, StateError, StorageError, TimeoutError,
} from '../../dist/node.js';

const object = { type: 'object', properties: {} };
const wordSchema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] };

const dirs = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-state-more-'));
  dirs.push(dir);
  return dir;
}

/**
 * A custom adapter over `inner` (a memoryStorage) whose writes fail with a quota StorageError while
 * `full` is set, as IndexedDB's do when the origin's quota is exhausted. Reads keep working.
 */
function quotaStorage(inner) {
  const refuseWhenFull = (key) => {
    if (!storage.full) return;
    storage.refused++;
    throw new StorageError('STORAGE_QUOTA', `quota-test storage: the quota is exhausted (key "${key}")`, { adapter: 'quota-test', key });
  };
  const storage = {
    name: 'quota-test',
    full: false,
    refused: 0,
    get: (key) => inner.get(key),
    async set(key, value, options) {
      refuseWhenFull(key);
      return inner.set(key, value, options);
    },
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    async compareAndSet(key, expected, value, options) {
      refuseWhenFull(key);
      return inner.compareAndSet(key, expected, value, options);
    },
  };
  return storage;
}

/** A prompt function with a persisted global counter and a tool that increments it. */
function counterPrompt(onIncrement = async () => {}) {
  let ctxRef;
  const fn = (ctx) => {
    ctxRef = ctx;
    ctx.defState('counter', { n: 0 }, { persist: true, scope: 'global' });
    ctx.defTool('increment', 'Adds one to the counter', object, async () => {
      ctx.getState('counter').n += 1;
      await onIncrement(ctx);
      return ctx.getState('counter').n;
    });
    ctx.$`Count once.`;
  };
  return { fn, ctx: () => ctxRef };
}

const countModel = () => mockModel([{ type: 'tool-call', toolName: 'increment' }, { type: 'text', text: 'counted' }]);

const toolResults = async (result) => (await result.steps).flatMap((s) => s.toolResults);

// ------------------------------------------------------------------------------ directive runs

test('directive run: state persisted in file storage across two runs, an L.tool cache running once for identical calls', async () => {
  const dir = tempDir();
  const lookups = [];
  // Each run: three identical lookups (answered once), then a visit that bumps the session's state.
  const agent = (defs) =>
    function* () {
      yield* L.tool('lookup', 'Looks a word up', wordSchema, ({ word }) => (lookups.push(word), word.length), { cache: 'lookups' });
      yield* L.tool('visit', 'Records a visit', object, () => {
        const visits = defs().getState('visits');
        visits.count += 1;
        visits.words.push('lmthing');
        return visits.count;
      });
      yield* L.user`How long is "lmthing"? Then record the visit.`;
      return (yield* L.reply).value;
    };
  const script = () =>
    mockModel([
      { type: 'tool-call', toolName: 'lookup', args: { word: 'lmthing' } },
      { type: 'tool-call', toolName: 'lookup', args: { word: 'lmthing' } },
      { type: 'tool-call', toolName: 'lookup', args: { word: 'lmthing' } },
      { type: 'tool-call', toolName: 'visit' },
      { type: 'text', text: '7 letters.' },
    ]);

  const once = async (engine) => {
    let defs;
    const events = [];
    const model = script();
    const value = await run(agent(() => defs), {
      models: { default: model },
      engine,
      storage: fileStorage(dir), // a fresh adapter object each run: only the directory carries the state
      sessionId: 'alice',
      define: (ctx) => {
        defs = ctx;
        ctx.defState('visits', { count: 0, words: [] }, { persist: true, scope: 'session' });
        ctx.defCache('lookups', 'lru', { maxSize: 10 });
      },
      onEvent: (e) => events.push(e),
    });
    // The last model call saw every tool result of the reply.
    const lookupResults = model.calls.at(-1).messages.filter((m) => m.role === 'tool').flatMap((m) => m.content).filter((p) => p.toolName === 'lookup');
    return { value, events, final: defs.getState('visits'), lookupResults };
  };

  const first = await once(await createEngine());
  assert.equal(first.value, '7 letters.');
  assert.deepEqual(lookups, ['lmthing'], 'the cached L.tool ran once for three identical calls');
  assert.deepEqual(first.lookupResults.map((p) => p.result), [7, 7, 7], 'every caller got the answer');
  const hits = first.events.filter((e) => e.type === 'cache-hit');
  assert.equal(hits.length, 2);
  assert.ok(hits.every((h) => h.cache === 'lookups' && h.toolName === 'lookup' && h.source === 'memory'), JSON.stringify(hits));
  assert.equal(first.events.filter((e) => e.type === 'cache-miss').length, 1);
  assert.deepEqual(first.final, { count: 1, words: ['lmthing'] });
  assert.equal(first.events.find((e) => e.type === 'state-loaded')?.found, false);

  // A second run on a fresh engine (nothing in memory): the state comes from the files.
  const second = await once(await createEngine());
  assert.equal(second.value, '7 letters.');
  assert.equal(second.events.find((e) => e.type === 'state-loaded')?.found, true);
  assert.deepEqual(second.final, { count: 2, words: ['lmthing', 'lmthing'] });
  assert.deepEqual(lookups, ['lmthing', 'lmthing'], 'a fresh engine has a fresh lru cache: one lookup per run');
  const stored = await fileStorage(dir).get('state:session:alice:visits');
  assert.deepEqual(stored.value, { count: 2, words: ['lmthing', 'lmthing'] });
  // Another session starts from the initial value.
  assert.equal(await fileStorage(dir).get('state:session:bob:visits'), undefined);
});

test('directive run: the run config cache answers an identical model call from the cache, replaying its text', async () => {
  const engine = await createEngine();
  const model = mockModel([{ type: 'text', text: 'Paris.' }]);
  const ask = function* () {
    yield* L.user`What is the capital of France?`;
    return (yield* L.reply).value;
  };
  const config = () => ({
    models: { default: model },
    engine,
    cache: 'answers',
    define: (ctx) => ctx.defCache('answers', 'lru'),
  });
  assert.equal(await run(ask, config()), 'Paris.');
  const events = [];
  for await (const e of run(ask, config())) events.push(e);
  assert.equal(model.calls.length, 1, 'the second, identical request was not sent to the model');
  const hits = events.filter((e) => e.type === 'cache-hit');
  assert.equal(hits.length, 1);
  assert.equal(hits[0].target, 'model');
  const finish = events.find((e) => e.type === 'step-finish');
  assert.equal(finish.text, 'Paris.');
});

test('directive run: identical L.tool calls made at once run the tool once (coalesced); branches share the state', async () => {
  let runs = 0;
  let defs;
  // The first call answers with five identical lookups at once, later calls with text.
  let calls = 0;
  const model = {
    provider: 'test',
    modelId: 'parallel',
    async generate() {
      calls++;
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      if (calls === 1) {
        const content = Array.from({ length: 5 }, (_, i) => ({ type: 'tool-call', toolCallId: `c${i}`, toolName: 'lookup', args: { word: 'same' } }));
        return { content, finishReason: 'tool-calls', usage };
      }
      return { content: [{ type: 'text', text: `answer ${calls}` }], finishReason: 'stop', usage };
    },
  };
  const events = [];
  const value = await run(
    function* () {
      yield* L.tool('lookup', 'Looks a word up', wordSchema, async ({ word }) => {
        runs++;
        defs.getState('seen').words.push(word);
        await new Promise((r) => setTimeout(r, 20));
        return word.toUpperCase();
      }, { cache: 'lookups' });
      yield* L.user`Look "same" up five times.`;
      yield* L.reply;
      // Two parallel branches write the same state through the define context.
      yield* L.branch([
        function* () {
          defs.getState('seen').words.push('left');
          return 'l';
        },
        function* () {
          defs.getState('seen').words.push('right');
          return 'r';
        },
      ]);
      return defs.getState('seen').words;
    },
    {
      models: { default: model },
      define: (ctx) => {
        defs = ctx;
        ctx.defState('seen', { words: [] });
        ctx.defCache('lookups', 'lru');
      },
      onEvent: (e) => events.push(e),
    },
  );
  assert.equal(runs, 1);
  assert.deepEqual([...value].sort(), ['left', 'right', 'same']);
  const results = events.filter((e) => e.type === 'tool-result');
  assert.deepEqual(results.map((e) => e.result), ['SAME', 'SAME', 'SAME', 'SAME', 'SAME']);
  const hits = events.filter((e) => e.type === 'cache-hit');
  assert.equal(hits.length, 4);
  assert.ok(hits.some((h) => h.source === 'in-flight'), JSON.stringify(hits.map((h) => h.source)));
});

test("directive run: a generator agent's own code reads and writes persisted state before any tool ran", async () => {
  const storage = memoryStorage();
  await storage.set('state:session:s1:profile', { name: 'Ada', visits: 4 });
  let defs;
  const model = mockModel([{ type: 'text', text: 'Hello Ada.' }]);
  const value = await run(
    function* () {
      const profile = defs.getState('profile'); // a plain (synchronous) generator cannot await loadStates()
      profile.visits += 1;
      yield* L.user`Greet ${profile.name}.`;
      return (yield* L.reply).value;
    },
    {
      models: { default: model },
      storage,
      sessionId: 's1',
      define: (ctx) => {
        defs = ctx;
        ctx.defState('profile', { name: 'nobody', visits: 0 }, { persist: true, scope: 'session' });
      },
    },
  );
  assert.equal(value, 'Hello Ada.');
  assert.equal(model.calls[0].messages.at(-1).content, 'Greet Ada.');
  assert.deepEqual((await storage.get('state:session:s1:profile')).value, { name: 'Ada', visits: 5 });
});

test('directive run: a corrupted stored state rejects run() with a StateError before the agent or the model runs', async () => {
  const storage = memoryStorage();
  await storage.set('state:global:cfg', 'not json {');
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  let started = false;
  const attempt = run(
    function* () {
      started = true;
      yield* L.user`Hi`;
      return (yield* L.reply).value;
    },
    {
      models: { default: model },
      storage,
      define: (ctx) => ctx.defState('cfg', {}, { persist: true, scope: 'global', serialize: (v) => JSON.stringify(v), deserialize: (t) => JSON.parse(t) }),
    },
  );
  await assert.rejects(attempt, (e) => e instanceof StateError && e.code === 'STORAGE_CORRUPT' && e.state === 'cfg' && e.key === 'state:global:cfg');
  assert.equal(started, false);
  assert.equal(model.calls.length, 0);
});

test('directive run: a state save refused by the storage rejects run() with a StateError naming state and key', async () => {
  const inner = memoryStorage();
  const storage = quotaStorage(inner);
  storage.full = true;
  let defs;
  const attempt = run(
    function* () {
      yield* L.tool('increment', 'Adds one', object, () => (defs.getState('counter').n += 1));
      yield* L.user`Count.`;
      return (yield* L.reply).value;
    },
    {
      models: { default: countModel() },
      storage,
      define: (ctx) => {
        defs = ctx;
        ctx.defState('counter', { n: 0 }, { persist: true, scope: 'global' });
      },
    },
  );
  await assert.rejects(attempt, (e) => e instanceof StateError && e.code === 'STORAGE_QUOTA' && e.state === 'counter' && e.key === 'state:global:counter');
  assert.deepEqual(defs.getState('counter'), { n: 1 });
  assert.equal(await inner.get('state:global:counter'), undefined);
});

// ------------------------------------------------------------------------------ storage failures

test('a storage out of quota fails the run with a StateError naming state and key; stored and live values stay consistent', async () => {
  const engine = await createEngine();
  const inner = memoryStorage();
  const storage = quotaStorage(inner);

  const first = counterPrompt();
  const ok = await runPrompt(first.fn, { model: countModel(), engine, storage });
  assert.equal(await ok.result.text, 'counted');
  const before = await inner.get('state:global:counter');
  assert.deepEqual(before.value, { n: 1 });

  storage.full = true;
  const second = counterPrompt();
  const { result, prompt } = await runPrompt(second.fn, { model: countModel(), engine, storage });
  await assert.rejects(result.text, (e) => {
    assert.ok(e instanceof StateError, `expected a StateError, got ${e?.name}: ${e?.message}`);
    assert.equal(e.code, 'STORAGE_QUOTA');
    assert.equal(e.state, 'counter');
    assert.equal(e.key, 'state:global:counter');
    assert.equal(e.adapter, 'quota-test');
    assert.match(e.message, /state "counter" \(key "state:global:counter"/);
    assert.match(e.message, /quota is exhausted/);
    return true;
  });
  assert.ok(storage.refused >= 1);
  // The tool saw its own increment; nothing was written; the run's value is what the tool made it.
  assert.deepEqual(prompt.events.filter((e) => e.type === 'tool-result').map((e) => e.result), [2]);
  assert.deepEqual(await inner.get('state:global:counter'), before, 'the stored record is untouched');
  assert.deepEqual(second.ctx().getState('counter'), { n: 2 });
  assert.equal(prompt.events.filter((e) => e.type === 'state-saved').length, 0);
  // The failed run released the adapter it registered for itself: only the engine's own is left.
  await assert.rejects(
    runPrompt((ctx) => ctx.$`Hi`, { model: mockModel([]), engine, storage: 'no-such-storage' }),
    (e) => e instanceof StorageError && e.code === 'STORAGE_UNKNOWN' && /\(registered on this engine: "memory"\)/.test(e.message),
  );

  // Room again: the next run starts from the stored value (1), not from the unsaved 2.
  storage.full = false;
  const third = counterPrompt();
  const again = await runPrompt(third.fn, { model: countModel(), engine, storage });
  assert.equal(await again.result.text, 'counted');
  assert.deepEqual((await toolResults(again.result)).map((r) => r.result), [2]);
  assert.deepEqual((await inner.get('state:global:counter')).value, { n: 2 });
});

test('a saveState refused by the storage rejects with a StateError; the change stays unsaved and is written at the end of the run', async () => {
  const engine = await createEngine();
  const inner = memoryStorage();
  const storage = quotaStorage(inner);
  let caught;
  let liveAfterFailure;
  const { fn } = counterPrompt(async (ctx) => {
    storage.full = true;
    caught = await ctx.saveState('counter').then(() => undefined, (e) => e);
    liveAfterFailure = JSON.parse(JSON.stringify(ctx.getState('counter')));
    storage.full = false;
  });
  const { result, prompt } = await runPrompt(fn, { model: countModel(), engine, storage });
  assert.equal(await result.text, 'counted');
  assert.ok(caught instanceof StateError, `expected a StateError, got ${caught}`);
  assert.equal(caught.code, 'STORAGE_QUOTA');
  assert.equal(caught.state, 'counter');
  assert.equal(caught.key, 'state:global:counter');
  assert.deepEqual(liveAfterFailure, { n: 1 }, 'the failed save neither reverted nor lost the change');
  // Still unsaved after the failure, so the end of the run wrote it (once).
  assert.deepEqual((await inner.get('state:global:counter')).value, { n: 1 });
  assert.equal(prompt.events.filter((e) => e.type === 'state-saved').length, 1);
});

test('an updateState refused by the storage rejects with a StateError and leaves the value as it was', async () => {
  const engine = await createEngine();
  const inner = memoryStorage();
  await inner.set('state:global:counter', { n: 10 });
  const storage = quotaStorage(inner);
  let caught;
  let after;
  const { fn } = counterPrompt(async (ctx) => {
    storage.full = true;
    caught = await ctx.updateState('counter', (v) => ({ n: v.n * 100 })).then(() => undefined, (e) => e);
    after = JSON.parse(JSON.stringify(ctx.getState('counter')));
    storage.full = false;
  });
  const { result } = await runPrompt(fn, { model: countModel(), engine, storage });
  assert.equal(await result.text, 'counted');
  assert.ok(caught instanceof StateError && caught.code === 'STORAGE_QUOTA' && caught.state === 'counter', `got ${caught}`);
  assert.deepEqual(after, { n: 11 }, 'the increment made before stays; the refused update is not applied');
  assert.deepEqual((await inner.get('state:global:counter')).value, { n: 11 });
});

test('a custom adapter throwing a plain Error on save reaches the run as a StateError (STORAGE_UNAVAILABLE) with its message', async () => {
  const engine = await createEngine();
  const inner = memoryStorage();
  const broken = {
    name: 'flaky',
    get: (k) => inner.get(k),
    set: async () => {
      throw new Error('disk on fire');
    },
    delete: (k) => inner.delete(k),
    list: (p) => inner.list(p),
    compareAndSet: async () => {
      throw new Error('disk on fire');
    },
  };
  const { result } = await runPrompt(counterPrompt().fn, { model: countModel(), engine, storage: broken });
  await assert.rejects(
    result.text,
    (e) => e instanceof StateError && e.code === 'STORAGE_UNAVAILABLE' && e.state === 'counter' && e.key === 'state:global:counter' && /disk on fire/.test(e.message),
  );
  assert.equal(await inner.get('state:global:counter'), undefined);
});

// ------------------------------------------------------------------------------ corrupted cache entries

/** Runs `embed("hello")` through a persistent compressed cache on `storage`; the run's events and tool results. */
async function embedOnce(engine, storage, counter, cacheOptions = {}) {
  const { result, prompt } = await runPrompt(
    (ctx) => {
      ctx.defCache('embeddings', 'persistent', { compression: true, ...cacheOptions });
      ctx.defTool('embed', 'Embeds a text', { type: 'object', properties: { text: { type: 'string' } } }, ({ text }) => {
        counter.runs++;
        return Array.from({ length: 16 }, (_, i) => text.length * i);
      }, { cache: 'embeddings' });
      ctx.$`Embed it.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'embed', args: { text: 'hello' } }, { type: 'text', text: 'ok' }]), engine, storage },
  );
  const text = await result.text;
  return { text, events: prompt.events, results: await toolResults(result) };
}

const expectedEmbedding = Array.from({ length: 16 }, (_, i) => 5 * i);

/** Ways a stored gzipped entry can be unreadable, given the good one. */
const corruptions = {
  'truncated gzip': (good) => ({ $gzip: good.$gzip.slice(0, Math.floor(good.$gzip.length / 2)) }),
  'gzip with flipped bytes': (good) => {
    const bytes = Buffer.from(good.$gzip, 'base64');
    for (let i = 10; i < bytes.length - 8; i++) bytes[i] ^= 0xff; // past the header, before the CRC
    return { $gzip: bytes.toString('base64') };
  },
  'not base64': () => ({ $gzip: '%%% not base64 %%%' }),
  'not a gzipped record': () => ({ value: [1, 2, 3] }),
  'gzip of text that is not JSON': async () => {
    const packed = Buffer.from(await new Response(new Blob(['{not json']).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    return { $gzip: packed.toString('base64') };
  },
};

for (const [label, corrupt] of Object.entries(corruptions)) {
  test(`a persistent cache entry that cannot be read (${label}) is reported as cache-error, bypassed and overwritten`, async () => {
    const storage = memoryStorage();
    const counter = { runs: 0 };
    const first = await embedOnce(await createEngine(), storage, counter);
    assert.equal(counter.runs, 1);
    const [key] = await storage.list('cache:embeddings:');
    assert.ok(key, 'the first run stored an entry');
    const good = (await storage.get(key)).value;
    assert.equal(typeof good.$gzip, 'string');
    assert.deepEqual(first.results.map((r) => r.result), [expectedEmbedding]);

    await storage.set(key, await corrupt(good));
    const second = await embedOnce(await createEngine(), storage, counter);
    assert.equal(second.text, 'ok');
    assert.equal(counter.runs, 2, 'the unreadable entry was bypassed: the tool ran');
    assert.deepEqual(second.results.map((r) => r.result), [expectedEmbedding]);
    const errors = second.events.filter((e) => e.type === 'cache-error');
    assert.equal(errors.length, 1, JSON.stringify(second.events.map((e) => e.type)));
    assert.equal(errors[0].cache, 'embeddings');
    assert.equal(errors[0].code, 'STORAGE_CORRUPT');
    assert.ok(key.endsWith(errors[0].key), `${errors[0].key} names the entry ${key}`);
    assert.match(errors[0].message, /cache "embeddings" \(key "cache:embeddings:/);
    assert.equal(second.events.filter((e) => e.type === 'cache-hit').length, 0);

    // The entry was overwritten with a readable one: a third run is answered from storage.
    const repaired = (await storage.get(key)).value;
    assert.equal(typeof repaired.$gzip, 'string');
    const third = await embedOnce(await createEngine(), storage, counter);
    assert.equal(counter.runs, 2);
    assert.deepEqual(third.results.map((r) => r.result), [expectedEmbedding]);
    assert.deepEqual(third.events.filter((e) => e.type === 'cache-hit').map((e) => e.source), ['storage']);
  });
}

test("onStorageError: 'fail': an unreadable entry fails the tool call (the model sees the error) without running the tool", async () => {
  const storage = memoryStorage();
  const counter = { runs: 0 };
  await embedOnce(await createEngine(), storage, counter, { onStorageError: 'fail' });
  const [key] = await storage.list('cache:embeddings:');
  await storage.set(key, { $gzip: 'H4sIAAAA' }); // a gzip header and nothing else
  const outcome = await embedOnce(await createEngine(), storage, counter, { onStorageError: 'fail' });
  assert.equal(counter.runs, 1, 'the tool did not run');
  const [embed] = outcome.results;
  assert.equal(embed.isError, true);
  assert.match(embed.result.error, /^cache "embeddings" \(key "cache:embeddings:.*the gzipped record does not inflate to JSON/);
  assert.deepEqual(outcome.events.filter((e) => e.type === 'cache-error').map((e) => e.code), ['STORAGE_CORRUPT']);
});

test("onStorageError: 'fail' on the run's model cache fails the run with a CacheError naming the cache and the key", async () => {
  const storage = memoryStorage();
  const model = mockModel([{ type: 'text', text: 'Paris.' }, { type: 'end-step' }, { type: 'text', text: 'Paris again.' }]);
  const ask = (ctx) => {
    ctx.defCache('answers', 'persistent', { compression: true, onStorageError: 'fail' });
    ctx.$`What is the capital of France?`;
  };
  const first = await runPrompt(ask, { model, engine: await createEngine(), storage, cache: 'answers' });
  assert.equal(await first.result.text, 'Paris.');
  const [key] = await storage.list('cache:answers:');
  assert.ok(key, 'the answer was stored');
  const good = (await storage.get(key)).value;
  await storage.set(key, corruptions['truncated gzip'](good));

  const { result, prompt } = await runPrompt(ask, { model, engine: await createEngine(), storage, cache: 'answers' });
  await assert.rejects(result.text, (e) => {
    assert.ok(e instanceof CacheError, `expected a CacheError, got ${e?.name}: ${e?.message}`);
    assert.equal(e.code, 'STORAGE_CORRUPT');
    assert.equal(e.cache, 'answers');
    assert.equal(e.key, key);
    assert.match(e.message, /cache "answers"/);
    return true;
  });
  assert.equal(model.calls.length, 1, 'the model was not called instead');
  assert.deepEqual(prompt.events.filter((e) => e.type === 'cache-error').map((e) => e.code), ['STORAGE_CORRUPT']);
});

test('a cache whose storage refuses writes (quota) reports cache-error and still answers the call', async () => {
  const inner = memoryStorage();
  const storage = quotaStorage(inner);
  storage.full = true;
  const counter = { runs: 0 };
  const outcome = await embedOnce(await createEngine(), storage, counter);
  assert.equal(outcome.text, 'ok');
  assert.equal(counter.runs, 1);
  assert.deepEqual(outcome.results.map((r) => r.result), [expectedEmbedding]);
  const errors = outcome.events.filter((e) => e.type === 'cache-error');
  assert.deepEqual(errors.map((e) => [e.cache, e.code]), [['embeddings', 'STORAGE_QUOTA']]);
  assert.deepEqual(await inner.list('cache:'), [], 'nothing half-written');
});

test('a state or memory name that is a near miss of a defined one names it', async () => {
  const errors = [];
  await runPrompt(async (ctx) => {
    ctx.defState('preferences', {});
    ctx.defMemory('notes', 'vector', { dimensions: 2 });
    for (const f of [() => ctx.getState('preferenses'), () => ctx.memory('note')]) {
      try {
        f();
      } catch (err) {
        errors.push(err);
      }
    }
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  assert.deepEqual(errors.map((err) => err instanceof ConfigError), [true, true]);
  assert.equal(errors[0].message, 'unknown state "preferenses" (did you mean "preferences"? defined with ctx.defState: preferences)');
  assert.equal(errors[1].message, 'ctx.memory: unknown memory "note" (did you mean "notes"? defined with ctx.defMemory: notes)');
});

test('updateState refuses a non-function, and a function returning a value that is not JSON, leaving the value as it was', async () => {
  const engine = await createEngine();
  const inner = memoryStorage();
  await inner.set('state:global:counter', { n: 10 });
  const caught = [];
  let after;
  const { fn } = counterPrompt(async (ctx) => {
    for (const update of [5, () => () => 1, (v) => ({ ...v, at: NaN })]) caught.push(await ctx.updateState('counter', update).then(() => undefined, (e) => e));
    after = JSON.parse(JSON.stringify(ctx.getState('counter')));
  });
  const { result } = await runPrompt(fn, { model: countModel(), engine, storage: inner });
  assert.equal(await result.text, 'counted');
  const [notFunction, returnsFunction, returnsNaN] = caught;
  assert.ok(notFunction instanceof ConfigError, `got ${notFunction}`);
  assert.match(notFunction.message, /^ctx\.updateState\("counter"\): expects a function .*, got the number 5$/);
  // JSON's rules would have stored null for both: the state would have lost its value.
  assert.ok(returnsFunction instanceof StateError && returnsFunction.code === 'STORAGE_UNSERIALIZABLE', `got ${returnsFunction}`);
  assert.match(returnsFunction.message, /^updateState\("counter"\): the function returned a value that counter is a function/);
  assert.ok(returnsNaN instanceof StateError && /counter\.at is NaN/.test(returnsNaN.message), `got ${returnsNaN}`);
  assert.deepEqual(after, { n: 11 });
  assert.deepEqual((await inner.get('state:global:counter')).value, { n: 11 });
});

test('a defCache or defState naming an unregistered storage fails the run at its start, before any model call', async () => {
  const engine = await createEngine();
  for (const [define, where] of [
    [(ctx) => ctx.defCache('lookups', 'persistent', { storage: 'redis-cache' }), 'defCache("lookups")'],
    [(ctx) => ctx.defCache('lookups', 'lru', { storage: 'redis-cache' }), 'defCache("lookups")'],
    [(ctx) => ctx.defState('prefs', {}, { persist: true, scope: 'global', storage: 'redis-cache' }), 'defState("prefs")'],
  ]) {
    registerStorage(engine, 'redis-cach', memoryStorage());
    const model = mockModel([{ type: 'text', text: 'unused' }]);
    // Before, the cache's reads and writes failed one by one and were bypassed (a cache-error event each): nothing was cached.
    await assert.rejects(
      runPrompt((ctx) => { define(ctx); ctx.$`Hi`; }, { model, engine }),
      (e) => e instanceof StorageError && e.code === 'STORAGE_UNKNOWN' && e.message.startsWith(`${where}: unknown storage "redis-cache" (did you mean "redis-cach"?`),
    );
    assert.equal(model.calls.length, 0);
  }
  // A directive run checks its definitions the same way.
  await assert.rejects(
    run(function* () { return 1; }, { models: { default: mockModel([]) }, engine, define: (ctx) => ctx.defCache('c', 'persistent', { storage: 'nope' }) }),
    (e) => e instanceof StorageError && e.code === 'STORAGE_UNKNOWN' && /^defCache\("c"\): unknown storage "nope"/.test(e.message),
  );
});

test("a tool output its validator rejects is not cached: the model's retry and the next run call the tool again", async () => {
  let runs = 0;
  const engine = await createEngine();
  const define = (ctx) => {
    ctx.defCache('answers', 'lru', {});
    ctx.defValidator('short', { type: 'object', properties: { summary: { type: 'string' } } }, (out) => ({ valid: out.summary.length < 10, errors: ['too long'] }));
    // A flaky upstream: too long the first time only.
    ctx.defTool('summarize', 'Summarizes', { type: 'object', properties: { t: { type: 'string' } } }, () => ({ summary: ++runs === 1 ? 'a very very long summary' : 'short' }), {
      cache: 'answers',
      validator: 'short',
      retryOnFailure: true,
    });
    ctx.$`go`;
  };
  const call = { type: 'tool-call', toolName: 'summarize', args: { t: 'x' } };
  const events = [];
  const first = await runPrompt(define, { engine, model: mockModel([call, call, { type: 'text', text: 'done' }]), onEvent: (e) => events.push(e) });
  assert.equal(await first.result.text, 'done');
  assert.equal(runs, 2, 'the retry with the same arguments ran the tool instead of reading the rejected output back');
  assert.deepEqual(events.filter((e) => e.type === 'validation').map((e) => e.valid), [false, true]);
  const second = await runPrompt(define, { engine, model: mockModel([call, { type: 'text', text: 'done' }]), onEvent: (e) => events.push(e) });
  assert.equal(await second.result.text, 'done');
  assert.equal(runs, 2, 'the valid output was cached');
  assert.ok(events.some((e) => e.type === 'cache-hit'));
});

// ------------------------------------------------------------------------------ many runs, one engine

test('200 runs incrementing one persisted counter at once through updateState lose no update (conflicts wait their turn)', { timeout: 60_000 }, async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  const runs = Array.from({ length: 200 }, async (_, i) => {
    const { result } = await runPrompt((ctx) => {
      ctx.defState('tally', { n: 0 }, { persist: true, scope: 'global' });
      ctx.defTool('work', 'counts', { type: 'object' }, async () => {
        await ctx.updateState('tally', (v) => {
          v.n++;
        });
        return 'counted';
      });
      ctx.$`count ${i}`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'work', args: {} }, { type: 'text', text: 'done' }]), engine, storage });
    return result.text;
  });
  assert.deepEqual(new Set(await Promise.all(runs)), new Set(['done']));
  assert.deepEqual((await storage.get('state:global:tally')).value, { n: 200 });
});

test("runs sharing a cache entry in flight: a waiting run's own abort or timeout ends it at once; the computing run's timeout does not fail the waiters", { timeout: 30_000 }, async () => {
  const engine = await createEngine();
  let executions = 0;
  const start = (options, slowMs = 1_500, cache = 'c') =>
    runPrompt((ctx) => {
      ctx.defCache(cache, 'lru', {});
      ctx.defTool('slow', 'slow lookup', { type: 'object' }, async () => {
        executions++;
        await new Promise((resolve) => setTimeout(resolve, slowMs));
        return 'value';
      }, { cache });
      ctx.$`go`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'slow', args: {} }, { type: 'text', text: 'done' }]), engine, ...options });
  // The computing run goes on; the run that joined its entry is aborted / times out.
  const leader = start({});
  await new Promise((resolve) => setTimeout(resolve, 100));
  const controller = new AbortController();
  const began = performance.now();
  const aborted = start({ abortSignal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(aborted.then(({ result }) => result.text), (e) => e.name === 'AbortError' || e.code === 'ABORTED');
  assert.ok(performance.now() - began < 1_000, `the waiter ended at ${Math.round(performance.now() - began)} ms, not with the computing call`);
  const timedOut = start({ timeout: 150 });
  await assert.rejects(timedOut.then(({ result }) => result.text), TimeoutError);
  assert.equal(await (await leader).result.text, 'done');
  assert.equal(executions, 1);

  // The computing run times out: the run waiting on its entry (no limit of its own) still gets the value.
  executions = 0;
  const short = start({ timeout: 200 }, 600, 'fresh');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const patient = start({}, 600, 'fresh');
  await assert.rejects(short.then(({ result }) => result.text), TimeoutError);
  const { result } = await patient;
  assert.equal(await result.text, 'done');
  assert.equal((await result.steps)[0].toolResults[0].result, 'value');
  assert.equal(executions, 2, 'run again for the waiter once the computing run timed out');
});

test("a run's approval desk answers only its own requests; another run's id is refused, and only its own are listed", async () => {
  const engine = await createEngine();
  const desks = {};
  const start = (name) =>
    runPrompt((ctx) => {
      ctx.defApproval('ok');
      ctx.defTool('act', 'acts', { type: 'object' }, () => `${name} acted`, { approval: 'ok' });
      ctx.$`go`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'act', args: {} }, { type: 'text', text: 'done' }]), engine, onApproval: () => undefined }).then((started) => (desks[name] = started.prompt.approvals, started));
  const [a, b] = await Promise.all([start('A'), start('B')]);
  while (desks.A.pending().length === 0 || desks.B.pending().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const idA = desks.A.pending()[0].id;
  const idB = desks.B.pending()[0].id;
  await assert.rejects(desks.B.respond(idA, 'deny'), { message: `approval.respond: no pending approval request with id "${idA}" in this run (pending: ${idB})` });
  await desks.A.respond(idA, 'approve');
  await desks.B.respond(idB, 'deny');
  assert.equal((await a.result.steps)[0].toolResults[0].result, 'A acted');
  assert.match(JSON.stringify((await b.result.steps)[0].toolResults[0].result), /denied/);
});

test("a 'persistent' cache's entry in flight is shared by runs of one storage only: each tenant gets its own answer, in its own storage", async () => {
  const engine = await createEngine();
  const tenants = { A: memoryStorage(), B: memoryStorage() };
  let executions = 0;
  const ask = (tenant, storage) =>
    runPrompt((ctx) => {
      ctx.defCache('pc', 'persistent', {});
      ctx.defTool('lookup', 'balance', { type: 'object', properties: { q: { type: 'string' } } }, async () => {
        executions++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return `balance of ${tenant}`;
      }, { cache: 'pc' });
      ctx.$`balance?`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'lookup', args: { q: 'balance' } }, { type: 'text', text: 'ok' }]), engine, storage }).then(async ({ result }) => (await result.steps)[0].toolResults[0].result);
  assert.deepEqual(await Promise.all([ask('A', tenants.A), ask('B', tenants.B)]), ['balance of A', 'balance of B']);
  assert.equal(executions, 2);
  assert.equal((await tenants.A.list('')).length > 0 && (await tenants.B.list('')).length > 0, true, 'each tenant has its entry');
  // Runs given the same adapter object share it, in flight too.
  executions = 0;
  const shared = memoryStorage();
  assert.deepEqual(await Promise.all([ask('C', shared), ask('C', shared)]), ['balance of C', 'balance of C']);
  assert.equal(executions, 1);
});
