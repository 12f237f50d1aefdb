import { realClock } from './clock.js';

/**
 * `work`, or a rejection with `timedOut()` once `ms` have passed without its answer (the timer is
 * cleared either way). Any length is kept exactly: `setTimeout` alone fires at once past 2³¹−1 ms.
 */
export function withinTime<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: unknown;
  const late = new Promise<never>((_, reject) => (timer = realClock.setTimer(ms, () => reject(timedOut()))));
  return Promise.race([work, late]).finally(() => realClock.clearTimer(timer));
}
