/**
 * The storage interface every adapter implements (memory, files, IndexedDB, Redis, or your own),
 * and the options of the built-in adapters. See docs/storage.md for the guarantees.
 */

import type { JsonValue } from '../schema-types.js';
import type { IndexedDBFactoryLike } from '../platform-types.js';

/** A JSON value as stored and read back (the package's one JSON type). */
export type { JsonValue };

/** What {@link StorageAdapter.get} finds: the value and the version it was written with. */
export interface StoredEntry {
  value: JsonValue;
  /** Opaque, non-empty; changes on every write of the key (never reused for that key). */
  version: string;
}

/** Options of a write. */
export interface StorageWriteOptions {
  /** Time to live in ms (> 0). Without it the entry never expires, even if it had a TTL before. */
  ttl?: number;
}

/** Where an adapter reads the time for TTLs: `Date` by default; a `VirtualClock` in tests. */
export interface StorageClock {
  now(): number;
}

/**
 * A key-value store of JSON values with versions. Keys are non-empty strings; every method
 * rejects with a {@link StorageError} (never another error type) naming the adapter and the key.
 */
export interface StorageAdapter {
  /** The adapter's kind, used in errors: `memory`, `file`, `indexeddb`, `redis`, or a custom name. */
  readonly name: string;
  /** The live entry for `key`, or `undefined` when it is absent or expired. */
  get(key: string): Promise<StoredEntry | undefined>;
  /** Writes `value` (a JSON value) unconditionally; resolves to the new version. */
  set(key: string, value: unknown, options?: StorageWriteOptions): Promise<string>;
  /** Removes `key`; resolves to whether a live entry was there. */
  delete(key: string): Promise<boolean>;
  /** The live keys starting with `prefix` (all keys when omitted), sorted by UTF-16 code units. */
  list(prefix?: string): Promise<string[]>;
  /**
   * Writes `value` only if the key's current version is `expectedVersion`; `undefined` or `null`
   * means "only if the key is absent (or expired)". Resolves to the new version (a non-empty
   * string, so truthy) when it wrote, `false` when the comparison failed and nothing changed.
   * Atomic with respect to every other writer of the same store, in every process.
   */
  compareAndSet(key: string, expectedVersion: string | null | undefined, value: unknown, options?: StorageWriteOptions): Promise<string | false>;
  /** Releases connections or handles the adapter opened itself (not ones it was given). */
  close?(): Promise<void>;
}

/** Options of `fileStorage(dir, options)`. */
export interface FileStorageOptions {
  /** Clock for TTLs (default: `Date`). Every process sharing the directory should agree on it. */
  clock?: StorageClock;
  /**
   * fsync each record and the directory before a write resolves (default `true`). `false` keeps
   * writes atomic (rename) but a power loss may lose the latest ones.
   */
  durable?: boolean;
  /** How long a write waits for another writer's lock on the same key (default 10,000 ms). */
  lockTimeoutMs?: number;
}

/**
 * The part of a `redis` (node-redis v4 or v5) client that `redisStorage` uses; every client with a
 * compatible `sendCommand` works.
 */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Options of `redisStorage(options)`: a URL (the adapter owns the connection) or a client (you own it). */
export interface RedisStorageOptions {
  /** `redis://[user:password@]host:port[/db]`; needs the optional `redis` package. */
  url?: string;
  /** A connected client to use instead of `url`; `close()` leaves it open. */
  client?: RedisClientLike;
  /** Prefix of every Redis key the adapter touches (default `lmthing:`). */
  keyPrefix?: string;
  /** Connection timeout for `url` (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** A command that gets no answer within this time fails with STORAGE_UNAVAILABLE (default 10,000 ms). */
  commandTimeoutMs?: number;
}

/** Options of `indexedDBStorage(dbName, options)`. */
export interface IndexedDBStorageOptions {
  /** Clock for TTLs (default: `Date`). */
  clock?: StorageClock;
  /** The `IDBFactory` to use (default: the global `indexedDB`). */
  indexedDB?: IndexedDBFactoryLike;
}
