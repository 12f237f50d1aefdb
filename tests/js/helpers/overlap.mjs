// Concurrency checks that hold on a loaded machine: count how many calls are in flight at once
// instead of timing them. Each call waits at a barrier until `expected` calls have arrived (or
// `patienceMs` passed), so calls that really run concurrently all meet there, and calls that run one
// after another show up as a maximum of 1 instead of as a slow test.

/** A barrier that counts overlapping calls; `wrap(fn)` returns fn made to wait at the barrier. */
export function overlapCounter(expected, patienceMs = 10_000) {
  let inFlight = 0;
  let maxInFlight = 0;
  const waiting = [];
  const release = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  const counter = {
    get maxInFlight() {
      return maxInFlight;
    },
    /** Runs `work` as one call: counted while in flight, started once `expected` calls are in. */
    async run(work) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (inFlight >= expected) release();
        else {
          let timer;
          await new Promise((resolve) => {
            waiting.push(resolve);
            timer = setTimeout(resolve, patienceMs);
          });
          clearTimeout(timer);
        }
        return await work();
      } finally {
        inFlight--;
      }
    },
  };
  return counter;
}

/** `model` whose `generate` calls are counted by `counter`. */
export function countedModel(model, counter) {
  return new Proxy(model, {
    get(target, key, receiver) {
      if (key !== 'generate') return Reflect.get(target, key, receiver);
      return (req, opts) => counter.run(() => target.generate(req, opts));
    },
  });
}
