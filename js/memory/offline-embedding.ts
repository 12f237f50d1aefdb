/**
 * A deterministic embedding model that runs offline: texts become hashed bags of words and
 * character trigrams, normalized to unit length. Equal texts give equal vectors and texts sharing
 * words or spellings score higher than unrelated ones, which is enough for tests, demos and the
 * offline example — but it is NOT semantic: "car" and "automobile" are unrelated to it.
 */
import * as c from '../config/check.js';
import { AbortError, ValidationError } from '../errors.js';
import { checkEmbedCall } from '../providers/embeddings.js';
import type { EmbeddingModel, EmbedOptions, EmbedRequest, EmbedResult } from '../providers/types.js';

/** Options of {@link offlineEmbedding}. */
export interface OfflineEmbeddingOptions {
  /** Vector length (default 256). */
  dimensions?: number;
}

/** FNV-1a over UTF-16 code units: cheap, stable across platforms. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The features of a text: its lower-cased words (weight 1) and their character trigrams (weight 0.5). */
function features(text: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    out.push([`w:${word}`, 1]);
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) out.push([`t:${padded.slice(i, i + 3)}`, 0.5]);
  }
  return out;
}

/** Embeds one text into `dimensions` floats (unit length; a text without letters or digits gets a fixed vector). */
export function embedOffline(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const [feature, weight] of features(text)) {
    const h = hash(feature, 0);
    v[h % dimensions] += (hash(feature, 0x9e3779b9) & 1 ? 1 : -1) * weight;
  }
  let norm = Math.hypot(...v);
  if (norm === 0) {
    v[0] = 1; // nothing to hash: one fixed direction, so cosine stays defined
    norm = 1;
  }
  return v.map((x) => x / norm);
}

/**
 * An {@link EmbeddingModel} that needs no network or key: `provider` `offline`, `modelId`
 * `hash-<dimensions>`, usage counted as one token per word. Deterministic, not semantic.
 */
export function offlineEmbedding(options: OfflineEmbeddingOptions = {}): EmbeddingModel {
  c.checkOptions('offlineEmbedding', options, { dimensions: c.anything });
  const dimensions = options.dimensions ?? 256;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 65536)
    throw new ValidationError(`offlineEmbedding: dimensions must be a whole number from 1 to 65536, got ${String(dimensions)}`);
  return {
    provider: 'offline',
    modelId: `hash-${dimensions}`,
    dimensions,
    maxBatchSize: Number.MAX_SAFE_INTEGER,
    // async: a bad call rejects, as a provider's does.
    // eslint-disable-next-line @typescript-eslint/require-await
    async embed(req: EmbedRequest, opts: EmbedOptions = {}): Promise<EmbedResult> {
      checkEmbedCall('offline', req, opts);
      if (opts.signal?.aborted) throw new AbortError();
      const tokens = req.values.reduce((sum, text) => sum + (text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0), 0);
      return { embeddings: req.values.map((text) => embedOffline(text, dimensions)), usage: { tokens } };
    },
  };
}
