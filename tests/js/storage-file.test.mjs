// fileStorage: the conformance suite, then what files must guarantee across processes: state that
// outlives the process that wrote it, no torn record after kill -9 mid-save, and compare-and-set
// that loses no update between two processes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { fileStorage, StorageError } from '../../dist/node.js';
import { runConformance } from './helpers/conformance-runner.mjs';
import { killMidSave, runChild, seeded } from './helpers/cross-process.mjs';
import { isHammerValue } from './helpers/storage-values.mjs';

const root = mkdtempSync(join(tmpdir(), 'lmthing-file-storage-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(root, `s${++dirs}`);
const dirOf = new WeakMap();

runConformance('file', {
  fresh: () => {
    const dir = newDir();
    const storage = fileStorage(dir);
    dirOf.set(storage, dir);
    return storage;
  },
  reopen: (storage) => fileStorage(dirOf.get(storage)),
  corrupt: (storage, key) => writeFileSync(join(dirOf.get(storage), 'records', `${key}.json`), '{"key":"bad","version":"1.a","expi'),
});

test('file: what one process saved, a later process reads', async () => {
  const dir = newDir();
  await runChild({ kind: 'file', dir }, 'write', 'prefs', JSON.stringify({ theme: 'dark', n: 1 }));
  const entry = await fileStorage(dir).get('prefs');
  assert.deepEqual(entry.value, { theme: 'dark', n: 1 });
});

test('file: kill -9 of a writer at random moments mid-save leaves a whole value, never a torn one (seeded, 25 runs)', async () => {
  const dir = newDir();
  const random = seeded(20260101);
  const seed = 7;
  let leftovers = 0;
  for (let run = 0; run < 25; run++) {
    await killMidSave({ kind: 'file', dir }, 'doc', seed, Math.floor(random() * 250));
    if (existsSync(join(dir, 'tmp'))) leftovers += readdirSync(join(dir, 'tmp')).length; // left behind = killed between write and rename
    const entry = await fileStorage(dir).get('doc'); // a fresh adapter, as after a restart
    if (entry) assert.ok(isHammerValue(entry.value, seed), `run ${run}: the record is not a value the writer saved whole`);
  }
  assert.ok((await fileStorage(dir).get('doc')) !== undefined, 'at least one save completed in 25 runs');
  // Opening the directory again removes what dead writers left in tmp/ (and their locks are broken).
  await fileStorage(dir).set('doc', 'after');
  assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  assert.equal((await fileStorage(dir).get('doc')).value, 'after');
  console.log(`# kill -9 runs that left a temp file (killed mid-write): ${leftovers} of 25`);
});

test('file: two processes incrementing one counter 1,000 times each with compareAndSet end at 2,000', async () => {
  const dir = newDir();
  const outputs = await Promise.all([runChild({ kind: 'file', dir }, 'increment', 'counter', 1000), runChild({ kind: 'file', dir }, 'increment', 'counter', 1000)]);
  assert.equal((await fileStorage(dir).get('counter')).value, 2000);
  const conflicts = outputs.map((o) => JSON.parse(o).conflicts);
  console.log(`# compareAndSet conflicts per process: ${conflicts.join(', ')}`);
});

test('file: a lock left by a killed process does not block later writers', async () => {
  const dir = newDir();
  const storage = fileStorage(dir, { lockTimeoutMs: 2000 });
  await storage.set('k', 1);
  // A lock file as a process that no longer exists would have left it.
  writeFileSync(join(dir, 'locks', 'k.lock'), `999999999 ${(await import('node:os')).hostname()} deadbeef`);
  assert.ok(await storage.compareAndSet('k', (await storage.get('k')).version, 2));
  assert.equal((await storage.get('k')).value, 2);
});

test('file: a lock held by a live process makes a writer wait, then fail with STORAGE_BUSY naming it', async () => {
  const dir = newDir();
  const storage = fileStorage(dir, { lockTimeoutMs: 300 });
  await storage.set('k', 1);
  writeFileSync(join(dir, 'locks', 'k.lock'), `${process.pid} ${(await import('node:os')).hostname()} cafe`);
  const error = await storage.set('k', 2).catch((e) => e);
  assert.ok(error instanceof StorageError);
  assert.equal(error.code, 'STORAGE_BUSY');
  assert.equal(error.key, 'k');
  assert.match(error.message, new RegExp(`could not lock key "k": lock held by process ${process.pid}`));
  rmSync(join(dir, 'locks', 'k.lock'));
  assert.ok(await storage.set('k', 3));
});

test('file: a directory that cannot be used is STORAGE_UNAVAILABLE naming it', async () => {
  const file = join(root, 'not-a-dir');
  writeFileSync(file, 'x');
  const error = await fileStorage(file).get('k').catch((e) => e);
  assert.ok(error instanceof StorageError);
  assert.equal(error.code, 'STORAGE_UNAVAILABLE');
  assert.equal(error.adapter, 'file');
  assert.ok(error.message.includes(file), error.message);
  assert.throws(() => fileStorage(''), (e) => e instanceof StorageError && e.code === 'STORAGE_BAD_ARGUMENT');
});

test('file: a write the disk has no room for (ENOSPC) is STORAGE_QUOTA and leaves no partial file, so later writes still fit', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync } = await import('node:fs');
  const mount = newDir();
  mkdirSync(mount);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    t.skip('mounting a 1 MB tmpfs needs root (and a system that allows it)');
    return;
  }
  try {
    const dir = join(mount, 'store');
    const s = fileStorage(dir);
    await s.set('a', 'small');
    const error = await s.set('big', 'x'.repeat(1_500_000)).catch((e) => e);
    assert.ok(error instanceof StorageError && error.code === 'STORAGE_QUOTA', String(error));
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'the refused write left no temp file');
    await s.set('a', 'small again');
    assert.equal((await s.get('a')).value, 'small again');
  } finally {
    execFileSync('umount', [mount]);
  }
});
