/**
 * Model providers of lmthing: OpenAI Chat Completions and Responses (and compatible servers),
 * Anthropic Messages and Google Gemini, with SSE streaming, typed errors, embeddings and a
 * `provider:model` registry.
 */
export type {
  SignatureSource,
  TextPart,
  ReasoningBlockEnd,
  TextBlockEnd,
  ReasoningPart,
  ToolCallPart,
  ToolResultPart,
  ImagePart,
  Part,
  Message,
  ToolSpec,
  ToolChoice,
  ResponseFormat,
  GenerationParams,
  ModelRequest,
  FinishReason,
  Usage,
  StreamDelta,
  ModelResponse,
  GenerateOptions,
  LanguageModel,
  FetchFunction,
  ProviderSettings,
  ReasoningOptions,
  ModelOptions,
  ModelFactory,
  EmbedRequest,
  EmbedOptions,
  EmbedResult,
  EmbeddingModel,
  EmbeddingModelOptions,
} from './types.js';
export { DEFAULT_IDLE_TIMEOUT_MS } from './types.js';
export { SseParser, readSseEvents, type SseEvent } from './sse.js';
export {
  createOpenAI,
  createOpenAICompatible,
  openai,
  OpenAIChatModel,
  OPENAI_DEFAULT_BASE_URL,
  type OpenAIProvider,
  type OpenAICompatibleSettings,
  type OpenAIChatConfig,
} from './openai.js';
export type { OpenAIConnection } from './openai-connection.js';
export { OpenAIResponsesModel, type OpenAIResponsesOptions } from './openai-responses.js';
export {
  createAnthropic,
  anthropic,
  AnthropicMessagesModel,
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_VERSION,
  type AnthropicProvider,
  type AnthropicModelOptions,
  type AnthropicSettings,
  type AnthropicConfig,
} from './anthropic.js';
export { ANTHROPIC_DEFAULT_MAX_TOKENS, ANTHROPIC_EFFORT_BUDGETS, type AnthropicCacheOptions } from './anthropic-request.js';
export { createGoogle, google, GoogleGenerativeModel, GOOGLE_DEFAULT_BASE_URL, type GoogleProvider, type GoogleConfig } from './google.js';
export { toGeminiSchema, type GeminiSchema } from './google-schema.js';
export { OpenAIEmbeddingModel, GoogleEmbeddingModel, OPENAI_MAX_EMBEDDING_BATCH, GOOGLE_MAX_EMBEDDING_BATCH } from './embeddings.js';
export {
  resolveModel,
  resolveEmbeddingModel,
  knownProviders,
  envName,
  type Env,
  type ResolveOptions,
  type ResolveEmbeddingOptions,
} from './registry.js';
export { parseRetryAfter } from './http.js';
export { IMAGE_TYPES } from './images.js';
