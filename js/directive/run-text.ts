/**
 * The text a directive run streams to its caller: the deltas of the root conversation's streamed
 * replies (`L.stream`), kept from the first like a prompt run's parts, for the run's `textStream`
 * and its HTTP helpers. Branches' replies are left out: parallel branches would interleave.
 */
import { PartFeed } from '../prompt/part-log.js';
import type { StreamPart } from '../prompt/result.js';
import { pipeTextStream, textStreamResponse, type ServerResponseLike, type TextStreamResponseInit } from '../prompt/text-response.js';

export class RunText {
  private readonly feed = new PartFeed<StreamPart>();
  /** Request ids of the root conversation's streamed replies. */
  private readonly rootReplies = new Set<number>();

  /** `requestId` is a streamed reply of the root conversation: its deltas are the run's text. */
  follow(requestId: number): void {
    this.rootReplies.add(requestId);
  }

  /** A delta of streamed reply `requestId`; kept when that reply is the root conversation's. */
  delta(requestId: number, text: string): void {
    // Each reply's deltas are one "step" of the log, so they are joined in blocks of their own.
    if (this.rootReplies.has(requestId)) this.feed.push({ type: 'text-delta', text, stepNumber: requestId });
  }

  /** The run failed: HTTP bodies end with `error` instead of a clean end. */
  fail(error: unknown): void {
    this.feed.push({ type: 'error', error });
  }

  /** The run is over (after {@link fail} if it failed). */
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

  private batches(): AsyncIterable<StreamPart[]> {
    return { [Symbol.asyncIterator]: () => this.feed.readBatches() };
  }
}
