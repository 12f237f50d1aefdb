/**
 * Who owns a durable run right now (docs/durable-runs.md, "Across workers"): a lease is a storage
 * entry written with compare-and-set and a time to live. One worker holds it at a time, renews it
 * while the run goes on, and releases it when the run ends or is suspended; a worker that crashed
 * stops renewing, the entry expires, and another worker may take the run over.
 */
import { JournalError } from '../errors.js';
import { checkedAdapter } from '../storage/host.js';
import type { StorageAdapter } from '../storage/types.js';

/** `durable.lease`: take the run's lease before running it (several workers share one storage). */
export interface LeaseOptions {
  /** How long the lease lasts without a renewal, ms (default 30,000). It is renewed every third of that. */
  ttlMs?: number;
  /** The owner's name in the lease and in `JOURNAL_LEASED` errors (default: a random id). */
  owner?: string;
}

const leaseKey = (id: string) => `lmthing:lease:${id}`;

/** A held lease: renewed in the background until released or lost. */
export class Lease {
  private timer: ReturnType<typeof setInterval> | undefined;
  private released = false;
  /** The renewal in flight: a release waits for it, so that it expires the version the renewal wrote. */
  private renewing: Promise<boolean> | undefined;

  private constructor(
    private readonly storage: StorageAdapter,
    private readonly id: string,
    readonly owner: string,
    private readonly ttlMs: number,
    private version: string,
  ) {}

  /**
   * Takes run `id`'s lease, or fails with `JOURNAL_LEASED` naming the owner when another holds it.
   * `onLost` is called if a renewal finds the lease taken (the run must stop: another worker owns it).
   */
  static async acquire(adapter: StorageAdapter, id: string, options: LeaseOptions, onLost: (error: JournalError) => void): Promise<Lease> {
    const storage = checkedAdapter(adapter);
    const ttlMs = options.ttlMs ?? 30_000;
    const owner = options.owner ?? `worker-${Math.random().toString(36).slice(2, 10)}`;
    const version = await storage.compareAndSet(leaseKey(id), null, { owner }, { ttl: ttlMs });
    if (version === false) {
      const holder = await storage.get(leaseKey(id));
      const who = (holder?.value as { owner?: unknown } | undefined)?.owner;
      throw new JournalError('JOURNAL_LEASED', `durable run "${id}" is owned by ${typeof who === 'string' ? `"${who}"` : 'another worker'}; it can be taken over when that lease expires (it lasts ${ttlMs} ms after its last renewal)`, id);
    }
    const lease = new Lease(storage, id, owner, ttlMs, version);
    lease.timer = setInterval(() => void lease.renew().then((held) => {
      if (!held && !lease.released) {
        lease.stop();
        onLost(new JournalError('JOURNAL_LEASE_LOST', `durable run "${id}": worker "${owner}" lost its lease (another worker took the run over); it stopped before any further effect`, id));
      }
    }), Math.max(10, Math.floor(ttlMs / 3)));
    (lease.timer as { unref?: () => void }).unref?.();
    return lease;
  }

  /** Extends the lease by its time to live; false when it is no longer this worker's. */
  renew(): Promise<boolean> {
    const renewal = this.renewOnce();
    this.renewing = renewal;
    return renewal.finally(() => {
      if (this.renewing === renewal) this.renewing = undefined;
    });
  }

  private async renewOnce(): Promise<boolean> {
    if (this.released) return false;
    try {
      const version = await this.storage.compareAndSet(leaseKey(this.id), this.version, { owner: this.owner }, { ttl: this.ttlMs });
      if (version === false) return false;
      this.version = version;
      return true;
    } catch {
      return true; // the storage is unreachable for now: keep running until the lease is shown to be lost
    }
  }

  /** Gives the lease up (only if it is still this worker's). */
  async release(): Promise<void> {
    if (this.released) return;
    this.stop();
    this.released = true;
    await this.renewing?.catch(() => false);
    // Expire it at once rather than delete: a compare-and-set cannot remove another worker's lease.
    await this.storage.compareAndSet(leaseKey(this.id), this.version, { owner: this.owner, released: true }, { ttl: 1 }).catch(() => false);
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
