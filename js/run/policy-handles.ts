/** Run-time handles on the engine's policies: `ctx.circuitBreaker(name)` and `ctx.checkConstraints()`. */
import type { Engine } from '../engine.js';
import { describe } from '../config/check.js';
import { AbortError, ConfigError } from '../errors.js';

/** `ctx.circuitBreaker(name)`: runs your own calls through a breaker the engine keeps. */
export class CircuitBreakerHandle {
  readonly #engine: Engine;
  readonly #runId: number;
  /** The breaker's name. */
  readonly name: string;

  /** @internal */
  constructor(engine: Engine, runId: number, name: string) {
    this.#engine = engine;
    this.#runId = runId;
    this.name = name;
  }

  /**
   * Runs `fn` if the breaker admits a call (else rejects with `CircuitOpenError` without calling
   * it) and reports its outcome: a throw counts as a failure, an `AbortError` (lmthing's, or the
   * platform's `DOMException` an aborted `fetch` throws) as neither.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    // Refused before the breaker admits it: a wrong argument is not a failure of the service.
    if (typeof fn !== 'function') throw new ConfigError(`circuitBreaker("${this.name}").execute: expected a function to run, got ${describe(fn)}`);
    await this.#engine.request('circuit.admit', { run: this.#runId, name: this.name });
    let outcome: 'success' | 'failure' | 'cancelled' = 'success';
    try {
      return await fn();
    } catch (err) {
      outcome = isAbort(err) ? 'cancelled' : 'failure';
      throw err;
    } finally {
      await this.#engine.request('circuit.record', { run: this.#runId, name: this.name, outcome }).catch(() => undefined);
    }
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof AbortError || (err instanceof Error && err.name === 'AbortError');
}

/** Totals of the run tree's ledger, as `ctx.checkConstraints()` reports them. */
export interface ConstraintTotals {
  inputTokens: number;
  outputTokens: number;
  embeddingTokens: number;
  costUsd: number;
  elapsedMs: number;
}
