/**
 * @internal
 * A long streamed answer, as its provider returns it, is a rope: V8's string made of the blocks a
 * {@link TextAccumulator} joined, not yet one flat string. Anything that reads its characters
 * (measuring it in UTF-8, encoding it, slicing it) makes V8 copy it into one flat string while the
 * blocks still exist: the whole answer twice at the end of every long call. The engine host and the
 * run's part log ask here for the blocks of such a text and work on them one by one instead
 * (bench/README.md, "Streaming end to end"), so the answer is held once unless its reader asks for
 * it whole.
 *
 * Only the last {@link KEPT} ropes are known, and only until the engine host encodes them or an
 * engine has no run left (a provider used without an engine leaves at most that many here). A
 * string is looked up by `===`, which is quick for the same string and for one of another length;
 * another string of the same length is compared (and so made flat), which happened to it anyway.
 */
const KEPT = 4;
/** Shorter texts are not worth it: copying them costs less than the search. */
const ROPE_MIN_CHARS = 64 * 1024;
const known: { text: string; blocks: readonly string[] }[] = [];

/** Notes that `text` is `blocks` joined (copied: the caller may append more). */
export function noteRope(text: string, blocks: readonly string[]): void {
  if (text.length < ROPE_MIN_CHARS || blocks.length < 2) return;
  // Blocks are encoded one by one: a surrogate pair cut between two would become two U+FFFD.
  for (let i = 0; i < blocks.length - 1; i++) if (isHighSurrogate(blocks[i].charCodeAt(blocks[i].length - 1))) return;
  if (ropeBlocks(text)) return;
  known.push({ text, blocks: [...blocks] });
  if (known.length > KEPT) known.shift();
}

/** The blocks `text` is made of, when it is a rope noted here; undefined otherwise. */
export function ropeBlocks(text: string): readonly string[] | undefined {
  if (text.length < ROPE_MIN_CHARS) return undefined;
  return known.find((entry) => entry.text === text)?.blocks;
}

/** Forgets `text` once it was handed over (the engine has its bytes). */
export function forgetRope(text: string): void {
  const i = known.findIndex((entry) => entry.text === text);
  if (i >= 0) known.splice(i, 1);
}

/** Forgets every rope: what was not handed over by now (an aborted call's answer) is let go. */
export function forgetRopes(): void {
  known.length = 0;
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
