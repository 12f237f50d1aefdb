/**
 * One model call over HTTP, as every provider makes it: POST the request, decide what the body is
 * (SSE, JSON or an unexpected page), drive SSE events through the provider's stream state, and turn
 * connection failures, premature ends and idle streams into typed errors that keep the text
 * received so far.
 */
import { AbortError, LmthingError, ProviderError, ValidationError } from '../errors.js';
import { kindOfContentType, readPrefix, sniffBody, type BodyKind } from './body-kind.js';
import { networkError, postJson, readJson, redact, responseInfo, unexpectedBody, type ErrorDetailsReader, type ResponseInfo } from './http.js';
import { IdleWatch } from './idle-timeout.js';
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
  /** The event that completes this provider's stream, named in the error when it never comes. */
  readonly completionEvent: string;
  /** True for events that only keep the connection alive (Anthropic `ping`); they do not reset the idle timeout. */
  isKeepAlive?(ev: SseEvent): boolean;
  /** The assembled response, once `complete`. */
  result(): ModelResponse;
}

/** How {@link consumeSse} reports progress. */
export interface SseProgress {
  /** Called for every event that carries content (not keep-alives). */
  onContent?: () => void;
  /** Called with every event's data, for a call that reports raw chunks. */
  onRaw?: (data: string) => void;
  /** Whether the server announced `text/event-stream` (otherwise a body with no events is not SSE at all). */
  announced: boolean;
  /** The response, for error messages. */
  res: ResponseInfo;
  /** True once the call's idle timeout (not the caller) aborted the read. */
  idleFired?: () => boolean;
}

/**
 * Reads every SSE event of `body` into `consumer`. Throws `AbortError` when `signal` fires, a
 * retryable `ProviderError` with `partialText` when the connection breaks or the stream ends before
 * `complete`, and a non-retryable one when a body not announced as SSE holds no event at all.
 */
export async function consumeSse(
  provider: string,
  body: ReadableStream<Uint8Array>,
  consumer: SseConsumer,
  secrets: string[],
  signal: AbortSignal | undefined,
  progress: SseProgress,
): Promise<void> {
  let events = 0;
  try {
    for await (const ev of readSseEvents(body, signal)) {
      events++;
      if (!consumer.isKeepAlive?.(ev)) progress.onContent?.();
      progress.onRaw?.(ev.data);
      consumer.handle(ev);
      if (consumer.done) break;
    }
  } catch (err) {
    // The whole answer arrived and the server then went silent instead of closing: keep the answer.
    if (consumer.complete && progress.idleFired?.()) return;
    if (err instanceof LmthingError) throw err;
    if (signal?.aborted) throw new AbortError();
    // ... or broke the connection: the answer is whole too (what follows it is at most usage).
    if (consumer.complete) return;
    throw networkError(provider, err, secrets, consumer.text);
  }
  if (consumer.complete && progress.idleFired?.()) return;
  if (signal?.aborted) throw new AbortError();
  if (consumer.complete) return;
  if (events === 0 && !progress.announced) {
    throw unexpectedBody(provider, progress.res, '', 'an SSE stream (text/event-stream)', secrets);
  }
  throw new ProviderError(
    redact(
      `${provider}: the stream ended before its completion event (${consumer.completionEvent}) after ${events} event(s); ` +
        `the connection was probably cut (retrying may help), or the server does not speak this API`,
      secrets,
    ),
    { partialText: consumer.text || undefined, retryable: true },
  );
}

/** Emits the deltas of a whole response (used when a server answers a streaming request with JSON). */
export function emitResponseAsDeltas(r: ModelResponse, emit: (d: StreamDelta) => void): void {
  let index = 0;
  for (const p of r.content) {
    if (p.type === 'text') emit({ type: 'text-delta', text: p.text });
    else if (p.type === 'reasoning' && p.text) {
      emit({ type: 'reasoning-start' });
      emit({ type: 'reasoning-delta', text: p.text });
    }
    else if (p.type === 'tool-call') {
      emit({ type: 'tool-call-delta', index: index++, toolCallId: p.toolCallId, toolName: p.toolName, argsTextDelta: p.argsText });
    }
  }
}

/**
 * The JSON of one stream event (`what`: the provider's word for it). Text that is not JSON is a
 * `ProviderError` quoting its start (secrets redacted) and keeping the text streamed before it.
 */
export function parseStreamJson(data: string, what: 'event' | 'chunk', provider: string, secrets: string[], partialText: () => string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    // Secrets go before the event is cut: a key cut in half would no longer be found.
    throw new ProviderError(redact(`${provider}: malformed stream ${what}: ${redact(data, secrets).slice(0, 200)}`, secrets), { partialText: partialText() || undefined });
  }
}

/**
 * Builds a request body. Typed errors pass; anything else (a value nested too deeply for
 * `JSON.stringify`, a cycle) becomes a `ValidationError` naming the provider.
 */
export function buildRequest<T>(provider: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof LmthingError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`${provider}: the request could not be built from these messages (${detail})`);
  }
}

/** One model call over HTTP. */
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
  /** Idle timeout of a streamed call in ms (`undefined`: none). Non-streamed calls have none. */
  idleTimeoutMs?: number;
  /** Reads provider-specific details from JSON error bodies. */
  errorDetails?: ErrorDetailsReader;
  /** Maps a complete JSON response body. */
  parseJson(json: unknown): ModelResponse;
  /** A fresh stream state that reports deltas through `emit`. */
  streamState(emit: (d: StreamDelta) => void): SseConsumer;
}

/**
 * Posts the request and reads the answer: SSE through the provider's stream state, or a JSON body
 * (also when a server ignores `stream: true`; its content is then replayed as deltas). A body that
 * is neither (an HTML page) is a non-retryable `ProviderError`; a streamed call that stays silent
 * longer than its idle timeout is a `TimeoutError`.
 */
export async function exchange(x: Exchange): Promise<ModelResponse> {
  const watch = x.stream && x.idleTimeoutMs !== undefined ? new IdleWatch(x.provider, x.idleTimeoutMs, x.opts.signal) : undefined;
  try {
    return await exchangeOnce(x, watch);
  } catch (err) {
    if (watch?.fired) throw watch.error();
    throw err;
  } finally {
    watch?.stop();
  }
}

async function exchangeOnce(x: Exchange, watch: IdleWatch | undefined): Promise<ModelResponse> {
  const { provider, secrets, opts } = x;
  const signal = watch?.signal ?? opts.signal;
  const res = await postJson({
    provider,
    url: x.url,
    headers: x.headers,
    body: x.body,
    fetch: x.fetch,
    signal,
    secrets,
    errorDetails: x.errorDetails,
  });
  watch?.touch();
  return withResponseMetadata(await readAnswer(x, res, watch, signal), res, Date.now());
}

/** The response's headers (no cookies: a load balancer's would only leak into logs and journals) and its time. */
function withResponseMetadata(response: ModelResponse, res: Response, arrived: number): ModelResponse {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  response.headers = headers;
  response.timestamp ??= arrived;
  return response;
}

/** Reads the body of `res`: a JSON answer, or an SSE stream through the provider's stream state. */
async function readAnswer(x: Exchange, res: Response, watch: IdleWatch | undefined, signal: AbortSignal | undefined): Promise<ModelResponse> {
  const { provider, secrets, opts } = x;
  const emit = opts.onDelta ?? ((_: StreamDelta) => undefined);
  const onRaw = opts.includeRawChunks ? (data: string) => emit({ type: 'raw', rawValue: rawValueOf(data) }) : undefined;
  const announced = kindOfContentType(res.headers.get('content-type'));
  if (!x.stream) {
    if (announced === 'other') throw await pageError(x, res.body, responseInfo(res), 'a JSON response', signal);
    return x.parseJson(await readJson(res, provider, secrets, signal));
  }
  if (!res.body) throw new ProviderError(`${provider}: streaming response has no body`, { status: res.status });
  let kind: BodyKind | undefined = announced;
  let body: ReadableStream<Uint8Array> = res.body;
  if (kind === undefined) {
    const sniffed = await sniffBody(body, signal).catch((err: unknown) => {
      if (err instanceof LmthingError) throw err;
      throw networkError(provider, err, secrets);
    });
    kind = sniffed.kind;
    body = sniffed.body;
  }
  if (kind === 'other') throw await pageError(x, body, responseInfo(res), 'an SSE stream (text/event-stream)', signal);
  if (kind === 'json') {
    const replayed = body === res.body ? res : new Response(body, { status: res.status, headers: res.headers });
    const json = await readJson(replayed, provider, secrets, signal);
    if (opts.includeRawChunks) emit({ type: 'raw', rawValue: json });
    const result = x.parseJson(json);
    emitResponseAsDeltas(result, emit);
    return result;
  }
  const state = x.streamState(emit);
  await consumeSse(provider, body, state, secrets, signal, { onContent: () => watch?.touch(), onRaw, announced: announced === 'sse', res: responseInfo(res), idleFired: () => watch?.fired === true });
  return state.result();
}

/** Reads the start of an unexpected body (an HTML page) and builds the error naming it. */
async function pageError(
  x: Exchange,
  body: ReadableStream<Uint8Array> | null,
  info: ResponseInfo,
  expected: string,
  signal?: AbortSignal,
): Promise<LmthingError> {
  let text = '';
  try {
    text = await readPrefix(body, 2000, signal);
  } catch (err) {
    if (err instanceof AbortError) return err;
    // the status and content type still say enough
  }
  return unexpectedBody(x.provider, info, text, expected, x.secrets);
}

/** A stream event's data as a raw chunk: its JSON, or the text itself (`[DONE]`). */
function rawValueOf(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
