/**
 * Progress of a run you can watch (`onProgress` on runPrompt / run, the CLI's status line): a
 * running summary of the run tree built from its events — the step, the tools running now, tokens,
 * elapsed time on the engine clock, and the cost when a cost constraint prices the model.
 */
import type { RunEvent, RunEventType } from '../run/events.js';

/** What `onProgress` receives after each event that changes it. */
export interface Progress {
  /** The root run's current step (0-based; the step count once the run ended). */
  step: number;
  /** Tools (and agents) running now, across the tree, in the order they started. */
  toolsRunning: string[];
  /** Input tokens so far, the whole tree. */
  inputTokens: number;
  /** Output tokens so far, the whole tree. */
  outputTokens: number;
  /** Engine-clock ms since the run started. */
  elapsedMs: number;
  /** USD so far, when a cost constraint prices the model(s); undefined otherwise. */
  costUsd?: number;
  /** Whether the run ended (the last update). */
  done: boolean;
  /** The event that made this update. */
  event: RunEventType;
}

/** Receives progress updates; may not throw (a throw is ignored). */
export type ProgressListener = (progress: Progress) => void;

const WATCHED = new Set<RunEventType>(['run-start', 'step-start', 'tool-call', 'tool-result', 'tool-error', 'model-call', 'run-finish']);

/** A run event listener that keeps the {@link Progress} of a run tree and reports each change. */
export function trackProgress(now: () => number, report: ProgressListener): (event: RunEvent) => void {
  const started = now();
  const running = new Map<string, string>(); // tool call id (with its path) → tool name
  let step = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd: number | undefined;
  let done = false;
  return (event) => {
    if (!WATCHED.has(event.type) || done) return;
    const path = Array.isArray(event.path) ? event.path.join('/') : 'root';
    const isRoot = path === 'root';
    switch (event.type) {
      case 'step-start':
        if (isRoot) step = event.stepNumber;
        break;
      case 'tool-call':
        running.set(`${path}:${event.toolCallId}`, event.toolName);
        break;
      case 'tool-result':
      case 'tool-error':
        running.delete(`${path}:${event.toolCallId}`);
        break;
      case 'model-call':
        inputTokens += event.usage?.inputTokens ?? 0;
        outputTokens += event.usage?.outputTokens ?? 0;
        if (event.costUsd !== undefined) costUsd = (costUsd ?? 0) + event.costUsd;
        break;
      case 'run-finish':
        if (!isRoot) return;
        done = true;
        running.clear();
        if (event.steps !== undefined) step = event.steps;
        break;
    }
    const progress: Progress = { step, toolsRunning: [...running.values()], inputTokens, outputTokens, elapsedMs: now() - started, done, event: event.type };
    if (costUsd !== undefined) progress.costUsd = costUsd;
    report(progress);
  };
}

/** One line of progress: `step 3 · running search · 1,234 tokens · 12.3s · $0.0042`. */
export function progressLine(p: Progress): string {
  const parts = [`step ${p.step}`];
  if (p.toolsRunning.length > 0) parts.push(`running ${p.toolsRunning.join(', ')}`);
  parts.push(`${(p.inputTokens + p.outputTokens).toLocaleString('en-US')} tokens`);
  parts.push(`${(p.elapsedMs / 1000).toFixed(1)}s`);
  if (p.costUsd !== undefined) parts.push(`$${p.costUsd.toFixed(4)}`);
  if (p.done) parts.push('done');
  return parts.join(' · ');
}
