/**
 * Anthropic Messages provider (`POST /messages`, `anthropic-version: 2023-06-01`), streaming over SSE.
 */
import { joinUrl, readProcessEnv, secretHeaderValues } from './http.js';
import { buildAnthropicBody } from './anthropic-request.js';
import { AnthropicStreamState, parseAnthropicResponse } from './anthropic-response.js';
import { exchange } from './stream.js';
import type { GenerateOptions, LanguageModel, ModelFactory, ModelRequest, ModelResponse, ProviderSettings } from './types.js';

/** Default base URL (overridden by `ANTHROPIC_BASE_URL` under Node). */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';

/** The API version header value sent with every request. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** Resolved configuration of an {@link AnthropicMessagesModel}. */
export interface AnthropicConfig {
  provider: string;
  baseURL: string;
  apiKey?: string;
  headers: Record<string, string>;
  fetch?: ProviderSettings['fetch'];
}

/** Settings of {@link createAnthropic}. */
export interface AnthropicSettings extends ProviderSettings {
  /** Provider name reported by the models (default `anthropic`), for Anthropic-compatible servers. */
  name?: string;
}

/**
 * Creates the Anthropic provider. The base URL defaults to `ANTHROPIC_BASE_URL` or
 * {@link ANTHROPIC_DEFAULT_BASE_URL}; the key is sent as `x-api-key`. Extra headers (e.g.
 * `anthropic-beta`) can be given in `headers`.
 */
export function createAnthropic(settings: AnthropicSettings = {}): ModelFactory {
  const config: AnthropicConfig = {
    provider: settings.name ?? 'anthropic',
    baseURL: settings.baseURL ?? readProcessEnv('ANTHROPIC_BASE_URL') ?? ANTHROPIC_DEFAULT_BASE_URL,
    apiKey: settings.apiKey,
    headers: settings.headers ?? {},
    fetch: settings.fetch,
  };
  return (modelId) => new AnthropicMessagesModel(config, modelId);
}

/** A Messages API model; create it with {@link createAnthropic}. */
export class AnthropicMessagesModel implements LanguageModel {
  /** Always `anthropic` (or the configured name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  private readonly config: AnthropicConfig;

  /** Use {@link createAnthropic} instead. */
  constructor(config: AnthropicConfig, modelId: string) {
    this.config = config;
    this.provider = config.provider;
    this.modelId = modelId;
  }

  /**
   * Sends the request. Streams (SSE) when `req.stream` is true, or when it is unset and an `onDelta`
   * callback is given. `max_tokens` defaults to 4096.
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...this.config.headers };
    if (this.config.apiKey) headers['x-api-key'] = this.config.apiKey;
    if (stream) headers.accept = 'text/event-stream';
    const secrets = [...(this.config.apiKey ? [this.config.apiKey] : []), ...secretHeaderValues(headers)];
    return exchange({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, 'messages'),
      headers,
      secrets,
      body: buildAnthropicBody(this.modelId, req, stream),
      stream,
      fetch: this.config.fetch,
      opts,
      parseJson: (json) => parseAnthropicResponse(json, this.provider, secrets),
      streamState: (emit) => new AnthropicStreamState(this.provider, secrets, emit),
    });
  }
}
