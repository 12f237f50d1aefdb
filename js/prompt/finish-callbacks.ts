/**
 * The AI SDK's run callbacks on `runPrompt`: `onStepFinish` after each step of the root run,
 * `onFinish` when it succeeds, `onError` when it fails. They sit on the run's one event path
 * (js/run/events.ts) like `onEvent`: not awaited between steps, but the run's result settles after
 * the promises they return, and a callback that throws or rejects is reported as an `error` event
 * (source `handler`), never as the run's failure.
 *
 * @module
 */
import type { FinishReason, Message, Usage } from '../providers/types.js';
import type { EventListener, RunEvent, RunEvents, RunFinishEvent } from '../run/events.js';
import type { StepResult } from './result.js';

/** What `onFinish` receives: what the run's result resolves with. */
export interface PromptFinish<OBJECT = never> {
  /** The final answer's text (`result.text`). */
  text: string;
  /** Every step of the run (`result.steps`). */
  steps: StepResult[];
  /** The tokens of the whole run (`result.usage`). */
  usage: Usage;
  finishReason: FinishReason;
  /** The whole conversation at the end (`result.response`). */
  response: { messages: Message[] };
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
  /** Called once when the run fails, before its result rejects with the same error. */
  onError?(this: void, event: { error: unknown }): void | PromiseLike<void>;
}

/** The listener that calls `onStepFinish` for the root run's steps. */
export function stepFinishListener(onStepFinish: PromptCallbacks['onStepFinish']): EventListener | undefined {
  if (!onStepFinish) return undefined;
  return (event) => {
    if (event.type !== 'step-finish' || (Array.isArray(event.path) && (event.path.length !== 1 || event.path[0] !== 'root'))) return;
    // The step as result.steps holds it: the event without its type and path.
    const { type: _type, path: _path, ...step } = event;
    return onStepFinish(step) as void;
  };
}

/**
 * Calls `onFinish` or `onError` on the run's event path, as if on its `run-finish`: the result's
 * settling waits for it there, and its failure is reported as a handler's.
 */
export function callFinishCallback<A>(events: RunEvents, name: 'onFinish' | 'onError', callback: ((arg: A) => unknown) | undefined, arg: A): void {
  if (!callback) return;
  const finish = { type: 'run-finish', path: ['root'] } as Partial<RunFinishEvent> as RunEvent;
  events.call(name, finish, () => callback(arg));
}
