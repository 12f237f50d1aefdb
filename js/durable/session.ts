/**
 * The journal of one durable run, sitting in its engine's loop (docs/durable-runs.md).
 *
 * Live, it records every inbox batch with the ops the engine handed out while handling it, and
 * performs those ops only once that record is stored: no effect happens that the journal does not
 * know was about to happen. Replaying, it feeds the engine the recorded batches in order instead of
 * the inbox. The engine, being deterministic, hands out the same ops with the same ids; each is
 * checked against the record (a different one is a divergence) and answered by the journal: the
 * op's completion is in a later recorded batch, and the host only redoes its own bookkeeping (a
 * model call's text stream). Commands the re-run host code sends again are matched to the recorded
 * ones (`claim`) instead of being sent twice, and a record holding such a command is fed only once
 * the code has sent it again: the engine never runs ahead of the code that drives it. When the
 * records run out, the run goes live: ops that were handed out but never completed are performed
 * now, by their policy for interrupted ops.
 */
import type { JournalHost, LoopJournal, OpRequest, RecordedBatch } from '../engine.js';
import type { JournalError} from '../errors.js';
import * as c from '../config/check.js';
import { ConfigError, InterruptedError, ReplayDivergenceError, type WireError } from '../errors.js';
import { answerKey, statusKey } from './approvals.js';
import { digestOf, JournalWriter, type Journal, type JournalRecord, type RecordedAsk, type RecordedOp } from './journal.js';
import type { StorageAdapter } from '../storage/types.js';

/** What a resumed run learns about a tool call that had started but not completed. */
export interface InterruptedCall {
  /** The tool's name. */
  toolName: string;
  /** The arguments it was called with. */
  args: unknown;
  /** The model's id for the call (e.g. to look the call up in the tool's own records). */
  toolCallId: string | undefined;
  /** The journal record (loop turn) where it started. */
  seq: number;
}

/**
 * Decides what happens to an interrupted tool call that is not `idempotent`: `'rerun'` runs it
 * again, `{result}` completes it with that value without running it, `'fail'` (or nothing) fails it
 * with an {@link InterruptedError}.
 */
export type InterruptedHandler = (call: InterruptedCall) => 'rerun' | 'fail' | { result: unknown } | void | Promise<'rerun' | 'fail' | { result: unknown } | void>;

/** How a session starts: recording a new run, resuming one, or replaying one without going live. */
export interface SessionOptions {
  id: string;
  /** Where new records go; none for a replay-only session. */
  storage?: StorageAdapter;
  /** The records so far (resume, replay). */
  records?: readonly JournalRecord[];
  /** Replay only: the run never goes live; asking for more than the journal holds is a divergence. */
  replayOnly?: boolean;
  onInterrupted?: InterruptedHandler;
  /** `durable.writeTimeoutMs`. */
  writeTimeoutMs?: number;
}

interface RecordedCommand {
  /** Index of the record holding it. */
  at: number;
  /** Sent by host code that runs again on replay: its record waits until it is claimed. */
  replayed: boolean;
  /** The op whose callback sent it, when the host knew. */
  origin?: number;
  id: number;
  type: string;
  message: Record<string, unknown>;
  claimed: boolean;
}

interface Done {
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

/** An op handed out while replaying whose completion the journal does not have. */
interface PendingOp {
  op: OpRequest;
  /** The record (loop turn) it was handed out in. */
  record: JournalRecord;
}

export class DurableSession implements LoopJournal {
  readonly lastCommandId: number;
  private readonly records: JournalRecord[];
  private readonly replayed: number;
  private readonly writer: JournalWriter | undefined;
  private readonly done = new Map<number, Done>();
  /** Model calls the engine gave up on after they had shown text: that text (Engine.noteShownText). */
  private readonly shown = new Map<number, { partialText: string; partialChunks: unknown; partialRawChunks: unknown }>();
  private readonly commands: RecordedCommand[] = [];
  private mode: 'replay' | 'live' | 'stopped';
  /** Index of the next record to feed. */
  private feedIndex = 0;
  /** The record being handled (replaying), and how many of its ops the engine handed out so far. */
  private replaying: JournalRecord | undefined;
  private replayOp = 0;
  /** Per record: how many of its commands that re-run host code sends again are not claimed yet. */
  private readonly unclaimed: number[];
  private readonly pending: PendingOp[] = [];
  private readonly held: Array<{ line: string; replayed: boolean; origin: number | undefined }> = [];
  /** Callback ops interrupted and run again on resume: the commands they send again are the recorded ones. */
  private readonly rerun = new Set<number>();
  /**
   * Per record, the lines not fed to the engine: changes (state, metrics, emitted events) that a
   * callback which never completed had sent. If the callback runs again it sends them again; if it
   * is answered without running (`onInterrupted` → `{result}`), they are applied then.
   */
  private readonly withheld = new Map<number, Set<number>>();
  private readonly withheldByOp = new Map<number, Array<{ line: string; origin: number }>>();
  /** Whether the record being replayed completes an op skipped before: the ops it started followed from withheld commands too. */
  private replayAnswersSkipped = false;
  /** Ops of the journal the replay did not ask for (see {@link skippable}). */
  private readonly skippedOps = new Set<number>();
  /** Digests of interrupted compare-and-sets not asked for on replay (see {@link skippable}). */
  private readonly skippedWrites = new Set<string>();
  /** Ops to perform as an interrupted compare-and-set is resumed ({@link resumeCas}). */
  private readonly rewrites = new WeakSet<OpRequest>();
  /** Ops handed out and later completed in the journal, as `record index:op id` (an id can be handed out again after a resume). */
  private readonly completedHandouts = new Set<string>();
  /** Per record: the state commands callbacks sent, by line index (see `RecordedBatch.effects`). */
  private readonly effects = new Map<number, Array<[number, Record<string, unknown>]>>();
  /** The turn being recorded (live), and the ops waiting for it to be stored. */
  private current: JournalRecord | undefined;
  private waiting: OpRequest[] = [];

  constructor(
    private readonly host: JournalHost,
    private readonly options: SessionOptions,
  ) {
    this.records = [...(options.records ?? [])];
    this.replayed = this.records.length;
    this.writer = options.storage ? new JournalWriter(options.id, options.storage, options.writeTimeoutMs) : undefined;
    this.mode = this.replayed > 0 ? 'replay' : 'live';
    let last = 0;
    this.unclaimed = this.records.map((record) => record.replayed?.length ?? 0);
    for (const [at, record] of this.records.entries()) {
      const replayed = new Set(record.replayed ?? []);
      const origins = new Map(record.origins ?? []);
      for (const [index, line] of record.lines.entries()) {
        const message = parseLine(line, record.blobs);
        if (!message) continue;
        if (message.type === 'op.done' && typeof message.id === 'number') {
          this.done.set(message.id, message.ok === true ? { ok: true, value: message.value } : { ok: false, error: message.error as WireError });
        } else if (message.type === 'op.progress' && typeof message.op === 'number' && typeof message.partialText === 'string') {
          this.shown.set(message.op, { partialText: message.partialText, partialChunks: message.partialChunks, partialRawChunks: message.partialRawChunks });
        } else if (typeof message.id === 'number' && typeof message.type === 'string') {
          const origin = origins.get(index);
          if (origin !== undefined && EFFECT_TYPES.has(message.type)) {
            const list = this.effects.get(at) ?? [];
            list.push([index, message]);
            this.effects.set(at, list);
          }
          this.commands.push({ at, id: message.id, type: message.type, message, claimed: false, replayed: replayed.has(index), ...(origin !== undefined ? { origin } : {}) });
          last = Math.max(last, message.id);
        }
      }
    }
    this.lastCommandId = last;
    this.withholdInterruptedChanges();
    const handedOut = new Map<number, number>();
    for (const [at, record] of this.records.entries()) {
      for (const line of record.lines) {
        const message = parseLine(line, record.blobs);
        if (message?.type === 'op.done' && typeof message.id === 'number' && handedOut.has(message.id)) this.completedHandouts.add(`${handedOut.get(message.id)!}:${message.id}`);
      }
      for (const op of record.ops) handedOut.set(op.id, at);
    }
  }

  /** Finds the lines {@link withheld} describes. */
  private withholdInterruptedChanges(): void {
    const completed = new Set(this.done.keys());
    for (const [at, record] of this.records.entries()) {
      for (const [index, origin] of record.origins ?? []) {
        if (completed.has(origin)) continue;
        const line = record.lines[index];
        const type = line === undefined ? undefined : parseLine(line, record.blobs)?.type;
        if (typeof type !== 'string' || !WITHHELD_TYPES.has(type)) continue;
        let lines = this.withheld.get(at);
        if (!lines) this.withheld.set(at, (lines = new Set()));
        lines.add(index);
        const list = this.withheldByOp.get(origin) ?? [];
        list.push({ line: line, origin });
        this.withheldByOp.set(origin, list);
      }
    }
  }

  /** The journal so far (records stored or being stored). */
  journal(): Journal {
    return { id: this.options.id, records: this.records.slice() };
  }

  /** Stops recording (what is recorded stays) and resolves once every record is stored. */
  async stop(): Promise<void> {
    this.mode = 'stopped';
    this.current = undefined;
    this.waiting = [];
    await this.writer?.flushed();
  }

  /**
   * The abort the journal holds for its root run (the run record 1 starts): a `run.cancel` its
   * abort signal sent, with the record it is in and its reason.
   */
  rootAbort(): { seq: number; reason: string } | undefined {
    const start = this.commands[0];
    if (start?.type !== 'run.start') return undefined;
    const cancel = this.commands.find((c) => c.type === 'run.cancel' && c.message.run === start.id);
    if (!cancel) return undefined;
    return { seq: this.records[cancel.at].seq, reason: typeof cancel.message.reason === 'string' ? cancel.message.reason : 'aborted' };
  }

  /**
   * Resolves once every record so far is stored: to undefined, or to the JournalError of the write
   * that failed. A run's last turn hands its result out while that turn's record is being written,
   * so a result is only final once this says nothing was lost (a resume would repeat that turn).
   */
  writeFailure(): Promise<JournalError | undefined> {
    return this.writer ? this.writer.flushed().then(() => undefined, (err: JournalError) => err) : Promise.resolve(undefined);
  }

  /** Stores how the run ended (for `durableApprovals(storage).pending` and operators), after its last record. */
  async markEnded(state: 'finished' | 'failed' | 'suspended'): Promise<void> {
    if (!this.options.storage || this.options.replayOnly) return;
    await this.writer?.flushed().catch(() => {});
    await this.options.storage.set(statusKey(this.options.id), { state, records: this.records.length }).catch(() => {});
  }

  // ------------------------------------------------------------------ LoopJournal

  replayingTurn(): boolean {
    return this.replaying !== undefined;
  }

  canFeed(): boolean {
    return this.mode === 'replay' && this.feedIndex < this.replayed && this.unclaimed[this.feedIndex] === 0;
  }

  nextBatch(): RecordedBatch | undefined {
    if (!this.canFeed()) return undefined;
    const at = this.feedIndex++;
    const record = (this.replaying = this.records[at]!);
    this.replayOp = 0;
    const withheld = this.unfedLines(at);
    // A callback's lines are fed only when it completed, and a completed callback does not run again
    // (a sub-agent's, which does, only starts its child run): what its state commands did must reach
    // the host's copies of the states from here.
    const effects = (this.effects.get(at) ?? []).filter(([index]) => !withheld?.has(index)).map(([, message]) => message);
    if (!withheld && effects.length === 0) return record;
    return {
      clock: record.clock,
      lines: withheld ? record.lines.filter((_, i) => !withheld.has(i)) : record.lines,
      ...(record.blobs ? { blobs: record.blobs } : {}),
      ...(effects.length > 0 ? { effects } : {}),
    };
  }

  record(batch: RecordedBatch): void {
    if (this.mode !== 'live') return;
    // The inbox array is handed over and replaced by the engine: keeping it is not a copy.
    this.current = {
      seq: this.records.length + 1,
      clock: batch.clock,
      lines: batch.lines,
      ...(batch.replayed ? { replayed: batch.replayed } : {}),
      ...(batch.origins ? { origins: batch.origins } : {}),
      ...(batch.blobs ? { blobs: batch.blobs } : {}),
      ops: [],
    };
  }

  turnEnded(): void {
    if (this.replaying) {
      while (this.replaying.ops[this.replayOp] && this.skippable(this.replaying.ops[this.replayOp])) this.replayOp++;
      const expected = this.replaying.ops[this.replayOp];
      if (expected) return this.diverge(this.replaying.seq, describeRecorded(expected), 'no further op in that turn');
      this.replaying = undefined;
    }
    if (this.mode === 'replay' && this.feedIndex >= this.replayed) this.goLive();
    const record = this.current;
    if (!record) return;
    this.current = undefined;
    this.records.push(record);
    const ready = this.waiting;
    this.waiting = [];
    this.writer!.append(record).then(
      () => {
        if (this.mode !== 'stopped') for (const op of ready) void (this.rewrites.has(op) ? this.resumeCas(op) : this.host.perform(op));
      },
      (err: JournalError) => this.host.fail(err),
    );
  }

  opStarted(op: OpRequest, opJson: string): void {
    if (this.mode === 'stopped') return;
    if (this.mode === 'live') {
      if (!this.current) {
        queueMicrotask(() => this.host.perform(op));
        return;
      }
      const recorded = recordOp(op, opJson);
      this.current.ops.push(recorded);
      // The same write as one skipped on replay (same id, key, expected version and value).
      if (op.op === 'storage.cas' && this.skippedWrites.delete(recorded.digest)) this.rewrites.add(op);
      this.waiting.push(op);
      return;
    }
    const record = this.replaying;
    if (!record) return this.diverge(this.records[this.feedIndex - 1]?.seq ?? 0, 'no op outside a recorded turn', describe(op));
    const actual = recordOp(op, opJson);
    const same = (e: RecordedOp) => e.id === actual.id && e.op === actual.op && e.fn === actual.fn && e.digest === actual.digest;
    while (record.ops[this.replayOp] && !same(record.ops[this.replayOp]) && this.skippable(record.ops[this.replayOp])) this.replayOp++;
    const expected = record.ops[this.replayOp++];
    if (!expected || !same(expected)) return this.diverge(record.seq, expected ? describeRecorded(expected) : 'no further op in that turn', describe(op));
    const done = this.done.get(op.id);
    if (op.op === 'callback.invoke' && this.host.callbackTraits(String(op.fn))?.liveOnReplay) {
      // A sub-agent's callback only starts a child run and waits for it: it runs again, so that the
      // child's host side (its models, events, text) is rebuilt; its recorded completion is what counts.
      queueMicrotask(() => this.host.perform(op));
      return;
    }
    if (done) {
      // After the events the engine emitted before handing the op out (they are delivered in
      // microtasks too), as a performed op's effects would be.
      const hook = this.host.replayHook(op.op);
      if (hook) queueMicrotask(() => hook(op, done));
      const observe = op.op === 'callback.invoke' ? this.host.callbackTraits(String(op.fn))?.observe : undefined;
      if (observe) queueMicrotask(() => observe(Array.isArray(op.args) ? op.args : [], done));
      return;
    }
    const shown = this.shown.get(op.id);
    if (shown) {
      // Given up on by the engine later in the journal: it shows what it had shown, then waits for that.
      const hook = this.host.replayHook(op.op);
      if (hook) queueMicrotask(() => hook(op, { ok: false, error: { kind: 'aborted', message: 'given up on by the engine', ...shown } }));
    }
    this.pending.push({ op, record });
  }

  /**
   * An op of the record being replayed that the engine need not ask for: one that withheld commands
   * had started (the record holds some, or completes an op they started). Their callback runs again
   * and starts it anew; the engine's later ops take its id. (An op the engine then asks for under a
   * recorded later id still diverges: the journal cannot be followed past that.)
   */
  private skippable(op: RecordedOp): boolean {
    const at = this.feedIndex - 1;
    if (this.shown.has(op.id) || !(this.withheld.has(at) || this.replayAnswersSkipped)) return false;
    this.skippedOps.add(op.id);
    // Its recorded completion is not fed; the live op that takes its id completes for itself.
    this.done.delete(op.id);
    // A state write that never completed may have landed: the same write made again checks first.
    if (op.op === 'storage.cas' && !this.completedHandouts.has(`${at}:${op.id}`)) this.skippedWrites.add(op.digest);
    return true;
  }

  /**
   * The lines of record `at` not fed to the engine: withheld commands, and what completes an op the
   * replay skipped (the engine never started it). Also notes whether the record completes a skipped
   * op ({@link replayAnswersSkipped}).
   */
  private unfedLines(at: number): Set<number> | undefined {
    const withheld = this.withheld.get(at);
    this.replayAnswersSkipped = false;
    if (this.skippedOps.size === 0) return withheld;
    const record = this.records[at];
    const unfed = new Set(withheld);
    record.lines.forEach((line, i) => {
      const message = parseLine(line, record.blobs);
      const id = message?.type === 'op.done' ? message.id : message?.type === 'op.progress' ? message.op : undefined;
      if (typeof id !== 'number' || !this.skippedOps.has(id)) return;
      unfed.add(i);
      if (message?.type === 'op.done') this.replayAnswersSkipped = true;
    });
    return unfed.size > 0 ? unfed : undefined;
  }

  claim(message: Record<string, unknown>, replayed: boolean, origin: number | undefined): number | undefined {
    if (origin !== undefined && this.rerun.has(origin)) {
      // A callback run again after the interruption: what it had sent the first time was applied then.
      const sent = this.commands.find((c) => !c.claimed && c.origin === origin && c.type === message.type && !WITHHELD_TYPES.has(c.type));
      if (sent) {
        sent.claimed = true;
        return sent.id;
      }
      return undefined;
    }
    if (this.mode !== 'replay') return undefined;
    const match = replayed ? this.nextReplayed(message) : this.commands.find((c) => !c.claimed && !c.replayed && sameTarget(c.message, message));
    if (!match) return undefined;
    if (replayed) {
      // The code that drives the run must send what it sent the first time, in the same order.
      const changed = match.type !== message.type ? 'type' : changedField(match.message, message);
      if (changed !== undefined) {
        const what =
          changed === 'type' ? String(message.type)
          : match.type === 'run.start' ? `a run whose spec differs in "${changedField(match.message.spec, message.spec) ?? 'kind'}"`
          : `${String(message.type)} differing in "${changed}"`;
        this.diverge(this.records[match.at].seq, `the recorded ${match.type} #${match.id}`, `${what} (the code or config changed)`);
        return undefined;
      }
    }
    match.claimed = true;
    if (match.replayed && --this.unclaimed[match.at] === 0) this.host.wake();
    return match.id;
  }

  /** The first command not yet claimed that the same driver (a conversation, a run's parent) sent again on replay. */
  private nextReplayed(message: Record<string, unknown>): RecordedCommand | undefined {
    const route = routeOf(message);
    return this.commands.find((c) => c.replayed && !c.claimed && routeOf(c.message) === route);
  }

  ownsCompletion(id: number): boolean {
    return this.done.has(id);
  }

  hold(line: string, replayed: boolean, origin: number | undefined): boolean {
    if (this.mode !== 'replay') return false;
    // Resuming, a command beyond the journal (its driver got further than the interruption) waits to go live.
    if (replayed && this.options.replayOnly) {
      // The code that drives the run sent a command the journal does not hold where it stands.
      const waiting = this.commands.find((c) => c.replayed && !c.claimed);
      const seq = waiting ? this.records[waiting.at].seq : this.records.length;
      this.diverge(seq, waiting ? `${waiting.type} #${waiting.id}` : 'no further command', `${commandOf(line)} (not in the journal)`);
      return true;
    }
    this.held.push({ line, replayed, origin });
    return true;
  }

  // ------------------------------------------------------------------ going live

  /** The journal is fed: what the run still waits for is done for real now. */
  private goLive(): void {
    if (this.options.replayOnly) {
      this.mode = 'stopped';
      const waiting = this.pending[0];
      if (waiting) {
        const last = this.records[this.records.length - 1].seq;
        this.diverge(last, `the journal's end (record ${last})`, `${describe(waiting.op)}, which the journal never completed`);
      }
      return;
    }
    this.mode = 'live';
    for (const { line, replayed, origin } of this.held.splice(0)) this.host.post(line, replayed, origin);
    for (const pending of this.pending.splice(0)) void this.resumeOp(pending);
  }

  /** An op that was handed out before the interruption and never completed. */
  private async resumeOp({ op, record }: PendingOp): Promise<void> {
    if (op.op === 'timer.sleep') {
      // The time already slept counts: the timer ends when it would have.
      const remaining = Math.max(0, record.clock + Number(op.ms ?? 0) - this.host.now());
      return this.host.perform({ ...op, ms: remaining });
    }
    if (op.op === 'approval.ask' && this.options.storage) {
      // A decision stored meanwhile (durableApprovals(storage).respond) answers it without asking again.
      const stored = await this.options.storage.get(answerKey(this.options.id, String(op.request))).catch(() => undefined);
      if (stored) return this.host.settle(op, { ok: true, value: stored.value });
    }
    const traits = op.op === 'callback.invoke' ? this.host.callbackTraits(String(op.fn)) : undefined;
    if (op.op === 'storage.cas') return this.resumeCas(op);
    if (!traits?.tool || traits.idempotent) return this.rerunOp(op);
    const [args, info] = Array.isArray(op.args) ? (op.args as [unknown, { toolCallId?: unknown } | undefined]) : [];
    const toolCallId = typeof info?.toolCallId === 'string' ? info.toolCallId : undefined;
    let decision: Awaited<ReturnType<InterruptedHandler>>;
    try {
      decision = await this.options.onInterrupted?.({ toolName: traits.tool, args, toolCallId, seq: record.seq });
    } catch (err) {
      return this.host.settle(op, { ok: false, error: { kind: 'interrupted', message: `onInterrupted failed for tool "${traits.tool}": ${err instanceof Error ? err.message : String(err)}` } });
    }
    if (decision === 'rerun') return this.rerunOp(op);
    if (decision !== undefined && decision !== 'fail' && !(typeof decision === 'object' && decision !== null && 'result' in decision)) {
      // A misspelt decision ('retry') must not quietly become 'fail'.
      const guess = typeof decision === 'string' ? c.nearest(decision, ['rerun', 'fail']) : undefined;
      const error = new ConfigError(
        `durable.onInterrupted returned ${c.describe(decision)} for tool "${traits.tool}" (journal record ${record.seq})${guess ? ` (did you mean '${guess}'?)` : ''}; expected 'rerun', 'fail' or {result}`,
      );
      return this.host.fail(error);
    }
    if (typeof decision === 'object' && decision !== null && 'result' in decision) {
      // It completed after all: what it had changed counts.
      for (const { line, origin } of this.withheldByOp.get(op.id) ?? []) if (REPOSTED_TYPES.has(commandOf(line))) this.host.post(line, false, origin);
      return this.host.settle(op, { ok: true, value: decision.result ?? null });
    }
    const error = new InterruptedError(
      `tool "${traits.tool}" had started (journal record ${record.seq}) but not completed when the run was interrupted; it is not idempotent, so it was not run again (mark it idempotent: true, or decide in durable.onInterrupted)`,
    );
    this.host.settle(op, { ok: false, error: { kind: 'interrupted', message: error.message } });
  }

  /** Runs an interrupted op again; a callback's commands are then matched with those it sent the first time. */
  private rerunOp(op: OpRequest): void {
    if (op.op === 'callback.invoke') this.rerun.add(op.id);
    this.host.perform(op);
  }

  /**
   * An interrupted compare-and-set may have been written: if the key holds the value it wanted to
   * write, it succeeded (doing it again would conflict with itself); else it is done again.
   */
  private async resumeCas(op: OpRequest): Promise<void> {
    try {
      const stored = (await this.host.ask('storage.get', { storage: op.storage, key: op.key, ...(op.compression ? { compression: op.compression } : {}) })) as { value: unknown; version: string } | null;
      if (stored && JSON.stringify(stored.value) === JSON.stringify(op.value)) return this.host.settle(op, { ok: true, value: { ok: true, version: stored.version } });
    } catch {
      // the check failed: do the compare-and-set again; it reports what it finds
    }
    this.host.perform(op);
  }

  private diverge(seq: number, expected: string, actual: string): void {
    this.mode = 'stopped';
    // Not inside the engine's call out (host_start): the engine is stopped once it returns.
    const error = new ReplayDivergenceError(`replay diverged at journal record ${seq}: expected ${expected}, the run asked for ${actual}`, seq, expected, actual);
    queueMicrotask(() => this.host.fail(error));
  }
}

/** "conversation.reply": the type of a command line, for messages. */
function commandOf(line: string): string {
  try {
    return String((JSON.parse(line) as { type?: unknown }).type);
  } catch {
    return 'an unreadable command';
  }
}

function recordOp(op: OpRequest, opJson: string): RecordedOp {
  const recorded: RecordedOp = { id: op.id, op: op.op, ...(typeof op.fn === 'string' ? { fn: op.fn } : {}), digest: digestOf(opJson) };
  if (op.op === 'approval.ask') {
    recorded.ask = {
      request: String(op.request),
      name: String(op.name),
      message: String(op.message),
      options: op.options as RecordedAsk['options'],
      defaultAction: op.defaultAction as RecordedAsk['defaultAction'],
      preview: (op.preview as RecordedAsk['preview']) ?? null,
      context: op.context ?? null,
    };
  }
  return recorded;
}

function describe(op: OpRequest): string {
  return `op ${op.id} ${op.op}${typeof op.fn === 'string' ? ` ${op.fn}` : ''}`;
}

function describeRecorded(op: RecordedOp): string {
  return `op ${op.id} ${op.op}${op.fn ? ` ${op.fn}` : ''}`;
}

/**
 * Whether a command the host sends now may be a recorded one sent by code that is not re-run
 * (say, a state change): same type and the same target (run, conversation, name, request).
 */
function sameTarget(recorded: Record<string, unknown>, live: Record<string, unknown>): boolean {
  if (recorded.type !== live.type) return false;
  for (const key of ['run', 'conversation', 'name', 'request']) if (JSON.stringify(recorded[key]) !== JSON.stringify(live[key])) return false;
  return true;
}

/** Which driver sends a command: a run's parent (run.start), or a run's conversation. Each sends in order. */
function routeOf(message: Record<string, unknown>): string {
  if (message.type === 'run.start') {
    const spec = (message.spec ?? {}) as Record<string, unknown>;
    return `start:${JSON.stringify(spec.parentRun ?? null)}:${JSON.stringify(spec.parentOp ?? null)}`;
  }
  return `${JSON.stringify(message.run ?? null)}:${JSON.stringify(message.conversation ?? null)}`;
}

/** The first top-level field (but the id) in which two messages differ, or undefined when they are the same. */
function changedField(recorded: unknown, live: unknown): string | undefined {
  const a = (recorded ?? {}) as Record<string, unknown>;
  const b = (live ?? {}) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (key !== 'id' && JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  return undefined;
}

/**
 * Commands a callback sends for their effect: withheld when the callback never completed. A state
 * save or update depends on the changes withheld before it, so it is withheld too; the ops it had
 * started and that never completed are then not asked for on replay ({@link DurableSession.skippable}).
 */
const WITHHELD_TYPES = new Set(['state.change', 'state.save', 'state.update', 'metric.record', 'event.emit']);

/** Withheld commands sent again when `onInterrupted` answers `{result}`: an update's function is gone with its callback. */
const REPOSTED_TYPES = new Set(['state.change', 'state.save', 'metric.record', 'event.emit']);

/** Commands whose effect the host mirrors (js/state/run-states.ts): replayed for it when their callback is not run again. */
const EFFECT_TYPES = new Set(['state.change', 'state.update']);

const IN_MARKER = '\u0000lmthing:in:';

/** A recorded line as a message, its long strings put back; undefined for a line that is not JSON. */
function parseLine(line: string, blobs: JournalRecord['blobs']): Record<string, unknown> | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  if (!blobs || blobs.length === 0) return message as Record<string, unknown>;
  const texts = new Map(blobs);
  const resolve = (value: unknown): unknown => {
    if (typeof value === 'string') return value.startsWith(IN_MARKER) ? (texts.get(value.slice(IN_MARKER.length)) ?? value) : value;
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: resolve(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  };
  return resolve(message) as Record<string, unknown>;
}
