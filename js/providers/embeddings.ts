/**
 * Text embedding models: OpenAI `/embeddings` (also OpenAI-compatible servers such as Ollama,
 * vLLM, LM Studio) and Gemini `batchEmbedContents`. A large list of values is split into batches of
 * at most `maxBatchSize`, sent with at most `maxParallelCalls` requests in flight, and reassembled
 * in order.
 */
import * as c from '../config/check.js';
import { AbortError, ProviderError, ValidationError } from '../errors.js';
import { describeValue, joinUrl, isObject, postJson, readJson, redact, tokenCount, type ErrorDetailsReader } from './http.js';
import { openAIHeaders, type OpenAIConnection } from './openai-connection.js';
import type { EmbeddingModel, EmbeddingModelOptions, EmbedOptions, EmbedRequest, EmbedResult, FetchFunction } from './types.js';

/** Most inputs OpenAI accepts in one `/embeddings` request. */
export const OPENAI_MAX_EMBEDDING_BATCH = 2048;
/** Most requests Gemini accepts in one `batchEmbedContents` call. */
export const GOOGLE_MAX_EMBEDDING_BATCH = 100;
const DEFAULT_PARALLEL_CALLS = 4;

/** The vectors and token count of one batch. */
interface BatchResult {
  embeddings: number[][];
  tokens: number;
}

function checkCount(provider: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ValidationError(`${provider}: ${name} must be a whole number >= 1, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Checks one embed() call: a list of strings, when given a positive whole number of dimensions, and
 * no field or option it does not know (a misspelt one would be ignored).
 */
export function checkEmbedCall(provider: string, req: EmbedRequest, opts: EmbedOptions | undefined): void {
  if (!isObject(req) || !Array.isArray(req.values)) {
    throw new ValidationError(`${provider}: embed() needs {values: string[]}`);
  }
  c.checkOptions(`${provider}: embed() request`, req, { values: c.anything, dimensions: c.anything }, 'field');
  c.checkOptions(`${provider}: embed() options`, opts, { signal: c.anything });
  const bad = req.values.findIndex((v) => typeof v !== 'string');
  if (bad !== -1) throw new ValidationError(`${provider}: embed() values must be strings; values[${bad}] is ${typeof req.values[bad]}`);
  if (req.dimensions !== undefined && (typeof req.dimensions !== 'number' || !Number.isInteger(req.dimensions) || req.dimensions < 1)) {
    throw new ValidationError(`${provider}: dimensions must be a whole number >= 1, got ${describeValue(req.dimensions)}`);
  }
}

/**
 * Splits `values` into batches, embeds them with at most `parallel` batches in flight, and puts
 * the vectors back in order. The first failure aborts the batches still running and is rethrown.
 */
export async function embedInBatches(
  values: string[],
  batchSize: number,
  parallel: number,
  signal: AbortSignal | undefined,
  send: (batch: string[], signal: AbortSignal) => Promise<BatchResult>,
): Promise<EmbedResult> {
  if (signal?.aborted) throw new AbortError();
  const batches: string[][] = [];
  for (let i = 0; i < values.length; i += batchSize) batches.push(values.slice(i, i + batchSize));
  const results: BatchResult[] = new Array<BatchResult>(batches.length);
  const inner = new AbortController();
  const onAbort = (): void => inner.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < batches.length) {
      const i = next++;
      try {
        results[i] = await send(batches[i], inner.signal);
      } catch (err) {
        if (failure === undefined) failure = err;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, batches.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw new AbortError();
  if (failure !== undefined) throw failure as Error; // a typed error from `send`
  return {
    embeddings: results.flatMap((r) => r.embeddings),
    usage: { tokens: results.reduce((sum, r) => sum + r.tokens, 0) },
  };
}

/** A vector from the wire: an array of finite numbers. */
function vectorOf(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return v as number[];
}

function countMismatch(provider: string, got: number, sent: number): ProviderError {
  return new ProviderError(`${provider}: the server returned ${got} embedding(s) for ${sent} input(s)`);
}

/** An OpenAI (or OpenAI-compatible) embedding model; create it with `createOpenAI(...).embedding(id)`. */
export class OpenAIEmbeddingModel implements EmbeddingModel {
  /** Provider name (`openai` or the compatible server's name). */
  readonly provider: string;
  /** The model id sent as `model`. */
  readonly modelId: string;
  /** Values per `/embeddings` request. */
  readonly maxBatchSize: number;
  private readonly parallel: number;

  /** Use the factories instead. */
  constructor(
    private readonly connection: OpenAIConnection,
    modelId: string,
    options: EmbeddingModelOptions = {},
  ) {
    this.provider = connection.provider;
    this.modelId = modelId;
    this.maxBatchSize = checkCount(this.provider, 'maxBatchSize', options.maxBatchSize, OPENAI_MAX_EMBEDDING_BATCH);
    this.parallel = checkCount(this.provider, 'maxParallelCalls', options.maxParallelCalls, DEFAULT_PARALLEL_CALLS);
  }

  /** Embeds the values (`POST {baseURL}/embeddings`, `encoding_format: "float"`). */
  async embed(req: EmbedRequest, opts: EmbedOptions = {}): Promise<EmbedResult> {
    checkEmbedCall(this.provider, req, opts);
    const { headers, secrets } = openAIHeaders(this.connection, false);
    return embedInBatches(req.values, this.maxBatchSize, this.parallel, opts.signal, async (batch, signal) => {
      const body: Record<string, unknown> = { model: this.modelId, input: batch, encoding_format: 'float' };
      if (req.dimensions !== undefined) body.dimensions = req.dimensions;
      const res = await postJson({
        provider: this.provider,
        url: joinUrl(this.connection.baseURL, 'embeddings'),
        headers,
        body,
        fetch: this.connection.fetch,
        signal,
        secrets,
      });
      return parseOpenAIEmbeddings(await readJson(res, this.provider, secrets, signal), batch.length, this.provider, secrets);
    });
  }
}

/** Reads `{data: [{index, embedding}], usage: {prompt_tokens}}`, ordering the vectors by `index`. */
export function parseOpenAIEmbeddings(json: unknown, sent: number, provider: string, secrets: string[]): BatchResult {
  if (!isObject(json) || !Array.isArray(json.data)) {
    throw new ProviderError(redact(`${provider}: embeddings response has no data array`, secrets));
  }
  const out: number[][] = new Array<number[]>(sent);
  json.data.forEach((d: unknown, i: number) => {
    const index = isObject(d) && typeof d.index === 'number' ? d.index : i;
    const vector = isObject(d) ? vectorOf(d.embedding) : undefined;
    if (vector === undefined) throw new ProviderError(`${provider}: embedding ${i} is not an array of numbers (was encoding_format changed?)`);
    if (Number.isInteger(index) && index >= 0 && index < sent) out[index] = vector;
  });
  const got = out.filter((v) => v !== undefined).length;
  if (json.data.length !== sent || got !== sent) throw countMismatch(provider, json.data.length, sent);
  const usage = isObject(json.usage) ? json.usage : {};
  return { embeddings: out, tokens: tokenCount(usage.prompt_tokens ?? usage.total_tokens) };
}

/** Connection settings of a Gemini embedding model. */
export interface GoogleEmbeddingConnection {
  provider: string;
  baseURL: string;
  headers: Record<string, string>;
  secrets: string[];
  fetch?: FetchFunction;
  errorDetails?: ErrorDetailsReader;
}

/** A Gemini embedding model; create it with `createGoogle(...).embedding(id)`. */
export class GoogleEmbeddingModel implements EmbeddingModel {
  /** Provider name (`google`). */
  readonly provider: string;
  /** The model id (without `models/`). */
  readonly modelId: string;
  /** Requests per `batchEmbedContents` call. */
  readonly maxBatchSize: number;
  private readonly parallel: number;

  /** Use the factories instead. */
  constructor(
    private readonly connection: () => GoogleEmbeddingConnection,
    modelId: string,
    options: EmbeddingModelOptions = {},
  ) {
    this.provider = 'google';
    this.modelId = modelId.replace(/^models\//, '');
    this.maxBatchSize = checkCount(this.provider, 'maxBatchSize', options.maxBatchSize, GOOGLE_MAX_EMBEDDING_BATCH);
    this.parallel = checkCount(this.provider, 'maxParallelCalls', options.maxParallelCalls, DEFAULT_PARALLEL_CALLS);
  }

  /** Embeds the values (`POST {baseURL}/models/{id}:batchEmbedContents`); Gemini reports no token usage. */
  async embed(req: EmbedRequest, opts: EmbedOptions = {}): Promise<EmbedResult> {
    checkEmbedCall(this.provider, req, opts);
    const c = this.connection();
    const model = `models/${this.modelId}`;
    return embedInBatches(req.values, this.maxBatchSize, this.parallel, opts.signal, async (batch, signal) => {
      const requests = batch.map((text) => {
        const r: Record<string, unknown> = { model, content: { parts: [{ text }] } };
        if (req.dimensions !== undefined) r.outputDimensionality = req.dimensions;
        return r;
      });
      const res = await postJson({
        provider: c.provider,
        url: joinUrl(c.baseURL, `${model}:batchEmbedContents`),
        headers: c.headers,
        body: { requests },
        fetch: c.fetch,
        signal,
        secrets: c.secrets,
        errorDetails: c.errorDetails,
      });
      return parseGoogleEmbeddings(await readJson(res, c.provider, c.secrets, signal), batch.length, c.provider, c.secrets);
    });
  }
}

/** Reads `{embeddings: [{values}]}` (in request order). */
export function parseGoogleEmbeddings(json: unknown, sent: number, provider: string, secrets: string[]): BatchResult {
  if (!isObject(json) || !Array.isArray(json.embeddings)) {
    throw new ProviderError(redact(`${provider}: embeddings response has no embeddings array`, secrets));
  }
  if (json.embeddings.length !== sent) throw countMismatch(provider, json.embeddings.length, sent);
  const embeddings = json.embeddings.map((e: unknown, i: number) => {
    const vector = isObject(e) ? vectorOf(e.values) : undefined;
    if (vector === undefined) throw new ProviderError(`${provider}: embedding ${i} is not an array of numbers`);
    return vector;
  });
  return { embeddings, tokens: 0 };
}
