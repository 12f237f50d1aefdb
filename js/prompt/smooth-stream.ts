/**
 * `smoothStream()`: a stream transform for `runPrompt`'s `experimental_transform` that re-cuts the
 * model's text and reasoning deltas into words (or lines, or chunks of one's own), one every
 * `delayInMs`, so a UI shows the answer at an even pace whatever sizes the provider streams in.
 * Every other part passes through unchanged, after the text buffered before it.
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import * as c from '../config/check.js';
import type { StreamPart } from './result.js';
import type { StreamTransform } from './stream-transforms.js';

/** Finds the first chunk of `buffer`: a prefix of it, or `undefined`/`null` when it has no whole chunk yet. */
export type ChunkDetector = (buffer: string) => string | undefined | null;

/** What a segmenter must offer (the standard `Intl.Segmenter`). */
export interface SegmenterLike {
  segment(input: string): Iterable<{ segment: string; index: number; isWordLike?: boolean }>;
}

/** The options of {@link smoothStream}. */
export interface SmoothStreamOptions {
  /**
   * Milliseconds between two chunks (default 10); `null` or 0 sends them without waiting. No wait
   * while a browser page is hidden (its timers are throttled there).
   */
  delayInMs?: number | null;
  /**
   * How the text is cut: `'word'` (default: a word and the whitespace after it), `'line'` (up to
   * and including a run of newlines), a `RegExp` (the text up to and including its first match; it
   * must not match the empty string), an `Intl.Segmenter` (a word and what follows it up to the
   * next word, for languages without spaces), or a {@link ChunkDetector}.
   */
  chunking?: 'word' | 'line' | RegExp | SegmenterLike | ChunkDetector;
}

const WHERE = 'smoothStream';
const WORD = /\S+\s+/m;
const LINE = /\n+/m;

type DeltaPart = Extract<StreamPart, { type: 'text-delta' | 'reasoning-delta' }>;

/**
 * A transform for `experimental_transform` that streams the text in words (or lines, or the chunks
 * `chunking` finds), waiting `delayInMs` between them. Options are checked here: a wrong one throws
 * a `ConfigError`.
 *
 * @example
 * ```ts
 * const { result } = await runPrompt(($) => $`Tell a story`, { model, experimental_transform: smoothStream({ chunking: 'line' }) });
 * ```
 */
export function smoothStream(options: SmoothStreamOptions = {}): StreamTransform {
  c.checkOptions(WHERE, options, {
    delayInMs: (v) => (v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 60_000) ? undefined : 'null or a number of milliseconds from 0 to 60000'),
    chunking: (v) => (v === 'word' || v === 'line' || v instanceof RegExp || typeof v === 'function' || isSegmenter(v) ? undefined : "'word', 'line', a RegExp, an Intl.Segmenter or a function (buffer) => chunk"),
  });
  const delayInMs = options.delayInMs === undefined ? 10 : options.delayInMs;
  const detect = detector(options.chunking ?? 'word');
  return () => {
    let buffered: DeltaPart | undefined;
    let text = '';
    const flush = (controller: TransformStreamDefaultController<StreamPart>) => {
      if (buffered && text) controller.enqueue({ ...buffered, text });
      buffered = undefined;
      text = '';
    };
    return new TransformStream<StreamPart, StreamPart>({
      async transform(part, controller) {
        if (part.type !== 'text-delta' && part.type !== 'reasoning-delta') {
          flush(controller);
          controller.enqueue(part);
          return;
        }
        // Text of another kind or another step starts a new buffer: the old one goes out whole.
        if (buffered && (buffered.type !== part.type || buffered.stepNumber !== part.stepNumber)) flush(controller);
        buffered = part;
        text += part.text;
        for (let chunk = detect(text); chunk; chunk = detect(text)) {
          controller.enqueue({ ...part, text: chunk });
          text = text.slice(chunk.length);
          await pause(delayInMs);
        }
      },
      flush,
    });
  };
}

/** The first chunk of a buffer, per `chunking`. */
function detector(chunking: NonNullable<SmoothStreamOptions['chunking']>): (buffer: string) => string | undefined {
  if (chunking === 'word') return byPattern(WORD);
  if (chunking === 'line') return byPattern(LINE);
  if (chunking instanceof RegExp) {
    // Without g and y, exec keeps no position between buffers.
    const pattern = new RegExp(chunking.source, chunking.flags.replace(/[gy]/g, ''));
    if (pattern.test('')) throw new ConfigError(`${WHERE}: the chunking RegExp ${chunking} matches the empty string, so it would never move on (make it match at least one character)`);
    return byPattern(pattern);
  }
  if (isSegmenter(chunking)) return bySegments(chunking);
  return (buffer) => {
    const chunk = chunking(buffer);
    if (chunk === undefined || chunk === null || chunk === '') return undefined;
    if (typeof chunk !== 'string' || !buffer.startsWith(chunk))
      throw new ConfigError(`${WHERE}: the chunking function must return a prefix of the buffer it was given (or undefined), got ${c.describe(chunk)} for a buffer starting ${JSON.stringify(buffer.slice(0, 40))}`);
    return chunk;
  };
}

/** The buffer up to and including the first match of `pattern`. */
function byPattern(pattern: RegExp): (buffer: string) => string | undefined {
  return (buffer) => {
    const match = pattern.exec(buffer);
    return match ? buffer.slice(0, match.index + match[0].length) : undefined;
  };
}

/** A word and what follows it up to the next word, once the next word has begun. */
function bySegments(segmenter: SegmenterLike): (buffer: string) => string | undefined {
  return (buffer) => {
    let sawWord = false;
    for (const { index, isWordLike } of segmenter.segment(buffer)) {
      if (isWordLike && sawWord && index > 0) return buffer.slice(0, index);
      if (isWordLike) sawWord = true;
    }
    return undefined;
  };
}

function isSegmenter(value: unknown): value is SegmenterLike {
  return typeof value === 'object' && value !== null && typeof (value as SegmenterLike).segment === 'function';
}

function pause(ms: number | null): Promise<void> | undefined {
  if (!ms) return undefined;
  const page = (globalThis as { document?: { visibilityState?: string } }).document;
  if (page?.visibilityState === 'hidden') return undefined;
  return new Promise((resolve) => setTimeout(resolve, ms));
}
