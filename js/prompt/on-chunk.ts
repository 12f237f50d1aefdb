/**
 * The AI SDK's `onChunk` on `runPrompt`: called with `{chunk}` for each part of `fullStream` that
 * is the model's output or a tool's (`text-delta`, `reasoning-delta`, `tool-call`, `tool-result`,
 * `tool-error`, and `raw` with `includeRawChunks`), in the stream's order. Each call waits for the
 * previous one's promise, a step's `onStepFinish` waits for its chunks' reports (a tool's result
 * is reported before its step finishes, as in the AI SDK), and the run's result settles after the
 * last; the model's stream does not
 * wait for them (the host cannot hold a provider's stream back). A callback that throws or rejects is an `error` event (source
 * `handler`), as `onStepFinish`'s is, and the next chunk is still reported.
 *
 * @module
 */
import type { RunEvent, RunEvents } from '../run/events.js';
import type { StreamPart } from './result.js';

/** The parts of `fullStream` that `onChunk` gets. */
export type ChunkPart = Extract<StreamPart, { type: 'text-delta' | 'reasoning-delta' | 'tool-call' | 'tool-result' | 'tool-error' | 'raw' }>;

/** The run config's `onChunk`. */
export interface ChunkCallback {
  /** The AI SDK's: called for each text, reasoning and tool part of the stream, in order (see the module comment). */
  onChunk?: (event: { chunk: ChunkPart }) => void | PromiseLike<void>;
}

const CHUNK_TYPES = new Set<string>(['text-delta', 'reasoning-delta', 'tool-call', 'tool-result', 'tool-error', 'raw']);

/** A watcher of the result's parts that reports chunks to `onChunk`; `reported()` settles once the chunks so far are. */
export type ChunkReporter = ((part: StreamPart) => void) & { reported(this: void): Promise<unknown> };

/** A watcher of the result's parts that reports the chunks to `onChunk` one after another. */
export function chunkReporter(onChunk: NonNullable<ChunkCallback['onChunk']>, events: RunEvents): ChunkReporter {
  let previous: Promise<unknown> = Promise.resolve();
  const watch = (part: StreamPart): void => {
    if (!CHUNK_TYPES.has(part.type)) return;
    const chunk = part as ChunkPart;
    void events.call('onChunk', { type: chunk.type, path: ['root'] } as Partial<RunEvent> as RunEvent, () => {
      const reported = previous.then(() => onChunk({ chunk }));
      previous = reported.catch(() => {}); // a failed report does not stop the next
      return reported;
    });
  };
  return Object.assign(watch, { reported: () => previous });
}
