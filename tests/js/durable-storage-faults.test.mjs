// Durable runs and persisted state on storage adapters that break their contract or are slow
// (docs/storage.md, docs/durable-runs.md): an answer outside the contract is a StorageError naming
// the adapter, the method and the key, never a silent success; a lease is gone once its run ended,
// also when a renewal was in flight; deleteJournal removes that run's keys only.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { deleteJournal, durableApprovals, loadJournal, memoryStorage, mockModel, runPrompt, StateError, StorageError } from '../../dist/node.js';

/** `inner` with some methods replaced (a custom adapter). */
function adapter(name, inner, overrides) {
  return { name, get: (k) => inner.get(k), set: (...a) => inner.set(...a), delete: (k) => inner.delete(k), list: (p) => inner.list(p), compareAndSet: (...a) => inner.compareAndSet(...a), ...overrides };
}

const hello = (ctx) => ctx.$`Hi.`;
const answer = () => mockModel([{ type: 'text', text: 'hello' }]);

test('a journal whose compareAndSet answers something else than a version or false fails the run (JOURNAL_WRITE_FAILED naming the adapter), not a silent success', async () => {
  for (const wrong of [null, undefined, true, 0, {}]) {
    const inner = memoryStorage();
    const storage = adapter('buggy', inner, { compareAndSet: async () => wrong });
    const { result } = await runPrompt(hello, { model: answer(), durable: { id: 'j', storage } });
    await assert.rejects(result.text, (e) => e.code === 'JOURNAL_WRITE_FAILED' && /storage adapter "buggy" answered compareAndSet\("lmthing:journal:j:0000000001"\) with/.test(e.message));
  }
});

test("an adapter's failure while a journal, a lease or an approval is read is a StorageError naming the adapter, the method and the key", async () => {
  const inner = memoryStorage();
  await (await runPrompt(hello, { model: answer(), durable: { id: 'r', storage: inner } })).result.text;
  const failing = adapter('custom', inner, { get: async () => { throw new Error('read timeout'); }, compareAndSet: async () => { throw new Error('conn reset'); } });
  const named = (method, key) => (e) => e instanceof StorageError && e.code === 'STORAGE_UNAVAILABLE' && e.adapter === 'custom' && e.message.includes(`${method}("${key}")`) && /read timeout|conn reset/.test(e.message);
  await assert.rejects(loadJournal('r', failing), named('get', 'lmthing:journal:r:0000000001'));
  await assert.rejects(durableApprovals(failing).pending('r'), named('get', 'lmthing:journal:r:status'));
  await assert.rejects(
    runPrompt(hello, { model: answer(), durable: { id: 'l', storage: failing, lease: { ttlMs: 1000 } } }).then((p) => p.result.text),
    named('compareAndSet', 'lmthing:lease:l'),
  );
});

test('a lease whose renewal is in flight when the run ends is released all the same', async () => {
  const inner = memoryStorage();
  // Lease writes take 40 ms (a round trip); renewals every 100 ms; the run ends while one is in flight.
  const storage = adapter('slow', inner, {
    compareAndSet: async (key, ...rest) => {
      if (key.startsWith('lmthing:lease:')) await new Promise((r) => setTimeout(r, 40));
      return inner.compareAndSet(key, ...rest);
    },
  });
  const model = mockModel([{ type: 'text', text: 'hello' }], { delayMs: 320 });
  await (await runPrompt(hello, { model, durable: { id: 'leased', storage, lease: { ttlMs: 300, owner: 'w1' } } })).result.text;
  await new Promise((r) => setTimeout(r, 100)); // the release has landed
  const lease = await inner.get('lmthing:lease:leased');
  assert.ok(!lease || lease.value.released === true, `the lease is released: ${JSON.stringify(lease?.value)}`);
});

test('deleteJournal("a") leaves the run "a:answer:x" alone', async () => {
  const storage = memoryStorage();
  for (const id of ['a', 'a:answer:x']) await (await runPrompt(hello, { model: answer(), durable: { id, storage } })).result.text;
  await deleteJournal('a', storage);
  assert.equal((await loadJournal('a:answer:x', storage)).records.length > 0, true);
  await assert.rejects(loadJournal('a', storage), (e) => e.code === 'JOURNAL_MISSING');
});

test('a stored state value that is not JSON (NaN from a custom adapter) is a StorageError, not a silent null', async () => {
  const inner = memoryStorage();
  const storage = adapter('flaky', inner, { get: async (k) => (k.includes('counter') ? { value: { n: Number.NaN }, version: '1' } : inner.get(k)) });
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defState('counter', { n: 0 }, { persist: true, scope: 'global' });
      ctx.$`Hi.`;
    },
    { model: answer(), storage },
  );
  await assert.rejects(result.text, (e) => e instanceof StateError && e.code === 'STORAGE_UNAVAILABLE' && /storage adapter "flaky" answered get\("state:global:counter"\) with a value that is not JSON \(\$\.value\.n is NaN\)/.test(e.message));
});

test("a state's deserialize that returns something that is not JSON is named as such", async () => {
  const storage = memoryStorage();
  await storage.set('state:global:prefs', 'stored text');
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defState('prefs', {}, { persist: true, scope: 'global', serialize: (v) => JSON.stringify(v), deserialize: () => () => 1 });
      ctx.$`Hi.`;
    },
    { model: answer(), storage },
  );
  await assert.rejects(result.text, (e) => e instanceof StateError && e.code === 'STORAGE_CORRUPT' && /deserialize returned a value that is not JSON \(\$ is a function\)/.test(e.message));
});

test('a journal write that never gets an answer fails the run after durable.writeTimeoutMs; suspend() and an abort are not held up forever', async () => {
  for (const how of ['suspend', 'abort']) {
    const inner = memoryStorage();
    let stuck = false;
    // The adapter never answers the write of record 2 (the model's answer).
    const storage = adapter('stuck', inner, {
      compareAndSet: (key, ...rest) => (key.endsWith(':0000000002') ? ((stuck = true), new Promise(() => {})) : inner.compareAndSet(key, ...rest)),
    });
    const controller = new AbortController();
    const run = await runPrompt(hello, { model: answer(), abortSignal: controller.signal, durable: { id: `stuck-${how}`, storage, writeTimeoutMs: 200 } });
    while (!stuck) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const stopped = how === 'suspend' ? run.prompt.suspend().then(() => undefined, (e) => e) : (controller.abort(), Promise.resolve(undefined));
    const [error, refused] = await Promise.all([run.result.text.then(() => undefined, (e) => e), stopped]);
    assert.ok(Date.now() - started < 2000, `${how}: settled after ${Date.now() - started} ms`);
    // suspend() says the journal could not be saved; the aborted run fails with the same.
    const failure = how === 'suspend' ? refused : error;
    assert.equal(failure?.code, 'JOURNAL_WRITE_FAILED', `${how}: ${failure}`);
    assert.match(failure.message, /storage adapter "stuck" gave no answer within 200 ms \(durable\.writeTimeoutMs\)/);
  }
});
