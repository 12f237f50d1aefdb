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

function once<T>(handle: Handle, name: string, make: () => T): T {
  const read = (handle[READ] ??= {});
  return (name in read ? read[name] : (read[name] = make())) as T;
}

/** A final value of the result: a promise of it that never counts as unhandled. */
function finalValue<T>(name: string, part: (result: RunResult<unknown>) => Promise<T>): PropertyDescriptor {
  return {
    get(this: Handle): Promise<T> {
      return once(this, name, () => {
        const promise = this.then(({ result }) => part(result));
        promise.catch(() => {});
        return promise;
      });
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

function stream<T>(name: string, part: (result: RunResult<unknown>) => AsyncIterable<T>): PropertyDescriptor {
  return {
    get(this: Handle): AsyncIterable<T> {
      return once(this, name, () => streamOf(this, part));
    },
    enumerable: true,
    configurable: true,
  };
}

/** A method of the result, which works detached from the run too (`const { toUIMessageStream } = run`). */
function method<F extends (...args: never[]) => unknown>(name: string, make: (batches: AsyncIterable<never>) => F): PropertyDescriptor {
  return {
    get(this: Handle): F {
      // A run that fails to start ends the body with that error, as one that fails later does.
      return once(this, name, () => make(streamOf(this, (r) => r.partBatches as AsyncIterable<never>)));
    },
    enumerable: true,
    configurable: true,
  };
}

const prototype = Object.create(Promise.prototype, {
  text: finalValue('text', (r) => r.text),
  reasoningText: finalValue('reasoningText', (r) => r.reasoningText),
  object: finalValue('object', (r) => r.object),
  steps: finalValue('steps', (r) => r.steps),
  usage: finalValue('usage', (r) => r.usage),
  finishReason: finalValue('finishReason', (r) => r.finishReason),
  toolCalls: finalValue('toolCalls', (r) => r.toolCalls),
  toolResults: finalValue('toolResults', (r) => r.toolResults),
  response: finalValue('response', (r) => r.response),
  output: finalValue('output', (r) => r.output),
  textStream: stream('textStream', (r) => r.textStream),
  fullStream: stream('fullStream', (r) => r.fullStream),
  partialObjectStream: stream('partialObjectStream', (r) => r.partialObjectStream),
  partialOutputStream: stream('partialOutputStream', (r) => r.partialOutputStream),
  elementStream: stream('elementStream', (r) => r.elementStream),
  toTextStreamResponse: method('toTextStreamResponse', (batches) => (init?: TextStreamResponseInit) => textStreamResponse(batches, init)),
  pipeTextStreamToResponse: method('pipeTextStreamToResponse', (batches) => (response: ServerResponseLike, init?: TextStreamResponseInit) => pipeTextStream(batches, response, init)),
  toUIMessageStreamResponse: method('toUIMessageStreamResponse', (batches) => <M extends UIMessageLike>(init?: UIMessageStreamResponseInit<M>) => uiMessageStreamResponse(batches, init)),
  pipeUIMessageStreamToResponse: method('pipeUIMessageStreamToResponse', (batches) => <M extends UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>) => pipeUIMessageStream(batches, response, init)),
  toUIMessageStream: method('toUIMessageStream', (batches) => <M extends UIMessageLike>(options?: UIMessageStreamOptions<M>) => uiMessageStream(batches, options)),
}) as object;

/** `started` made a run handle: its prototype gives the result's parts (see above). */
export function asPromptRun<R>(started: Started): R {
  // Reading only `.text` (say) must not leave the start's own rejection unhandled.
  started.catch(() => {});
  return Object.setPrototypeOf(started, prototype) as R;
}
