/**
 * What `runPrompt` returns: the promise of the started run, with the result's final values, streams
 * and responses readable on it directly (as the AI SDK's `streamText` result has them). They live on
 * one shared prototype and are made when first read, so a run costs one object here whatever its
 * caller reads (200 concurrent runs spent ≈ 1.5 % of their time making them up front;
 * bench/README.md, "What `runPrompt` made that nobody read").
 */
import type { RunResult } from './result.js';
import { pipeTextStream, textStreamResponse, type ServerResponseLike, type TextStreamResponseInit } from './text-response.js';
import { pipeUIMessageStream, uiMessageStream, uiMessageStreamResponse, type UIMessageLike, type UIMessageStreamOptions, type UIMessageStreamResponseInit } from './ui-messages.js';

type Started = Promise<{ result: RunResult<unknown> }>;

/** The values read so far, by property name (each is made once). */
const READ = Symbol('lmthing.promptRun.read');

type Handle = Started & { [READ]?: Record<string, unknown> };

/** A part made when first read (each handle keeps what it made). */
function lazy(name: string, make: (handle: Handle) => unknown): PropertyDescriptor {
  return {
    get(this: Handle): unknown {
      const read = (this[READ] ??= {});
      return name in read ? read[name] : (read[name] = make(this));
    },
    enumerable: true,
    configurable: true,
  };
}

/** A stream of the result, readable before the run has started. */
function streamOf<T>(handle: Handle, part: (result: RunResult<unknown>) => AsyncIterable<T>): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      const { result } = await handle;
      yield* part(result);
    },
  };
}

/** A final value of the result: a promise of it that never counts as unhandled. */
const finalValue =
  (part: (result: RunResult<unknown>) => Promise<unknown>) =>
  (handle: Handle): Promise<unknown> => {
    const promise = handle.then(({ result }) => part(result));
    promise.catch(() => {});
    return promise;
  };

const stream = (part: (result: RunResult<unknown>) => AsyncIterable<unknown>) => (handle: Handle) => streamOf(handle, part);

/**
 * A method of the result, which works detached from the run too (`const { toUIMessageStream } = run`).
 * A run that fails to start ends the body with that error, as one that fails later does.
 */
const method = (make: (batches: AsyncIterable<never>) => unknown) => (handle: Handle) => make(streamOf(handle, (r) => r.partBatches as AsyncIterable<never>));

const parts: Record<string, (handle: Handle) => unknown> = {
  text: finalValue((r) => r.text),
  reasoningText: finalValue((r) => r.reasoningText),
  object: finalValue((r) => r.object),
  steps: finalValue((r) => r.steps),
  usage: finalValue((r) => r.usage),
  totalUsage: finalValue((r) => r.usage),
  warnings: finalValue((r) => r.warnings),
  finishReason: finalValue((r) => r.finishReason),
  toolCalls: finalValue((r) => r.toolCalls),
  toolResults: finalValue((r) => r.toolResults),
  response: finalValue((r) => r.response),
  output: finalValue((r) => r.output),
  textStream: stream((r) => r.textStream),
  fullStream: stream((r) => r.fullStream),
  partialObjectStream: stream((r) => r.partialObjectStream),
  partialOutputStream: stream((r) => r.partialOutputStream),
  elementStream: stream((r) => r.elementStream),
  toTextStreamResponse: method((batches) => (init?: TextStreamResponseInit) => textStreamResponse(batches, init)),
  pipeTextStreamToResponse: method((batches) => (response: ServerResponseLike, init?: TextStreamResponseInit) => pipeTextStream(batches, response, init)),
  toUIMessageStreamResponse: method((batches) => <M extends UIMessageLike>(init?: UIMessageStreamResponseInit<M>) => uiMessageStreamResponse(batches, init)),
  pipeUIMessageStreamToResponse: method((batches) => <M extends UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>) => pipeUIMessageStream(batches, response, init)),
  toUIMessageStream: method((batches) => <M extends UIMessageLike>(options?: UIMessageStreamOptions<M>) => uiMessageStream(batches, options)),
  consumeStream: (handle: Handle) => (options?: { onError?: (error: unknown) => void }) =>
    handle.then(({ result }) => result.consumeStream(options), (error: unknown) => options?.onError?.(error)),
};

const prototype = Object.create(Promise.prototype, Object.fromEntries(Object.entries(parts).map(([name, make]) => [name, lazy(name, make)]))) as object;

/** `started` made a run handle: its prototype gives the result's parts (see above). */
export function asPromptRun<R>(started: Started): R {
  // Reading only `.text` (say) must not leave the start's own rejection unhandled.
  started.catch(() => {});
  return Object.setPrototypeOf(started, prototype) as R;
}
