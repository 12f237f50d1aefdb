/**
 * A run's text as an HTTP response body, for servers that stream an agent's answer to a client:
 * a web `Response` (Next.js route handlers, Hono, Deno, Bun, workers) or Node's
 * `http.ServerResponse`. Both write the text deltas as UTF-8 as they stream, in
 * `text/plain; charset=utf-8` unless the caller's headers say otherwise.
 *
 * A run that fails after the response started cannot change its status any more: the body ends
 * with an error instead of a clean end (the client's reader throws), so a cut answer never looks
 * complete, whatever the failure (the AI SDK's `toTextStreamResponse` ends the body cleanly after
 * an error the model reported inside its stream; docs/prompt-runs.md, "Streaming to an HTTP client").
 */
import * as c from '../config/check.js';
import type { StreamPart } from './result.js';
import type { HeadersLike } from '../platform-types.js';

/** Status and headers of the response; `headers` may be a `Headers`, an array of pairs or a record. */
export interface TextStreamResponseInit {
  /** HTTP status, 200 unless given. */
  status?: number;
  /** Status text (web `Response` only; Node picks the standard one). */
  statusText?: string;
  /** Extra headers; a `Content-Type` of the caller's replaces the default. */
  headers?: HeadersLike;
}

/**
 * What {@link RunResult.pipeTextStreamToResponse} writes to: Node's `http.ServerResponse`, or
 * anything with the same methods.
 */
export interface ServerResponseLike {
  writeHead(statusCode: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  /** Node sets it once the client went away or the response was destroyed. */
  readonly destroyed?: boolean;
}

const TEXT_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/plain; charset=utf-8' };

const initShape: c.Shape = {
  // A streamed body: not a status that has none (204 No Content, 205, 304).
  status: (v) => (c.integer(200, 599)(v) === undefined && v !== 204 && v !== 205 && v !== 304 ? undefined : 'an HTTP status from 200 to 599 that has a body (not 204, 205 or 304)'),
  // An HTTP reason phrase: no line breaks (they would split the response's head).
  statusText: (v) => (typeof v === 'string' && !/[\r\n]/.test(v) ? undefined : 'a string without line breaks'),
  headers: (v) => (typeof v === 'object' && v !== null ? undefined : 'a Headers, an array of [name, value] pairs or a record of strings'),
};

/** The checked headers of `init`, with each of `defaults` the caller did not set. */
function responseHeaders(where: string, init: TextStreamResponseInit | undefined, defaults: Readonly<Record<string, string>>): Headers {
  c.checkOptions(where, init, initShape);
  let headers: Headers;
  try {
    headers = new Headers(init?.headers);
  } catch (err) {
    c.fail(where, `'headers' are not valid HTTP headers (${(err as Error).message})`);
  }
  for (const [name, value] of Object.entries(defaults)) if (!headers.has(name)) headers.set(name, value);
  return headers;
}

/** `headers` as Node's `writeHead` takes them; each `Set-Cookie` stays a value of its own. */
function headerRecord(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') record[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies;
  return record;
}

/**
 * The text deltas of `batches` as UTF-8, one chunk per batch (a burst of deltas is one write); a
 * run that failed throws its error after the text that came before it.
 */
async function* utf8Text(batches: AsyncIterable<StreamPart[]>): AsyncGenerator<Uint8Array, void, undefined> {
  const encoder = new TextEncoder();
  // A burst may end in the first half of a surrogate pair (an emoji split across deltas): it waits
  // for its second half, else each half would be encoded alone as U+FFFD.
  let held = '';
  for await (const batch of batches) {
    let text = held;
    let failure: { error: unknown } | undefined;
    for (const part of batch) {
      if (part.type === 'text-delta') text += part.text;
      else if (part.type === 'error') {
        failure = part;
        break;
      }
    }
    const last = text.charCodeAt(text.length - 1);
    held = last >= 0xd800 && last <= 0xdbff && !failure ? text.slice(-1) : '';
    if (held) text = text.slice(0, -1);
    if (text.length > 0) yield encoder.encode(text);
    if (failure) throw failure.error;
  }
  if (held) yield encoder.encode(held);
}

/** A web `Response` whose body streams the text of `batches` (read as the client reads: backpressure holds). */
export function textStreamResponse(batches: AsyncIterable<StreamPart[]>, init?: TextStreamResponseInit): Response {
  return streamResponse('toTextStreamResponse', () => utf8Text(batches), init, TEXT_HEADERS);
}

/**
 * Writes the text of `batches` to `response` as it streams, waiting for `drain` when the socket is
 * full. A wrong argument (or a response whose head was sent already) throws here, at the call;
 * after that the promise resolves when the response ended: finished, destroyed because the run
 * failed (with the run's error), or closed by the client. It never rejects, so a handler that does
 * not await it cannot leave an unhandled rejection.
 */
export function pipeTextStream(batches: AsyncIterable<StreamPart[]>, response: ServerResponseLike, init?: TextStreamResponseInit): Promise<void> {
  return pipeStream('pipeTextStreamToResponse', () => utf8Text(batches), response, init, TEXT_HEADERS);
}

/** A web `Response` streaming the bytes `body()` makes once the client reads, with `defaults` among its headers. */
export function streamResponse(where: string, body: () => AsyncGenerator<Uint8Array, void, undefined>, init: TextStreamResponseInit | undefined, defaults: Readonly<Record<string, string>>): Response {
  const headers = responseHeaders(where, init, defaults);
  let chunks: AsyncGenerator<Uint8Array, void, undefined> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      chunks ??= body();
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    // The client went away: stop reading the run (the run itself goes on; pass `abortSignal` to stop it).
    async cancel() {
      await chunks?.return();
    },
  });
  return new Response(stream, { status: init?.status ?? 200, statusText: init?.statusText, headers });
}

/** Writes the bytes `body()` makes to Node's `response` (see {@link pipeTextStream}), with `defaults` among its headers. */
export function pipeStream(
  where: string,
  body: () => AsyncGenerator<Uint8Array, void, undefined>,
  response: ServerResponseLike,
  init: TextStreamResponseInit | undefined,
  defaults: Readonly<Record<string, string>>,
): Promise<void> {
  const headers = responseHeaders(where, init, defaults);
  const methods = ['writeHead', 'write', 'end', 'destroy', 'once'] as const;
  if (typeof response !== 'object' || response === null || methods.some((m) => typeof response[m] !== 'function'))
    c.fail(where, `expected a Node http.ServerResponse (or an object with writeHead, write, end, destroy and once), got ${c.describe(response)}`);
  const client = { closed: false, wake: undefined as (() => void) | undefined };
  response.once('close', () => {
    client.closed = true;
    client.wake?.();
  });
  response.writeHead(init?.status ?? 200, headerRecord(headers));
  return pump(body(), response, client);
}

/** Writes `chunks` to `response` until they end, the run fails or the client goes away. */
async function pump(chunks: AsyncGenerator<Uint8Array, void, undefined>, response: ServerResponseLike, client: { closed: boolean; wake: (() => void) | undefined }): Promise<void> {
  try {
    for (;;) {
      const next = await chunks.next();
      if (client.closed || response.destroyed) return;
      if (next.done) break;
      if (!response.write(next.value)) {
        await new Promise<void>((resolve) => {
          client.wake = resolve;
          response.once('drain', resolve);
        });
        client.wake = undefined;
        if (client.closed) return;
      }
    }
    response.end();
  } catch (error) {
    response.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    await chunks.return();
  }
}
