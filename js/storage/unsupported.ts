/**
 * The browser build's `fileStorage` and `redisStorage`: the same signatures as the Node ones
 * (js/storage/file.ts, js/storage/redis.ts), failing with a typed error, so code shared between
 * platforms type-checks and fails clearly where the adapter cannot work.
 */
import { StorageError } from '../errors.js';
import type { FileStorageOptions, RedisStorageOptions, StorageAdapter } from './types.js';

/** Not available in browsers: throws STORAGE_UNSUPPORTED (use `indexedDBStorage`). */
export function fileStorage(_dir: string, _options: FileStorageOptions = {}): StorageAdapter {
  throw new StorageError('STORAGE_UNSUPPORTED', 'fileStorage needs Node (a file system); in a browser use indexedDBStorage(dbName)', { adapter: 'file' });
}

/** Not available in browsers: throws STORAGE_UNSUPPORTED (Redis is reached from a server). */
export function redisStorage(_options: RedisStorageOptions): StorageAdapter & { close(): Promise<void> } {
  throw new StorageError('STORAGE_UNSUPPORTED', 'redisStorage needs Node (a TCP connection to Redis); in a browser use indexedDBStorage(dbName)', {
    adapter: 'redis',
  });
}
