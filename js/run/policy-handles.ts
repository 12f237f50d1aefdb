/** Run-time handles on the engine's policies: `ctx.circuitBreaker(name)` and `ctx.checkConstraints()`. */
import type { Engine } from '../engine.js';
import { AbortError } from '../errors.js';

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
   * it) and reports its outcome: a throw counts as a failure, an `AbortError` as neither.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.#engine.request('circuit.admit', { run: this.#runId, name: this.name });
    let outcome: 'success' | 'failure' | 'cancelled' = 'success';
    try {
      return await fn();
    } catch (err) {
      outcome = err instanceof AbortError ? 'cancelled' : 'failure';
      throw err;
    } finally {
      await this.#engine.request('circuit.record', { run: this.#runId, name: this.name, outcome }).catch(() => undefined);
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
