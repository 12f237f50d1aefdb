// The engine's storage.* ops through the package: the diagnostic run kind "storage" makes the
// engine (C++, src/state/storage_client) issue them, and js/storage/host.ts performs them on the
// adapters registered on that engine.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { createEngine, fileStorage, getStorage, memoryStorage, registerStorage, StorageError, unregisterStorage, useRunStorage } from '../../dist/node.js';

const root = mkdtempSync(join(tmpdir(), 'lmthing-storage-host-'));
after(() => rmSync(root, { recursive: true, force: true }));

const script = (storage, ops) => ({ kind: 'storage', storage, ops });

test('storage ops from the engine reach the adapter registered under the spec\'s name', async () => {
  const engine = await createEngine();
  const dir = join(root, 'files');
  registerStorage(engine, 'files', fileStorage(dir));
  const answers = await engine.startRun(
    script('files', [
      { op: 'set', key: 'user:1', value: { name: 'Ada' } },
      { op: 'get', key: 'user:1' },
      { op: 'cas', key: 'user:1', expectedVersion: 'stale', value: 'x' },
      { op: 'cas', key: 'user:2', expectedVersion: null, value: [1, 2] },
      { op: 'list', prefix: 'user:' },
      { op: 'delete', key: 'user:2' },
      { op: 'increment', key: 'visits', times: 3 },
    ]),
  );
  const version = answers[0].version;
  assert.equal(typeof version, 'string');
  assert.deepEqual(answers.slice(1), [
    { value: { name: 'Ada' }, version },
    { ok: false },
    { ok: true, version: answers[3].version },
    { keys: ['user:1', 'user:2'] },
    { deleted: true },
    { value: 3 },
  ]);
  // The engine wrote through the adapter: a fresh adapter on the directory sees the same data.
  assert.deepEqual(await fileStorage(dir).get('user:1'), { value: { name: 'Ada' }, version });
  assert.equal((await fileStorage(dir).get('visits')).value, 3);
});

test('every engine has its own "memory" storage', async () => {
  const [a, b] = await Promise.all([createEngine(), createEngine()]);
  await a.startRun(script('memory', [{ op: 'set', key: 'k', value: 'from a' }]));
  const [fromB] = await b.startRun(script('memory', [{ op: 'get', key: 'k' }]));
  assert.equal(fromB, null);
  const [fromA] = await a.startRun(script('memory', [{ op: 'get', key: 'k' }]));
  assert.equal(fromA.value, 'from a');
  assert.equal((await getStorage(a, 'memory').get('k')).value, 'from a');
});

test('a run can use an adapter object given in its config, under a name that lives until release()', async () => {
  const engine = await createEngine();
  const adapter = memoryStorage();
  const storage = useRunStorage(engine, adapter);
  assert.match(storage.name, /^run-storage:\d+$/);
  await engine.startRun(script(storage.name, [{ op: 'set', key: 'k', value: 42 }]));
  assert.equal((await adapter.get('k')).value, 42);
  storage.release();
  const error = await engine.startRun(script(storage.name, [{ op: 'get', key: 'k' }])).catch((e) => e);
  assert.ok(error instanceof StorageError);
  assert.equal(error.code, 'STORAGE_UNKNOWN');
  assert.equal(error.message, `storage.get: unknown storage "${storage.name}" (registered on this engine: "memory")`);
  // A name resolves to itself when registered, and is refused when not; nothing means "memory".
  assert.equal(useRunStorage(engine, 'memory').name, 'memory');
  assert.equal(useRunStorage(engine, undefined).name, 'memory');
  assert.throws(() => useRunStorage(engine, 'redis'), (e) => e instanceof StorageError && e.code === 'STORAGE_UNKNOWN' && /register it with registerStorage/.test(e.message));
});

test('adapter failures reach the run as typed StorageErrors naming the adapter and the key', async () => {
  const engine = await createEngine();
  const dir = join(root, 'corrupt');
  const files = fileStorage(dir);
  registerStorage(engine, 'files', files);
  await files.set('broken', 1);
  writeFileSync(join(dir, 'records', 'broken.json'), '{"key":"broken",');
  const corrupt = await engine.startRun(script('files', [{ op: 'get', key: 'broken' }])).catch((e) => e);
  assert.ok(corrupt instanceof StorageError, String(corrupt));
  assert.equal(corrupt.code, 'STORAGE_CORRUPT');
  assert.equal(corrupt.adapter, 'file');
  assert.equal(corrupt.key, 'broken');

  // A custom adapter that throws something else: wrapped, never an untyped error.
  const inner = memoryStorage();
  const flaky = {
    name: 'flaky',
    get: async () => {
      throw new Error('disk on fire');
    },
    set: (k, v, o) => inner.set(k, v, o),
    delete: (k) => inner.delete(k),
    list: (p) => inner.list(p),
    compareAndSet: (k, e, v, o) => inner.compareAndSet(k, e, v, o),
  };
  registerStorage(engine, 'flaky', flaky);
  const wrapped = await engine.startRun(script('flaky', [{ op: 'get', key: 'k' }])).catch((e) => e);
  assert.ok(wrapped instanceof StorageError);
  assert.equal(wrapped.code, 'STORAGE_UNAVAILABLE');
  assert.equal(wrapped.message, 'storage adapter "flaky" failed in get("k"): disk on fire');
  assert.equal(wrapped.key, 'k');

  // One that answers outside the contract: named with the method, not a protocol error of the host.
  const answers = { get: { weird: true }, set: 7, delete: 'yes', list: ['a', 2], compareAndSet: true };
  const sloppy = Object.fromEntries(Object.entries(answers).map(([method, answer]) => [method, async () => answer]));
  registerStorage(engine, 'sloppy', { name: 'sloppy', ...sloppy });
  for (const [op, method, expected] of [
    [{ op: 'get', key: 'k' }, 'get("k") with an object', 'undefined or {value, version} with a JSON value'],
    [{ op: 'set', key: 'k', value: 1 }, 'set("k") with the number 7', 'the new version (a non-empty string)'],
    [{ op: 'delete', key: 'k' }, 'delete("k") with the string "yes"', 'true or false'],
    [{ op: 'list', prefix: '' }, 'list("") with an array', 'an array of keys (strings)'],
    [{ op: 'cas', key: 'k', expectedVersion: null, value: 1 }, 'compareAndSet("k") with true', 'the new version (a non-empty string) or false'],
  ]) {
    const error = await engine.startRun(script('sloppy', [op])).catch((e) => e);
    assert.ok(error instanceof StorageError, `${op.op}: ${error}`);
    assert.equal(error.code, 'STORAGE_UNAVAILABLE');
    assert.equal(error.message, `storage adapter "sloppy" answered ${method}, expected ${expected}`);
  }

  unregisterStorage(engine, 'flaky');
  const gone = await engine.startRun(script('flaky', [{ op: 'get', key: 'k' }])).catch((e) => e);
  assert.equal(gone.code, 'STORAGE_UNKNOWN');
});

test('a TTL given to the engine reaches the adapter', async () => {
  const engine = await createEngine();
  const seen = [];
  const inner = memoryStorage();
  registerStorage(engine, 'spy', {
    name: 'spy',
    get: (k) => inner.get(k),
    set: (k, v, o) => (seen.push(['set', k, o]), inner.set(k, v, o)),
    delete: (k) => inner.delete(k),
    list: (p) => inner.list(p),
    compareAndSet: (k, e, v, o) => (seen.push(['cas', k, e, o]), inner.compareAndSet(k, e, v, o)),
  });
  await engine.startRun(script('spy', [
    { op: 'set', key: 'a', value: 1, ttlMs: 1500 },
    { op: 'cas', key: 'b', expectedVersion: null, value: 1, ttlMs: 60000 },
    { op: 'set', key: 'c', value: 1 },
  ]));
  assert.deepEqual(seen, [['set', 'a', { ttl: 1500 }], ['cas', 'b', null, { ttl: 60000 }], ['set', 'c', undefined]]);
});

test('two engines incrementing one counter through compareAndSet on shared files lose no update', async () => {
  const dir = join(root, 'shared');
  const engines = await Promise.all([createEngine(), createEngine()]);
  for (const engine of engines) registerStorage(engine, 'shared', fileStorage(dir));
  await Promise.all(engines.map((engine) => engine.startRun(script('shared', [{ op: 'increment', key: 'n', times: 40 }]))));
  assert.equal((await fileStorage(dir).get('n')).value, 80);
});

test('registerStorage refuses what is not a storage adapter', async () => {
  const engine = await createEngine();
  assert.throws(() => registerStorage(engine, '', memoryStorage()), (e) => e instanceof StorageError && e.code === 'STORAGE_BAD_ARGUMENT');
  assert.throws(
    () => registerStorage(engine, 'half', { get() {}, set() {} }),
    (e) => e instanceof StorageError && e.message === 'registerStorage("half"): expected a storage adapter (get, set, delete, list, compareAndSet), missing delete, list, compareAndSet',
  );
});
