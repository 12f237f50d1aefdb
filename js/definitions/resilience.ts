/**
 * Resilience definitions (docs/resilience.md): `defRetry`, `defFallback`, `defCircuitBreaker`,
 * `defConstraint`. The engine owns the policies; these only check configs and marshal them. The
 * proposal's spellings are accepted next to lmthing's: `jitter: true`, a cascade written
 * `cascade: [{model}]` with `retryDelay`/`maxAttempts`, `alternatives: {tool: [...]}`,
 * `defaultValue`/`logError`, `tracking`, rate `strategy: 'sliding-window'`.
 */
import * as c from '../config/check.js';
import type { LanguageModel } from '../providers/types.js';
import type { DefinitionKind } from './kind.js';

/** `defRetry` config. Delays in ms. */
export interface RetryConfig {
  /** All attempts, the first included (default 3). */
  maxAttempts?: number;
  backoff?: 'exponential' | 'linear' | 'constant';
  /** First delay (default 1000). */
  baseDelay?: number;
  /** Longest delay (default 30000); a server's Retry-After may exceed it. */
  maxDelay?: number;
  /** Fraction of each delay that is randomized, 0..1 (default 0); `true` randomizes half of it. */
  jitter?: number | boolean;
  /**
   * Which errors are retried, each matched against the error's kind (`rate_limit`, `timeout`,
   * `provider`, `callback` ...), its code (`RATE_LIMIT`, `TIMEOUT` ...) or as part of its message.
   * Default: for models, rate limits, timeouts and retryable provider errors; for tools, every failure.
   */
  retryableErrors?: string[];
}

/** `defFallback(name, 'cascade', config)`: models tried in order when one fails for good. */
export interface CascadeConfig {
  /** Models after the run's own, in order: `'provider:model'` strings or model objects. */
  models?: Array<string | LanguageModel>;
  /** The proposal's spelling: `[{model}]`, which may start with the run's own model. */
  cascade?: Array<{ model: string | LanguageModel }>;
  /** Wait this long (ms) before the next model. */
  retryDelay?: number;
  /** Models tried in all, the first included. */
  maxAttempts?: number;
  /** Errors that also move the cascade on (besides retryable ones whose retries ran out). */
  errors?: string[];
}

/** `defFallback(name, 'alternative', config)`: the same arguments go to other tools, in order. */
export interface AlternativeConfig {
  /** Tools tried in order for each tool that names this fallback. */
  tools?: string[];
  /** Per failing tool: `{searchAPI: ['searchBackup', 'searchCache']}`. */
  alternatives?: Record<string, string[]>;
  /** Only these errors trigger the fallback (default: every failure). */
  errors?: string[];
}

/** `defFallback(name, 'default', config)`: a fixed value stands in for the failed call's result. */
export interface DefaultValueConfig {
  value?: unknown;
  /** The proposal's spelling of `value`. */
  defaultValue?: unknown;
  /** Also warn on the console when the value is used. */
  log?: boolean;
  /** The proposal's spelling of `log`. */
  logError?: boolean;
  errors?: string[];
}

export type FallbackStrategy = 'cascade' | 'alternative' | 'default';

/** `defCircuitBreaker` config. */
export interface CircuitBreakerConfig {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before trial calls, ms (default 30000). */
  resetTimeout?: number;
  /** Trial calls in half-open; all must succeed to close again (default 1). */
  halfOpenRequests?: number;
  /** Informational (the proposal lists them): `['closed', 'open', 'half-open']`. */
  states?: Array<'closed' | 'open' | 'half-open'>;
}

type Tracked = Array<'input' | 'output' | 'embeddings'>;

/** `defConstraint(name, 'tokens', config)`. */
export interface TokenConstraintConfig {
  max: number;
  /** Emit a `constraint-warning` event once this many tokens are used. */
  warn?: number;
  /** `stop` (default): no model call starts once `max` is reached; `warn`: only events. */
  onExceeded?: 'stop' | 'warn';
  /** What counts (default input and output). */
  track?: Tracked;
  /** The proposal's spelling of `track`. */
  tracking?: Tracked;
}

/** `defConstraint(name, 'duration', config)`. */
export interface DurationConstraintConfig {
  /** ms from the start of the run. */
  max: number;
  /** `graceful-stop` (default): the loop ends after the current step, finishReason `budget`; `stop`: the run is cancelled. */
  onExceeded?: 'graceful-stop' | 'stop';
}

/** `defConstraint(name, 'rate', config)`. */
export interface RateConstraintConfig {
  /** Calls allowed to start per period. */
  requests: number;
  /** ms. */
  period: number;
  /** `wait` (default; also `sliding-window`, the limiter's algorithm): a call waits for a slot; `fail`: it fails with BudgetExceededError. */
  strategy?: 'wait' | 'fail' | 'sliding-window';
  /** Which calls count (default `model`). */
  scope?: 'model' | 'tool' | 'all';
}

/** `defConstraint(name, 'cost', config)`: USD from your own price table. */
export interface CostConstraintConfig {
  /** USD. */
  max: number;
  warn?: number;
  onExceeded?: 'stop' | 'warn';
  /** USD per 1M tokens, by model id (the id given to the provider, e.g. `gpt-4o-mini`). */
  prices: Record<string, { input?: number; output?: number }>;
}

export type ConstraintType = 'tokens' | 'duration' | 'rate' | 'cost';

const errors = c.stringList;
const modelLike: c.Check = (v) => (typeof v === 'string' || (typeof v === 'object' && v !== null) ? undefined : 'a model');

export const retryKind: DefinitionKind<RetryConfig> = {
  kind: 'retry',
  noun: 'retry policy',
  method: 'defRetry',
  check: (where, config = {}) =>
    c.checkOptions(where, config, {
      maxAttempts: c.integer(1, 100),
      backoff: c.oneOf('exponential', 'linear', 'constant'),
      baseDelay: c.ms(),
      maxDelay: c.ms(),
      jitter: c.either(c.number(0, 1), c.boolean),
      retryableErrors: errors,
    }) ?? {},
  wire: (config) => ({ ...config }),
};

type StoredFallback = { strategy: FallbackStrategy; config: CascadeConfig & AlternativeConfig & DefaultValueConfig };

export const fallbackKind: DefinitionKind<unknown, StoredFallback> = {
  kind: 'fallback',
  noun: 'fallback',
  method: 'defFallback',
  check(where, strategy, config) {
    c.checkChoice(where, 'strategy', strategy, 'cascade', 'alternative', 'default');
    if (strategy === 'cascade') {
      c.checkOptions(where, config, {
        models: c.arrayOf(modelLike, 'an array of models'),
        cascade: c.arrayOf((v) => (c.isPlainObject(v) && modelLike(v.model) === undefined ? undefined : '{model}'), 'an array of {model}'),
        retryDelay: c.ms({ zero: true }),
        maxAttempts: c.integer(1, 100),
        errors,
      });
      const cfg = (config ?? {}) as CascadeConfig;
      c.oneNameOf(where, cfg, 'models', 'cascade');
      if (!cfg.models && !cfg.cascade) c.fail(where, "a cascade needs 'models' (or the proposal's 'cascade: [{model}]'): the models to try, in order");
      // The same model twice (one object, or one "provider:model" string) would be tried twice.
      const models = cfg.models ?? cfg.cascade!.map((entry) => entry.model);
      const twice = models.findIndex((model, i) => models.indexOf(model) !== i);
      if (twice >= 0) c.fail(where, `'${cfg.models ? 'models' : 'cascade'}' lists ${typeof models[twice] === 'string' ? `the model "${models[twice]}"` : 'one model object'} twice (items ${models.indexOf(models[twice])} and ${twice}); a cascade tries each model once`);
    } else if (strategy === 'alternative') {
      c.checkOptions(where, config, {
        tools: c.stringList,
        alternatives: (v) => (c.isPlainObject(v) && Object.values(v).every((list) => c.stringList(list) === undefined) ? undefined : '{tool: [alternative tools]}'),
        errors,
      });
      const cfg = (config ?? {}) as AlternativeConfig;
      if (!cfg.tools && !cfg.alternatives) c.fail(where, "an alternative fallback needs 'tools' (or 'alternatives: {tool: [...]}')");
    } else {
      c.checkOptions(where, config, { value: c.anything, defaultValue: c.anything, log: c.boolean, logError: c.boolean, errors });
      const cfg = (config ?? {}) as DefaultValueConfig;
      c.oneNameOf(where, cfg, 'value', 'defaultValue');
      c.oneNameOf(where, cfg, 'log', 'logError');
      if (!('value' in cfg) && !('defaultValue' in cfg)) c.fail(where, "a default fallback needs 'value' (or 'defaultValue'): the result to use instead");
    }
    return { strategy, config: { ...(config as object) } };
  },
  wire({ strategy, config }, marshal) {
    const out: Record<string, unknown> = { strategy };
    if (config.errors) out.errors = config.errors;
    if (strategy === 'cascade') {
      out.models = (config.models ?? config.cascade!.map((entry) => entry.model)).map((m) => marshal.model(m));
      if (config.retryDelay !== undefined) out.retryDelay = config.retryDelay;
      if (config.maxAttempts !== undefined) out.maxAttempts = config.maxAttempts;
    } else if (strategy === 'alternative') {
      if (config.tools) out.tools = config.tools;
      if (config.alternatives) out.alternatives = config.alternatives;
    } else {
      out.value = ('value' in config ? config.value : config.defaultValue) ?? null;
      out.log = config.log ?? config.logError ?? false;
    }
    return out;
  },
};

export const circuitBreakerKind: DefinitionKind<CircuitBreakerConfig> = {
  kind: 'circuitBreaker',
  noun: 'circuit breaker',
  method: 'defCircuitBreaker',
  check: (where, config = {}) =>
    c.checkOptions(where, config, {
      failureThreshold: c.integer(1, 1e6),
      resetTimeout: c.ms(),
      halfOpenRequests: c.integer(1, 1e6),
      states: c.arrayOf(c.oneOf('closed', 'open', 'half-open'), "an array of 'closed', 'open', 'half-open'"),
    }) ?? {},
  wire: (config) => ({ ...config }),
};

const tracked = c.arrayOf(c.oneOf('input', 'output', 'embeddings'), "an array of 'input', 'output', 'embeddings'");

const constraintShapes: Record<ConstraintType, c.Shape> = {
  tokens: { max: c.number(0, Infinity, { positive: true }), warn: c.number(0, Infinity, { positive: true }), onExceeded: c.oneOf('stop', 'warn'), track: tracked, tracking: tracked },
  duration: { max: c.ms(), onExceeded: c.oneOf('graceful-stop', 'stop') },
  rate: { requests: c.integer(1, 1e9), period: c.ms(), strategy: c.oneOf('wait', 'fail', 'sliding-window'), scope: c.oneOf('model', 'tool', 'all') },
  cost: { max: c.number(0, Infinity, { positive: true }), warn: c.number(0, Infinity, { positive: true }), onExceeded: c.oneOf('stop', 'warn'), prices: c.object },
};

/** `{modelId: {input?, output?}}`, USD per 1M tokens: a misspelt field or a price that is not a finite number would price calls at $0. */
function checkPrices(where: string, prices: Record<string, unknown>): void {
  if (Object.keys(prices).length === 0) c.fail(where, 'expected {modelId: {input, output}} (USD per 1M tokens) for at least one model, got {}');
  const price = c.number(0, Infinity);
  for (const [model, entry] of Object.entries(prices)) {
    c.checkOptions(`${where}["${model}"]`, entry, { input: price, output: price }, 'field');
    if (!c.isPlainObject(entry) || (entry.input === undefined && entry.output === undefined)) c.fail(`${where}["${model}"]`, "give 'input' and/or 'output': USD per 1M tokens");
  }
}

type StoredConstraint = { type: ConstraintType; config: Record<string, unknown> };

export const constraintKind: DefinitionKind<unknown, StoredConstraint> = {
  kind: 'constraint',
  noun: 'constraint',
  method: 'defConstraint',
  check(where, type, config) {
    c.checkChoice(where, 'type', type, 'tokens', 'duration', 'rate', 'cost');
    const shape = constraintShapes[type];
    if (config === undefined) c.fail(where, `a ${String(type)} constraint needs a config (${Object.keys(shape).join(', ')})`);
    c.checkOptions(where, config, shape);
    const cfg = config as Record<string, unknown>;
    c.oneNameOf(where, cfg, 'track', 'tracking');
    if (type === 'cost' && cfg.prices !== undefined) checkPrices(`${where}: prices`, cfg.prices as Record<string, unknown>);
    const required = type === 'rate' ? ['requests', 'period'] : type === 'cost' ? ['max', 'prices'] : ['max'];
    for (const key of required) if (cfg[key] === undefined) c.fail(where, `'${key}' is required`);
    return { type, config: { ...cfg } };
  },
  wire: ({ type, config }) => ({ ...config, type }),
};
