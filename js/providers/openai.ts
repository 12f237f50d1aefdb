/**
 * OpenAI providers: Chat Completions (`POST /chat/completions`), the Responses API (`POST /responses`)
 * and embeddings (`POST /embeddings`), for the official API and for OpenAI-compatible servers
 * (Ollama, vLLM, LM Studio, llama.cpp, OpenRouter, ...).
 */
import { OpenAIEmbeddingModel } from './embeddings.js';
import { applyProviderOptions, callHeaders, OPENAI_CHAT_OPTIONS, unsupportedSettings, withWarnings } from './provider-options.js';
import { readProcessEnv, joinUrl } from './http.js';
import { openAIHeaders, type OpenAIConnection } from './openai-connection.js';
import { resolveIdleTimeout } from './idle-timeout.js';
import { checkEmbeddingOptions, checkModelOptions, checkProviderSettings } from './settings-check.js';
import * as c from '../config/check.js';
import { buildOpenAIBody, type OpenAIDialect } from './openai-request.js';
import { OpenAIStreamState, parseOpenAIResponse } from './openai-response.js';
import { OpenAIResponsesModel, type OpenAIResponsesOptions } from './openai-responses.js';
import { buildRequest, exchange } from './stream.js';
import type {
  EmbeddingModelOptions,
  GenerateOptions,
  LanguageModel,
  ModelOptions,
  ModelRequest,
  ModelResponse,
  ProviderSettings,
} from './types.js';

/** Default base URL of the official API (overridden by `OPENAI_BASE_URL` or `OPENAI_API_BASE` under Node). */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Settings of {@link createOpenAICompatible}. */
export interface OpenAICompatibleSettings extends ProviderSettings {
  /** Provider name reported by the models and used in error messages, e.g. `ollama`. */
  name: string;
  /** Base URL including the version segment, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
}

/** Resolved configuration of an {@link OpenAIChatModel}. */
export interface OpenAIChatConfig extends OpenAIConnection {
  dialect: OpenAIDialect;
}

/** An OpenAI or OpenAI-compatible provider: call it (or `.chat`) for Chat Completions models. */
export interface OpenAIProvider {
  /** A Chat Completions model. */
  (modelId: string, options?: ModelOptions): OpenAIChatModel;
  /** A Chat Completions model (same as calling the provider). */
  chat(modelId: string, options?: ModelOptions): OpenAIChatModel;
  /** A Responses API model (`POST /responses`, stateless: `store: false`, no `previous_response_id`). */
  responses(modelId: string, options?: OpenAIResponsesOptions): OpenAIResponsesModel;
  /** An embedding model (`POST /embeddings`). */
  embedding(modelId: string, options?: EmbeddingModelOptions): OpenAIEmbeddingModel;
}

function makeProvider(connection: () => OpenAIConnection, dialect: OpenAIDialect): OpenAIProvider {
  const chat = (modelId: string, options?: ModelOptions): OpenAIChatModel => {
    const config = { ...connection(), dialect };
    return new OpenAIChatModel(config, checkModelOptions(config.provider, modelId, options), options);
  };
  const provider = chat as OpenAIProvider;
  provider.chat = chat;
  provider.responses = (modelId, options) => {
    const config = connection();
    return new OpenAIResponsesModel(config, checkModelOptions(config.provider, modelId, options, { store: c.boolean }), options);
  };
  provider.embedding = (modelId, options) => {
    const config = connection();
    return new OpenAIEmbeddingModel(config, checkEmbeddingOptions(config.provider, modelId, options), options);
  };
  return provider;
}

/**
 * Creates the official OpenAI provider. Read when a model is created: the API key (`apiKey`, else
 * `OPENAI_API_KEY` under Node) and the base URL (`baseURL`, else `OPENAI_BASE_URL`, else
 * `OPENAI_API_BASE`, else {@link OPENAI_DEFAULT_BASE_URL}). Chat models send `max_completion_tokens`.
 */
export function createOpenAI(settings: ProviderSettings = {}): OpenAIProvider {
  checkProviderSettings('createOpenAI', settings);
  const connection = (): OpenAIConnection => ({
    provider: 'openai',
    baseURL: settings.baseURL ?? readProcessEnv('OPENAI_BASE_URL') ?? readProcessEnv('OPENAI_API_BASE') ?? OPENAI_DEFAULT_BASE_URL,
    apiKey: settings.apiKey ?? readProcessEnv('OPENAI_API_KEY'),
    headers: settings.headers ?? {},
    fetch: settings.fetch,
    idleTimeoutMs: settings.idleTimeoutMs,
  });
  return makeProvider(connection, { maxTokensField: 'max_completion_tokens', sendTopK: false, officialApi: true });
}

/**
 * Creates a provider for an OpenAI-compatible server. The API key is optional (local servers need
 * none). Chat models send `max_tokens` and `top_k`, which such servers understand; image types are
 * left to the server.
 */
export function createOpenAICompatible(settings: OpenAICompatibleSettings): OpenAIProvider {
  checkProviderSettings('createOpenAICompatible', settings, { name: c.nonEmpty });
  if (settings?.name === undefined) c.fail('createOpenAICompatible', "'name' is required: the provider's name in models and errors, e.g. \"ollama\"");
  if (settings.baseURL === undefined) c.fail('createOpenAICompatible', "'baseURL' is required: the server's URL with its version segment, e.g. \"http://localhost:11434/v1\"");
  const connection = (): OpenAIConnection => ({
    provider: settings.name,
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    headers: settings.headers ?? {},
    fetch: settings.fetch,
    idleTimeoutMs: settings.idleTimeoutMs,
  });
  return makeProvider(connection, { maxTokensField: 'max_tokens', sendTopK: true, officialApi: false });
}

/** The default OpenAI provider: `openai('gpt-4o')`, `openai.responses('gpt-5')`, `openai.embedding('text-embedding-3-small')`. */
export const openai: OpenAIProvider = createOpenAI();

/** A Chat Completions model; create it with {@link createOpenAI} or {@link createOpenAICompatible}. */
export class OpenAIChatModel implements LanguageModel {
  /** Provider name (`openai` or the compatible server's name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  private readonly config: OpenAIChatConfig;
  private readonly options: ModelOptions;
  private readonly idleTimeoutMs: number | undefined;

  /** Use the factories instead. */
  constructor(config: OpenAIChatConfig, modelId: string, options: ModelOptions = {}) {
    this.config = config;
    this.provider = config.provider;
    this.modelId = modelId;
    this.options = options;
    this.idleTimeoutMs = resolveIdleTimeout(config.provider, options.idleTimeoutMs, config.idleTimeoutMs);
  }

  /**
   * Sends the request. Streams (SSE) when `req.stream` is true, or when it is unset and an `onDelta`
   * callback is given.
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const { headers, secrets } = openAIHeaders(this.config, stream);
    const warnings = unsupportedSettings(req, this.provider, this.config.dialect.sendTopK ? [] : ['topK']);
    const response = await exchange({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, 'chat/completions'),
      headers: callHeaders(headers, secrets, req),
      secrets,
      body: buildRequest(this.provider, () =>
        applyProviderOptions(
          buildOpenAIBody(this.modelId, req, stream, this.config.dialect, { provider: this.provider, reasoning: this.options.reasoning }),
          req,
          this.provider,
          OPENAI_CHAT_OPTIONS,
        ),
      ),
      stream,
      fetch: this.config.fetch,
      opts,
      idleTimeoutMs: this.idleTimeoutMs,
      parseJson: (json) => parseOpenAIResponse(json, this.provider, secrets),
      streamState: (emit) => new OpenAIStreamState(this.provider, secrets, emit),
    });
    return withWarnings(response, warnings);
  }
}
