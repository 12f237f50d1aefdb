/**
 * The stream parts of one run, kept from the first so that every reader (even one that starts after
 * the run ended) sees all of them. Text and reasoning deltas, the bulk of a long answer, are kept
 * compactly: consecutive deltas of one kind and step are joined into one string per block, with
 * their end offsets, so a 50 MB answer costs about its own size instead of an object and a string
 * per delta (≈ 130 bytes per 64-byte delta; bench/README.md, "Streaming end to end").
 */

import { sharedBlock } from '../providers/shared-blocks.js';
import { ropeBlocks } from '../providers/text-ropes.js';

/** A streamed text or reasoning delta, as `fullStream` gives it. */
export interface DeltaPart {
  type: 'text-delta' | 'reasoning-delta';
  text: string;
  stepNumber: number;
}

/** Deltas per block: a block is joined once it has this many, so an open block stays small. */
const BLOCK_DELTAS = 1024;
/** Texts shorter than this are not worth sharing (the search for their blocks costs more). */
const SHARE_MIN_CHARS = 64 * 1024;

/** Consecutive deltas of one kind and step: open (the strings as they came) or sealed (joined). */
class DeltaBlock {
  /** Open: the deltas as they came. Sealed: undefined. */
  private open: string[] | undefined = [];
  /** Sealed: all the deltas joined, and where each one ends in it. */
  private joined = '';
  private ends: Uint32Array | undefined;
  /** Viewed: the block's text is `whole` from `at` on, read only when asked for (see `view`). */
  private whole: string | undefined;
  private at = 0;

  constructor(
    readonly type: DeltaPart['type'],
    readonly stepNumber: number,
  ) {}

  get size(): number {
    return this.open ? this.open.length : this.ends!.length;
  }

  /** Adds a delta to an open block that has room for it; false when it belongs in another block. */
  add(part: DeltaPart): boolean {
    if (!this.open || this.open.length >= BLOCK_DELTAS || part.type !== this.type || part.stepNumber !== this.stepNumber) return false;
    this.open.push(part.text);
    return true;
  }

  seal(): void {
    if (!this.open) return;
    const ends = new Uint32Array(this.open.length);
    let at = 0;
    this.open.forEach((text, i) => (ends[i] = at += text.length));
    this.joined = sharedBlock(this.open.join(''));
    this.ends = ends;
    this.open = undefined;
  }

  /** The block's text, all its deltas joined (sealing it). */
  text(): string {
    this.seal();
    return this.whole === undefined ? this.joined : this.whole.slice(this.at, this.at + this.ends![this.ends!.length - 1]);
  }

  /** Holds `same` (a string equal to the block's text) instead of the block's own copy. */
  share(same: string): void {
    this.seal();
    this.joined = same;
  }

  /**
   * Lets go of the block's own text, which is `whole` from `at` on: `whole` is a provider's rope
   * (text-ropes.ts), made of this very block among others. Reading the block then slices `whole`,
   * which V8 makes flat on the first read, after which the blocks it was made of can go.
   */
  view(whole: string, at: number): void {
    this.seal();
    this.whole = whole;
    this.at = at;
    this.joined = '';
  }

  /** Delta `i` of the block (`i < size`). */
  part(i: number): DeltaPart {
    let text: string;
    if (this.open) text = this.open[i];
    else {
      const start = i === 0 ? 0 : this.ends![i - 1];
      text = this.whole === undefined ? this.joined.slice(start, this.ends![i]) : this.whole.slice(this.at + start, this.at + this.ends![i]);
    }
    return { type: this.type, text, stepNumber: this.stepNumber };
  }
}

const isDelta = (part: { type: string }): part is DeltaPart => part.type === 'text-delta' || part.type === 'reasoning-delta';

/** An append-only log of parts that any number of readers walk from the start. */
export class PartLog<P extends { type: string }> {
  private readonly entries: Array<P | DeltaBlock> = [];

  append(part: P): void {
    const last = this.entries[this.entries.length - 1];
    if (last instanceof DeltaBlock) {
      if (isDelta(part) && last.add(part)) return;
      last.seal();
    }
    if (!isDelta(part)) {
      this.entries.push(part);
      return;
    }
    const block = new DeltaBlock(part.type, part.stepNumber);
    block.add(part);
    this.entries.push(block);
  }

  /**
   * Lets the blocks of step `stepNumber`'s deltas of `type` hold views of `whole`, the text they add
   * up to (the model's answer, which the run keeps anyway), instead of a copy of it: a slice of a
   * string is a view in V8. Nothing changes unless those blocks add up to exactly `whole` (a retried
   * call streamed more than its answer, say), or for a text too short to matter.
   */
  share(type: DeltaPart['type'], stepNumber: number, whole: string): void {
    if (whole.length < SHARE_MIN_CHARS) return;
    const blocks = this.entries.filter((e): e is DeltaBlock => e instanceof DeltaBlock && e.type === type && e.stepNumber === stepNumber);
    // A provider's rope made of blocks equal to this log's (text-ropes.ts): comparing or slicing
    // `whole` now would make V8 copy it flat while the blocks still exist, the answer twice. Each
    // block becomes a view of it instead, once the readers that keep up with the stream have read
    // the last deltas (a macrotask later): a reader that comes later slices it, and only then is
    // it made flat, after which the blocks can go.
    const pieces = ropeBlocks(whole);
    if (pieces && pieces.length === blocks.length && blocks.every((block, i) => block.text() === pieces[i])) {
      setTimeout(() => {
        let at = 0;
        for (const [i, block] of blocks.entries()) {
          block.view(whole, at);
          at += pieces[i].length;
        }
      }, 0);
      return;
    }
    let at = 0;
    for (const block of blocks) {
      const text = block.text();
      if (!whole.startsWith(text, at)) return;
      at += text.length;
    }
    if (at !== whole.length) return;
    at = 0;
    for (const block of blocks) {
      const length = block.text().length;
      block.share(whole.slice(at, at + length));
      at += length;
    }
  }

  /**
   * Every part from the first: yields what the log has, then calls `more()` and goes on until it
   * returns false (the log is complete).
   */
  async *read(more: () => Promise<boolean>): AsyncGenerator<P, void, undefined> {
    const cursor = { entry: 0, within: 0 };
    for (;;) {
      const part = this.next(cursor);
      if (part !== undefined) yield part;
      else if (!(await more())) return;
    }
  }

  /**
   * The same parts in batches of what the log has at once (at most `max` each): a reader that
   * writes to a socket makes one write per burst of deltas instead of one per delta.
   */
  async *readBatches(more: () => Promise<boolean>, max = BLOCK_DELTAS): AsyncGenerator<P[], void, undefined> {
    const cursor = { entry: 0, within: 0 };
    for (;;) {
      const batch: P[] = [];
      for (let part; batch.length < max && (part = this.next(cursor)) !== undefined; ) batch.push(part);
      if (batch.length > 0) yield batch;
      else if (!(await more())) return;
    }
  }

  /** The part at `cursor`, advancing it; undefined when the reader has all the log has for now. */
  private next(cursor: { entry: number; within: number }): P | undefined {
    for (;;) {
      const at = this.entries[cursor.entry];
      if (at === undefined) return undefined;
      if (!(at instanceof DeltaBlock)) {
        cursor.entry++;
        return at;
      }
      if (cursor.within < at.size) return at.part(cursor.within++) as unknown as P;
      // Only the last block is still open; a block with an entry after it is complete.
      if (cursor.entry === this.entries.length - 1) return undefined;
      cursor.entry++;
      cursor.within = 0;
    }
  }
}

/**
 * A {@link PartLog} its readers follow live: each reader gets every part from the first, then waits
 * for the next one until the feed is closed.
 */
export class PartFeed<P extends { type: string }> {
  private readonly log = new PartLog<P>();
  private closed = false;
  private wake: Array<() => void> = [];

  /** Appends a part and wakes the readers (nothing after the feed closed). */
  push(part: P): void {
    if (this.closed) return;
    this.log.append(part);
    this.notify();
  }

  /** No part will come: readers end once they have all of them. */
  close(): void {
    this.closed = true;
    this.notify();
  }

  /** See {@link PartLog.share}. */
  share(type: DeltaPart['type'], stepNumber: number, whole: string): void {
    this.log.share(type, stepNumber, whole);
  }

  /** One reader: every part from the first. */
  read(): AsyncGenerator<P, void, undefined> {
    return this.log.read(() => this.more());
  }

  /** One reader, in batches of what the feed has at once. */
  readBatches(): AsyncGenerator<P[], void, undefined> {
    return this.log.readBatches(() => this.more());
  }

  /** Waits for the next part; false when the feed is closed (no part will come). */
  private async more(): Promise<boolean> {
    if (this.closed) return false;
    await new Promise<void>((resolve) => this.wake.push(resolve));
    return true;
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}
