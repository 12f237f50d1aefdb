/**
 * The idle timeout of a streamed model call: a watchdog that aborts the request when no content
 * arrives for a while, so a server that only sends keep-alive comments (or nothing at all) cannot
 * keep a run pending forever. The abort surfaces as a retryable `TimeoutError`.
 */
import { TimeoutError, ValidationError } from '../errors.js';
import { describeValue } from './http.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from './types.js';

/** `setTimeout` takes at most 2^31-1 ms; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks and normalizes an idle timeout option: `undefined` gives the default, `0` and `Infinity`
 * turn the watchdog off (`undefined` is returned).
 * @throws ValidationError for a negative number, `NaN` or a non-number.
 */
export function resolveIdleTimeout(provider: string, value: unknown, fallback: unknown = undefined): number | undefined {
  const v = value !== undefined ? value : fallback !== undefined ? fallback : DEFAULT_IDLE_TIMEOUT_MS;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new ValidationError(
      `${provider}: idleTimeoutMs must be a number of milliseconds >= 0 (0 or Infinity turns it off), got ${describeValue(v)}`,
    );
  }
  return v === 0 || v === Infinity ? undefined : v;
}

/**
 * Watches one exchange. Its {@link IdleWatch.signal} aborts when the caller's signal aborts or
 * when {@link IdleWatch.touch} was not called for `ms` milliseconds; {@link IdleWatch.fired} tells
 * the two apart.
 */
export class IdleWatch {
  /** Give this signal to `fetch` and to the body reader. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private deadline = 0;
  private timedOut = false;
  private stopped = false;
  private readonly onOuterAbort = (): void => this.controller.abort();

  constructor(
    private readonly provider: string,
    private readonly ms: number,
    private readonly outer?: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    if (outer?.aborted) this.controller.abort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.touch();
  }

  /** True once the timeout (not the caller) aborted the exchange. */
  get fired(): boolean {
    return this.timedOut;
  }

  /** Content arrived: the idle period starts again. */
  touch(): void {
    if (this.stopped || this.timedOut) return;
    // The monotonic clock: a wall-clock step (NTP) must neither fire nor delay the timeout.
    this.deadline = performance.now() + this.ms;
    if (this.timer === undefined) this.arm(this.ms);
  }

  /** Ends the watch (always call it, also after a failure). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  /** The error to report once {@link IdleWatch.fired}. */
  error(): TimeoutError {
    return new TimeoutError(
      `${this.provider}: no content from the server for ${formatMs(this.ms)} (idle timeout of a streamed call); ` +
        `raise idleTimeoutMs on the model or provider if it legitimately stays silent longer`,
    );
  }

  // One timer at a time: touches only move the deadline, and the timer re-arms for what is left
  // when it fires early. This keeps `touch` cheap on fast streams.
  private arm(delay: number): void {
    this.timer = setTimeout(() => this.check(), Math.min(Math.max(delay, 1), MAX_TIMER_MS));
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.arm(left);
      return;
    }
    this.timedOut = true;
    this.controller.abort();
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
