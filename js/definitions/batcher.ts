/**
 * `defBatcher` as a definition kind (docs/orchestration.md): the engine groups the items concurrent
 * `ctx.batch` callers add, up to `maxSize` or `maxWait` ms of engine time, and calls the
 * `processor` (an engine callback) once per batch.
 */
import * as c from '../config/check.js';
import type { DefinitionKind } from './kind.js';

/** Options of `defBatcher`. */
export interface BatcherConfig<Item = unknown, Result = unknown> {
  /** Items per batch, at most (default 100): a full batch goes to the processor at once. */
  maxSize?: number;
  /** How long the first item of a batch waits for more, ms of engine time (default 10). */
  maxWait?: number;
  /** Processes one batch: gets the items in arrival order and returns one (JSON) result per item, in the same order. */
  processor: (items: Item[]) => Result[] | Promise<Result[]>;
}

const configShape: c.Shape = { maxSize: c.integer(1, 1000000), maxWait: c.ms({ zero: true }), processor: c.func };

export const batcherKind: DefinitionKind<BatcherConfig> = {
  kind: 'batcher',
  noun: 'batcher',
  method: 'defBatcher',
  check(where, config) {
    if (!c.isPlainObject(config)) c.fail(where, `expected a config {maxSize?, maxWait?, processor}, got ${c.describe(config)}`);
    c.checkOptions(where, config, configShape);
    if (typeof config.processor !== 'function') c.fail(where, "'processor' is required (a function of the batch's items)");
    return { ...config };
  },
  wire(config, marshal) {
    const processor = config.processor;
    const out: Record<string, unknown> = {
      processor: marshal.callback('batcher processor', async (items: unknown[]) => {
        const results = await processor(items);
        return results === undefined ? null : results;
      }),
    };
    if (config.maxSize !== undefined) out.maxSize = config.maxSize;
    if (config.maxWait !== undefined) out.maxWait = config.maxWait;
    return out;
  },
};
