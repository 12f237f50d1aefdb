/**
 * The host's stream hooks of a run (`RunModels.onText` …) as the parts of the run's stream: a
 * prompt run keeps them in its result, a directive run those of its root streamed replies. The
 * host passes each hook the op's `step` (a step number, or a directive reply's request id).
 */
import type { StreamPart } from '../prompt/result.js';
import type { RunModels } from './host.js';

/** The parts the hooks make: a model call's text, reasoning and block ends, in its step. */
export type ModelCallPart = Extract<StreamPart, { type: 'text-delta' | 'reasoning-start' | 'reasoning-delta' | 'reasoning-end' | 'text-end' }>;

/** Where a run's stream parts go. */
export interface StreamPartSink {
  push(part: ModelCallPart): void;
  /** A streamed call ended with `whole` as its text (or reasoning): kept deltas may become views of it. */
  share(type: 'text-delta' | 'reasoning-delta', stepNumber: number, whole: string): void;
}

/** The stream hooks of a run whose parts go to `sink`. */
export function streamPartHooks(sink: StreamPartSink): Pick<RunModels, 'onText' | 'onReasoningStart' | 'onReasoning' | 'onReasoningEnd' | 'onTextEnd' | 'onStreamed'> {
  return {
    onText: (text, step) => sink.push({ type: 'text-delta', text, stepNumber: Number(step) }),
    onReasoningStart: (step) => sink.push({ type: 'reasoning-start', stepNumber: Number(step) }),
    onReasoning: (text, step) => sink.push({ type: 'reasoning-delta', text, stepNumber: Number(step) }),
    onReasoningEnd: (block, step) => sink.push({ type: 'reasoning-end', stepNumber: Number(step), ...block }),
    onTextEnd: (block, step) => sink.push({ type: 'text-end', stepNumber: Number(step), ...block }),
    onStreamed: (type, whole, step) => sink.share(type, Number(step), whole),
  };
}
