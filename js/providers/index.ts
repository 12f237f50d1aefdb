/**
 * Model providers of lmthing: OpenAI Chat Completions (and compatible servers) and Anthropic Messages,
 * with SSE streaming, typed errors and a `provider:model` registry.
 */
export type {
  TextPart,
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
  ModelFactory,
} from './types.js';
export { SseParser, readSseEvents, type SseEvent } from './sse.js';
export {
  createOpenAI,
  createOpenAICompatible,
  OpenAIChatModel,
  OPENAI_DEFAULT_BASE_URL,
  type OpenAICompatibleSettings,
  type OpenAIChatConfig,
} from './openai.js';
export {
  createAnthropic,
  AnthropicMessagesModel,
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_VERSION,
  type AnthropicSettings,
  type AnthropicConfig,
} from './anthropic.js';
export { ANTHROPIC_DEFAULT_MAX_TOKENS } from './anthropic-request.js';
export { resolveModel, knownProviders, envName, type Env, type ResolveOptions } from './registry.js';
export { parseRetryAfter } from './http.js';
