/**
 * The `tokenizer.load` op (PROTOCOL.md §3): the engine asks for a BPE rank file
 * (`dist/tokenizers/<encoding>.bpe`, not part of the .wasm) the first time a count needs it. Each
 * platform entry point says how it reads the file (Node: from disk; browsers: fetch); the engine
 * keeps the parsed encoding, so each file crosses once per engine.
 */
import type { Engine } from '../engine.js';
import { loadFailure } from '../engine-options.js';
import { bytesToBase64 } from '../providers/images.js';

/** Reads the rank file of one encoding. */
export type RankFileReader = (encoding: string) => Promise<Uint8Array>;

/** How a rank file begins (scripts/gen-bpe-ranks.mjs; src/state/bpe.cpp checks all 8 bytes). */
const RANKS_MAGIC = [0x4c, 0x4d, 0x54, 0x42, 0x50, 0x45]; // "LMTBPE"

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

/** The encodings the engine has a splitter for (src/state/pretokenize.hpp). */
const ENCODINGS = ['o200k_base', 'cl100k_base'];

/** Installs the `tokenizer.load` handler on `engine`; `where` names the file in errors. */
export function installTokenizerHost(engine: Engine, read: RankFileReader, where: (encoding: string) => string): void {
  engine.registerOpHandler('tokenizer.load', async (op) => {
    const encoding = String(op.encoding);
    if (!ENCODINGS.includes(encoding)) throw new Error(`tokenizer.load: no rank file for encoding "${encoding}" (known: ${ENCODINGS.join(', ')})`);
    const failure = (why: string, cause?: unknown) =>
      loadFailure(
        `dist/tokenizers/${encoding}.bpe`,
        [where(encoding)],
        why,
        'Exact token counts of OpenAI models need it: copy dist/tokenizers/ next to the package code, or pass its location as createEngine({ tokenizersUrl }) (see docs/bundlers.md)',
        cause,
      );
    let bytes: Uint8Array;
    try {
      bytes = await read(encoding);
    } catch (err) {
      throw failure(err instanceof Error ? err.message : String(err), err);
    }
    // A server's fallback page (HTML) answered for the file: say so, not the parser's "bad magic".
    if (!startsWith(bytes, RANKS_MAGIC)) {
      const head = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\s+/g, ' ').trim();
      throw failure(`what came back is not a rank file (${/^\s*</.test(head) ? 'an HTML page, such as a server\'s fallback page: ' : ''}it starts ${JSON.stringify(head)})`);
    }
    return { data: bytesToBase64(bytes) };
  });
}
