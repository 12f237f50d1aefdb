/**
 * The AI SDK's run callbacks on `runPrompt`: `onStepFinish` after each step of the root run,
 * `onFinish` when it succeeds, `onError` when it fails. They sit on the run's one event path
 * (js/run/events.ts) like `onEvent`: the run's result settles after the promises they return, and
 * a callback that throws or rejects is reported as an `error` event (source `handler`), never as
 * the run's failure. The next step waits for `onStepFinish`, as in the AI SDK.
 *
 * @module
 */
import type { FinishReason, Usage } from '../providers/types.js';
import type { RunEvent, RunEvents, RunFinishEvent } from '../run/events.js';
import type { ResponseInfo, StepResult } from './result.js';

/** What `onFinish` receives: what the run's result resolves with. */
export interface PromptFinish<OBJECT = never> {
  /** The final answer's text (`result.text`). */
  text: string;
  /** Every step of the run (`result.steps`). */
  steps: StepResult[];
  /** The tokens of the whole run (`result.usage`). */
  usage: Usage;
  /** The AI SDK's name for the whole run's tokens (`result.totalUsage`): the same as `usage`. */
  totalUsage: Usage;
  /** The last step's tool calls (`result.toolCalls`). */
  toolCalls: StepResult['toolCalls'];
  /** The last step's tool results (`result.toolResults`). */
  toolResults: StepResult['toolResults'];
  finishReason: FinishReason;
  /** The whole conversation at the end, and the model that answered last (`result.response`). */
  response: ResponseInfo;
  /** The validated answer, when the run has a `responseSchema` (`result.object`). */
  object?: OBJECT;
}

/** The AI SDK-style callbacks of a `runPrompt` config. */
export interface PromptCallbacks<OBJECT = never> {
  /** Called after each step of the run (not its sub-agents'), with the step as `result.steps` holds it. */
  onStepFinish?(this: void, step: StepResult): void | PromiseLike<void>;
  /** Called once when the run succeeds, before its result settles. */
  // Method syntax: a config typed by its schema stays assignable to the untyped one.
  onFinish?(this: void, finish: PromptFinish<OBJECT>): void | PromiseLike<void>;
  /**
   * Called once when the run fails, before its result rejects with the same error; a run cancelled
   * through its `abortSignal` calls `onAbort` instead, when there is one.
   */
  onError?(this: void, event: { error: unknown }): void | PromiseLike<void>;
  /**
   * Called once when the run is cancelled through its `abortSignal`, with the steps that finished
   * before and the signal's `reason` (as the AI SDK 7's; a stream transform's `stopStream` gives its own).
   */
  onAbort?(this: void, event: { steps: StepResult[]; reason?: unknown }): void | PromiseLike<void>;
}

/**
 * The engine callback behind `onStepFinish` (the `step_finish` step seam awaits it before the next
 * step): it calls the user's callback with the step on the run's event path, and resolves once
 * that has settled, a failure having been reported there.
 */
export function stepFinishCallback(events: RunEvents, onStepFinish: NonNullable<PromptCallbacks['onStepFinish']>, after?: () => Promise<unknown>): (step: StepResult) => Promise<void> {
  return async (step) => {
    await after?.(); // the step's chunks are reported first (onChunk), as the AI SDK orders them
    const event = { type: 'step-finish', path: ['root'], ...step } as RunEvent;
    return events.call('onStepFinish', event, () => onStepFinish(step));
  };
}

/**
 * Calls `onFinish`, `onError` or `onAbort` on the run's event path, as if on its `run-finish`: the result's
 * settling waits for it there, and its failure is reported as a handler's.
 */
export function callFinishCallback<A>(events: RunEvents, name: 'onFinish' | 'onError' | 'onAbort', callback: ((arg: A) => unknown) | undefined, arg: A): void {
  if (!callback) return;
  const finish = { type: 'run-finish', path: ['root'] } as Partial<RunFinishEvent> as RunEvent;
  void events.call(name, finish, () => callback(arg)); // the run's drain waits for it
}
