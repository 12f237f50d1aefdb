/**
 * The resilience definitions of a prompt (`defRetry`, `defFallback`, `defCircuitBreaker`,
 * `defConstraint`) and the run-time handles that consult them (`ctx.circuitBreaker(name)`,
 * `ctx.checkConstraints()`). The engine owns the policies (docs/resilience.md): this module only
 * collects definitions, sends them with the run, and asks the engine at run time.
 */
import type { Engine } from '../engine.js';
import { AbortError } from '../errors.js';
import type { LanguageModel } from '../providers/types.js';
import { checkName } from './names.js';

/** `defRetry` config. Delays in ms. */
export interface RetryConfig {
  /** All attempts, the first included (default 3). */
  maxAttempts?: number;
  backoff?: 'exponential' | 'linear' | 'constant';
  /** First delay (default 1000). */
  baseDelay?: number;
  /** Longest delay (default 30000); a server's Retry-After may exceed it. */
  maxDelay?: number;
  /** Fraction of each delay that is randomized, 0..1 (default 0). */
  jitter?: number;
  /**
   * Which errors are retried, each matched against the error's kind (`rate_limit`, `timeout`,
   * `provider`, `callback` ...), its code (`RATE_LIMIT`, `TIMEOUT` ...) or as part of its message.
   * Default: for models, rate limits, timeouts and retryable provider errors; for tools, any failure.
   */
  retryableErrors?: string[];
}

/** `defFallback(name, 'cascade', config)`: models tried in order when one fails for good. */
export interface CascadeConfig {
  /** Models after the run's own, in order: `'provider:model'` strings or model objects. */
  models: Array<string | LanguageModel>;
  /** Errors that also move the cascade on (besides retryable ones whose retries ran out). */
  errors?: string[];
}

/** `defFallback(name, 'alternative', config)`: the same arguments go to other tools, in order. */
export interface AlternativeConfig {
  tools: string[];
  /** Only these errors trigger the fallback (default: any failure). */
  errors?: string[];
}

/** `defFallback(name, 'default', config)`: a fixed value stands in for the failed call's result. */
export interface DefaultValueConfig {
  value: unknown;
  /** Also warn on the console when the value is used. */
  log?: boolean;
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
}

/** `defConstraint(name, 'tokens', config)`. */
export interface TokenConstraintConfig {
  max: number;
  /** Emit a `constraint-warning` event once this many tokens are used. */
  warn?: number;
  /** `stop` (default): no model call starts once `max` is reached; `warn`: only events. */
  onExceeded?: 'stop' | 'warn';
  /** What counts (default input and output). */
  track?: Array<'input' | 'output' | 'embeddings'>;
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
  /** `wait` (default): a call waits for a slot; `fail`: it fails with BudgetExceededError. */
  strategy?: 'wait' | 'fail';
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

const STRATEGIES: FallbackStrategy[] = ['cascade', 'alternative', 'default'];
const CONSTRAINT_TYPES: ConstraintType[] = ['tokens', 'duration', 'rate', 'cost'];

/** Everything the four def* methods collected. */
export class PolicyDefinitions {
  readonly retries = new Map<string, RetryConfig>();
  readonly fallbacks = new Map<string, { strategy: FallbackStrategy; config: CascadeConfig | AlternativeConfig | DefaultValueConfig }>();
  readonly breakers = new Map<string, CircuitBreakerConfig>();
  readonly constraints = new Map<string, { type: ConstraintType; config: object }>();

  defRetry(name: string, config: RetryConfig = {}): void {
    checkName(name, 'defRetry');
    this.retries.set(name, requireObject(config, `defRetry("${name}")`));
  }

  defFallback(name: string, strategy: FallbackStrategy, config: CascadeConfig | AlternativeConfig | DefaultValueConfig): void {
    checkName(name, 'defFallback');
    if (!STRATEGIES.includes(strategy)) throw new TypeError(`defFallback("${name}"): strategy must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
    requireObject(config, `defFallback("${name}")`);
    if (strategy === 'cascade' && !Array.isArray((config as CascadeConfig).models))
      throw new TypeError(`defFallback("${name}", 'cascade'): "models" must be an array of models`);
    this.fallbacks.set(name, { strategy, config });
  }

  defCircuitBreaker(name: string, config: CircuitBreakerConfig = {}): void {
    checkName(name, 'defCircuitBreaker');
    this.breakers.set(name, requireObject(config, `defCircuitBreaker("${name}")`));
  }

  defConstraint(name: string, type: ConstraintType, config: object): void {
    checkName(name, 'defConstraint');
    if (!CONSTRAINT_TYPES.includes(type)) throw new TypeError(`defConstraint("${name}"): type must be one of ${CONSTRAINT_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    this.constraints.set(name, { type, config: requireObject(config, `defConstraint("${name}")`) });
  }

  /** `name` when it names a model cascade (which an agent takes into its own run), else undefined. */
  cascade(name: string | undefined): string | undefined {
    return name !== undefined && this.fallbacks.get(name)?.strategy === 'cascade' ? name : undefined;
  }

  get empty(): boolean {
    return this.retries.size + this.fallbacks.size + this.breakers.size + this.constraints.size === 0;
  }

  /** The `policies` of the engine's prompt spec; cascade models become model references. */
  toSpec(modelRef: (model: string | LanguageModel) => string): Record<string, unknown> {
    const fallbacks: Record<string, unknown> = {};
    for (const [name, { strategy, config }] of this.fallbacks) {
      fallbacks[name] =
        strategy === 'cascade'
          ? { ...config, strategy, models: (config as CascadeConfig).models.map(modelRef) }
          : { ...config, strategy, value: (config as DefaultValueConfig).value ?? null };
    }
    return {
      retries: Object.fromEntries(this.retries),
      fallbacks,
      circuitBreakers: Object.fromEntries(this.breakers),
      constraints: [...this.constraints].map(([name, { type, config }]) => ({ ...config, name, type })),
    };
  }
}

/** `ctx.circuitBreaker(name)`: runs your own calls through a breaker the engine keeps. */
export class CircuitBreakerHandle {
  constructor(
    private readonly engine: Engine,
    private readonly runId: number,
    /** The breaker's name. */
    readonly name: string,
  ) {}

  /**
   * Runs `fn` if the breaker admits a call (else rejects with `CircuitOpenError` without calling
   * it) and reports its outcome: a throw counts as a failure, an `AbortError` as neither.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.engine.request('circuit.admit', { run: this.runId, name: this.name });
    let outcome: 'success' | 'failure' | 'cancelled' = 'success';
    try {
      return await fn();
    } catch (err) {
      outcome = err instanceof AbortError ? 'cancelled' : 'failure';
      throw err;
    } finally {
      await this.engine.request('circuit.record', { run: this.runId, name: this.name, outcome }).catch(() => undefined);
    }
  }
}

/** Totals of the run tree's ledger, as `ctx.checkConstraints()` reports them. */
export interface ConstraintTotals {
  inputTokens: number;
  outputTokens: number;
  embeddingTokens: number;
  costUsd: number;
  elapsedMs: number;
}

function requireObject<T>(config: T, what: string): T {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new TypeError(`${what}: expected a config object, got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`);
  return config;
}
