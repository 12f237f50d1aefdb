/**
 * `indexedDBStorage(dbName)`: entries in the browser's IndexedDB, shared by every tab of the
 * origin and kept across reloads.
 *
 * One database per name with two object stores: `records` (`{key, version, expiresAt, text}`,
 * the value as JSON text) and `meta` (the version counter). Every write runs in one readwrite
 * transaction over both, so it is atomic and versions only grow; compare-and-set reads and writes
 * in the same transaction, which IndexedDB serializes against every other writer of the database.
 */
import { StorageError } from '../errors.js';
import { checkAdapterOptions, clockOption, checkExpectedVersion, checkKey, checkPrefix, checkTtl, corrupt, decodeValue, encodeValue, type AdapterIdentity } from './checks.js';
import type { Check } from '../config/check.js';
import type { IndexedDBStorageOptions, StorageAdapter, StorageClock, StoredEntry, StorageWriteOptions } from './types.js';

const RECORDS = 'records';
const META = 'meta';
const VERSION_KEY = 'version';
const wallClock: StorageClock = { now: () => Date.now() };

interface IdbRecord {
  key: string;
  version: string;
  expiresAt: number | null;
  text: string;
}

class IndexedDBStorage implements StorageAdapter {
  readonly name = 'indexeddb';
  private readonly who: AdapterIdentity;
  private readonly clock: StorageClock;
  private opening: Promise<IDBDatabase> | undefined;

  constructor(
    private readonly dbName: string,
    private readonly factory: IDBFactory,
    options: IndexedDBStorageOptions,
  ) {
    this.who = { name: 'indexeddb', label: `indexedDB storage "${dbName}"` };
    this.clock = options.clock ?? wallClock;
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const k = checkKey(this.who, key);
    const record = await this.transaction(k, 'readonly', (stores) => request<unknown>(stores.records.get(k)));
    const live = this.live(k, record);
    return live && { value: decodeValue(this.who, k, live.text), version: live.version };
  }

  set(key: string, value: unknown, options?: StorageWriteOptions): Promise<string> {
    return this.write(key, undefined, value, options);
  }

  async delete(key: string): Promise<boolean> {
    const k = checkKey(this.who, key);
    return this.transaction(k, 'readwrite', async (stores) => {
      const record = await request<unknown>(stores.records.get(k));
      if (record === undefined) return false;
      await request(stores.records.delete(k));
      return this.isLive(record);
    });
  }

  async list(prefix?: string): Promise<string[]> {
    const p = checkPrefix(this.who, prefix);
    return this.transaction(undefined, 'readonly', (stores) => {
      const keys: string[] = [];
      const range = p ? IDBKeyRange.lowerBound(p) : undefined;
      const cursorRequest = stores.records.openCursor(range);
      return new Promise<string[]>((resolve, reject) => {
        cursorRequest.onerror = () => reject(cursorRequest.error ?? new DOMException('cursor failed', 'UnknownError'));
        cursorRequest.onsuccess = () => {
          const cursor = cursorRequest.result;
          const key = typeof cursor?.key === 'string' ? cursor.key : undefined;
          if (!cursor || key === undefined || !key.startsWith(p)) return resolve(keys); // keys are sorted: past the prefix, done
          if (this.isLive(cursor.value)) keys.push(key);
          cursor.continue();
        };
      });
    });
  }

  async compareAndSet(key: string, expectedVersion: string | null | undefined, value: unknown, options?: StorageWriteOptions): Promise<string | false> {
    const expected = checkExpectedVersion(this.who, checkKey(this.who, key), expectedVersion);
    return this.write(key, { expected }, value, options);
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening) (await opening.catch(() => undefined))?.close();
  }

  // ------------------------------------------------------------------ IndexedDB access

  /** set (no condition) or compareAndSet (`condition.expected`); resolves to the version or false. */
  private async write<C extends { expected: string | null } | undefined>(
    key: string,
    condition: C,
    value: unknown,
    options: StorageWriteOptions | undefined,
  ): Promise<C extends undefined ? string : string | false> {
    const k = checkKey(this.who, key);
    const text = encodeValue(this.who, k, value);
    const ttl = checkTtl(this.who, k, options);
    const result = await this.transaction(k, 'readwrite', async (stores) => {
      if (condition) {
        const current = this.live(k, await request<unknown>(stores.records.get(k)));
        if ((current?.version ?? null) !== condition.expected) return false;
      }
      const counter = await request<unknown>(stores.meta.get(VERSION_KEY));
      const version = (typeof counter === 'number' ? counter : 0) + 1;
      stores.meta.put(version, VERSION_KEY);
      const record: IdbRecord = { key: k, version: String(version), expiresAt: ttl === undefined ? null : this.clock.now() + ttl, text };
      await request(stores.records.put(record));
      return record.version;
    });
    return result as C extends undefined ? string : string | false;
  }

  /** The record if it is well-formed and not expired; a malformed one is corrupted. */
  private live(key: string, record: unknown): IdbRecord | undefined {
    if (record === undefined) return undefined;
    if (!isRecord(record, key)) throw corrupt(this.who, key, 'not a {key, version, expiresAt, text} record');
    return this.isLive(record) ? record : undefined;
  }

  private isLive(record: unknown): boolean {
    const expiresAt = (record as { expiresAt?: unknown } | null)?.expiresAt;
    return typeof expiresAt !== 'number' || this.clock.now() < expiresAt;
  }

  /**
   * Runs `work` in one transaction over both stores and resolves with its result once the
   * transaction has committed; an abort (quota, a closed database) becomes a typed error.
   */
  private async transaction<T>(key: string | undefined, mode: IDBTransactionMode, work: (stores: { records: IDBObjectStore; meta: IDBObjectStore }) => Promise<T>): Promise<T> {
    const db = await this.database(key);
    let tx: IDBTransaction;
    try {
      tx = db.transaction([RECORDS, META], mode);
    } catch (err) {
      this.opening = undefined; // the connection was closed (e.g. the database was deleted): reopen next time
      throw this.failure(key, err);
    }
    const committed = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new DOMException('the transaction was aborted', 'AbortError'));
      tx.onerror = (event) => event.preventDefault(); // handled by onabort
    });
    try {
      const result = await work({ records: tx.objectStore(RECORDS), meta: tx.objectStore(META) });
      await committed;
      return result;
    } catch (err) {
      committed.catch(() => undefined);
      if (err instanceof StorageError) {
        try {
          tx.abort();
        } catch {
          // already finished
        }
        throw err;
      }
      throw this.failure(key, (await committed.then(() => err, (abortError: unknown) => abortError)) ?? err);
    }
  }

  private failure(key: string | undefined, err: unknown): StorageError {
    const name = (err as { name?: unknown } | null)?.name;
    const message = err instanceof Error ? err.message : String(err);
    const about = key === undefined ? '' : ` (key "${key}")`;
    if (name === 'QuotaExceededError')
      return new StorageError('STORAGE_QUOTA', `${this.who.label}: the browser's storage quota is exhausted${about}: ${message}`, { adapter: 'indexeddb', key, cause: err });
    return new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: IndexedDB failed${about}: ${typeof name === 'string' ? name : 'Error'}: ${message}`, {
      adapter: 'indexeddb',
      key,
      cause: err,
    });
  }

  private database(key: string | undefined): Promise<IDBDatabase> {
    this.opening ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = this.factory.open(this.dbName, 1);
      open.onupgradeneeded = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(RECORDS)) db.createObjectStore(RECORDS, { keyPath: 'key' });
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      };
      open.onblocked = () => reject(new DOMException('another tab keeps an older version of the database open', 'BlockedError'));
      open.onerror = () => reject(open.error ?? new DOMException('open failed', 'UnknownError'));
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(RECORDS) || !db.objectStoreNames.contains(META)) {
          db.close();
          reject(new DOMException(`database "${this.dbName}" exists but is not an lmthing storage (no "${RECORDS}"/"${META}" stores)`, 'InvalidStateError'));
          return;
        }
        db.onversionchange = () => {
          db.close(); // let another tab delete or upgrade it; the next operation reopens
          this.opening = undefined;
        };
        resolve(db);
      };
    }).catch((err: unknown) => {
      this.opening = undefined;
      throw this.failure(key, err);
    });
    return this.opening;
  }
}

function isRecord(r: unknown, key: string): r is IdbRecord {
  if (typeof r !== 'object' || r === null) return false;
  const { key: k, version, text, expiresAt } = r as Record<string, unknown>;
  return k === key && typeof version === 'string' && version.length > 0 && typeof text === 'string' && (expiresAt === null || typeof expiresAt === 'number');
}

/** Resolves with a request's result; rejects with its error. */
function request<T>(req: IDBRequest): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error ?? new DOMException('request failed', 'UnknownError'));
  });
}

/** The `indexedDB` option: an `IDBFactory` (anything with `open`). */
const indexedDBFactory: Check = (v) => (typeof (v as { open?: unknown } | null)?.open === 'function' ? undefined : 'an IDBFactory (such as the global indexedDB)');

/** A {@link StorageAdapter} on IndexedDB (browsers); see docs/storage.md. */
export function indexedDBStorage(dbName: string, options: IndexedDBStorageOptions = {}): StorageAdapter & { close(): Promise<void> } {
  if (typeof dbName !== 'string' || dbName.length === 0)
    throw new StorageError('STORAGE_BAD_ARGUMENT', `indexedDBStorage: dbName must be a non-empty string, got ${typeof dbName === 'string' ? 'an empty string' : typeof dbName}`, {
      adapter: 'indexeddb',
    });
  checkAdapterOptions({ name: 'indexeddb', label: 'indexedDBStorage' }, options, { clock: clockOption, indexedDB: indexedDBFactory });
  // The option's type names only what is used, so a Node-only project can give a polyfill; it is one.
  const factory = (options.indexedDB as IDBFactory | undefined) ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory)
    throw new StorageError('STORAGE_UNSUPPORTED', 'indexedDBStorage: this platform has no IndexedDB (use fileStorage or redisStorage in Node)', { adapter: 'indexeddb' });
  return new IndexedDBStorage(dbName, factory, options);
}
