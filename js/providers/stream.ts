/**
 * Drives an SSE response body through a provider's stream state, turning connection failures and
 * premature ends into `ProviderError`s that keep the text received so far.
 */
import { AbortError, LmthingError, ProviderError } from '../errors.js';
import { networkError, postJson, readJson, redact } from './http.js';
import { readSseEvents, type SseEvent } from './sse.js';
import type { FetchFunction, GenerateOptions, ModelResponse, StreamDelta } from './types.js';

/** A provider's stream state: fed SSE events, it assembles the response. */
export interface SseConsumer {
  /** Handles one event; may throw a typed error (in-band stream errors). */
  handle(ev: SseEvent): void;
  /** True once the provider's end-of-stream marker (or enough of the stream) was seen. */
  readonly complete: boolean;
  /** True when the stream may stop reading (e.g. after `[DONE]` or `message_stop`). */
  readonly done: boolean;
  /** Text received so far, kept by errors. */
  readonly text: string;
  /** The assembled response, once `complete`. */
  result(): ModelResponse;
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
      consumer.handle(ev);
      if (consumer.done) break;
    }
  } catch (err) {
    if (err instanceof LmthingError) throw err;
    if (signal?.aborted) throw new AbortError();
    throw networkError(provider, err, secrets, consumer.text);
  }
  if (signal?.aborted) throw new AbortError();
  if (!consumer.complete) {
    throw new ProviderError(redact(`${provider}: stream ended before the response was complete`, secrets), {
      partialText: consumer.text || undefined,
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

/** One model call over HTTP, as both providers make it. */
export interface Exchange {
  provider: string;
  url: string;
  headers: Record<string, string>;
  /** Values that must never appear in an error (API key, auth headers). */
  secrets: string[];
  body: unknown;
  stream: boolean;
  fetch?: FetchFunction;
  opts: GenerateOptions;
  /** Maps a complete JSON response body. */
  parseJson(json: unknown): ModelResponse;
  /** A fresh stream state that reports deltas through `emit`. */
  streamState(emit: (d: StreamDelta) => void): SseConsumer;
}

/**
 * Posts the request and reads the answer: SSE through the provider's stream state, or a JSON body
 * (also when a server ignores `stream: true`; its content is then replayed as deltas).
 */
export async function exchange(x: Exchange): Promise<ModelResponse> {
  const { provider, secrets, opts } = x;
  const res = await postJson({ provider, url: x.url, headers: x.headers, body: x.body, fetch: x.fetch, signal: opts.signal, secrets });
  const emit = opts.onDelta ?? ((_: StreamDelta) => undefined);
  const isJson = /\bjson\b/i.test(res.headers.get('content-type') ?? '');
  if (!x.stream || isJson) {
    const result = x.parseJson(await readJson(res, provider, secrets, opts.signal));
    if (x.stream) emitResponseAsDeltas(result, emit);
    return result;
  }
  const state = x.streamState(emit);
  await consumeSse(provider, res, state, secrets, opts.signal);
  return state.result();
}
