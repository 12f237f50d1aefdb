/**
 * Mapping of Anthropic Messages responses (whole JSON bodies and SSE streams) to provider-neutral
 * {@link ModelResponse}s.
 */
import { TextAccumulator } from './text-accumulator.js';
import { ProviderError } from '../errors.js';
import { classifyFailure, errorFields, isObject, jsonTextOf, parseToolArgs, redact, tokenCount } from './http.js';
import type { SseEvent } from './sse.js';
import type { FinishReason, ModelResponse, Part, ReasoningPart, StreamDelta, Usage } from './types.js';
import { parseStreamJson } from './stream.js';

/** Maps Anthropic's `stop_reason` to a {@link FinishReason}. */
export function mapAnthropicStopReason(raw: string | null | undefined): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}

/** Input tokens including cache writes and reads (Anthropic reports them separately). */
function inputTokensOf(u: Record<string, unknown>): number {
  return tokenCount(u.input_tokens) + tokenCount(u.cache_creation_input_tokens) + tokenCount(u.cache_read_input_tokens);
}

/**
 * Maps Anthropic's `usage`; `inputTokens` includes cache reads and writes, which are also reported
 * as `cachedInputTokens` / `cacheWriteInputTokens` when the response has them.
 */
export function mapAnthropicUsage(u: unknown): Usage {
  if (!isObject(u)) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const inputTokens = inputTokensOf(u);
  const outputTokens = tokenCount(u.output_tokens);
  return withCacheFields({ inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }, u);
}

function withCacheFields(usage: Usage, u: Record<string, unknown>): Usage {
  if (typeof u.cache_read_input_tokens === 'number') usage.cachedInputTokens = tokenCount(u.cache_read_input_tokens);
  if (typeof u.cache_creation_input_tokens === 'number') usage.cacheWriteInputTokens = tokenCount(u.cache_creation_input_tokens);
  return usage;
}

/** A reasoning part from a `thinking` or `redacted_thinking` block (signature kept for the next turn). */
function thinkingPart(text: string, signature: string | undefined, redacted = false): ReasoningPart {
  const part: ReasoningPart = { type: 'reasoning', text };
  if (signature !== undefined) {
    part.signature = signature;
    part.signedBy = 'anthropic';
  }
  if (redacted) part.redacted = true;
  return part;
}

function toolCallPart(block: Record<string, unknown>, i: number, provider: string): Part {
  const input = block.input === undefined ? {} : block.input;
  return {
    type: 'tool-call',
    toolCallId: typeof block.id === 'string' ? block.id : `toolu_${i}`,
    toolName: typeof block.name === 'string' ? block.name : '',
    args: input,
    argsText: jsonTextOf(input, provider, 'tool input'),
  };
}

/** Converts a whole Messages response body; an error body throws the typed error. */
/** A text block's text (a text that is not a string is a broken answer, not an empty one). */
function textOf(block: Record<string, unknown>, index: number, provider: string): string {
  if (typeof block.text !== 'string') throw new ProviderError(`${provider}: content[${index}] is a text block whose "text" is not a string (${typeof block.text})`);
  return block.text;
}

export function parseAnthropicResponse(json: unknown, provider: string, secrets: string[]): ModelResponse {
  if (!isObject(json)) throw new ProviderError(`${provider}: response is not a JSON object`);
  if (json.type === 'error' || isObject(json.error)) throw anthropicInBandError(json, provider, secrets, '');
  if (!Array.isArray(json.content)) throw new ProviderError(redact(`${provider}: response has no content`, secrets));
  const content: Part[] = [];
  json.content.forEach((block: unknown, i: number) => {
    if (!isObject(block)) return;
    if (block.type === 'text') content.push({ type: 'text', text: textOf(block, i, provider) });
    else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      content.push(thinkingPart(block.thinking, typeof block.signature === 'string' ? block.signature : undefined));
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') content.push(thinkingPart('', block.data, true));
    else if (block.type === 'tool_use') content.push(toolCallPart(block, i, provider));
  });
  const raw = typeof json.stop_reason === 'string' ? json.stop_reason : undefined;
  const r: ModelResponse = { content, finishReason: mapAnthropicStopReason(raw), usage: mapAnthropicUsage(json.usage) };
  if (raw !== undefined) r.rawFinishReason = raw;
  if (typeof json.model === 'string') r.modelId = json.model;
  if (typeof json.id === 'string') r.responseId = json.id;
  return r;
}

/** The typed error for an in-band `{"type":"error","error":{...}}` payload. */
export function anthropicInBandError(json: Record<string, unknown>, provider: string, secrets: string[], partialText: string) {
  const { message, code } = errorFields(json);
  return classifyFailure({ provider, code, message: message ?? 'error in response', partialText, secrets });
}

interface StreamBlock {
  kind: 'text' | 'reasoning' | 'redacted' | 'tool' | 'other';
  /** The block's text, thinking or tool-call arguments, as they streamed. */
  pieces: TextAccumulator;
  /** Thinking signature (from `signature_delta`) or the data of a redacted thinking block. */
  signature?: string;
  id: string;
  name: string;
  ordinal: number;
}

/**
 * Accumulates a Messages stream: `message_start`, `content_block_start/delta/stop` (text, thinking and
 * `input_json_delta` tool input), `message_delta` (stop reason, usage), `message_stop`, `ping`, `error`.
 */
export class AnthropicStreamState {
  /** Set by `message_stop`. */
  done = false;
  /** What ends a Messages stream. */
  readonly completionEvent = 'message_stop';
  private blocks = new Map<number, StreamBlock>();
  private toolCount = 0;
  private rawStop: string | undefined;
  private inputTokens = 0;
  private outputTokens = 0;
  private cacheRead: number | undefined;
  private cacheWrite: number | undefined;
  private modelId: string | undefined;
  private responseId: string | undefined;

  constructor(
    private readonly provider: string,
    private readonly secrets: string[],
    private readonly emit: (d: StreamDelta) => void,
  ) {}

  /** Text received so far (all text blocks). */
  get text(): string {
    return [...this.sortedBlocks()].filter((b) => b.kind === 'text').map((b) => b.pieces.text).join('');
  }

  /** True once `message_stop` or a stop reason was seen. */
  get complete(): boolean {
    return this.done || this.rawStop !== undefined;
  }

  private sortedBlocks(): StreamBlock[] {
    return [...this.blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
  }

  /** `ping` events only keep the connection open. */
  isKeepAlive(ev: SseEvent): boolean {
    return ev.event === 'ping' || /^\s*\{\s*"type"\s*:\s*"ping"\s*\}\s*$/.test(ev.data);
  }

  /** Handles one SSE event. */
  handle(ev: SseEvent): void {
    const json = parseStreamJson(ev.data, 'event', this.provider, this.secrets, () => this.text);
    if (!isObject(json)) return;
    const type = typeof json.type === 'string' ? json.type : ev.event;
    switch (type) {
      case 'message_start':
        this.messageStart(json.message);
        break;
      case 'content_block_start':
        this.blockStart(json.index, json.content_block);
        break;
      case 'content_block_delta':
        this.blockDelta(json.index, json.delta);
        break;
      case 'message_delta':
        if (isObject(json.delta) && typeof json.delta.stop_reason === 'string') this.rawStop = json.delta.stop_reason;
        if (isObject(json.usage)) this.addUsage(json.usage);
        break;
      case 'message_stop':
        this.done = true;
        break;
      case 'error':
        throw anthropicInBandError(json, this.provider, this.secrets, this.text);
      default:
        break; // ping, content_block_stop and unknown events carry nothing we need
    }
  }

  private messageStart(msg: unknown): void {
    if (!isObject(msg)) return;
    if (typeof msg.id === 'string') this.responseId = msg.id;
    if (typeof msg.model === 'string') this.modelId = msg.model;
    if (isObject(msg.usage)) this.addUsage(msg.usage);
  }

  private addUsage(u: Record<string, unknown>): void {
    if (u.input_tokens !== undefined || u.cache_read_input_tokens !== undefined || u.cache_creation_input_tokens !== undefined) {
      this.inputTokens = inputTokensOf(u);
    }
    if (typeof u.output_tokens === 'number') this.outputTokens = tokenCount(u.output_tokens);
    if (typeof u.cache_read_input_tokens === 'number') this.cacheRead = tokenCount(u.cache_read_input_tokens);
    if (typeof u.cache_creation_input_tokens === 'number') this.cacheWrite = tokenCount(u.cache_creation_input_tokens);
  }

  private block(index: unknown, kind: StreamBlock['kind']): StreamBlock {
    const i = typeof index === 'number' ? index : this.blocks.size;
    let b = this.blocks.get(i);
    if (!b) {
      b = { kind, pieces: new TextAccumulator(), id: '', name: '', ordinal: kind === 'tool' ? this.toolCount++ : -1 };
      this.blocks.set(i, b);
    }
    return b;
  }

  private blockStart(index: unknown, cb: unknown): void {
    if (!isObject(cb)) return;
    if (cb.type === 'text') {
      const b = this.block(index, 'text');
      if (typeof cb.text === 'string' && cb.text) this.appendText(b, cb.text);
    } else if (cb.type === 'thinking') {
      const b = this.block(index, 'reasoning');
      if (typeof cb.thinking === 'string' && cb.thinking) this.appendText(b, cb.thinking);
      if (typeof cb.signature === 'string' && cb.signature) b.signature = cb.signature;
    } else if (cb.type === 'redacted_thinking') {
      const b = this.block(index, 'redacted');
      if (typeof cb.data === 'string') b.signature = cb.data;
    } else if (cb.type === 'tool_use') {
      const b = this.block(index, 'tool');
      b.id = typeof cb.id === 'string' ? cb.id : `toolu_${b.ordinal}`;
      b.name = typeof cb.name === 'string' ? cb.name : '';
      this.emit({ type: 'tool-call-delta', index: b.ordinal, toolCallId: b.id, toolName: b.name, argsTextDelta: '' });
    } else {
      this.block(index, 'other');
    }
  }

  private blockDelta(index: unknown, d: unknown): void {
    if (!isObject(d)) return;
    if (d.type === 'text_delta' && typeof d.text === 'string') this.appendText(this.block(index, 'text'), d.text);
    else if (d.type === 'thinking_delta' && typeof d.thinking === 'string') this.appendText(this.block(index, 'reasoning'), d.thinking);
    else if (d.type === 'signature_delta' && typeof d.signature === 'string') {
      const b = this.block(index, 'reasoning');
      b.signature = (b.signature ?? '') + d.signature;
    }
    else if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
      const b = this.block(index, 'tool');
      b.pieces.append(d.partial_json);
      this.emit({ type: 'tool-call-delta', index: b.ordinal, argsTextDelta: d.partial_json });
    }
  }

  private appendText(b: StreamBlock, text: string): void {
    // A thinking block's first text starts a reasoning block of the stream.
    if (b.kind === 'reasoning' && b.pieces.empty) this.emit({ type: 'reasoning-start' });
    b.pieces.append(text);
    if (b.kind === 'text') this.emit({ type: 'text-delta', text });
    else if (b.kind === 'reasoning') this.emit({ type: 'reasoning-delta', text });
  }

  /** The accumulated response. */
  result(): ModelResponse {
    const content: Part[] = [];
    for (const b of this.sortedBlocks()) {
      const text = b.pieces.text;
      if (b.kind === 'text' && text) content.push({ type: 'text', text });
      else if (b.kind === 'reasoning' && (text || b.signature)) content.push(thinkingPart(text, b.signature));
      else if (b.kind === 'redacted' && b.signature !== undefined) content.push(thinkingPart('', b.signature, true));
      else if (b.kind === 'tool') {
        content.push({ type: 'tool-call', toolCallId: b.id, toolName: b.name, args: parseToolArgs(text), argsText: text === '' ? '{}' : text });
      }
    }
    const r: ModelResponse = {
      content,
      finishReason: mapAnthropicStopReason(this.rawStop),
      usage: { inputTokens: this.inputTokens, outputTokens: this.outputTokens, totalTokens: this.inputTokens + this.outputTokens },
    };
    if (this.cacheRead !== undefined) r.usage.cachedInputTokens = this.cacheRead;
    if (this.cacheWrite !== undefined) r.usage.cacheWriteInputTokens = this.cacheWrite;
    if (this.rawStop !== undefined) r.rawFinishReason = this.rawStop;
    if (this.modelId !== undefined) r.modelId = this.modelId;
    if (this.responseId !== undefined) r.responseId = this.responseId;
    return r;
  }
}
