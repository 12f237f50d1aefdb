/**
 * `fileStorage(dir)`: one file per key under `dir` (Node only).
 *
 * Layout: `records/<name>.json` holds `{key, version, expiresAt, value}`; `<name>` is the key
 * percent-encoded (everything but a-z, 0-9 and `-`, so names are also distinct on case-insensitive
 * file systems), or `~<sha256>` when that would be too long for a file name. `tmp/` holds files
 * being written, `locks/` the per-key locks (file-lock.ts).
 *
 * A write goes to a temp file, is fsynced, then renamed over the record (and the directory is
 * fsynced): a reader sees the old record or the new one, never a torn one, even if the writer is
 * killed at any moment. Writes (set, delete, compareAndSet) take the key's lock, so a
 * compare-and-set is atomic across processes; reads take no lock.
 */
import { access, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import * as c from '../config/check.js';
import { StorageError } from '../errors.js';
import { checkAdapterOptions, clockOption, checkExpectedVersion, checkKey, checkPrefix, checkTtl, corrupt, encodeValue, sortKeys, type AdapterIdentity } from './checks.js';
import { KeyLocks, LockTimeout, processAlive } from './file-lock.js';
import { nodeCrypto } from './node-builtins.js';
import type { FileStorageOptions, JsonValue, StorageAdapter, StorageClock, StoredEntry, StorageWriteOptions } from './types.js';

const MAX_ENCODED_NAME = 200;
const wallClock: StorageClock = { now: () => Date.now() };

interface FileRecord {
  key: string;
  version: string;
  expiresAt: number | null;
  value: JsonValue;
}

class FileStorage implements StorageAdapter {
  readonly name = 'file';
  private readonly who: AdapterIdentity;
  private readonly dir: string;
  private readonly records: string;
  private readonly tmp: string;
  private readonly locksDir: string;
  private readonly locks: KeyLocks;
  private readonly clock: StorageClock;
  private readonly durable: boolean;
  private ready: Promise<void> | undefined;

  constructor(dir: string, options: FileStorageOptions) {
    this.dir = resolve(dir);
    this.who = { name: 'file', label: `file storage "${this.dir}"` };
    this.records = join(this.dir, 'records');
    this.tmp = join(this.dir, 'tmp');
    this.locksDir = join(this.dir, 'locks');
    this.clock = options.clock ?? wallClock;
    this.durable = options.durable ?? true;
    this.locks = new KeyLocks(options.lockTimeoutMs ?? 10_000, this.tmp);
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const k = checkKey(this.who, key);
    await this.prepare(k);
    const name = fileName(k);
    const record = await this.guard(k, () => this.read(k, name));
    if (!record) return undefined;
    if (this.expired(record)) {
      await this.guard(k, () => this.removeIfExpired(k, name));
      return undefined;
    }
    return { value: record.value, version: record.version };
  }

  async set(key: string, value: unknown, options?: StorageWriteOptions): Promise<string> {
    const k = checkKey(this.who, key);
    const text = encodeValue(this.who, k, value);
    const ttl = checkTtl(this.who, k, options);
    await this.prepare(k);
    const name = fileName(k);
    return this.guard(k, () => this.locks.with(this.lockPath(name), async () => this.write(k, name, text, ttl, await this.readToReplace(k, name))));
  }

  async delete(key: string): Promise<boolean> {
    const k = checkKey(this.who, key);
    await this.prepare(k);
    const name = fileName(k);
    return this.guard(k, () =>
      this.locks.with(this.lockPath(name), async () => {
        let record: FileRecord | undefined;
        try {
          record = await this.read(k, name);
        } catch (err) {
          if (!isCorrupt(err)) throw err;
        }
        // A corrupt record is removed too (it was there): deleting is how it is cleaned up.
        const corrupted = record === undefined && (await access(this.recordPath(name)).then(() => true, () => false));
        if (!record && !corrupted) return false;
        await unlink(this.recordPath(name));
        await this.syncDirectory(this.records);
        return corrupted || !this.expired(record!);
      }),
    );
  }

  async list(prefix?: string): Promise<string[]> {
    const p = checkPrefix(this.who, prefix);
    await this.prepare(undefined);
    return this.guard(undefined, async () => {
      const keys: string[] = [];
      for (const file of await readdir(this.records)) {
        if (!file.endsWith('.json')) continue;
        const name = file.slice(0, -'.json'.length);
        const hashed = name.startsWith('~');
        const key = hashed ? undefined : decodeName(name);
        if (key !== undefined && !key.startsWith(p)) continue;
        let record: FileRecord | undefined;
        try {
          record = await this.read(key ?? name, name);
        } catch (err) {
          // A torn record is there (get names it as corrupt; delete removes it): listing does not fail on it.
          if (key !== undefined && isCorrupt(err)) keys.push(key);
          else throw err;
          continue;
        }
        if (record && !this.expired(record) && record.key.startsWith(p)) keys.push(record.key);
      }
      return sortKeys(keys);
    });
  }

  async compareAndSet(key: string, expectedVersion: string | null | undefined, value: unknown, options?: StorageWriteOptions): Promise<string | false> {
    const k = checkKey(this.who, key);
    const expected = checkExpectedVersion(this.who, k, expectedVersion);
    const text = encodeValue(this.who, k, value);
    const ttl = checkTtl(this.who, k, options);
    await this.prepare(k);
    const name = fileName(k);
    return this.guard(k, () =>
      this.locks.with(this.lockPath(name), async () => {
        const current = await this.read(k, name);
        const live = current && !this.expired(current) ? current : undefined;
        if ((live?.version ?? null) !== expected) return false;
        return this.write(k, name, text, ttl, current);
      }),
    );
  }

  // ------------------------------------------------------------------ records on disk

  private recordPath(name: string): string {
    return join(this.records, `${name}.json`);
  }

  private lockPath(name: string): string {
    return join(this.locksDir, `${name}.lock`);
  }

  /** The record of `key`, or undefined when there is none; a record that does not parse is corrupted. */
  private async read(key: string, name: string): Promise<FileRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.recordPath(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      throw corrupt(this.who, key, `${this.recordPath(name)} is not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const r = record as Partial<FileRecord> | null;
    const shaped =
      typeof r === 'object' && r !== null && typeof r.key === 'string' && typeof r.version === 'string' && r.version.length > 0 && 'value' in r &&
      (r.expiresAt === null || typeof r.expiresAt === 'number');
    if (!shaped) throw corrupt(this.who, key, `${this.recordPath(name)} is not a {key, version, expiresAt, value} record`);
    if (!name.startsWith('~') && r.key !== key) throw corrupt(this.who, key, `${this.recordPath(name)} holds key ${JSON.stringify(r.key)}`);
    return r as FileRecord;
  }

  /** The record a set or delete replaces: a corrupted one counts as absent (the write repairs it). */
  private async readToReplace(key: string, name: string): Promise<FileRecord | undefined> {
    try {
      return await this.read(key, name);
    } catch (err) {
      if (isCorrupt(err)) return undefined;
      throw err;
    }
  }

  /** Writes a record atomically (temp file, fsync, rename, fsync of the directory); returns its version. */
  private async write(key: string, name: string, valueText: string, ttl: number | undefined, previous: FileRecord | undefined): Promise<string> {
    const version = nextVersion(previous?.version);
    const expiresAt = ttl === undefined ? null : this.clock.now() + ttl;
    const text = `{"key":${JSON.stringify(key)},"version":${JSON.stringify(version)},"expiresAt":${JSON.stringify(expiresAt)},"value":${valueText}}`;
    const staged = join(this.tmp, `${process.pid}.${nodeCrypto().randomBytes(6).toString('hex')}.json`);
    const handle = await open(staged, 'wx');
    try {
      try {
        await handle.writeFile(text);
        if (this.durable) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(staged, this.recordPath(name));
    } catch (err) {
      // A write that failed (a full disk, ENOSPC) must not keep the space its partial file took.
      await unlink(staged).catch(() => undefined);
      throw err;
    }
    await this.syncDirectory(this.records);
    return version;
  }

  private async removeIfExpired(key: string, name: string): Promise<void> {
    await this.locks.with(this.lockPath(name), async () => {
      const record = await this.read(key, name);
      if (record && this.expired(record)) {
        await unlink(this.recordPath(name));
        await this.syncDirectory(this.records);
      }
    });
  }

  private expired(record: FileRecord): boolean {
    return record.expiresAt !== null && this.clock.now() >= record.expiresAt;
  }

  private async syncDirectory(dir: string): Promise<void> {
    if (!this.durable) return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Creates the directories once, and removes temp files left by processes that died mid-write. */
  private prepare(key: string | undefined): Promise<void> {
    this.ready ??= (async () => {
      for (const dir of [this.records, this.tmp, this.locksDir]) await mkdir(dir, { recursive: true });
      for (const file of await readdir(this.tmp)) {
        const pid = Number(file.split('.')[0]);
        if (pid !== process.pid && !processAlive(pid)) await unlink(join(this.tmp, file)).catch(() => undefined);
      }
    })();
    const ready = this.ready;
    return this.guard(key, () =>
      ready.catch((err: unknown) => {
        this.ready = undefined; // a later call may succeed (e.g. after the directory was fixed)
        throw err;
      }),
    );
  }

  /** Turns file-system failures into typed storage errors naming the adapter and the key. */
  private async guard<T>(key: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const about = key === undefined ? '' : ` (key "${key}")`;
      if (err instanceof LockTimeout)
        throw new StorageError('STORAGE_BUSY', `${this.who.label}: could not lock key "${key}": ${err.message} for longer than the lock timeout`, {
          adapter: 'file',
          key,
        });
      const code = (err as NodeJS.ErrnoException).code;
      const reason = err instanceof Error ? err.message : String(err);
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new StorageError('STORAGE_QUOTA', `${this.who.label}: out of space${about}: ${reason}`, { adapter: 'file', key, cause: err });
      throw new StorageError('STORAGE_UNAVAILABLE', `${this.who.label}: file-system error${about}: ${reason}`, { adapter: 'file', key, cause: err });
    }
  }
}

/** `<generation>.<random>`: the generation counts the key's writes; the random part keeps a version unique after a delete. */
function nextVersion(previous: string | undefined): string {
  const generation = previous ? Number.parseInt(previous, 10) : 0;
  return `${(Number.isFinite(generation) ? generation : 0) + 1}.${nodeCrypto().randomBytes(6).toString('hex')}`;
}

/** The file name of a key (see the layout above). */
function fileName(key: string): string {
  let name = '';
  for (const byte of new TextEncoder().encode(key)) {
    const c = String.fromCharCode(byte);
    name += /[a-z0-9-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (name.length > MAX_ENCODED_NAME) return `~${nodeCrypto().createHash('sha256').update(key).digest('hex')}`;
  }
  return name;
}

function decodeName(name: string): string | undefined {
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** A {@link StorageAdapter} keeping one file per key under `dir` (Node only); see docs/storage.md. */
export function fileStorage(dir: string, options: FileStorageOptions = {}): StorageAdapter {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new StorageError('STORAGE_BAD_ARGUMENT', `fileStorage: dir must be a non-empty path, got ${typeof dir === 'string' ? 'an empty string' : typeof dir}`, {
      adapter: 'file',
    });
  checkAdapterOptions({ name: 'file', label: 'fileStorage' }, options, { clock: clockOption, durable: c.boolean, lockTimeoutMs: c.number(0, Infinity) });
  return new FileStorage(dir, options);
}

function isCorrupt(err: unknown): boolean {
  return err instanceof StorageError && err.code === 'STORAGE_CORRUPT';
}
