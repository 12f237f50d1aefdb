/**
 * @internal
 * How a model call's text was streamed: the lengths of its deltas, which a durable run's journal
 * keeps so that a replay streams the same chunks (js/run/host.ts). Written as one string, a run of
 * equal lengths once ("64*1200,12,7"): as an array of numbers, a 50 MB answer in 4-character
 * deltas would be 12 million JSON numbers crossing into the engine.
 */

/** `lengths` as "L" or "L*count" entries joined by commas. */
export function encodeChunkLengths(lengths: readonly number[]): string {
  const entries: string[] = [];
  for (let i = 0; i < lengths.length; ) {
    let end = i + 1;
    while (end < lengths.length && lengths[end] === lengths[i]) end++;
    entries.push(end - i > 1 ? `${lengths[i]}*${end - i}` : `${lengths[i]}`);
    i = end;
  }
  return entries.join(',');
}

/**
 * The lengths `recorded` names: a string of {@link encodeChunkLengths}, or the array of numbers
 * journals written before it hold. Undefined for anything else (the text then streams whole).
 */
export function decodeChunkLengths(recorded: unknown): number[] | undefined {
  if (Array.isArray(recorded)) return recorded.every((n) => Number.isSafeInteger(n) && n > 0) ? (recorded as number[]) : undefined;
  if (typeof recorded !== 'string' || recorded === '') return undefined;
  const lengths: number[] = [];
  for (const entry of recorded.split(',')) {
    const [length, count = 1] = entry.split('*').map(Number);
    if (!Number.isSafeInteger(length) || length <= 0 || !Number.isSafeInteger(count) || count <= 0) return undefined;
    for (let i = 0; i < count; i++) lengths.push(length);
  }
  return lengths;
}
