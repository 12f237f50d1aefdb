/**
 * The AI SDK 7's `onToolExecutionStart` and `onToolExecutionEnd`: called right before a tool's
 * implementation runs and right after it returned or threw, each awaited before the run goes on. A
 * callback that throws is ignored, as the AI SDK does: watching a tool must not fail it.
 *
 * @module
 */
import type { Message } from '../providers/types.js';
import type { JsonObject } from '../schema-types.js';

/** The call a tool execution is for; `input` is its validated arguments. */
export interface ExecutedToolCall {
  type: 'tool-call';
  toolCallId: string;
  toolName: string;
  input: JsonObject;
}

/** What `onToolExecutionStart` gets. */
export interface ToolExecutionStartEvent {
  /** The run's id (as text): the same for every execution of one run. */
  callId: string;
  toolCall: ExecutedToolCall;
  /** The conversation as the tool's own `messages` has it. */
  messages: Message[];
}

/** How the execution ended: the tool's output, or what it threw. */
export type ToolExecutionOutput =
  | { type: 'tool-result'; toolCallId: string; toolName: string; input: JsonObject; output: unknown }
  | { type: 'tool-error'; toolCallId: string; toolName: string; input: JsonObject; error: unknown };

/** What `onToolExecutionEnd` gets. */
export interface ToolExecutionEndEvent extends ToolExecutionStartEvent {
  toolOutput: ToolExecutionOutput;
  /** Wall-clock milliseconds the implementation took. */
  toolExecutionMs: number;
}

/** The run config's tool execution callbacks (each may be async; the run waits for it). */
export interface ToolExecutionCallbacks {
  /** Called right before a tool's implementation runs (the AI SDK 7's, also under its older name `experimental_onToolCallStart`). */
  onToolExecutionStart?: (event: ToolExecutionStartEvent) => void | PromiseLike<void>;
  /** Called right after it returned or threw (also `experimental_onToolCallFinish`). */
  onToolExecutionEnd?: (event: ToolExecutionEndEvent) => void | PromiseLike<void>;
}

/** Runs `execute` (a tool's implementation) between the callbacks; none given: `execute` alone. */
export async function observedExecution(callbacks: ToolExecutionCallbacks, start: ToolExecutionStartEvent, execute: () => Promise<unknown>): Promise<unknown> {
  const { onToolExecutionStart, onToolExecutionEnd } = callbacks;
  if (!onToolExecutionStart && !onToolExecutionEnd) return execute();
  await notify(onToolExecutionStart, start);
  const began = performance.now();
  const { toolCallId, toolName, input } = start.toolCall;
  let output: unknown;
  try {
    output = await execute();
  } catch (error) {
    await notify(onToolExecutionEnd, { ...start, toolOutput: { type: 'tool-error', toolCallId, toolName, input, error }, toolExecutionMs: performance.now() - began });
    throw error;
  }
  await notify(onToolExecutionEnd, { ...start, toolOutput: { type: 'tool-result', toolCallId, toolName, input, output }, toolExecutionMs: performance.now() - began });
  return output;
}

async function notify<E>(callback: ((event: E) => void | PromiseLike<void>) | undefined, event: E): Promise<void> {
  try {
    await callback?.(event);
  } catch {
    // ignored, as the AI SDK does (module comment)
  }
}
