/**
 * The host side of the engine's `storage.*` ops (src/protocol/PROTOCOL.md §3): each op names a
 * storage by the string its run spec chose, and is performed on the adapter registered under that
 * name on that engine. Registrations are per engine; every engine starts with `memory`, its own
 * {@link memoryStorage}.
 */
import { describe, nearest } from '../config/check.js';
import { checkEngine } from '../engine-options.js';
import type { Engine, OpRequest } from '../engine.js';
import { StorageError } from '../errors.js';
import { jsonProblem } from './checks.js';
import { deflateValue, inflateValue } from './compression.js';
import { memoryStorage } from './memory.js';
import type { StorageAdapter, StorageWriteOptions } from './types.js';

/** The name of the storage every engine has: an in-memory one. */
export const DEFAULT_STORAGE = 'memory';

class StorageHost {
  readonly adapters = new Map<string, StorageAdapter>([[DEFAULT_STORAGE, memoryStorage()]]);
  nextRunStorage = 1;
  /**
   * The name a run's own adapter has while runs use it: one adapter object is one storage to the
   * engine (its caches share entries in flight between the runs using it, and only between them).
   */
  readonly runStorages = new Map<StorageAdapter, { name: string; users: number }>();

  constructor(engine: Engine) {
    engine.registerOpHandler('storage.get', async (op) => {
      const entry = await this.adapter(op).get(str(op.key));
      if (!entry) return null;
      return { value: gzipped(op) ? await inflateValue(entry.value, str(op.key)) : entry.value, version: entry.version };
    });
    engine.registerOpHandler('storage.set', async (op) => ({ version: await this.adapter(op).set(str(op.key), await stored(op), writeOptions(op)) }));
    engine.registerOpHandler('storage.delete', async (op) => ({ deleted: await this.adapter(op).delete(str(op.key)) }));
    engine.registerOpHandler('storage.list', async (op) => ({ keys: await this.adapter(op).list(str(op.prefix)) }));
    engine.registerOpHandler('storage.cas', async (op) => {
      const expected = op.expectedVersion === null || op.expectedVersion === undefined ? null : str(op.expectedVersion);
      const version = await this.adapter(op).compareAndSet(str(op.key), expected, await stored(op), writeOptions(op));
      return version === false ? { ok: false } : { ok: true, version };
    });
  }

  /** The named adapter, wrapped so that whatever it throws reaches the engine as a storage error. */
  private adapter(op: OpRequest): StorageAdapter {
    const name = String(op.storage);
    const adapter = this.adapters.get(name);
    if (!adapter) {
      const known = [...this.adapters.keys()].map((k) => `"${k}"`).join(', ');
      throw new StorageError('STORAGE_UNKNOWN', `${op.op}: unknown storage "${name}" (registered on this engine: ${known})`, { key: str(op.key ?? op.prefix) });
    }
    return checkedAdapter(adapter);
  }
}

const hosts = new WeakMap<Engine, StorageHost>();
const RUN_STORAGE_PREFIX = 'run-storage:';

/**
 * Installs the `storage.*` op handlers (and the engine's own `memory` storage) on `engine`, once.
 * `createEngine` does it for every engine; the other functions here do it when needed.
 */
export function installStorageHost(engine: Engine): void {
  hostOf(engine);
}

function hostOf(engine: Engine): StorageHost {
  let host = hosts.get(engine);
  if (!host) {
    host = new StorageHost(engine);
    hosts.set(engine, host);
  }
  return host;
}

/**
 * Makes `adapter` available to `engine`'s runs under `name` (replacing an adapter of that name):
 * a definition's `storage: 'redis'` or a run spec's storage name refers to it.
 */
export function registerStorage(engine: Engine, name: string, adapter: StorageAdapter): void {
  checkEngine(engine, 'registerStorage');
  if (typeof name !== 'string' || name.length === 0)
    throw new StorageError('STORAGE_BAD_ARGUMENT', `registerStorage: the name must be a non-empty string, got ${typeof name === 'string' ? 'an empty string' : typeof name}`);
  checkAdapter(adapter, `registerStorage("${name}")`);
  hostOf(engine).adapters.set(name, adapter);
}

/** Removes a registration; later ops naming it fail with STORAGE_UNKNOWN. Returns whether it existed. */
export function unregisterStorage(engine: Engine, name: string): boolean {
  checkEngine(engine, 'unregisterStorage');
  return hostOf(engine).adapters.delete(name);
}

/** The adapter registered on `engine` under `name`, or undefined (`memory` always exists unless removed). */
export function getStorage(engine: Engine, name: string): StorageAdapter | undefined {
  checkEngine(engine, 'getStorage');
  return hostOf(engine).adapters.get(name);
}

/** A storage a run uses: the name to put in its spec, and `release()` to call when the run ends. */
export interface RunStorage {
  readonly name: string;
  release(): void;
}

/**
 * Throws a `STORAGE_UNKNOWN` StorageError (prefixed by `where`) unless `name` is a storage
 * registered on `engine`: a run's, or one a definition keeps its entries in.
 */
export function checkStorageName(engine: Engine, name: string, where?: string): void {
  const host = hostOf(engine);
  if (host.adapters.has(name)) return;
  const known = [...host.adapters.keys()];
  // The adapters runs were given as objects are registered under names of their own: not names to suggest.
  const guess = nearest(name, known.filter((k) => !k.startsWith(RUN_STORAGE_PREFIX)));
  const message = `unknown storage "${name}" (${guess ? `did you mean "${guess}"? ` : ''}registered on this engine: ${known.map((k) => `"${k}"`).join(', ')}); register it with registerStorage(engine, name, adapter)`;
  throw new StorageError('STORAGE_UNKNOWN', where ? `${where}: ${message}` : message);
}

/**
 * Resolves a run's `storage` config into the name its spec carries: a registered name is checked
 * and used as is; an adapter object is registered under a fresh name until `release()`; nothing
 * means {@link DEFAULT_STORAGE}. Installs the `storage.*` op handlers on `engine` if needed.
 */
export function useRunStorage(engine: Engine, storage: string | StorageAdapter | undefined): RunStorage {
  const host = hostOf(engine);
  if (storage === undefined) return { name: DEFAULT_STORAGE, release: () => undefined };
  if (typeof storage === 'string') {
    checkStorageName(engine, storage);
    return { name: storage, release: () => undefined };
  }
  checkAdapter(storage, 'the run\'s storage');
  let entry = host.runStorages.get(storage);
  if (!entry) {
    entry = { name: `${RUN_STORAGE_PREFIX}${host.nextRunStorage++}`, users: 0 };
    host.runStorages.set(storage, entry);
    host.adapters.set(entry.name, storage);
  }
  entry.users++;
  const used = entry;
  let released = false;
  return {
    name: used.name,
    release: () => {
      if (released) return;
      released = true;
      if (--used.users > 0) return;
      host.runStorages.delete(storage);
      if (host.adapters.get(used.name) === storage) host.adapters.delete(used.name);
    },
  };
}

function checkAdapter(adapter: unknown, where: string): asserts adapter is StorageAdapter {
  const a = adapter as Partial<Record<keyof StorageAdapter, unknown>> | null;
  const missing = (['get', 'set', 'delete', 'list', 'compareAndSet'] as const).filter((m) => typeof a?.[m] !== 'function');
  if (typeof a !== 'object' || a === null || missing.length)
    throw new StorageError('STORAGE_BAD_ARGUMENT', `${where}: expected a storage adapter (get, set, delete, list, compareAndSet), ${a === null || typeof a !== 'object' ? `got ${a === null ? 'null' : typeof a}` : `missing ${missing.join(', ')}`}`);
}

/**
 * Calls through to `adapter`; an error that is not a StorageError (a custom adapter's) becomes one,
 * and so does an answer outside the adapter contract (types.ts: a stored value is JSON), named with
 * the method and key that gave it. Every user of a storage (the engine's ops, durable journals and
 * leases) goes through it.
 */
export function checkedAdapter(adapter: StorageAdapter): StorageAdapter {
  const failed = (key: string, message: string, cause?: unknown) =>
    new StorageError('STORAGE_UNAVAILABLE', `storage adapter "${adapter.name}" ${message}`, { adapter: adapter.name, key, cause });
  const wrap = <T>(method: string, key: string, work: () => Promise<T>, expected: string, problem: (answer: unknown) => string | undefined): Promise<T> =>
    Promise.resolve()
      .then(work)
      .then(
        (answer) => {
          const wrong = problem(answer);
          if (wrong !== undefined) throw failed(key, `answered ${method}("${key}") with ${wrong}, expected ${expected}`);
          return answer;
        },
        (err: unknown) => {
          if (err instanceof StorageError) throw err;
          throw failed(key, `failed in ${method}("${key}"): ${err instanceof Error ? err.message : String(err)}`, err);
        },
      );
  const version = (v: unknown) => typeof v === 'string' && v.length > 0;
  const unless = (fits: (answer: unknown) => boolean) => (answer: unknown) => (fits(answer) ? undefined : describe(answer));
  const entryProblem = (e: unknown): string | undefined => {
    if (e === undefined || e === null) return undefined;
    if (typeof e !== 'object' || !('value' in e) || !version((e as { version?: unknown }).version)) return describe(e);
    const notJson = jsonProblem(e.value, '$.value');
    return notJson ? `a value that is not JSON (${notJson})` : undefined;
  };
  return {
    name: adapter.name,
    get: (k) => wrap('get', k, () => adapter.get(k), 'undefined or {value, version} with a JSON value', entryProblem),
    set: (k, v, o) => wrap('set', k, () => adapter.set(k, v, o), 'the new version (a non-empty string)', unless(version)),
    delete: (k) => wrap('delete', k, () => adapter.delete(k), 'true or false', unless((d) => typeof d === 'boolean')),
    list: (p) => wrap('list', p ?? '', () => adapter.list(p), 'an array of keys (strings)', unless((keys) => Array.isArray(keys) && keys.every((k) => typeof k === 'string'))),
    compareAndSet: (k, e, v, o) => wrap('compareAndSet', k, () => adapter.compareAndSet(k, e, v, o), 'the new version (a non-empty string) or false', unless((r) => r === false || version(r))),
  };
}

function writeOptions(op: OpRequest): StorageWriteOptions | undefined {
  return op.ttlMs === undefined ? undefined : { ttl: Number(op.ttlMs) };
}

/** The op asks for gzipped values (a cache with `compression: true`). */
function gzipped(op: OpRequest): boolean {
  return op.compression === 'gzip';
}

/** The value a write op stores. */
function stored(op: OpRequest): Promise<unknown> {
  return gzipped(op) ? deflateValue(op.value) : Promise.resolve(op.value);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}
