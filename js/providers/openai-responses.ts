/**
 * OpenAI Responses API provider (`POST /responses`), for the official API and compatible servers
 * that speak it. Stateless by default: every call sends the whole conversation as input items with
 * `store: false`; `previous_response_id` is never used.
 */
import { joinUrl } from './http.js';
import { applyProviderOptions, callHeaders, OPENAI_RESPONSES_OPTIONS, unsupportedSettings, withWarnings } from './provider-options.js';
import { resolveIdleTimeout } from './idle-timeout.js';
import { openAIHeaders, type OpenAIConnection } from './openai-connection.js';
import { buildResponsesBody } from './openai-responses-request.js';
import { parseResponsesResponse, ResponsesStreamState } from './openai-responses-response.js';
import { buildRequest, exchange } from './stream.js';
import type { GenerateOptions, LanguageModel, ModelOptions, ModelRequest, ModelResponse } from './types.js';

/** Options of a Responses API model. */
export interface OpenAIResponsesOptions extends ModelOptions {
  /**
   * Let OpenAI store the response (`store: true`). Default false: nothing is kept server-side and
   * reasoning travels back as encrypted content.
   */
  store?: boolean;
}

/** A Responses API model; create it with `createOpenAI(...).responses(id)` or `openai.responses(id)`. */
export class OpenAIResponsesModel implements LanguageModel {
  /** Provider name (`openai` or the compatible server's name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  private readonly connection: OpenAIConnection;
  private readonly options: OpenAIResponsesOptions;
  private readonly idleTimeoutMs: number | undefined;

  /** Use the factories instead. */
  constructor(connection: OpenAIConnection, modelId: string, options: OpenAIResponsesOptions = {}) {
    this.connection = connection;
    this.provider = connection.provider;
    this.modelId = modelId;
    this.options = options;
    this.idleTimeoutMs = resolveIdleTimeout(connection.provider, options.idleTimeoutMs, connection.idleTimeoutMs);
  }

  /**
   * Sends the request. Streams (SSE) when `req.stream` is true, or when it is unset and an `onDelta`
   * callback is given.
   */
  async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
    const stream = req.stream ?? opts.onDelta !== undefined;
    const { headers, secrets } = openAIHeaders(this.connection, stream);
    const body = buildRequest(this.provider, () =>
      buildResponsesBody(this.modelId, req, stream, {
        provider: this.provider,
        reasoning: this.options.reasoning,
        store: this.options.store ?? false,
        officialApi: this.provider === 'openai',
      }),
    );
    applyProviderOptions(body, req, this.provider, OPENAI_RESPONSES_OPTIONS);
    const response = await exchange({
      provider: this.provider,
      url: joinUrl(this.connection.baseURL, 'responses'),
      headers: callHeaders(headers, secrets, req),
      secrets,
      body,
      stream,
      fetch: this.connection.fetch,
      opts,
      idleTimeoutMs: this.idleTimeoutMs,
      parseJson: (json) => parseResponsesResponse(json, this.provider, secrets),
      streamState: (emit) => new ResponsesStreamState(this.provider, secrets, emit),
    });
    return withWarnings(response, unsupportedSettings(req, this.provider, ['stopSequences', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty']));
  }
}
