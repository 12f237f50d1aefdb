/**
 * A durable run's journal (docs/durable-runs.md): one record per loop turn of the run's engine, the
 * inbox batch the engine was given (clock, message lines, the long strings beside them) and the ops
 * it handed out while handling it. Records are kept on a storage adapter, one key per record, so a
 * turn is written with one `set` and a reader sees whole records only.
 */
import { describe } from '../config/check.js';
import { ConfigError, JournalError, StorageError } from '../errors.js';
import { checkedAdapter } from '../storage/host.js';
import { withinTime } from '../within-time.js';
import type { StorageAdapter } from '../storage/types.js';

/** An op as the journal keeps it: enough to recognize it again when the run is replayed. */
export interface RecordedOp {
  /** The op id the engine gave it. */
  id: number;
  /** Its kind, e.g. `model.generate`, `callback.invoke`. */
  op: string;
  /** The callback a `callback.invoke` names. */
  fn?: string;
  /** A hash of the op's whole message: a replayed run must ask for exactly the same. */
  digest: string;
  /** An approval request's details (`approval.ask`), so a paused run's requests can be listed from storage. */
  ask?: RecordedAsk;
}

/** What a journal keeps of an approval request. */
export interface RecordedAsk {
  /** The request id (`approval-1` ...). */
  request: string;
  /** The approval definition's name. */
  name: string;
  message: string;
  options: Array<'approve' | 'deny' | 'modify'>;
  defaultAction: 'approve' | 'deny';
  /** The tool and its arguments when the approval guards a tool call. */
  preview: { toolName: string; args: unknown } | null;
  context: unknown;
}

/** One loop turn of a durable run's engine. */
export interface JournalRecord {
  /** 1, 2, 3 ... with no gap. */
  seq: number;
  /** The host clock the batch carried (ms): the engine's time during the turn. */
  clock: number;
  /** The batch's message lines, exactly as given to the engine. */
  lines: string[];
  /** Indices of the lines sent by host code that runs again on replay (they are matched, not sent twice). */
  replayed?: number[];
  /** `[line index, op id]`: commands a callback sent, by the op it ran for (matched when that callback runs again on resume). */
  origins?: Array<[number, number]>;
  /** The long strings the lines refer to by id (`[id, text]`), when any. */
  blobs?: Array<[string, string]>;
  /** The ops the engine handed out while handling the batch, in order. */
  ops: RecordedOp[];
}

/** A run's journal: its id and its records in order. Plain data (JSON), e.g. for a bug report. */
export interface Journal {
  readonly id: string;
  readonly records: readonly JournalRecord[];
}

const PREFIX = 'lmthing:journal:';

/** The storage key of record `seq` of run `id` (zero-padded, so keys sort by sequence). */
export function recordKey(id: string, seq: number): string {
  return `${PREFIX}${id}:${String(seq).padStart(10, '0')}`;
}

/** Checks a durable run id: a non-empty string of at most 200 characters (a `ConfigError` if not). */
export function checkRunId(id: unknown, where: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200)
    throw new ConfigError(`${where}: a durable run id must be a non-empty string of at most 200 characters, got ${describe(id)}`);
  return id;
}

/** Appends records of one run to its storage, one write after the other (a later record never lands before an earlier one). */
export class JournalWriter {
  private chain: Promise<void> = Promise.resolve();
  private failure: JournalError | undefined;

  private readonly storage: StorageAdapter;

  constructor(
    private readonly id: string,
    storage: StorageAdapter,
    private readonly timeoutMs = 30_000,
  ) {
    this.storage = checkedAdapter(storage);
  }

  /** Queues `record`; resolves once it (and every record before it) is stored, rejects with a JournalError if not. */
  append(record: JournalRecord): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.failure) throw this.failure;
      let written: string | false;
      try {
        // Only if absent: a second process running the same run (a resume racing another) fails
        // here, before any effect of its turn, instead of overwriting this run's journal.
        written = await withinTime(this.storage.compareAndSet(recordKey(this.id, record.seq), null, record), this.timeoutMs, () =>
          new Error(`storage adapter "${this.storage.name}" gave no answer within ${this.timeoutMs} ms (durable.writeTimeoutMs)`),
        );
      } catch (err) {
        this.failure = new JournalError('JOURNAL_WRITE_FAILED', `durable run "${this.id}": writing journal record ${record.seq} failed: ${err instanceof Error ? err.message : String(err)}`, this.id, { cause: err });
        throw this.failure;
      }
      if (written === false) {
        this.failure = new JournalError('JOURNAL_CONFLICT', `durable run "${this.id}": journal record ${record.seq} was written by another process running the same run; this one stopped before any further effect (use durable.lease to let one worker at a time run it)`, this.id);
        throw this.failure;
      }
    });
    return this.chain;
  }

  /** Resolves when every record queued so far is stored (or rejects with the first failure). */
  flushed(): Promise<void> {
    return this.chain;
  }
}

/**
 * Deletes durable run `id`'s journal from `storage`: its records, its status and stored approval
 * decisions. Resolves to the number of keys deleted. Do it once the run is over for good.
 */
export async function deleteJournal(id: string, storage: StorageAdapter): Promise<number> {
  checkRunId(id, 'deleteJournal');
  const checked = checkedAdapter(checkStorage(storage, 'deleteJournal'));
  let deleted = 0;
  for (const key of await checked.list(`${PREFIX}${id}:`)) {
    // Another run's id may extend this one's ("a" and "a:b", even "a:answer:x"): only this run's keys
    // (an approval request's id is `approval-<n>`).
    const rest = key.slice(`${PREFIX}${id}:`.length);
    if (!/^(\d{10}|status|answer:approval-\d+)$/.test(rest)) continue;
    if (await checked.delete(key)) deleted++;
  }
  return deleted;
}

/** Whether `storage` holds any record of run `id`. */
export async function journalExists(id: string, storage: StorageAdapter): Promise<boolean> {
  return (await listKeys(id, checkedAdapter(storage))).length > 0;
}

/**
 * Loads the journal of durable run `id` from `storage`. A record that is unreadable, of the wrong
 * shape or out of sequence is a {@link JournalError} `JOURNAL_CORRUPT` naming its key; no record at
 * all is `JOURNAL_MISSING`.
 */
export async function loadJournal(id: string, storage: StorageAdapter): Promise<Journal> {
  checkRunId(id, 'loadJournal');
  const checked = checkedAdapter(checkStorage(storage, 'loadJournal'));
  const keys = await listKeys(id, checked);
  if (keys.length === 0) throw new JournalError('JOURNAL_MISSING', `no journal for durable run "${id}" in ${storage.name} storage`, id);
  const records: JournalRecord[] = [];
  for (const [i, key] of keys.entries()) {
    let entry;
    try {
      entry = await checked.get(key);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'STORAGE_CORRUPT') throw corrupt(id, key, 'it is unreadable', err);
      throw err;
    }
    if (!entry) throw corrupt(id, key, 'it disappeared while the journal was read');
    const problem = recordProblem(entry.value, i + 1);
    if (problem) throw corrupt(id, key, problem);
    if (key !== recordKey(id, i + 1)) throw corrupt(id, key, `record ${i + 1} is missing (the journal is truncated or a record was deleted)`);
    records.push(entry.value as unknown as JournalRecord);
  }
  return { id, records };
}

/** Checks a journal given as data (e.g. to `replay`): a JournalError `JOURNAL_CORRUPT` names the first bad record. */
export function checkJournal(journal: unknown, where: string): Journal {
  if (typeof journal !== 'object' || journal === null || !Array.isArray((journal as Journal).records))
    throw new JournalError('JOURNAL_CORRUPT', `${where}: expected a journal {id, records} (from loadJournal or prompt.journal), got ${describe(journal)}`, '');
  const { id, records } = journal as Journal;
  if (records.length === 0) throw new JournalError('JOURNAL_CORRUPT', `${where}: the journal has no records`, String(id));
  for (const [i, record] of records.entries()) {
    const problem = recordProblem(record, i + 1);
    if (problem) throw new JournalError('JOURNAL_CORRUPT', `${where}: journal record ${i + 1} ${problem}`, String(id));
  }
  return { id: String(id), records };
}

/** The adapter methods a journal uses (its records are written with compare-and-set). */
const JOURNAL_METHODS = ['get', 'set', 'list', 'delete', 'compareAndSet'] as const;

/** A storage adapter check: the object must have the adapter methods the journal uses (a `ConfigError` if not). */
export function checkStorage(storage: unknown, where: string): StorageAdapter {
  const expected = `"storage" must be a storage adapter (memoryStorage(), fileStorage(dir), redisStorage(...), indexedDBStorage(...))`;
  // The adapter is described, not printed: it may hold a Redis URL with its password.
  if (typeof storage !== 'object' || storage === null) throw new ConfigError(`${where}: ${expected}, got ${describe(storage)}`);
  const missing = JOURNAL_METHODS.filter((method) => typeof (storage as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) throw new ConfigError(`${where}: ${expected}, got an object without ${missing.join(', ')}`);
  return storage as StorageAdapter;
}

async function listKeys(id: string, storage: StorageAdapter): Promise<string[]> {
  const prefix = `${PREFIX}${id}:`;
  // Another run's id may extend this one's ("a" and "a:b"): keep only this run's record keys.
  return (await storage.list(prefix)).filter((key) => /^\d{10}$/.test(key.slice(prefix.length)));
}

function corrupt(id: string, key: string, problem: string, cause?: unknown): JournalError {
  return new JournalError('JOURNAL_CORRUPT', `the journal of durable run "${id}" is corrupt at "${key}": ${problem}; nothing was run`, id, cause === undefined ? undefined : { cause });
}

/** What is wrong with a stored record (expected sequence number `seq`), or undefined. */
function recordProblem(value: unknown, seq: number): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a record object';
  const r = value as Partial<JournalRecord>;
  if (r.seq !== seq) return `has sequence number ${String(r.seq)} where ${seq} was expected`;
  if (typeof r.clock !== 'number' || !Number.isFinite(r.clock)) return 'has no clock';
  if (!Array.isArray(r.lines) || !r.lines.every((l) => typeof l === 'string')) return 'has no message lines';
  if (r.replayed !== undefined && !(Array.isArray(r.replayed) && r.replayed.every((i) => Number.isInteger(i) && i >= 0 && i < r.lines!.length))) return 'has malformed replayed line indices';
  if (r.origins !== undefined && !(Array.isArray(r.origins) && r.origins.every((o) => Array.isArray(o) && o.length === 2 && Number.isInteger(o[0]) && Number.isInteger(o[1]))))
    return 'has malformed command origins';
  if (r.blobs !== undefined && !(Array.isArray(r.blobs) && r.blobs.every((b) => Array.isArray(b) && b.length === 2 && typeof b[0] === 'string' && typeof b[1] === 'string')))
    return 'has malformed blobs';
  if (!Array.isArray(r.ops) || !r.ops.every((o) => typeof o === 'object' && o !== null && typeof o.id === 'number' && typeof o.op === 'string' && typeof o.digest === 'string'))
    return 'has malformed ops';
  return undefined;
}

/** FNV-1a (32 bits) of a string, as 8 hex digits: a cheap fingerprint of an op's message. */
export function digestOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
