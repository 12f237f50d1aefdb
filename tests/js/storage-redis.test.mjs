// redisStorage against a real redis-server (Debian's, started on a free loopback port): the
// conformance suite through {url} and through a {client}, state that outlives both the writing
// process and a server restart, kill -9 of a writer mid-save, two processes sharing a counter,
// and the typed errors for an unreachable server and a missing `redis` package.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';

import { redisStorage, StorageError } from '../../dist/node.js';
import { runConformance } from './helpers/conformance-runner.mjs';
import { killMidSave, runChild, seeded } from './helpers/cross-process.mjs';
import { startRedis } from './helpers/redis-server.mjs';
import { isHammerValue } from './helpers/storage-values.mjs';

let redis;
let raw; // a plain client, to look behind the adapter
const opened = [];
let prefixes = 0;
const newPrefix = () => `t${process.pid}-${++prefixes}:`;
const prefixOf = new WeakMap();

before(async () => {
  redis = await startRedis();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  await raw.connect();
});
after(async () => {
  for (const s of opened) await s.close();
  await raw?.destroy();
  await redis?.stop();
});

const open = (options) => {
  const storage = redisStorage(options);
  opened.push(storage);
  return storage;
};

runConformance('redis', {
  fresh: () => {
    const keyPrefix = newPrefix();
    const storage = open({ url: redis.url, keyPrefix });
    prefixOf.set(storage, keyPrefix);
    return storage;
  },
  // The second adapter uses a client the test owns, the other way of configuring the adapter.
  reopen: (storage) => open({ client: raw, keyPrefix: prefixOf.get(storage) }),
  corrupt: async (storage, key) => {
    await raw.set(`${prefixOf.get(storage)}k:${key}`, 'no version here');
  },
});

test('redis: entries are Redis strings "<version>:<json>" under the key prefix, with PX TTLs', async () => {
  const keyPrefix = newPrefix();
  const s = open({ url: redis.url, keyPrefix });
  const version = await s.set('a', { x: 1 }, { ttl: 60_000 });
  assert.equal(await raw.get(`${keyPrefix}k:a`), `${version}:{"x":1}`);
  const pttl = await raw.pTTL(`${keyPrefix}k:a`);
  assert.ok(pttl > 0 && pttl <= 60_000, `PTTL ${pttl}`);
  await s.set('a', 2);
  assert.equal(await raw.pTTL(`${keyPrefix}k:a`), -1, 'a write without ttl clears the TTL');
});

test('redis: what one process saved, a later process reads, even after the server restarts', async () => {
  const keyPrefix = newPrefix();
  await runChild({ kind: 'redis', url: redis.url, keyPrefix }, 'write', 'prefs', JSON.stringify({ theme: 'dark' }));
  await redis.restart();
  const s = open({ url: redis.url, keyPrefix });
  assert.deepEqual((await s.get('prefs')).value, { theme: 'dark' });
  await raw.destroy();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  await raw.connect();
});

test('redis: kill -9 of a writer at random moments mid-save leaves a whole value (seeded, 10 runs)', async () => {
  const keyPrefix = newPrefix();
  const random = seeded(424242);
  for (let run = 0; run < 10; run++) {
    await killMidSave({ kind: 'redis', url: redis.url, keyPrefix }, 'doc', 3, Math.floor(random() * 150));
    const entry = await open({ url: redis.url, keyPrefix }).get('doc');
    if (entry) assert.ok(isHammerValue(entry.value, 3), `run ${run}: not a value the writer saved whole`);
  }
});

test('redis: two processes incrementing one counter 1,000 times each with compareAndSet end at 2,000', async () => {
  const keyPrefix = newPrefix();
  const adapter = { kind: 'redis', url: redis.url, keyPrefix };
  const outputs = await Promise.all([runChild(adapter, 'increment', 'counter', 1000), runChild(adapter, 'increment', 'counter', 1000)]);
  assert.equal((await open({ url: redis.url, keyPrefix }).get('counter')).value, 2000);
  console.log(`# compareAndSet conflicts per process: ${outputs.map((o) => JSON.parse(o).conflicts).join(', ')}`);
});

test('redis: an unreachable server is STORAGE_UNAVAILABLE naming the adapter and the key, without the password', async () => {
  const { createServer } = await import('node:net');
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const p = server.address().port;
      server.close(() => resolve(p));
    });
  });
  const s = open({ url: `redis://user:hunter2@127.0.0.1:${port}`, connectTimeoutMs: 2000 });
  const error = await s.get('k').catch((e) => e);
  assert.ok(error instanceof StorageError, String(error));
  assert.equal(error.code, 'STORAGE_UNAVAILABLE');
  assert.equal(error.adapter, 'redis');
  assert.match(error.message, /cannot reach the Redis server: ECONNREFUSED/);
  assert.ok(error.message.includes(`redis://127.0.0.1:${port}`), error.message);
  assert.ok(!error.message.includes('hunter2'), 'no password in the message');
  // The next call tries again (and fails the same way, promptly).
  assert.equal((await s.set('k', 1).catch((e) => e)).code, 'STORAGE_UNAVAILABLE');
});

test('redis: a URL node-redis could not use, or an option of the wrong type, is refused at once without showing a password', () => {
  const refused = (options, pattern) => {
    let error;
    try {
      redisStorage(options);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof StorageError, `${JSON.stringify(options)}: ${error}`);
    assert.equal(error.code, 'STORAGE_BAD_ARGUMENT');
    assert.match(error.message, pattern);
    // node-redis itself failed on these at the first command with a TypeError whose `input` was the URL, password and all.
    for (const text of [error.message, JSON.stringify(error), String(error.stack), String(error.cause)]) assert.ok(!text.includes('hunter2'), text);
    return error;
  };
  refused({ url: 'redis://:hunter2@127.0.0.1:99999' }, /^redisStorage: url is not a valid URL \(not shown: it may hold a password\); expected redis:\/\/\[user:password@\]host\[:port\]\[\/db\]/);
  refused({ url: 'hunter2 is not a URL' }, /url is not a valid URL/);
  refused({ url: 'http://u:hunter2@127.0.0.1:6379' }, /^redisStorage: url http:\/\/127\.0\.0\.1:6379 has the scheme 'http:'; expected redis:/);
  refused({ url: 'redis://:hunter2@127.0.0.1:6379/sessions' }, /the database 'sessions' must be a number/);
  refused({ url: 'redis://:hunter2@127.0.0.1:6379', client: raw }, /give \{url\} or \{client\}, not both/);
  refused({ url: 42 }, /^redisStorage: option 'url' must be a non-empty string, got 42$/);
  refused({ url: 'redis://127.0.0.1:6379', connectTimeoutMs: -1 }, /option 'connectTimeoutMs' must be a number of milliseconds > 0 \(at most 1e12\), got -1$/);
  refused({ url: 'redis://127.0.0.1:6379', commandTimeoutMs: '500' }, /option 'commandTimeoutMs' must be a number of milliseconds > 0/);
  refused({ url: 'redis://127.0.0.1:6379', keyPrefix: 5 }, /option 'keyPrefix' must be a string, got 5$/);
  refused({ client: {} }, /option 'client' must be a node-redis v4\/v5 client \(with sendCommand\(args\)\), got object$/);
  // The options are one object: a second one (as in `redisStorage({url}, {keyPrefix})`) would be ignored.
  assert.throws(() => redisStorage({ url: 'redis://127.0.0.1:6379' }, { keyPrefix: 'app:' }), (e) => e.code === 'STORAGE_BAD_ARGUMENT' && /takes one options object/.test(e.message));
  // What is right is taken: TLS, a database number, an empty prefix.
  for (const options of [{ url: 'rediss://user:hunter2@cache.example:6380/2' }, { url: 'redis://127.0.0.1:6379/', keyPrefix: '' }, { client: raw }]) assert.equal(typeof redisStorage(options).get, 'function');
});

test('redis: a server that goes away mid-use fails calls with STORAGE_UNAVAILABLE instead of hanging', async () => {
  const other = await startRedis();
  try {
    const s = open({ url: other.url, commandTimeoutMs: 3000 });
    await s.set('k', 1);
    await other.stop();
    const error = await s.get('k').catch((e) => e);
    assert.ok(error instanceof StorageError, String(error));
    assert.equal(error.code, 'STORAGE_UNAVAILABLE');
    assert.equal(error.key, 'k');
  } finally {
    await other.stop();
  }
});

test('redis: a server that accepts the connection and never answers fails the first call within the limits, and closing mid-connect leaves no connection', async () => {
  const { createServer } = await import('node:net');
  const sockets = new Set();
  const silent = createServer((socket) => {
    socket.resume(); // reads (and drops) the handshake, so it sees the client close
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const s = open({ url: `redis://:hunter2@127.0.0.1:${silent.address().port}`, connectTimeoutMs: 200, commandTimeoutMs: 200 });
    const started = performance.now();
    const error = await s.get('k').catch((e) => e);
    assert.ok(error instanceof StorageError && error.code === 'STORAGE_UNAVAILABLE', String(error));
    assert.match(error.message, /cannot reach the Redis server: no answer to the connection's handshake within 400 ms/);
    assert.ok(!error.message.includes('hunter2'));
    assert.ok(performance.now() - started < 3_000, `${performance.now() - started} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(sockets.size, 0, 'the half-made connection is closed');
  } finally {
    silent.close();
  }
  // close() while the adapter connects: the connection it was making is closed, and close() waits for that.
  const clients = async () => (await raw.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
  const before = await clients();
  const s = open({ url: redis.url });
  const pending = s.get('k');
  await s.close();
  const outcome = await pending.then(() => 'read', (e) => e.code);
  assert.equal(outcome, 'STORAGE_UNAVAILABLE');
  assert.equal(await clients(), before);
});

test("redis: a command timeout past setTimeout's range (30 days) is kept, and a TTL Redis cannot keep is refused as on every adapter", async () => {
  const s = open({ url: redis.url, keyPrefix: newPrefix(), commandTimeoutMs: 30 * 24 * 3600_000 });
  // The 5 MB write takes longer than 1 ms: a timer past 2^31-1 ms used to fire at once.
  await s.set('big', 'x'.repeat(5_000_000));
  assert.equal((await s.get('big')).value.length, 5_000_000);
  for (const ttl of [1e16, 1e21]) {
    const error = await s.set('k', 1, { ttl }).catch((e) => e);
    assert.equal(error.code, 'STORAGE_BAD_ARGUMENT');
    assert.match(error.message, /ttl must be a number of ms > 0 and at most 1e15/);
  }
  const version = await s.set('k', 1, { ttl: 1e15 });
  assert.ok(Number(version) > 0);
});

test('redis: without the redis package, a clear error names it', async () => {
  const { mkdtempSync, writeFileSync, symlinkSync, mkdirSync, rmSync } = await import('node:fs');
  const { join, resolve } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  // A project where lmthing is installed but redis is not: dist/ linked into its node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-no-redis-'));
  try {
    mkdirSync(join(dir, 'node_modules', 'lmthing'), { recursive: true });
    const root = resolve(import.meta.dirname, '../..');
    symlinkSync(join(root, 'dist'), join(dir, 'node_modules', 'lmthing', 'dist'));
    writeFileSync(join(dir, 'node_modules', 'lmthing', 'package.json'), JSON.stringify({ name: 'lmthing', type: 'module', exports: { '.': './dist/node.js' } }));
    writeFileSync(
      join(dir, 'check.mjs'),
      `import { redisStorage } from 'lmthing';
       const e = await redisStorage({ url: 'redis://127.0.0.1:1' }).get('k').catch((e) => e);
       console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['--preserve-symlinks', join(dir, 'check.mjs')], { cwd: dir, encoding: 'utf8' }));
    assert.deepEqual(out, {
      name: 'StorageError',
      code: 'STORAGE_DEPENDENCY_MISSING',
      message: 'redisStorage({url}) needs the "redis" package, an optional peer dependency of lmthing: npm install redis',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
