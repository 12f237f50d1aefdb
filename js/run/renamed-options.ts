/**
 * Options the AI SDK 7 renamed: a config may use either name of each (not both), so code written
 * for either version reads the same. The rest of lmthing reads one name of each (the older one,
 * except for the tool execution and start callbacks, which had only an experimental name before).
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/** A name a config may use → the name lmthing reads (the other name of the same option). */
export type Renames = Readonly<Record<string, string>>;

/** The tool execution callbacks' older names, which the AI SDK 7 still takes (here the newer is the one read). */
const TOOL_EXECUTION_RENAMES: Renames = { experimental_onToolCallStart: 'onToolExecutionStart', experimental_onToolCallFinish: 'onToolExecutionEnd' };
/** `onStart` / `onStepStart`'s and the AI SDK 5/6's experimental names (the newer is the one read). */
const EXPERIMENTAL_RENAMES: Renames = { experimental_onStart: 'onStart', experimental_onStepStart: 'onStepStart', experimental_repairToolCall: 'repairToolCall' };
/** runPrompt's: `instructions` (was `system`), `onStepEnd` (was `onStepFinish`), `onEnd` (was `onFinish`), the AI SDK 5's `experimental_output` (now `output`). */
export const PROMPT_RENAMES: Renames = { instructions: 'system', onStepEnd: 'onStepFinish', onEnd: 'onFinish', experimental_output: 'output', telemetry: 'experimental_telemetry', experimental_toolApprovalSecret: 'approvalSecret', ...TOOL_EXECUTION_RENAMES, ...EXPERIMENTAL_RENAMES };
/** A step hook's result: the AI SDK 7's `instructions` (was `system`). */
export const STEP_RENAMES: Renames = { instructions: 'system' };
/** run()'s: `onStepEnd` (was `onStepFinish`). */
export const RUN_RENAMES: Renames = { onStepEnd: 'onStepFinish', ...TOOL_EXECUTION_RENAMES, ...EXPERIMENTAL_RENAMES };

/** `config` with each new name given moved to its older one; a config giving both is a `ConfigError`. */
export function underOlderNames<T>(where: string, config: T, renames: Renames): T {
  if (typeof config !== 'object' || config === null) return config;
  let out = config as Record<string, unknown>;
  for (const [newer, older] of Object.entries(renames)) {
    if (out[newer] === undefined) continue;
    if (out[older] !== undefined) throw new ConfigError(`${where}: give '${newer}' or '${older}' (two names of one option), not both`);
    const { [newer]: value, ...rest } = out;
    out = { ...rest, [older]: value };
  }
  return out as T;
}
