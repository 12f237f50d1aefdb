/**
 * @internal
 * A long streamed answer is joined into blocks twice: by its provider (a {@link TextAccumulator},
 * for the whole text the engine gets) and by the run's part log (for readers of the stream). Both
 * join the same deltas 1,024 at a time, so their blocks are equal strings. The second to join a block
 * takes the first's string here and lets its own go, so during the stream the answer is held once,
 * not twice (bench/README.md, "Streaming end to end").
 *
 * Blocks nobody matched (a custom model's, a provider's reasoning cut differently) stay here only
 * until {@link KEPT} newer ones push them out; huge ones are never kept.
 */
const KEPT = 4;
const MIN_CHARS = 1024;
const MAX_CHARS = 1 << 20;
const recent: string[] = [];

/** `block`, or an equal string joined a moment ago by the other side of the stream. */
export function sharedBlock(block: string): string {
  if (block.length < MIN_CHARS || block.length > MAX_CHARS) return block;
  for (let i = 0; i < recent.length; i++) {
    const seen = recent[i];
    if (seen.length === block.length && seen === block) {
      recent.splice(i, 1); // both sides have it now
      return seen;
    }
  }
  recent.push(block);
  if (recent.length > KEPT) recent.shift();
  return block;
}
