/**
 * The JS side of the engine boundary (see src/protocol/PROTOCOL.md).
 *
 * The wasm engine is an event loop. It hands operations out through `host_start` and events through
 * `host_emit` while it runs a turn (`lmthing_run_turn`) over the inbox batch this class gives it; the
 * turn returns once nothing more is ready, and the next batch starts the next turn. Rules kept here:
 * - JS calls into the module only to run a turn, and never during one; everything else is a message
 *   posted to the inbox.
 * - No user code runs inside a wasm -> JS call: ops and events are queued and handled in microtasks.
 * - Every op completes with `{ok, value}` or `{ok: false, error}`; a throwing or rejecting callback
 *   becomes an error value, never a rejected promise inside Emscripten.
 */
import type { WasmImports, WasmInstance, WasmModule } from './platform-types.js';
import { BlobCache, externalizeBlobs, inboundMarker, resolveBlobs, utf8Length } from './blobs.js';
import { forgetRope, forgetRopes, ropeBlocks } from './providers/text-ropes.js';
import { realClock, type HostClock } from './clock.js';
import type { Bivariant, JsonValue } from './schema-types.js';
import { AbortError, ConfigError, EngineError, EngineLoadError, errorFromWire, errorToWire, LimitExceededError, ProtocolError, type LmthingError, type WireError } from './errors.js';
import { currentOp, inOpScope } from './run/op-scope.js';
import { TurnMicrotasks } from './run/turn-microtasks.js';
import { unserializable } from './storage/checks.js';
import { isDeferredHalf, SplitCode, type DeferredSource } from './split-code.js';

/** What an Emscripten module built from bindings/ exposes (only the parts used here). */
export interface CoreModule {
  /**
   * Runs one turn of the engine loop over a batch (a pointer from `_malloc`; the engine frees it) and
   * returns: 0 when the engine is idle, 2 when ops or runs are still outstanding, 1 after a fault.
   */
  _lmthing_run_turn(batchPtr: number): number;
  /** The module's malloc: batches are copied into wasm memory with it (the engine frees them). */
  _malloc(size: number): number;
  /** The module's free, for a batch that could not be handed over. */
  _free(ptr: number): void;
  /** The wasm memory's bytes (a new view after the memory grows: read it after every `_malloc`). */
  HEAPU8: Uint8Array;
  lmthingHost?: HostBridge;
}

/**
 * Emscripten's `instantiateWasm` hook: instantiates the module with the glue's `imports` itself,
 * hands the instance to `receive` later and returns `{}` at once.
 */
export type InstantiateWasm = (imports: WasmImports, receive: (instance: WasmInstance, module: WasmModule) => void) => object;

/** The Emscripten module factory (`createLmthingCore`) of either glue: given the wasm bytes, or a hook that instantiates a compiled module. */
export type CoreFactory = (options: { wasmBinary?: Uint8Array; instantiateWasm?: InstantiateWasm; lmthingHost: HostBridge }) => Promise<CoreModule>;

/** Called by bindings/host.js from inside wasm; implementations only queue work. */
export interface HostBridge {
  /** `blobs`: the message's blobs in offset order (src/protocol/blobs.hpp), views valid only during the call. */
  start(opJson: string, blobs?: readonly Uint8Array[]): void;
  emit(eventJson: string, blobs?: readonly Uint8Array[]): void;
  /** Offered each message without blobs before it is decoded; `true` when it took it (then `emit` is not called). */
  takeEvent(address: number, length: number): boolean;
}

/** Context passed as the last argument to every callback the engine invokes. */
export interface CallbackContext {
  /** Aborted when the engine cancels the op (run cancelled, op timed out). */
  signal: AbortSignal;
  /** The run the op belongs to. */
  runId: number;
  /** The op id, unique within this engine. */
  opId: number;
}

/** A host callback: tools, hooks, conditions ... Receives the op's arguments, then a {@link CallbackContext}. */
export type Callback = Bivariant<Array<JsonValue | CallbackContext>, unknown>;

/** An event the engine emitted that is not a command reply (protocol errors, faults, run events). */
export interface EngineEvent {
  type: string;
  [field: string]: unknown;
}

/** Options of {@link Engine.startRun}. */
export interface RunOptions {
  /** Aborting cancels the run's pending ops (and only those) and rejects with {@link AbortError}. */
  signal?: AbortSignal;
  /** Receives the run's `run.event` payloads (step and tool lifecycle), in order. */
  onEvent?: (event: EngineEvent) => void;
  /**
   * @internal For a listener that only buffers events until someone reads them: while `wanted()`,
   * a payload's JSON bytes go to `keep` (a view of wasm memory, to copy at once), and what it
   * returns to `push` in the event's turn, instead of the parsed event to `onEvent` (one that
   * carries blobs still goes to `onEvent`, parsed).
   */
  eventsAsJson?: { wanted(): boolean; keep(json: Uint8Array): number; push(kept: number): void };
  /** Called synchronously with the run's id (for commands that name the run, e.g. `conversation.*`, `constraints.check`, `approval.request`). */
  onStarted?: (runId: number) => void;
  /** @internal Host code that a durable run's replay runs again sends this command again (see {@link RequestOptions}). */
  replayed?: boolean;
}

/** Options of {@link Engine.request}. */
export interface RequestOptions {
  /**
   * The command comes from host code that runs again when a durable run is replayed (a directive
   * agent's driver, not a tool's implementation): the replay waits for it before feeding the
   * recorded batch that holds it, so the engine never runs ahead of the code that drives it.
   */
  replayed?: boolean;
}

/** The op as the engine sent it: `{id, op, run, ...payload}`. */
export interface OpRequest {
  id: number;
  op: string;
  run: number;
  [field: string]: unknown;
}

/**
 * Performs one kind of op (e.g. `model.generate`). Its result (or rejection) completes the op;
 * `signal` aborts when the engine cancels the op.
 */
export type OpHandler = (op: OpRequest, signal: AbortSignal) => unknown;


/** An inbox batch as a durable run's journal keeps it (js/durable/journal.ts). */
export interface RecordedBatch {
  clock: number;
  lines: string[];
  /** Indices of the lines that re-run host code sends again (`RequestOptions.replayed`). */
  replayed?: number[];
  /** `[line index, op id]`: commands a callback sent, by the op it was running for (hosts with an async context). */
  origins?: Array<[number, number]>;
  /** The long strings the lines refer to, `[id, text]`. */
  blobs?: Array<[string, string]>;
  /**
   * Replaying only: commands of `lines` that callbacks the journal answers without running them had
   * sent (state changes, say). Their effect on the engine comes from the lines; the host's own copies
   * of what they changed follow through {@link Engine.registerReplayedCommand}.
   */
  effects?: Array<Record<string, unknown>>;
}

/** What a callback is, for replaying and resuming a durable run (js/durable/session.ts). */
export interface CallbackTraits {
  /** A tool's name: an interrupted call is run again only if `idempotent`. */
  tool?: string;
  idempotent?: boolean;
  /** Runs again during a replay (it only orchestrates the engine, e.g. a sub-agent's start). */
  liveOnReplay?: boolean;
  /**
   * Sees a call a replay answers from the journal instead of running it (its arguments and recorded
   * outcome), to rebuild host state later calls rely on (e.g. a workflow execution's input and state).
   */
  observe?: (args: unknown[], done: { ok: boolean; value?: unknown }) => void;
}

/** Host bookkeeping for an op answered from a journal instead of performed (e.g. a model call's streamed text). */
export type ReplayHook = (op: OpRequest, done: { ok: boolean; value?: unknown; error?: WireError }) => void;

/** What a journal may do to the engine it is attached to. */
export interface JournalHost {
  /** Performs an op the engine handed out (as it would have without a journal). */
  perform(op: OpRequest): void;
  /** Completes an op without performing it. */
  settle(op: OpRequest, outcome: { ok: true; value: unknown } | { ok: false; error: WireError }): void;
  /** Puts a message line in the inbox (with its marks for the journal, see {@link LoopJournal.hold}). */
  post(line: string, replayed: boolean, origin: number | undefined): void;
  /** Pumps the loop (a recorded batch may be fed). */
  wake(): void;
  /** Stops the engine: every pending request rejects with `error`. */
  fail(error: EngineError | LmthingError): void;
  replayHook(kind: string): ReplayHook | undefined;
  callbackTraits(fn: string): CallbackTraits | undefined;
  /** Performs an op of `kind` through the host's handler without the engine (e.g. a `storage.get`). */
  ask(kind: string, fields: Record<string, unknown>): Promise<unknown>;
  now(): number;
}

/** A durable run's journal as the loop sees it (js/durable/session.ts). */
export interface LoopJournal {
  /** Replaying: the next recorded batch, if one may be fed now. */
  nextBatch(): RecordedBatch | undefined;
  /** Whether a recorded batch may be fed now. */
  canFeed(): boolean;
  /** Live: the batch the engine is given. */
  record(batch: RecordedBatch): void;
  /** The loop waits or returned: the turn is over. */
  turnEnded(): void;
  /** An op the engine handed out: the journal performs it (now or once recorded), answers it, or holds it. */
  opStarted(op: OpRequest, opJson: string): void;
  /**
   * The journal's id for a command the host is about to send, when the journal holds that command.
   * `origin`: the op whose callback sends it, if known.
   */
  claim(message: Record<string, unknown>, replayed: boolean, origin: number | undefined): number | undefined;
  /** Whether op `id`'s completion is in the journal already (a live one is then dropped). */
  ownsCompletion(id: number): boolean;
  /** While replaying, the host's new lines wait in the journal (true); live, they go to the inbox (false). */
  hold(line: string, replayed: boolean, origin: number | undefined): boolean;
  /** The largest command id in the journal: new commands are numbered after it. */
  readonly lastCommandId: number;
  /** Whether the engine is handling a recorded batch (its events were delivered the first time already). */
  replayingTurn(): boolean;
}

const replayedMark = Symbol('lmthing.replayed');

/**
 * Whether a run event is one a durable run's replay emitted again (js/durable/replayed.ts): streams
 * and `prompt.events` get it, observers with effects (handlers, loggers, exporters) do not.
 */
export function isReplayedEvent(event: object): boolean {
  return (event as Record<symbol, unknown>)[replayedMark] === true;
}

interface PendingReply {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Limits on what crosses into the engine (docs/limits.md). */
export interface EngineLimits {
  /**
   * The deepest nesting of arrays and objects accepted in any value (arguments, results, schemas,
   * data): from 1 to the engine's maximum, which is also the default (1000). Deeper values fail with
   * a {@link LimitExceededError} instead of reaching the engine.
   */
  jsonDepth?: number;
}

/** Options of {@link Engine.create}. */
export interface EngineOptions {
  /** The engine's time: wall time by default, or a `VirtualClock` for tests. */
  clock?: HostClock;
  /** Where the deferred half of a split module comes from (js/split-code.ts). */
  deferred?: DeferredSource;
  /** Limits on what crosses into the engine; the engine's defaults when left out. */
  limits?: EngineLimits;
}

/**
 * How long the engine may keep the host's event loop busy (ms of uninterrupted engine and callback
 * work, chained through microtasks) before it lets timers, I/O and rendering run.
 */
export const YIELD_AFTER_MS = 5;

/**
 * How large the engine's memory may grow (Emscripten's default MAXIMUM_MEMORY; bindings/wasm.cmake).
 * Running out of it faults the engine (docs/limits.md, "Engine faults").
 */
const ENGINE_MEMORY_BYTES = 2 ** 31;

/** The engine's default depth limit (src/protocol/json_text.hpp, kDefaultJsonDepth). */
export const DEFAULT_JSON_DEPTH = 1000;

interface InFlightOp {
  /** Made when the op's signal is first read (signalOf): most callbacks never read it. */
  controller?: AbortController;
  timer?: unknown;
  /** A callback that is only waiting for the engine itself (e.g. a sub-agent's run). */
  waitingOnEngine?: boolean;
}

/**
 * One engine instance: a wasm module, its inbox and its single loop. Many runs can be in flight at
 * once; they share the loop.
 */
export class Engine {
  private readonly module: CoreModule;
  private inbox: string[] = [];
  /** Indices of the inbox lines sent by host code a replay runs again (for a durable run's journal). */
  private inboxReplayed: number[] = [];
  /** `[line index, op id]` of the inbox lines a callback sent (for a durable run's journal). */
  private inboxOrigins: Array<[number, number]> = [];
  /** The long strings the inbox's messages refer to (blobs.ts), by text, with their ids. */
  private inboxBlobs = new Map<string, string>();
  private nextBlobId = 1;
  private readonly blobCache = new BlobCache();
  /** A turn is in the engine, or one faulted and the engine is about to fail. */
  private turnRunning = false;
  /** What the running turn hands to JS (ops started, events emitted), run after it. */
  private readonly afterTurn = new TurnMicrotasks();
  private pumpScheduled = false;
  /** Tasks waiting for the engine to finish what it was doing (onceIdle). */
  private idleTasks: Array<() => void> = [];
  private nextCommandId = 1;
  /** The first command id after the engine's own set-up (limits): a journal must see every later one. */
  private firstRunCommandId = 1;
  private readonly replies = new Map<number | string, PendingReply>();
  private readonly callbacks = new Map<string, Callback>();
  private readonly inFlight = new Map<number, InFlightOp>();
  private readonly clock: HostClock;
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private readonly runListeners = new Map<number, (event: EngineEvent) => void>();
  /** Runs started and not yet settled. */
  private readonly liveRunIds = new Set<number>();
  private readonly runJsonListeners = new Map<number, NonNullable<RunOptions['eventsAsJson']>>();
  private readonly opHandlers = new Map<string, OpHandler>();
  private faultError: EngineError | null = null;
  /** The engine's depth limit in force (`limits.jsonDepth`, docs/limits.md). */
  jsonDepth = DEFAULT_JSON_DEPTH;
  /** The last batch handed to the engine: what it was handling if it traps. */
  private lastBatch = '';
  /** When the current stretch of work without a macrotask boundary began (performance.now), or -1. */
  private sliceStart = -1;
  private readonly causes = new Map<number, unknown>();
  private nextCause = 1;
  /** A durable run's journal (js/durable/session.ts), when this engine runs one. */
  private journal: LoopJournal | null = null;
  private readonly callbackTraitsByName = new Map<string, CallbackTraits>();
  private readonly replayHooks = new Map<string, ReplayHook>();
  private readonly replayedCommandHooks = new Map<string, (message: Record<string, unknown>) => void>();
  /** Replies to journaled commands that no live request has claimed yet. */
  private readonly earlyReplies = new Map<number, EngineEvent>();
  /** Ops the engine cancelled before the host got to perform them. */
  private readonly cancelledEarly = new Set<number>();

  private constructor(module: CoreModule, options: EngineOptions, private readonly split?: SplitCode) {
    this.module = module;
    this.clock = options.clock ?? realClock;
    this.clock.watchIdle?.(() => this.idleButForTimers());
  }

  /**
   * @internal Instantiates the wasm module with the given glue factory (use `createEngine`): from its
   * bytes, or from a module compiled before (no second compilation, js/wasm-module.ts).
   */
  static async create(factory: CoreFactory, wasm: Uint8Array | WebAssembly.Module, options: EngineOptions = {}): Promise<Engine> {
    // Set once the module is instantiated; the bridge is only called after that.
    let engine: Engine | undefined = undefined;
    const bridge: HostBridge = {
      start: (op, blobs) => engine!.onStart(op, blobs),
      emit: (event, blobs) => engine!.onEmit(event, blobs),
      takeEvent: (address, length) => engine!.takeEventAsJson(address, length),
    };
    let split: SplitCode | undefined;
    let module: CoreModule;
    if (wasm instanceof WebAssembly.Module) {
      // The two files swapped: instantiating would fail with V8's own words about an import.
      if (isDeferredHalf(wasm))
        throw new EngineLoadError('lmthing could not use lmthing_core.wasm: the module given for it is lmthing_core.deferred.wasm, the engine\'s second half. Pass the two files of one build, each as its own option (see docs/bundlers.md)', 'dist/wasm/lmthing_core.wasm', []);
      split = new SplitCode(wasm, options.deferred);
      module = await instantiateCompiled(factory, wasm, bridge, split);
    } else {
      module = await factory({ wasmBinary: wasm, lmthingHost: bridge });
    }
    module.lmthingHost = bridge;
    engine = new Engine(module, options, split);
    if (options.limits !== undefined) await engine.configure(options.limits);
    return engine;
  }

  /**
   * Loads the engine's deferred code (`lmthing_core.deferred.wasm`: what a first request does not
   * run, docs/bundlers.md) now, so that no later call has to load it synchronously. `preload()` does
   * this for the shared engine; call it on an engine of your own at start-up. Resolves at once when
   * it is loaded already.
   *
   * @throws EngineLoadError (as a rejection) when the file cannot be loaded or belongs to another build.
   */
  async prepareDeferredCode(): Promise<void> {
    await this.split?.prepare();
  }

  /** @internal Whether the deferred half of the engine's code is loaded (tests, benchmarks). */
  get deferredCodeLoaded(): boolean {
    return this.split?.loaded ?? false;
  }

  /** Sends the limits to the engine; a value out of range is a ConfigError naming it. */
  private async configure(limits: EngineLimits): Promise<void> {
    try {
      const reply = (await this.request('engine.configure', { limits: { ...limits } })) as { limits?: { jsonDepth?: number } };
      this.firstRunCommandId = this.nextCommandId; // set-up, not a run: the engine can still take a journal
      if (typeof reply?.limits?.jsonDepth === 'number') this.jsonDepth = reply.limits.jsonDepth;
    } catch (err) {
      if (err instanceof ProtocolError) throw new ConfigError(`createEngine: ${err.message.replace(/^engine\.configure: /, '')}`);
      throw err;
    }
  }

  /** The engine's clock (ms): what the engine's own time is based on. */
  now(): number {
    return this.clock.now();
  }

  /**
   * @internal
   * Marks the callback op `opId` as waiting only for the engine (say, for a sub-run it started)
   * until `work` settles, so that a virtual clock does not wait for it. Returns `work`.
   */
  waitOnEngine<T>(opId: number, work: Promise<T>): Promise<T> {
    const op = this.inFlight.get(opId);
    if (!op) return work;
    op.waitingOnEngine = true;
    this.clock.poke?.();
    const done = () => {
      op.waitingOnEngine = false;
    };
    work.then(done, done);
    return work;
  }

  /**
   * Registers (or replaces) a named callback the engine can invoke with `callback.invoke`.
   * `traits` (internal) say how a durable run treats it on replay and resume.
   */
  registerCallback(name: string, fn: Callback, traits?: CallbackTraits): void {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`callback name must be a non-empty string, got ${String(name)}`);
    if (typeof fn !== 'function') throw new ConfigError(`callback "${name}" must be a function, got ${typeof fn}`);
    this.callbacks.set(name, fn);
    if (traits) this.callbackTraitsByName.set(name, traits);
  }

  /** @internal Calls `task` after `ms` on the engine's clock (a VirtualClock's too); returns what cancels it. */
  setTimer(ms: number, task: () => void): () => void {
    const handle = this.clock.setTimer(ms, task);
    return () => this.clock.clearTimer(handle);
  }

  /** @internal Whether run `id` was started here and has not settled yet. */
  isRunLive(id: number): boolean {
    return this.liveRunIds.has(id);
  }

  /** @internal Whether a callback of that name is registered. */
  hasCallback(name: string): boolean {
    return this.callbacks.has(name);
  }

  /** Removes a callback; ops naming it afterwards fail with an error listing the registered ones. */
  unregisterCallback(name: string): void {
    this.callbacks.delete(name);
    this.callbackTraitsByName.delete(name);
  }

  /** @internal Whether a durable run's journal records this engine's messages (js/durable/session.ts). */
  get journaled(): boolean {
    return this.journal !== null;
  }

  /** @internal Installs the bookkeeping an op of `kind` needs when a journal answers it (js/run/host.ts). */
  registerReplayHook(kind: string, hook: ReplayHook): void {
    this.replayHooks.set(kind, hook);
  }

  /**
   * @internal Sees each command of type `type` that a replay feeds the engine on behalf of a
   * callback it does not run again (`RecordedBatch.effects`), so host state mirroring the engine's
   * (js/state/run-states.ts) follows what the callback did the first time.
   */
  registerReplayedCommand(type: string, hook: (message: Record<string, unknown>) => void): void {
    this.replayedCommandHooks.set(type, hook);
  }

  /**
   * @internal Makes this engine run a durable run's journal (js/durable/session.ts): a fresh engine
   * only, since the journal holds every message of the engine's loop from its first.
   */
  attachJournal(create: (host: JournalHost) => LoopJournal): LoopJournal {
    if (this.journal || this.nextCommandId !== this.firstRunCommandId) throw new ConfigError('a durable run needs an engine of its own: this one already ran something');
    const journal = create({
      perform: (op) => this.perform(op),
      settle: (op, outcome) => {
        this.inFlight.set(op.id, {});
        this.complete(op.id, outcome);
      },
      post: (line, replayed, origin) => this.toInbox(line, replayed, origin),
      wake: () => this.schedulePump(),
      fail: (error) => {
        const known = this.faultError;
        this.failEngine(error as EngineError);
        if (!known) this.notify({ type: 'engine.fault', error: { kind: 'engine', code: error.code, message: error.message } });
      },
      replayHook: (kind) => this.replayHooks.get(kind),
      callbackTraits: (fn) => this.callbackTraitsByName.get(fn),
      ask: async (kind, fields) => {
        const handler = this.opHandlers.get(kind);
        if (!handler) throw new Error(`this host does not support op "${kind}"`);
        return await handler({ id: -1, run: 0, ...fields, op: kind }, new AbortController().signal);
      },
      now: () => this.clock.now(),
    });
    this.journal = journal;
    this.nextCommandId = journal.lastCommandId + 1;
    return journal;
  }

  /** Installs the handler for ops of `kind` (the built-in `callback.invoke` and `timer.sleep` excepted). */
  registerOpHandler(kind: string, handler: OpHandler): void {
    if (kind === 'callback.invoke' || kind === 'timer.sleep') throw new TypeError(`op "${kind}" is built into the engine host`);
    this.opHandlers.set(kind, handler);
  }

  /** Subscribes to engine events other than replies; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal Stops the engine: every pending request rejects with `error` (a suspended durable run). */
  failWith(error: LmthingError): void {
    this.failEngine(error as EngineError);
  }

  /** The fault that stopped this engine (null while it runs); a faulted engine rejects every request. */
  get fault(): EngineError | null {
    return this.faultError;
  }

  /**
   * Sends a command and resolves with its reply value (rejects with the typed error of the reply).
   * `fields` are merged into the message; `type` and `id` are set here.
   */
  request(type: string, fields: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<unknown> {
    // No journal: no closure to build the message for one (a command is sent per directive).
    const id = this.journal ? this.commandId(() => ({ ...fields, type }), options.replayed === true) : this.nextCommandId++;
    return this.send(id, { ...fields, type, id }, options.replayed === true);
  }

  /**
   * The id of a new command: the journal's, when a replayed run sends a command its journal holds.
   * `message` (the command without its id) is made only for a journal to compare.
   */
  private commandId(message: () => Record<string, unknown>, replayed: boolean): number {
    return (this.journal && this.journal.claim(message(), replayed, currentOp(this))) ?? this.nextCommandId++;
  }

  /** Starts a run (`run.start {spec}`) and resolves with its result. */
  startRun(spec: Record<string, unknown>, options: RunOptions = {}): Promise<unknown> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(abortReason(signal)));
    const id = this.commandId(() => ({ type: 'run.start', spec }), options.replayed === true);
    if (options.onEvent) this.runListeners.set(id, options.onEvent);
    if (options.eventsAsJson) this.runJsonListeners.set(id, options.eventsAsJson);
    options.onStarted?.(id);
    this.liveRunIds.add(id);
    const result = this.send(id, { type: 'run.start', id, spec }, options.replayed === true);
    const forget = () => {
      this.liveRunIds.delete(id);
      this.runListeners.delete(id);
      this.runJsonListeners.delete(id);
    };
    result.then(forget, forget);
    if (!signal) return result;
    const onAbort = () => this.postMessage({ type: 'run.cancel', id: this.nextCommandId++, run: id, reason: abortReason(signal) });
    signal.addEventListener('abort', onAbort, { once: true });
    const detach = () => signal.removeEventListener('abort', onAbort);
    result.then(detach, detach);
    return result;
  }

  /**
   * Posts a raw line into the inbox, exactly as given. For hosts and tests exercising the
   * protocol; a malformed line is reported as a `protocol.error` event.
   */
  postRaw(line: string): void {
    if (line.includes('\n')) throw new ProtocolError('a message must be one line (JSON has no raw newlines)');
    // Lone surrogates cannot be encoded as UTF-8: they become U+FFFD, as in every other message.
    this.enqueue(wellFormed(line));
  }

  // ---------------------------------------------------------------- commands and replies

  private send(id: number, message: Record<string, unknown>, replayed = false): Promise<unknown> {
    if (this.faultError) return Promise.reject(this.faultError);
    let line: string;
    try {
      line = serialize(this.withBlobs(message), `${String(message.type)} message`);
    } catch (err) {
      const problem = err instanceof TypeError ? unserializable(message) : '';
      if (problem) return Promise.reject(new TypeError(`${String(message.type)}: ${problem} (what is sent to the engine must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)`, { cause: err }));
      return Promise.reject(err instanceof Error ? err : new TypeError(String(err)));
    }
    return new Promise((resolve, reject) => {
      this.replies.set(id, { resolve, reject });
      const early = this.earlyReplies.get(id);
      if (early) {
        // A replayed command the journal already gave the engine: its reply came before the request.
        this.earlyReplies.delete(id);
        queueMicrotask(() => this.settleReply(early));
      } else if (!(id <= (this.journal?.lastCommandId ?? 0))) {
        this.enqueue(line, replayed);
      }
    });
  }

  /**
   * @internal Tells the engine that the model call of op `opId` showed some of its text to the user:
   * a timeout of that call is then not retried by default (PROTOCOL.md §3, `op.progress`).
   */
  noteTextShown(opId: number): void {
    this.postMessage({ type: 'op.progress', op: opId, textShown: true });
  }

  /**
   * @internal The engine gave up on model call `opId` after it had shown `text` (streamed in chunks
   * of the lengths `chunks` encodes) and the raw chunks `rawChunks` (js/run/raw-chunks.ts): a
   * durable run's journal keeps them, and a replay shows them again. The engine ignores progress of
   * an op that ended (PROTOCOL.md §3, `op.progress`).
   */
  noteShownText(opId: number, text: string, chunks: string | undefined, rawChunks?: string): void {
    if (!this.journal) return;
    this.postMessage({ type: 'op.progress', op: opId, partialText: text, ...(chunks === undefined ? {} : { partialChunks: chunks }), ...(rawChunks === undefined ? {} : { partialRawChunks: rawChunks }) });
    // Recorded now, in a turn of its own: the turn that gave up on the call may also have ended the
    // run, and whoever awaits the run reads the journal as soon as that is dispatched. A scheduled
    // pump (a macrotask after a long stretch of work) would come too late.
    if (!this.turnRunning && !this.faultError) this.runTurn();
  }

  private postMessage(message: Record<string, unknown>): void {
    this.enqueue(serialize(this.withBlobs(message), `${String(message.type)} message`));
  }

  /** Puts a line in the inbox; while a journal is being replayed, it waits in the journal. */
  private enqueue(line: string, replayed = false): void {
    const origin = this.journal ? currentOp(this) : undefined;
    if (this.journal?.hold(line, replayed, origin)) return;
    this.toInbox(line, replayed, origin);
  }

  /** Appends a line to the inbox; `replayed` and `origin` go to a durable run's journal with it. */
  private toInbox(line: string, replayed: boolean, origin: number | undefined): void {
    if (replayed) this.inboxReplayed.push(this.inbox.length);
    if (origin !== undefined) this.inboxOrigins.push([this.inbox.length, origin]);
    this.inbox.push(line);
    this.schedulePump();
  }

  /** Whether the loop has something to take: inbox lines, or a recorded batch to feed. */
  private hasInput(): boolean {
    return this.inbox.length > 0 || (this.journal?.canFeed() ?? false);
  }

  // ---------------------------------------------------------------- the loop

  /**
   * Coalesces posts of one tick into one batch. Normally the pump is a microtask; once the engine
   * has kept the event loop busy for {@link YIELD_AFTER_MS} it is a macrotask instead, so that runs
   * without real I/O (an in-process model, synchronous tools) cannot starve timers, I/O or the page.
   */
  private schedulePump(): void {
    if (this.pumpScheduled || this.faultError) return;
    this.pumpScheduled = true;
    const now = performance.now();
    if (this.sliceStart < 0) {
      this.sliceStart = now;
      macrotask(() => {
        this.sliceStart = -1; // the event loop got a turn: a new stretch starts with the next pump
      });
    } else if (now - this.sliceStart > YIELD_AFTER_MS) {
      macrotask(() => this.pump());
      return;
    }
    queueMicrotask(() => this.pump());
  }

  /**
   * `message` with its long strings moved beside it as blobs of the next batch (one blob per
   * distinct string). The host keeps each one's well-formed text under the key the engine will
   * name it by, so the same text coming back out is not decoded again.
   */
  private withBlobs(message: unknown): unknown {
    return externalizeBlobs(
      message,
      (text) => {
        let id = this.inboxBlobs.get(text);
        if (id === undefined) {
          id = String(this.nextBlobId++);
          this.inboxBlobs.set(text, id);
          this.blobCache.set(`in:${id}`, toWellFormed(text));
        }
        return inboundMarker(id);
      },
      this.jsonDepth + 1,
    );
  }

  /** The inbox as one batch: the clock line (with the blobs' ids and byte lengths) and the messages. */
  private takeBatch(): OutgoingBatch {
    const recorded = this.journal?.nextBatch();
    if (recorded) return this.replayedBatch(recorded);
    const clock = this.clock.now();
    this.journal?.record({
      clock,
      lines: this.inbox,
      ...(this.inboxReplayed.length > 0 ? { replayed: this.inboxReplayed } : {}),
      ...(this.inboxOrigins.length > 0 ? { origins: this.inboxOrigins } : {}),
      ...(this.inboxBlobs.size > 0 ? { blobs: [...this.inboxBlobs].map(([text, id]): [string, string] => [id, text]) } : {}) });
    const blobs = [...this.inboxBlobs].map(([text, id]) => {
      const pieces = ropeBlocks(text) ?? [text]; // a long streamed answer: its blocks, never made flat
      forgetRope(text);
      return { id, text, pieces, bytes: pieces.reduce((sum, piece) => sum + utf8Length(piece), 0) };
    });
    const header = [String(clock), ...blobs.map((blob) => `${blob.id}:${blob.bytes}`)].join(' ');
    const text = `${header}\n${this.inbox.join('\n')}`;
    this.inbox = [];
    this.inboxReplayed = [];
    this.inboxOrigins = [];
    this.inboxBlobs = new Map();
    this.lastBatch = text;
    return { text, blobs };
  }

  /** A batch from the journal, handed to the engine as it was the first time (same clock, lines and blobs). */
  private replayedBatch(batch: RecordedBatch): OutgoingBatch {
    for (const message of batch.effects ?? []) this.replayedCommandHooks.get(String(message.type))?.(message);
    const blobs = (batch.blobs ?? []).map(([id, text]) => {
      this.blobCache.set(`in:${id}`, toWellFormed(text));
      this.nextBlobId = Math.max(this.nextBlobId, Number(id) + 1);
      return { id, text, pieces: [text], bytes: utf8Length(text) };
    });
    const header = [String(batch.clock), ...blobs.map((blob) => `${blob.id}:${blob.bytes}`)].join(' ');
    const text = `${header}\n${batch.lines.join('\n')}`;
    this.lastBatch = text;
    return { text, blobs };
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (!this.hasInput() || this.faultError) return;
    // A turn is synchronous, so a running one here is one that faulted: the engine is about to fail.
    if (!this.turnRunning) this.runTurn();
  }

  /** Hands the inbox to the engine for one turn; the engine returns when nothing more is ready. */
  private runTurn(): void {
    this.turnRunning = true;
    let status: number;
    try {
      status = this.module._lmthing_run_turn(this.copyIn(this.takeBatch()));
    } catch (err) {
      this.trapped(err);
      return;
    } finally {
      this.afterTurn.close();
    }
    if (status === 1) {
      // After the engine.fault event the turn emitted, which is dispatched in a microtask and says why;
      // the turn counts as running until then, so nothing is handed to the dead engine.
      queueMicrotask(() => {
        this.turnRunning = false;
        this.failEngine(this.faultError ?? new EngineError('the engine loop stopped after a fault', 'ENGINE_FAULT'));
      });
      return;
    }
    this.turnRunning = false;
    this.journal?.turnEnded();
    // No run is left to name a text it sent or received: a long answer kept for the next message
    // would otherwise stay in the heap until other texts push it out (bench/README.md, "Streaming").
    if (status === 0) {
      this.blobCache.clear();
      forgetRopes();
    }
    if (this.hasInput()) this.schedulePump();
    else if (status === 2) this.clock.poke?.();
    else if (this.idleTasks.length > 0) this.runIdleTasks();
  }

  /**
   * @internal Runs `task` once the engine has no run, op or message left: after the turn that
   * finished its work (e.g. the first run), in a macrotask of its own. Background work that must
   * not slow the first run down waits for this (js/browser.ts).
   */
  onceIdle(task: () => void): void {
    this.idleTasks.push(task);
  }

  private runIdleTasks(): void {
    const tasks = this.idleTasks;
    this.idleTasks = [];
    setTimeout(() => {
      for (const task of tasks) task();
    }, 0);
  }

  /**
   * The module trapped (a stack overflow, an abort, an escaped C++ exception): the engine is dead.
   * Listeners get an `engine.fault` event naming what the engine was handling.
   */
  private trapped(err: unknown): void {
    if (this.faultError) return this.failEngine(this.faultError);
    const input = describeBatch(this.lastBatch);
    const error = trapError(err, input);
    this.failEngine(error);
    this.notify({ type: 'engine.fault', error: { kind: 'engine', code: error.code, message: error.message, input } });
  }

  /**
   * Copies a batch into wasm memory and returns its address (the engine frees it): its byte length
   * (4 bytes, little-endian), its text as UTF-8, then, if it carries blobs, a NUL and their bytes.
   * One native TextEncoder call per part: Emscripten's allocateUTF8 encodes in a JS loop (~0.1 s/MB).
   * Each part is measured first and encoded straight into wasm memory: a 50 MB answer is not also
   * held as a 50 MB Uint8Array on its way in, and a turn's batch allocates no buffer of its own.
   */
  private copyIn(batch: OutgoingBatch): number {
    const textBytes = utf8Length(batch.text);
    let length = textBytes;
    if (batch.blobs.length > 0) length += 1 + batch.blobs.reduce((sum, blob) => sum + blob.bytes, 0);
    if (length > ENGINE_MEMORY_BYTES) throw new LimitExceededError(`a batch of ${length} bytes does not fit the engine's 2 GB memory`);
    const ptr = this.module._malloc(4 + length);
    const heap = this.module.HEAPU8; // after _malloc, which may have grown the memory
    heap[ptr] = length & 0xff;
    heap[ptr + 1] = (length >>> 8) & 0xff;
    heap[ptr + 2] = (length >>> 16) & 0xff;
    heap[ptr + 3] = (length >>> 24) & 0xff;
    let at = ptr + 4;
    const encodeAt = (pieces: readonly string[], bytes: number, what: string): void => {
      const end = at + bytes;
      for (const piece of pieces) {
        const { read, written } = utf8.encodeInto(piece, heap.subarray(at, end));
        at += written;
        if (read !== piece.length) break;
      }
      if (at !== end) {
        this.module._free(ptr);
        throw new EngineError(`${what} of ${pieces.reduce((sum, piece) => sum + piece.length, 0)} characters encoded to ${bytes - (end - at)} of the ${bytes} UTF-8 bytes expected`);
      }
    };
    encodeAt([batch.text], textBytes, 'a batch');
    if (batch.blobs.length > 0) heap[at++] = 0;
    for (const blob of batch.blobs) encodeAt(blob.pieces, blob.bytes, 'a blob');
    return ptr;
  }

  /** Nothing but timers in progress: no message waiting, no op doing real work. */
  private idleButForTimers(): boolean {
    if (this.hasInput() || this.turnRunning || this.faultError) return false;
    for (const op of this.inFlight.values()) if (op.timer === undefined && !op.waitingOnEngine) return false;
    return true;
  }

  private failEngine(error: EngineError): void {
    if (!this.faultError) this.faultError = error;
    for (const [, pending] of this.replies) pending.reject(this.faultError);
    this.replies.clear();
    for (const [, op] of this.inFlight) {
      abortOp(op, this.faultError);
      if (op.timer !== undefined) this.clock.clearTimer(op.timer);
    }
    this.inFlight.clear();
    this.inbox = [];
    this.inboxReplayed = [];
    this.inboxOrigins = [];
    this.inboxBlobs = new Map();
  }

  // ---------------------------------------------------------------- ops and events from wasm

  private onStart(opJson: string, blobs?: readonly Uint8Array[]): void {
    let op = JSON.parse(opJson) as OpRequest;
    if (blobs) op = resolveBlobs(op, blobs, this.blobCache, utf8Decoder) as OpRequest;
    if (this.journal) this.journal.opStarted(op, opJson);
    else this.afterTurn.add(() => this.perform(op));
  }

  private onEmit(eventJson: string, blobs?: readonly Uint8Array[]): void {
    let event = JSON.parse(eventJson) as EngineEvent;
    if (blobs) event = resolveBlobs(event, blobs, this.blobCache, utf8Decoder) as EngineEvent;
    if (event.type === 'run.event' && this.journal?.replayingTurn() && typeof event.event === 'object' && event.event !== null)
      Object.defineProperty(event.event, replayedMark, { value: true });
    this.afterTurn.add(() => this.dispatch(event));
  }

  /**
   * Takes a message (`length` bytes at `address` in wasm memory) before it is decoded, if it is a
   * run event for a run whose listener wants events as JSON now: its payload's bytes go to the
   * listener as they are. The engine frames every run event as
   * `{"type":"run.event","run":<id>,"event":<payload>}` (src/protocol/blobs.cpp). Returns whether it
   * took the message; if not, the message is decoded and goes to `onEmit`.
   */
  private takeEventAsJson(address: number, length: number): boolean {
    if (this.runJsonListeners.size === 0) return false;
    const heap = this.module.HEAPU8;
    if (!startsWith(heap, address, RUN_EVENT_OPENING)) return false;
    let at = address + RUN_EVENT_OPENING.length;
    let run = 0;
    for (; heap[at] >= DIGIT_0 && heap[at] <= DIGIT_9; at++) run = run * 10 + heap[at] - DIGIT_0;
    const listener = this.runJsonListeners.get(run);
    if (!listener || !startsWith(heap, at, EVENT_MEMBER) || !listener.wanted()) return false;
    const kept = listener.keep(heap.subarray(at + EVENT_MEMBER.length, address + length - 1));
    this.afterTurn.add(() => listener.push(kept));
    return true;
  }

  private dispatch(event: EngineEvent): void {
    switch (event.type) {
      case 'reply':
        if (this.journal && !this.replies.has(event.id as number)) {
          this.earlyReplies.set(event.id as number, event);
          return;
        }
        return this.settleReply(event);
      case 'op.cancel':
        return this.cancelOp(event.id as number, typeof event.reason === 'string' ? event.reason : 'cancelled');
      case 'run.event':
        return this.runListeners.get(event.run as number)?.(event.event as EngineEvent);
      case 'engine.fault': {
        const wire = event.error as WireError;
        const input = typeof wire.input === 'string' ? wire.input : undefined;
        const code = typeof wire.code === 'string' ? wire.code : 'ENGINE_FAULT';
        this.faultError = new EngineError(input ? `${wire.message} (while handling: ${input})` : wire.message, code, { input });
        break;
      }
    }
    this.notify(event);
  }

  private notify(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break the engine; listeners own their errors.
      }
    }
  }

  private settleReply(event: EngineEvent): void {
    const pending = this.replies.get(event.id as number);
    if (!pending) return;
    this.replies.delete(event.id as number);
    if (event.ok) {
      pending.resolve(event.value);
      return;
    }
    const wire = event.error as WireError;
    const error = errorFromWire(wire);
    // A user callback's own error that ended the run stays reachable as the typed error's cause.
    const cause = typeof wire.causeId === 'number' ? this.causes.get(wire.causeId) : undefined;
    // A file the host failed to load for the engine (a tokenizer's rank file) is the host's own
    // EngineLoadError, with its file and URLs, as a failed wasm load is: it crossed the engine unchanged.
    if (cause instanceof EngineLoadError && error.code === cause.code && error.message === cause.message) {
      pending.reject(cause);
      return;
    }
    if (cause !== undefined && error.cause === undefined) Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
    pending.reject(error);
  }

  private perform(op: OpRequest): void {
    if (this.faultError || this.cancelledEarly.delete(op.id)) return;
    const entry: InFlightOp = {};
    this.inFlight.set(op.id, entry);
    switch (op.op) {
      case 'callback.invoke':
        this.invokeCallback(op, entry);
        return;
      case 'timer.sleep':
        entry.timer = this.clock.setTimer(Math.max(0, Number(op.ms) || 0), () => this.complete(op.id, { ok: true, value: null }));
        return;
    }
    const handler = this.opHandlers.get(op.op);
    if (!handler) {
      this.complete(op.id, { ok: false, error: { kind: 'protocol', message: `this host does not support op "${op.op}"` } });
      return;
    }
    this.settle(op.id, () => handler(op, signalOf(entry)));
  }

  /** Runs `work` and completes op `id` with its outcome; a throw or rejection becomes an error value. */
  private settle(id: number, work: () => unknown): void {
    // Not `new Promise(resolve => resolve(work()))`: that makes a promise and three closures more
    // per op, and a model call is one op of thousands in flight (bench/README.md, "Parallel fan-out").
    let outcome: unknown;
    try {
      outcome = work();
    } catch (err) {
      // Whatever the callback threw, as the rejection handler below takes it (it may be no Error).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      outcome = Promise.reject(err);
    }
    Promise.resolve(outcome).then(
      (value) => this.complete(id, { ok: true, value }),
      (err: unknown) => this.complete(id, { ok: false, error: { ...errorToWire(err), causeId: this.rememberCause(err) } }),
    );
  }

  /** Keeps the last few errors thrown by callbacks, so a run that fails with one can give it as `cause`. */
  private rememberCause(err: unknown): number {
    const id = this.nextCause++;
    this.causes.set(id, err);
    if (this.causes.size > 256) this.causes.delete(this.causes.keys().next().value!);
    return id;
  }

  private invokeCallback(op: OpRequest, entry: InFlightOp): void {
    const name = String(op.fn);
    const fn = this.callbacks.get(name);
    if (!fn) {
      const known = [...this.callbacks.keys()].map((k) => `"${k}"`).join(', ') || 'none';
      this.complete(op.id, { ok: false, error: { kind: 'callback', message: `unknown callback "${name}" (registered: ${known})` } });
      return;
    }
    const args = (Array.isArray(op.args) ? op.args : []) as JsonValue[];
    const context = { get signal() { return signalOf(entry); }, runId: op.run, opId: op.id } satisfies CallbackContext;
    // Settled to {ok, value|error} before anything reaches the engine: a rejection never crosses.
    this.settle(op.id, () => inOpScope(this, op.id, () => fn(...args, context)));
  }

  private cancelOp(id: number, reason: string): void {
    const op = this.inFlight.get(id);
    if (!op) {
      if (this.journal) this.cancelledEarly.add(id); // a journaled op waiting for its record to be written
      return;
    }
    this.inFlight.delete(id);
    if (op.timer !== undefined) this.clock.clearTimer(op.timer);
    abortOp(op, new AbortError(reason));
    this.clock.poke?.();
  }

  /** Posts op.done unless the engine already gave up on the op (cancelled or timed out). */
  private complete(id: number, outcome: { ok: true; value: unknown } | { ok: false; error: WireError }): void {
    if (!this.inFlight.delete(id)) return;
    if (this.journal?.ownsCompletion(id)) return;
    let line: string;
    try {
      line = JSON.stringify(this.withBlobs(outcome.ok ? { type: 'op.done', id, ok: true, value: outcome.value ?? null } : { type: 'op.done', id, ok: false, error: outcome.error }));
    } catch (err) {
      // A RangeError is JSON.stringify running out of stack: a value nested too deeply for any limit.
      const error = err instanceof RangeError
        ? { kind: 'limit', message: `the result is nested too deeply to serialize (${err.message})` }
        : { kind: 'callback', message: `callback result is not JSON-serializable: ${(outcome.ok && unserializable(outcome.value)) || (err instanceof Error ? err.message : String(err))}` };
      line = JSON.stringify({ type: 'op.done', id, ok: false, error });
    }
    this.enqueue(line);
    this.clock.poke?.();
  }
}

/** What an aborted run says: the signal's reason as text. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message || 'aborted';
  return typeof reason === 'string' && reason ? reason : 'the run was aborted';
}

/** A wasm trap or a C++ exception that escaped as a raw pointer becomes an EngineError. */
function trapError(err: unknown, input: string): EngineError {
  const handling = input ? ` (while handling: ${input})` : '';
  if (typeof err === 'number') return new EngineError(`a C++ exception escaped the engine (pointer ${err})${handling}`, 'ENGINE_FAULT', { input });
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  // malloc itself aborts when the memory cannot grow (ABORTING_MALLOC): say what that means.
  if (/Aborted\(OOM\)/.test(message)) return new EngineError(`the engine ran out of memory (its wasm memory could not grow for an allocation)${handling}`, 'ENGINE_FAULT', { cause: err, input });
  return new EngineError(`the engine trapped: ${message}${handling}`, 'ENGINE_FAULT', { cause: err, input });
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A batch as the host hands it over: the clock line and messages, and the blobs they refer to (with their UTF-8 lengths). */
interface OutgoingBatch {
  text: string;
  /** Each blob's text as the pieces to encode one after the other (text-ropes.ts), and its UTF-8 length. */
  blobs: Array<{ text: string; pieces: readonly string[]; bytes: number }>;
}

/** `text` as the engine will see it after UTF-8 encoding: lone surrogates become U+FFFD. */
function toWellFormed(text: string): string {
  const native = (text as { isWellFormed?: () => boolean; toWellFormed?: () => string });
  if (native.isWellFormed && native.toWellFormed) return native.isWellFormed() ? text : native.toWellFormed();
  return wellFormed(text);
}

/** `text` with every lone UTF-16 surrogate replaced by U+FFFD (String.prototype.toWellFormed). */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const RUN_EVENT_OPENING = new TextEncoder().encode('{"type":"run.event","run":');
const EVENT_MEMBER = new TextEncoder().encode(',"event":');
const [DIGIT_0, DIGIT_9] = [0x30, 0x39];

/** Whether `bytes` holds `prefix` at `at`. */
function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** JSON text of a message; a value too deep for JSON.stringify's stack is a {@link LimitExceededError}. */
function serialize(message: unknown, what: string): string {
  try {
    return JSON.stringify(message);
  } catch (err) {
    if (err instanceof RangeError) throw new LimitExceededError(`the ${what} is nested too deeply to serialize (${err.message})`);
    throw err;
  }
}

/** "run.start #3 (prompt), op.done #7": the messages of a batch, for fault reports (at most ~300 characters). */
function describeBatch(batch: string): string {
  const lines = batch.split('\n').slice(1);
  const parts: string[] = [];
  for (const line of lines) {
    let part = 'unreadable message';
    try {
      const message = JSON.parse(line) as { type?: unknown; id?: unknown; spec?: { kind?: unknown } };
      part = `${String(message.type)}${message.id !== undefined ? ` #${JSON.stringify(message.id)}` : ''}`;
      if (typeof message.spec?.kind === 'string') part += ` (${message.spec.kind})`;
    } catch {
      // keep "unreadable message"
    }
    parts.push(part);
    if (parts.join(', ').length > 300) break;
  }
  const text = parts.join(', ');
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** Runs `fn` as a macrotask: after timers, I/O and (in browsers) rendering have had a turn. */
const macrotask: (fn: () => void) => void = (() => {
  if (typeof setImmediate === 'function') return (fn: () => void) => void setImmediate(fn);
  if (typeof MessageChannel === 'function') {
    // Not setTimeout(0): browsers clamp nested timeouts to 4 ms.
    const queue: Array<() => void> = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = () => queue.shift()?.();
    return (fn: () => void) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn: () => void) => void setTimeout(fn, 0);
})();

/** The op's AbortSignal, made on first use: an AbortController per op was ~9 % of a round trip. */
function signalOf(op: InFlightOp): AbortSignal {
  return (op.controller ??= new AbortController()).signal;
}

/** Aborts the op's signal, made now if nothing read it yet, so that a later read sees it aborted. */
function abortOp(op: InFlightOp, reason: Error): void {
  (op.controller ??= new AbortController()).abort(reason);
}

/**
 * Runs the glue with a compiled module. The glue does not hear of a failure inside its
 * `instantiateWasm` hook (its ready promise would never settle), so the failure is raced here.
 */
function instantiateCompiled(factory: CoreFactory, compiled: WebAssembly.Module, lmthingHost: HostBridge, split: SplitCode): Promise<CoreModule> {
  return new Promise<CoreModule>((resolve, reject) => {
    const instantiateWasm: InstantiateWasm = (imports, receive) => {
      const withPlaceholders = { ...imports, placeholder: split.placeholders() };
      WebAssembly.instantiate(compiled, withPlaceholders).then((instance) => {
        split.attach(instance);
        receive(instance, compiled);
      }).catch(reject);
      return {};
    };
    factory({ instantiateWasm, lmthingHost }).then(resolve, reject);
  });
}
