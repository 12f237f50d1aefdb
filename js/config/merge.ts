/**
 * `update` laid over `base` as the AI SDK merges metadata and a step's provider options: plain
 * objects member by member, anything else replaced.
 */
import { isPlainObject } from './check.js';

export function mergedObjects(base: unknown, update: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(update)) return update;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(update)) out[key] = mergedObjects(out[key], value);
  return out;
}
