/**
 * Anthropic Messages provider (`POST /messages`, `anthropic-version: 2023-06-01`), streaming over SSE.
 */
import * as c from '../config/check.js';
import { ANTHROPIC_OPTIONS, applyProviderOptions, callHeaders, ownOptions, unsupportedSettings, withWarnings } from './provider-options.js';
import { anthropicCacheShape, checkModelOptions, checkProviderSettings } from './settings-check.js';
import { joinUrl, readProcessEnv, secretsOf, withHeaders } from './http.js';
import { buildAnthropicBody, type AnthropicCacheOptions } from './anthropic-request.js';
import { AnthropicStreamState, parseAnthropicResponse } from './anthropic-response.js';
import { resolveIdleTimeout } from './idle-timeout.js';
import { buildRequest, exchange } from './stream.js';
import type { GenerateOptions, LanguageModel, ModelOptions, ModelRequest, ModelResponse, ProviderSettings } from './types.js';

/** Options of an Anthropic model. */
export interface AnthropicModelOptions extends ModelOptions {
  /** Prompt caching: `cache_control` breakpoints on the system prompt, the tools and/or the conversation. */
  cache?: AnthropicCacheOptions;
}

/** The Anthropic provider: call it with a model id (and options). */
export type AnthropicProvider = (modelId: string, options?: AnthropicModelOptions) => AnthropicMessagesModel;

/** Default base URL (overridden by `ANTHROPIC_BASE_URL` or `ANTHROPIC_API_BASE` under Node). */
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
  idleTimeoutMs?: number;
}

/** Settings of {@link createAnthropic}. */
export interface AnthropicSettings extends ProviderSettings {
  /** Provider name reported by the models (default `anthropic`), for Anthropic-compatible servers. */
  name?: string;
}

/**
 * Creates the Anthropic provider. Read when a model is created: the key (`apiKey`, else
 * `ANTHROPIC_API_KEY` under Node; sent as `x-api-key`) and the base URL (`baseURL`, else
 * `ANTHROPIC_BASE_URL`, else `ANTHROPIC_API_BASE`, else {@link ANTHROPIC_DEFAULT_BASE_URL}). Extra
 * headers (e.g. `anthropic-beta`) can be given in `headers`.
 */
export function createAnthropic(settings: AnthropicSettings = {}): AnthropicProvider {
  checkProviderSettings('createAnthropic', settings, { name: c.nonEmpty });
  return (modelId, options) => {
    const config: AnthropicConfig = {
      provider: settings.name ?? 'anthropic',
      baseURL: settings.baseURL ?? readProcessEnv('ANTHROPIC_BASE_URL') ?? readProcessEnv('ANTHROPIC_API_BASE') ?? ANTHROPIC_DEFAULT_BASE_URL,
      apiKey: settings.apiKey ?? (settings.name === undefined ? readProcessEnv('ANTHROPIC_API_KEY') : undefined),
      headers: settings.headers ?? {},
      fetch: settings.fetch,
      idleTimeoutMs: settings.idleTimeoutMs,
    };
    return new AnthropicMessagesModel(config, checkModelOptions(config.provider, modelId, options, {}, { cache: anthropicCacheShape }), options);
  };
}

/** The default Anthropic provider: `anthropic('claude-sonnet-4-5', {cache: {system: true}})`. */
export const anthropic: AnthropicProvider = createAnthropic();

/** A Messages API model; create it with {@link createAnthropic}. */
export class AnthropicMessagesModel implements LanguageModel {
  /** Always `anthropic` (or the configured name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  private readonly config: AnthropicConfig;
  private readonly options: AnthropicModelOptions;
  private readonly idleTimeoutMs: number | undefined;

  /** Use {@link createAnthropic} instead. */
  constructor(config: AnthropicConfig, modelId: string, options: AnthropicModelOptions = {}) {
    this.config = config;
    this.provider = config.provider;
    this.modelId = modelId;
    this.options = options;
    this.idleTimeoutMs = resolveIdleTimeout(config.provider, options.idleTimeoutMs, config.idleTimeoutMs);
  }

  /**
   * Sends the request. Streams (SSE) when `req.stream` is true, or when it is unset and an `onDelta`
   * callback is given. `max_tokens` defaults to 4096 (plus the thinking budget with reasoning on).
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const own: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (this.config.apiKey) own['x-api-key'] = this.config.apiKey;
    if (stream) own.accept = 'text/event-stream';
    const headers = withHeaders(own, this.config.headers);
    const secrets = secretsOf(this.config.apiKey, headers);
    const response = await exchange({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, 'messages'),
      headers: callHeaders(headers, secrets, req),
      secrets,
      body: buildRequest(this.provider, () => {
        // Thinking set for this call replaces the model's reasoning setting: it changes max_tokens and what the other settings may be.
        const thinking = ownOptions(req, this.provider, ANTHROPIC_OPTIONS)?.thinking as { type: string; budgetTokens?: number } | undefined;
        const reasoning = thinking === undefined ? this.options.reasoning : thinking.type === 'enabled' ? { budgetTokens: thinking.budgetTokens } : undefined;
        const body = buildAnthropicBody(this.modelId, req, stream, { provider: this.provider, reasoning, cache: this.options.cache });
        return applyProviderOptions(body, req, this.provider, ANTHROPIC_OPTIONS);
      }),
      stream,
      fetch: this.config.fetch,
      opts,
      idleTimeoutMs: this.idleTimeoutMs,
      parseJson: (json) => parseAnthropicResponse(json, this.provider, secrets),
      streamState: (emit) => new AnthropicStreamState(this.provider, secrets, emit),
    });
    return withWarnings(response, unsupportedSettings(req, this.provider, ['seed', 'presencePenalty', 'frequencyPenalty']));
  }
}
