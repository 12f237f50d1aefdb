/**
 * A run's `timeout` as the AI SDK 7 also writes it, an object — `{totalMs, stepMs, toolMs,
 * firstChunkMs, chunkMs, tools: {[`${name}Ms`]: ms}}` — laid onto lmthing's own settings (`timeout`,
 * `modelTimeout`, `toolTimeout`, each tool's `timeout`), and the watch behind the two chunk timeouts
 * of a streamed model call.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError, TimeoutError } from '../errors.js';

/** The longest delay `setTimeout` takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The AI SDK 7's timeout object (each field in milliseconds). */
export interface TimeoutConfiguration {
  /** The whole run (lmthing's `timeout`). */
  totalMs?: number;
  /** Each model call of a step, each attempt of a retry (lmthing's `modelTimeout`). */
  stepMs?: number;
  /** Each tool call without a time limit of its own (lmthing's `toolTimeout`). */
  toolMs?: number;
  /** A streamed model call's first chunk, from the request on; an answer that does not stream is its first chunk. */
  firstChunkMs?: number;
  /** Each chunk after the first, from the one before. */
  chunkMs?: number;
  /** A tool's own limit, keyed `${toolName}Ms`, over `toolMs` (runPrompt only: its tools are known when it starts). */
  tools?: Record<string, number>;
}

/** The chunk timeouts of a streamed model call. */
export interface ChunkTimeouts {
  firstMs?: number;
  nextMs?: number;
}

/** A run's time limits in lmthing's terms. */
export interface RunTimeouts {
  timeout?: number;
  modelTimeout?: number;
  toolTimeout?: number;
  chunks?: ChunkTimeouts;
  /** Tool name → its limit. */
  tools?: Record<string, number>;
  /** Of `timeout`, what the run's setup took before the engine had the run (SetupDeadline), ms. */
  setupMs?: number;
}

/** `timeout`: milliseconds (the whole run) or the AI SDK 7's object. */
export const timeoutCheck: c.Check = c.either(c.ms(), c.object);

const objectShape: c.Shape = { totalMs: c.ms(), stepMs: c.ms(), toolMs: c.ms(), firstChunkMs: c.ms(), chunkMs: c.ms(), tools: c.recordOf(c.ms(), 'an object of `${toolName}Ms` keys to milliseconds') };

/**
 * The limits of a config whose `timeout` may be the object: its fields become lmthing's settings;
 * one given both ways (`timeout.stepMs` and `modelTimeout`) is a `ConfigError`.
 */
export function ownTimeouts(where: string, settings: { timeout?: number | TimeoutConfiguration; modelTimeout?: number; toolTimeout?: number }): RunTimeouts {
  const { timeout, modelTimeout, toolTimeout } = settings;
  if (typeof timeout !== 'object' || timeout === null) return { timeout, modelTimeout, toolTimeout };
  const given = c.checkOptions(`${where}: timeout`, timeout, objectShape);
  const both = (field: string, setting: string) => new ConfigError(`${where}: give 'timeout.${field}' or '${setting}' (two names of one limit), not both`);
  if (given.stepMs !== undefined && modelTimeout !== undefined) throw both('stepMs', 'modelTimeout');
  if (given.toolMs !== undefined && toolTimeout !== undefined) throw both('toolMs', 'toolTimeout');
  const chunks = given.firstChunkMs !== undefined || given.chunkMs !== undefined ? { firstMs: given.firstChunkMs, nextMs: given.chunkMs } : undefined;
  let tools: Record<string, number> | undefined;
  for (const [key, ms] of Object.entries(given.tools ?? {})) {
    if (!key.endsWith('Ms') || key.length === 2) throw new ConfigError(`${where}: timeout.tools: '${key}' must be a tool's name followed by 'Ms' ({weatherMs: 5000})`);
    (tools ??= {})[key.slice(0, -2)] = ms;
  }
  return { timeout: given.totalMs, modelTimeout: given.stepMs ?? modelTimeout, toolTimeout: given.toolMs ?? toolTimeout, chunks, tools };
}

/**
 * Watches one streamed model call: its {@link ChunkWatch.signal} aborts when the caller's does, when
 * no first chunk came within `firstMs` of the request, or no next chunk within `nextMs` of the one
 * before; {@link ChunkWatch.error} then says which limit it was.
 */
export class ChunkWatch {
  readonly signal: AbortSignal;
  /** Rejects with the limit's `TimeoutError` when one fires: a model that ignores its signal is not waited for. */
  readonly expired: Promise<never>;
  private expire: (error: TimeoutError) => void = () => undefined;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firedLimit: string | undefined;
  private chunks = 0;
  private readonly onOuterAbort = (): void => this.controller.abort();

  constructor(
    private readonly model: string,
    private readonly timeouts: ChunkTimeouts,
    private readonly outer: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    this.expired = new Promise<never>((_, reject) => {
      this.expire = reject;
    });
    this.expired.catch(() => undefined); // raced with the call; nobody else awaits it
    if (outer.aborted) this.controller.abort();
    else outer.addEventListener('abort', this.onOuterAbort, { once: true });
    this.arm(timeouts.firstMs, 'firstChunkMs');
  }

  /** A chunk arrived: the next one's time starts. */
  chunk(): void {
    this.chunks += 1;
    this.arm(this.timeouts.nextMs, 'chunkMs');
  }

  /** Ends the watch (always call it, also after a failure). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.outer.removeEventListener('abort', this.onOuterAbort);
  }

  /** The `TimeoutError` of the limit that aborted the call; undefined when none did. */
  error(): TimeoutError | undefined {
    if (this.firedLimit === undefined) return undefined;
    const ms = this.firedLimit === 'firstChunkMs' ? this.timeouts.firstMs : this.timeouts.nextMs;
    const what = this.chunks === 0 ? 'no first chunk' : `no chunk after chunk ${this.chunks}`;
    return new TimeoutError(`model "${this.model}": ${what} within ${ms} ms (timeout.${this.firedLimit})`);
  }

  private arm(ms: number | undefined, limit: string): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // Past setTimeout's range (about 24.8 days) a limit is never reached in practice: not armed.
    if (ms === undefined || ms > MAX_TIMER_MS || this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.firedLimit = limit;
      this.controller.abort();
      this.expire(this.error()!);
    }, ms);
  }
}
