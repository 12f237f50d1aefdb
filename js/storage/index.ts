/** Storage adapters and the engine's storage host, as both entry points export them. */
export { memoryStorage } from './memory.js';
export type { MemoryStorageOptions } from './memory.js';
export { indexedDBStorage } from './indexeddb.js';
export { registerStorage, unregisterStorage, getStorage, useRunStorage, installStorageHost, DEFAULT_STORAGE } from './host.js';
export type { RunStorage } from './host.js';
export type {
  FileStorageOptions, IndexedDBStorageOptions, JsonValue, RedisClientLike, RedisStorageOptions, StorageAdapter, StorageClock, StoredEntry,
  StorageWriteOptions,
} from './types.js';
