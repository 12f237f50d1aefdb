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

/** The encodings the engine has a splitter for (src/state/pretokenize.hpp). */
const ENCODINGS = ['o200k_base', 'cl100k_base'];

/** Installs the `tokenizer.load` handler on `engine`; `where` names the file in errors. */
export function installTokenizerHost(engine: Engine, read: RankFileReader, where: (encoding: string) => string): void {
  engine.registerOpHandler('tokenizer.load', async (op) => {
    const encoding = String(op.encoding);
    if (!ENCODINGS.includes(encoding)) throw new Error(`tokenizer.load: no rank file for encoding "${encoding}" (known: ${ENCODINGS.join(', ')})`);
    let bytes: Uint8Array;
    try {
      bytes = await read(encoding);
    } catch (err) {
      throw loadFailure(
        `dist/tokenizers/${encoding}.bpe`,
        [where(encoding)],
        err instanceof Error ? err.message : String(err),
        'Exact token counts of OpenAI models need it: copy dist/tokenizers/ next to the package code, or pass its location as createEngine({ tokenizersUrl }) (see docs/bundlers.md)',
        err,
      );
    }
    return { data: bytesToBase64(bytes) };
  });
}
