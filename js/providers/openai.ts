/**
 * OpenAI Chat Completions provider (`POST /chat/completions`), for the official API and for
 * OpenAI-compatible servers (Ollama, vLLM, LM Studio, llama.cpp, OpenRouter, ...).
 */
import { readProcessEnv, joinUrl, secretHeaderValues } from './http.js';
import { buildOpenAIBody, type OpenAIDialect } from './openai-request.js';
import { OpenAIStreamState, parseOpenAIResponse } from './openai-response.js';
import { exchange } from './stream.js';
import type { GenerateOptions, LanguageModel, ModelFactory, ModelRequest, ModelResponse, ProviderSettings } from './types.js';

/** Default base URL of the official API (overridden by `OPENAI_BASE_URL` under Node). */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Settings of {@link createOpenAICompatible}. */
export interface OpenAICompatibleSettings extends ProviderSettings {
  /** Provider name reported by the models and used in error messages, e.g. `ollama`. */
  name: string;
  /** Base URL including the version segment, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
}

/** Resolved configuration of an {@link OpenAIChatModel}. */
export interface OpenAIChatConfig {
  provider: string;
  baseURL: string;
  apiKey?: string;
  headers: Record<string, string>;
  fetch?: ProviderSettings['fetch'];
  dialect: OpenAIDialect;
}

/**
 * Creates the official OpenAI provider. The API key defaults to nothing (pass it, or use
 * `resolveModel` which reads `OPENAI_API_KEY`); the base URL defaults to `OPENAI_BASE_URL` or
 * {@link OPENAI_DEFAULT_BASE_URL}. Sends `max_completion_tokens`.
 */
export function createOpenAI(settings: ProviderSettings = {}): ModelFactory {
  const config: OpenAIChatConfig = {
    provider: 'openai',
    baseURL: settings.baseURL ?? readProcessEnv('OPENAI_BASE_URL') ?? OPENAI_DEFAULT_BASE_URL,
    apiKey: settings.apiKey,
    headers: settings.headers ?? {},
    fetch: settings.fetch,
    dialect: { maxTokensField: 'max_completion_tokens', sendTopK: false },
  };
  return (modelId) => new OpenAIChatModel(config, modelId);
}

/**
 * Creates a provider for an OpenAI-compatible server. The API key is optional (local servers need
 * none). Sends `max_tokens` and `top_k`, which such servers understand.
 */
export function createOpenAICompatible(settings: OpenAICompatibleSettings): ModelFactory {
  const config: OpenAIChatConfig = {
    provider: settings.name,
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    headers: settings.headers ?? {},
    fetch: settings.fetch,
    dialect: { maxTokensField: 'max_tokens', sendTopK: true },
  };
  return (modelId) => new OpenAIChatModel(config, modelId);
}

/** A Chat Completions model; create it with {@link createOpenAI} or {@link createOpenAICompatible}. */
export class OpenAIChatModel implements LanguageModel {
  /** Provider name (`openai` or the compatible server's name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  private readonly config: OpenAIChatConfig;

  /** Use the factories instead. */
  constructor(config: OpenAIChatConfig, modelId: string) {
    this.config = config;
    this.provider = config.provider;
    this.modelId = modelId;
  }

  /**
   * Sends the request. Streams (SSE) when `req.stream` is true, or when it is unset and an `onDelta`
   * callback is given.
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const headers: Record<string, string> = { ...this.config.headers };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    if (stream) headers.accept = 'text/event-stream';
    const secrets = [...(this.config.apiKey ? [this.config.apiKey] : []), ...secretHeaderValues(headers)];
    return exchange({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, 'chat/completions'),
      headers,
      secrets,
      body: buildOpenAIBody(this.modelId, req, stream, this.config.dialect),
      stream,
      fetch: this.config.fetch,
      opts,
      parseJson: (json) => parseOpenAIResponse(json, this.provider, secrets),
      streamState: (emit) => new OpenAIStreamState(this.provider, secrets, emit),
    });
  }
}
