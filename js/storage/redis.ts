/**
 * `redisStorage({url} | {client})`: entries in a Redis server (Node only), shared by every process
 * that uses the same server and key prefix.
 *
 * Each key is one Redis string `<prefix>k:<key>` holding `<version>:<json>`; versions come from
 * one counter, `<prefix>version` (INCR), so they only grow. Writes are Lua scripts (a write and
 * its version are one atomic step; compare-and-set compares and writes in the same step), TTLs are
 * `SET ... PX`, so Redis expires entries itself. `list` uses SCAN, never KEYS.
 *
 * The `redis` package is an optional peer dependency, loaded only for `{url}`.
 */
import * as c from '../config/check.js';
import { StorageError } from '../errors.js';
import { checkAdapterOptions, checkExpectedVersion, checkKey, checkPrefix, checkTtl, corrupt, decodeValue, encodeValue, sortKeys, type AdapterIdentity } from './checks.js';
import { nodeCrypto } from './node-builtins.js';
import type { RedisClientLike, RedisStorageOptions, StorageAdapter, StoredEntry, StorageWriteOptions } from './types.js';
import { withinTime } from '../within-time.js';

// KEYS[1] = the entry, KEYS[2] = the version counter; ARGV[1] = JSON text, ARGV[2] = TTL in ms or ''.
const SET_SCRIPT = `
local version = redis.call('INCR', KEYS[2])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], version .. ':' .. ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], version .. ':' .. ARGV[1])
end
return version`;

// As SET_SCRIPT, after checking that the entry's version is ARGV[3] ('' = the entry must not exist).
const CAS_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if ARGV[3] == '' then
  if current then return 0 end
elseif not current or string.sub(current, 1, #ARGV[3] + 1) ~= ARGV[3] .. ':' then
  return 0
end
local version = redis.call('INCR', KEYS[2])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], version .. ':' .. ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], version .. ':' .. ARGV[1])
end
return version`;

/** Each script's SHA1, as EVALSHA takes it: computed on first use, not when the package loads. */
const shas = new Map<string, string>();
function sha1(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) shas.set(script, (sha = nodeCrypto().createHash('sha1').update(script).digest('hex')));
  return sha;
}

/** What `import('redis')` gives: only `createClient` is used. */
interface RedisModule {
  createClient(options: Record<string, unknown>): OwnedClient;
}
interface OwnedClient extends RedisClientLike {
  connect(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
  destroy?(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

class RedisStorage implements StorageAdapter {
  readonly name = 'redis';
  private readonly who: AdapterIdentity;
  private readonly prefix: string;
  private readonly versionKey: string;
  private readonly commandTimeoutMs: number;
  private connecting: Promise<RedisClientLike> | undefined;
  private owned: OwnedClient | undefined;
  private closed = false;

  constructor(private readonly options: RedisStorageOptions) {
    const target = options.client ? 'a given client' : redactUrl(options.url ?? '');
    this.who = { name: 'redis', label: `redis storage (${target})` };
    this.prefix = options.keyPrefix ?? 'lmthing:';
    this.versionKey = `${this.prefix}version`;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    if (options.client) this.connecting = Promise.resolve(options.client);
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const k = checkKey(this.who, key);
    const raw = await this.command(k, ['GET', this.entryKey(k)]);
    if (raw === null || raw === undefined) return undefined;
    return this.decode(k, asText(raw));
  }

  async set(key: string, value: unknown, options?: StorageWriteOptions): Promise<string> {
    const k = checkKey(this.who, key);
    const text = encodeValue(this.who, k, value);
    const ttl = checkTtl(this.who, k, options);
    const version = await this.script(k, SET_SCRIPT, [text, ttlArg(ttl)]);
    return String(version);
  }

  async delete(key: string): Promise<boolean> {
    const k = checkKey(this.who, key);
    return Number(await this.command(k, ['DEL', this.entryKey(k)])) > 0;
  }

  async list(prefix?: string): Promise<string[]> {
    const p = checkPrefix(this.who, prefix);
    const base = `${this.prefix}k:`;
    const keys = new Set<string>(); // SCAN may return a key more than once
    let cursor = '0';
    do {
      const reply = (await this.command(undefined, ['SCAN', cursor, 'MATCH', `${globEscape(base + p)}*`, 'COUNT', '1000'])) as [unknown, unknown[]];
      cursor = asText(reply[0]);
      for (const k of reply[1]) keys.add(asText(k).slice(base.length));
    } while (cursor !== '0');
    return sortKeys(keys);
  }

  async compareAndSet(key: string, expectedVersion: string | null | undefined, value: unknown, options?: StorageWriteOptions): Promise<string | false> {
    const k = checkKey(this.who, key);
    const expected = checkExpectedVersion(this.who, k, expectedVersion);
    const text = encodeValue(this.who, k, value);
    const ttl = checkTtl(this.who, k, options);
    if (expected !== null && !/^\d+$/.test(expected)) return false; // not a version this adapter wrote
    const version = Number(await this.script(k, CAS_SCRIPT, [text, ttlArg(ttl), expected ?? '']));
    return version > 0 ? String(version) : false;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.owned;
    const connecting = this.owned ? undefined : this.connecting;
    this.owned = undefined;
    this.connecting = undefined;
    if (client) await closeClient(client);
    // A connection still being made closes itself when it is made (see connect): wait for that.
    else if (connecting && !this.options.client) await connecting.catch(() => undefined);
  }

  // ------------------------------------------------------------------ Redis access

  private entryKey(key: string): string {
    return `${this.prefix}k:${key}`;
  }

  private decode(key: string, raw: string): StoredEntry {
    const colon = raw.indexOf(':');
    const version = raw.slice(0, colon);
    if (colon <= 0 || !/^\d+$/.test(version)) throw corrupt(this.who, key, `${JSON.stringify(this.entryKey(key))} does not start with "<version>:"`);
    return { value: decodeValue(this.who, key, raw.slice(colon + 1)), version };
  }

  /** Runs a write script by its SHA, loading it on the first NOSCRIPT. */
  private async script(key: string, script: string, args: string[]): Promise<unknown> {
    const keys = ['2', this.entryKey(key), this.versionKey];
    try {
      return await this.command(key, ['EVALSHA', sha1(script), ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof StorageError && err.message.includes('NOSCRIPT'))) throw err;
      return this.command(key, ['EVAL', script, ...keys, ...args]);
    }
  }

  /** One command, bounded by the command timeout; failures become typed errors naming the key. */
  private async command(key: string | undefined, args: string[]): Promise<unknown> {
    const client = await this.client(key);
    try {
      return await withinTime(client.sendCommand(args), this.commandTimeoutMs, () => new Error(`no answer within ${this.commandTimeoutMs} ms`));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith('WRONGTYPE') && key !== undefined) throw corrupt(this.who, key, `${JSON.stringify(this.entryKey(key))} is not a string (${message})`);
      const about = key === undefined ? '' : ` (key "${key}")`;
      throw new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: command ${args[0]} failed${about}: ${message}`, { adapter: 'redis', key, cause: err });
    }
  }

  /** The client: the given one, or one connected from `url` on first use (again after a failure). */
  private client(key: string | undefined): Promise<RedisClientLike> {
    if (this.closed) return Promise.reject(new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: the storage was closed`, { adapter: 'redis', key }));
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async connect(): Promise<RedisClientLike> {
    const { url } = this.options;
    if (!url) throw new StorageError('STORAGE_BAD_ARGUMENT', 'redisStorage: give either {url} or {client}', { adapter: 'redis' });
    const redis = await loadRedis();
    let connected = false;
    let lastError: Error | undefined;
    const client = redis.createClient({
      url,
      disableOfflineQueue: true, // while disconnected, commands fail at once instead of queueing forever
      socket: {
        connectTimeout: this.options.connectTimeoutMs ?? 5000,
        // The first connection fails fast; a lost connection is retried in the background.
        reconnectStrategy: (retries: number) => (connected ? Math.min(50 * (retries + 1), 1000) : new Error('could not connect')),
      },
    });
    client.on('error', (err) => {
      lastError = err; // a client without an error listener would crash the process
    });
    // connectTimeout bounds the TCP connect only: a server that accepts and never answers (stopped,
    // a half-open proxy) would hold the handshake (HELLO, AUTH, SELECT) forever.
    const connectMs = this.options.connectTimeoutMs ?? 5000;
    try {
      await withinTime(client.connect(), connectMs + this.commandTimeoutMs, () => new Error(`no answer to the connection's handshake within ${connectMs + this.commandTimeoutMs} ms`));
    } catch (err) {
      await closeClient(client);
      const reason = describeConnectError(lastError ?? err);
      throw new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: cannot reach the Redis server: ${reason}`, { adapter: 'redis', cause: err });
    }
    if (this.closed) {
      await closeClient(client);
      throw new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: the storage was closed while it connected`, { adapter: 'redis' });
    }
    connected = true;
    this.owned = client;
    return client;
  }
}

async function loadRedis(): Promise<RedisModule> {
  // A variable and the ignore comments: bundlers must neither include the optional package nor
  // warn about an expression they cannot follow.
  const specifier = 'redis';
  try {
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as RedisModule;
  } catch (err) {
    throw new StorageError(
      'STORAGE_DEPENDENCY_MISSING',
      'redisStorage({url}) needs the "redis" package, an optional peer dependency of lmthing: npm install redis',
      { adapter: 'redis', cause: err },
    );
  }
}

async function closeClient(client: OwnedClient): Promise<void> {
  try {
    if (client.destroy) client.destroy();
    else if (client.disconnect) await client.disconnect();
    else if (client.close) await client.close();
    else await client.quit?.();
  } catch {
    // Already closed.
  }
}

function describeConnectError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (Array.isArray(e.errors) && e.errors.length) return describeConnectError(e.errors[0]);
  return typeof e.message === 'string' && e.message ? e.message : String(err);
}

/** The URL without credentials, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'an invalid URL';
  }
}

function ttlArg(ttl: number | undefined): string {
  return ttl === undefined ? '' : String(Math.max(1, Math.ceil(ttl)));
}

function asText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return new TextDecoder().decode(raw);
  return String(raw);
}

/** Escapes the glob characters of SCAN's MATCH pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A {@link StorageAdapter} on a Redis server (Node only); see docs/storage.md. */
export function redisStorage(options: RedisStorageOptions): StorageAdapter & { close(): Promise<void> };
export function redisStorage(options: RedisStorageOptions, ...rest: unknown[]): StorageAdapter & { close(): Promise<void> } {
  const bad = (message: string) => new StorageError('STORAGE_BAD_ARGUMENT', `redisStorage: ${message}`, { adapter: 'redis' });
  // One options object: a second argument ({keyPrefix}) would be ignored.
  if (rest.length > 0) throw bad('takes one options object {url | client, keyPrefix?, connectTimeoutMs?, commandTimeoutMs?}; put every option in it');
  checkAdapterOptions({ name: 'redis', label: 'redisStorage' }, options, optionShape, 'url');
  if (typeof options !== 'object' || options === null || (!options.url && !options.client))
    throw bad('give {url: "redis://host:port"} or {client} (a connected node-redis client)');
  if (options.url && options.client) throw bad('give {url} or {client}, not both (a given client is used as it is connected)');
  if (options.url) checkRedisUrl(options.url, bad);
  return new RedisStorage(options);
}

const optionShape: c.Shape = {
  url: c.nonEmpty,
  client: (v) => (typeof (v as { sendCommand?: unknown } | null)?.sendCommand === 'function' ? undefined : 'a node-redis v4/v5 client (with sendCommand(args))'),
  keyPrefix: c.string,
  connectTimeoutMs: c.ms(),
  commandTimeoutMs: c.ms(),
};

/**
 * Refuses a URL node-redis would fail on at the first command with a plain `TypeError` whose
 * `input` holds the whole URL, password included. The message shows the URL without credentials.
 */
function checkRedisUrl(url: string, bad: (message: string) => StorageError): void {
  const expected = 'redis://[user:password@]host[:port][/db] or rediss://… for TLS';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(`url is not a valid URL (not shown: it may hold a password); expected ${expected}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw bad(`url ${redactUrl(url)} has the scheme '${parsed.protocol}'; expected ${expected}`);
  if (!parsed.hostname) throw bad(`url ${redactUrl(url)} names no host; expected ${expected}`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw bad(`url ${redactUrl(url)}: the database '${db}' must be a number; expected ${expected}`);
}
