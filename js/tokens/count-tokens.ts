/**
 * `countTokens(model, messages)`: the engine's token count for a model — exact for OpenAI models
 * (BPE with the o200k_base / cl100k_base ranks, equal to tiktoken's), the documented estimate for
 * every other provider (docs/memory.md, "Token counting"). The same counter `defContext` uses.
 */
import { defaultEngine } from '../default-engine.js';
import { checkEngine } from '../engine-options.js';
import type { Engine } from '../engine.js';
import * as c from '../config/check.js';
import { ConfigError, ProtocolError } from '../errors.js';
import { checkMessages } from '../run/message-checks.js';
import type { Message } from '../providers/types.js';

/** What {@link countTokens} counted. */
export interface TokenCount {
  /** Tokens of the text, or of the messages as a chat request (OpenAI's rule: 3 per message + role + content, + 3 reply priming). */
  tokens: number;
  /** True when counted with the model's own encoding; false for the estimate (budgets with headroom, never billing). */
  exact: boolean;
  /** The encoding of an exact count. */
  encoding: 'o200k_base' | 'cl100k_base' | null;
}

/** A model as `countTokens` takes it: a model object or a `provider:modelId` string (`openai:gpt-4o`, a bare `gpt-4o`). */
export type TokenCountModel = string | { readonly provider: string; readonly modelId: string };

function modelRef(model: TokenCountModel): string {
  if (typeof model === 'string' && model.length > 0) return model;
  if (typeof model === 'object' && model !== null && typeof model.provider === 'string' && typeof model.modelId === 'string')
    return `${model.provider}:${model.modelId}`;
  throw new ConfigError(`countTokens(): expected a model (a model object or a 'provider:modelId' string such as 'openai:gpt-4o'), got ${c.describe(model)}`);
}

/**
 * Counts the tokens of `input` (a text, or messages as a request) for `model`. The first exact
 * count of an encoding loads its rank file (about 1.5 MiB for o200k_base) into the engine once.
 *
 * @example
 * const { tokens, exact } = await countTokens('openai:gpt-4o', [{ role: 'user', content: 'Hello!' }]);
 */
export async function countTokens(model: TokenCountModel, input: readonly Message[] | string, options: { engine?: Engine } = {}): Promise<TokenCount> {
  c.checkOptions('countTokens()', options, { engine: c.anything });
  if (options.engine !== undefined) checkEngine(options.engine, 'countTokens() options.engine');
  const ref = modelRef(model);
  if (typeof input !== 'string' && !Array.isArray(input))
    throw new ConfigError(`countTokens(): expected messages (an array of {role, content}) or a text, got ${input === null ? 'null' : typeof input}`);
  checkMessages('countTokens()', input);
  const engine = options.engine ?? (await defaultEngine());
  const spec = typeof input === 'string' ? { kind: 'memory', action: 'count', model: ref, text: input } : { kind: 'memory', action: 'count', model: ref, messages: input };
  try {
    return (await engine.startRun(spec)) as TokenCount;
  } catch (err) {
    if (err instanceof ProtocolError || err instanceof ConfigError) throw new ConfigError(err.message.replace(/^(run\.start spec \(memory\)|countTokens): /, 'countTokens(): '));
    throw err;
  }
}
