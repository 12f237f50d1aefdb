/**
 * HTTP plumbing shared by the providers: POSTing JSON with abort support, turning HTTP failures and
 * in-band error payloads into the typed errors of `errors.ts`, and keeping secrets out of messages.
 */
import {
  AbortError,
  AuthenticationError,
  ConfigError,
  ContextLengthError,
  LmthingError,
  ProviderError,
  RateLimitError,
  ValidationError,
} from '../errors.js';
import type { FetchFunction } from './types.js';
import { rememberSecret } from '../observe/redact.js';

/** Everything needed to send one provider request. */
export interface JsonRequest {
  /** Provider name used as the prefix of error messages. */
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  fetch?: FetchFunction;
  signal?: AbortSignal;
  /** Strings (API keys, header values) that must never appear in an error message. */
  secrets: string[];
  /** Reads provider-specific details from a JSON error body (Gemini's `google.rpc` details). */
  errorDetails?: ErrorDetailsReader;
}

/** Details a provider finds in its JSON error bodies beyond `{message, code}`. */
export interface ErrorDetails {
  message?: string;
  code?: string;
  retryAfterMs?: number;
  /** The body says the credentials are bad (e.g. Gemini's HTTP 400 `API_KEY_INVALID`). */
  authentication?: boolean;
}

/** Reads {@link ErrorDetails} from a parsed JSON error body. */
export type ErrorDetailsReader = (json: unknown) => ErrorDetails;

/** Details of a provider failure, gathered from the status, headers and error payload. */
export interface FailureInfo {
  provider: string;
  status?: number;
  message: string;
  /** Provider error code or type, e.g. `rate_limit_exceeded`, `overloaded_error`. */
  code?: string;
  retryAfterMs?: number;
  partialText?: string;
  /** The failure is known to be about credentials whatever the status says. */
  authentication?: boolean;
  secrets: string[];
}

/** Joins a base URL and a path with exactly one slash. */
export function joinUrl(baseURL: string, path: string): string {
  return baseURL.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

/** Reads an environment variable when running under Node; `undefined` in browsers. */
export function readProcessEnv(name: string): string | undefined {
  if (typeof process === 'undefined' || !process.env) return undefined;
  const v = process.env[name];
  return v === '' ? undefined : v;
}

/**
 * `base` with `over` laid on it; names are case-insensitive, so a user's `Authorization` replaces
 * the provider's `authorization` instead of joining it into one header.
 */
export function withHeaders(base: Record<string, string>, over: Record<string, string> | undefined): Record<string, string> {
  if (!over) return base;
  const replaced = new Set(Object.keys(over).map((name) => name.toLowerCase()));
  return { ...Object.fromEntries(Object.entries(base).filter(([name]) => !replaced.has(name.toLowerCase()))), ...over };
}

/** The user name and password of a URL (`https://user:pass@host`), as fetch errors quote it. */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** Replaces every occurrence of the given secrets (bearer tokens, URL credentials) in `text` by `[redacted]`. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[redacted]').replace(URL_CREDENTIALS, '$1[redacted]@');
}

/**
 * Header names that carry credentials: the providers' own and a gateway's (`x-portkey-api-key`,
 * `ocp-apim-subscription-key`, `x-auth-token`, `cf-aig-authorization`).
 */
const CREDENTIAL_HEADER = /auth|key|token|secret|password|cookie|credential|session|signature/i;

/**
 * The secrets of one request (its API key, its credential headers' values), to keep out of its
 * errors; each is remembered for every Redactor too, so a model echoing it is masked in logs and spans.
 */
export function secretsOf(apiKey: string | undefined, headers: Record<string, string>): string[] {
  const secrets = [...(apiKey ? [apiKey] : []), ...secretHeaderValues(headers)];
  for (const secret of secrets) rememberSecret(secret);
  return secrets;
}

/** Header values that are credentials, collected so they can be redacted. */
export function secretHeaderValues(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADER.test(k)) continue;
    out.push(v);
    const bearer = /^Bearer\s+(.+)$/i.exec(v);
    if (bearer) out.push(bearer[1]);
  }
  return out;
}

/**
 * POSTs a JSON body and returns the response when its status is 2xx. Non-2xx statuses throw the
 * matching typed error (message taken from the JSON error body). Network failures throw a retryable
 * `ProviderError`; an aborted signal throws `AbortError`.
 */
export async function postJson(req: JsonRequest): Promise<Response> {
  if (req.signal?.aborted) throw new AbortError();
  const doFetch: FetchFunction = req.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let body: string;
  try {
    body = JSON.stringify(req.body);
  } catch (err) {
    throw new ValidationError(`${req.provider}: the request cannot be sent as JSON (${describe(err)}); look for values nested too deeply or cycles in messages and tool results`);
  }
  let res: Response;
  try {
    res = await doFetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...req.headers },
      body,
      signal: req.signal,
    });
  } catch (err) {
    if (req.signal?.aborted) throw new AbortError();
    throw networkError(req.provider, err, req.secrets);
  }
  // A custom fetch that resolves to something else would fail later as "cannot read 'get' of undefined".
  const shape = res as Partial<Response> | null | undefined;
  if (typeof shape !== 'object' || shape === null || typeof shape.status !== 'number' || typeof shape.headers?.get !== 'function')
    throw new ConfigError(`${req.provider}: the provider's \`fetch\` must resolve to a Response (with status and headers), got ${describe(res)}`);
  if (res.ok) return res;
  let text = '';
  try {
    text = await readText(res, req.signal);
  } catch (err) {
    if (err instanceof AbortError) throw err;
    // keep going with an empty body: the status alone still classifies the failure
  }
  throw errorFromHttp(req.provider, res.status, res.statusText, res.headers, text, req.secrets, req.errorDetails);
}

/** Reads a response body as text, aborting with `AbortError` when the signal fires. */
export async function readText(res: Response, signal?: AbortSignal): Promise<string> {
  if (signal?.aborted) throw new AbortError();
  try {
    return await raceAbort(res.text(), signal);
  } catch (err) {
    if (signal?.aborted) throw new AbortError();
    throw err;
  }
}

/**
 * Reads a response body as JSON. A body that is not JSON (an HTML error page from a proxy, a
 * truncated body) throws a non-retryable `ProviderError` naming the status and content type.
 */
export async function readJson(res: Response, provider: string, secrets: string[], signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await readText(res, signal);
  } catch (err) {
    if (err instanceof LmthingError) throw err;
    throw networkError(provider, err, secrets);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const info = responseInfo(res);
    if (!/json/i.test(info.contentType ?? '') || !text.trim()) throw unexpectedBody(provider, info, text, 'a JSON response', secrets);
    // The server meant JSON: a body cut short on the way (retryable) or a broken server.
    // Not the parser's own message: it quotes the body around the fault, before any redaction.
    const snippet = redact(text, secrets).replace(/\s+/g, ' ').trim();
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ProviderError(
      redact(
        `${provider}: the server answered HTTP ${info.status} with ${info.contentType}, but the body is not valid JSON ` +
          `(${position === undefined ? '' : `at position ${position}; `}${text.length} characters, ending "${snippet.slice(-80)}")`,
        secrets,
      ),
      { status: info.status, retryable: true },
    );
  }
}

/**
 * The error for a 2xx answer whose body is not what the API sends (an HTML login or error page, a
 * captive portal, a server that does not speak this API). Not retryable: asking again gives the
 * same page. The message names the status, the content type and the start of the body.
 */
export function unexpectedBody(provider: string, res: ResponseInfo, text: string, expected: string, secrets: string[]): ProviderError {
  const type = res.contentType || 'no content type';
  // Secrets go before the body is cut: a key cut in half would no longer be found.
  const snippet = redact(text, secrets).replace(/\s+/g, ' ').trim().slice(0, 200);
  const where = describeUrl(res.url);
  return new ProviderError(
    redact(
      `${provider}: expected ${expected} but the server answered HTTP ${res.status} with ${type}` +
        `${snippet ? `: "${snippet}"` : ' and an empty body'}. Check the base URL${where ? ` (${where})` : ''} and that the server speaks this API.`,
      secrets,
    ),
    { status: res.status, retryable: false },
  );
}

/** What error messages tell about a response. */
export interface ResponseInfo {
  status: number;
  contentType: string | null;
  url: string;
}

/** The {@link ResponseInfo} of a fetch response. */
export function responseInfo(res: Response): ResponseInfo {
  return { status: res.status, contentType: res.headers.get('content-type'), url: res.url };
}

/** A URL without credentials or query string, for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '';
  }
}

async function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A failure to reach the server or to read its body (always retryable). */
export function networkError(provider: string, err: unknown, secrets: string[], partialText?: string): ProviderError {
  const detail = describe(err);
  return new ProviderError(redact(`${provider}: network error: ${detail}`, secrets), {
    retryable: true,
    partialText: partialText || undefined,
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const causeText = cause instanceof Error && cause.message && cause.message !== err.message ? ` (${cause.message})` : '';
  return (err.message || err.name) + causeText;
}

/**
 * Parses `Retry-After` (seconds or an HTTP date) or `retry-after-ms` into milliseconds.
 * Returns `undefined` when neither header is usable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const trimmed = ra.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Extracts `{message, code}` from the JSON error bodies of OpenAI, compatible servers and Anthropic. */
export function parseErrorBody(text: string): { message?: string; code?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  return errorFields(json);
}

/** Reads `message` and `code`/`type` from an error payload (`{error: {...}}`, `{error: "..."}` or `{message}`). */
export function errorFields(json: unknown): { message?: string; code?: string } {
  if (!isObject(json)) return {};
  const err = json.error;
  if (typeof err === 'string') return { message: err };
  const src = isObject(err) ? err : json;
  const message = typeof src.message === 'string' ? src.message : undefined;
  const code = typeof src.code === 'string' ? src.code : typeof src.type === 'string' ? src.type : undefined;
  return { message, code };
}

/** Builds the typed error for a non-2xx HTTP response. */
export function errorFromHttp(
  provider: string,
  status: number,
  statusText: string,
  headers: Headers,
  bodyText: string,
  secrets: string[],
  details?: ErrorDetailsReader,
): LmthingError {
  let { message, code } = parseErrorBody(bodyText);
  let extra: ErrorDetails = {};
  if (details) {
    try {
      extra = details(JSON.parse(bodyText));
    } catch {
      extra = {};
    }
  }
  message = extra.message ?? message;
  code = extra.code ?? code;
  const fallback = bodyText.trim() ? redact(bodyText.trim(), secrets).slice(0, 300) : statusText || 'request failed';
  return classifyFailure({
    provider,
    status,
    code,
    message: message ?? fallback,
    retryAfterMs: parseRetryAfter(headers) ?? extra.retryAfterMs,
    authentication: extra.authentication,
    secrets,
  });
}

const CONTEXT_PATTERN =
  /context[ _-]?length|context[ _-]?window|maximum context|prompt (is )?too long|too many (input )?tokens|input is too long|exceeds the maximum number of tokens/i;

/** How much of a server's own error message an error repeats (a JSON error body may hold megabytes). */
const MAX_ERROR_MESSAGE = 2000;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Maps a failure to `RateLimitError`, `AuthenticationError`, `ContextLengthError` or `ProviderError`. */
export function classifyFailure(f: FailureInfo): LmthingError {
  const statusNote = f.status !== undefined ? `HTTP ${f.status}` : 'stream error';
  const detail = f.code ? `${statusNote}, ${f.code}` : statusNote;
  const message = redact(`${f.provider}: ${clip(redact(f.message, f.secrets), MAX_ERROR_MESSAGE)} (${detail})`, f.secrets);
  const status = f.status;
  if (status === 429 || f.code === 'rate_limit_exceeded' || f.code === 'rate_limit_error') {
    return new RateLimitError(message, f.retryAfterMs, status ?? 429);
  }
  if (status === 401 || status === 403) return new AuthenticationError(message, status);
  if (f.authentication) return new AuthenticationError(message, status ?? 401);
  if (f.code === 'authentication_error' || f.code === 'invalid_api_key') return new AuthenticationError(message, status ?? 401);
  if (f.code === 'permission_error') return new AuthenticationError(message, status ?? 403);
  const contextish = f.code === 'context_length_exceeded' || CONTEXT_PATTERN.test(f.message);
  if (contextish && (status === undefined || status === 400 || status === 413)) return new ContextLengthError(message);
  const retryable = isRetryable(status, f.code);
  return new ProviderError(message, {
    status,
    partialText: f.partialText || undefined,
    retryable,
    // A 503 or 529 may say when to come back, as a 429 does.
    ...(retryable && f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
  });
}

/** True for statuses (408, 409, 429, 5xx incl. 529) and error codes worth retrying. */
export function isRetryable(status: number | undefined, code?: string): boolean {
  if (status !== undefined) return status === 408 || status === 409 || status === 429 || status >= 500;
  return code === 'overloaded_error' || code === 'api_error' || code === 'server_error' || code === 'timeout';
}

/** The first element of a JSON array, `undefined` for anything else. */
export function firstOf(v: unknown): unknown {
  return Array.isArray(v) ? (v as unknown[])[0] : undefined;
}

/** A short description of a value of whatever type for error messages (`"60s"`, `1.5`, `object`). */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v);
  return typeof v;
}

/** Narrowing helper for plain JSON objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses tool-call argument text. An empty string means "no arguments" (`{}`); text that is not valid
 * JSON gives `undefined` (the raw text stays in `argsText`).
 */
export function parseToolArgs(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * JSON text of a value received from a provider (tool-call arguments given as an object). A value
 * nested too deeply for `JSON.stringify` is a `ProviderError`, not a crash.
 */
export function jsonTextOf(value: unknown, provider: string, what: string): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (err) {
    throw new ProviderError(`${provider}: ${what} cannot be turned into JSON text (${describe(err)})`);
  }
}

/** Serializes a tool result for the wire: strings verbatim, anything else as JSON. */
export function stringifyResult(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '';
  try {
    return JSON.stringify(result);
  } catch (err) {
    return `[result not serializable as JSON: ${describe(err)}]`;
  }
}

/** Reads a non-negative token count, 0 when absent. */
export function tokenCount(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
