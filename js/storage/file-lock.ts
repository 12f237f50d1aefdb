/**
 * Cross-process locks for `fileStorage`, one per key, made of files that only one process can create:
 *
 * - take: write `pid host token` to a temp file, then hard-link it to `locks/<name>.lock`; the
 *   link fails if the lock exists (atomically, like O_EXCL), and the lock never exists without its
 *   content. If it exists, wait (a short randomized backoff) and try again, up to the lock timeout.
 * - a lock whose holder is dead (same host, `kill(pid, 0)` says ESRCH, e.g. after `kill -9`) is
 *   stale. Breaking it is itself guarded by `<name>.lock.break` (also O_EXCL): the breaker re-reads
 *   the lock and removes it only if it still holds the dead owner's token, so a lock that a live
 *   process has just taken is never removed.
 * - release: remove the lock file.
 *
 * Within one process, a promise chain per key queues the callers first, so they do not poll.
 * Only processes on one host can share a directory (pids mean nothing across hosts).
 */
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { nodeCrypto, nodeOs } from './node-builtins.js';

export class LockTimeout extends Error {
  constructor(readonly holder: string) {
    super(`lock held by ${holder}`);
  }
}

export class KeyLocks {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly host = nodeOs().hostname();

  /** `tmpDir` must be on the same file system as the locks (hard links do not cross devices). */
  constructor(
    private readonly timeoutMs: number,
    private readonly tmpDir: string,
  ) {}

  /** Runs `work` while holding the lock file `path` (and the in-process queue for it). */
  async with<T>(path: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(path) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    this.queues.set(path, tail);
    await previous;
    try {
      await this.take(path);
      try {
        return await work();
      } finally {
        await unlink(path).catch(() => undefined);
      }
    } finally {
      done();
      if (this.queues.get(path) === tail) this.queues.delete(path);
    }
  }

  private async take(path: string): Promise<void> {
    const content = `${process.pid} ${this.host} ${nodeCrypto().randomBytes(8).toString('hex')}`;
    const deadline = performance.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.createExclusive(path, content)) return;
      const holder = await readFile(path, 'utf8').catch(() => '');
      if (holder && this.isStale(holder)) {
        await this.breakStale(path, holder);
        continue;
      }
      if (performance.now() >= deadline) throw new LockTimeout(describeHolder(holder));
      await delay(Math.min(2 ** Math.min(attempt, 5), 25) * (0.5 + Math.random()));
    }
  }

  /** A lock of this host whose process no longer exists. */
  private isStale(content: string): boolean {
    const [pid, host] = content.split(' ');
    return host === this.host && !processAlive(Number(pid));
  }

  private async breakStale(path: string, staleContent: string): Promise<void> {
    const breakPath = `${path}.break`;
    if (!(await this.createExclusive(breakPath, `${process.pid} ${this.host} break`))) {
      // Someone else is breaking it; if that breaker died mid-way, its marker is stale too.
      const breaker = await readFile(breakPath, 'utf8').catch(() => '');
      if (breaker && this.isStale(breaker)) await unlink(breakPath).catch(() => undefined);
      else await delay(1);
      return;
    }
    try {
      const current = await readFile(path, 'utf8').catch(() => '');
      if (current === staleContent) await unlink(path).catch(() => undefined);
    } finally {
      await unlink(breakPath).catch(() => undefined);
    }
  }

  /** Creates `path` holding `content` if it does not exist yet; false if it does. */
  private async createExclusive(path: string, content: string): Promise<boolean> {
    const staged = join(this.tmpDir, `${process.pid}.${nodeCrypto().randomBytes(6).toString('hex')}.lock`);
    await writeFile(staged, content);
    try {
      await link(staged, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(staged).catch(() => undefined);
    }
  }
}

/** Whether a process with this id exists on this host. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function describeHolder(content: string): string {
  const [pid, host] = content.split(' ');
  return pid ? `process ${pid} on ${host}` : 'another process';
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
