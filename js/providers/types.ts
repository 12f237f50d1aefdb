/**
 * Provider-neutral shapes shared by every model provider (OpenAI Chat Completions, OpenAI-compatible
 * servers, Anthropic Messages). Providers translate these to and from their own wire formats.
 */

/** Plain text content. */
export interface TextPart {
  type: 'text';
  text: string;
}

/** Model "thinking" / reasoning text (Anthropic thinking blocks, `reasoning_content` of compatible servers). */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
}

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

/** An image given to the model. */
export interface ImagePart {
  type: 'image';
  /** Base64 data, a `data:` URL or an `http(s)` URL. */
  data: string;
  /** MIME type such as `image/png` (used with base64 data). */
  mediaType?: string;
}

/** One piece of message content. */
export type Part = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | ImagePart;

/** A message of the conversation. `tool` messages carry {@link ToolResultPart}s. */
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
export type ResponseFormat = { type: 'text' } | { type: 'json'; schema?: object; name?: string };

/** Sampling and length settings; unsupported ones are ignored by a provider. */
export interface GenerationParams {
  temperature?: number;
  maxOutputTokens?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  seed?: number;
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
}

/** Why the model stopped. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

/** Token usage of one response. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** An incremental piece of a streamed response. */
export type StreamDelta =
  | { type: 'text-delta'; text: string }
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
    };

/** The complete response of a model. */
export interface ModelResponse {
  content: Part[];
  finishReason: FinishReason;
  /** The provider's own finish reason string (e.g. `end_turn`, `tool_calls`). */
  rawFinishReason?: string;
  usage: Usage;
  modelId?: string;
  responseId?: string;
}

/** Options of one {@link LanguageModel.generate} call. */
export interface GenerateOptions {
  /** Aborts the HTTP request and the stream; the call then rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Receives stream deltas as they arrive. */
  onDelta?: (d: StreamDelta) => void;
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
}

/** Returns the models of one provider by model id. */
export type ModelFactory = (modelId: string) => LanguageModel;
