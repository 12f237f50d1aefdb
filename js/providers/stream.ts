/**
 * Drives an SSE response body through a provider's stream state, turning connection failures and
 * premature ends into `ProviderError`s that keep the text received so far.
 */
import { AbortError, LmthingError, ProviderError } from '../errors.js';
import { networkError, redact } from './http.js';
import { readSseEvents, type SseEvent } from './sse.js';
import type { ModelResponse, StreamDelta } from './types.js';

/** What {@link consumeSse} needs from a provider's stream state. */
export interface SseConsumer {
  /** Handles one event; may throw a typed error (in-band stream errors). */
  onEvent(ev: SseEvent): void;
  /** True once the provider's end-of-stream marker (or enough of the stream) was seen. */
  readonly complete: boolean;
  /** True when the stream may stop reading (e.g. after `[DONE]` or `message_stop`). */
  readonly done: boolean;
  /** Text received so far, kept by errors. */
  readonly partialText: string;
}

/**
 * Reads every SSE event of `res` into `consumer`. Throws `AbortError` when `signal` fires, a retryable
 * `ProviderError` with `partialText` when the connection breaks or the stream ends before `complete`.
 */
export async function consumeSse(
  provider: string,
  res: Response,
  consumer: SseConsumer,
  secrets: string[],
  signal?: AbortSignal,
): Promise<void> {
  if (!res.body) throw new ProviderError(`${provider}: streaming response has no body`, { status: res.status });
  try {
    for await (const ev of readSseEvents(res.body, signal)) {
      consumer.onEvent(ev);
      if (consumer.done) break;
    }
  } catch (err) {
    if (err instanceof LmthingError) throw err;
    if (signal?.aborted) throw new AbortError();
    throw networkError(provider, err, secrets, consumer.partialText);
  }
  if (signal?.aborted) throw new AbortError();
  if (!consumer.complete) {
    throw new ProviderError(redact(`${provider}: stream ended before the response was complete`, secrets), {
      partialText: consumer.partialText || undefined,
      retryable: true,
    });
  }
}

/** Emits the deltas of a whole response (used when a server answers a streaming request with JSON). */
export function emitResponseAsDeltas(r: ModelResponse, emit: (d: StreamDelta) => void): void {
  let index = 0;
  for (const p of r.content) {
    if (p.type === 'text') emit({ type: 'text-delta', text: p.text });
    else if (p.type === 'reasoning') emit({ type: 'reasoning-delta', text: p.text });
    else if (p.type === 'tool-call') {
      emit({ type: 'tool-call-delta', index: index++, toolCallId: p.toolCallId, toolName: p.toolName, argsTextDelta: p.argsText });
    }
  }
}
