/**
 * Mapping of Gemini `generateContent` answers (whole bodies and the chunks of
 * `streamGenerateContent?alt=sse`) to provider-neutral {@link ModelResponse}s, and of Gemini's error
 * bodies (`google.rpc` details: `RetryInfo`, `ErrorInfo`) to typed errors.
 */
import { TextAccumulator } from './text-accumulator.js';
import { ProviderError } from '../errors.js';
import { classifyFailure, firstOf, isObject, jsonTextOf, redact, tokenCount, type ErrorDetails } from './http.js';
import { SYNTHETIC_CALL_ID_PREFIX } from './google-request.js';
import type { SseEvent } from './sse.js';
import type { FinishReason, ModelResponse, Part, StreamDelta, Usage } from './types.js';
import { parseStreamJson } from './stream.js';

let syntheticIds = 0;

/** A tool call id for a call Gemini sent without one (unique in this process). */
export function syntheticCallId(): string {
  return `${SYNTHETIC_CALL_ID_PREFIX}${++syntheticIds}`;
}

/**
 * Maps Gemini's `finishReason`: `STOP` → `stop` (or `tool-calls` when the answer calls functions),
 * `MAX_TOKENS` → `length`, the safety family (`SAFETY`, `RECITATION`, `BLOCKLIST`,
 * `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`) → `content-filter`, `MALFORMED_FUNCTION_CALL` and
 * `UNEXPECTED_TOOL_CALL` → `error`, anything else → `other`.
 */
export function mapGeminiFinishReason(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'STOP':
      return hasToolCalls ? 'tool-calls' : 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content-filter';
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
      return 'error';
    case undefined:
      return hasToolCalls ? 'tool-calls' : 'other';
    default:
      return 'other';
  }
}

/**
 * Maps `usageMetadata`. Gemini counts thoughts apart from the answer (`thoughtsTokenCount` beside
 * `candidatesTokenCount`); both are output here, the thoughts also as `reasoningTokens`. Cached
 * input is `cachedContentTokenCount`.
 */
export function mapGeminiUsage(u: unknown): Usage {
  if (!isObject(u)) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const inputTokens = tokenCount(u.promptTokenCount);
  const thoughts = tokenCount(u.thoughtsTokenCount);
  const outputTokens = tokenCount(u.candidatesTokenCount) + thoughts;
  const usage: Usage = { inputTokens, outputTokens, totalTokens: tokenCount(u.totalTokenCount) || inputTokens + outputTokens };
  if (u.cachedContentTokenCount !== undefined) usage.cachedInputTokens = tokenCount(u.cachedContentTokenCount);
  if (u.thoughtsTokenCount !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

/** Parses a `google.protobuf.Duration` string such as `48s` or `1.5s` into milliseconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(v);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/**
 * Reads Gemini's error body `{error: {code, message, status, details}}`: `status` (e.g.
 * `RESOURCE_EXHAUSTED`) as the code, `RetryInfo.retryDelay` as the retry delay, and an
 * `ErrorInfo` reason `API_KEY_INVALID` (sent with HTTP 400) as an authentication failure.
 */
export function geminiErrorDetails(json: unknown): ErrorDetails {
  const err = isObject(json) && isObject(json.error) ? json.error : undefined;
  if (!err) return {};
  const out: ErrorDetails = {};
  if (typeof err.message === 'string') out.message = err.message;
  if (typeof err.status === 'string') out.code = err.status;
  for (const d of Array.isArray(err.details) ? err.details : []) {
    if (!isObject(d) || typeof d['@type'] !== 'string') continue;
    if (d['@type'].endsWith('google.rpc.RetryInfo')) out.retryAfterMs = parseDuration(d.retryDelay);
    if (d['@type'].endsWith('google.rpc.ErrorInfo') && typeof d.reason === 'string') {
      if (/API_KEY_INVALID|API_KEY_EXPIRED|API_KEY_SERVICE_BLOCKED/.test(d.reason)) out.authentication = true;
      out.code = d.reason;
    }
  }
  return out;
}

/** The typed error of an in-band `{error: {...}}` body or stream chunk. */
function inBandError(json: Record<string, unknown>, provider: string, secrets: string[], partialText: string) {
  const d = geminiErrorDetails(json);
  const status = isObject(json.error) && typeof json.error.code === 'number' ? json.error.code : undefined;
  return classifyFailure({
    provider,
    status,
    code: d.code,
    message: d.message ?? 'error in response',
    retryAfterMs: d.retryAfterMs,
    authentication: d.authentication,
    partialText,
    secrets,
  });
}

/** Accumulates the parts of one candidate, merging text that arrives in pieces. */
class PartCollector {
  private readonly parts: Part[] = [];
  /** The text of each text or reasoning part as it streams, written into the part when `content` is read. */
  private readonly partTexts = new Map<Part, TextAccumulator>();
  private readonly allText = new TextAccumulator();
  toolCalls = 0;

  constructor(
    private readonly provider: string,
    private readonly emit: (d: StreamDelta) => void,
  ) {}

  /** The text received so far. */
  get text(): string {
    return this.allText.text;
  }

  /** The parts so far. */
  get content(): Part[] {
    for (const [part, text] of this.partTexts) (part as { text: string }).text = text.text;
    return this.parts;
  }

  add(raw: unknown): void {
    if (!isObject(raw)) return;
    const signature = typeof raw.thoughtSignature === 'string' ? raw.thoughtSignature : undefined;
    if (isObject(raw.functionCall)) return this.addCall(raw.functionCall, signature);
    if (typeof raw.text !== 'string') {
      if (raw.text !== undefined && raw.text !== null) throw new ProviderError(`${this.provider}: a part's "text" must be a string, got ${typeof raw.text}`);
      if (signature !== undefined) this.addText('text', '', signature);
      return;
    }
    this.addText(raw.thought === true ? 'reasoning' : 'text', raw.text, signature);
  }

  private addText(kind: 'text' | 'reasoning', text: string, signature: string | undefined): void {
    const last = this.parts[this.parts.length - 1];
    let partText: TextAccumulator | undefined;
    if (
      last !== undefined &&
      (last.type === 'text' || last.type === 'reasoning') &&
      last.type === kind &&
      (signature === undefined || last.signature === undefined)
    ) {
      partText = this.partTexts.get(last);
      if (signature !== undefined) Object.assign(last, { signature, signedBy: 'google' });
    } else {
      const part: Part = kind === 'text' ? { type: 'text', text: '' } : { type: 'reasoning', text: '' };
      if (signature !== undefined) Object.assign(part, { signature, signedBy: 'google' });
      partText = new TextAccumulator();
      this.partTexts.set(part, partText);
      this.parts.push(part);
    }
    if (text === '') return;
    // A reasoning part's first text starts a reasoning block of the stream.
    const starts = partText?.empty ?? false;
    partText?.append(text);
    if (kind === 'text') {
      this.allText.append(text);
      this.emit({ type: 'text-delta', text });
    } else {
      if (starts) this.emit({ type: 'reasoning-start' });
      this.emit({ type: 'reasoning-delta', text });
    }
  }

  private addCall(fc: Record<string, unknown>, signature: string | undefined): void {
    const args = isObject(fc.args) ? fc.args : {};
    const argsText = jsonTextOf(args, this.provider, 'function call arguments');
    const part: Part = {
      type: 'tool-call',
      toolCallId: typeof fc.id === 'string' && fc.id !== '' ? fc.id : syntheticCallId(),
      toolName: typeof fc.name === 'string' ? fc.name : '',
      args,
      argsText,
    };
    if (signature !== undefined) Object.assign(part, { signature, signedBy: 'google' });
    this.parts.push(part);
    this.emit({ type: 'tool-call-delta', index: this.toolCalls++, toolCallId: part.toolCallId, toolName: part.toolName, argsTextDelta: argsText });
  }
}

/** The first candidate of a chunk, if any. */
function firstCandidate(json: Record<string, unknown>): Record<string, unknown> | undefined {
  const c = firstOf(json.candidates);
  return isObject(c) ? c : undefined;
}

/** Why a prompt was refused before any candidate (`promptFeedback.blockReason`). */
function blockReason(json: Record<string, unknown>): string | undefined {
  const fb = json.promptFeedback;
  return isObject(fb) && typeof fb.blockReason === 'string' ? fb.blockReason : undefined;
}

/**
 * Accumulates Gemini chunks (a whole response is one chunk): parts of the first candidate, its
 * `finishReason`, the latest `usageMetadata`, `modelVersion` and `responseId`.
 */
export class GeminiStreamState {
  /** Gemini streams end with the connection; nothing marks them done earlier. */
  readonly done = false;
  /** What ends a Gemini stream. */
  readonly completionEvent = 'a chunk with finishReason';
  private readonly parts: PartCollector;
  private rawFinish: string | undefined;
  private blocked: string | undefined;
  private usage: Usage | undefined;
  private modelId: string | undefined;
  private responseId: string | undefined;

  constructor(
    private readonly provider: string,
    private readonly secrets: string[],
    emit: (d: StreamDelta) => void,
  ) {
    this.parts = new PartCollector(provider, emit);
  }

  /** Text received so far. */
  get text(): string {
    return this.parts.text;
  }

  /** True once a candidate finished or the prompt was blocked. */
  get complete(): boolean {
    return this.rawFinish !== undefined || this.blocked !== undefined;
  }

  /** Handles one SSE event (a JSON chunk). */
  handle(ev: SseEvent): void {
    const json = parseStreamJson(ev.data, 'chunk', this.provider, this.secrets, () => this.text);
    if (isObject(json)) this.chunk(json);
  }

  /** Adds one chunk (or a whole response). */
  chunk(json: Record<string, unknown>): void {
    if (json.error !== undefined && json.error !== null) throw inBandError(json, this.provider, this.secrets, this.text);
    if (typeof json.modelVersion === 'string') this.modelId = json.modelVersion;
    if (typeof json.responseId === 'string') this.responseId = json.responseId;
    if (isObject(json.usageMetadata)) this.usage = mapGeminiUsage(json.usageMetadata);
    this.blocked = blockReason(json) ?? this.blocked;
    const candidate = firstCandidate(json);
    if (!candidate) return;
    const content = isObject(candidate.content) ? candidate.content : {};
    if (Array.isArray(content.parts)) for (const p of content.parts) this.parts.add(p);
    if (typeof candidate.finishReason === 'string') this.rawFinish = candidate.finishReason;
  }

  /** The accumulated response. */
  result(): ModelResponse {
    const raw = this.rawFinish ?? this.blocked;
    const finishReason = this.rawFinish === undefined && this.blocked !== undefined ? 'content-filter' : mapGeminiFinishReason(raw, this.parts.toolCalls > 0);
    const r: ModelResponse = { content: this.parts.content, finishReason, usage: this.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 } };
    if (raw !== undefined) r.rawFinishReason = raw;
    if (this.modelId !== undefined) r.modelId = this.modelId;
    if (this.responseId !== undefined) r.responseId = this.responseId;
    return r;
  }
}

/** Converts a whole `generateContent` response; an error body throws the typed error. */
export function parseGeminiResponse(json: unknown, provider: string, secrets: string[]): ModelResponse {
  // streamGenerateContent without alt=sse answers a JSON array of chunks.
  const chunks = Array.isArray(json) ? json : [json];
  if (chunks.length === 0 || !chunks.every(isObject)) throw new ProviderError(`${provider}: response is not a JSON object`);
  const state = new GeminiStreamState(provider, secrets, () => undefined);
  for (const c of chunks) state.chunk(c);
  if (!chunks.some((c) => Array.isArray(c.candidates) || blockReason(c) !== undefined)) {
    throw new ProviderError(redact(`${provider}: response has no candidates`, secrets));
  }
  return state.result();
}
