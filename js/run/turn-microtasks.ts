/**
 * The work one engine turn hands to JS (each op it starts, each event it emits) runs after the turn,
 * in a microtask, never inside the wasm -> JS call. Node's `queueMicrotask` makes an AsyncResource
 * and a bound function per call, ≈ 25,000 of them in a 1,000-branch fan-out; this queues one
 * microtask per turn and runs the turn's work from it, in the order it was queued.
 *
 * The order against other microtasks is the same as one `queueMicrotask` per item: a turn is
 * synchronous, so nothing else is queued between its items, and the batch is closed when the turn
 * ends, so work queued later goes into a batch of its own.
 */
export class TurnMicrotasks {
  private batch: (() => void)[] | null = null;

  /** Runs `fn` in a microtask, after what this turn queued before it. */
  add(fn: () => void): void {
    if (this.batch === null) {
      const batch: (() => void)[] = (this.batch = []);
      queueMicrotask(() => {
        if (this.batch === batch) this.batch = null;
        runAll(batch);
      });
    }
    this.batch.push(fn);
  }

  /** The turn ended: what is queued from now on waits behind the microtasks queued meanwhile. */
  close(): void {
    this.batch = null;
  }
}

/** Runs each function; one that throws is reported as an uncaught error, as its own microtask would be. */
function runAll(batch: readonly (() => void)[]): void {
  for (const fn of batch) {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
