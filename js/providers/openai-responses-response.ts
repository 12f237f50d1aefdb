/**
 * Mapping of OpenAI Responses API answers (whole `response` objects and the streamed semantic
 * events) to provider-neutral {@link ModelResponse}s. The events handled are listed in
 * docs/providers.md.
 */
import { TextAccumulator } from './text-accumulator.js';
import { ProviderError } from '../errors.js';
import { classifyFailure, isObject, parseToolArgs, redact, tokenCount } from './http.js';
import { detail } from './openai-response.js';
import type { SseEvent } from './sse.js';
import type { FinishReason, ModelResponse, Part, ReasoningPart, StreamDelta, Usage } from './types.js';
import { parseStreamJson } from './stream.js';

/** Maps the Responses `usage` (`input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`). */
export function mapResponsesUsage(u: unknown): Usage {
  if (!isObject(u)) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  const inputTokens = tokenCount(u.input_tokens);
  const outputTokens = tokenCount(u.output_tokens);
  const usage: Usage = { inputTokens, outputTokens, totalTokens: tokenCount(u.total_tokens) || inputTokens + outputTokens };
  const cached = detail(u.input_tokens_details, 'cached_tokens');
  if (cached !== undefined) usage.cachedInputTokens = cached;
  const reasoning = detail(u.output_tokens_details, 'reasoning_tokens');
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

/**
 * The finish reason of a finished response: `completed` is `stop` (or `tool-calls` when it called
 * tools), `incomplete` maps its `incomplete_details.reason` (`max_output_tokens` → `length`,
 * `content_filter` → `content-filter`).
 */
export function responsesFinish(status: unknown, incomplete: unknown, hasToolCalls: boolean): { finishReason: FinishReason; raw?: string } {
  const reason = isObject(incomplete) && typeof incomplete.reason === 'string' ? incomplete.reason : undefined;
  if (status === 'incomplete' || reason !== undefined) {
    if (reason === 'max_output_tokens') return { finishReason: 'length', raw: reason };
    if (reason === 'content_filter') return { finishReason: 'content-filter', raw: reason };
    return { finishReason: 'other', raw: reason ?? 'incomplete' };
  }
  if (status === 'completed') return { finishReason: hasToolCalls ? 'tool-calls' : 'stop', raw: 'completed' };
  return { finishReason: 'other', raw: typeof status === 'string' ? status : undefined };
}

/** Joins the texts of a reasoning item's `summary` (or `content` for servers that send raw reasoning text). */
function reasoningItemText(item: Record<string, unknown>): string {
  const texts: string[] = [];
  for (const list of [item.summary, item.content]) {
    if (!Array.isArray(list)) continue;
    for (const s of list) if (isObject(s) && typeof s.text === 'string') texts.push(s.text);
    if (texts.length > 0) break;
  }
  return texts.join('\n\n');
}

/** A reasoning part from a reasoning output item, or undefined when it holds nothing to keep. */
export function reasoningPartOf(item: Record<string, unknown>, text = reasoningItemText(item)): ReasoningPart | undefined {
  const encrypted = typeof item.encrypted_content === 'string' ? item.encrypted_content : undefined;
  if (!text && encrypted === undefined) return undefined;
  const part: ReasoningPart = { type: 'reasoning', text, signedBy: 'openai-responses' };
  if (typeof item.id === 'string') part.itemId = item.id;
  if (encrypted !== undefined) part.signature = encrypted;
  return part;
}

function messageText(item: Record<string, unknown>): string {
  if (!Array.isArray(item.content)) return '';
  return item.content
    .map((c: unknown) => {
      if (!isObject(c)) return '';
      if (c.type === 'output_text' && typeof c.text === 'string') return c.text;
      if (c.type === 'refusal' && typeof c.refusal === 'string') return c.refusal;
      return '';
    })
    .join('');
}

function functionCallPart(item: Record<string, unknown>, ordinal: number): Part {
  const argsText = typeof item.arguments === 'string' ? item.arguments : '';
  return {
    type: 'tool-call',
    toolCallId: typeof item.call_id === 'string' ? item.call_id : typeof item.id === 'string' ? item.id : `call_${ordinal}`,
    toolName: typeof item.name === 'string' ? item.name : '',
    args: parseToolArgs(argsText),
    argsText,
  };
}

/** Converts the `output` items of a response. */
export function outputToParts(output: unknown): Part[] {
  const content: Part[] = [];
  if (!Array.isArray(output)) return content;
  let calls = 0;
  for (const item of output) {
    if (!isObject(item)) continue;
    if (item.type === 'message') {
      const text = messageText(item);
      if (text) content.push({ type: 'text', text });
    } else if (item.type === 'function_call') {
      content.push(functionCallPart(item, calls++));
    } else if (item.type === 'reasoning') {
      const part = reasoningPartOf(item);
      if (part) content.push(part);
    }
  }
  return mergeText(content);
}

/** Adjacent text parts (several message items) become one. */
function mergeText(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (p.type === 'text' && prev?.type === 'text') out[out.length - 1] = { type: 'text', text: prev.text + p.text };
    else out.push(p);
  }
  return out;
}

/** The typed error of a failed response (`response.failed`, `status: "failed"`) or an `error` event. */
export function responsesError(err: unknown, provider: string, secrets: string[], partialText: string) {
  const e = isObject(err) ? err : {};
  const message = typeof e.message === 'string' ? e.message : 'the response failed';
  const type = typeof e.type === 'string' && e.type !== 'error' ? e.type : undefined;
  const code = typeof e.code === 'string' ? e.code : type;
  return classifyFailure({ provider, code, message, partialText, secrets });
}

/** Converts a whole response object; a failed response or an error body throws the typed error. */
export function parseResponsesResponse(json: unknown, provider: string, secrets: string[]): ModelResponse {
  if (!isObject(json)) throw new ProviderError(`${provider}: response is not a JSON object`);
  if (json.status === 'failed' || (isObject(json.error) && !Array.isArray(json.output))) {
    throw responsesError(json.error, provider, secrets, '');
  }
  if (!Array.isArray(json.output)) throw new ProviderError(redact(`${provider}: response has no output`, secrets));
  const content = outputToParts(json.output);
  const { finishReason, raw } = responsesFinish(json.status, json.incomplete_details, content.some((p) => p.type === 'tool-call'));
  const r: ModelResponse = { content, finishReason, usage: mapResponsesUsage(json.usage) };
  if (raw !== undefined) r.rawFinishReason = raw;
  if (typeof json.model === 'string') r.modelId = json.model;
  if (typeof json.id === 'string') r.responseId = json.id;
  if (typeof json.created_at === 'number') r.timestamp = json.created_at * 1000;
  return r;
}

interface StreamItem {
  kind: 'message' | 'function_call' | 'reasoning' | 'other';
  /** The item's text, reasoning summary or call arguments, as they streamed. */
  pieces: TextAccumulator;
  /** Function calls: position among the calls; reasoning: last summary index seen. */
  ordinal: number;
  callId: string;
  name: string;
  /** The finished item from `response.output_item.done`. */
  final?: Record<string, unknown>;
}

/**
 * Accumulates a Responses stream: output items by `output_index`, text / refusal deltas, reasoning
 * summary (and reasoning text) deltas, function-call argument deltas (`.done` is authoritative),
 * finished items, and `response.completed` / `response.incomplete` (usage, status). `error` and
 * `response.failed` throw typed errors.
 */
export class ResponsesStreamState {
  /** Set by `response.completed`, `response.incomplete`. */
  done = false;
  /** What ends a Responses stream. */
  readonly completionEvent = 'response.completed';
  private items = new Map<number, StreamItem>();
  private calls = 0;
  private final: Record<string, unknown> | undefined;
  private modelId: string | undefined;
  private responseId: string | undefined;
  private created: number | undefined;

  constructor(
    private readonly provider: string,
    private readonly secrets: string[],
    private readonly emit: (d: StreamDelta) => void,
  ) {}

  /** Text received so far. */
  get text(): string {
    return this.sorted()
      .filter((i) => i.kind === 'message')
      .map((i) => i.pieces.text)
      .join('');
  }

  /** True once the response finished. */
  get complete(): boolean {
    return this.done;
  }

  private sorted(): StreamItem[] {
    return [...this.items.entries()].sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  }

  /** Handles one SSE event. */
  handle(ev: SseEvent): void {
    const json = parseStreamJson(ev.data, 'event', this.provider, this.secrets, () => this.text);
    if (!isObject(json)) return;
    const type = typeof json.type === 'string' ? json.type : ev.event;
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        this.noteResponse(json.response);
        break;
      case 'response.output_item.added':
        this.itemAdded(json.output_index, json.item);
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        this.textDelta(json.output_index, json.delta);
        break;
      case 'response.reasoning_summary_text.delta':
        this.reasoningDelta(json.output_index, json.summary_index, json.delta);
        break;
      case 'response.reasoning_text.delta':
        this.reasoningDelta(json.output_index, json.content_index, json.delta);
        break;
      case 'response.function_call_arguments.delta':
        this.argsDelta(json.output_index, json.delta);
        break;
      case 'response.function_call_arguments.done':
        this.argsDone(json.output_index, json.arguments);
        break;
      case 'response.output_item.done':
        this.itemDone(json.output_index, json.item);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.noteResponse(json.response);
        if (isObject(json.response)) this.final = json.response;
        this.done = true;
        break;
      case 'response.failed':
        throw responsesError(isObject(json.response) ? json.response.error : undefined, this.provider, this.secrets, this.text);
      case 'error':
        throw responsesError(isObject(json.error) ? json.error : json, this.provider, this.secrets, this.text);
      default:
        break; // content_part.*, *.done text events, annotations, summary_part.*: nothing new
    }
  }

  private noteResponse(r: unknown): void {
    if (!isObject(r)) return;
    if (typeof r.id === 'string') this.responseId = r.id;
    if (typeof r.model === 'string') this.modelId = r.model;
    if (typeof r.created_at === 'number') this.created = r.created_at * 1000;
  }

  private item(index: unknown, kind: StreamItem['kind']): StreamItem {
    const i = typeof index === 'number' ? index : this.items.size;
    let item = this.items.get(i);
    if (!item) {
      item = { kind, pieces: new TextAccumulator(), ordinal: kind === 'function_call' ? this.calls++ : -1, callId: '', name: '' };
      this.items.set(i, item);
    }
    return item;
  }

  private itemAdded(index: unknown, raw: unknown): void {
    if (!isObject(raw)) return;
    const kind = raw.type === 'message' || raw.type === 'function_call' || raw.type === 'reasoning' ? raw.type : 'other';
    const item = this.item(index, kind);
    if (kind !== 'function_call') return;
    item.callId = typeof raw.call_id === 'string' ? raw.call_id : typeof raw.id === 'string' ? raw.id : `call_${item.ordinal}`;
    item.name = typeof raw.name === 'string' ? raw.name : '';
    const initial = typeof raw.arguments === 'string' ? raw.arguments : '';
    item.pieces = new TextAccumulator();
    item.pieces.append(initial);
    this.emit({ type: 'tool-call-delta', index: item.ordinal, toolCallId: item.callId, toolName: item.name, argsTextDelta: initial });
  }

  private textDelta(index: unknown, delta: unknown): void {
    if (typeof delta !== 'string' || delta === '') return;
    const item = this.item(index, 'message');
    if (item.kind !== 'message') return;
    item.pieces.append(delta);
    this.emit({ type: 'text-delta', text: delta });
  }

  private reasoningDelta(index: unknown, partIndex: unknown, delta: unknown): void {
    if (typeof delta !== 'string' || delta === '') return;
    const item = this.item(index, 'reasoning');
    if (item.kind !== 'reasoning') return;
    const part = typeof partIndex === 'number' ? partIndex : 0;
    // Summary parts are joined with a blank line, in the deltas as in the final text.
    const text = item.ordinal >= 0 && part !== item.ordinal && !item.pieces.empty ? `\n\n${delta}` : delta;
    // A reasoning item is one block (its encrypted content signs all its summary parts).
    if (item.pieces.empty) this.emit({ type: 'reasoning-start' });
    item.ordinal = part;
    item.pieces.append(text);
    this.emit({ type: 'reasoning-delta', text });
  }

  private argsDelta(index: unknown, delta: unknown): void {
    if (typeof delta !== 'string' || delta === '') return;
    const item = this.item(index, 'function_call');
    if (item.kind !== 'function_call') return;
    item.pieces.append(delta);
    this.emit({ type: 'tool-call-delta', index: item.ordinal, argsTextDelta: delta });
  }

  /** The `.done` arguments are the whole text: emit whatever the deltas missed. */
  private argsDone(index: unknown, args: unknown): void {
    if (typeof args !== 'string') return;
    const item = this.item(index, 'function_call');
    if (item.kind !== 'function_call') return;
    const streamed = item.pieces.text;
    if (args.startsWith(streamed) && args.length > streamed.length) {
      this.emit({ type: 'tool-call-delta', index: item.ordinal, argsTextDelta: args.slice(streamed.length) });
    }
    item.pieces = new TextAccumulator();
    item.pieces.append(args);
  }

  private itemDone(index: unknown, raw: unknown): void {
    if (!isObject(raw) || typeof index !== 'number') return;
    if (!this.items.has(index)) this.itemAdded(index, raw); // a server that skipped `.added`
    const item = this.items.get(index);
    if (!item) return;
    item.final = raw;
    if (item.kind === 'function_call' && typeof raw.arguments === 'string') this.argsDone(index, raw.arguments);
  }

  /** The accumulated response; the finished items of `response.completed` win over the deltas. */
  result(): ModelResponse {
    const final = this.final;
    const content = Array.isArray(final?.output) && final.output.length > 0 ? outputToParts(final.output) : this.assembled();
    const hasCalls = content.some((p) => p.type === 'tool-call');
    const { finishReason, raw } = responsesFinish(final?.status ?? 'completed', final?.incomplete_details, hasCalls);
    const r: ModelResponse = { content, finishReason, usage: mapResponsesUsage(final?.usage) };
    if (raw !== undefined) r.rawFinishReason = raw;
    if (this.modelId !== undefined) r.modelId = this.modelId;
    if (this.responseId !== undefined) r.responseId = this.responseId;
    if (this.created !== undefined) r.timestamp = this.created;
    return r;
  }

  private assembled(): Part[] {
    const content: Part[] = [];
    for (const item of this.sorted()) {
      const text = item.pieces.text;
      if (item.kind === 'message' && text) content.push({ type: 'text', text });
      else if (item.kind === 'function_call') {
        content.push({ type: 'tool-call', toolCallId: item.callId, toolName: item.name, args: parseToolArgs(text), argsText: text });
      } else if (item.kind === 'reasoning') {
        const part = reasoningPartOf(item.final ?? {}, text);
        if (part) content.push(part);
      }
    }
    return mergeText(content);
  }
}
