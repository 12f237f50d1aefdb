/**
 * Durable runs (docs/durable-runs.md): `runPrompt(fn, {durable: {id, storage}})` journals a run,
 * `resume(id, fn, config)` continues it after a crash or a reload, `replay(journal, fn, config)`
 * re-runs a finished one with no model, tool or network. Each durable run has an engine of its own,
 * whose every inbox message is the journal.
 */
import * as c from '../config/check.js';
import { newEngine } from '../default-engine.js';
import type { Engine } from '../engine.js';
import { AbortError, ConfigError, JournalError, ReplayDivergenceError, RunSuspendedError } from '../errors.js';
import type { StorageAdapter } from '../storage/types.js';
import { checkJournal, checkRunId, checkStorage, journalExists, loadJournal, type Journal } from './journal.js';
import { Lease, type LeaseOptions } from './lease.js';
import { DurableSession, type InterruptedHandler } from './session.js';

/** `durable` in a run's config: where its journal lives and what to do with interrupted tool calls. */
export interface DurableOptions {
  /** The run's id in `storage` (say, a job or conversation id); a new run needs an id no journal has. */
  id: string;
  /** Where the journal is written: `memoryStorage()`, `fileStorage(dir)`, `redisStorage(...)`, `indexedDBStorage(...)`. */
  storage: StorageAdapter;
  /** Decides about a tool call that started but did not complete before the interruption, when the tool is not `idempotent`. */
  onInterrupted?: InterruptedHandler;
  /**
   * Several workers share the storage: take the run's lease first (`JOURNAL_LEASED` when another
   * worker holds it), renew it while running, release it at the end (docs/durable-runs.md).
   */
  lease?: LeaseOptions;
  /**
   * How long a journal write may take, ms (default 30,000): a storage that gives no answer by then
   * fails the run with `JOURNAL_WRITE_FAILED` (no effect of that turn happened), so that an abort
   * or `suspend()` is not held up forever by a write that never ends.
   */
  writeTimeoutMs?: number;
}

/** `durable` in the config of {@link resume}: as in the original call; the id is resume's first argument. */
export type ResumeDurableOptions = Omit<DurableOptions, 'id'> & { id?: string };

const durableShape: c.Shape = { id: c.nonEmpty, storage: c.anything, onInterrupted: c.func, lease: c.object, writeTimeoutMs: c.integer(1, 24 * 3600_000) };
const leaseShape: c.Shape = { ttlMs: c.integer(10, 24 * 3600_000), owner: c.nonEmpty };

/** How a durable run starts: a new one, a resumed one, or a replay of a journal given as data. */
export type DurableStart = { kind: 'new' } | { kind: 'resume'; id: string } | { kind: 'replay'; journal: Journal };

/** A durable run's engine and journal. */
export interface DurableRun {
  /** The run's id in its storage (a replayed journal's id). */
  id: string;
  engine: Engine;
  session: DurableSession;
  /**
   * The run ended (or was suspended): store how, release the lease. A resume refused because the
   * code changed (`cause`: a `ReplayDivergenceError`) did nothing to the run: its status stays (a
   * suspended run still lists its pending approvals).
   */
  close(state: 'finished' | 'failed' | 'suspended', cause?: unknown): Promise<void>;
  /** A resumed run whose journal holds its abort (`abortSignal`, `signal`): where and why. */
  abortedBefore?: { seq: number; reason: string };
}

/** Checks `config.durable` and opens the run's journal on an engine of its own. */
export async function openDurable(where: string, config: { durable?: unknown; engine?: unknown }, start: DurableStart): Promise<DurableRun> {
  if (config.engine !== undefined) throw new ConfigError(`${where}: a durable run has an engine of its own; remove "engine" from the config`);
  let options: Partial<DurableOptions> = {};
  if (start.kind !== 'replay' || config.durable !== undefined) {
    if (!c.isPlainObject(config.durable)) throw new ConfigError(`${where}: "durable" must be an object {id, storage, onInterrupted?}, got ${c.describe(config.durable)}`);
    options = c.checkOptions(`${where} durable`, config.durable, durableShape);
    if (options.lease !== undefined) c.checkOptions(`${where} durable.lease`, options.lease, leaseShape);
  }
  let id: string;
  let records: Journal['records'] = [];
  let storage: StorageAdapter | undefined;
  if (start.kind === 'replay') {
    const journal = checkJournal(start.journal, where);
    id = journal.id;
    records = journal.records;
  } else {
    storage = checkStorage(options.storage, `${where} durable`);
    if (start.kind === 'resume') {
      id = checkRunId(start.id, where);
      if (options.id !== undefined && options.id !== id) throw new ConfigError(`${where}: durable.id "${options.id}" differs from the id to resume, "${id}"`);
      records = (await loadJournal(id, storage)).records;
    } else {
      if (options.id === undefined) throw new ConfigError(`${where}: durable.id is required (a non-empty string naming the run in its storage)`);
      id = checkRunId(options.id, where);
      if (await journalExists(id, storage))
        throw new JournalError('JOURNAL_EXISTS', `${where}: durable run "${id}" already has a journal in ${storage.name} storage; continue it with resume("${id}", ...) or choose another id`, id);
    }
  }
  let session: DurableSession | undefined;
  let engine: Engine | undefined;
  const lease = storage && options.lease
    ? await Lease.acquire(storage, id, options.lease, (error) => {
        // A journal write that failed too is not this run's news: the lost lease is (failWith).
        session?.stop().catch(() => {});
        engine?.failWith(error);
      })
    : undefined;
  try {
    engine = await newEngine();
  } catch (err) {
    await lease?.release();
    throw err;
  }
  engine.attachJournal((host) => (session = new DurableSession(host, { id, storage, records, replayOnly: start.kind === 'replay', onInterrupted: options.onInterrupted, writeTimeoutMs: options.writeTimeoutMs })));
  const opened = session!;
  let closed: Promise<void> | undefined;
  const close = (state: 'finished' | 'failed' | 'suspended', cause?: unknown) =>
    (closed ??= (cause instanceof ReplayDivergenceError ? Promise.resolve() : opened.markEnded(state)).finally(() => lease?.release()));
  return { id, engine, session: opened, close, ...(start.kind === 'resume' && { abortedBefore: opened.rootAbort() }) };
}

/**
 * The error a resumed run's result rejects with: a run whose journal holds its abort replays that
 * abort (the journal is what happened), which the abort's own message would not explain.
 */
export function resumedRunError(run: DurableRun | undefined, err: unknown): unknown {
  const aborted = run?.abortedBefore;
  if (!aborted || !(err instanceof AbortError)) return err;
  return new AbortError(
    `durable run "${run.id}" was aborted before (journal record ${aborted.seq}: ${aborted.reason}); its journal ends with that abort, so resuming it ends the same way. ` +
      'Start a new run with the conversation so far, or stop a run you mean to continue later with prompt.suspend()',
    { cause: err },
  );
}

/** What a durable run adds to `prompt`: its journal and `suspend()`. */
export function durableInfo(run: DurableRun | undefined) {
  return {
    journal: (): Journal | undefined => run?.session.journal(),
    suspend: async (): Promise<void> => {
      if (!run) throw new ConfigError('suspend(): only a durable run (runPrompt with {durable}) can be suspended');
      const done = run.session.stop();
      const closed = run.close('suspended'); // before the run's failure below can close it as failed
      run.engine.failWith(new RunSuspendedError('the run was suspended; its journal is saved: continue it with resume(id, ...)'));
      await done;
      await closed;
    },
  };
}
