/**
 * Incremental Server-Sent Events parser following the WHATWG "event stream" rules: `data:` lines joined
 * with `\n`, `event:` / `id:` / `retry:` fields, `:` comment lines ignored, CRLF / LF / CR line endings,
 * one leading space after the colon stripped, events dispatched on a blank line. Bytes are decoded with a
 * streaming `TextDecoder`, so chunks may be split anywhere, even inside a multi-byte UTF-8 character.
 */
import { AbortError } from '../errors.js';

/** One dispatched SSE event. */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event id seen so far (`id:` field), when there is one. */
  id?: string;
  /** Reconnection time from a `retry:` field of this event, when it has one. */
  retry?: number;
}

const LF = 10;

/** The index of `ch` in `text` from `from`, or `text.length` when there is none. */
function indexOrEnd(text: string, ch: string, from: number): number {
  const i = text.indexOf(ch, from);
  return i === -1 ? text.length : i;
}

/**
 * Text-level SSE parser: feed decoded text with {@link SseParser.push}; it returns the events completed
 * by that text. Keeps partial lines and partial events between calls.
 */
export class SseParser {
  private line = '';
  private skipLeadingLF = false;
  private dataLines: string[] = [];
  private hasData = false;
  private eventType = '';
  private lastEventId: string | undefined;
  private retry: number | undefined;

  /** Parses more text and returns the events it completed (possibly none). */
  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    const n = text.length;
    if (n === 0) return out;
    let start = 0;
    if (this.skipLeadingLF) {
      this.skipLeadingLF = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // Line breaks are found with indexOf (fast native scans); the next CR is cached so text
    // without any CR is scanned for it once, not once per line.
    let nextLF = -1;
    let nextCR = -1;
    while (start < n) {
      if (nextLF < start) nextLF = indexOrEnd(text, '\n', start);
      if (nextCR < start) nextCR = indexOrEnd(text, '\r', start);
      const i = nextLF < nextCR ? nextLF : nextCR;
      if (i === n) break;
      const line = this.line === '' ? text.slice(start, i) : this.line + text.slice(start, i);
      this.line = '';
      start = i + 1;
      if (i === nextCR) {
        if (start < n) {
          if (text.charCodeAt(start) === LF) start++;
        } else {
          this.skipLeadingLF = true; // a CRLF may be split across chunks
        }
      }
      const ev = this.processLine(line);
      if (ev) out.push(ev);
    }
    if (start < n) this.line += text.slice(start);
    return out;
  }

  /**
   * Ends the stream. Per the WHATWG rules an event not terminated by a blank line is discarded, so this
   * returns nothing; it only resets the parser state.
   */
  end(): SseEvent[] {
    this.line = '';
    this.skipLeadingLF = false;
    this.resetEvent();
    return [];
  }

  private resetEvent(): void {
    this.dataLines = [];
    this.hasData = false;
    this.eventType = '';
    this.retry = undefined;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58 /* ':' */) return undefined;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (!this.hasData) {
      this.resetEvent();
      return undefined;
    }
    const ev: SseEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
    if (this.lastEventId !== undefined) ev.id = this.lastEventId;
    if (this.retry !== undefined) ev.retry = this.retry;
    this.resetEvent();
    return ev;
  }
}

/**
 * Reads a byte stream (e.g. a `fetch` response body) and yields its SSE events as they complete.
 * When `signal` fires, the read is cancelled and the generator throws `AbortError`. Errors of the
 * underlying stream (a connection cut mid-way) are rethrown as they are. Breaking out of the loop
 * cancels the stream.
 */
export async function* readSseEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent, void, undefined> {
  if (signal?.aborted) throw new AbortError();
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  let finished = false;
  const onAbort = (): void => {
    reader.cancel().catch(() => undefined);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw new AbortError();
        throw err;
      }
      if (signal?.aborted) throw new AbortError();
      if (chunk.done) break;
      for (const ev of parser.push(decoder.decode(chunk.value, { stream: true }))) yield ev;
    }
    finished = true;
    for (const ev of parser.push(decoder.decode())) yield ev;
    parser.end();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished) reader.cancel().catch(() => undefined);
    try {
      reader.releaseLock();
    } catch {
      // a pending read may still hold the lock; the stream is cancelled anyway
    }
  }
}
