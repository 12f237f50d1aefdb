// An embedding model for memory tests: the offline embedder, recording every text it embeds.
import { offlineEmbedding } from '../../../dist/node.js';

/** Wraps `offlineEmbedding({dimensions})`; `.seen` lists the embedded texts; call number `failOn` (from 0) rejects. */
export function countingEmbedder(dimensions = 64, failOn = -1) {
  const inner = offlineEmbedding({ dimensions });
  const seen = [];
  let calls = 0;
  return {
    provider: 'offline',
    modelId: inner.modelId,
    maxBatchSize: inner.maxBatchSize,
    seen,
    embed(req, opts) {
      if (calls++ === failOn) return Promise.reject(new Error('embedder down'));
      seen.push(...req.values);
      return inner.embed(req, opts);
    },
  };
}
