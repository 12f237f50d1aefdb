/**
 * Merging plain objects as the AI SDK does (a UI message's metadata, a step's provider options).
 *
 * @module
 */
import { isPlainObject } from './check.js';

/** `update` laid over `base`: plain objects member by member, anything else replaced. */
export function mergedObjects(base: unknown, update: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(update)) return update;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(update)) out[key] = mergedObjects(out[key], value);
  return out;
}
