/**
 * `defContext(name, strategy, config)` as a definition kind (docs/memory.md): before every model
 * call of the run (prompt runs and directive replies), the engine's `context_window` step seam keeps
 * the messages that fit `maxTokens − reserveTokens`, never a tool result without its call.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { Message } from '../providers/types.js';
import type { DefinitionKind } from './kind.js';

/** The strategies `defContext` accepts (`hierarchical` and `hybrid` are not built yet). */
export type ContextStrategy = 'sliding-window' | 'relevance-based';

/** Config of `defContext(name, strategy, config)`. */
export interface ContextConfig {
  /** The model's context window, in tokens (counted with the engine's estimate, docs/memory.md). */
  maxTokens: number;
  /** Tokens kept free for the reply (default 0). */
  reserveTokens?: number;
  /** What to keep first: `system`, `first` (the task), `recent`, `relevant` (default by strategy). */
  prioritize?: Array<'system' | 'first' | 'recent' | 'relevant'>;
  /** The N newest messages are always kept (with their tool-call units); not fitting them is a ContextLengthError. */
  keepMinimum?: number;
  /** `relevance-based`: scores each message against the task (the first user message); larger is kept first. */
  relevanceScorer?: (message: Message, currentTask: string) => number | Promise<number>;
  /**
   * Compress instead of only dropping: once the messages use more than `trigger` × the budget
   * (default 0.8), the oldest are folded into a running summary by one call of the run's model
   * (a `context-summarized` event) until the rest uses at most `ratio` × the budget (default 0.5).
   */
  summarization?: { trigger?: number; ratio?: number };
}

/** What `defContext` keeps. */
export interface StoredContext {
  strategy: ContextStrategy;
  config: ContextConfig;
}

/** The text of a message, for the relevance scorer's task. */
function textOf(message: Message | undefined): string {
  if (!message) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

export const contextKind: DefinitionKind<unknown, StoredContext> = {
  kind: 'context',
  noun: 'context',
  method: 'defContext',
  check(where, strategy, config) {
    if (strategy !== 'sliding-window' && strategy !== 'relevance-based')
      throw new ConfigError(`${where}: strategy ${c.describe(strategy)} is not available (built: 'sliding-window', 'relevance-based'; 'hierarchical' and 'hybrid' are not built yet)`);
    if (!c.isPlainObject(config)) throw new ConfigError(`${where}: expected a config object with at least {maxTokens}, got ${c.describe(config)}`);
    const o = c.checkOptions<ContextConfig>(where, config as unknown as ContextConfig, {
      maxTokens: c.integer(1, 1e9),
      reserveTokens: c.integer(0, 1e9),
      prioritize: c.arrayOf(c.oneOf('system', 'first', 'recent', 'relevant'), "'system', 'first', 'recent' or 'relevant'"),
      keepMinimum: c.integer(0, 1e6),
      relevanceScorer: c.func,
      summarization: c.object,
    });
    if (o.summarization !== undefined)
      c.checkOptions(`${where}: summarization`, o.summarization, { trigger: c.number(0, 1, { positive: true }), ratio: c.number(0, 1, { positive: true }) });
    if (o.maxTokens === undefined) c.fail(where, "'maxTokens' is required (the model's context window in tokens)");
    if ((o.reserveTokens ?? 0) >= o.maxTokens) c.fail(where, `'reserveTokens' (${o.reserveTokens}) must be less than 'maxTokens' (${o.maxTokens})`);
    if (strategy === 'relevance-based' && !o.relevanceScorer) c.fail(where, "strategy 'relevance-based' needs a relevanceScorer: (message, currentTask) => number");
    return { strategy, config: { ...o } };
  },
  wire({ strategy, config }, marshal) {
    const { relevanceScorer, ...rest } = config;
    const out: Record<string, unknown> = { strategy, ...rest };
    if (relevanceScorer) {
      out.relevanceScorer = marshal.callback('the relevanceScorer of a context', async (messages: Message[]) => {
        const task = textOf(messages.find((m) => m.role === 'user'));
        const scores: number[] = [];
        for (const m of messages) {
          const s = await relevanceScorer(m, task);
          scores.push(typeof s === 'number' && Number.isFinite(s) ? s : 0);
        }
        return scores;
      });
    }
    return out;
  },
};
