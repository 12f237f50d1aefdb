/**
 * The engine's run events as a discriminated union (narrow on `type` and every field is typed), and
 * the one path they take to a run's observers: `onEvent`, `prompt.events` / `run()`'s iterable and
 * `fullStream`. Every event carries the `path` of the branch (or sub-agent) it comes from:
 * `['root']`, `['root', '0']`, `['root', 'researcher']`.
 */
import type { FinishReason, SignatureSource, Usage } from '../providers/types.js';
import type { JsonValue } from '../schema-types.js';
import { isThenable } from '../config/check.js';
import { handlerError } from '../observe/lifecycle.js';

interface Located {
  /** Where the event comes from: `['root']`, then one segment per branch or sub-agent. */
  path: string[];
}

interface InStep extends Located {
  stepNumber: number;
}

interface OfToolCall extends Located {
  /** The model step that made the call; `null` for a call from a workflow step, pipeline stage or parallel task (`runTool` / `runAgent`). */
  stepNumber: number | null;
  toolCallId: string;
  toolName: string;
}

/** A model call is about to start. `model` is the model's name (`openai:gpt-4o-mini`). */
export interface StepStartEvent extends InStep {
  type: 'step-start';
  model: string;
  system: string | null;
  activeTools: string[];
}

/** A step ended: its text, tool calls and results, finish reason and usage. */
export interface StepFinishEvent extends InStep {
  type: 'step-finish';
  model: string;
  text: string;
  /** The model's reasoning in this step, where the provider returns it. */
  reasoningText?: string;
  /** `invalid`: the call failed the checks and did not run (see {@link ToolCallEvent.invalid}). */
  toolCalls: Array<{ toolCallId: string; toolName: string; args: unknown; invalid?: boolean }>;
  /** Each call's outcome, with the call's `args`; a failed call has `isError` and `result: {error}`. */
  toolResults: Array<{ type: 'tool-result'; toolCallId: string; toolName: string; args: unknown; result: unknown; isError?: boolean; invalid?: boolean }>;
  finishReason: FinishReason;
  usage: Usage;
}

export interface ToolCallEvent extends OfToolCall {
  type: 'tool-call';
  /** The parsed arguments; for arguments that are not JSON (an `invalid` call), the model's text as it wrote it. */
  args: unknown;
  /** The provider's opaque signature of the call (Gemini's `thoughtSignature`), when it gave one; it goes back with the call. */
  signature?: string;
  /** Who made {@link ToolCallEvent.signature}. */
  signedBy?: SignatureSource;
  /**
   * The call failed the checks and does not run (the AI SDK's invalid tool call): a tool the step
   * did not offer, or arguments that are not JSON or do not fit the tool's parameters. Its
   * `tool-error` with `message` follows.
   */
  invalid?: { type: 'no-such-tool' | 'invalid-input'; message: string };
}

export interface ToolResultEvent extends OfToolCall {
  type: 'tool-result';
  args: unknown;
  result: unknown;
}

/**
 * `repairToolCall` mended a call the model got wrong: `toolName` and `args` are the mended call's
 * (what runs, and what the `tool-call` event that follows has; `args` null when the mended input is
 * still not JSON), `original` what the model wrote, `error` what was wrong with it.
 */
export interface ToolCallRepairedEvent extends OfToolCall {
  type: 'tool-call-repaired';
  args: unknown;
  original: { toolName: string; input: string };
  error: { type: 'no-such-tool' | 'invalid-input'; message: string };
}

/** A tool call failed; the model gets `error` as the tool's result. */
export interface ToolErrorEvent extends OfToolCall {
  type: 'tool-error';
  args: unknown;
  error: string;
}

/** A call failed and will be tried again after `delayMs`. */
export interface RetryEvent extends Located {
  type: 'retry';
  target: 'model' | 'tool';
  model?: string;
  toolName?: string;
  toolCallId?: string | null;
  stepNumber: number | null;
  attempt: number;
  delayMs: number;
  error: string;
  /** The failure's kind (`provider`, `timeout`, `callback` …), as `LmthingError` kinds go over the wire. */
  errorKind: string;
  /** A model call that failed after it streamed text, tried again under `streamRetries`. */
  afterText?: boolean;
}

/** A fallback took over after a call failed for good. */
export interface FallbackEvent extends Located {
  type: 'fallback';
  strategy: 'cascade' | 'alternative' | 'default';
  /** The fallback's name (`defFallback`). */
  name: string;
  from: string;
  to?: string;
  error: string;
  /** The failure's kind (`provider`, `timeout`, `callback` …). */
  errorKind: string;
  log?: boolean;
  /** A tool's fallback (`alternative`, `default`): the call it stands in for. */
  toolCallId?: string | null;
  stepNumber?: number | null;
}

export interface CircuitStateEvent extends Located {
  type: 'circuit-state';
  name: string;
  from: 'closed' | 'open' | 'half-open';
  to: 'closed' | 'open' | 'half-open';
  atMs: number;
}

export interface RateLimitedEvent extends Located {
  type: 'rate-limited';
  scope: 'model' | 'tool';
  waitMs: number;
}

export interface ConstraintWarningEvent extends Located {
  type: 'constraint-warning';
  constraint: string;
  constraintType: 'tokens' | 'duration' | 'rate' | 'cost';
  used?: number;
  warn?: number;
  max?: number;
  message?: string;
}

export interface ConstraintExceededEvent extends Located {
  type: 'constraint-exceeded';
  constraint: string;
  constraintType: 'tokens' | 'duration' | 'rate' | 'cost';
  used: number;
  max: number;
  stops: boolean;
  message: string;
}

/** A context (`defContext`) left messages out of step `stepNumber`'s model call to fit its budget. */
export interface ContextTrimmedEvent extends InStep {
  type: 'context-trimmed';
  context: string;
  /** Messages sent, and left out (a tool call and its results count as they are: kept or dropped together). */
  kept: number;
  dropped: number;
  keptTokens: number;
  droppedTokens: number;
  /** Tokens every call of the step carries besides the messages: system prompt, tool definitions, reply priming. */
  fixedTokens: number;
  /** maxTokens − reserveTokens − fixedTokens. */
  budget: number;
  /** The encoding of exact counts (OpenAI models), or null where the tokens are the documented estimate. */
  encoding: 'o200k_base' | 'cl100k_base' | null;
}

/**
 * A context (`defContext` with `summarization`, or `hierarchical`) folded messages into a summary
 * with one model call before step `stepNumber`; the summary stands in for them from now on.
 */
export interface ContextSummarizedEvent extends InStep {
  type: 'context-summarized';
  context: string;
  /**
   * `session`: the running summary of everything before (the one summary of a summarizing
   * sliding-window or relevance-based context; a hierarchical context's fold of older chunks);
   * `chunk`: a hierarchical context's summary of the messages this call folded.
   */
  level: 'chunk' | 'session';
  /** Messages of the conversation folded into the summary by this call. */
  summarized: number;
  /** Messages of the conversation the summary stands for now (from the first). */
  covered: number;
  /** The context's messages before and after (summary included), in tokens. */
  tokensBefore: number;
  tokensAfter: number;
  summaryTokens: number;
  /** The summary's text. */
  summary: string;
}

/** A memory (`defMemory`) stored a batch, from the run or from one of its tools, hooks or agents. */
export interface MemoryStoreEvent extends Located {
  type: 'memory-store';
  memory: string;
  ids: string[];
  /** Memories evicted to respect `maxSize`. */
  evicted: string[];
  size: number;
}

/** A memory was searched; `ids` are the results, best first (the query is not repeated here). */
export interface MemorySearchEvent extends Located {
  type: 'memory-search';
  memory: string;
  ids: string[];
}

/** Memories were deleted by id. */
export interface MemoryDeleteEvent extends Located {
  type: 'memory-delete';
  memory: string;
  ids: string[];
  size: number;
}

/** A memory was cleared. */
export interface MemoryClearEvent extends Located {
  type: 'memory-clear';
  memory: string;
  cleared: number;
}

/** A graceful duration constraint ended the loop after step `stepNumber`. */
export interface BudgetStopEvent extends InStep {
  type: 'budget-stop';
  constraint: string;
}

/** The run assumed role `role` (`defRole`): at its start, from `ctx.assumeRole` while live, or `L.role`. */
export interface RoleAssumedEvent extends Located {
  type: 'role-assumed';
  role: string;
  /** The role it had before, if any. */
  previous?: string;
}

export interface GuardEvent extends OfToolCall {
  type: 'guard';
  guard: string;
  passed: boolean;
  onFail?: 'throw' | 'skip' | 'redirect' | 'prompt-user';
  message?: string;
}

export interface ApprovalRequestEvent extends Located {
  type: 'approval-request';
  request: string;
  name: string;
  message: string;
  options: Array<'approve' | 'deny' | 'modify'>;
  defaultAction: 'approve' | 'deny';
  preview: { toolName: string; args: unknown } | null;
  deadline: number | null;
  context: unknown;
  toolCallId?: string;
  toolName?: string;
  stepNumber?: number;
}

export interface ApprovalDecisionEvent extends Located {
  type: 'approval-decision';
  /** The request's id; for a decision in the run's messages, their `approvalId` (null without one). */
  request: string | null;
  /** The approval's name (absent for a decision in the run's messages). */
  name?: string;
  /** `defer`: the run ends after this step with the call pending (docs/human-in-the-loop.md). */
  action: 'approve' | 'deny' | 'modify' | 'defer';
  /** `message`: a `tool-approval-response` in the run's messages decided a call a deferral left pending. */
  source: 'handler' | 'respond' | 'timeout' | 'error' | 'invalid' | 'message';
  /** `defer` with runPrompt's `approvalSecret`: the signature the response to this request must carry. */
  signature?: string;
  modifiedData?: unknown;
  reason?: string;
  toolCallId?: string;
  toolName?: string;
  stepNumber?: number;
  /** Engine-clock milliseconds from the request to this decision. */
  waitMs?: number;
}

export interface ValidationEvent extends Located {
  type: 'validation';
  target: 'tool' | 'response';
  validator: string;
  stepNumber: number;
  toolCallId?: string;
  toolName?: string;
  valid: boolean;
  severity: string;
  errors: Array<{ message: string; instancePath?: string; schemaPath?: string }>;
  failures: number;
}

export interface InteractionRequestEvent extends Located {
  type: 'interaction-request';
  request: string;
  name: string;
  kind: 'question' | 'choice';
  message: string;
  choices: unknown[];
  multiple: boolean;
  allowSkip: boolean;
  attempt: number;
  error: string | null;
  deadline: number | null;
  default: unknown;
  context: unknown;
}

export interface InteractionAnswerEvent extends Located {
  type: 'interaction-answer';
  request: string;
  name: string;
  value: unknown;
  skipped: boolean;
  attempts: number;
  reason?: string;
}

export interface InteractionInvalidEvent extends Located {
  type: 'interaction-invalid';
  request: string;
  name: string;
  attempt: number;
  error: string;
}

/** A message was appended to a directive conversation. */
export interface MessageAppendedEvent extends Located {
  type: 'message-appended';
  index: number;
  message: { role: 'system' | 'user' | 'assistant' | 'tool'; content: unknown };
  tags: Array<{ id: string; description: string }>;
}

export interface ModelPushedEvent extends Located {
  type: 'model-pushed';
  key: string;
  handle: number;
}

export interface ModelPoppedEvent extends Located {
  type: 'model-popped';
  key: string;
  handle: number;
}

export interface ToolEnabledEvent extends Located {
  type: 'tool-enabled';
  name: string;
}

export interface ToolDisabledEvent extends Located {
  type: 'tool-disabled';
  name: string;
}

export interface BranchStartedEvent extends Located {
  type: 'branch-started';
}

export interface BranchReturnedEvent extends Located {
  type: 'branch-returned';
  value: unknown;
}

export interface BranchThrewEvent extends Located {
  type: 'branch-threw';
  error: { message: string } | null;
}

/** A value an agent emitted with `L.event(value)`, or a custom event (`ctx.emit(name, data)`, `L.event(name, data)`). */
export interface EmittedEvent extends Located {
  type: 'emitted';
  /** The custom event's name (absent for `L.event(value)`). */
  name?: string;
  value: unknown;
}

// ---- observability (docs/observability.md)

/** A run (root, sub-agent or directive run) began. */
export interface RunStartEvent extends Located {
  type: 'run-start';
  kind: 'prompt' | 'conversation';
  /** The run's model (its `default` model for a directive run). */
  model: string;
}

/** A run ended; `ok` false with `error` when it failed or was cancelled. */
export interface RunFinishEvent extends Located {
  type: 'run-finish';
  kind: 'prompt' | 'conversation';
  ok: boolean;
  /** Engine-clock milliseconds from run-start. */
  durationMs: number;
  finishReason?: FinishReason | 'budget';
  usage?: Usage;
  /** Steps the run took (prompt runs). */
  steps?: number;
  error?: { message: string; kind: string; code?: string };
}

/** One model call attempt ended (a retried call makes several). */
export interface ModelCallEvent extends Located {
  type: 'model-call';
  stepNumber: number | null;
  /** The model's name in the run (`openai:gpt-4o-mini`). */
  model: string;
  /** The id the provider was asked for (what prices it). */
  modelId?: string;
  /** 1 for the first attempt of the step's call. */
  attempt: number;
  ok: boolean;
  durationMs: number;
  usage?: Usage;
  finishReason?: FinishReason;
  /** USD, when a cost constraint prices the model. */
  costUsd?: number;
  error?: { message: string; kind: string };
}

/**
 * Something went wrong: `warning` (a model attempt failed, a handler threw), `error` (a tool call's
 * error went back to the model, a budget was exceeded) or `critical` (the run failed).
 */
export interface ErrorEvent extends Located {
  type: 'error';
  severity: 'warning' | 'error' | 'critical';
  source: 'model' | 'tool' | 'run' | 'handler' | 'constraint';
  error: { message: string; kind: string; code?: string; severity: 'warning' | 'error' | 'critical' };
  /** Where: `{toolName, toolCallId, stepNumber}`, `{model, attempt}`, `{handler, event}` ... */
  context: Record<string, unknown>;
}

/** The run tree's tokens (input + output) reached a threshold (`defEvent` option, or a token constraint's max). */
export interface TokenThresholdEvent extends Located {
  type: 'token-threshold';
  /** Tokens used so far by the whole run tree. */
  usage: number;
  threshold: number;
  /** `config` (a defEvent threshold) or the token constraint's name. */
  source: string;
  inputTokens: number;
  outputTokens: number;
}

/** A traced span began (only with `defTracing`; the host turns these into OpenTelemetry spans). */
export interface SpanStartEvent extends Located {
  type: 'span-start';
  span: number;
  parent: number | null;
  name: string;
  kind: 'run' | 'step' | 'model' | 'tool' | 'approval' | 'retry' | 'fallback' | 'branch';
  attributes: Record<string, unknown>;
  /** Engine-clock epoch milliseconds. */
  startMs: number;
}

export interface SpanEndEvent extends Located {
  type: 'span-end';
  span: number;
  endMs: number;
  status: 'ok' | 'error';
  error?: string;
  attributes: Record<string, unknown>;
}

/** A metric was recorded (only when the run exports metrics to an OpenTelemetry MeterProvider). */
export interface MetricEvent extends Located {
  type: 'metric';
  name: string;
  /** The recorded value. */
  value: number;
  /** The series' value afterwards (a histogram's sum). */
  current: number;
  labels: Record<string, string>;
  definition: { name: string; type: 'counter' | 'histogram' | 'gauge'; labels: string[]; aggregation: string; description: string; unit: string; buckets?: number[] };
}

// ---- state and caches (docs/state-and-caches.md)

interface OfState extends Located {
  /** The state's name (from `defState`). */
  state: string;
  persisted: boolean;
  /** Its storage key and storage name (persisted state only). */
  key?: string;
  storage?: string;
}

/** A state was loaded before its first use; `found`: the storage held a value (else the initial value). */
export interface StateLoadedEvent extends OfState {
  type: 'state-loaded';
  found: boolean;
}

/** A persisted state was written (compare-and-set). */
export interface StateSavedEvent extends OfState {
  type: 'state-saved';
}

/** Another writer saved a state first: this run's changes were not written; the stored value was reloaded. */
export interface StateConflictEvent extends OfState {
  type: 'state-conflict';
}

interface OfCache extends Located {
  /** The cache's name (from `defCache`). */
  cache: string;
  /** The entry's key (`tool:<name>:<args>` or `model:<digest>`). */
  key: string;
}

interface OfCachedCall extends OfCache {
  target: 'tool' | 'model';
  stepNumber: number | null;
  toolName?: string;
  toolCallId?: string;
  model?: string;
}

/** A call was answered from the cache: from `memory`, from `storage`, or by an identical call `in-flight`. */
export interface CacheHitEvent extends OfCachedCall {
  type: 'cache-hit';
  source: 'memory' | 'storage' | 'in-flight';
}

/** A call was not in the cache: it runs (once for all identical concurrent calls) and its answer is kept. */
export interface CacheMissEvent extends OfCachedCall {
  type: 'cache-miss';
}

/** An entry left a cache's memory: for room (`capacity`) or because its ttl passed (`expired`). */
export interface CacheEvictEvent extends OfCache {
  type: 'cache-evict';
  reason: 'capacity' | 'expired';
}

/** A cache's storage failed; the cache was bypassed (or the call failed, with `onStorageError: 'fail'`). */
export interface CacheErrorEvent extends OfCachedCall {
  type: 'cache-error';
  code: string;
  message: string;
}

/** Fields of every workflow event: the workflow and its execution (per run, from 1). */
interface OfWorkflow extends Located {
  workflow: string;
  execution: number;
}

/** `ctx.runWorkflow` started an execution. */
export interface WorkflowStartEvent extends OfWorkflow {
  type: 'workflow-start';
}

/** A step is about to run (its condition first); `visit` counts its runs in loops, from 1. */
export interface WorkflowStepStartEvent extends OfWorkflow {
  type: 'workflow-step-start';
  step: string;
  visit: number;
}

/** A step ended: `success`, `skipped` (a false condition, `reason` says why) or `error`. */
export interface WorkflowStepFinishEvent extends OfWorkflow {
  type: 'workflow-step-finish';
  step: string;
  status: 'success' | 'skipped' | 'error';
  reason?: string;
  error?: string;
}

/** An execution ended. */
export interface WorkflowFinishEvent extends OfWorkflow {
  type: 'workflow-finish';
  status: 'success' | 'error';
  error?: string;
}

/** A step called `wctx.emit(data)`. */
export interface WorkflowCustomEvent extends OfWorkflow {
  type: 'workflow-event';
  step: string;
  data: JsonValue;
}

/** A `defResource` value was initialized (on its first get, or again after a failed health check). */
export interface ResourceInitializedEvent extends Located {
  type: 'resource-initialized';
  resource: string;
  /** The `type` the resource was defined with. */
  resourceType: string;
}

/** A resource's health check failed (`reason`); its value is cleaned up and initialized again. */
export interface ResourceUnhealthyEvent extends Located {
  type: 'resource-unhealthy';
  resource: string;
  reason: string;
}

/**
 * A resource's value was cleaned up (its run ended, or it was unhealthy); `ok` false when `cleanup`
 * threw (`error`). A pool's `destroy` that threw is reported so too, with `pool` (its name).
 */
export interface ResourceCleanupEvent extends Located {
  type: 'resource-cleanup';
  resource: string;
  /** Set for a pool's value whose `destroy` failed. */
  pool?: string;
  ok: boolean;
  error?: string;
}

/** A pool made (`created`) or dropped (`destroyed`: expired or failed validate) a value; `size` counts its values after. */
export interface PoolItemEvent extends Located {
  type: 'pool-item';
  pool: string;
  action: 'created' | 'destroyed';
  size: number;
}

/** A pool was drained at the end of its run: `destroyed` values, and `failed` ones whose `destroy` threw. */
export interface PoolDrainedEvent extends Located {
  type: 'pool-drained';
  pool: string;
  destroyed: number;
  failed?: number;
}

/** A pipeline stage is about to run (`index` from 0). */
export interface PipelineStageStartEvent extends Located {
  type: 'pipeline-stage-start';
  pipeline: string;
  stage: string;
  index: number;
}

/** A pipeline stage ended; on `error` the pipeline fails with `PipelineError`. */
export interface PipelineStageFinishEvent extends Located {
  type: 'pipeline-stage-finish';
  pipeline: string;
  stage: string;
  index: number;
  status: 'success' | 'error';
  error?: string;
}

/** `ctx.executeParallel` started a group's tasks. */
export interface ParallelStartEvent extends Located {
  type: 'parallel-start';
  parallel: string;
  aggregation: 'all' | 'first' | 'majority' | 'consensus';
  tasks: string[];
}

/** A parallel group ended: each task's status (`cancelled` once the group was decided or timed out), the winner of `first`. */
export interface ParallelFinishEvent extends Located {
  type: 'parallel-finish';
  parallel: string;
  status: 'success' | 'error';
  tasks: Record<string, 'success' | 'error' | 'cancelled' | 'pending'>;
  winner?: string;
  error?: string;
}

/**
 * A judge model decided a `majority` / `consensus` group whose results did not agree: the
 * candidates it saw, the task it named (`winner`, null for "no agreement"), or why its answer was refused.
 */
export interface ParallelJudgeEvent extends Located {
  type: 'parallel-judge';
  /** The group: `parallel "name"` or `L.branch`. */
  group: string;
  /** The defParallel group's name (not for `L.branch`). */
  parallel?: string;
  model: string;
  candidates: string[];
  winner?: string | null;
  /** The judge's answer. */
  text?: string;
  usage?: Record<string, number>;
  error?: string;
}

/** `L.branch(agents, options)` opened a branch group (on the parent's path). */
export interface BranchGroupStartEvent extends Located {
  type: 'branch-group-start';
  group: number;
  aggregation: 'all' | 'first' | 'majority' | 'consensus';
  branches: string[];
}

/** A branch group was decided: each branch's status (`cancelled` once the group no longer needed it), the branch whose value was taken. */
export interface BranchGroupFinishEvent extends Located {
  type: 'branch-group-finish';
  group: number;
  status: 'success' | 'error';
  branches: Record<string, 'success' | 'error' | 'cancelled' | 'pending'>;
  winner?: string;
  error?: string;
}

/** A batcher called its processor with `size` items, because the batch was full (`size`) or `maxWait` passed (`wait`). */
export interface BatchFlushEvent extends Located {
  type: 'batch-flush';
  batcher: string;
  size: number;
  reason: 'size' | 'wait';
}

/** Every event a run can report, discriminated by `type`. */
export type RunEvent =
  | StepStartEvent
  | StepFinishEvent
  | ToolCallEvent
  | ToolResultEvent
  | ToolErrorEvent
  | ToolCallRepairedEvent
  | RetryEvent
  | FallbackEvent
  | CircuitStateEvent
  | RateLimitedEvent
  | ConstraintWarningEvent
  | ConstraintExceededEvent
  | BudgetStopEvent
  | GuardEvent
  | ApprovalRequestEvent
  | ApprovalDecisionEvent
  | ValidationEvent
  | InteractionRequestEvent
  | InteractionAnswerEvent
  | InteractionInvalidEvent
  | MessageAppendedEvent
  | ModelPushedEvent
  | ModelPoppedEvent
  | ToolEnabledEvent
  | ToolDisabledEvent
  | BranchStartedEvent
  | BranchReturnedEvent
  | BranchThrewEvent
  | EmittedEvent
  | StateLoadedEvent
  | StateSavedEvent
  | StateConflictEvent
  | CacheHitEvent
  | CacheMissEvent
  | CacheEvictEvent
  | CacheErrorEvent
  | WorkflowStartEvent
  | WorkflowStepStartEvent
  | WorkflowStepFinishEvent
  | WorkflowFinishEvent
  | WorkflowCustomEvent
  | ResourceInitializedEvent
  | ResourceUnhealthyEvent
  | ResourceCleanupEvent
  | PoolItemEvent
  | PoolDrainedEvent
  | PipelineStageStartEvent
  | PipelineStageFinishEvent
  | ParallelStartEvent
  | ParallelFinishEvent
  | ParallelJudgeEvent
  | BranchGroupStartEvent
  | BranchGroupFinishEvent
  | BatchFlushEvent
  | ContextTrimmedEvent
  | RoleAssumedEvent
  | ContextSummarizedEvent
  | MemoryStoreEvent
  | MemorySearchEvent
  | MemoryDeleteEvent
  | MemoryClearEvent

  | RunStartEvent
  | RunFinishEvent
  | ModelCallEvent
  | ErrorEvent
  | TokenThresholdEvent
  | SpanStartEvent
  | SpanEndEvent
  | MetricEvent;

/** The `type` of a {@link RunEvent}. */
export type RunEventType = RunEvent['type'];

/** Receives every event of a run, in order. */
export type EventListener = (event: RunEvent) => void;

/**
 * The one path of a run's events: each listener gets every event in order. A listener's failure
 * does not break the run: the package's own are ignored, and a callback of the user's (`onEvent`,
 * `onProgress`), given with its name, is reported as an `error` event on this path, whether it
 * threw or returned a promise that rejected (which would otherwise be an unhandled rejection).
 * A user's callback is not awaited between events (a slow one does not hold the run), but
 * {@link RunEvents.drain} waits for the promises they returned, so a run's result can settle after them.
 */
export class RunEvents {
  private readonly listeners: Array<{ listener: EventListener; handler?: string }> = [];
  /** The promises the user's callbacks returned that have not settled yet. */
  private readonly pending = new Set<PromiseLike<unknown>>();

  /** Adds a listener (optional ones may be undefined); `handler` names a callback of the user's. */
  listen(listener: EventListener | undefined, handler?: string): this {
    if (listener) this.listeners.push({ listener, handler });
    return this;
  }

  push(event: RunEvent): void {
    for (const { listener, handler } of this.listeners) {
      if (handler) {
        void this.call(handler, event, () => listener(event)); // drain() waits for it
        continue;
      }
      try {
        listener(event);
      } catch {
        // the package's own observers must not break the run
      }
    }
  }

  /**
   * Calls `callback`, a callback of the user's named `handler`, on `event`: its promise is waited
   * for by {@link RunEvents.drain}, and a throw or a rejection is reported as an `error` event.
   * Returns a promise that resolves (never rejects) once the callback has settled.
   */
  call(handler: string, event: RunEvent, callback: () => unknown): Promise<void> {
    try {
      // Typed void, but an async callback returns a promise: its rejection is a failure too.
      const returned: unknown = callback();
      if (isThenable(returned)) return this.track(handler, event, returned);
    } catch (err) {
      this.failed(handler, event, err);
    }
    return Promise.resolve();
  }

  /** Whether a promise a user's callback returned is still pending. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves once every promise the user's callbacks returned has settled (and those their failures caused). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(handler: string, event: RunEvent, returned: PromiseLike<unknown>): Promise<void> {
    const settled = Promise.resolve(returned).then(
      () => undefined,
      (err: unknown) => this.failed(handler, event, err),
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return settled;
  }

  private failed(handler: string, event: RunEvent, err: unknown): void {
    // A callback that fails on the report of its own failure is not reported again (it would loop).
    if (event.type === 'error' && event.source === 'handler' && (event.context as { handler?: unknown } | undefined)?.handler === handler) return;
    this.push(handlerError(handler, event, err));
  }
}
