/**
 * The host's mirror of a live run's states (docs/state-and-caches.md). The engine owns the values;
 * JS keeps a copy so that `ctx.getState(name)` is synchronous. The copy is fetched once per run
 * (`state.view`, before the run's callbacks see it); every change made through a live object is
 * applied to the copy at once and sent to the engine (`state.change`, batched per microtask and
 * before any other state command, so the engine applies changes in the order they were made).
 *
 * The engine changes a value on its own only when asked: `state.update` (read-modify-write) and a
 * reload after a conflicting save. Its answer is the value as of the command; changes sent after the
 * command are applied again on top (each is an absolute write, so applying one twice is harmless).
 */

import { isThenable } from '../config/check.js';
import type { Engine } from '../engine.js';
import { ConfigError, StateError } from '../errors.js';
import type { JsonValue } from '../storage/types.js';
import { jsonProblem } from '../storage/checks.js';
import { applyChanges, stateDepthLimit, stateValueProblem, type StateChange } from './changes.js';

/** One engine state instance, as JS mirrors it. */
export interface Mirror {
  readonly id: string;
  value: JsonValue;
  readonly persisted: boolean;
  /** Changes made here and not yet sent. */
  pending: StateChange[];
  /** Changes sent while a command that answers with the value was in flight: [sequence, changes]. */
  log: Array<[number, StateChange[]]>;
  /** The live run and name to send this mirror's changes with (the last view that wrote it). */
  via: { states: RunStates; name: string };
}

/** The mirrors of one run tree (a run and its sub-agents share them, as the engine shares instances). */
export class TreeStates {
  readonly mirrors = new Map<string, Mirror>();
  private sequence = 0;
  private readonly inFlight = new Map<number, number>();
  private nextToken = 1;

  /** Marks the start of a command that answers with values; returns its token. */
  begin(): number {
    const token = this.nextToken++;
    this.inFlight.set(token, this.sequence);
    return token;
  }

  /** The mirror's value becomes `value` (as of command `token`) plus the changes made since. */
  reconcile(mirror: Mirror, value: JsonValue, token: number): void {
    const mark = this.inFlight.get(token) ?? this.sequence;
    let next = value;
    for (const [sequence, changes] of mirror.log) if (sequence > mark) next = applyChanges(next, changes);
    mirror.value = applyChanges(next, mirror.pending);
  }

  end(token: number): void {
    this.inFlight.delete(token);
    const oldest = Math.min(...this.inFlight.values());
    for (const mirror of this.mirrors.values()) mirror.log = this.inFlight.size === 0 ? [] : mirror.log.filter(([sequence]) => sequence > oldest);
  }

  /** Sends every mirror's pending changes. */
  flush(): void {
    for (const mirror of this.mirrors.values()) {
      if (mirror.pending.length === 0) continue;
      const changes = mirror.pending;
      mirror.pending = [];
      if (this.inFlight.size > 0) mirror.log.push([++this.sequence, changes]);
      else this.sequence++;
      mirror.via.states.send(mirror.via.name, changes);
    }
  }
}

interface ViewEntry {
  name: string;
  id: string;
  value: JsonValue;
  persisted: boolean;
}

/** The live runs' states of each engine, by run id: what a durable run's replay reaches (below). */
const runsOf = new WeakMap<Engine, Map<number, RunStates>>();

/**
 * A resumed durable run does not run again the callbacks the journal answers, but feeds the engine
 * the state commands they had sent: their changes are applied to the copies here as well, and an
 * update's value is taken from its recorded callback (`RecordedBatch.effects`).
 */
function followReplayedCommands(engine: Engine, runs: Map<number, RunStates>): void {
  engine.registerReplayedCommand('state.change', (message) => {
    runs.get(Number(message.run))?.replayed(String(message.name), (mirror) => applyChanges(mirror.value, message.changes as StateChange[]));
  });
  engine.registerReplayedCommand('state.update', (message) => {
    const states = runs.get(Number(message.run));
    const fn = String(message.fn);
    if (!states || engine.hasCallback(fn)) return;
    // Never performed on replay (the journal answers it); going live before its answer, the original
    // function is gone with the callback that passed it.
    states.replayedCallbacks.push(fn);
    engine.registerCallback(
      fn,
      () => {
        throw new StateError('STORAGE_CONFLICT', `updateState("${String(message.name)}"): the update was interrupted with its run and cannot be repeated on resume`, { state: String(message.name) });
      },
      { observe: (_args, done) => done.ok && states.replayed(String(message.name), () => done.value as JsonValue) },
    );
  });
}

/** The states one live run sees (its own definitions and its parents'), by name. */
export class RunStates {
  private view: Map<string, Mirror> | undefined;
  private loading: Promise<void> | undefined;
  private flushScheduled = false;
  private refused: unknown;
  private nextUpdate = 1;
  /** The run ended: values can be read (as they were at the end), not changed. */
  ended = false;
  /** @internal Callbacks standing in for replayed updates' functions (unregistered when the run ends). */
  readonly replayedCallbacks: string[] = [];

  constructor(
    private readonly engine: Engine,
    readonly runId: number,
    readonly tree: TreeStates,
  ) {
    if (!engine.journaled) return;
    let runs = runsOf.get(engine);
    if (!runs) {
      runsOf.set(engine, (runs = new Map<number, RunStates>()));
      followReplayedCommands(engine, runs);
    }
    runs.set(runId, this);
  }

  get loaded(): boolean {
    return this.view !== undefined;
  }

  /** How deep a state's value may be in this run (its engine's limit, docs/limits.md). */
  get maxDepth(): number {
    return stateDepthLimit(this.engine.jsonDepth);
  }

  /** Fetches the run's states once (the engine loads them if it has not yet). */
  ensure(): Promise<void> {
    if (this.view) return Promise.resolve();
    return (this.loading ??= this.fetch().finally(() => (this.loading = undefined)));
  }

  /** The mirror of state `name` (the view must be loaded). */
  mirror(name: string): Mirror {
    const mirror = this.view?.get(name);
    if (!mirror) throw new ConfigError(`state "${name}" is not one of this run's states (${[...(this.view?.keys() ?? [])].join(', ') || 'none'})`);
    return mirror;
  }

  /** Applies a change made through a live object and queues it for the engine. */
  write(name: string, change: StateChange): void {
    const mirror = this.mirror(name);
    mirror.value = applyChanges(mirror.value, [change]);
    mirror.pending.push(change);
    mirror.via = { states: this, name };
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends the changes not sent yet (before any other state command, and when a callback returns). */
  flush(): void {
    this.flushScheduled = false;
    this.tree.flush();
  }

  /** @internal Sends changes of state `name` through this run. */
  send(name: string, changes: StateChange[]): void {
    this.engine.request('state.change', { run: this.runId, name, changes }).catch((err: unknown) => {
      this.refused ??= err;
    });
  }

  /** Writes state `name` with compare-and-set; on a conflict the mirror holds the stored value again. */
  async save(name: string): Promise<void> {
    this.mirror(name);
    this.flush();
    this.throwRefused();
    try {
      await this.engine.request('state.save', { run: this.runId, name });
    } catch (err) {
      if (err instanceof StateError && err.code === 'STORAGE_CONFLICT') await this.fetch();
      throw err;
    }
  }

  /** Read-modify-write of state `name` in the engine, retried on conflict; resolves to the value written. */
  async update(name: string, fn: (value: JsonValue) => unknown): Promise<JsonValue> {
    const mirror = this.mirror(name);
    const callback = `state-update:${this.runId}:${this.nextUpdate++}`;
    this.engine.registerCallback(callback, (value: JsonValue) => {
      const returned = fn(value);
      if (isThenable(returned))
        throw new ConfigError(`updateState("${name}"): the function must return the new value synchronously (it may run more than once), got a promise`);
      const next = returned === undefined ? value : returned;
      // JSON's own rules would store a returned function as null and NaN as null: refuse them as setState does.
      const problem = jsonProblem(next, name, this.maxDepth);
      if (problem) throw new StateError('STORAGE_UNSERIALIZABLE', `updateState("${name}"): the function returned a value that ${stateValueProblem(problem)}`, { state: name });
      return next;
    });
    this.flush();
    this.throwRefused();
    const token = this.tree.begin();
    try {
      const { value } = (await this.engine.request('state.update', { run: this.runId, name, fn: callback })) as { value: JsonValue };
      this.tree.reconcile(mirror, value, token);
      return value;
    } finally {
      this.tree.end(token);
      this.engine.unregisterCallback(callback);
    }
  }

  /** The run ended: sends what is left; later changes are refused. */
  end(): void {
    this.flush();
    this.ended = true;
    runsOf.get(this.engine)?.delete(this.runId);
    for (const fn of this.replayedCallbacks) this.engine.unregisterCallback(fn);
  }

  /**
   * @internal A command of this run that a replay fed the engine for a callback it did not run
   * again: the mirror of state `name` becomes `next(mirror)` (when the view is not loaded yet, loading
   * it reads the engine's value, which has the change).
   */
  replayed(name: string, next: (mirror: Mirror) => JsonValue): void {
    const mirror = this.view?.get(name);
    if (mirror) mirror.value = next(mirror);
  }

  private async fetch(): Promise<void> {
    this.flush();
    const token = this.tree.begin();
    try {
      const { states } = (await this.engine.request('state.view', { run: this.runId })) as { states: ViewEntry[] };
      const view = new Map<string, Mirror>();
      for (const entry of states) {
        let mirror = this.tree.mirrors.get(entry.id);
        if (mirror) this.tree.reconcile(mirror, entry.value, token);
        else {
          mirror = { id: entry.id, value: entry.value, persisted: entry.persisted, pending: [], log: [], via: { states: this, name: entry.name } };
          this.tree.mirrors.set(entry.id, mirror);
        }
        view.set(entry.name, mirror);
      }
      this.view = view;
    } finally {
      this.tree.end(token);
    }
  }

  private throwRefused(): void {
    if (this.refused === undefined) return;
    const err = this.refused;
    this.refused = undefined;
    throw err instanceof Error ? err : new Error('state.change was refused');
  }
}
