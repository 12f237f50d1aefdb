// Self-checking values for the kill -9 tests: a reader can tell a value that some writer wrote
// whole from anything else.

/** Deterministic pseudo-random text (xorshift), so a value can be recomputed from (seed, seq). */
function text(seed, seq, length) {
  let x = (seed * 2654435761 + seq * 40503 + 1) >>> 0 || 1;
  let out = '';
  while (out.length < length) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(36);
  }
  return out.slice(0, length);
}

/** The value a hammering writer saves as its `seq`-th write: 50–250 KB. */
export function hammerValue(seed, seq) {
  const length = 50_000 + ((seq * 7919) % 200_000);
  return { seed, seq, length, body: text(seed, seq, length) };
}

/** Whether `value` is exactly what some hammering writer with `seed` wrote. */
export function isHammerValue(value, seed) {
  if (typeof value !== 'object' || value === null || value.seed !== seed || !Number.isInteger(value.seq)) return false;
  const expected = hammerValue(seed, value.seq);
  return value.length === expected.length && value.body === expected.body;
}
