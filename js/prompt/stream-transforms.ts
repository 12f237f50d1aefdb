/**
 * The AI SDK's `experimental_transform` on `runPrompt`: web `TransformStream`s the run's parts go
 * through, in order, before any reader sees them — `fullStream`, `textStream`, the UI message
 * stream, `onChunk`. They change what is streamed, not the run: `text`, `steps` and the
 * conversation are the model's (unlike the AI SDK, whose results are built from the transformed
 * stream), so a transform that rewrites text changes what the user watches, not what the model
 * reads next. The run's `finish` (or `error`) part goes through them too, and the streams end
 * after the last transform flushed.
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import { describe } from '../config/check.js';
import type { StreamPart } from './result.js';

/** What a transform is built with: the run's tools, and a way to stop the run. */
export interface StreamTransformOptions {
  /** The tools the run offers (config `tools` and `defTool`s), by name, with their description. */
  tools: Record<string, { description?: string }>;
  /**
   * Cancels the run, as its `abortSignal` would (the run fails with an `AbortError`); the parts the
   * transforms already passed on stay in the streams, which end with the `error` part.
   */
  stopStream: () => void;
}

/** One of `experimental_transform`: builds the transform of one run's parts. */
export type StreamTransform = (options: StreamTransformOptions) => TransformStream<StreamPart, StreamPart>;

/** The run config's `experimental_transform`. */
export interface StreamTransformConfig {
  /**
   * The AI SDK's: transforms of the run's stream parts, applied in order before any reader sees
   * them (`fullStream`, `textStream`, the UI message stream, `onChunk`), e.g. `smoothStream()`.
   * They change what is streamed, not the run's `text`, `steps` or conversation.
   */
  experimental_transform?: StreamTransform | readonly StreamTransform[];
  /**
   * The AI SDK's: each chunk of the provider's stream, as it came (an SSE event's JSON, or its text
   * when that is not JSON), also goes to `fullStream` as a `raw` part (and to `onChunk`). For the
   * run's own model calls; not kept in a durable run's journal, so a replay has none.
   */
  includeRawChunks?: boolean;
}

/** @internal Where the transformed parts go: the result's feed. */
export interface PartSink {
  deliver(part: StreamPart): void;
  close(): void;
}

/** @internal The parts of one run on their way through its transforms to `sink`. */
export class TransformedParts {
  private readonly source: ReadableStreamDefaultController<StreamPart>;
  private ended = false;

  constructor(transforms: readonly StreamTransform[], options: StreamTransformOptions, sink: PartSink) {
    let source!: ReadableStreamDefaultController<StreamPart>;
    // Cancelled when a transform fails: the run's later parts have nowhere to go.
    let stream: ReadableStream<StreamPart> = new ReadableStream<StreamPart>({ start: (controller) => void (source = controller), cancel: () => void (this.ended = true) });
    transforms.forEach((transform, i) => {
      const made = transform(options);
      if (!(made instanceof TransformStream)) throw new ConfigError(`runPrompt config.experimental_transform[${i}]: a transform must return a TransformStream, got ${describe(made)}`);
      stream = stream.pipeThrough(made);
    });
    this.source = source;
    void drain(stream.getReader(), sink);
  }

  push(part: StreamPart): void {
    if (!this.ended) this.source.enqueue(part);
  }

  /** No more parts: the sink closes once the transforms flushed. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.source.close();
  }
}

/** Hands the transformed parts to the sink; a transform that fails ends the streams with its error. */
async function drain(reader: ReadableStreamDefaultReader<StreamPart>, sink: PartSink): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      sink.deliver(checkedPart(value));
    }
  } catch (error) {
    sink.deliver({ type: 'error', error });
    reader.cancel(error).catch(() => {});
  }
  sink.close();
}

/** A part a transform made must still be one the streams' readers can take. */
function checkedPart(part: unknown): StreamPart {
  const shape = part as { type?: unknown; text?: unknown; stepNumber?: unknown } | null;
  if (typeof shape !== 'object' || shape === null || typeof shape.type !== 'string')
    throw new ConfigError(`runPrompt config.experimental_transform: a transform passed on ${describe(part)}, expected a stream part (an object with a string 'type')`);
  if ((shape.type === 'text-delta' || shape.type === 'reasoning-delta') && (typeof shape.text !== 'string' || typeof shape.stepNumber !== 'number'))
    throw new ConfigError(`runPrompt config.experimental_transform: a transform passed on a '${shape.type}' part without a string 'text' and a number 'stepNumber' (keep the fields of the part it came from)`);
  return part as StreamPart;
}
