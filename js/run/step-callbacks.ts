/**
 * The AI SDK 7's `onStart`, `onStepStart` and `onStepError`. The engine's `step_start` seam calls
 * them (src/agent/step_start.cpp): `onStart` once per prompt run or directive reply, before its
 * first step's hooks; `onStepStart` before each step's model call, with the request as the hooks
 * and `prepareStep` left it; `onStepError` when that call failed for good (its retries and
 * fallbacks used up; not when the run was cancelled), before the run fails with the same error.
 * The run waits for each; one that throws is reported as an `error` event (source `handler`), as
 * `onStepFinish` is, never as the run's failure.
 *
 * @module
 */
import * as c from '../config/check.js';
import { errorFromWire, type WireError } from '../errors.js';
import type { GenerationParams, Message, ProviderOptions, ToolChoice } from '../providers/types.js';
import type { StepResult } from '../prompt/result.js';
import type { RunContextOptions } from '../prompt/run-contexts.js';
import { callSettingsOf, findModel, type RunModels } from './host.js';

/**
 * The request a start reports: the model, the system prompt, the messages and the settings; for
 * `runPrompt`, also the run's contexts as they are then (those set).
 */
export interface StartedRequest extends GenerationParams, RunContextOptions {
  /** The run's id (as text): the same for every callback of one run. */
  callId: string;
  /** The provider's name (`openai`, `anthropic` ...) of the model the request goes to. */
  provider: string;
  modelId: string;
  /** The system prompt as the engine rendered it, when there is one. */
  system: string | undefined;
  /** The conversation the model is sent, without the system prompt. */
  messages: Message[];
  /** The names of the tools the model is offered. */
  activeTools: string[];
  toolChoice: ToolChoice | undefined;
  /** The run's provider options with the step's merged over them. */
  providerOptions: ProviderOptions | undefined;
}

/** What `onStart` gets: the run's own request, before any hook or `prepareStep` changed a step. */
export interface OnStartEvent extends StartedRequest {
  /** `lmthing.runPrompt`, or `lmthing.reply` for a directive run's reply. */
  operationId: 'lmthing.runPrompt' | 'lmthing.reply';
  /** A directive run's conversation (`['root']`, or a branch's path); absent for `runPrompt`. */
  path?: string[];
}

/** What `onStepStart` gets: the step's request as it goes to the model. */
export interface OnStepStartEvent extends StartedRequest {
  stepNumber: number;
  /** The steps before this one (of the run, or of the directive reply). */
  steps: StepResult[];
  /** A directive run's conversation; absent for `runPrompt`. */
  path?: string[];
}

/** What `onStepError` gets: the step's start and the error its model call failed with. */
export interface OnStepErrorEvent extends OnStepStartEvent {
  /** The run fails with an error of the same class and message once the callback returned. */
  error: Error;
}

/** The run config's step start callbacks (each may be async; the run waits for it). */
export interface StepStartCallbacks {
  /** The AI SDK 7's: called once before the run's first step (each reply's, in a directive run). Also under its older name `experimental_onStart`. */
  onStart?: (event: OnStartEvent) => void | PromiseLike<void>;
  /** The AI SDK 7's: called before each step's model call (after the hooks and `prepareStep`). Also under its older name `experimental_onStepStart`. */
  onStepStart?: (event: OnStepStartEvent) => void | PromiseLike<void>;
  /** The AI SDK 7's: called when a step's model call failed for good (not when the run was cancelled), before the run fails. */
  onStepError?: (event: OnStepErrorEvent) => void | PromiseLike<void>;
  /** @deprecated The older name of {@link StepStartCallbacks.onStart} (give one of the two). */
  experimental_onStart?: StepStartCallbacks['onStart'];
  /** @deprecated The older name of {@link StepStartCallbacks.onStepStart} (give one of the two). */
  experimental_onStepStart?: StepStartCallbacks['onStepStart'];
}

/** The shape of {@link StepStartCallbacks}. */
export const stepStartCallbacksShape: c.Shape = {
  onStart: c.func,
  onStepStart: c.func,
  onStepError: c.func,
  experimental_onStart: c.func, // moved to the names above (renamed-options.ts)
  experimental_onStepStart: c.func,
};

/** What the engine's `step_start` seam sends (a step's fields only for onStepStart / onStepError). */
interface StartWire {
  model: string;
  system: string | null;
  messages: Message[];
  activeTools: string[];
  params?: GenerationParams;
  toolChoice?: ToolChoice;
  providerOptions?: ProviderOptions;
  stepNumber?: number;
  steps?: StepResult[];
  error?: WireError;
}

/** Where the callbacks are called: the run's models and ids, and how a user's callback is called. */
export interface StepCallbackPlace {
  models: RunModels;
  callId(): string;
  operationId: OnStartEvent['operationId'];
  path?: string[];
  /** The run's contexts as they are now (runPrompt's). */
  contexts?(): RunContextOptions;
  /** The steps before `stepNumber`, when the engine does not send them (a prompt run's host has them). */
  stepsBefore?(stepNumber: number): StepResult[];
  /** Calls the user's callback on the run's event path (a failure becomes an `error` event). */
  call(name: 'onStart' | 'onStepStart' | 'onStepError', callback: () => unknown): Promise<void>;
}

/** The engine callbacks behind the config's callbacks, by spec field; none given: none. */
export function stepStartHandlers(callbacks: StepStartCallbacks, place: StepCallbackPlace): Partial<Record<'onStart' | 'onStepStart' | 'onStepError', (wire: StartWire) => Promise<void>>> {
  const { onStart, onStepStart, onStepError } = callbacks;
  const request = (wire: StartWire): StartedRequest => {
    const model = findModel(place.models, wire.model);
    return {
      ...wire.params,
      ...place.contexts?.(),
      callId: place.callId(),
      provider: model?.provider ?? 'unknown',
      modelId: model?.modelId ?? wire.model,
      system: wire.system ?? undefined,
      messages: wire.messages,
      activeTools: wire.activeTools,
      toolChoice: wire.toolChoice,
      providerOptions: callSettingsOf(place.models, wire.providerOptions)?.providerOptions,
    };
  };
  const step = (wire: StartWire): OnStepStartEvent => {
    const stepNumber = wire.stepNumber ?? 0;
    const event: OnStepStartEvent = { ...request(wire), stepNumber, steps: wire.steps ?? place.stepsBefore?.(stepNumber) ?? [] };
    if (place.path) event.path = place.path;
    return event;
  };
  return {
    ...(onStart && {
      onStart: (wire: StartWire) => {
        const event: OnStartEvent = { ...request(wire), operationId: place.operationId };
        if (place.path) event.path = place.path;
        return place.call('onStart', () => onStart(event));
      },
    }),
    ...(onStepStart && { onStepStart: (wire: StartWire) => place.call('onStepStart', () => onStepStart(step(wire))) }),
    ...(onStepError && {
      onStepError: (wire: StartWire) => place.call('onStepError', () => onStepError({ ...step(wire), error: errorFromWire(wire.error!) })),
    }),
  };
}
