/** `work`, or a rejection with `timedOut()` once `ms` have passed without its answer (the timer is cleared either way). */
export function withinTime<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut()), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
