/**
 * A scripted {@link LanguageModel} for tests and offline demos: it answers from a fixed list of items
 * instead of calling a provider, and records every request it receives. No Node-only imports, so it
 * works in browsers too.
 */
import { realClock } from './clock.js';
import * as c from './config/check.js';
import { AbortError, ConfigError } from './errors.js';
import { jsonProblem } from './storage/checks.js';
import type {
  FinishReason,
  GenerateOptions,
  LanguageModel,
  ModelRequest,
  ModelResponse,
  Part,
  StreamDelta,
  Usage,
} from './providers/types.js';

/** A piece of text the mock model says; consecutive text items of one step form one text part. */
export interface MockTextItem {
  type: 'text';
  text: string;
}

/** A tool call the mock model makes; it ends the step. */
export interface MockToolCallItem {
  type: 'tool-call';
  /** Defaults to `call_<n>` for the model's n-th tool call (counting from 1, explicit ids included). */
  toolCallId?: string;
  toolName: string;
  /** The arguments object (defaults to `{}`); sent as `args` and, as JSON text, as `argsText`. */
  args?: unknown;
}

/**
 * Ends the current step without a tool call (finishReason `'stop'`). Needed between two text-only
 * answers, which would otherwise join into one: e.g. a sub-agent's answer followed by the parent's
 * final text.
 */
export interface MockEndStepItem {
  type: 'end-step';
}

/** One scripted item of {@link mockModel}. */
export type MockItem = MockTextItem | MockToolCallItem | MockEndStepItem;

/** Options of {@link mockModel}. */
export interface MockModelOptions {
  /**
   * Token usage reported by every call (defaults to 10 input and 20 output tokens; `totalTokens`
   * defaults to their sum; the cache and reasoning counts are reported only when given).
   */
  usage?: Partial<Usage>;
  /** Milliseconds to wait before answering (default 0); an abort of `opts.signal` cancels the wait. */
  delayMs?: number;
}

/**
 * A request received by the mock model: a deep copy of what `generate` was given. A message object
 * that several calls were given is copied when first given, and their records share that copy (the
 * host gives every call of a conversation the same message objects and never changes them).
 */
export type MockCall = Omit<ModelRequest, 'model'> & {
  /** The text of the leading system message, when the request starts with one. */
  system?: string;
};

/** The model returned by {@link mockModel}. */
export interface MockLanguageModel extends LanguageModel {
  readonly provider: 'mock';
  readonly modelId: 'mock';
  /** Every request received so far, in order (deep copies). */
  readonly calls: MockCall[];
  /** How many scripted items have not been consumed yet. */
  readonly remaining: number;
}

/**
 * Creates a scripted model. Each `generate()` call consumes the items up to and including the next
 * tool-call or end-step item, so a step has at most one tool call:
 *
 * - the response content is the step's text (consecutive text items joined into one text part),
 *   followed by the tool-call part when the step ends on a tool call;
 * - `finishReason` is `'tool-calls'` when the step ends on a tool call, else `'stop'`;
 * - once the items are exhausted every call answers `content: []` with finishReason `'stop'`.
 *
 * With `opts.onDelta` the text is also emitted as a few `text-delta`s (split at word boundaries) and
 * each tool call as one `tool-call-delta`, before the promise resolves.
 *
 * @example
 * ```ts
 * const model = mockModel([
 *   { type: 'tool-call', toolName: 'getWeather', args: { city: 'Paris' } },
 *   { type: 'text', text: 'It is 21 °C in Paris.' },
 * ]);
 * ```
 * @throws ConfigError (a TypeError) when `items` is not an array of valid items (the message names the index).
 */
export function mockModel(items: readonly MockItem[], options: MockModelOptions = {}): MockLanguageModel {
  const script = validateItems(items);
  c.checkOptions('mockModel', options, { usage: c.object, delayMs: c.ms({ zero: true }) });
  const count = c.number(0, Infinity);
  c.checkOptions('mockModel: usage', options.usage, { inputTokens: count, outputTokens: count, totalTokens: count, cachedInputTokens: count, cacheWriteInputTokens: count, reasoningTokens: count });
  const usage = usageOf(options);
  const delayMs = options.delayMs ?? 0;
  const calls: MockCall[] = [];
  const copiedMessages = new WeakMap<object, unknown>();
  let next = 0;
  let toolCalls = 0;

  return {
    provider: 'mock',
    modelId: 'mock',
    calls,
    get remaining() {
      return script.length - next;
    },
    async generate(req: Omit<ModelRequest, 'model'>, opts: GenerateOptions = {}): Promise<ModelResponse> {
      calls.push(recordCall(req, copiedMessages));
      await wait(delayMs, opts.signal);
      let text: string | undefined;
      let call: MockToolCallItem | undefined;
      while (next < script.length) {
        const item = script[next++];
        if (item.type === 'end-step') break;
        if (item.type === 'text') {
          text = (text ?? '') + item.text;
        } else {
          call = item;
          break;
        }
      }
      const content: Part[] = [];
      if (text !== undefined) content.push({ type: 'text', text });
      if (call !== undefined) {
        const args = call.args === undefined ? {} : clone(call.args);
        const n = ++toolCalls;
        content.push({
          type: 'tool-call',
          toolCallId: call.toolCallId ?? `call_${n}`,
          toolName: call.toolName,
          args,
          argsText: JSON.stringify(args),
        });
      }
      if (opts.onDelta) emitDeltas(content, opts.onDelta);
      const finishReason: FinishReason = call !== undefined ? 'tool-calls' : 'stop';
      return { content, finishReason, usage: { ...usage }, modelId: 'mock' };
    },
  };
}

/**
 * Tells whether `value` looks like a {@link LanguageModel}: an object with string `provider` and
 * `modelId` and a `generate` function.
 */
export function isLanguageModel(value: unknown): value is LanguageModel {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const v = value as Record<string, unknown>;
  return typeof v.provider === 'string' && typeof v.modelId === 'string' && typeof v.generate === 'function';
}

/** How deep a mock tool call's arguments may be nested (the check recurses; far past any engine's limit). */
const MOCK_ARGS_DEPTH = 5_000;

/** The keys each kind of item may have. */
const ITEM_KEYS: Record<string, readonly string[]> = { text: ['type', 'text'], 'tool-call': ['type', 'toolCallId', 'toolName', 'args'], 'end-step': ['type'] };

function validateItems(items: readonly MockItem[]): MockItem[] {
  if (!Array.isArray(items)) {
    throw new ConfigError(`mockModel: items must be an array of {type: 'text' | 'tool-call' | 'end-step'} objects, got ${c.describe(items)}`);
  }
  return items.map((item: unknown, i) => {
    if (item === null || typeof item !== 'object') {
      throw new ConfigError(`mockModel: items[${i}] must be an object with type 'text', 'tool-call' or 'end-step', got ${c.describe(item)}`);
    }
    const it = item as Record<string, unknown>;
    const keys = typeof it.type === 'string' && Object.hasOwn(ITEM_KEYS, it.type) ? ITEM_KEYS[it.type] : undefined;
    // A misspelt key (`argsText`, `toolname`) would otherwise be dropped and the call made with defaults.
    for (const key of keys ? Object.keys(it) : []) {
      if (!keys!.includes(key)) throw new ConfigError(`mockModel: items[${i}] (${it.type as string}): ${c.unknownKey('key', key, keys!)}`);
    }
    if (it.type === 'text') {
      if (typeof it.text !== 'string') throw new ConfigError(`mockModel: items[${i}] (text) must have a string "text", got ${c.describe(it.text)}`);
      return { type: 'text', text: it.text };
    }
    if (it.type === 'tool-call') {
      if (typeof it.toolName !== 'string' || it.toolName === '') {
        throw new ConfigError(`mockModel: items[${i}] (tool-call) must have a non-empty string "toolName", got ${c.describe(it.toolName)}`);
      }
      if (it.toolCallId !== undefined && typeof it.toolCallId !== 'string') {
        throw new ConfigError(`mockModel: items[${i}] (tool-call) "toolCallId" must be a string when given, got ${c.describe(it.toolCallId)}`);
      }
      // Deeper than the engine takes is allowed: a test may check how a run handles such arguments.
      const problem = it.args === undefined ? undefined : jsonProblem(it.args, 'args', MOCK_ARGS_DEPTH);
      if (problem) throw new ConfigError(`mockModel: items[${i}] (tool-call) "args" must be JSON: ${problem}`);
      return { type: 'tool-call', toolName: it.toolName, toolCallId: it.toolCallId, args: it.args };
    }
    if (it.type === 'end-step') return { type: 'end-step' };
    const meant = typeof it.type === 'string' ? c.nearest(it.type, Object.keys(ITEM_KEYS)) : undefined;
    throw new ConfigError(`mockModel: items[${i}] has unknown type ${typeof it.type === 'string' ? JSON.stringify(it.type) : c.describe(it.type)}${meant ? ` (did you mean '${meant}'?)` : ''}: expected 'text', 'tool-call' or 'end-step'`);
  });
}

function usageOf(options: MockModelOptions): Usage {
  const inputTokens = options.usage?.inputTokens ?? 10;
  const outputTokens = options.usage?.outputTokens ?? 20;
  return { ...options.usage, inputTokens, outputTokens, totalTokens: options.usage?.totalTokens ?? inputTokens + outputTokens };
}

/**
 * A request's deep copy. The host hands every call of a conversation the same message objects (it
 * appends to its copy of the conversation), so each message is copied once and its copy shared by
 * the records of later calls: recording a long loop costs its new messages, not the whole
 * conversation again at every step.
 */
function recordCall(req: Omit<ModelRequest, 'model'>, copiedMessages: WeakMap<object, unknown>): MockCall {
  const { messages, ...rest } = req ?? {};
  const copy = clone(rest) as MockCall;
  if (messages !== undefined) copy.messages = Array.isArray(messages) ? messages.map((m) => copiedOnce(m, copiedMessages)) : clone(messages);
  const first = copy.messages?.[0];
  if (first?.role === 'system' && copy.system === undefined) {
    copy.system = typeof first.content === 'string'
      ? first.content
      : first.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  }
  return copy;
}

/** Emits a step's content as stream deltas: text in word-sized chunks, one delta per tool call. */
function emitDeltas(content: Part[], onDelta: (d: StreamDelta) => void): void {
  let index = 0;
  for (const part of content) {
    if (part.type === 'text') {
      for (const chunk of chunksOf(part.text)) onDelta({ type: 'text-delta', text: chunk });
    } else if (part.type === 'tool-call') {
      onDelta({ type: 'tool-call-delta', index: index++, toolCallId: part.toolCallId, toolName: part.toolName, argsTextDelta: part.argsText });
    }
  }
}

/** Splits text into chunks that end after each run of whitespace, so joining them gives the text back. */
function chunksOf(text: string): string[] {
  return text.match(/\S*\s+|\S+$/g) ?? (text === '' ? [] : [text]);
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortErrorOf(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      realClock.clearTimer(timer);
      reject(abortErrorOf(signal!));
    };
    const timer = realClock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortErrorOf(signal: AbortSignal): AbortError {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortError) return reason;
  const message = reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'The operation was aborted';
  return new AbortError(message, { cause: reason });
}

function copiedOnce<T>(message: T, copies: WeakMap<object, unknown>): T {
  if (typeof message !== 'object' || message === null) return message;
  let copy = copies.get(message) as T | undefined;
  if (copy === undefined) copies.set(message, (copy = clone(message)));
  return copy;
}

function clone<T>(value: T): T {
  if (value === undefined) return value;
  // A model request is plain data: copied directly it costs ≈ 0.8 µs, structuredClone ≈ 6.6 µs
  // (Node 20; the 200 concurrent runs of bench/step-overhead.mjs make 400 calls at once).
  const copy = plainCopy(value, 0);
  if (copy !== NOT_PLAIN) return copy as T;
  if (typeof structuredClone === 'function') {
    try {
      return structuredClone(value);
    } catch {
      // not structured-cloneable (e.g. holds a function): fall back to JSON, which drops such values
    }
  }
  return JSON.parse(JSON.stringify(value)) as T;
}

const NOT_PLAIN = Symbol('not plain data');

/** A deep copy of arrays, plain objects and primitives; {@link NOT_PLAIN} for anything else or deeper than 100 levels. */
function plainCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? NOT_PLAIN : value;
  if (depth > 100) return NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) if ((out[i] = plainCopy(value[i], depth + 1)) === NOT_PLAIN) return NOT_PLAIN;
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = plainCopy((value as Record<string, unknown>)[key], depth + 1);
    if (copy === NOT_PLAIN) return NOT_PLAIN;
    // An own "__proto__" (JSON.parse makes one) stays a property: assigned, it would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

