import { sharedBlock } from './shared-blocks.js';
import { noteRope } from './text-ropes.js';

/**
 * @internal
 * Text that arrives in many small pieces: a stream's deltas. Appending each piece with `+=` would
 * keep, until the text is read whole, a string node and a string header per piece (V8's rope):
 * about 1.7 times the text for 64-character deltas and 8 times for 4-character ones. Joined every
 * {@link PIECES_PER_BLOCK} pieces, the text costs about its own size.
 */
const PIECES_PER_BLOCK = 1024;

export class TextAccumulator {
  private joined = '';
  private readonly blocks: string[] = [];
  private pieces: string[] = [];

  append(piece: string): void {
    if (piece === '') return;
    this.pieces.push(piece);
    if (this.pieces.length >= PIECES_PER_BLOCK) this.seal();
  }

  /** Whether nothing has been appended yet (without joining anything). */
  get empty(): boolean {
    return this.joined === '' && this.pieces.length === 0;
  }

  /** The text so far: a rope of its blocks, which text-ropes.ts knows. */
  get text(): string {
    if (this.pieces.length > 0) this.seal();
    noteRope(this.joined, this.blocks);
    return this.joined;
  }

  private seal(): void {
    const block = sharedBlock(this.pieces.join(''));
    this.blocks.push(block);
    this.joined += block;
    this.pieces = [];
  }
}
