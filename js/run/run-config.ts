/**
 * The run config both kinds of run accept (runPrompt and run): the run's model policies, where its
 * events and human requests go, and its time limits. One shape, checked once, marshalled once.
 */
import * as c from '../config/check.js';
import type { Engine } from '../engine.js';
import type { MeterProvider } from '@opentelemetry/api';
import { isMeterProvider } from '../observe/otel-metrics.js';
import type { ProgressListener } from '../observe/progress.js';
import type { ProviderOptions } from '../providers/types.js';
import type { StorageAdapter } from '../storage/types.js';
import type { ApprovalHandler, InteractionHandler } from './human-host.js';
import type { EventListener } from './events.js';
import { timeoutCheck, type RunTimeouts, type TimeoutConfiguration } from './timeouts.js';
import { callWatchersShape, type CallWatchers } from './call-watchers.js';
import { stepStartCallbacksShape, type StepStartCallbacks } from './step-callbacks.js';

/** Policies and handlers shared by `runPrompt` and `run`. */
export interface RunPolicyConfig extends CallWatchers, StepStartCallbacks {
  /** A `defRetry` policy for the run's model calls (instead of the default rule). */
  retry?: string;
  /** A `defFallback` cascade: when the model fails for good, the next one replaces it. */
  fallback?: string;
  /** A `defCircuitBreaker` guarding the run's own models. */
  circuitBreaker?: string;
  /**
   * Receives every run event, in order (also `prompt.events` / the run's iterable and `fullStream`).
   * Not awaited between events; the run's result settles after the promises it returned.
   */
  onEvent?: EventListener;
  /** Decides approval requests (default: a terminal prompt in Node with a TTY, else the default action). */
  onApproval?: ApprovalHandler;
  /** Answers `ctx.interact` requests. */
  onInteraction?: InteractionHandler;
  /**
   * Time limit of the whole run, ms: it then fails with `TimeoutError`. Or the AI SDK 7's object,
   * `{totalMs, stepMs, toolMs, firstChunkMs, chunkMs, tools}` (docs/resilience.md, "Timeouts").
   */
  timeout?: number | TimeoutConfiguration;
  /** Time limit of each model call attempt, ms (a timed-out attempt is retried like a failed one). */
  modelTimeout?: number;
  /** Time limit of each tool call attempt without its own `timeout`, ms. */
  toolTimeout?: number;
  /** Retries of a model call under the default rule (rate limits, timeouts, retryable errors; default 2). */
  maxRetries?: number;
  /**
   * The AI SDK 7's: retries of a model call that failed after it had streamed text (a cut
   * connection, a rate limit mid-stream), counted apart from `maxRetries` (default 0: such a call
   * is not retried). The text already streamed stays in the run's stream; the retried answer is the
   * step's text and what the conversation keeps.
   */
  streamRetries?: number;
  /** The engine to run on (the shared one by default). */
  engine?: Engine;
  /**
   * Where the run's persisted state (`defState(..., {persist: true})`) and persistent caches live:
   * a storage adapter (`fileStorage(dir)`, `redisStorage(...)` ...) or the name of one registered on
   * the engine with `registerStorage` (default: the engine's `memory` storage).
   */
  storage?: string | StorageAdapter;
  /** Who `scope: 'session'` state belongs to: runs with the same sessionId share it. */
  sessionId?: string;
  /** A `defCache` for the run's own model calls: an identical request is answered from the cache (its text replayed). */
  cache?: string;
  /**
   * An OpenTelemetry `MeterProvider`: the run tree's metrics (its `defMetric`s and the built-in
   * `lmthing_*` ones) are also recorded on its `lmthing` meter, as they happen.
   */
  meterProvider?: MeterProvider;
  /**
   * Receives the run's progress after each event that changes it: step, tools running, tokens,
   * elapsed engine-clock ms, cost when priced (docs/observability.md). Not awaited between events;
   * the run's result settles after the promises it returned.
   */
  onProgress?: ProgressListener;
  /**
   * Provider options of every model call of the run (sub-agents' too), keyed by provider name as
   * the AI SDK's are: `{ openai: { reasoningEffort: 'low' }, anthropic: { thinking: { type:
   * 'enabled', budgetTokens: 2048 } } }`. A model reads its own provider's entry only; an option its
   * provider does not know fails the call with a `ConfigError` (docs/providers.md, "Provider options").
   */
  providerOptions?: ProviderOptions;
  /** HTTP headers sent with every model call of the run, after the provider's own. */
  headers?: Record<string, string>;
}

/** Provider options as the AI SDK writes them: an object per provider name. */
export const providerOptionsCheck = c.recordOf(c.object, 'an object of provider names to option objects ({openai: {...}})');

const isEngine: c.Check = (v) => (typeof v === 'object' && v !== null && typeof (v as Engine).startRun === 'function' ? undefined : 'an Engine (from createEngine())');

/** The shape of {@link RunPolicyConfig}. */
export const runPolicyShape: c.Shape = {
  retry: c.nonEmpty,
  fallback: c.nonEmpty,
  circuitBreaker: c.nonEmpty,
  onEvent: c.func,
  onApproval: c.func,
  onInteraction: c.func,
  timeout: timeoutCheck,
  modelTimeout: c.ms(),
  toolTimeout: c.ms(),
  maxRetries: c.integer(0, 100),
  streamRetries: c.integer(0, 100),
  engine: isEngine,
  storage: (v) => {
    if ((typeof v === 'string' && v.length > 0) || (typeof v === 'object' && v !== null && typeof (v as StorageAdapter).compareAndSet === 'function')) return undefined;
    const expected = 'a storage adapter (memoryStorage(), fileStorage(dir) ...) or the name of one registered with registerStorage';
    // An adapter of one's own that lacks a method: name it.
    if (typeof v !== 'object' || v === null || typeof (v as StorageAdapter).get !== 'function') return expected;
    const missing = (['get', 'set', 'delete', 'list', 'compareAndSet'] as const).filter((m) => typeof (v as Partial<Record<string, unknown>>)[m] !== 'function');
    return `${expected}; this adapter lacks ${missing.join(', ')}`;
  },
  sessionId: c.nonEmpty,
  cache: c.nonEmpty,
  onProgress: c.func,
  meterProvider: (v) => (isMeterProvider(v) ? undefined : 'an OpenTelemetry MeterProvider'),
  providerOptions: providerOptionsCheck,
  headers: c.httpHeaders,
  ...callWatchersShape,
  ...stepStartCallbacksShape,
};

/** What a run adds to each of its model calls' requests. */
export interface CallSettings {
  providerOptions?: ProviderOptions;
  headers?: Record<string, string>;
}

/** The run's settings of every model call, as the host adds them to each request. */
export function callSettings(config: RunPolicyConfig): CallSettings | undefined {
  if (config.providerOptions === undefined && config.headers === undefined) return undefined;
  return { ...(config.providerOptions ? { providerOptions: config.providerOptions } : {}), ...(config.headers ? { headers: config.headers } : {}) };
}

/** The generation settings (`GenerationParams`) of `runPrompt`'s config and `run`'s `params`. */
export const generationShape: c.Shape = {
  temperature: c.number(0, 2),
  maxOutputTokens: c.integer(1, 10_000_000),
  topP: c.number(0, 1),
  topK: c.integer(1, 1_000_000),
  stopSequences: c.arrayOf(c.nonEmpty, 'an array of non-empty strings'),
  seed: c.integer(-(2 ** 53), 2 ** 53),
  presencePenalty: c.number(-2, 2),
  frequencyPenalty: c.number(-2, 2),
};

/** An AbortSignal (checked by shape, so signals of other realms work). */
export const abortSignal: c.Check = (v) =>
  typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function'
    ? undefined
    : 'an AbortSignal';

/** The spec fields of a run's model policies and limits (`timeouts`: its limits as {@link ownTimeouts} gives them). */
export function runPolicySpec(config: RunPolicyConfig, timeouts: RunTimeouts): { fields: Record<string, unknown>; options: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  // providerOptions: the host adds them to each request; the engine reads them for a model cache's key.
  for (const key of ['retry', 'fallback', 'circuitBreaker', 'sessionId', 'cache', 'providerOptions'] as const) if (config[key] !== undefined) fields[key] = config[key];
  const options: Record<string, unknown> = {};
  if (timeouts.timeout !== undefined) options.timeoutMs = timeouts.timeout;
  if (timeouts.timeout !== undefined && timeouts.setupMs) options.timeoutSpentMs = timeouts.setupMs;
  if (timeouts.modelTimeout !== undefined) options.modelTimeoutMs = timeouts.modelTimeout;
  if (timeouts.toolTimeout !== undefined) options.toolTimeoutMs = timeouts.toolTimeout;
  if (config.maxRetries !== undefined) options.maxRetries = config.maxRetries;
  if (config.streamRetries !== undefined) options.streamRetries = config.streamRetries;
  return { fields, options };
}
