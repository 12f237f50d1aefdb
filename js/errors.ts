/**
 * Typed errors of lmthing. Every failure a user can see is one of these, with a stable `code` string
 * that survives the JS <-> wasm boundary (the engine reports errors as `{kind, message, ...}` objects
 * and {@link errorFromWire} turns them back into these classes).
 */

const brand = Symbol.for('lmthing.error');

/**
 * Base class: every lmthing error has a stable machine-readable `code`. `err instanceof LmthingError`
 * also holds for {@link ConfigError}, which is a `TypeError` (bad arguments are type errors in JS).
 */
export class LmthingError extends Error {
  /** Stable identifier, e.g. `ABORTED` or `RATE_LIMIT`; safe to switch on. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses check their own prototype chain; the base class recognizes every lmthing error.
    if (this !== LmthingError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

/**
 * A def* call, an option bag or a config got something it does not accept: an unknown key (with the
 * nearest known one), a wrong type, an out-of-range value. A `TypeError` and an {@link LmthingError}.
 */
export class ConfigError extends TypeError {
  readonly code = 'INVALID_CONFIG';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
    Object.defineProperty(this, brand, { value: true });
  }
}

/** A run-time helper (`ctx.requestApproval`, `ctx.checkConstraints` ...) was called while no run is live. */
export class NotRunningError extends LmthingError {
  declare readonly code: 'NOT_RUNNING';
  constructor(message: string) {
    super('NOT_RUNNING', message);
  }
}

/** A limit that protects the engine was reached (nesting depth, steps of a run tree, JSON depth). */
export class LimitExceededError extends LmthingError {
  declare readonly code: 'LIMIT_EXCEEDED';
  /** Which limit: `maxDepth`, `maxSteps`, `jsonDepth` ... */
  readonly limit: string | undefined;
  constructor(message: string, limit?: string) {
    super('LIMIT_EXCEEDED', message);
    this.limit = limit;
  }
}

/** The run or operation was cancelled through an `AbortSignal` or `run.cancel`. */
export class AbortError extends LmthingError {
  declare readonly code: 'ABORTED';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** An operation did not complete within its timeout. */
export class TimeoutError extends LmthingError {
  declare readonly code: 'TIMEOUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}

/**
 * A workflow failed (docs/orchestration.md): `WORKFLOW_STEP_FAILED` — a step failed and had no
 * `onError` route (`step` names it, `cause` is its error); `WORKFLOW_LOOP_LIMIT` — routing would run
 * `step` more than `maxIterations` times. (Past `maxDuration` a workflow fails with `TimeoutError`.)
 */
export class WorkflowError extends LmthingError {
  declare readonly code: 'WORKFLOW_STEP_FAILED' | 'WORKFLOW_LOOP_LIMIT';
  /** The workflow's name. */
  readonly workflow: string | undefined;
  /** The step that failed or looped. */
  readonly step: string | undefined;
  constructor(code: 'WORKFLOW_STEP_FAILED' | 'WORKFLOW_LOOP_LIMIT', message: string, details: { workflow?: string; step?: string; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.workflow = details.workflow;
    this.step = details.step;
  }
}

/** The codes of {@link ResourceError}. */
export type ResourceErrorCode = 'RESOURCE_INIT_FAILED' | 'POOL_FACTORY_FAILED' | 'POOL_ACQUIRE_TIMEOUT' | 'RESOURCE_NOT_ACQUIRED';

/**
 * A resource or pool failed (docs/orchestration.md): `RESOURCE_INIT_FAILED` — a defResource's
 * `initialize` failed (after its retryPolicy; `cause` is the last error); `POOL_FACTORY_FAILED` — a
 * pool's factory failed; `POOL_ACQUIRE_TIMEOUT` — no pool value was free within `acquireTimeout`;
 * `RESOURCE_NOT_ACQUIRED` — `release` of a value that is not out of that pool.
 */
export class ResourceError extends LmthingError {
  declare readonly code: ResourceErrorCode;
  /** The resource's or pool's name. */
  readonly resource: string | undefined;
  constructor(code: ResourceErrorCode, message: string, details: { resource?: string; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.resource = details.resource;
  }
}

/**
 * A pipeline stage failed (docs/orchestration.md): `PIPELINE_STAGE_FAILED`, `stage` names it and
 * `cause` is its error (after the stage's retries).
 */
export class PipelineError extends LmthingError {
  declare readonly code: 'PIPELINE_STAGE_FAILED';
  /** The pipeline's name. */
  readonly pipeline: string | undefined;
  /** The stage that failed. */
  readonly stage: string | undefined;
  constructor(message: string, details: { pipeline?: string; stage?: string; cause?: unknown } = {}) {
    super('PIPELINE_STAGE_FAILED', message, details.cause === undefined ? undefined : { cause: details.cause });
    this.pipeline = details.pipeline;
    this.stage = details.stage;
  }
}

/** Why a parallel group failed. */
export type ParallelErrorCode = 'PARALLEL_MIN_SUCCESS' | 'PARALLEL_NO_MAJORITY' | 'PARALLEL_NO_CONSENSUS' | 'PARALLEL_JUDGE_INVALID' | 'PARALLEL_JUDGE_FAILED' | 'PARALLEL_COMPARE_FAILED';
const parallelCodes: readonly ParallelErrorCode[] = ['PARALLEL_MIN_SUCCESS', 'PARALLEL_NO_MAJORITY', 'PARALLEL_NO_CONSENSUS', 'PARALLEL_JUDGE_INVALID', 'PARALLEL_JUDGE_FAILED', 'PARALLEL_COMPARE_FAILED'];

/**
 * A parallel group or an `L.branch` group failed (docs/orchestration.md): fewer than `minSuccess`
 * tasks succeeded (`PARALLEL_MIN_SUCCESS`), their results had no majority / no consensus, or the
 * judge model answered something other than a candidate (`PARALLEL_JUDGE_INVALID`) or its call
 * failed (`PARALLEL_JUDGE_FAILED`), or the `compare` function threw (`PARALLEL_COMPARE_FAILED`).
 * `errors` holds each failed task's error by task name.
 */
export class ParallelError extends LmthingError {
  declare readonly code: ParallelErrorCode;
  /** The group's name. */
  readonly parallel: string | undefined;
  /** The aggregation that failed: all, first, majority or consensus. */
  readonly aggregation: string | undefined;
  /** Each failed (or cancelled) task's error, by task name. */
  readonly errors: Record<string, { kind: string; message: string; code?: string }>;
  constructor(code: ParallelErrorCode, message: string, details: { parallel?: string; aggregation?: string; errors?: ParallelError['errors'] } = {}) {
    super(code, message);
    this.parallel = details.parallel;
    this.aggregation = details.aggregation;
    this.errors = details.errors ?? {};
  }
}

/**
 * A batch failed for every caller in it (docs/orchestration.md): the processor threw
 * (`BATCH_FAILED`, its error as `cause`) or returned a number of results other than the number of
 * items (`BATCH_RESULT_COUNT`), or the run that defines the batcher ended before the batch was
 * processed (`BATCH_RUN_ENDED`).
 */
export class BatchError extends LmthingError {
  declare readonly code: 'BATCH_FAILED' | 'BATCH_RESULT_COUNT' | 'BATCH_RUN_ENDED';
  /** The batcher's name. */
  readonly batcher: string | undefined;
  constructor(code: 'BATCH_FAILED' | 'BATCH_RESULT_COUNT' | 'BATCH_RUN_ENDED', message: string, details: { batcher?: string; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.batcher = details.batcher;
  }
}

/** The engine itself failed (a bug or a broken invariant); every pending run is rejected with it. */
export class EngineError extends LmthingError {
  /** For a fault (`ENGINE_FAULT`): the messages the engine was handling (types and ids, truncated), when known. */
  readonly input: string | undefined;
  constructor(message: string, code = 'ENGINE_ERROR', options?: { cause?: unknown; input?: string }) {
    super(code, message, options);
    this.input = options?.input;
  }
}

/** A message crossing the engine boundary was malformed or out of place. */
export class ProtocolError extends LmthingError {
  declare readonly code: 'PROTOCOL_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super('PROTOCOL_ERROR', message, options);
  }
}

/** A user callback (tool, hook, condition ...) threw or rejected. */
export class CallbackError extends LmthingError {
  declare readonly code: 'CALLBACK_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CALLBACK_ERROR', message, options);
  }
}

/** Input failed validation against a schema; `errors` lists each failure. */
export class ValidationError extends LmthingError {
  declare readonly code: 'VALIDATION_ERROR';
  readonly errors: ReadonlyArray<{ instancePath: string; schemaPath: string; message: string }>;
  constructor(message: string, errors: ValidationError['errors'] = []) {
    super('VALIDATION_ERROR', message);
    this.errors = errors;
  }
}

/** The provider rate-limited the request; `retryAfterMs` is taken from `Retry-After` when present. */
export class RateLimitError extends LmthingError {
  declare readonly code: 'RATE_LIMIT';
  readonly retryAfterMs: number | undefined;
  readonly status: number;
  constructor(message: string, retryAfterMs?: number, status = 429) {
    super('RATE_LIMIT', message);
    this.retryAfterMs = retryAfterMs;
    this.status = status;
  }
}

/** The provider rejected the credentials (HTTP 401/403). */
export class AuthenticationError extends LmthingError {
  declare readonly code: 'AUTHENTICATION';
  readonly status: number;
  constructor(message: string, status = 401) {
    super('AUTHENTICATION', message);
    this.status = status;
  }
}

/** The request exceeded the model's context window. */
export class ContextLengthError extends LmthingError {
  declare readonly code: 'CONTEXT_LENGTH';
  constructor(message: string) {
    super('CONTEXT_LENGTH', message);
  }
}

/** Any other provider failure: HTTP errors, in-band stream errors, malformed responses. */
export class ProviderError extends LmthingError {
  declare readonly code: 'PROVIDER_ERROR';
  readonly status: number | undefined;
  /** Text received before the failure (a stream cut mid-way keeps what arrived). */
  readonly partialText: string | undefined;
  readonly retryable: boolean;
  /** How long the server asked to wait before trying again (`Retry-After` of a 503, say); retries wait at least this long. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { status?: number; partialText?: string; retryable?: boolean; retryAfterMs?: number } = {}) {
    super('PROVIDER_ERROR', message);
    this.status = opts.status;
    this.partialText = opts.partialText;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A guard refused an action. */
export class GuardError extends LmthingError {
  declare readonly code: 'GUARD_FAILED';
  constructor(message: string) {
    super('GUARD_FAILED', message);
  }
}

/** A human (or the default action) denied an approval request. */
export class ApprovalDeniedError extends LmthingError {
  declare readonly code: 'APPROVAL_DENIED';
  constructor(message: string) {
    super('APPROVAL_DENIED', message);
  }
}

/**
 * The model called a tool it was not offered at that step; `repairToolCall` gets it as its `error`
 * (the AI SDK's `NoSuchToolError`). `type` is `'no-such-tool'`.
 */
export class NoSuchToolError extends LmthingError {
  declare readonly code: 'NO_SUCH_TOOL';
  readonly type = 'no-such-tool';
  /** The name the model called. */
  readonly toolName: string;
  /** The tools offered at that step. */
  readonly availableTools: string[];
  constructor(message: string, toolName: string, availableTools: string[]) {
    super('NO_SUCH_TOOL', message);
    this.toolName = toolName;
    this.availableTools = availableTools;
  }

  /** Whether `error` is one, also from another copy of the package (it checks the code, not the class). */
  static isInstance(error: unknown): error is NoSuchToolError {
    return error instanceof LmthingError && error.code === 'NO_SUCH_TOOL';
  }
}

/**
 * A tool call's arguments are not JSON or do not fit the tool's schema; `repairToolCall` gets it
 * as its `error` (the AI SDK's `InvalidToolInputError`). `type` is `'invalid-input'`.
 */
export class InvalidToolInputError extends LmthingError {
  declare readonly code: 'INVALID_TOOL_INPUT';
  readonly type = 'invalid-input';
  readonly toolName: string;
  /** The arguments as the model wrote them (JSON text, or what it wrote instead). */
  readonly toolInput: string;
  constructor(message: string, toolName: string, toolInput: string) {
    super('INVALID_TOOL_INPUT', message);
    this.toolName = toolName;
    this.toolInput = toolInput;
  }

  /** Whether `error` is one, also from another copy of the package (it checks the code, not the class). */
  static isInstance(error: unknown): error is InvalidToolInputError {
    return error instanceof LmthingError && error.code === 'INVALID_TOOL_INPUT';
  }
}

/** A token, time, rate or cost constraint was exceeded. */
export class BudgetExceededError extends LmthingError {
  declare readonly code: 'BUDGET_EXCEEDED';
  /** The name of the constraint (from `defConstraint`), when known. */
  readonly constraint: string | undefined;
  constructor(message: string, constraint?: string) {
    super('BUDGET_EXCEEDED', message);
    this.constraint = constraint;
  }
}

/** A circuit breaker is open: the call was refused without being made. */
export class CircuitOpenError extends LmthingError {
  declare readonly code: 'CIRCUIT_OPEN';
  /** The breaker's name (from `defCircuitBreaker`). */
  readonly breaker: string | undefined;
  /** How long until the breaker lets a trial call through (ms), as far as the engine knows. */
  readonly retryInMs: number | undefined;
  constructor(message: string, breaker?: string, retryInMs?: number) {
    super('CIRCUIT_OPEN', message);
    this.breaker = breaker;
    this.retryInMs = retryInMs;
  }
}

/** What went wrong assuming a role; the `code` of a {@link RoleError}. */
export type RoleErrorCode = 'ROLE_UNKNOWN' | 'ROLE_UNKNOWN_TOOL' | 'ROLE_TOOL_NOT_ALLOWED';

/**
 * A role (`defRole`) could not be assumed: no role of that name is defined (`ROLE_UNKNOWN`, with the
 * nearest defined name), or its `allowedTools` / `requiresApproval` name a tool the run does not
 * have (`ROLE_UNKNOWN_TOOL`); or a tool the assumed role does not allow was called another way than
 * by the model (`ctx.runTool`, `L.call`: `ROLE_TOOL_NOT_ALLOWED`). `role` is the role's name.
 */
export class RoleError extends LmthingError {
  declare readonly code: RoleErrorCode;
  /** The role the error is about. */
  readonly role: string;
  constructor(code: RoleErrorCode, message: string, role: string) {
    super(code, message);
    this.role = role;
  }
}

/** What went wrong rendering a template; the `code` of a {@link TemplateError}. */
export type TemplateErrorCode =
  | 'TEMPLATE_UNKNOWN_VARIABLE'
  | 'TEMPLATE_MISSING_VARIABLE'
  | 'TEMPLATE_WRONG_TYPE'
  | 'TEMPLATE_BAD_ENUM_VALUE'
  | 'TEMPLATE_UNKNOWN'
  | 'TEMPLATE_INCLUDE_CYCLE'
  | 'TEMPLATE_SYNTAX'
  | 'TEMPLATE_LIMIT';

/** A template (`defTemplate`) could not be rendered: `template` and `variable` say where. */
export class TemplateError extends LmthingError {
  declare readonly code: TemplateErrorCode;
  /** The template the error is about. */
  readonly template: string;
  /** The variable, when the error is about one. */
  readonly variable: string | undefined;
  constructor(code: TemplateErrorCode, message: string, details: { template: string; variable?: string }) {
    super(code, message);
    this.template = details.template;
    this.variable = details.variable;
  }
}

/** What went wrong in a storage adapter; the `code` of a {@link StorageError}. */
export type StorageErrorCode =
  /** The value is not JSON (a function, a cycle, a BigInt, NaN ...); nothing was written. */
  | 'STORAGE_UNSERIALIZABLE'
  /** A stored record could not be read back (not JSON, or not in the adapter's format). */
  | 'STORAGE_CORRUPT'
  /** The backend cannot be reached or used (Redis down, IndexedDB blocked, a file-system error). */
  | 'STORAGE_UNAVAILABLE'
  /** The backend is out of space (IndexedDB quota, a full disk). */
  | 'STORAGE_QUOTA'
  /** A key, prefix, version or option is not what the adapter accepts. */
  | 'STORAGE_BAD_ARGUMENT'
  /** A storage op named a storage that is not registered on the engine. */
  | 'STORAGE_UNKNOWN'
  /** The adapter does not work on this platform (e.g. `fileStorage` in a browser). */
  | 'STORAGE_UNSUPPORTED'
  /** An optional dependency of the adapter (the `redis` package) is not installed. */
  | 'STORAGE_DEPENDENCY_MISSING'
  /** `fileStorage` could not take a key's lock in time (another process holds it). */
  | 'STORAGE_BUSY'
  /** A read-modify-write kept losing its compare-and-set to other writers and gave up. */
  | 'STORAGE_CONFLICT';

/**
 * A storage adapter failed. `adapter` says which (`memory`, `file`, `redis`, `indexeddb` or the
 * name of a custom adapter) and `key` which key, when the failure concerns one.
 */
export class StorageError extends LmthingError {
  declare readonly code: StorageErrorCode;
  /** The adapter that failed, e.g. `file` or `redis`. */
  readonly adapter: string | undefined;
  /** The key the operation was about, when there is one. */
  readonly key: string | undefined;
  constructor(code: StorageErrorCode, message: string, details: { adapter?: string; key?: string; cause?: unknown } = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.adapter = details.adapter;
    this.key = details.key;
  }
}

/**
 * A state (`defState`) could not be loaded, changed or saved. `code` says what went wrong with the
 * storage (`STORAGE_CORRUPT`, `STORAGE_UNAVAILABLE`, `STORAGE_CONFLICT` ...), `state` which state,
 * `key` its storage key and `storageName` the storage it is registered under.
 */
export class StateError extends StorageError {
  /** The state's name (from `defState`). */
  readonly state: string;
  /** The name the state's storage is registered under on the engine (`memory`, `redis` ...). */
  readonly storageName: string | undefined;
  constructor(code: StorageErrorCode, message: string, details: { state: string; adapter?: string; key?: string; storageName?: string; cause?: unknown }) {
    super(code, message, details);
    this.state = details.state;
    this.storageName = details.storageName;
  }
}

/**
 * A cache (`defCache`) could not use its storage (with `onStorageError: 'fail'`; by default the
 * cache is bypassed and a `cache-error` event reports it). `cache` names the cache, `key` the entry.
 */
export class CacheError extends StorageError {
  /** The cache's name (from `defCache`). */
  readonly cache: string;
  constructor(code: StorageErrorCode, message: string, details: { cache: string; adapter?: string; key?: string; cause?: unknown }) {
    super(code, message, details);
    this.cache = details.cache;
  }
}

/** What went wrong with a memory (`defMemory`); the `code` of a {@link MemoryError}. */
export type MemoryErrorCode =
  /** A vector's length differs from the memory's `dimensions`. */
  | 'DIMENSION_MISMATCH'
  /** A vector holds NaN or ±Infinity. */
  | 'NON_FINITE_VECTOR'
  /** A zero vector in a cosine memory (its direction is undefined). */
  | 'ZERO_VECTOR'
  /** `delete` of an id the memory does not hold (graph memories: also `neighbors` of an unknown entity). */
  | 'UNKNOWN_ID'
  /** A graph memory's relation names an entity neither the memory nor its batch holds. */
  | 'UNKNOWN_ENTITY'
  /** The same id twice in one `store` batch. */
  | 'DUPLICATE_ID'
  /** A hierarchical memory's summary call answered no text (nothing was stored). */
  | 'SUMMARY_FAILED'
  /** A graph memory's extraction call answered something other than the expected JSON (nothing was stored). */
  | 'INVALID_EXTRACTION'
  /** A metadata filter that is not one. */
  | 'INVALID_FILTER'
  /** The memory's config does not fit (another config under the same name, a text without an embedding model ...). */
  | 'INVALID_CONFIG'
  /** The stored memory could not be read back. */
  | 'CORRUPT_DATA'
  /** The embedding model answered with another number of vectors than texts, or vectors of different lengths. */
  | 'EMBEDDING_MISMATCH';

/**
 * A memory (`defMemory`, `ctx.memory(name)`) refused an operation; nothing of it was applied (a
 * `store` batch is stored whole or not at all). `memory` names the memory.
 */
export class MemoryError extends LmthingError {
  declare readonly code: MemoryErrorCode;
  /** The memory's name, when the failure concerns one. */
  readonly memory: string | undefined;
  constructor(code: MemoryErrorCode, message: string, details: { memory?: string } = {}) {
    super(code, message);
    this.memory = details.memory;
  }
}

/** The codes of {@link MetricError}. */
export type MetricErrorCode = 'METRIC_UNKNOWN' | 'METRIC_LABELS' | 'METRIC_VALUE' | 'METRIC_CONFLICT' | 'METRIC_INVALID';

/**
 * A metric could not be defined or recorded (docs/observability.md): an unknown metric
 * (`METRIC_UNKNOWN`), an unknown or missing label (`METRIC_LABELS`), a value that is not finite or a
 * counter going down (`METRIC_VALUE`), a name defined differently before on the engine
 * (`METRIC_CONFLICT`), a bad definition (`METRIC_INVALID`).
 */
export class MetricError extends LmthingError {
  declare readonly code: MetricErrorCode;
  constructor(code: MetricErrorCode, message: string) {
    super(code, message);
  }
}

/** The codes of {@link TracingError}. */
export type TracingErrorCode = 'TRACING_DEPENDENCY_MISSING' | 'TRACING_NO_PROVIDER';

/**
 * Tracing (`defTracing`) could not start: an OpenTelemetry package it needs is not installed
 * (`TRACING_DEPENDENCY_MISSING`, the message names the package), or there is nowhere to send spans
 * (`TRACING_NO_PROVIDER`: no exporters, no `tracerProvider` and no registered global provider).
 */
export class TracingError extends LmthingError {
  declare readonly code: TracingErrorCode;
  constructor(code: TracingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The codes of {@link JournalError}. */
export type JournalErrorCode = 'JOURNAL_CORRUPT' | 'JOURNAL_MISSING' | 'JOURNAL_EXISTS' | 'JOURNAL_WRITE_FAILED' | 'JOURNAL_LEASED' | 'JOURNAL_LEASE_LOST' | 'JOURNAL_CONFLICT';

/**
 * A durable run's journal (docs/durable-runs.md) cannot be used: a record is unreadable or out of
 * sequence (`JOURNAL_CORRUPT`, naming the key), there is none for the id (`JOURNAL_MISSING`), a new
 * run would overwrite one (`JOURNAL_EXISTS`), writing it failed (`JOURNAL_WRITE_FAILED`: the run
 * stops before any further effect), another worker holds the run's lease (`JOURNAL_LEASED`) or took
 * it over while this one ran (`JOURNAL_LEASE_LOST`: the run stops), or another process wrote the
 * same record of the run (`JOURNAL_CONFLICT`: two resumes of one run; the later stops before any
 * further effect). Nothing runs when loading fails.
 */
export class JournalError extends LmthingError {
  declare readonly code: JournalErrorCode;
  /** The durable run's id. */
  readonly runId: string;
  constructor(code: JournalErrorCode, message: string, runId: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.runId = runId;
  }
}

/**
 * Replaying a journal, the run asked for something other than what the journal recorded at
 * sequence number `seq` (user code that is not deterministic between effects, or code that changed
 * since the run was recorded), or the journal ended while a replay-only run still waited.
 */
export class ReplayDivergenceError extends LmthingError {
  declare readonly code: 'REPLAY_DIVERGENCE';
  /** The journal record (loop turn) where the run diverged. */
  readonly seq: number;
  /** What the journal recorded there, e.g. `callback.invoke r1:2:search`. */
  readonly expected: string;
  /** What the run asked for. */
  readonly actual: string;
  constructor(message: string, seq: number, expected: string, actual: string) {
    super('REPLAY_DIVERGENCE', message);
    this.seq = seq;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A resumed run found an operation that had started but not completed before the interruption (a
 * crash, `kill -9`, a page reload) and whose policy forbids running it again: a tool that is not
 * `idempotent`, with no `onInterrupted` handler that says otherwise.
 */
export class InterruptedError extends LmthingError {
  declare readonly code: 'OP_INTERRUPTED';
  constructor(message: string) {
    super('OP_INTERRUPTED', message);
  }
}

/** A durable run was suspended (`prompt.suspend()`): its journal is saved, `resume` continues it. */
export class RunSuspendedError extends LmthingError {
  declare readonly code: 'RUN_SUSPENDED';
  constructor(message: string) {
    super('RUN_SUSPENDED', message);
  }
}

/** The wire form of an error, as carried by `op.done` and reply messages (see PROTOCOL.md). */
export interface WireError {
  kind: string;
  message: string;
  [extra: string]: unknown;
}

const byKind: Record<string, (e: WireError) => LmthingError | ConfigError> = {
  aborted: (e) => new AbortError(e.message),
  timeout: (e) => new TimeoutError(e.message),
  protocol: (e) => new ProtocolError(e.message),
  // A definition, option or name the user got wrong that only the engine could check (a
  // reference to a policy, a fallback cycle, a session state without a sessionId).
  config: (e) => new ConfigError(e.message),
  callback: (e) => new CallbackError(e.message),
  validation: (e) => new ValidationError(e.message, (e.errors as ValidationError['errors']) ?? []),
  rate_limit: (e) => new RateLimitError(e.message, e.retryAfterMs as number | undefined),
  authentication: (e) => new AuthenticationError(e.message),
  context_length: (e) => new ContextLengthError(e.message),
  provider: (e) =>
    new ProviderError(e.message, {
      status: e.status as number | undefined,
      partialText: e.partialText as string | undefined,
      retryable: e.retryable as boolean | undefined,
      retryAfterMs: e.retryAfterMs as number | undefined,
    }),
  guard: (e) => new GuardError(e.message),
  approval_denied: (e) => new ApprovalDeniedError(e.message),
  budget: (e) => new BudgetExceededError(e.message, e.constraint as string | undefined),
  circuit_open: (e) => new CircuitOpenError(e.message, e.breaker as string | undefined, e.retryInMs as number | undefined),
  limit: (e) => new LimitExceededError(e.message, e.limit as string | undefined),
  interrupted: (e) => new InterruptedError(e.message),
  template: (e) =>
    new TemplateError(typeof e.code === 'string' ? (e.code as TemplateErrorCode) : 'TEMPLATE_SYNTAX', e.message, {
      template: typeof e.template === 'string' ? e.template : '',
      ...(typeof e.variable === 'string' ? { variable: e.variable } : {}),
    }),
  role: (e) => new RoleError(e.code === 'ROLE_UNKNOWN_TOOL' || e.code === 'ROLE_TOOL_NOT_ALLOWED' ? e.code : 'ROLE_UNKNOWN', e.message, typeof e.role === 'string' ? e.role : ''),
  workflow: (e) =>
    new WorkflowError(e.code === 'WORKFLOW_LOOP_LIMIT' ? 'WORKFLOW_LOOP_LIMIT' : 'WORKFLOW_STEP_FAILED', e.message, {
      workflow: e.workflow as string | undefined,
      step: e.step as string | undefined,
      cause: e.cause,
    }),
  resource: (e) =>
    new ResourceError((typeof e.code === 'string' ? e.code : 'RESOURCE_INIT_FAILED') as ResourceErrorCode, e.message, {
      resource: e.resource as string | undefined,
      cause: e.cause,
    }),
  pipeline: (e) => new PipelineError(e.message, { pipeline: e.pipeline as string | undefined, stage: e.stage as string | undefined, cause: e.cause }),
  parallel: (e) =>
    new ParallelError(
      parallelCodes.includes(e.code as ParallelErrorCode) ? (e.code as ParallelErrorCode) : 'PARALLEL_MIN_SUCCESS',
      e.message,
      { parallel: e.parallel as string | undefined, aggregation: e.aggregation as string | undefined, errors: e.errors as ParallelError['errors'] | undefined },
    ),
  batch: (e) =>
    new BatchError(e.code === 'BATCH_RESULT_COUNT' || e.code === 'BATCH_RUN_ENDED' ? e.code : 'BATCH_FAILED', e.message, { batcher: e.batcher as string | undefined, cause: e.cause }),
  memory: (e) => new MemoryError((typeof e.code === 'string' ? e.code : 'INVALID_CONFIG') as MemoryErrorCode, e.message, { memory: e.memory as string | undefined }),
  metric: (e) => new MetricError(typeof e.code === 'string' ? (e.code as MetricErrorCode) : 'METRIC_INVALID', e.message),
  storage: (e) => {
    const code = typeof e.code === 'string' ? (e.code as StorageErrorCode) : 'STORAGE_UNAVAILABLE';
    const details = { adapter: e.adapter as string | undefined, key: e.key as string | undefined };
    if (typeof e.state === 'string') return new StateError(code, e.message, { ...details, state: e.state, storageName: e.storageName as string | undefined });
    if (typeof e.cache === 'string') return new CacheError(code, e.message, { ...details, cache: e.cache });
    return new StorageError(code, e.message, details);
  },
};

/** Turns a wire error from the engine into the matching typed error (unknown kinds become EngineError). */
export function errorFromWire(e: WireError): LmthingError | ConfigError {
  const make = byKind[e.kind];
  return make ? make(e) : new EngineError(e.message, typeof e.code === 'string' ? e.code : 'ENGINE_ERROR');
}

/** Turns anything thrown by user code into a wire error, keeping typed errors' kind. */
export function errorToWire(err: unknown): WireError {
  try {
    const wire = wireErrorOf(err);
    // The engine reads the message as text: a thrower may have put a number or an object there.
    return typeof wire.message === 'string' ? wire : { ...wire, message: thrownText(wire.message) };
  } catch (failure) {
    // A thrown value whose properties throw when read (a getter, a revoked Proxy): the call still fails, cleanly.
    return { kind: 'callback', message: `the thrown value could not be read (${failure instanceof Error ? failure.message : 'reading it threw'})` };
  }
}

function wireErrorOf(err: unknown): WireError {
  if (err instanceof LmthingError) {
    const kind = Object.entries(kindByCode).find(([, c]) => c === err.code)?.[0] ?? 'engine';
    const extra: Record<string, unknown> = {};
    if ((err instanceof RateLimitError || err instanceof ProviderError) && err.retryAfterMs !== undefined) extra.retryAfterMs = err.retryAfterMs;
    if ((err instanceof ProviderError || err instanceof RateLimitError) && err.status !== undefined) extra.status = err.status;
    if (err instanceof ProviderError) {
      extra.retryable = err.retryable;
      if (err.partialText !== undefined) extra.partialText = err.partialText;
    }
    // A durable run's model call that failed after showing text: the text (when the error does not
    // keep it itself) and how it was streamed (js/run/host.ts), which a replay streams again.
    const shown = (err as { shownText?: unknown }).shownText;
    if (typeof shown === 'string' && extra.partialText === undefined) extra.partialText = shown;
    const chunks = (err as { partialChunks?: unknown }).partialChunks;
    if (typeof chunks === 'string' && extra.partialText !== undefined) extra.partialChunks = chunks;
    // Its raw chunks (includeRawChunks), as JSON text (js/run/raw-chunks.ts), which a replay shows again.
    const raws = (err as { partialRawChunks?: unknown }).partialRawChunks;
    if (typeof raws === 'string') extra.partialRawChunks = raws;
    // Set by the host on a model call that failed after streaming text (js/run/host.ts).
    if ((err as { textShown?: unknown }).textShown === true) extra.textShown = true;
    if (err instanceof ValidationError) extra.errors = err.errors;
    if (err instanceof BudgetExceededError && err.constraint !== undefined) extra.constraint = err.constraint;
    if (err instanceof CircuitOpenError) Object.assign(extra, { breaker: err.breaker, retryInMs: err.retryInMs });
    if (err instanceof LimitExceededError && err.limit !== undefined) extra.limit = err.limit;
    if (err instanceof TemplateError) return { kind: 'template', message: err.message, code: err.code, template: err.template, variable: err.variable };
    if (err instanceof RoleError) return { kind: 'role', message: err.message, code: err.code, role: err.role };
    if (err instanceof StateError) return { kind: 'storage', message: err.message, code: err.code, adapter: err.adapter, key: err.key, state: err.state, storageName: err.storageName };
    if (err instanceof CacheError) return { kind: 'storage', message: err.message, code: err.code, adapter: err.adapter, key: err.key, cache: err.cache };
    if (err instanceof StorageError) return { kind: 'storage', message: err.message, code: err.code, adapter: err.adapter, key: err.key };
    return { kind, message: err.message, code: err.code, ...extra };
  }
  if (err instanceof Error) {
    // A system error's code (`ECONNRESET`) is what a retry policy's retryableErrors may name.
    const code = (err as { code?: unknown }).code;
    return { kind: 'callback', message: err.message || err.name, ...(typeof code === 'string' && code !== '' ? { code } : {}) };
  }
  return { kind: 'callback', message: typeof err === 'string' ? err : safeString(err) };
}

const kindByCode: Record<string, string> = {
  aborted: 'ABORTED', timeout: 'TIMEOUT', protocol: 'PROTOCOL_ERROR', config: 'INVALID_CONFIG', callback: 'CALLBACK_ERROR',
  validation: 'VALIDATION_ERROR', rate_limit: 'RATE_LIMIT', authentication: 'AUTHENTICATION',
  context_length: 'CONTEXT_LENGTH', provider: 'PROVIDER_ERROR', guard: 'GUARD_FAILED',
  approval_denied: 'APPROVAL_DENIED', interrupted: 'OP_INTERRUPTED', budget: 'BUDGET_EXCEEDED', circuit_open: 'CIRCUIT_OPEN', limit: 'LIMIT_EXCEEDED', engine: 'ENGINE_ERROR',
};

function safeString(v: unknown): string {
  return `non-Error value thrown: ${thrownText(v)}`;
}

/** A thrown value (or its message) as text: JSON where it has one, else what String() says. */
function thrownText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'symbol' || typeof v === 'bigint') return v.toString();
  try {
    const json = JSON.stringify(v);
    if (json !== undefined) return json;
  } catch {
    // a cycle, a throwing toJSON
  }
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * The engine's files could not be loaded: the wasm or its JS glue was missing (typically a 404
 * after a bundler left it behind), unreadable or invalid. `file` names the package file,
 * `urls` where it was looked for; the message says which `createEngine` option fixes it.
 */
export class EngineLoadError extends LmthingError {
  declare readonly code: 'ENGINE_LOAD';
  /** The package file that failed, e.g. `dist/wasm/lmthing_core.wasm`. */
  readonly file: string;
  /** Every URL or path it was loaded from. */
  readonly urls: readonly string[];
  constructor(message: string, file: string, urls: readonly string[], options?: { cause?: unknown }) {
    super('ENGINE_LOAD', message, options);
    this.file = file;
    this.urls = urls;
  }
}
