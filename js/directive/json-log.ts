/**
 * JSON texts kept as UTF-8 bytes outside the JavaScript heap until someone reads them: a run's
 * events that only `.events` could see (bench/README.md, "Parallel fan-out"). Bytes in array
 * buffers do not count towards the heap V8 sizes its next full collection by, where a string per
 * event did.
 */

const CHUNK_BYTES = 64 * 1024;
const decoder = new TextDecoder();

export class JsonLog {
  private readonly chunks: Uint8Array[] = [];
  private current = new Uint8Array(0);
  private used = 0;
  /** Per entry: the chunk's index, the first byte, the byte after the last. */
  private readonly entries: number[] = [];

  /** Copies `json` (which may be a view that is valid only now) and returns the entry's number. */
  append(json: Uint8Array): number {
    if (this.used + json.length > this.current.length) {
      this.current = new Uint8Array(Math.max(CHUNK_BYTES, json.length));
      this.chunks.push(this.current);
      this.used = 0;
    }
    this.current.set(json, this.used);
    this.entries.push(this.chunks.length - 1, this.used, this.used + json.length);
    this.used += json.length;
    return this.entries.length / 3 - 1;
  }

  /** The entry's value, parsed. */
  parse(entry: number): unknown {
    const at = entry * 3;
    const chunk = this.chunks[this.entries[at]];
    return JSON.parse(decoder.decode(chunk.subarray(this.entries[at + 1], this.entries[at + 2])));
  }
}
