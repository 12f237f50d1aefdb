/**
 * Deciding what a 2xx response body is before parsing it: an SSE stream, a JSON document, or
 * something else (an HTML page from a proxy or a captive portal). The content type decides when it
 * is clear; otherwise the first bytes do, and they are replayed to the parser afterwards.
 */
import { AbortError } from '../errors.js';

/** What a body holds. */
export type BodyKind = 'sse' | 'json' | 'other';

/** The kind a content type announces, or `undefined` when it does not say (`text/plain`, none). */
export function kindOfContentType(contentType: string | null): BodyKind | undefined {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('text/event-stream')) return 'sse';
  if (/\bjson\b/.test(ct)) return 'json';
  if (/html|xml/.test(ct)) return 'other';
  return undefined;
}

/** Bytes looked at before giving up on finding the first significant character. */
const SNIFF_LIMIT = 64 * 1024;

/** A body whose first bytes were read to decide its kind; `body` replays them. */
export interface SniffedBody {
  kind: BodyKind;
  body: ReadableStream<Uint8Array>;
}

/**
 * Reads the body up to its first non-blank byte: `{` or `[` is JSON, `<` is markup ('other'), an
 * empty body is 'other', anything else is treated as SSE (the SSE parser then decides). The
 * returned stream yields every byte, including the ones read here.
 */
export async function sniffBody(body: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<SniffedBody> {
  const reader = body.getReader();
  const buffered: Uint8Array[] = [];
  let seen = 0;
  let first: number | undefined;
  let ended = false;
  while (first === undefined && seen < SNIFF_LIMIT) {
    const chunk = await readOrAbort(reader, signal);
    if (chunk.done) {
      ended = true;
      break;
    }
    buffered.push(chunk.value);
    seen += chunk.value.length;
    first = firstSignificantByte(chunk.value);
  }
  const replay = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = buffered.shift();
      if (next) {
        controller.enqueue(next);
        return;
      }
      if (ended) {
        controller.close();
        return;
      }
      const r = await reader.read();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { kind: kindOfFirstByte(first), body: replay };
}

function kindOfFirstByte(b: number | undefined): BodyKind {
  if (b === undefined) return 'other';
  if (b === 0x7b /* { */ || b === 0x5b /* [ */) return 'json';
  if (b === 0x3c /* < */) return 'other';
  return 'sse';
}

/** The first byte that is not whitespace or part of a UTF-8 byte order mark. */
function firstSignificantByte(bytes: Uint8Array): number | undefined {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b;
  }
  return undefined;
}

async function readOrAbort(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal?: AbortSignal,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  if (signal?.aborted) {
    reader.cancel().catch(() => undefined);
    throw new AbortError();
  }
  if (!signal) return reader.read();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reader.cancel().catch(() => undefined);
      reject(new AbortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    reader.read().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? new AbortError() : (e as Error)); // passed through as it came
      },
    );
  });
}

/** Reads at most `limit` characters of a body as text (for error messages), then cancels it. */
export async function readPrefix(body: ReadableStream<Uint8Array> | null, limit: number, signal?: AbortSignal): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const chunk = await readOrAbort(reader, signal);
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return text.slice(0, limit);
}
