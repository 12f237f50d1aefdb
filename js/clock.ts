/**
 * Time for the engine: the host clock it reads from every inbox batch, and the timers behind its
 * `timer.sleep` ops. `realClock` is wall time. `VirtualClock` is for tests: time stands still while
 * anything else is happening, and when nothing else can happen, it jumps to the next timer, so a
 * 41-second Retry-After or a minute of backoff completes at once (in order) without waiting.
 */
import { describe } from './config/check.js';
import { ConfigError } from './errors.js';

/** A clock and timers; the engine's only source of time. */
export interface HostClock {
  /** Epoch-like milliseconds that never go backwards. */
  now(): number;
  /** Calls `fire` after `ms`; returns a handle for {@link HostClock.clearTimer}. */
  setTimer(ms: number, fire: () => void): unknown;
  clearTimer(handle: unknown): void;
  /** Told by the engine whenever its activity changes, so a virtual clock can move on. */
  poke?(): void;
  /** Given by the engine that owns the clock: whether nothing but timers is in progress. */
  watchIdle?(isIdle: () => boolean): void;
}

/**
 * The longest delay one `setTimeout` can wait: hosts store it in 32 bits and fire longer ones at
 * once. Longer timers are chained from pieces of at most this length.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A chained timer: the handle of the piece now waiting. */
interface ChainedTimer {
  handle: ReturnType<typeof setTimeout> | undefined;
}

/** Calls `fire` after `ms` (any length, even beyond {@link MAX_TIMEOUT_MS}); `Infinity` never fires. */
function setLongTimeout(ms: number, fire: () => void): ChainedTimer {
  const timer: ChainedTimer = { handle: undefined };
  const deadline = performance.now() + Math.max(0, Number.isNaN(ms) ? 0 : ms);
  const arm = (): void => {
    const left = deadline - performance.now();
    if (left > MAX_TIMEOUT_MS) timer.handle = setTimeout(arm, MAX_TIMEOUT_MS);
    else timer.handle = setTimeout(fire, Math.max(0, left));
  };
  if (deadline !== Infinity) arm();
  return timer;
}

/** Wall time: `performance` for the clock, `setTimeout` (chained past 2³¹−1 ms) for timers. */
export const realClock: HostClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (ms, fire) => setLongTimeout(ms, fire),
  clearTimer: (handle) => clearTimeout((handle as ChainedTimer).handle),
};

interface VirtualTimer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * Virtual time. Timers fire in deadline order (then in the order they were set), each only when
 * `isIdle()` says nothing else is in progress, after one macrotask turn so that promise chains
 * settle first. Time advances to the timer's deadline as it fires.
 */
export class VirtualClock implements HostClock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, VirtualTimer>();
  private tickScheduled = false;
  private isIdle: () => boolean = () => true;

  constructor(startMs = 0) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) throw new ConfigError(`VirtualClock: the start time must be a finite number of milliseconds, got ${describe(startMs)}`);
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  watchIdle(isIdle: () => boolean): void {
    this.isIdle = isIdle;
  }

  setTimer(ms: number, fire: () => void): number {
    // Checked here, not when the timer fires: a bad timer would throw from the clock's own tick.
    if (typeof fire !== 'function') throw new ConfigError(`VirtualClock.setTimer: expected a function to call, got ${describe(fire)}`);
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new ConfigError(`VirtualClock.setTimer: expected a number of milliseconds, got ${describe(ms)}`);
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.current + Math.max(0, ms), seq, fire });
    this.poke();
    return seq;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  poke(): void {
    if (this.tickScheduled || this.timers.size === 0) return;
    this.tickScheduled = true;
    setTimeout(() => {
      this.tickScheduled = false;
      this.tick();
    }, 0);
  }

  private tick(): void {
    if (this.timers.size === 0 || !this.isIdle()) return;
    let next: VirtualTimer | undefined;
    for (const timer of this.timers.values()) if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
    this.timers.delete(next!.seq);
    this.current = Math.max(this.current, next!.at);
    next!.fire();
    this.poke();
  }
}
