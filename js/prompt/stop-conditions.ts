/**
 * `stopWhen` conditions, as the AI SDK writes them: a condition gets the step that just finished,
 * with `steps` (every step so far, that one last), so both `(step) => …` and the AI SDK's
 * `({ steps }) => …` read what they need; a list stops the run when any of them is met.
 *
 * @module
 */
import { describe } from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { StepResult } from './result.js';

/** What a `stopWhen` condition gets: the step that just finished, and every step so far. */
export interface StopConditionInput extends StepResult {
  /** Every finished step of the run, in order, the one that just finished last. */
  steps: StepResult[];
}

/** A `stopWhen` condition: true ends the run after this step. */
export type StopCondition = (step: StopConditionInput) => boolean | PromiseLike<boolean>;

/** Met once the run has made `count` steps (the AI SDK's `isStepCount`). */
export function isStepCount(count: number): StopCondition {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`isStepCount: expected an integer >= 1, got ${describe(count)}`);
  return ({ steps }) => steps.length === count;
}

/** The AI SDK's older name of {@link isStepCount}. */
export const stepCountIs = isStepCount;

/** Never met: the run goes on until the model answers without tool calls or `maxSteps` (the AI SDK's `isLoopFinished`). */
export function isLoopFinished(): StopCondition {
  return () => false;
}

/** Met once the last step called one of the tools `toolNames` (the AI SDK's `hasToolCall`). */
export function hasToolCall(...toolNames: string[]): StopCondition {
  if (toolNames.length === 0) throw new ConfigError('hasToolCall: expected one tool name or more, got none');
  for (const name of toolNames) if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`hasToolCall: expected tool names, got ${describe(name)}`);
  return ({ steps }) => steps[steps.length - 1]?.toolCalls.some((call) => toolNames.includes(call.toolName)) ?? false;
}

/** Whether any of `conditions` is met for `step`, given the steps finished before it. */
export async function anyConditionMet(conditions: readonly StopCondition[], step: StepResult, before: readonly StepResult[]): Promise<boolean> {
  const input: StopConditionInput = { ...step, steps: [...before, step] };
  for (const condition of conditions) if (await condition(input)) return true;
  return false;
}
