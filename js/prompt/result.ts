/**
 * The `result` of `runPrompt`, shaped like the Vercel AI SDK's `streamText` result: promises for the
 * final values and async iterables over the stream. Every part is kept (js/prompt/part-log.ts), so
 * each stream can be read (even several times, even after the run ended) without losing anything.
 */
import { ConfigError, ValidationError } from '../errors.js';
import type { CallWarning, FinishReason, Message, ReasoningBlockEnd, TextBlockEnd, Usage } from '../providers/types.js';
import type { RunEvent } from '../run/events.js';
import type { DeepPartial, InputArgsOf } from '../schema-types.js';
import { PartFeed } from './part-log.js';
import { partialObjects } from './partial-objects.js';
import { completeElements, type OutputPlan } from './output.js';
import { pipeTextStream, textStreamResponse, type ServerResponseLike, type TextStreamResponseInit } from './text-response.js';
import { pipeUIMessageStream, uiMessageStream, uiMessageStreamResponse, type UIMessageChunkStream, type UIMessageLike, type UIMessageStreamOptions, type UIMessageStreamResponseInit } from './ui-messages.js';
import { CallWarnings } from '../run/warnings.js';
import { TransformedParts, type StreamTransform, type StreamTransformOptions } from './stream-transforms.js';

/** A tool call as the step loop saw it. */
export interface ToolCall<NAME extends string = string, ARGS = unknown> {
  toolCallId: string;
  toolName: NAME;
  args: ARGS;
  /**
   * The call failed the checks and did not run (the AI SDK's invalid call): a tool the step did
   * not offer, or arguments that are not JSON (`args` null) or do not fit the tool's parameters.
   * `args` are what the model wrote; the result is the error the model got.
   */
  invalid?: boolean;
}

/** A tool call with its outcome (`result`, or `{error}` when it failed). */
export interface ToolResult<NAME extends string = string, ARGS = unknown> extends ToolCall<NAME, ARGS> {
  type: 'tool-result';
  result: unknown;
  isError?: boolean;
}

/**
 * The calls of a run whose `tools` type their parameters (`runPrompt({tools})`): one member per
 * tool, its `args` typed by the tool's schema as the model wrote them (a zod schema's input type:
 * its transforms and defaults are what the tool's `execute` gets), and the calls that failed the checks
 * (`invalid: true`, any name, `args` as the model wrote them). Narrow on `invalid`, then on
 * `toolName`. Without typed tools, {@link ToolCall}.
 */
export type TypedToolCall<TOOLS> = string extends keyof TOOLS
  ? ToolCall
  : { [NAME in keyof TOOLS & string]: ToolCall<NAME, InputArgsOf<TOOLS[NAME]>> & { invalid?: false } }[keyof TOOLS & string] | (ToolCall & { invalid: true });

/** The result of each kind of call in `CALL` (a union of {@link ToolCall}s), with the call's own fields. */
export type ToolResultOf<CALL extends ToolCall> = CALL extends ToolCall ? CALL & Omit<ToolResult, keyof ToolCall> : never;

/** One finished step; `CALL` is the type of its tool calls ({@link TypedToolCall} for typed tools). */
export interface StepResult<CALL extends ToolCall = ToolCall> {
  stepNumber: number;
  /** The id of the model that answered this step, as it was configured (`gpt-4o`, not the provider's dated `gpt-4o-2024-08-06`: prices and caches are keyed by it). */
  model: string;
  text: string;
  /** The model's reasoning (thinking) in this step, where the provider returns it; absent otherwise. */
  reasoningText?: string;
  toolCalls: CALL[];
  toolResults: Array<ToolResultOf<CALL>>;
  finishReason: FinishReason;
  usage: Usage;
  /** What the provider said about its answer, where it said it (a model of lmthing's providers always; `mockModel` never). */
  response?: StepResponse;
}

/** A step's {@link StepResult.response}: the provider's id of the answer, its time and the HTTP response's headers. */
export interface StepResponse {
  /** The provider's id of the response (`chatcmpl-...`, `msg_...`). */
  id?: string;
  /** When the response was made, ms since the epoch (OpenAI's `created`, else when its headers arrived). `result.response.timestamp` is the last step's as a `Date`. */
  timestamp?: number;
  /** The HTTP response's headers, names in lower case (rate limits, request ids); `set-cookie` is left out. */
  headers?: Record<string, string>;
}

/**
 * The parts of `fullStream`: the model's text as it streams, every run event (steps, tool calls and
 * results, retries, approvals ... of the run and its sub-agents, each with its `path`), then the
 * run's end (`finish` or `error`).
 */
export type StreamPart =
  | { type: 'text-delta'; text: string; stepNumber: number }
  /**
   * A reasoning block begins (a thinking block, a reasoning item, a thought part): the reasoning
   * deltas after it are that block's, up to the next `reasoning-start`.
   */
  | { type: 'reasoning-start'; stepNumber: number }
  /** The model's reasoning (thinking) as it streams, where the provider exposes it. */
  | { type: 'reasoning-delta'; text: string; stepNumber: number }
  /**
   * One reasoning block of a model call ended, after the call ended (one per block, in the answer's
   * order): `length` characters of the step's reasoning deltas, and the provider's signature of
   * the block, which must go back with it (the UI message stream sends it as `providerMetadata`).
   */
  | ({ type: 'reasoning-end'; stepNumber: number } & ReasoningBlockEnd)
  /**
   * One text block of a model call ended, when the provider signed the answer's text (Gemini's
   * thought signature on a text part): one per text block, after the call's deltas, so the UI
   * message stream can send the signature with the text it belongs to.
   */
  | ({ type: 'text-end'; stepNumber: number } & TextBlockEnd)
  /** A message sent through `experimental_steering`, before the output of the step that received it. */
  | { type: 'steering-message'; id: string; message: Message & { role: 'user' }; stepNumber: number }
  /** One chunk of the provider's stream as it came, for a run with `includeRawChunks` (an SSE event's JSON). */
  | { type: 'raw'; rawValue: unknown; stepNumber: number }
  | RunEvent
  | { type: 'finish'; finishReason: FinishReason; usage: Usage; text: string }
  | { type: 'error'; error: unknown };

/** The run's response: its messages and the model that answered last (`result.response`). */
export interface ResponseInfo {
  /**
   * The whole conversation at the end of the run, system prompt excluded: the messages it started
   * with, then every assistant turn and tool result. Pass it back as `messages` (with the next user
   * message) to continue the chat. Unlike the AI SDK, this is the whole list, not only the new part.
   */
  messages: Message[];
  /** The id of the model that answered the last step, as configured ({@link StepResult.model}); absent when the run made no model call. */
  modelId?: string;
  /** The provider's id of the last step's response, as the AI SDK's `response.id`; absent when the provider gave none (`mockModel`). */
  id?: string;
  /** When the last step's response was made, as the AI SDK's `response.timestamp` ({@link StepResponse.timestamp}). */
  timestamp?: Date;
  /** The last step's HTTP response headers, as the AI SDK's `response.headers` ({@link StepResponse.headers}). */
  headers?: Record<string, string>;
}

/** A {@link Deferred}'s promise and what settles it. */
interface Made<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * A final value of the run, as a promise whose rejection is not reported as unhandled if the user
 * never awaits it. The promise is made when first read: a run settles nine of these and its caller
 * usually reads one or two. Settling twice keeps the first outcome, as a promise does.
 */
class Deferred<T> {
  private outcome: { ok: true; value: T } | { ok: false; error: () => unknown } | undefined;
  private made: Made<T> | undefined;

  get promise(): Promise<T> {
    if (this.made) return this.made.promise;
    let resolve!: (value: T) => void, reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {});
    this.made = { promise, resolve, reject };
    if (this.outcome?.ok) resolve(this.outcome.value);
    else if (this.outcome) reject(this.outcome.error());
    return promise;
  }

  resolve(value: T): void {
    if (this.outcome) return;
    this.outcome = { ok: true, value };
    this.made?.resolve(value);
  }

  reject(error: unknown): void {
    this.refuse(() => error);
  }

  /** Rejects with the error `make` builds, built only for a reader (building an error takes its stack). */
  refuse(make: () => unknown): void {
    if (this.outcome) return;
    this.outcome = { ok: false, error: make };
    this.made?.reject(make());
  }
}

/**
 * The streaming result of one prompt run; `OBJECT` is the type of its `responseSchema`'s (or
 * `output`'s) value, `PARTIAL` that of the values `partialObjectStream` gives while it streams
 * (unvalidated JSON: for a zod schema, what zod parses, every member optional).
 */
export class RunResult<OBJECT = never, PARTIAL = DeepPartial<OBJECT>, CALL extends ToolCall = ToolCall> {
  private readonly parts = new PartFeed<StreamPart>();
  private watcher?: (part: StreamPart) => void;
  /** The run's `experimental_transform`s, which the parts go through first. */
  private transformed?: TransformedParts;
  private structured = false;
  /** An `output`'s view of the partial JSON (js/prompt/output.ts); the JSON itself otherwise. */
  private partialView: (value: unknown, complete: boolean) => unknown = (value) => value;
  /** `Output.array`'s element parse, for {@link elementStream}. */
  private elementParse: OutputPlan['element'];
  private readonly final = {
    text: new Deferred<string>(),
    steps: new Deferred<StepResult[]>(),
    usage: new Deferred<Usage>(),
    finishReason: new Deferred<FinishReason>(),
    reasoningText: new Deferred<string | undefined>(),
    toolCalls: new Deferred<ToolCall[]>(),
    toolResults: new Deferred<ToolResult[]>(),
    response: new Deferred<ResponseInfo>(),
    // `unknown` here: OBJECT only in what the result gives out keeps RunResult<never> a RunResult<unknown>.
    object: new Deferred<unknown>(),
    warnings: new Deferred<CallWarning[]>(),
  };
  /** The model calls' warnings so far, each once. */
  private readonly warningList = new CallWarnings();

  /** The last step's text. */
  get text(): Promise<string> {
    return this.final.text.promise;
  }
  /** Every finished step. */
  get steps(): Promise<Array<StepResult<CALL>>> {
    // The engine's records; CALL only narrows what they are typed as.
    return this.final.steps.promise as Promise<Array<StepResult<CALL>>>;
  }
  /** Tokens summed over all steps (and retries that returned usage). */
  get usage(): Promise<Usage> {
    return this.final.usage.promise;
  }
  /** @deprecated The AI SDK's older name of {@link usage}, which is already the sum over all steps. */
  get totalUsage(): Promise<Usage> {
    return this.final.usage.promise;
  }
  /**
   * What the run's model calls (sub-agents' included) could not honour, each once: a generation
   * setting a provider's API does not have, which was left out of its request. Empty when none.
   */
  get warnings(): Promise<CallWarning[]> {
    return this.final.warnings.promise;
  }
  /**
   * Waits for the run to end without reading its parts (the AI SDK's `consumeStream`). The run does
   * not need a reader to go on, so this only waits; a failure goes to `onError` and is not thrown.
   */
  async consumeStream(options: { onError?: (error: unknown) => void } = {}): Promise<void> {
    try {
      await this.final.steps.promise;
    } catch (error) {
      options.onError?.(error);
    }
  }
  /** Why the last step ended. */
  get finishReason(): Promise<FinishReason> {
    return this.final.finishReason.promise;
  }
  /** The last step's reasoning (thinking), where the provider returns it; `undefined` otherwise. */
  get reasoningText(): Promise<string | undefined> {
    return this.final.reasoningText.promise;
  }
  /** The last step's tool calls. */
  get toolCalls(): Promise<CALL[]> {
    return this.final.toolCalls.promise as Promise<CALL[]>;
  }
  /** The last step's tool results. */
  get toolResults(): Promise<Array<ToolResultOf<CALL>>> {
    return this.final.toolResults.promise as Promise<Array<ToolResultOf<CALL>>>;
  }

  /**
   * The final answer parsed as JSON and validated by the run's `responseSchema` (a run without one
   * rejects with a `ConfigError`). An answer that fails the schema goes back to the model with the
   * validator's message (`responseSchemaRetries` times, 2 by default); then the run fails with a
   * `ValidationError`.
   */
  get object(): Promise<OBJECT> {
    return this.final.object.promise as Promise<OBJECT>;
  }

  /**
   * The structured answer while it streams, for a run with a `responseSchema`: the value its JSON
   * holds so far, each time it changes (strings grow as they stream; numbers, `true`/`false`/`null`
   * and object keys appear once complete). Partial values are not validated: the schema checks the
   * whole answer, which {@link object} gives. A step's answer starts over from `{}`-like values (a
   * tool round, or an answer the schema refused and the model gives again). A run without a
   * `responseSchema` throws a `ConfigError` when this is read.
   */
  get partialObjectStream(): AsyncIterable<PARTIAL> {
    if (!this.structured) throw new ConfigError('result.partialObjectStream: the run has no responseSchema, so its answer is text (read result.textStream, or pass responseSchema to runPrompt)');
    return { [Symbol.asyncIterator]: () => partialObjects(this.fullStream, this.partialView) as AsyncGenerator<PARTIAL, void, undefined> };
  }

  /**
   * The AI SDK's name for the answer: the validated object of a run with `output` or
   * `responseSchema` ({@link object}), the text otherwise.
   */
  get output(): Promise<[OBJECT] extends [never] ? string : OBJECT> {
    return (this.structured ? this.final.object.promise : this.final.text.promise) as Promise<[OBJECT] extends [never] ? string : OBJECT>;
  }

  /**
   * The AI SDK's name for {@link partialObjectStream}: for `Output.array`, the elements complete so
   * far; for `Output.choice`, the choice once the text can only become that one.
   */
  get partialOutputStream(): AsyncIterable<PARTIAL> {
    return this.partialObjectStream;
  }

  /**
   * For `output: Output.array(...)`: each element once, as soon as it is complete (parsed by zod for
   * a zod element; otherwise the JSON, which the schema checks with the whole answer). An answer
   * the schema refuses does not take back the elements already given; the model's next answer
   * continues the stream from the first index not given. Other runs throw a `ConfigError`.
   */
  get elementStream(): AsyncIterable<OBJECT extends ReadonlyArray<infer E> ? E : never> {
    const parse = this.elementParse;
    if (!parse) throw new ConfigError("result.elementStream: the run's output is not an array (pass output: Output.array({ element }), or read partialObjectStream)");
    return { [Symbol.asyncIterator]: () => completeElements(partialObjects(this.fullStream, this.partialView), parse) as AsyncGenerator<OBJECT extends ReadonlyArray<infer E> ? E : never, void, undefined> };
  }

  /** The final conversation ({@link ResponseInfo}), for the next turn of a chat. */
  get response(): Promise<ResponseInfo> {
    return this.final.response.promise;
  }

  /** Every step's text deltas, in order. */
  get textStream(): AsyncIterable<string> {
    return { [Symbol.asyncIterator]: () => this.textDeltas() };
  }

  /** All parts: text deltas, tool calls and results, step and run completion, errors. */
  get fullStream(): AsyncIterable<StreamPart> {
    return { [Symbol.asyncIterator]: () => this.partsFromStart() };
  }

  /**
   * The run's text as a streaming HTTP response (`text/plain; charset=utf-8`), for a route handler:
   * `return runPrompt(...).toTextStreamResponse()`. If the run fails after the body started, the
   * body ends with the error, so the client's reader throws instead of seeing a cut answer as
   * complete. A client that goes away stops the reading, not the run: pass the request's signal as
   * `abortSignal` for that.
   */
  toTextStreamResponse(init?: TextStreamResponseInit): Response {
    return textStreamResponse(this.partBatches, init);
  }

  /**
   * Writes the run's text to a Node `http.ServerResponse` as it streams (with backpressure). A run
   * that fails after the head was sent destroys the response with its error. A wrong argument
   * throws at the call; the promise resolves when the response ended, however it ended, and never
   * rejects.
   */
  pipeTextStreamToResponse(response: ServerResponseLike, init?: TextStreamResponseInit): Promise<void> {
    return pipeTextStream(this.partBatches, response, init);
  }

  /**
   * The run as the AI SDK's UI message stream, for a chat front end on its `useChat`: a web
   * `Response` of server-sent chunks (text, reasoning, tool calls and their outcomes, steps, the
   * finish), with the headers its client expects. `init` holds the response's `status` and
   * `headers` and the stream's options ({@link UIMessageStreamOptions}). A failed run ends the
   * stream with an `error` chunk whose text is `An error occurred.` unless `onError` says otherwise.
   * Turn the chat's UI messages into a run's `messages` with `fromUIMessages`.
   */
  toUIMessageStreamResponse<M extends UIMessageLike = UIMessageLike>(init?: UIMessageStreamResponseInit<M>): Response {
    return uiMessageStreamResponse(this.partBatches, init);
  }

  /** {@link toUIMessageStreamResponse} for Node's `http.ServerResponse` (as {@link pipeTextStreamToResponse}). */
  pipeUIMessageStreamToResponse<M extends UIMessageLike = UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>): Promise<void> {
    return pipeUIMessageStream(this.partBatches, response, init);
  }

  /**
   * The UI message stream's chunks as objects, for a transport of one's own or the AI SDK's
   * `createUIMessageStream` (`writer.merge(result.toUIMessageStream())`): a web stream that
   * `for await` reads too.
   */
  toUIMessageStream<M extends UIMessageLike = UIMessageLike>(options?: UIMessageStreamOptions<M>): UIMessageChunkStream {
    return uiMessageStream(this.partBatches, options);
  }

  /** @internal All parts from the first, in batches of what the run has at once. */
  get partBatches(): AsyncIterable<StreamPart[]> {
    return { [Symbol.asyncIterator]: () => this.parts.readBatches() };
  }

  /** One reader of {@link textStream}. */
  private async *textDeltas(): AsyncGenerator<string, void, undefined> {
    for await (const part of this.fullStream) if (part.type === 'text-delta') yield part.text;
  }

  /** One reader of {@link fullStream}: every part from the first, waiting for the next until the run closes. */
  private partsFromStart(): AsyncGenerator<StreamPart, void, undefined> {
    return this.parts.read();
  }

  /** @internal The run has a `responseSchema`: its answer is an object ({@link partialObjectStream}). */
  expectObject(output?: Pick<OutputPlan, 'partial' | 'element'>): void {
    this.structured = true;
    if (output) this.partialView = output.partial;
    this.elementParse = output?.element;
  }

  /** @internal Appends a part and wakes the readers (and the run's `onChunk`), after the run's transforms. */
  push(part: StreamPart): void {
    if (this.transformed) this.transformed.push(part);
    else this.deliver(part);
  }

  /** @internal Sends the parts through `transforms` (`experimental_transform`) before any reader sees them. */
  transformWith(transforms: readonly StreamTransform[], options: StreamTransformOptions): void {
    this.transformed = new TransformedParts(transforms, options, { deliver: (part) => this.deliver(part), close: () => this.parts.close() });
  }

  private deliver(part: StreamPart): void {
    this.parts.push(part);
    this.watcher?.(part);
  }

  /** No part will come from the run (the feed closes once the transforms flushed). */
  private endParts(): void {
    if (this.transformed) this.transformed.close();
    else this.parts.close();
  }

  /** @internal Sees every part as it is appended (`onChunk`). */
  watchParts(watcher: (part: StreamPart) => void): void {
    this.watcher = watcher;
  }

  /**
   * @internal A model call of step `stepNumber` ended with `whole` as its text (or reasoning): the
   * log's deltas of that step become views of it instead of a copy (PartLog.share).
   */
  shareStreamed(type: 'text-delta' | 'reasoning-delta', stepNumber: number, whole: string): void {
    this.parts.share(type, stepNumber, whole);
  }

  /** @internal A model call of the run could not honour these (see {@link warnings}). */
  addWarnings(warnings: readonly CallWarning[]): void {
    this.warningList.add(warnings);
  }

  /** @internal Ends the run successfully; `object` holds the validated answer of a run with a `responseSchema`. */
  succeed(steps: StepResult[], usage: Usage, finishReason: FinishReason, text: string, response: ResponseInfo, object?: { value: unknown }): void {
    const last = steps[steps.length - 1];
    this.push({ type: 'finish', finishReason, usage, text });
    this.final.text.resolve(text);
    this.final.steps.resolve(steps);
    this.final.usage.resolve(usage);
    this.final.finishReason.resolve(finishReason);
    this.final.reasoningText.resolve(last?.reasoningText);
    this.final.toolCalls.resolve(last?.toolCalls ?? []);
    this.final.toolResults.resolve(last?.toolResults ?? []);
    this.final.response.resolve(response);
    this.final.warnings.resolve(this.warningList.list());
    if (object) this.final.object.resolve(object.value);
    else if (this.structured)
      // The run ended before the model gave a final answer (a stop condition or maxSteps during tool calls).
      this.final.object.refuse(
        () =>
          new ValidationError(
            `result.object: the run ended without a final answer to parse (its last step finished with "${finishReason}"${last?.toolCalls.length ? ', calling tools' : ''}): no structured output was generated`,
          ),
      );
    else this.final.object.refuse(() => new ConfigError('result.object: the run has no responseSchema, so its answer is text (read result.text, or pass responseSchema to runPrompt)'));
    this.endParts();
  }

  /** @internal Ends the run with an error: the promises reject, the streams end after an error part. */
  fail(error: unknown): void {
    this.push({ type: 'error', error });
    for (const deferred of Object.values(this.final)) deferred.reject(error);
    this.endParts();
  }
}
