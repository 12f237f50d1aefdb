/**
 * `defContext(name, strategy, config)` as a definition kind (docs/memory.md): before every model
 * call of the run (prompt runs and directive replies), the engine's `context_window` step seam keeps
 * the messages that fit `maxTokens − reserveTokens`, never a tool result without its call.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { Message } from '../providers/types.js';
import type { DefinitionKind } from './kind.js';

/**
 * The strategies `defContext` accepts: `sliding-window` (the newest messages that fit),
 * `relevance-based` (the ones `relevanceScorer` ranks highest), `hybrid` (a share of the budget for
 * the newest, the rest for the most relevant) and `hierarchical` (the newest verbatim, older ones as
 * chunk summaries, the oldest as one session summary).
 */
export type ContextStrategy = 'sliding-window' | 'relevance-based' | 'hybrid' | 'hierarchical';

const strategies: readonly ContextStrategy[] = ['sliding-window', 'relevance-based', 'hybrid', 'hierarchical'];

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
  /** `relevance-based` and `hybrid`: scores each message against the task (the first user message); larger is kept first. */
  relevanceScorer?: (message: Message, currentTask: string) => number | Promise<number>;
  /**
   * Compress instead of only dropping: once the messages use more than `trigger` × the budget
   * (default 0.8), the oldest are folded into a running summary by one call of the run's model
   * (a `context-summarized` event) until the rest uses at most `ratio` × the budget (default 0.5).
   */
  summarization?: { trigger?: number; ratio?: number };
  /**
   * `hybrid`: how the budget left after system messages and `keepMinimum` is shared. The newest
   * messages may take `recent / (recent + relevant)` of it (default 1 : 1); the most relevant of
   * the rest fill what remains.
   */
  weights?: { recent?: number; relevant?: number };
  /**
   * `hierarchical`: how many chunk summaries are kept before all but the newest are folded into the
   * session summary (default 4).
   */
  maxChunks?: number;
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
    c.checkChoice(where, 'strategy', strategy, ...strategies);
    if (!c.isPlainObject(config)) throw new ConfigError(`${where}: expected a config object with at least {maxTokens}, got ${c.describe(config)}`);
    const o = c.checkOptions<ContextConfig>(where, config as unknown as ContextConfig, {
      maxTokens: c.integer(1, 1e9),
      reserveTokens: c.integer(0, 1e9),
      prioritize: c.arrayOf(c.oneOf('system', 'first', 'recent', 'relevant'), "'system', 'first', 'recent' or 'relevant'"),
      keepMinimum: c.integer(0, 1e6),
      relevanceScorer: c.func,
      summarization: c.object,
      weights: c.object,
      maxChunks: c.integer(1, 1000),
    });
    if (o.summarization !== undefined) {
      const sum = c.checkOptions(`${where}: summarization`, o.summarization, { trigger: c.number(0, 1, { positive: true }), ratio: c.number(0, 1, { positive: true }) });
      const trigger = sum.trigger ?? 0.8;
      const ratio = sum.ratio ?? 0.5;
      // A summary starts above `trigger` × the budget and folds until at most `ratio` × the budget is used.
      if (ratio > trigger)
        c.fail(
          `${where}: summarization`,
          `'ratio' (${ratio}${sum.ratio === undefined ? ', the default' : ''}) must not exceed 'trigger' (${trigger}${sum.trigger === undefined ? ', the default' : ''}): a summary starts once the messages use more than trigger × the budget and folds the oldest until the rest uses at most ratio × the budget`,
        );
    }
    if (o.weights !== undefined) {
      if (strategy !== 'hybrid') c.fail(where, "'weights' applies to the 'hybrid' strategy only");
      const w = c.checkOptions(`${where}: weights`, o.weights, { recent: c.number(0, 1e9), relevant: c.number(0, 1e9) });
      if ((w.recent ?? 1) + (w.relevant ?? 1) <= 0) c.fail(where, "'weights' must not all be 0");
    }
    if (o.maxChunks !== undefined && strategy !== 'hierarchical') c.fail(where, "'maxChunks' applies to the 'hierarchical' strategy only");
    if (o.maxTokens === undefined) c.fail(where, "'maxTokens' is required (the model's context window in tokens)");
    if ((o.reserveTokens ?? 0) >= o.maxTokens) c.fail(where, `'reserveTokens' (${o.reserveTokens}) must be less than 'maxTokens' (${o.maxTokens})`);
    const ranks = strategy === 'relevance-based' || strategy === 'hybrid';
    if (ranks && !o.relevanceScorer) c.fail(where, `strategy '${strategy}' needs a relevanceScorer: (message, currentTask) => number`);
    if (!ranks && o.relevanceScorer) c.fail(where, "'relevanceScorer' applies to the 'relevance-based' and 'hybrid' strategies only");
    return { strategy, config: { ...o } };
  },
  wire({ strategy, config }, marshal) {
    const { relevanceScorer, ...rest } = config;
    const out: Record<string, unknown> = { strategy, ...rest };
    if (relevanceScorer) {
      out.relevanceScorer = marshal.callback('the relevanceScorer of a context', async (messages: Message[]) => {
        const task = textOf(messages.find((m) => m.role === 'user'));
        const scores: number[] = [];
        for (const [i, m] of messages.entries()) {
          const score = await relevanceScorer(m, task);
          // A score that is not a number would rank the message as 0 without a word: say so instead.
          if (typeof score !== 'number' || !Number.isFinite(score))
            throw new TypeError(`the relevanceScorer returned ${c.describe(score)} for message ${i} (${m.role}); expected a finite number (larger keeps the message first)`);
          scores.push(score);
        }
        return scores;
      });
    }
    return out;
  },
};
