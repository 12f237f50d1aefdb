// One conformance suite for every storage adapter (docs/storage.md). It runs in Node (memory,
// file, Redis runners: storage-*.test.mjs) and in Chromium (IndexedDB: storage-indexeddb.test.mjs
// serves this file to a page), so it imports nothing and brings its own small assertions.
//
// A runner gives each case a `setup`:
//   fresh()        -> a new, empty adapter (its own directory / key prefix / database)
//   reopen?(a)     -> another adapter on the same backend as `a` (another connection or handle)
//   corrupt?(a, k) -> writes a broken record for key k behind the adapter's back

export const cases = [];
const test = (name, run) => cases.push({ name, run });

// ------------------------------------------------------------------ assertions

function fail(message) {
  throw new Error(message);
}
const show = (v) => {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};
function equal(actual, expected, what) {
  if (show(actual) !== show(expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}
function ok(cond, what) {
  if (!cond) fail(what);
}
/** Awaits `promise`, expecting a StorageError with `code`; returns it. */
async function rejects(promise, code, what) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  ok(error, `${what}: expected a ${code} error, but it succeeded`);
  ok(error.name === 'StorageError', `${what}: expected a StorageError, got ${error.name}: ${error.message}`);
  equal(error.code, code, `${what}: error code (message: ${error.message})`);
  return error;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------ cases

test('get of an absent key is undefined', async ({ fresh }) => {
  const s = fresh();
  equal(await s.get('nothing-here'), undefined, 'get');
});

test('set resolves to a version; get returns the value with that version', async ({ fresh }) => {
  const s = fresh();
  const version = await s.set('user:1', { name: 'Ada', langs: ['en', 'fr'] });
  ok(typeof version === 'string' && version.length > 0, `set must resolve to a non-empty version string, got ${show(version)}`);
  const entry = await s.get('user:1');
  equal(entry, { value: { name: 'Ada', langs: ['en', 'fr'] }, version }, 'get');
});

test('JSON values round-trip exactly', async ({ fresh }) => {
  const s = fresh();
  const big = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, text: `row ${i} ${'x'.repeat(40)}` })) };
  const values = [null, true, false, 0, -1.5, 1e21, 'x', '', 'ünïcødé ✓ 🚀 \u0000 "quotes" \\ \n', [], {}, [1, [2, [3, null]]], { a: { b: { c: [true] } } }, big];
  for (const [i, value] of values.entries()) await s.set(`v${i}`, value);
  for (const [i, value] of values.entries()) equal((await s.get(`v${i}`)).value, value, `value ${i}`);
  // Properties that are undefined are left out, as JSON.stringify does.
  await s.set('sparse', { a: 1, b: undefined });
  equal((await s.get('sparse')).value, { a: 1 }, 'undefined properties');
});

test('every write gives the key a new version, never an earlier one (not even after a delete)', async ({ fresh }) => {
  const s = fresh();
  const seen = new Set();
  for (let i = 0; i < 3; i++) seen.add(await s.set('k', i));
  await s.delete('k');
  seen.add(await s.set('k', 'again'));
  seen.add(await s.compareAndSet('k', (await s.get('k')).version, 'cas'));
  equal(seen.size, 5, 'distinct versions');
});

test('what is stored is a copy: later mutations of the written or the read object do not change it', async ({ fresh }) => {
  const s = fresh();
  const value = { list: [1, 2] };
  await s.set('k', value);
  value.list.push(3);
  const read = (await s.get('k')).value;
  equal(read, { list: [1, 2] }, 'after mutating the written object');
  read.list.push(4);
  equal((await s.get('k')).value, { list: [1, 2] }, 'after mutating the read object');
});

test('delete resolves to whether the key was there', async ({ fresh }) => {
  const s = fresh();
  await s.set('k', 1);
  equal(await s.delete('k'), true, 'first delete');
  equal(await s.delete('k'), false, 'second delete');
  equal(await s.get('k'), undefined, 'get after delete');
  equal(await s.delete('never'), false, 'delete of an absent key');
});

test('list returns the live keys with the prefix, sorted', async ({ fresh }) => {
  const s = fresh();
  for (const k of ['user:2', 'user:10', 'user:1', 'users', 'team:1', 'use']) await s.set(k, k);
  equal(await s.list('user:'), ['user:1', 'user:10', 'user:2'], 'list("user:")');
  equal(await s.list('user'), ['user:1', 'user:10', 'user:2', 'users'], 'list("user")');
  equal(await s.list(), ['team:1', 'use', 'user:1', 'user:10', 'user:2', 'users'], 'list()');
  equal(await s.list(''), ['team:1', 'use', 'user:1', 'user:10', 'user:2', 'users'], 'list("")');
  equal(await s.list('nobody'), [], 'list of an unused prefix');
  await s.delete('user:10');
  equal(await s.list('user:'), ['user:1', 'user:2'], 'list after a delete');
});

test('keys with any characters stay distinct, readable and listable', async ({ fresh }) => {
  const s = fresh();
  const keys = ['a/b', 'a\\b', '..', '.', 'A', 'a', '%41', '*', '?', '[x]', 'sp ace', 'tab\t', 'é', '🚀', 'k:'.repeat(300), 'CON', 'x'.repeat(1000)];
  for (const [i, k] of keys.entries()) await s.set(k, i);
  for (const [i, k] of keys.entries()) equal((await s.get(k))?.value, i, `key ${show(k.slice(0, 20))}`);
  const sorted = [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  equal(await s.list(), sorted, 'list()');
  equal(await s.list('k:k:'), ['k:'.repeat(300)], 'list of a long prefix');
  equal(await s.list('['), ['[x]'], 'list of a glob character');
  equal(await s.list('*'), ['*'], 'list("*") is literal');
});

test('compareAndSet with no expected version writes only if the key is absent', async ({ fresh }) => {
  const s = fresh();
  const first = await s.compareAndSet('k', undefined, 'first');
  ok(typeof first === 'string' && first.length > 0, `the first compareAndSet must resolve to a version, got ${show(first)}`);
  equal(await s.compareAndSet('k', undefined, 'second'), false, 'compareAndSet(undefined) on an existing key');
  equal(await s.compareAndSet('k', null, 'third'), false, 'compareAndSet(null) on an existing key');
  equal(await s.get('k'), { value: 'first', version: first }, 'value after the failed attempts');
  equal(typeof (await s.compareAndSet('other', null, 1)), 'string', 'compareAndSet(null) on an absent key');
});

test('compareAndSet writes with the current version and refuses a stale one', async ({ fresh }) => {
  const s = fresh();
  const v1 = await s.set('k', 1);
  const v2 = await s.compareAndSet('k', v1, 2);
  ok(v2 && v2 !== v1, 'a successful compareAndSet resolves to a new version');
  equal(await s.compareAndSet('k', v1, 3), false, 'compareAndSet with the previous version');
  equal(await s.compareAndSet('k', 'no-such-version', 3), false, 'compareAndSet with a made-up version');
  equal(await s.get('k'), { value: 2, version: v2 }, 'value');
  const v3 = await s.compareAndSet('k', v2, 3, { ttl: 60_000 });
  equal((await s.get('k')).version, v3, 'version after a compareAndSet with a ttl');
});

test('compareAndSet with a version from before a delete fails', async ({ fresh }) => {
  const s = fresh();
  const v1 = await s.set('k', 1);
  await s.delete('k');
  equal(await s.compareAndSet('k', v1, 2), false, 'compareAndSet after delete');
  equal(await s.get('k'), undefined, 'still absent');
});

test('concurrent read-modify-write cycles with compareAndSet lose no update', async ({ fresh }) => {
  const s = fresh();
  let conflicts = 0;
  const increment = async () => {
    for (;;) {
      const current = await s.get('counter');
      if (await s.compareAndSet('counter', current?.version, (current?.value ?? 0) + 1)) return;
      conflicts++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = 0; i < 15; i++) await increment();
  }));
  equal((await s.get('counter')).value, 120, 'counter');
  ok(conflicts > 0, 'the workers should have collided at least once');
});

test('an entry with a ttl is there at first, then gone from get, list and compareAndSet', async ({ fresh }) => {
  const s = fresh();
  const written = Date.now();
  await s.set('short', 'soon gone', { ttl: 400 });
  await s.set('long', 'stays', { ttl: 600_000 });
  await s.set('forever', 'stays');
  const early = await s.get('short');
  // Only when the machine was quick enough to read within the ttl (no tight timing assertion).
  if (Date.now() - written < 300) equal(early?.value, 'soon gone', 'right after set');
  await sleep(900);
  equal(await s.get('short'), undefined, 'get after the ttl');
  equal(await s.list(), ['forever', 'long'], 'list after the ttl');
  ok(await s.compareAndSet('short', null, 'new'), 'an expired key counts as absent for compareAndSet');
  equal(await s.delete('long'), true, 'delete of a live key with a ttl');
});

test('a write without a ttl removes an earlier ttl', async ({ fresh }) => {
  const s = fresh();
  await s.set('k', 1, { ttl: 400 });
  await s.set('k', 2);
  const c = await s.set('c', 1, { ttl: 400 });
  const replaced = await s.compareAndSet('c', c, 2); // false only if the machine took longer than the ttl
  await sleep(900);
  equal((await s.get('k'))?.value, 2, 'set without ttl');
  if (replaced) equal((await s.get('c'))?.value, 2, 'compareAndSet without ttl');
});

test('a value that is not JSON is refused, naming the adapter, the key and where; the old value stays', async ({ fresh }) => {
  const s = fresh();
  const v = await s.set('k', 'old');
  const cyclic = { a: {} };
  cyclic.a.back = cyclic;
  let deep = {};
  for (let i = 0; i < 5000; i++) deep = { a: deep }; // deeper than JSON.stringify's stack allows
  const bad = [
    [() => 1, '$ is a function'],
    [{ a: [1, () => 2] }, '$.a[1] is a function'],
    [cyclic, '$.a.back refers back'],
    [{ n: 10n }, '$.n is a BigInt'],
    [{ x: NaN }, '$.x is NaN'],
    [[Infinity], '$[0] is Infinity'],
    [new Map([[1, 2]]), '$ is a Map'],
    [{ when: new Date(0) }, '$.when is a Date'],
    [undefined, '$ is undefined'],
    [[undefined], '$[0] is undefined'],
    [{ 'odd key': Symbol('s') }, '$["odd key"] is a symbol'],
    [deep, 'is nested deeper than the limit of 1000 levels'],
  ];
  for (const [value, where] of bad) {
    const error = await rejects(s.set('k', value), 'STORAGE_UNSERIALIZABLE', `set(${where})`);
    ok(error.message.includes(where), `the message should say "${where}": ${error.message}`);
    equal(error.key, 'k', 'error.key');
    equal(error.adapter, s.name, 'error.adapter');
    await rejects(s.compareAndSet('k', v, value), 'STORAGE_UNSERIALIZABLE', `compareAndSet(${where})`);
  }
  equal(await s.get('k'), { value: 'old', version: v }, 'the old value is untouched');
});

test('bad arguments are refused with STORAGE_BAD_ARGUMENT', async ({ fresh }) => {
  const s = fresh();
  const v = await s.set('k', 1);
  await rejects(s.get(''), 'STORAGE_BAD_ARGUMENT', 'get("")');
  await rejects(s.get(42), 'STORAGE_BAD_ARGUMENT', 'get(42)');
  await rejects(s.set(undefined, 1), 'STORAGE_BAD_ARGUMENT', 'set(undefined)');
  await rejects(s.delete(null), 'STORAGE_BAD_ARGUMENT', 'delete(null)');
  await rejects(s.list(5), 'STORAGE_BAD_ARGUMENT', 'list(5)');
  for (const ttl of [0, -1, NaN, Infinity, 1e16, '100'])
    await rejects(s.set('k', 2, { ttl }), 'STORAGE_BAD_ARGUMENT', `set with ttl ${show(ttl)}`);
  await rejects(s.compareAndSet('k', '', 2), 'STORAGE_BAD_ARGUMENT', 'compareAndSet with an empty version');
  await rejects(s.compareAndSet('k', 7, 2), 'STORAGE_BAD_ARGUMENT', 'compareAndSet with a number as version');
  equal(await s.get('k'), { value: 1, version: v }, 'nothing was written');
});

test('a corrupted record is reported as STORAGE_CORRUPT naming the key', async ({ fresh, corrupt }) => {
  if (!corrupt) return 'skip: this backend cannot be corrupted from outside';
  const s = fresh();
  await s.set('good', 1);
  await s.set('bad', 1);
  await corrupt(s, 'bad');
  const error = await rejects(s.get('bad'), 'STORAGE_CORRUPT', 'get of the corrupted key');
  equal(error.key, 'bad', 'error.key');
  equal(error.adapter, s.name, 'error.adapter');
  equal((await s.get('good')).value, 1, 'other keys still read');
  // It is there: listing shows it (and does not fail), deleting removes it.
  equal(await s.list(), ['bad', 'good'], 'list with a corrupted record');
  equal(await s.delete('bad'), true, 'delete of the corrupted key');
  equal(await s.get('bad'), undefined, 'get after deleting it');
  await s.set('bad', 1);
  await corrupt(s, 'bad');
  // Overwriting repairs it.
  await s.set('bad', 2);
  equal((await s.get('bad')).value, 2, 'after overwriting');
});

test('another adapter on the same backend sees the same entries', async ({ fresh, reopen }) => {
  if (!reopen) return 'skip: this backend lives in one adapter';
  const a = fresh();
  const b = await reopen(a);
  const v = await a.set('shared', { n: 1 });
  equal(await b.get('shared'), { value: { n: 1 }, version: v }, 'read through the other adapter');
  ok(await b.compareAndSet('shared', v, { n: 2 }), 'compareAndSet through the other adapter');
  equal(await a.compareAndSet('shared', v, { n: 3 }), false, 'the first adapter sees the new version');
  equal((await a.get('shared')).value, { n: 2 }, 'value');
  equal(await a.list(), ['shared'], 'list');
  await b.close?.();
});
