/**
 * Anthropic Messages provider (`POST /messages`, `anthropic-version: 2023-06-01`), streaming over SSE.
 */
import { joinUrl, postJson, readJson, readProcessEnv, secretHeaderValues } from './http.js';
import { buildAnthropicBody } from './anthropic-request.js';
import { AnthropicStreamState, parseAnthropicResponse } from './anthropic-response.js';
import { consumeSse, emitResponseAsDeltas } from './stream.js';
import type { GenerateOptions, LanguageModel, ModelFactory, ModelRequest, ModelResponse, ProviderSettings, StreamDelta } from './types.js';

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
    const res = await postJson({
      provider: this.provider,
      url: joinUrl(this.config.baseURL, 'messages'),
      headers,
      body: buildAnthropicBody(this.modelId, req, stream),
      fetch: this.config.fetch,
      signal: opts.signal,
      secrets,
    });
    const emit = opts.onDelta ?? ((_: StreamDelta) => undefined);
    // a server may ignore `stream: true` and answer with plain JSON
    const isJson = /\bjson\b/i.test(res.headers.get('content-type') ?? '');
    if (!stream || isJson) {
      const result = parseAnthropicResponse(await readJson(res, this.provider, secrets, opts.signal), this.provider, secrets);
      if (stream) emitResponseAsDeltas(result, emit);
      return result;
    }
    const state = new AnthropicStreamState(this.provider, secrets, emit);
    await consumeSse(
      this.provider,
      res,
      {
        onEvent: (ev) => state.handle(ev),
        get complete() {
          return state.complete;
        },
        get done() {
          return state.done;
        },
        get partialText() {
          return state.text;
        },
      },
      secrets,
      opts.signal,
    );
    return state.result();
  }
}
