/**
 * Mapping of Chat Completions responses (whole JSON bodies and streamed `chat.completion.chunk`s) to
 * provider-neutral {@link ModelResponse}s.
 */
import { TextAccumulator } from './text-accumulator.js';
import { ProviderError } from '../errors.js';
import { classifyFailure, errorFields, firstOf, isObject, jsonTextOf, parseToolArgs, redact, tokenCount } from './http.js';
import type { SseEvent } from './sse.js';
import type { FinishReason, ModelResponse, Part, StreamDelta, Usage } from './types.js';
import { parseStreamJson } from './stream.js';

/** Maps OpenAI's `finish_reason` to a {@link FinishReason}. */
export function mapOpenAIFinishReason(raw: string | null | undefined): FinishReason {
  switch (raw) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

/**
 * Maps OpenAI's `usage` object (absent fields count as 0). Cached input tokens
 * (`prompt_tokens_details.cached_tokens`) and reasoning tokens
 * (`completion_tokens_details.reasoning_tokens`) are reported when the server sends them.
 */
export function mapOpenAIUsage(u: unknown): Usage {
  if (!isObject(u)) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const inputTokens = tokenCount(u.prompt_tokens);
  const outputTokens = tokenCount(u.completion_tokens);
  const total = tokenCount(u.total_tokens);
  const usage: Usage = { inputTokens, outputTokens, totalTokens: total || inputTokens + outputTokens };
  const cached = detail(u.prompt_tokens_details, 'cached_tokens');
  if (cached !== undefined) usage.cachedInputTokens = cached;
  const reasoning = detail(u.completion_tokens_details, 'reasoning_tokens');
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

/** A token count inside a `*_details` object, `undefined` when absent. */
export function detail(details: unknown, key: string): number | undefined {
  if (!isObject(details) || details[key] === undefined || details[key] === null) return undefined;
  return tokenCount(details[key]);
}

/**
 * Text of `content`, which is a string on OpenAI and sometimes an array of text parts elsewhere
 * (null when there is none). Anything else is a broken answer, not an empty one.
 */
function contentText(content: unknown, provider: string, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((c) => (isObject(c) && typeof c.text === 'string' ? c.text : '')).join('');
  }
  if (content === undefined || content === null) return '';
  throw new ProviderError(`${provider}: ${where} must be a string, an array of text parts or null, got ${typeof content}`);
}

/** Non-standard reasoning fields of compatible servers (`reasoning_content`, `reasoning`). */
function reasoningText(obj: Record<string, unknown>): string {
  if (typeof obj.reasoning_content === 'string') return obj.reasoning_content;
  if (typeof obj.reasoning === 'string') return obj.reasoning;
  return '';
}

/**
 * Converts a whole Chat Completions response body. An in-band `{"error": ...}` body throws the typed
 * error; a body without choices throws `ProviderError`.
 */
export function parseOpenAIResponse(json: unknown, provider: string, secrets: string[]): ModelResponse {
  if (!isObject(json)) throw new ProviderError(`${provider}: response is not a JSON object`);
  if (json.error !== undefined && json.error !== null) throw inBandError(json, provider, secrets, '');
  const choice = firstOf(json.choices);
  if (!isObject(choice) || !isObject(choice.message)) {
    throw new ProviderError(redact(`${provider}: response has no choices`, secrets));
  }
  const msg = choice.message;
  const content: Part[] = [];
  const reasoning = reasoningText(msg);
  if (reasoning) content.push({ type: 'reasoning', text: reasoning });
  const text = contentText(msg.content, provider, 'the message\'s content') || (typeof msg.refusal === 'string' ? msg.refusal : '');
  if (text) content.push({ type: 'text', text });
  if (Array.isArray(msg.tool_calls)) {
    msg.tool_calls.forEach((tc: unknown, i: number) => {
      if (!isObject(tc)) return;
      const fn = isObject(tc.function) ? tc.function : {};
      const argsText =
        typeof fn.arguments === 'string' ? fn.arguments : fn.arguments !== undefined ? jsonTextOf(fn.arguments, provider, 'tool call arguments') : '';
      content.push({
        type: 'tool-call',
        toolCallId: typeof tc.id === 'string' ? tc.id : `call_${i}`,
        toolName: typeof fn.name === 'string' ? fn.name : '',
        args: parseToolArgs(argsText),
        argsText,
      });
    });
  }
  const raw = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  return withIds(
    { content, finishReason: mapOpenAIFinishReason(raw), rawFinishReason: raw, usage: mapOpenAIUsage(json.usage) },
    json,
  );
}

function withIds(r: ModelResponse, json: Record<string, unknown>): ModelResponse {
  if (typeof json.model === 'string') r.modelId = json.model;
  if (typeof json.id === 'string') r.responseId = json.id;
  if (typeof json.created === 'number') r.timestamp = json.created * 1000;
  if (r.rawFinishReason === undefined) delete r.rawFinishReason;
  return r;
}

/**
 * The HTTP status an in-band error carries: its `status`, or a numeric `code` that is one
 * (OpenRouter's mid-stream errors, vLLM's `{object: 'error', code: 500}`).
 */
function errorStatus(err: Record<string, unknown>): number | undefined {
  for (const value of [err.status, err.code]) if (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599) return value;
  return undefined;
}

/** The typed error for an in-band `{"error": ...}` payload. */
export function inBandError(json: Record<string, unknown>, provider: string, secrets: string[], partialText: string) {
  const { message, code } = errorFields(json);
  const status = errorStatus(isObject(json.error) ? json.error : json);
  return classifyFailure({ provider, status, code, message: message ?? 'error in response', partialText, secrets });
}

interface PendingCall {
  ordinal: number;
  id: string;
  name: string;
  argsText: string;
}

/**
 * Accumulates a Chat Completions stream: text and reasoning deltas, tool-call argument fragments joined
 * per `index` (id and name from the first chunk), finish reason, and usage from the final chunk.
 */
export class OpenAIStreamState {
  private readonly textPieces = new TextAccumulator();
  private readonly reasoningPieces = new TextAccumulator();
  /** Set by `data: [DONE]`. */
  done = false;

  /** Text received so far. */
  get text(): string {
    return this.textPieces.text;
  }

  /** Reasoning text received so far. */
  get reasoning(): string {
    return this.reasoningPieces.text;
  }
  /** What ends a Chat Completions stream. */
  readonly completionEvent = 'a finish_reason or data: [DONE]';
  private calls = new Map<number, PendingCall>();
  private lastRawIndex: number | undefined;
  private rawFinish: string | undefined;
  private usage: Usage | undefined;
  private modelId: string | undefined;
  private responseId: string | undefined;
  private created: number | undefined;

  constructor(
    private readonly provider: string,
    private readonly secrets: string[],
    private readonly emit: (d: StreamDelta) => void,
  ) {}

  /** True once the stream has produced everything needed for a response. */
  get complete(): boolean {
    return this.done || this.rawFinish !== undefined;
  }

  /** Handles one SSE event (only its `data` matters for Chat Completions). */
  handle(ev: SseEvent): void {
    const data = ev.data;
    if (data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    const json = parseStreamJson(data, 'chunk', this.provider, this.secrets, () => this.text);
    if (!isObject(json)) return;
    // vLLM may send its error bare: {object: 'error', message, type, code}.
    if ((json.error !== undefined && json.error !== null) || json.object === 'error') {
      throw inBandError(json, this.provider, this.secrets, this.text);
    }
    if (this.responseId === undefined && typeof json.id === 'string') this.responseId = json.id;
    if (this.created === undefined && typeof json.created === 'number') this.created = json.created * 1000;
    if (this.modelId === undefined && typeof json.model === 'string') this.modelId = json.model;
    if (isObject(json.usage)) this.usage = mapOpenAIUsage(json.usage);
    const choice = firstOf(json.choices);
    if (!isObject(choice)) return;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const reasoning = reasoningText(delta);
    if (reasoning) {
      this.reasoningPieces.append(reasoning);
      this.emit({ type: 'reasoning-delta', text: reasoning });
    }
    const text = contentText(delta.content, this.provider, 'a chunk\'s delta.content');
    if (text) {
      this.textPieces.append(text);
      this.emit({ type: 'text-delta', text });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const tc of delta.tool_calls) if (isObject(tc)) this.toolCallChunk(tc);
    }
    if (typeof choice.finish_reason === 'string') this.rawFinish = choice.finish_reason;
  }

  private toolCallChunk(tc: Record<string, unknown>): void {
    const fn = isObject(tc.function) ? tc.function : {};
    const id = typeof tc.id === 'string' && tc.id !== '' ? tc.id : undefined;
    let rawIndex: number;
    if (typeof tc.index === 'number') rawIndex = tc.index;
    else if (id !== undefined || this.lastRawIndex === undefined) rawIndex = this.calls.size === 0 ? 0 : Math.max(...this.calls.keys()) + 1;
    else rawIndex = this.lastRawIndex;
    this.lastRawIndex = rawIndex;
    let call = this.calls.get(rawIndex);
    const name = typeof fn.name === 'string' && fn.name !== '' ? fn.name : undefined;
    const fragment = typeof fn.arguments === 'string' ? fn.arguments : '';
    const delta: StreamDelta = { type: 'tool-call-delta', index: 0, argsTextDelta: fragment };
    if (!call) {
      call = { ordinal: this.calls.size, id: id ?? `call_${this.calls.size}`, name: name ?? '', argsText: '' };
      this.calls.set(rawIndex, call);
      delta.toolCallId = call.id;
      delta.toolName = call.name;
    } else if (call.name === '' && name !== undefined) {
      call.name = name;
      delta.toolName = name;
    }
    delta.index = call.ordinal;
    call.argsText += fragment;
    this.emit(delta);
  }

  /** The accumulated response. */
  result(): ModelResponse {
    const content: Part[] = [];
    if (this.reasoning) content.push({ type: 'reasoning', text: this.reasoning });
    if (this.text) content.push({ type: 'text', text: this.text });
    const calls = [...this.calls.values()].sort((a, b) => a.ordinal - b.ordinal);
    for (const c of calls) {
      content.push({ type: 'tool-call', toolCallId: c.id, toolName: c.name, args: parseToolArgs(c.argsText), argsText: c.argsText });
    }
    const r: ModelResponse = {
      content,
      finishReason: mapOpenAIFinishReason(this.rawFinish),
      rawFinishReason: this.rawFinish,
      usage: this.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    };
    if (r.rawFinishReason === undefined) delete r.rawFinishReason;
    if (this.modelId !== undefined) r.modelId = this.modelId;
    if (this.responseId !== undefined) r.responseId = this.responseId;
    if (this.created !== undefined) r.timestamp = this.created;
    return r;
  }
}
