// indexedDBStorage in real headless Chromium: the storage conformance suite (the same module the
// Node runners use, served to the page), state that survives a page reload, two tabs sharing a
// counter through compareAndSet, and the typed quota error; and through defState: a persisted
// counter continuing after a page reload, a save past the quota failing the run.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './helpers/chromium.mjs';
import { serveStatic } from './helpers/static-server.mjs';
import { cases } from './storage-conformance.mjs';

const root = resolve(import.meta.dirname, '../..');
let server;
let browser;
let context;
let page;

// The page's side: runs one conformance case by name on fresh databases.
const harness = `
  import { indexedDBStorage } from 'lmthing';
  import { cases } from '/tests/storage-conformance.mjs';
  let databases = 0;
  const nameOf = new WeakMap();
  const setup = {
    fresh() {
      const name = 'conformance-' + Date.now() + '-' + (++databases);
      const storage = indexedDBStorage(name);
      nameOf.set(storage, name);
      return storage;
    },
    reopen: (storage) => indexedDBStorage(nameOf.get(storage)),
    async corrupt(storage, key) {
      await storage.get(key); // make sure the database exists
      const db = await new Promise((ok, ko) => { const r = indexedDB.open(nameOf.get(storage)); r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
      await new Promise((ok, ko) => {
        const tx = db.transaction('records', 'readwrite');
        tx.objectStore('records').put({ key, version: 42, text: 'not json' });
        tx.oncomplete = ok; tx.onerror = () => ko(tx.error);
      });
      db.close();
    },
  };
  window.runCase = async (name) => {
    const found = cases.find((c) => c.name === name);
    try {
      const outcome = await found.run(setup);
      return { ok: true, skipped: typeof outcome === 'string' ? outcome : undefined };
    } catch (e) {
      return { ok: false, error: String(e && e.stack || e) };
    }
  };
  window.lmthing = await import('lmthing');
  window.ready = true;
`;

function pageHtml(script) {
  return `<!doctype html><meta charset="utf-8"><title>storage</title>
    <script type="importmap">${JSON.stringify({ imports: { lmthing: '/pkg/browser.js' } })}</script>
    <script type="module">${script}</script>`;
}

before(async () => {
  server = await serveStatic({
    routes: { '/pkg/': resolve(root, 'dist'), '/tests/': resolve(root, 'tests/js') },
    pages: { '/': pageHtml(harness) },
  });
  browser = await launchChromium();
  context = await browser.newContext(); // one context: its pages share the origin's IndexedDB
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 }).catch((e) => {
    throw new Error(`the page did not load: ${errors.join('\n') || e.message}`);
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

for (const { name } of cases) {
  test(`indexeddb (Chromium): ${name}`, async (t) => {
    const outcome = await page.evaluate((n) => window.runCase(n), name);
    assert.ok(outcome.ok, outcome.error);
    if (outcome.skipped) t.skip(outcome.skipped);
  });
}

test('indexeddb (Chromium): entries survive a page reload', async () => {
  const version = await page.evaluate(async () => {
    const s = window.lmthing.indexedDBStorage('reload-check');
    const v = await s.set('session', { step: 3, notes: ['a', 'b'] });
    await s.set('brief', 'gone soon', { ttl: 200 });
    await s.close();
    return v;
  });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await new Promise((r) => setTimeout(r, 400));
  const after = await page.evaluate(async () => {
    const s = window.lmthing.indexedDBStorage('reload-check');
    return { session: await s.get('session'), brief: (await s.get('brief')) ?? null, keys: await s.list() };
  });
  assert.deepEqual(after, { session: { value: { step: 3, notes: ['a', 'b'] }, version }, brief: null, keys: ['session'] });
});

test('indexeddb (Chromium): a defState counter persisted with indexedDBStorage continues after a page reload', async () => {
  // One runPrompt on the page: a global persisted counter that a tool increments.
  const countOnce = async (dbName) => {
    const { runPrompt, mockModel, indexedDBStorage } = window.lmthing;
    const storage = indexedDBStorage(dbName);
    const { result, prompt } = await runPrompt(
      (ctx) => {
        ctx.defState('counter', { n: 0 }, { persist: true, scope: 'global' });
        ctx.defTool('increment', 'Adds one to the counter', { type: 'object', properties: {} }, () => {
          ctx.getState('counter').n += 1;
          return ctx.getState('counter').n;
        });
        ctx.$`Count once.`;
      },
      { model: mockModel([{ type: 'tool-call', toolName: 'increment' }, { type: 'text', text: 'counted' }]), storage },
    );
    const text = await result.text;
    const seen = (await result.steps)[0].toolResults[0].result;
    const loaded = prompt.events.find((e) => e.type === 'state-loaded');
    const saved = prompt.events.filter((e) => e.type === 'state-saved').length;
    await storage.close();
    return { text, seen, found: loaded?.found, saved };
  };
  const dbName = `state-reload-${Date.now()}`;
  assert.deepEqual(await page.evaluate(countOnce, dbName), { text: 'counted', seen: 1, found: false, saved: 1 });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  assert.deepEqual(await page.evaluate(countOnce, dbName), { text: 'counted', seen: 2, found: true, saved: 1 });
  const stored = await page.evaluate(async (name) => (await window.lmthing.indexedDBStorage(name).get('state:global:counter'))?.value, dbName);
  assert.deepEqual(stored, { n: 2 });
});

test('indexeddb (Chromium): two tabs incrementing one counter 200 times each with compareAndSet end at 400', async () => {
  const second = await context.newPage();
  try {
    await second.goto(`${server.url}/`);
    await second.waitForFunction(() => window.ready === true);
    const increment = async (p) =>
      p.evaluate(async () => {
        const s = window.lmthing.indexedDBStorage('shared-counter');
        let conflicts = 0;
        for (let i = 0; i < 200; i++) {
          for (;;) {
            const current = await s.get('n');
            if (await s.compareAndSet('n', current?.version, (current?.value ?? 0) + 1)) break;
            conflicts++;
          }
        }
        return conflicts;
      });
    const conflicts = await Promise.all([increment(page), increment(second)]);
    console.log(`# compareAndSet conflicts per tab: ${conflicts.join(', ')}`);
    const total = await page.evaluate(async () => (await window.lmthing.indexedDBStorage('shared-counter').get('n')).value);
    assert.equal(total, 400);
  } finally {
    await second.close();
  }
});

test('indexeddb (Chromium): an exhausted quota is STORAGE_QUOTA naming the key; the old value stays', async () => {
  // A context of its own: Chromium applies a quota override to databases opened after it.
  const quotaContext = await browser.newContext();
  const quotaPage = await quotaContext.newPage();
  await quotaPage.goto(`${server.url}/`);
  await quotaPage.waitForFunction(() => window.ready === true);
  const cdp = await quotaContext.newCDPSession(quotaPage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 2 * 1024 * 1024 });
  try {
    const outcome = await quotaPage.evaluate(async () => {
      const s = window.lmthing.indexedDBStorage('quota-check');
      await s.set('doc', 'small');
      // Random text: Chromium compresses IndexedDB values, so a repeated character would fit.
      const bytes = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
      const big = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      const error = await s.set('doc', big).catch((e) => e);
      return {
        name: error?.name,
        code: error?.code,
        adapter: error?.adapter,
        key: error?.key,
        message: String(error?.message),
        after: (await s.get('doc'))?.value,
      };
    });
    assert.equal(outcome.name, 'StorageError', outcome.message);
    assert.equal(outcome.code, 'STORAGE_QUOTA', outcome.message);
    assert.equal(outcome.adapter, 'indexeddb');
    assert.equal(outcome.key, 'doc');
    assert.match(outcome.message, /indexedDB storage "quota-check": the browser's storage quota is exhausted \(key "doc"\)/);
    assert.equal(outcome.after, 'small');
  } finally {
    await quotaContext.close();
  }
});

test('indexeddb (Chromium): a defState save past the quota fails the run with a StateError; the stored value stays', async () => {
  const quotaContext = await browser.newContext();
  const quotaPage = await quotaContext.newPage();
  await quotaPage.goto(`${server.url}/`);
  await quotaPage.waitForFunction(() => window.ready === true);
  const cdp = await quotaContext.newCDPSession(quotaPage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 2 * 1024 * 1024 });
  try {
    const outcome = await quotaPage.evaluate(async () => {
      const { runPrompt, mockModel, indexedDBStorage } = window.lmthing;
      const storage = indexedDBStorage('state-quota');
      await storage.set('state:global:doc', { text: 'small' });
      const bytes = new Uint8Array(3 * 1024 * 1024); // random text: Chromium compresses values
      for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
      const big = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      let ctxRef;
      const { result, prompt } = await runPrompt(
        (ctx) => {
          ctxRef = ctx;
          ctx.defState('doc', { text: '' }, { persist: true, scope: 'global' });
          ctx.defTool('grow', 'Makes the document big', { type: 'object', properties: {} }, () => {
            ctx.getState('doc').text = big;
            return 'grown';
          });
          ctx.$`Grow it.`;
        },
        { model: mockModel([{ type: 'tool-call', toolName: 'grow' }, { type: 'text', text: 'done' }]), storage },
      );
      const error = await result.text.then(() => undefined, (e) => e);
      return {
        name: error?.name,
        code: error?.code,
        state: error?.state,
        key: error?.key,
        adapter: error?.adapter,
        message: String(error?.message),
        liveIsBig: ctxRef.getState('doc').text === big,
        stored: (await storage.get('state:global:doc'))?.value,
        saved: prompt.events.filter((e) => e.type === 'state-saved').length,
      };
    });
    assert.equal(outcome.name, 'StateError', outcome.message);
    assert.equal(outcome.code, 'STORAGE_QUOTA', outcome.message);
    assert.equal(outcome.state, 'doc');
    assert.equal(outcome.key, 'state:global:doc');
    assert.equal(outcome.adapter, 'indexeddb');
    assert.match(outcome.message, /state "doc" \(key "state:global:doc".*storage quota is exhausted/);
    assert.equal(outcome.liveIsBig, true, "the run's value keeps the change that could not be saved");
    assert.deepEqual(outcome.stored, { text: 'small' });
    assert.equal(outcome.saved, 0);
  } finally {
    await quotaContext.close();
  }
});

test('indexeddb (Chromium): the engine\'s storage ops reach an IndexedDB adapter registered on it', async () => {
  const answers = await page.evaluate(async () => {
    const { createEngine, registerStorage, indexedDBStorage } = window.lmthing;
    const engine = await createEngine();
    registerStorage(engine, 'idb', indexedDBStorage('engine-check'));
    return engine.startRun({
      kind: 'storage',
      storage: 'idb',
      ops: [
        { op: 'set', key: 'state:a', value: { n: 1 } },
        { op: 'increment', key: 'state:count', times: 5 },
        { op: 'list', prefix: 'state:' },
        { op: 'get', key: 'state:a' },
      ],
    });
  });
  assert.deepEqual(answers.slice(1, 3), [{ value: 5 }, { keys: ['state:a', 'state:count'] }]);
  assert.deepEqual(answers[3], { value: { n: 1 }, version: answers[0].version });
});

test('indexeddb: outside a browser, the adapter says IndexedDB is missing', async () => {
  const { indexedDBStorage, StorageError } = await import('../../dist/node.js');
  assert.throws(() => indexedDBStorage('x'), (e) => e instanceof StorageError && e.code === 'STORAGE_UNSUPPORTED');
});

test('indexeddb (Chromium): a persisted defMemory is reloaded after a page reload without re-embedding', async () => {
  // One runPrompt on the page: store (first load only) and search a global persisted memory,
  // counting the texts the embedder sees.
  const useMemory = async ({ dbName, store }) => {
    const { runPrompt, mockModel, indexedDBStorage, offlineEmbedding } = window.lmthing;
    const inner = offlineEmbedding({ dimensions: 64 });
    let embedded = 0;
    const embeddingModel = { provider: 'offline', modelId: inner.modelId, maxBatchSize: inner.maxBatchSize, embed: (req, opts) => ((embedded += req.values.length), inner.embed(req, opts)) };
    const storage = indexedDBStorage(dbName);
    let found;
    const { result } = await runPrompt(
      async (ctx) => {
        ctx.defMemory('notes', 'vector', { dimensions: 64, embeddingModel, persist: true });
        if (store) await ctx.memory('notes').store(['the user likes green tea', 'the meeting moved to friday', 'invoices go to finance']);
        found = (await ctx.memory('notes').search('when is the meeting', { limit: 1 })).map((r) => r.content);
        ctx.$`ok`;
      },
      { model: mockModel([{ type: 'text', text: 'ok' }]), storage },
    );
    await result.text;
    await storage.close();
    return { found, embedded };
  };
  const dbName = `memory-reload-${Date.now()}`;
  assert.deepEqual(await page.evaluate(useMemory, { dbName, store: true }), { found: ['the meeting moved to friday'], embedded: 4 });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  // The index comes back from IndexedDB: only the query is embedded.
  assert.deepEqual(await page.evaluate(useMemory, { dbName, store: false }), { found: ['the meeting moved to friday'], embedded: 1 });
});

test('Chromium: countTokens loads the o200k rank file next to the package with fetch and counts exactly', async () => {
  const count = await page.evaluate(async () => window.lmthing.countTokens('openai:gpt-4o', [{ role: 'user', content: 'Hello, world!' }]));
  assert.deepEqual(count, { tokens: 11, exact: true, encoding: 'o200k_base' });
});
