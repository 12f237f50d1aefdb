/**
 * `defCache` as a definition kind (docs/state-and-caches.md). The engine keeps a cache's entries
 * (LRU and TTL in memory, on its clock; `persistent` entries and caches given a `storage` through
 * the storage adapters) and answers tools, agents and models that name it (`cache: name`).
 */
import type { JsonValue } from '../schema-types.js';
import * as c from '../config/check.js';
import type { DefinitionKind } from './kind.js';

/** How a cache keeps its entries. */
export type CacheStrategy = 'lru' | 'ttl' | 'persistent';

/** Options of `defCache(name, strategy, config)`. */
export interface CacheConfig {
  /** Entries kept in memory at most; the least recently used leaves first (default 1000; 10,000 for `ttl`). */
  maxSize?: number;
  /** How long an entry lives, ms (required for `ttl`; default: until evicted). */
  ttl?: number;
  /**
   * The key of a call: gets the tool's arguments (or, for a model, the normalized request) and
   * `{target: 'tool' | 'model', name}`; returns a string. Default: the arguments as JSON (a digest
   * of the request for models).
   */
  keyGenerator?: (args: JsonValue, context: { target: 'tool' | 'model'; name: string }) => string | Promise<string>;
  /** A storage registered on the engine for the entries (`persistent`: default the run's; `lru`/`ttl`: also kept there when given). */
  storage?: string;
  /** Prefix of the storage keys (default `cache:<name>:`). */
  keyPrefix?: string;
  /** Store entries gzipped (entries in storage only). */
  compression?: boolean;
  /** When the storage fails: `'bypass'` the cache and report a `cache-error` event (default), or `'fail'` the call with a CacheError. */
  onStorageError?: 'bypass' | 'fail';
}

/** What `defCache` keeps. */
export interface StoredCache {
  strategy: CacheStrategy;
  config: CacheConfig;
}

export const cacheKind: DefinitionKind<CacheStrategy, StoredCache> = {
  kind: 'cache',
  noun: 'cache',
  method: 'defCache',
  check(where, strategy, config) {
    c.checkChoice(where, 'strategy', strategy, 'lru', 'ttl', 'persistent');
    const o = c.checkOptions<CacheConfig>(where, config ?? {}, {
      maxSize: c.integer(1, 100_000_000),
      ttl: c.ms(),
      keyGenerator: c.func,
      storage: c.nonEmpty,
      keyPrefix: c.string,
      compression: c.boolean,
      onStorageError: c.oneOf('bypass', 'fail'),
    });
    if (strategy === 'ttl' && !o.ttl) c.fail(where, "a 'ttl' cache needs 'ttl': how long entries live, in ms");
    if (o.compression && strategy !== 'persistent' && o.storage === undefined)
      c.fail(where, "'compression' applies to entries in storage: give the cache a 'storage', or use 'persistent'");
    return { strategy, config: { ...o } };
  },
  wire({ strategy, config }, marshal, where) {
    if (config.storage !== undefined) marshal.storage?.(config.storage, where);
    const out: Record<string, unknown> = { strategy };
    for (const key of ['maxSize', 'ttl', 'storage', 'keyPrefix', 'compression', 'onStorageError'] as const) if (config[key] !== undefined) out[key] = config[key];
    // An lru/ttl cache's storage 'memory' is the engine's memory already: entries stay in the engine only.
    if (strategy !== 'persistent' && config.storage === 'memory') delete out.storage;
    const { keyGenerator } = config;
    if (keyGenerator)
      out.keyGenerator = marshal.callback('the keyGenerator of a cache', async (args: JsonValue, context: { target: 'tool' | 'model'; name: string }) => {
        const key: unknown = await keyGenerator(args, context);
        if (typeof key !== 'string' && typeof key !== 'number') throw new TypeError(`keyGenerator must return a string, got ${c.describe(key)}`);
        return key;
      });
    return out;
  },
};
