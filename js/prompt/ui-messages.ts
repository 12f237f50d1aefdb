/**
 * The AI SDK's UI message stream, for chat front ends built on its `useChat`: a run's parts as the
 * stream's chunks (`result.toUIMessageStreamResponse()`), and the chat's UI messages as the model
 * messages a run takes (`fromUIMessages`). The chunk types and field names are the AI SDK's
 * (`ai` 7, stream protocol `v1`); only the root run's steps are sent, as one assistant message.
 *
 * @module
 */
import * as c from '../config/check.js';
import { AbortError, ConfigError } from '../errors.js';
import { jsonProblem } from '../storage/checks.js';
import type { FinishReason, Message, Part } from '../providers/types.js';
import { parseToolArgs } from '../providers/http.js';
import type { StreamPart } from './result.js';
import { pipeStream, streamResponse, type ServerResponseLike, type TextStreamResponseInit } from './text-response.js';
import { UIMessageBuilder, type IdentifiedUIMessage } from './ui-message-builder.js';
import { providerMetadataOf, signatureFieldsOf, signatureOf, type ProviderMetadata } from './provider-metadata.js';

/** A chunk of the UI message stream, as `useChat` reads it. */
export type UIMessageChunk =
  | { type: 'start'; messageId?: string; messageMetadata?: unknown }
  | { type: 'start-step' }
  | { type: 'text-start'; id: string }
  | { type: 'text-delta'; id: string; delta: string }
  | { type: 'text-end'; id: string; providerMetadata?: ProviderMetadata }
  | { type: 'reasoning-start'; id: string }
  | { type: 'reasoning-delta'; id: string; delta: string }
  | { type: 'reasoning-end'; id: string; providerMetadata?: ProviderMetadata }
  | { type: 'tool-input-available'; toolCallId: string; toolName: string; input: unknown; providerMetadata?: ProviderMetadata }
  /** A call that failed the checks and did not run; `dynamic` for a tool that does not exist. */
  | { type: 'tool-input-error'; toolCallId: string; toolName: string; input: unknown; errorText: string; dynamic?: true; providerMetadata?: ProviderMetadata }
  | { type: 'tool-output-available'; toolCallId: string; output: unknown }
  | { type: 'tool-output-error'; toolCallId: string; errorText: string; dynamic?: true }
  | { type: 'tool-output-denied'; toolCallId: string }
  | { type: 'tool-approval-request'; approvalId: string; toolCallId: string; signature?: string }
  /** A user message sent to the run through `experimental_steering`, in the assistant message. */
  | { type: 'steering-message'; id: string; parts: SteeringUIPart[] }
  | { type: 'finish-step' }
  | { type: 'finish'; finishReason: FinishReason; messageMetadata?: unknown }
  | { type: 'message-metadata'; messageMetadata: unknown }
  | { type: 'abort' }
  | { type: 'error'; errorText: string };

/** A part of a steering message in the UI: its text, or a file (an image too) by URL. */
export type SteeringUIPart = { type: 'text'; text: string } | { type: 'file'; mediaType: string; url: string };

/** What `onFinish` / `onEnd` of a UI message stream get once the stream has ended. */
export interface UIMessageStreamFinish<M extends UIMessageLike = UIMessageLike> {
  /** `originalMessages` with the response message appended, or in place of the last one it continued. */
  messages: Array<M | IdentifiedUIMessage>;
  /** The assistant message as the client has it at the end of the stream. */
  responseMessage: IdentifiedUIMessage;
  /** The response continued the last original message (an assistant message, e.g. after an approval). */
  isContinuation: boolean;
  /** The run was cancelled (the stream ended with `abort`). */
  isAborted: boolean;
  /** The run's finish reason, unless it failed or was cancelled. */
  finishReason?: FinishReason;
}

/** Options of the UI message stream. */
export interface UIMessageStreamOptions<M extends UIMessageLike = UIMessageLike> {
  /**
   * The assistant message's id, sent in the `start` chunk. By default: the id of the last original
   * message when the response continues it, else `generateMessageId()`, else (with
   * `originalMessages`) a random UUID, else none (the client makes one).
   */
  messageId?: string;
  /**
   * The chat's messages as the request sent them (`useChat`'s `messages`): the response continues
   * the last one when it is the assistant's, and `onFinish` gets the chat with the response in it.
   */
  originalMessages?: readonly M[];
  /** Makes the response message's id (see `messageId`). */
  generateMessageId?: () => string;
  /**
   * Called once the stream has ended (after `finish`, `abort` or `error`) with the chat as its user
   * now sees it, e.g. to save it. The stream waits for it; a rejection errors the stream.
   */
  onFinish?: (event: UIMessageStreamFinish<M>) => void | PromiseLike<void>;
  /** The AI SDK 7 name of `onFinish`; both may be given. */
  onEnd?: (event: UIMessageStreamFinish<M>) => void | PromiseLike<void>;
  /** Called after each step's `finish-step` chunk with the chat so far (no `isAborted` or `finishReason` yet); the stream waits for it. */
  onStepEnd?: (event: Omit<UIMessageStreamFinish<M>, 'isAborted' | 'finishReason'>) => void | PromiseLike<void>;
  /**
   * The message's metadata (the client's `message.metadata`, merged): called with every part of
   * the run (and `{type: 'start'}` first); a value other than `undefined` or `null` rides on the
   * `start` or `finish` chunk, or goes in a `message-metadata` chunk.
   */
  messageMetadata?: (options: { part: StreamPart | { type: 'start' } }) => unknown;
  /** Sends the `start` chunk (default true; false when the stream continues one already sent). */
  sendStart?: boolean;
  /** Sends the `finish` chunk (default true; false when more streams will follow into the same message). */
  sendFinish?: boolean;
  /** Sends the model's reasoning as reasoning parts (default true). */
  sendReasoning?: boolean;
  /**
   * The text the client gets for a run that failed. By default it is `An error occurred.`, so
   * that no server detail reaches the browser; return `error.message` to show it.
   */
  onError?: (error: unknown) => string;
  /** Also passes a failed tool call's error text through `onError` (default: only when `onError` is given). The model got the original. */
  redactToolErrors?: boolean;
}

/** The response's status and headers, and the stream's options, in one object (as the AI SDK takes them). */
export type UIMessageStreamResponseInit<M extends UIMessageLike = UIMessageLike> = TextStreamResponseInit & UIMessageStreamOptions<M>;

/** What is wrong with `v` as a UI message of the chat ({id, role, parts}), or undefined. */
function uiMessageProblem(v: unknown): string | undefined {
  if (!c.isPlainObject(v)) return `is ${c.describe(v)}`;
  if (v.role !== 'system' && v.role !== 'user' && v.role !== 'assistant') return `its role must be 'system', 'user' or 'assistant', got ${c.describe(v.role)}`;
  if (!Array.isArray(v.parts)) return `its parts must be an array, got ${c.describe(v.parts)}`;
  if (v.id !== undefined && typeof v.id !== 'string') return `its id must be a string, got ${c.describe(v.id)}`;
  return undefined;
}

const UI_MESSAGES = 'an array of UI messages ({id, role, parts})';

const optionsShape: c.Shape = {
  messageId: c.nonEmpty,
  originalMessages: (v) => {
    if (!Array.isArray(v)) return UI_MESSAGES;
    const at = v.findIndex((m) => uiMessageProblem(m) !== undefined);
    return at < 0 ? undefined : `${UI_MESSAGES} (item ${at} ${uiMessageProblem(v[at])})`;
  },
  generateMessageId: c.func,
  onFinish: c.func,
  onEnd: c.func,
  onStepEnd: c.func,
  messageMetadata: c.func,
  sendStart: c.boolean,
  sendFinish: c.boolean,
  sendReasoning: c.boolean,
  onError: c.func,
  redactToolErrors: c.boolean,
};
// The response's own keys are checked by the response helpers.
const initShape: c.Shape = { ...optionsShape, status: c.anything, statusText: c.anything, headers: c.anything };

/** The headers of a UI message stream response (the AI SDK's, which its client checks for). */
const UI_MESSAGE_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
};

/**
 * The chunks as a web stream that `for await` reads too, as the AI SDK's own `toUIMessageStream()`
 * gives them: its `createUIMessageStream` takes it in `writer.merge`. One reader: a loop that
 * stops early cancels it.
 */
export type UIMessageChunkStream = ReadableStream<UIMessageChunk> & AsyncIterable<UIMessageChunk>;

/** The chunks of a run's `batches` one by one (`result.toUIMessageStream()`); `options` are checked at the call. */
export function uiMessageStream<M extends UIMessageLike = UIMessageLike>(batches: AsyncIterable<StreamPart[]>, options?: UIMessageStreamOptions<M>): UIMessageChunkStream {
  c.checkOptions('toUIMessageStream', options, optionsShape);
  let batchesOfChunks: AsyncGenerator<UIMessageChunk[], void, undefined> | undefined;
  const stream = new ReadableStream<UIMessageChunk>(
    {
      async pull(controller) {
        batchesOfChunks ??= uiMessageChunks(batches, options ?? {});
        for (;;) {
          const next = await batchesOfChunks.next();
          if (next.done) return controller.close();
          for (const chunk of next.value) controller.enqueue(chunk);
          if (next.value.length > 0) return;
        }
      },
      async cancel() {
        await batchesOfChunks?.return();
      },
    },
    { highWaterMark: 0 },
  );
  return Object.assign(stream, {
    async *[Symbol.asyncIterator](): AsyncGenerator<UIMessageChunk, void, undefined> {
      const reader = stream.getReader();
      let ended = false;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if ((ended = done)) return;
          yield value;
        }
      } finally {
        if (!ended) await reader.cancel();
        reader.releaseLock();
      }
    },
  });
}

/** A web `Response` streaming the run as server-sent UI message chunks (`result.toUIMessageStreamResponse()`). */
export function uiMessageStreamResponse<M extends UIMessageLike = UIMessageLike>(batches: AsyncIterable<StreamPart[]>, init?: UIMessageStreamResponseInit<M>): Response {
  const { status, statusText, headers, ...options } = checked('toUIMessageStreamResponse', init);
  return streamResponse('toUIMessageStreamResponse', () => uiMessageSse(uiMessageChunks(batches, options)), { status, statusText, headers }, UI_MESSAGE_STREAM_HEADERS);
}

/** Writes the run as server-sent UI message chunks to Node's `response` (`result.pipeUIMessageStreamToResponse()`). */
export function pipeUIMessageStream<M extends UIMessageLike = UIMessageLike>(batches: AsyncIterable<StreamPart[]>, response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>): Promise<void> {
  const { status, statusText, headers, ...options } = checked('pipeUIMessageStreamToResponse', init);
  return pipeStream('pipeUIMessageStreamToResponse', () => uiMessageSse(uiMessageChunks(batches, options)), response, { status, statusText, headers }, UI_MESSAGE_STREAM_HEADERS);
}

function checked<M extends UIMessageLike>(where: string, init: UIMessageStreamResponseInit<M> | undefined): UIMessageStreamResponseInit<M> {
  c.checkOptions(where, init, initShape);
  return init ?? {};
}

/** The id `generateMessageId` makes (a non-empty string, as the client keys the message by it). */
function generatedId(generate: (() => string) | undefined): string | undefined {
  if (!generate) return undefined;
  const id: unknown = generate();
  if (typeof id !== 'string' || id === '') throw new ConfigError(`generateMessageId must return a non-empty string, got ${c.describe(id)}`);
  return id;
}

/**
 * The chunks of a run's `batches` (its parts, in the batches the run has them in), one array per
 * batch. A failed run ends with an `error` chunk, a cancelled one with `abort`; every stream ends
 * with `finish`, `abort` or `error`.
 */
async function* uiMessageChunks<M extends UIMessageLike>(batches: AsyncIterable<StreamPart[]>, options: UIMessageStreamOptions<M>): AsyncGenerator<UIMessageChunk[], void, undefined> {
  const state = new ChunkState(options);
  const last = options.originalMessages?.at(-1);
  const continued = last?.role === 'assistant' ? last : undefined;
  const messageId = options.messageId ?? continued?.id ?? generatedId(options.generateMessageId) ?? (options.originalMessages ? crypto.randomUUID() : undefined);
  const finishing = options.onFinish !== undefined || options.onEnd !== undefined || options.onStepEnd !== undefined;
  const builder = finishing ? new UIMessageBuilder(messageId ?? crypto.randomUUID(), continued) : undefined;
  const original = options.originalMessages ?? [];
  /** The chat so far, with the response message as the client has it (a copy: the builder goes on). */
  const chat = (snapshot: boolean) => {
    const responseMessage = (snapshot ? structuredClone(builder!.message) : builder!.message) as IdentifiedUIMessage;
    const messages = continued ? [...original.slice(0, -1), responseMessage] : [...original, responseMessage];
    return { messages, responseMessage, isContinuation: continued !== undefined };
  };
  let finishReason: FinishReason | undefined;
  const sent = (chunks: UIMessageChunk[]): UIMessageChunk[] => {
    for (const chunk of chunks) {
      builder?.add(chunk);
      if (chunk.type === 'finish') finishReason = chunk.finishReason;
    }
    return options.sendFinish === false ? chunks.filter((chunk) => chunk.type !== 'finish') : chunks;
  };
  // What messageMetadata returns goes to the client as JSON: a value JSON would drop or make null is refused.
  const metadataOf = (part: StreamPart | { type: 'start' }): unknown => {
    const metadata = options.messageMetadata?.({ part });
    const problem = metadata == null ? undefined : jsonProblem(metadata, 'metadata');
    if (problem) throw new ConfigError(`messageMetadata returned a value that is not JSON for a "${part.type}" part: ${problem}`);
    return metadata;
  };
  const startMetadata = metadataOf({ type: 'start' });
  const start: UIMessageChunk = { type: 'start', ...(messageId === undefined ? {} : { messageId }), ...(startMetadata == null ? {} : { messageMetadata: startMetadata }) };
  builder?.add(start);
  const finish = async (): Promise<void> => {
    if (!builder || (options.onFinish === undefined && options.onEnd === undefined)) return;
    const event: UIMessageStreamFinish<M> = { ...chat(false), isAborted: builder.aborted, ...(finishReason === undefined ? {} : { finishReason }) };
    await options.onFinish?.(event);
    await options.onEnd?.(event);
  };
  // Read by hand: when the client goes away (the stream is cancelled at a yield), the run's parts
  // are still read to its end for onFinish, as the AI SDK does.
  const parts = batches[Symbol.asyncIterator]();
  let delivered = false;
  try {
    if (options.sendStart !== false) yield [start];
    for (let next = await parts.next(); !next.done; next = await parts.next()) {
      const batch = next.value;
      const chunks: UIMessageChunk[] = [];
      for (const part of batch) {
        const from = chunks.length;
        state.add(part, chunks);
        const metadata = metadataOf(part);
        if (metadata == null) continue;
        const finish = chunks.slice(from).find((chunk) => chunk.type === 'finish');
        if (finish) finish.messageMetadata = metadata;
        else chunks.push({ type: 'message-metadata', messageMetadata: metadata });
      }
      // onStepEnd runs right after each step's finish-step chunk (a batch may hold several steps).
      let from = 0;
      for (let i = 0; options.onStepEnd && i < chunks.length; i++)
        if (chunks[i].type === 'finish-step') {
          yield sent(chunks.slice(from, (from = i + 1)));
          await options.onStepEnd(chat(true));
        }
      if (from < chunks.length) yield sent(from === 0 ? chunks : chunks.slice(from));
    }
    delivered = true;
  } catch (error) {
    // A run that could not start: the client is told as of a run that failed.
    delivered = true;
    yield [{ type: 'error', errorText: state.errorText(error) }];
  } finally {
    if (!delivered && builder) void finishUnread(parts, state, sent, finish);
    else if (!delivered) void parts.return?.();
  }
  await finish();
}

/** The client left: the rest of the run's parts go to the message builder only, then onFinish. */
async function finishUnread(parts: AsyncIterator<StreamPart[]>, state: ChunkState, sent: (chunks: UIMessageChunk[]) => UIMessageChunk[], finish: () => Promise<void>): Promise<void> {
  try {
    for (let next = await parts.next(); !next.done; next = await parts.next()) {
      const chunks: UIMessageChunk[] = [];
      for (const part of next.value) state.add(part, chunks);
      sent(chunks);
    }
  } catch {
    // The run failed: what was built so far is the message.
  }
  await finish().catch(() => undefined);
}

/** A reasoning part sent to the client and not ended yet: the blocks it holds end once the model call has. */
interface OpenReasoning {
  id: string;
  /** Characters streamed into it. */
  length: number;
  /** Characters of the blocks that ended so far, and how many they were. */
  covered: number;
  blocks: number;
}

/** Which text and reasoning parts are open, and the ids they got. */
class ChunkState {
  /** Calls whose approval was denied: their error is a denial, which the client shows as such. */
  private readonly denied = new Set<string>();
  /** Calls of tools that do not exist: their parts are `dynamic-tool` on the client. */
  private readonly dynamic = new Set<string>();
  private text: string | undefined;
  /** Characters streamed into the open text part, and the ends of the signed answer's text blocks so far. */
  private textLength = 0;
  private readonly textBlocks: Array<StreamPart & { type: 'text-end' }> = [];
  /** Reasoning parts waiting for their blocks' ends, oldest first; the last takes deltas while `reasoningOpen`. */
  private readonly reasoning: OpenReasoning[] = [];
  private reasoningOpen = false;
  private next = 0;
  private readonly onError: (error: unknown) => string;
  private readonly toolErrorText: (error: string) => string;

  constructor(private readonly options: Pick<UIMessageStreamOptions, 'sendReasoning' | 'onError' | 'redactToolErrors'>) {
    this.onError = options.onError ?? (() => 'An error occurred.');
    this.toolErrorText = (options.redactToolErrors ?? options.onError !== undefined) ? (error) => this.onError(new Error(error)) : (error) => error;
  }

  add(part: StreamPart, out: UIMessageChunk[]): void {
    switch (part.type) {
      case 'text-delta':
        this.text ??= this.open('text-start', out);
        this.textLength += part.text.length;
        out.push({ type: 'text-delta', id: this.text, delta: part.text });
        // Reasoning after this text is another block: it gets a part of its own.
        this.reasoningOpen = false;
        return;
      case 'reasoning-delta': {
        if (this.options.sendReasoning === false) return;
        if (!this.reasoningOpen) this.reasoning.push({ id: this.open('reasoning-start', out), length: 0, covered: 0, blocks: 0 });
        this.reasoningOpen = true;
        const current = this.reasoning[this.reasoning.length - 1];
        current.length += part.text.length;
        out.push({ type: 'reasoning-delta', id: current.id, delta: part.text });
        return;
      }
      case 'reasoning-start':
        // Another block: it gets a part of its own, which its signature can end alone.
        this.reasoningOpen = false;
        return;
      case 'reasoning-end':
        if (this.options.sendReasoning !== false) this.endReasoning(part, out);
        return;
      case 'text-end':
        this.textBlocks.push(part);
        return;
      case 'finish':
        this.close(out);
        out.push({ type: 'finish', finishReason: part.finishReason });
        return;
      case 'steering-message':
        this.close(out);
        out.push({ type: 'steering-message', id: part.id, parts: steeringUIParts(part.message) });
        return;
      case 'error':
        this.close(out);
        // A run cancelled through its abortSignal (the client went away, a stop button) is not a failure.
        out.push(part.error instanceof AbortError ? { type: 'abort' } : { type: 'error', errorText: this.errorText(part.error) });
        return;
    }
    // Run events: the root run's steps and tool calls (a sub-agent's happen inside its tool call).
    if (!('path' in part) || part.path.length !== 1) return;
    switch (part.type) {
      case 'step-start':
        out.push({ type: 'start-step' });
        return;
      case 'step-finish':
        this.close(out);
        out.push({ type: 'finish-step' });
        return;
      case 'tool-call': {
        // Text after the call is a part of its own, after the tool's.
        this.close(out);
        const providerMetadata = providerMetadataOf(part);
        const chunk = { toolCallId: part.toolCallId, toolName: part.toolName, input: part.args, ...(providerMetadata ? { providerMetadata } : {}) };
        if (!part.invalid) {
          out.push({ type: 'tool-input-available', ...chunk });
          return;
        }
        if (part.invalid.type === 'no-such-tool') this.dynamic.add(part.toolCallId);
        out.push({ type: 'tool-input-error', ...chunk, errorText: this.toolErrorText(part.invalid.message), ...this.dynamicField(part.toolCallId) });
        return;
      }
      case 'tool-result':
        out.push({ type: 'tool-output-available', toolCallId: part.toolCallId, output: part.result });
        return;
      case 'tool-error':
        if (this.denied.has(part.toolCallId)) out.push({ type: 'tool-output-denied', toolCallId: part.toolCallId });
        else out.push({ type: 'tool-output-error', toolCallId: part.toolCallId, errorText: this.toolErrorText(part.error), ...this.dynamicField(part.toolCallId) });
        return;
      case 'approval-decision':
        // A deferred call waits for the client's `addToolApprovalResponse`, sent with the next request.
        if (part.toolCallId === undefined) return;
        if (part.action === 'defer') {
          this.close(out);
          out.push({ type: 'tool-approval-request', approvalId: part.request ?? part.toolCallId, toolCallId: part.toolCallId, ...(part.signature === undefined ? {} : { signature: part.signature }) });
        } else if (part.action === 'deny') this.denied.add(part.toolCallId);
        return;
    }
  }

  /**
   * One reasoning block of the model call ended: the oldest open reasoning part ends once its blocks
   * cover what streamed into it, with the block's signature when it holds that block alone (each
   * block streams into a part of its own after its `reasoning-start`; a custom model that sends no
   * `reasoning-start` between blocks that stream back to back gets one part for them, unsigned). A
   * block that streamed nothing (redacted reasoning) is a part of its own, so its data reaches the
   * client.
   */
  private endReasoning(block: StreamPart & { type: 'reasoning-end' }, out: UIMessageChunk[]): void {
    const providerMetadata = providerMetadataOf(block);
    if (block.length === 0) {
      if (providerMetadata) out.push({ type: 'reasoning-end', id: this.open('reasoning-start', out), providerMetadata });
      return;
    }
    const oldest = this.reasoning[0];
    if (!oldest) return;
    oldest.covered += block.length;
    oldest.blocks++;
    if (oldest.covered < oldest.length) return;
    this.reasoning.shift();
    if (this.reasoning.length === 0) this.reasoningOpen = false;
    const alone = oldest.blocks === 1 && oldest.covered === oldest.length;
    out.push({ type: 'reasoning-end', id: oldest.id, ...(alone && providerMetadata ? { providerMetadata } : {}) });
  }

  private dynamicField(toolCallId: string): { dynamic?: true } {
    return this.dynamic.has(toolCallId) ? { dynamic: true } : {};
  }

  private open(type: 'text-start' | 'reasoning-start', out: UIMessageChunk[]): string {
    const id = `${type === 'text-start' ? 'text' : 'reasoning'}-${this.next++}`;
    out.push({ type, id });
    return id;
  }

  private close(out: UIMessageChunk[]): void {
    for (const part of this.reasoning) out.push({ type: 'reasoning-end', id: part.id });
    if (this.text !== undefined) {
      // The text part keeps a signature when it holds exactly the one signed block.
      const [block, more] = this.textBlocks;
      const providerMetadata = block && !more && block.length === this.textLength ? providerMetadataOf(block) : undefined;
      out.push({ type: 'text-end', id: this.text, ...(providerMetadata ? { providerMetadata } : {}) });
    }
    this.reasoning.length = 0;
    this.reasoningOpen = false;
    this.text = undefined;
    this.textLength = 0;
    this.textBlocks.length = 0;
  }

  errorText(error: unknown): string {
    try {
      const text = this.onError(error);
      return typeof text === 'string' ? text : 'An error occurred.';
    } catch {
      return 'An error occurred.';
    }
  }
}

/** `chunks` as server-sent events, UTF-8: one `data:` line per chunk, then `data: [DONE]`. */
async function* uiMessageSse(chunks: AsyncIterable<UIMessageChunk[]>): AsyncGenerator<Uint8Array, void, undefined> {
  const encoder = new TextEncoder();
  for await (const batch of chunks) yield encoder.encode(batch.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join(''));
  yield encoder.encode('data: [DONE]\n\n');
}

// ------------------------------------------------------------------ UI messages in

/** A message of the AI SDK's UI (`useChat`'s `messages`): the parts this package reads are typed, others are skipped. */
export interface UIMessageLike {
  id?: string;
  role: 'system' | 'user' | 'assistant';
  parts: ReadonlyArray<{ readonly type: string }>;
}

/** A UI tool part (`tool-NAME`, or `dynamic-tool` with `toolName`). */
interface UIToolPart {
  type: string;
  toolName?: string;
  toolCallId: string;
  state: string;
  input?: unknown;
  output?: unknown;
  errorText?: string;
  approval?: { id?: unknown; approved?: unknown; reason?: unknown; signature?: unknown };
  /** The provider's signature of the call (`tool-input-available`'s `providerMetadata`). */
  callProviderMetadata?: unknown;
}

/**
 * The model messages of a chat's UI messages, for `runPrompt({messages})`: text, files (an
 * `image/*` one as an image, others as file parts, e.g. a PDF) and, for the assistant, each step's text and tool calls followed by a
 * tool message with their outcomes. A call the user decided after a deferred approval
 * (`approval-responded`, from `addToolApprovalResponse`) goes with a `tool-approval-response`, which
 * the run answers before asking the model (docs/human-in-the-loop.md, "Approvals across requests").
 * Reasoning goes with the provider's signature its `providerMetadata` keeps (as the UI message
 * stream sends it, or the AI SDK's providers), and so does a tool call's (`callProviderMetadata`).
 * Sources, data parts and tool calls without an outcome or a decision yet are left out.
 *
 * @throws ConfigError naming the message and part that is not a UI message's.
 */
export function fromUIMessages(messages: readonly UIMessageLike[]): Message[] {
  if (!Array.isArray(messages)) throw new ConfigError(`fromUIMessages: expected an array of UI messages ({role, parts}), got ${c.describe(messages)}`);
  const out: Message[] = [];
  messages.forEach((message, i) => {
    const where = `fromUIMessages: messages[${i}]`;
    if (!c.isPlainObject(message) || message.parts === undefined) throw new ConfigError(`${where}: expected a UI message {role, parts: [...]}, got ${c.describe(message)}`);
    if (!Array.isArray(message.parts)) throw new ConfigError(`${where}.parts: expected an array of parts, got ${c.describe(message.parts)}`);
    const parts = message.parts as ReadonlyArray<Record<string, unknown>>;
    parts.forEach((part, j) => {
      if (!c.isPlainObject(part) || typeof part.type !== 'string') throw new ConfigError(`${where}.parts[${j}]: expected a part {type, ...}, got ${c.describe(part)}`);
      if ((part.type === 'text' || part.type === 'reasoning') && typeof part.text !== 'string')
        throw new ConfigError(`${where}.parts[${j}]: a ${part.type} part's text must be a string, got ${c.describe(part.text)}`);
    });
    if (message.role === 'system') out.push({ role: 'system', content: textOf(parts) });
    else if (message.role === 'user') out.push({ role: 'user', content: userContent(parts, where) });
    else if (message.role === 'assistant') out.push(...assistantTurns(parts, where));
    else throw new ConfigError(`${where}.role: expected 'system', 'user' or 'assistant', got ${c.describe(message.role)}`);
  });
  return out;
}

function textOf(parts: ReadonlyArray<Record<string, unknown>>): string {
  return parts.filter((p) => p.type === 'text').map((p) => (p.text as string)).join('');
}

function userContent(parts: ReadonlyArray<Record<string, unknown>>, where: string): Part[] {
  const content: Part[] = [];
  parts.forEach((part, j) => {
    if (part.type === 'text') content.push({ type: 'text', text: part.text as string });
    else if (part.type === 'file') content.push(fileOf(part, `${where}.parts[${j}]`));
  });
  return content;
}

/**
 * A file part as a model part: an image file as an image, any other as a file (whose type the
 * provider checks); a data URL becomes base64 data, any other URL stays one.
 */
function fileOf(part: Record<string, unknown>, where: string): Part {
  const { mediaType, url, filename } = part;
  if (typeof mediaType !== 'string' || mediaType === '') throw new ConfigError(`${where}: expected the file's mediaType (e.g. 'application/pdf'), got ${c.describe(mediaType)}`);
  if (typeof url !== 'string') throw new ConfigError(`${where}: expected the file's url (a data: or https: URL), got ${c.describe(url)}`);
  // The messages come from a client: a URL of another scheme (javascript:, file:, blob:) would only
  // reach the provider as bytes it cannot read, or name something on the client's machine.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1].toLowerCase();
  if (scheme !== 'data' && scheme !== 'http' && scheme !== 'https')
    throw new ConfigError(`${where}: the file's url must be a data:, https: or http: URL, got ${scheme ? `a ${scheme}: URL` : 'a string that is not a URL'}`);
  const base64 = /^data:[^,]*;base64,/.exec(url);
  const data = base64 ? url.slice(base64[0].length) : url;
  if (mediaType.startsWith('image/')) return { type: 'image', data, mediaType };
  return { type: 'file', data, mediaType, ...(typeof filename === 'string' && filename !== '' ? { filename } : {}) };
}

/** A steering message's content as UI parts (`fileOf` in reverse). */
function steeringUIParts(message: Message): SteeringUIPart[] {
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  const parts: SteeringUIPart[] = [];
  for (const part of message.content) {
    if (part.type === 'text') parts.push({ type: 'text', text: part.text });
    else if ((part.type === 'image' || part.type === 'file') && typeof part.data === 'string' && typeof part.mediaType === 'string')
      parts.push({ type: 'file', mediaType: part.mediaType, url: /^(https?|data):/i.test(part.data) ? part.data : `data:${part.mediaType};base64,${part.data}` });
  }
  return parts;
}

const isToolPart = (part: Record<string, unknown>): boolean => (typeof part.type === 'string' && part.type.startsWith('tool-')) || part.type === 'dynamic-tool';

/** One assistant message per step (a `step-start` part begins one), each followed by its tools' outcomes. */
function assistantTurns(parts: ReadonlyArray<Record<string, unknown>>, where: string): Message[] {
  const turns: Message[] = [];
  let content: Part[] = [];
  let results: Part[] = [];
  const flush = () => {
    if (content.length > 0) turns.push({ role: 'assistant', content });
    if (results.length > 0) turns.push({ role: 'tool', content: results });
    content = [];
    results = [];
  };
  parts.forEach((part, j) => {
    if (part.type === 'step-start') flush();
    else if (part.type === 'steering-message') {
      // A message sent while the run worked: a user turn between the steps.
      flush();
      if (!Array.isArray(part.parts)) throw new ConfigError(`${where}.parts[${j}]: a steering-message part needs its parts, got ${c.describe(part.parts)}`);
      turns.push({ role: 'user', content: userContent(part.parts as ReadonlyArray<Record<string, unknown>>, `${where}.parts[${j}]`) });
    } else if (part.type === 'text') {
      const signed = signatureOf(part.providerMetadata);
      if ((part.text as string).length > 0 || signed.signature !== undefined) content.push({ type: 'text', text: part.text as string, ...signed });
    }
    else if (part.type === 'reasoning') {
      // Unsigned reasoning goes too: each provider sends back only what it signed.
      const signed = signatureFieldsOf(part.providerMetadata);
      if ((part.text as string).length > 0 || signed.signedBy !== undefined) content.push({ type: 'reasoning', text: part.text as string, ...signed });
    } else if (isToolPart(part)) {
      const tool = part as unknown as UIToolPart;
      const toolName = tool.type === 'dynamic-tool' ? tool.toolName : tool.type.slice('tool-'.length);
      if (typeof toolName !== 'string' || toolName.length === 0 || typeof tool.toolCallId !== 'string')
        throw new ConfigError(`${where}.parts[${j}]: a tool part needs a toolCallId and a tool name, got ${c.describe(part)}`);
      const outcome = tool.state === 'approval-responded' ? approvalResponseOf(tool, `${where}.parts[${j}]`) : outcomeOf(tool, toolName);
      if (!outcome) return; // still running, or waiting for an approval: nothing to send yet
      const signed = signatureOf(tool.callProviderMetadata);
      // A call whose arguments were not JSON has the model's text as its input (tool-input-error): it goes back as written.
      const unparsed = tool.state === 'output-error' && typeof tool.input === 'string';
      const args = unparsed ? parseToolArgs(tool.input as string) : (tool.input ?? {});
      content.push({ type: 'tool-call', toolCallId: tool.toolCallId, toolName, args, argsText: unparsed ? (tool.input as string) : JSON.stringify(args), ...signed });
      results.push(outcome);
    }
  });
  flush();
  return turns;
}

function outcomeOf(tool: UIToolPart, toolName: string): Part | undefined {
  const result = (value: unknown, isError?: true): Part => ({ type: 'tool-result', toolCallId: tool.toolCallId, toolName, result: value, ...(isError ? { isError } : {}) });
  if (tool.state === 'output-available') return result(tool.output ?? null);
  if (tool.state === 'output-error') return result({ error: tool.errorText ?? 'the tool failed' }, true);
  if (tool.state === 'output-denied') {
    const reason = typeof tool.approval?.reason === 'string' && tool.approval.reason.length > 0 ? `: ${tool.approval.reason}` : '';
    return result({ error: `the user denied this tool call${reason}` }, true);
  }
  return undefined;
}

/** The user's decision on a deferred call, for the run to apply (`approval: {id, approved, reason?}`). */
function approvalResponseOf(tool: UIToolPart, where: string): Part {
  const { approval } = tool;
  if (!c.isPlainObject(approval) || typeof approval.approved !== 'boolean')
    throw new ConfigError(`${where}: an approval-responded tool part needs approval: {id, approved: true | false, reason?}, got ${c.describe(approval)}`);
  return {
    type: 'tool-approval-response',
    toolCallId: tool.toolCallId,
    approved: approval.approved,
    ...(typeof approval.reason === 'string' ? { reason: approval.reason } : {}),
    ...(typeof approval.id === 'string' ? { approvalId: approval.id } : {}),
    ...(typeof approval.signature === 'string' ? { signature: approval.signature } : {}),
  };
}
