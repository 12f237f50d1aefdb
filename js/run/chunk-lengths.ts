/**
 * @internal
 * How a model call's text was streamed: the lengths of its deltas, which a durable run's journal
 * keeps so that a replay streams the same chunks (js/run/host.ts). Written as one string, a run of
 * equal lengths once ("64*1200,12,7"): as an array of numbers, a 50 MB answer in 4-character
 * deltas would be 12 million JSON numbers crossing into the engine.
 */
import { TextAccumulator } from '../providers/text-accumulator.js';

/**
 * Records the lengths as deltas stream, already encoded: a stream of millions of deltas is not
 * also an array of millions of numbers while it lasts.
 */
export class ChunkLengthRecorder {
  private readonly entries = new TextAccumulator();
  private last = 0;
  private count = 0;
  /** How many lengths were added. */
  size = 0;

  add(length: number): void {
    this.size++;
    if (length === this.last) {
      this.count++;
      return;
    }
    this.flush();
    this.last = length;
    this.count = 1;
  }

  /** The lengths so far as "L" or "L*count" entries joined by commas. */
  encoded(): string {
    this.flush();
    return this.entries.text.slice(1);
  }

  private flush(): void {
    if (this.count > 0) this.entries.append(this.count > 1 ? `,${this.last}*${this.count}` : `,${this.last}`);
    this.count = 0;
  }
}

/** `lengths` as {@link ChunkLengthRecorder} writes them. */
export function encodeChunkLengths(lengths: readonly number[]): string {
  const recorder = new ChunkLengthRecorder();
  for (const length of lengths) recorder.add(length);
  return recorder.encoded();
}

/**
 * The lengths `recorded` names: a string of {@link encodeChunkLengths}, or the array of numbers
 * journals written before it hold. Undefined for anything else (the text then streams whole), and,
 * given `total`, for lengths that do not add up to it: decoding stops as soon as they pass it, so a
 * damaged journal's "1*9007199254740991" costs nothing.
 */
export function decodeChunkLengths(recorded: unknown, total = Number.MAX_SAFE_INTEGER): number[] | undefined {
  let entries: Array<[number, number]>;
  if (Array.isArray(recorded)) entries = recorded.map((n): [number, number] => [n as number, 1]);
  else if (typeof recorded === 'string' && recorded !== '') entries = recorded.split(',').map((entry) => entry.split('*').map(Number) as [number, number]);
  else return undefined;
  const lengths: number[] = [];
  let sum = 0;
  for (const [length, count = 1] of entries) {
    if (!Number.isSafeInteger(length) || length <= 0 || !Number.isSafeInteger(count) || count <= 0) return undefined;
    if (sum + length * count > total) return undefined;
    sum += length * count;
    for (let i = 0; i < count; i++) lengths.push(length);
  }
  return total === Number.MAX_SAFE_INTEGER || sum === total ? lengths : undefined;
}
