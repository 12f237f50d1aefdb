/**
 * `memoryStorage()`: the default adapter. Entries live in this process (or page) only; values are
 * kept as JSON text, so what you read back is a copy that later mutations of the written object
 * do not change.
 */
import { checkAdapterOptions, clockOption, checkExpectedVersion, checkKey, checkPrefix, checkTtl, decodeValue, encodeValue, sortKeys, type AdapterIdentity } from './checks.js';
import type { StorageAdapter, StorageClock, StoredEntry, StorageWriteOptions } from './types.js';

interface Entry {
  text: string;
  version: string;
  expiresAt: number | undefined;
}

/** Options of {@link memoryStorage}. */
export interface MemoryStorageOptions {
  /** Clock for TTLs (default: `Date`); a `VirtualClock` makes expiry testable without waiting. */
  clock?: StorageClock;
}

const wallClock: StorageClock = { now: () => Date.now() };

class MemoryStorage implements StorageAdapter {
  readonly name = 'memory';
  private readonly who: AdapterIdentity = { name: 'memory', label: 'memory storage' };
  private readonly entries = new Map<string, Entry>();
  private readonly clock: StorageClock;
  private nextVersion = 1;

  constructor(options: MemoryStorageOptions) {
    this.clock = options.clock ?? wallClock;
  }

  get(key: string): Promise<StoredEntry | undefined> {
    return attempt(() => {
      const k = checkKey(this.who, key);
      const entry = this.live(k);
      return entry && { value: decodeValue(this.who, k, entry.text), version: entry.version };
    });
  }

  set(key: string, value: unknown, options?: StorageWriteOptions): Promise<string> {
    return attempt(() => {
      const k = checkKey(this.who, key);
      return this.write(k, encodeValue(this.who, k, value), checkTtl(this.who, k, options));
    });
  }

  delete(key: string): Promise<boolean> {
    return attempt(() => {
      const k = checkKey(this.who, key);
      const existed = this.live(k) !== undefined;
      this.entries.delete(k);
      return existed;
    });
  }

  list(prefix?: string): Promise<string[]> {
    return attempt(() => {
      const p = checkPrefix(this.who, prefix);
      const keys: string[] = [];
      for (const key of [...this.entries.keys()]) if (key.startsWith(p) && this.live(key)) keys.push(key);
      return sortKeys(keys);
    });
  }

  compareAndSet(key: string, expectedVersion: string | null | undefined, value: unknown, options?: StorageWriteOptions): Promise<string | false> {
    return attempt(() => {
      const k = checkKey(this.who, key);
      const expected = checkExpectedVersion(this.who, k, expectedVersion);
      const text = encodeValue(this.who, k, value);
      const ttl = checkTtl(this.who, k, options);
      const current = this.live(k);
      if ((current?.version ?? null) !== expected) return false;
      return this.write(k, text, ttl);
    });
  }

  private write(key: string, text: string, ttl: number | undefined): string {
    const version = String(this.nextVersion++);
    this.entries.set(key, { text, version, expiresAt: ttl === undefined ? undefined : this.clock.now() + ttl });
    return version;
  }

  /** The entry if it has not expired; an expired one is dropped. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && this.clock.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

/** Runs synchronous work as a promise, so a thrown StorageError becomes a rejection. */
function attempt<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}

/** An in-memory {@link StorageAdapter}: the default storage of every engine. */
export function memoryStorage(options: MemoryStorageOptions = {}): StorageAdapter {
  checkAdapterOptions({ name: 'memory', label: 'memoryStorage' }, options, { clock: clockOption });
  return new MemoryStorage(options);
}
