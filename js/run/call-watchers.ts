/**
 * The AI SDK 7's callbacks that watch a run's calls: `onToolExecutionStart` / `onToolExecutionEnd`
 * (right before a tool's implementation runs and right after it returned or threw) and
 * `onLanguageModelCallStart` / `onLanguageModelCallEnd` (right before a request goes to the
 * provider and right after its answer was parsed, before any tool runs). Each is awaited before the
 * run goes on. Each attempt of a retried model call is a call of its own; a call that a cache or a
 * durable replay answers reaches no provider and is not reported, nor is a tool a replay answers
 * from its journal. A callback that throws is ignored, as the AI SDK does: watching a call must
 * not fail it.
 *
 * @module
 */
import * as c from '../config/check.js';
import type { FinishReason, GenerationParams, LanguageModel, Message, ModelRequest, ModelResponse, Part, ProviderOptions, ResponseFormat, ToolChoice, ToolSpec, Usage } from '../providers/types.js';
import type { JsonObject } from '../schema-types.js';

// ------------------------------------------------------------------------------ tool executions

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

/** The run config's tool execution callbacks (each may be async; the run waits for it; one that throws is ignored). */
export interface ToolExecutionCallbacks {
  /**
   * The AI SDK 7's: called right before a tool's implementation runs, with `{callId, toolCall:
   * {type, toolCallId, toolName, input}, messages}`. Also under its older name `experimental_onToolCallStart`.
   */
  onToolExecutionStart?: (event: ToolExecutionStartEvent) => void | PromiseLike<void>;
  /**
   * The AI SDK 7's: called right after it returned or threw, with the start's fields, `toolOutput`
   * (`{type: 'tool-result', output}` or `{type: 'tool-error', error}`) and `toolExecutionMs`. Also
   * under its older name `experimental_onToolCallFinish`.
   */
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

// -------------------------------------------------------------------------- language model calls

/** The model a call went to. */
interface ModelInfo {
  /** The provider's name (`openai`, `anthropic` ...). */
  provider: string;
  modelId: string;
  /** The run's id (as text): the same for every call of one run. */
  callId: string;
}

/** What `onLanguageModelCallStart` gets: the request as it goes to the provider (its headers left out). */
export interface LanguageModelCallStartEvent extends ModelInfo, GenerationParams {
  /** The system prompt, when the request has one. */
  system: string | undefined;
  /** The conversation sent, without the system prompt. */
  messages: Message[];
  tools: ToolSpec[] | undefined;
  toolChoice: ToolChoice | undefined;
  responseFormat: ResponseFormat | undefined;
  providerOptions: ProviderOptions | undefined;
}

/** What `onLanguageModelCallEnd` gets: the parsed answer and how long it took. */
export interface LanguageModelCallEndEvent extends ModelInfo {
  finishReason: FinishReason;
  usage: Usage;
  content: Part[];
  /** The provider's id of the response, when it gave one. */
  responseId: string | undefined;
  performance: {
    /** Wall-clock milliseconds from the request to the parsed answer. */
    responseTimeMs: number;
    /** Output tokens per second over `responseTimeMs`. */
    effectiveOutputTokensPerSecond: number;
    /** Input and output tokens per second over `responseTimeMs`. */
    effectiveTotalTokensPerSecond: number;
    /** Milliseconds from the request to the first streamed text, reasoning or tool call delta; undefined when none streamed. */
    timeToFirstOutputMs: number | undefined;
    /** Output tokens per second after the first streamed delta; undefined when none streamed. */
    outputTokensPerSecond: number | undefined;
    /** Input tokens per second before the first streamed delta; undefined when none streamed. */
    inputTokensPerSecond: number | undefined;
    /** The times between streamed output deltas; absent when fewer than two streamed. */
    timeBetweenOutputChunksMs?: OutputChunkTimingStats;
  };
}

/** Milliseconds between a call's streamed output deltas (percentiles by nearest rank). */
export interface OutputChunkTimingStats {
  readonly min: number;
  readonly p10: number;
  readonly median: number;
  readonly avg: number;
  readonly p90: number;
  readonly max: number;
}

/** When a model call's output deltas (text, reasoning, tool call arguments) came (the host's). */
export class OutputTimes {
  /** The first delta's `performance.now()`. */
  first: number | undefined;
  private last = 0;
  private gaps = new Float64Array(64);
  private count = 0;

  note(now = performance.now()): void {
    if (this.first === undefined) this.first = now;
    else {
      if (this.count === this.gaps.length) {
        const grown = new Float64Array(this.count * 2);
        grown.set(this.gaps);
        this.gaps = grown;
      }
      this.gaps[this.count++] = now - this.last;
    }
    this.last = now;
  }

  stats(): OutputChunkTimingStats | undefined {
    if (this.count === 0) return undefined;
    const sorted = this.gaps.slice(0, this.count).sort();
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
    let sum = 0;
    for (const gap of sorted) sum += gap;
    return { min: sorted[0], p10: rank(0.1), median: rank(0.5), avg: sum / sorted.length, p90: rank(0.9), max: sorted[sorted.length - 1] };
  }
}

/** The run config's model call callbacks (each may be async; the run waits for it; one that throws is ignored). */
export interface ModelCallCallbacks {
  /**
   * The AI SDK 7's: called right before a request goes to the provider (each attempt of a retry;
   * not for a call a cache or a durable replay answers), with the request (its headers left out).
   */
  onLanguageModelCallStart?: (event: LanguageModelCallStartEvent) => void | PromiseLike<void>;
  /** The AI SDK 7's: called right after its answer was parsed, before any tool runs. */
  onLanguageModelCallEnd?: (event: LanguageModelCallEndEvent) => void | PromiseLike<void>;
}

/** Whether a run has a model call callback (without one, a call need not go through {@link observedModelCall}). */
export function watchesModelCalls(callbacks: ModelCallCallbacks | undefined): callbacks is ModelCallCallbacks {
  return Boolean(callbacks?.onLanguageModelCallStart || callbacks?.onLanguageModelCallEnd);
}

/** Calls `send` (the provider call) between the callbacks; none given: `send` alone. */
export async function observedModelCall<R extends ModelResponse>(
  callbacks: ModelCallCallbacks | undefined,
  call: { model: LanguageModel; request: Omit<ModelRequest, 'model'>; callId: string; output: OutputTimes | undefined },
  send: () => Promise<R>,
): Promise<R> {
  if (!watchesModelCalls(callbacks)) return send();
  const { model, request, callId } = call;
  const info: ModelInfo = { provider: model.provider, modelId: model.modelId, callId };
  const [first] = request.messages;
  const system = first?.role === 'system' && typeof first.content === 'string' ? first.content : undefined;
  await notify(callbacks.onLanguageModelCallStart, {
    ...info,
    ...request.params,
    system,
    messages: system === undefined ? request.messages : request.messages.slice(1),
    tools: request.tools,
    toolChoice: request.toolChoice,
    responseFormat: request.responseFormat,
    providerOptions: request.providerOptions,
  });
  const began = performance.now();
  const response = await send();
  const ended = performance.now();
  const firstOutput = call.output?.first;
  const between = call.output?.stats();
  const { inputTokens, outputTokens } = response.usage;
  await notify(callbacks.onLanguageModelCallEnd, {
    ...info,
    finishReason: response.finishReason,
    usage: response.usage,
    content: response.content,
    responseId: response.responseId,
    performance: {
      responseTimeMs: ended - began,
      effectiveOutputTokensPerSecond: perSecond(outputTokens, ended - began) ?? 0,
      effectiveTotalTokensPerSecond: perSecond(inputTokens + outputTokens, ended - began) ?? 0,
      timeToFirstOutputMs: firstOutput === undefined ? undefined : Math.max(0, firstOutput - began),
      outputTokensPerSecond: firstOutput === undefined ? undefined : perSecond(outputTokens, ended - firstOutput),
      inputTokensPerSecond: firstOutput === undefined ? undefined : perSecond(inputTokens, firstOutput - began),
      ...(between && { timeBetweenOutputChunksMs: between }),
    },
  });
  return response;
}

/**
 * The run config's call watchers, shared by `runPrompt` (its own calls, not its sub-agents') and
 * `run` (every call of any conversation).
 */
export interface CallWatchers extends ToolExecutionCallbacks, ModelCallCallbacks {
  /** @deprecated The older name of {@link CallWatchers.onToolExecutionStart} (give one of the two). */
  experimental_onToolCallStart?: ToolExecutionCallbacks['onToolExecutionStart'];
  /** @deprecated The older name of {@link CallWatchers.onToolExecutionEnd} (give one of the two). */
  experimental_onToolCallFinish?: ToolExecutionCallbacks['onToolExecutionEnd'];
}

/** The shape of {@link CallWatchers}. */
export const callWatchersShape: c.Shape = {
  onToolExecutionStart: c.func,
  onToolExecutionEnd: c.func,
  experimental_onToolCallStart: c.func, // moved to the names above (renamed-options.ts)
  experimental_onToolCallFinish: c.func,
  onLanguageModelCallStart: c.func,
  onLanguageModelCallEnd: c.func,
};

/** `tokens` per second over `ms`; undefined for no time. */
function perSecond(tokens: number, ms: number): number | undefined {
  return ms > 0 ? (tokens * 1000) / ms : undefined;
}

async function notify<E>(callback: ((event: E) => void | PromiseLike<void>) | undefined, event: E): Promise<void> {
  try {
    await callback?.(event);
  } catch {
    // ignored, as the AI SDK does (module comment)
  }
}
