/**
 * Provider-neutral shapes shared by every model provider (OpenAI Chat Completions and Responses,
 * OpenAI-compatible servers, Anthropic Messages, Google Gemini). Providers translate these to and
 * from their own wire formats.
 */
import type { JsonValue } from '../schema-types.js';

/**
 * The API family that produced an opaque signature. A signature is only ever sent back to the same
 * family: a conversation that moves from one provider to another drops the others' signatures.
 */
export type SignatureSource = 'anthropic' | 'google' | 'openai-responses';

/** Plain text content. */
export interface TextPart {
  type: 'text';
  text: string;
  /** Opaque signature attached by the provider (Gemini `thoughtSignature`), sent back unchanged. */
  signature?: string;
  /** Who made {@link TextPart.signature}. */
  signedBy?: SignatureSource;
}

/**
 * Model "thinking" / reasoning text: Anthropic thinking blocks, OpenAI reasoning summaries, Gemini
 * thought parts, `reasoning` / `reasoning_content` fields of compatible servers.
 */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  /**
   * Opaque signature that lets the provider verify the reasoning when it is sent back in a later
   * turn (Anthropic `signature`, Gemini `thoughtSignature`, OpenAI `encrypted_content`).
   */
  signature?: string;
  /** Who made {@link ReasoningPart.signature}. */
  signedBy?: SignatureSource;
  /** True for reasoning the provider withheld (Anthropic `redacted_thinking`): `text` is empty, `signature` holds the data. */
  redacted?: boolean;
  /** The provider's id of the reasoning item (OpenAI Responses `rs_…`), needed to send it back. */
  itemId?: string;
}

/** A reasoning block at its end: its text's length, and the provider's signature fields when it has them. */
export type ReasoningBlockEnd = { length: number } & Pick<ReasoningPart, 'signature' | 'signedBy' | 'redacted' | 'itemId'>;

/** A text block of a signed answer at its end: its length, and the provider's signature when this block has one. */
export type TextBlockEnd = { length: number } & Pick<TextPart, 'signature' | 'signedBy'>;

/** A call of a tool requested by the model. */
export interface ToolCallPart {
  type: 'tool-call';
  /** Provider-assigned id; echoed back in the matching {@link ToolResultPart}. */
  toolCallId: string;
  toolName: string;
  /** Parsed JSON arguments, or `undefined` when the model's argument text is not valid JSON. */
  args: unknown;
  /** The arguments exactly as the model produced them (JSON text). */
  argsText: string;
  /** Opaque signature attached by the provider (Gemini `thoughtSignature`), sent back unchanged. */
  signature?: string;
  /** Who made {@link ToolCallPart.signature}. */
  signedBy?: SignatureSource;
}

/** The result of running a tool, sent back to the model. */
export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  toolName: string;
  /** A string is sent verbatim; anything else is sent as JSON. */
  result: unknown;
  /** Marks the result as a failure of the tool. */
  isError?: boolean;
}

/**
 * A decision on a tool call that a run left pending when its approval was deferred
 * (docs/human-in-the-loop.md, "Approvals across requests"): in a `tool` message right after the
 * assistant message that made the call, in the `messages` of the run that resumes the conversation.
 * The engine answers the call (runs it, or tells the model it was denied) before the first model
 * call; a model never receives this part.
 */
export interface ToolApprovalResponsePart {
  type: 'tool-approval-response';
  /** The call it decides. */
  toolCallId: string;
  approved: boolean;
  /** Why; a denial's reason is what the model reads. */
  reason?: string;
  /** The request's id (the `approvalId` of the UI stream's `tool-approval-request`), reported in the decision event. */
  approvalId?: string;
  /** The request's signature, checked when the run has an `approvalSecret`. */
  signature?: string;
}

/**
 * An image given to the model: bytes (a `Uint8Array`, or base64 text), a `data:` URL or an
 * `http(s)` URL. Each provider accepts a few media types (see docs/providers.md); others are a
 * `ValidationError` naming the provider and the types it takes.
 */
export interface ImagePart {
  type: 'image';
  /** Bytes, base64 data, a `data:` URL or an `http(s)` URL. */
  data: string | Uint8Array;
  /** MIME type such as `image/png`; detected from the bytes when absent. */
  mediaType?: string;
}

/**
 * A document given to the model (a PDF, plain text ...): bytes, base64 text, a `data:` URL or an
 * `http(s)` URL, with its media type. An `image/*` file goes as an image. Each provider takes a few
 * types (docs/providers.md); others are a `ValidationError` naming the provider and the types it takes.
 */
export interface FilePart {
  type: 'file';
  /** Bytes, base64 data, a `data:` URL or an `http(s)` URL. */
  data: string | Uint8Array;
  /** The IANA media type, e.g. `application/pdf`. */
  mediaType: string;
  /** The file's name, where the API takes one (OpenAI's `filename`, Anthropic's document `title`). */
  filename?: string;
}

/** One piece of message content. */
export type Part = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | ImagePart | FilePart | ToolApprovalResponsePart;

/** A message of the conversation. `tool` messages carry {@link ToolResultPart}s (and, in a run's input, {@link ToolApprovalResponsePart}s). */
export interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Part[];
}

/** A tool the model may call. */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: object;
}

/** How the model may use tools. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string };

/** Requested output format. */
export type ResponseFormat = { type: 'text' } | { type: 'json'; schema?: object; name?: string; description?: string };

/** Sampling and length settings; unsupported ones are ignored by a provider. */
export interface GenerationParams {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  seed?: number;
  /** Penalizes tokens already present, -2 to 2 (OpenAI `presence_penalty`, Gemini `presencePenalty`; Anthropic has none). */
  presencePenalty?: number;
  /** Penalizes tokens by how often they appeared, -2 to 2 (OpenAI `frequency_penalty`, Gemini `frequencyPenalty`; Anthropic has none). */
  frequencyPenalty?: number;
}

/** One request to a language model. */
export interface ModelRequest {
  model: string;
  messages: Message[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  params?: GenerationParams;
  /** Stream the response over SSE (defaults to true when an `onDelta` callback is given). */
  stream?: boolean;
  /**
   * Options of one provider for this call, keyed by provider name as the AI SDK's are
   * (`{ openai: { reasoningEffort: 'low' } }`): a model reads only its own provider's entry.
   */
  providerOptions?: ProviderOptions;
  /** HTTP headers of this call, sent after the provider's own (credentials in them are redacted from errors). */
  headers?: Record<string, string>;
}

/**
 * Per-call options by provider name, each provider's in camelCase as the AI SDK writes them
 * (docs/providers.md, "Provider options"). A model reads only the entry of its own provider; an
 * option that provider does not know is a `ConfigError` with a did-you-mean.
 */
export type ProviderOptions = Record<string, Record<string, JsonValue>>;

/** Why the model stopped. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

/** Token usage of one response. */
export interface Usage {
  /** Input (prompt) tokens, including cached ones. */
  inputTokens: number;
  /** Output tokens, including reasoning tokens. */
  outputTokens: number;
  totalTokens: number;
  /** Input tokens read from the provider's prompt cache (part of `inputTokens`), when reported. */
  cachedInputTokens?: number;
  /** Input tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`), when reported. */
  cacheWriteInputTokens?: number;
  /** Output tokens spent on reasoning (part of `outputTokens`), when reported. */
  reasoningTokens?: number;
}

/** An incremental piece of a streamed response. */
export type StreamDelta =
  | { type: 'text-delta'; text: string }
  /**
   * A reasoning block (a thinking block, a reasoning item, a thought part) begins: the reasoning
   * deltas after it belong to it, up to the next one. A provider sends it before each block's first
   * delta, so blocks that stream back to back stay apart (each keeps its signature).
   */
  | { type: 'reasoning-start' }
  | { type: 'reasoning-delta'; text: string }
  | {
      type: 'tool-call-delta';
      /** Position of the tool call in the response (0, 1, ...). */
      index: number;
      /** Present on the first delta of a tool call. */
      toolCallId?: string;
      /** Present on the first delta of a tool call. */
      toolName?: string;
      argsTextDelta: string;
    }
  /**
   * One chunk of the provider's stream as it came (an SSE event's JSON, or its text when that is
   * not JSON), for a call made with `includeRawChunks`.
   */
  | { type: 'raw'; rawValue: unknown };

/** The complete response of a model. */
export interface ModelResponse {
  content: Part[];
  finishReason: FinishReason;
  /** The provider's own finish reason string (e.g. `end_turn`, `tool_calls`). */
  rawFinishReason?: string;
  usage: Usage;
  modelId?: string;
  responseId?: string;
  /**
   * When the response was made, ms since the epoch: the provider's own time where it gives one
   * (OpenAI's `created`), else when its headers arrived. A custom model may give a `Date` (the run
   * keeps it as ms).
   */
  timestamp?: number | Date;
  /** The HTTP response's headers (names in lower case; `set-cookie` left out), as the AI SDK's `response.headers`. */
  headers?: Record<string, string>;
  /** What the call could not honour, e.g. a generation setting its API does not have (left out of the request). */
  warnings?: CallWarning[];
}

/** Something a model call could not do as asked; the call went on without it. */
export interface CallWarning {
  type: 'unsupported-setting';
  /** The setting, as the request named it (`topK`, `seed` ...). */
  setting: string;
  details: string;
}

/** Options of one {@link LanguageModel.generate} call. */
export interface GenerateOptions {
  /** Aborts the HTTP request and the stream; the call then rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Receives stream deltas as they arrive. */
  onDelta?: (d: StreamDelta) => void;
  /** Also report each chunk of the provider's stream as it came, as a `raw` delta (the AI SDK's `includeRawChunks`). */
  includeRawChunks?: boolean;
}

/** A model of one provider, ready to generate. */
export interface LanguageModel {
  /** Provider name, e.g. `openai`, `anthropic`, `ollama`. */
  readonly provider: string;
  /** The model id sent to the provider. */
  readonly modelId: string;
  /** Sends one request; rejects with the typed errors of `errors.ts`. */
  generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions): Promise<ModelResponse>;
}

/** A `fetch`-compatible function (the global `fetch` by default). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** Default of {@link ModelOptions.idleTimeoutMs}: two minutes without content ends a streamed call. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/** Settings shared by the provider factories. */
export interface ProviderSettings {
  /** Base URL of the API, e.g. `https://api.openai.com/v1`. */
  baseURL?: string;
  /** API key; never included in error messages. */
  apiKey?: string;
  /** Extra HTTP headers sent with every request. */
  headers?: Record<string, string>;
  /** Custom `fetch` (tests, proxies). */
  fetch?: FetchFunction;
  /**
   * Idle timeout of streamed calls for every model of this provider (see
   * {@link ModelOptions.idleTimeoutMs}); a model's own option wins.
   */
  idleTimeoutMs?: number;
}

/**
 * How much the model should think. Each provider maps it to its own field (Anthropic `thinking`,
 * OpenAI `reasoning_effort` / `reasoning`, Gemini `thinkingConfig`); see docs/providers.md.
 */
export interface ReasoningOptions {
  /** Effort level (OpenAI `reasoning.effort`, Gemini `thinkingLevel`; Anthropic derives a budget from it). */
  effort?: 'minimal' | 'low' | 'medium' | 'high';
  /** Token budget for thinking (Anthropic `budget_tokens`, Gemini `thinkingBudget`). */
  budgetTokens?: number;
  /**
   * Ask for readable reasoning in the response (OpenAI reasoning `summary: "auto"`, Gemini
   * `includeThoughts`). Default true.
   */
  includeThoughts?: boolean;
}

/** Options of one model, given to a factory with the model id: `createOpenAI()('gpt-4o', {...})`. */
export interface ModelOptions {
  /**
   * A streamed call fails with `TimeoutError` (retryable) when no content arrives for this many
   * milliseconds, counting from the request: waiting for the response headers and every gap
   * between two events. SSE comments and ping events are keep-alives and do not count as content.
   * Default {@link DEFAULT_IDLE_TIMEOUT_MS}; `0` or `Infinity` turns it off. Calls that do not
   * stream are bounded by the engine's model call timeout instead.
   */
  idleTimeoutMs?: number;
  /** Turns on reasoning / extended thinking. */
  reasoning?: ReasoningOptions;
}

/** Returns the models of one provider by model id. */
export type ModelFactory<O extends ModelOptions = ModelOptions> = (modelId: string, options?: O) => LanguageModel;

/** One batch of texts to embed. */
export interface EmbedRequest {
  /** The texts; a large list is split into several provider requests (see `maxBatchSize`). */
  values: string[];
  /** Output dimensions, for models that can shorten their vectors (OpenAI `text-embedding-3-*`, Gemini). */
  dimensions?: number;
}

/** Options of one {@link EmbeddingModel.embed} call. */
export interface EmbedOptions {
  /** Aborts every pending request; the call then rejects with `AbortError`. */
  signal?: AbortSignal;
}

/** The vectors of one {@link EmbeddingModel.embed} call, in the order of the values. */
export interface EmbedResult {
  embeddings: number[][];
  /** Tokens the provider counted (0 when it does not report them, as Gemini). */
  usage: { tokens: number };
}

/** A text embedding model of one provider. */
export interface EmbeddingModel {
  /** Provider name, e.g. `openai`, `google`, `ollama`. */
  readonly provider: string;
  /** The model id sent to the provider. */
  readonly modelId: string;
  /** The most values sent in one provider request; larger inputs are split. */
  readonly maxBatchSize: number;
  /** The length of its vectors, when fixed and known (`defMemory` uses it when given no `dimensions`). */
  readonly dimensions?: number;
  /** Embeds the values; rejects with the typed errors of `errors.ts`. */
  embed(req: EmbedRequest, opts?: EmbedOptions): Promise<EmbedResult>;
}

/** Options of an embedding model, given to a factory with the model id. */
export interface EmbeddingModelOptions {
  /** Values per provider request (default: the provider's limit, 2048 for OpenAI, 100 for Gemini). */
  maxBatchSize?: number;
  /** How many batch requests may be in flight at once (default 4). */
  maxParallelCalls?: number;
}
