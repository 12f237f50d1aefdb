/**
 * Google Gemini provider (Gemini API, `generativelanguage.googleapis.com/v1beta`):
 * `models/{id}:generateContent`, `models/{id}:streamGenerateContent?alt=sse` and
 * `models/{id}:batchEmbedContents`, with the key in the `x-goog-api-key` header.
 */
import { checkEmbeddingOptions, checkModelOptions, checkProviderSettings } from './settings-check.js';
import { applyProviderOptions, callHeaders, GOOGLE_OPTIONS } from './provider-options.js';
import { GoogleEmbeddingModel, type GoogleEmbeddingConnection } from './embeddings.js';
import { buildGeminiBody } from './google-request.js';
import { geminiErrorDetails, GeminiStreamState, parseGeminiResponse } from './google-response.js';
import { joinUrl, readProcessEnv, secretsOf, withHeaders } from './http.js';
import { resolveIdleTimeout } from './idle-timeout.js';
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

/** Default base URL (overridden by `GOOGLE_API_BASE` under Node). */
export const GOOGLE_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** Resolved configuration of a {@link GoogleGenerativeModel}. */
export interface GoogleConfig {
  provider: string;
  baseURL: string;
  apiKey?: string;
  headers: Record<string, string>;
  fetch?: ProviderSettings['fetch'];
  idleTimeoutMs?: number;
}

/** The Gemini provider: call it with a model id (and options); `.embedding(id)` for embeddings. */
export interface GoogleProvider {
  (modelId: string, options?: ModelOptions): GoogleGenerativeModel;
  /** A Gemini embedding model (`batchEmbedContents`), e.g. `gemini-embedding-001`. */
  embedding(modelId: string, options?: EmbeddingModelOptions): GoogleEmbeddingModel;
}

/**
 * Creates the Gemini provider. Read when a model is created: the key (`apiKey`, else
 * `GOOGLE_GENERATIVE_AI_API_KEY`, else `GEMINI_API_KEY` under Node) and the base URL (`baseURL`,
 * else `GOOGLE_API_BASE`, else {@link GOOGLE_DEFAULT_BASE_URL}).
 */
export function createGoogle(settings: ProviderSettings = {}): GoogleProvider {
  checkProviderSettings('createGoogle', settings);
  const config = (): GoogleConfig => ({
    provider: 'google',
    baseURL: settings.baseURL ?? readProcessEnv('GOOGLE_API_BASE') ?? GOOGLE_DEFAULT_BASE_URL,
    apiKey: settings.apiKey ?? readProcessEnv('GOOGLE_GENERATIVE_AI_API_KEY') ?? readProcessEnv('GEMINI_API_KEY'),
    headers: settings.headers ?? {},
    fetch: settings.fetch,
    idleTimeoutMs: settings.idleTimeoutMs,
  });
  const provider = ((modelId: string, options?: ModelOptions) => new GoogleGenerativeModel(config(), checkModelOptions('google', modelId, options), options)) as GoogleProvider;
  provider.embedding = (modelId, options) => new GoogleEmbeddingModel(() => embeddingConnection(config()), checkEmbeddingOptions('google', modelId, options), options);
  return provider;
}

/** The default Gemini provider: `google('gemini-2.5-flash')`. */
export const google: GoogleProvider = createGoogle();

function googleHeaders(c: GoogleConfig, stream: boolean): { headers: Record<string, string>; secrets: string[] } {
  const own: Record<string, string> = {};
  if (c.apiKey) own['x-goog-api-key'] = c.apiKey;
  if (stream) own.accept = 'text/event-stream';
  const headers = withHeaders(own, c.headers);
  return { headers, secrets: secretsOf(c.apiKey, headers) };
}

function embeddingConnection(c: GoogleConfig): GoogleEmbeddingConnection {
  const { headers, secrets } = googleHeaders(c, false);
  return { provider: c.provider, baseURL: c.baseURL, headers, secrets, fetch: c.fetch, errorDetails: geminiErrorDetails };
}

/** A Gemini model; create it with {@link createGoogle} or {@link google}. */
export class GoogleGenerativeModel implements LanguageModel {
  /** Always `google`. */
  readonly provider: string;
  /** The model id (without the `models/` prefix). */
  readonly modelId: string;
  private readonly config: GoogleConfig;
  private readonly options: ModelOptions;
  private readonly idleTimeoutMs: number | undefined;

  /** Use {@link createGoogle} instead. */
  constructor(config: GoogleConfig, modelId: string, options: ModelOptions = {}) {
    this.config = config;
    this.provider = config.provider;
    this.modelId = modelId.replace(/^models\//, '');
    this.options = options;
    this.idleTimeoutMs = resolveIdleTimeout(config.provider, options.idleTimeoutMs, config.idleTimeoutMs);
  }

  /**
   * Sends the request: `streamGenerateContent?alt=sse` when `req.stream` is true (or unset with an
   * `onDelta` callback), else `generateContent`.
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const { headers, secrets } = googleHeaders(this.config, stream);
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    return exchange({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, `models/${encodeURIComponent(this.modelId)}:${method}`),
      headers: callHeaders(headers, secrets, req),
      secrets,
      body: buildRequest(this.provider, () => applyProviderOptions(buildGeminiBody(req, { provider: this.provider, reasoning: this.options.reasoning }), req, this.provider, GOOGLE_OPTIONS)),
      stream,
      fetch: this.config.fetch,
      opts,
      idleTimeoutMs: this.idleTimeoutMs,
      errorDetails: geminiErrorDetails,
      parseJson: (json) => parseGeminiResponse(json, this.provider, secrets),
      streamState: (emit) => new GeminiStreamState(this.provider, secrets, emit),
    });
  }
}
