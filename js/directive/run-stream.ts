/**
 * What a directive run streams to its caller: the root conversation's streamed replies (`L.stream`),
 * kept from the first like a prompt run's parts. Their text deltas are the run's `textStream`; with
 * their reasoning and the steps and tool calls of those replies (from the run's events) they are its UI message stream
 * (`toUIMessageStream`, for `useChat`). Branches' replies and plain `L.reply`s are left out: parallel
 * branches would interleave, and a reply the agent did not stream is its own business.
 */
import { PartFeed } from '../prompt/part-log.js';
import type { StreamPart } from '../prompt/result.js';
import { pipeTextStream, textStreamResponse, type ServerResponseLike, type TextStreamResponseInit } from '../prompt/text-response.js';
import {
  pipeUIMessageStream,
  uiMessageStream,
  uiMessageStreamResponse,
  type UIMessageChunkStream,
  type UIMessageLike,
  type UIMessageStreamOptions,
  type UIMessageStreamResponseInit,
} from '../prompt/ui-messages.js';
import type { FinishReason, Usage } from '../providers/types.js';
import type { RunEvent } from '../run/events.js';
import type { ModelCallPart } from '../run/stream-hooks.js';

/** The events of a streamed reply's steps that its UI message shows (text comes as deltas). */
const SHOWN_EVENTS = new Set<RunEvent['type']>(['step-start', 'step-finish', 'tool-call', 'tool-result', 'tool-error', 'approval-decision']);

export class RunStream {
  private readonly feed = new PartFeed<StreamPart>();
  /** Request ids of the root conversation's streamed replies that have not ended. */
  private readonly rootReplies = new Set<number>();
  private finishReason: FinishReason = 'stop';
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  /** The last streamed step's text, as a prompt run's `finish` part has it. */
  private lastText = '';

  /** `requestId` is a streamed reply of the root conversation: its deltas and steps are the run's stream. */
  follow(requestId: number): void {
    this.rootReplies.add(requestId);
  }

  /** Streamed reply `requestId` ended (after its events). */
  unfollow(requestId: number): void {
    this.rootReplies.delete(requestId);
  }

  /** Whether a streamed reply of the root conversation is under way: its events are wanted then. */
  get following(): boolean {
    return this.rootReplies.size > 0;
  }

  /**
   * A part of a reply's model call (text, reasoning, block ends; its `stepNumber` is the reply's
   * request id), kept when that reply is a streamed one of the root conversation. Each reply's
   * parts are one "step" of the log, so its deltas are joined in blocks of their own.
   */
  push(part: ModelCallPart): void {
    if (this.rootReplies.has(part.stepNumber)) this.feed.push(part);
  }

  /** A model call of reply `requestId` streamed `whole`: the kept deltas may become views of it. */
  share(type: 'text-delta' | 'reasoning-delta', requestId: number, whole: string): void {
    if (this.rootReplies.has(requestId)) this.feed.share(type, requestId, whole);
  }

  /**
   * An event of the run: kept when it is a step or tool call of the root conversation while one of
   * its streamed replies is under way (the root conversation runs one reply at a time).
   */
  event(event: RunEvent): void {
    if (!this.following || event.path.length !== 1 || !SHOWN_EVENTS.has(event.type)) return;
    if (event.type === 'step-finish') {
      this.finishReason = event.finishReason;
      this.lastText = event.text;
      for (const key of Object.keys(event.usage) as Array<keyof Usage>) this.usage[key] = (this.usage[key] ?? 0) + (event.usage[key] ?? 0);
    }
    this.feed.push(event);
  }

  /**
   * The run returned: the stream ends with the last streamed step's finish reason and text, and the
   * streamed steps' usage (none of them without the run's events).
   */
  finish(): void {
    this.feed.push({ type: 'finish', finishReason: this.finishReason, usage: { ...this.usage }, text: this.lastText });
  }

  /** The run failed: HTTP bodies end with `error` instead of a clean end. */
  fail(error: unknown): void {
    this.feed.push({ type: 'error', error });
  }

  /** The run is over (after {@link finish} or {@link fail}). */
  close(): void {
    this.feed.close();
  }

  /** Every delta from the first; ends when the run does (its failure is the run's rejection). */
  get textStream(): AsyncIterable<string> {
    const feed = this.feed;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const part of feed.read()) if (part.type === 'text-delta') yield part.text;
      },
    };
  }

  /** The text as a web `Response` body (js/prompt/text-response.ts). */
  toResponse(init?: TextStreamResponseInit): Response {
    return textStreamResponse(this.batches(), init);
  }

  /** The text written to a Node `http.ServerResponse` as it streams. */
  pipe(response: ServerResponseLike, init?: TextStreamResponseInit): Promise<void> {
    return pipeTextStream(this.batches(), response, init);
  }

  /** The UI message stream's chunks (js/prompt/ui-messages.ts). */
  uiMessages<M extends UIMessageLike>(options?: UIMessageStreamOptions<M>): UIMessageChunkStream {
    return uiMessageStream(this.batches(), options);
  }

  /** The UI message stream as a web `Response` of server-sent events. */
  uiMessageResponse<M extends UIMessageLike>(init?: UIMessageStreamResponseInit<M>): Response {
    return uiMessageStreamResponse(this.batches(), init);
  }

  /** The UI message stream written to a Node `http.ServerResponse`. */
  pipeUIMessages<M extends UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>): Promise<void> {
    return pipeUIMessageStream(this.batches(), response, init);
  }

  private batches(): AsyncIterable<StreamPart[]> {
    return { [Symbol.asyncIterator]: () => this.feed.readBatches() };
  }
}
