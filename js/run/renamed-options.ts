/**
 * Options the AI SDK 7 renamed: a config may use either name of each (not both), so code written
 * for either version reads the same. The rest of lmthing reads the older names.
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/** New name → the name lmthing reads. */
export type Renames = Readonly<Record<string, string>>;

/** runPrompt's: `instructions` (was `system`), `onStepEnd` (was `onStepFinish`), `onEnd` (was `onFinish`). */
export const PROMPT_RENAMES: Renames = { instructions: 'system', onStepEnd: 'onStepFinish', onEnd: 'onFinish' };
/** run()'s: `onStepEnd` (was `onStepFinish`). */
export const RUN_RENAMES: Renames = { onStepEnd: 'onStepFinish' };

/** `config` with each new name given moved to its older one; a config giving both is a `ConfigError`. */
export function underOlderNames<T>(where: string, config: T, renames: Renames): T {
  if (typeof config !== 'object' || config === null) return config;
  let out = config as Record<string, unknown>;
  for (const [newer, older] of Object.entries(renames)) {
    if (out[newer] === undefined) continue;
    if (out[older] !== undefined) throw new ConfigError(`${where}: give '${newer}' or '${older}' (its older name), not both`);
    const { [newer]: value, ...rest } = out;
    out = { ...rest, [older]: value };
  }
  return out as T;
}
