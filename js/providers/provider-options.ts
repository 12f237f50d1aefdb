/**
 * Per-call provider options, as the AI SDK's `providerOptions` are written: keyed by provider name,
 * each provider's options in camelCase (`{ openai: { reasoningEffort: 'low' } }`). A model reads
 * only the entry of its own provider, so one config can serve a fallback chain of providers; an
 * option its provider does not know, or a value of the wrong kind, is a `ConfigError` naming the
 * provider and the option (with a did-you-mean) before anything is sent.
 *
 * @module
 */
import * as c from '../config/check.js';
import { secretsOf, withHeaders } from './http.js';
import type { CallWarning, GenerationParams, ModelRequest, ModelResponse } from './types.js';

/** A request body being built: options set fields in it, nested ones by path. */
type Body = Record<string, unknown>;

/** How one option is checked and where its value goes in the body. */
interface OptionRule {
  check: c.Check;
  set(body: Body, value: unknown): void;
}

/** Sets `value` at `path` in the body, making the objects on the way. */
const at =
  (...path: string[]) =>
  (body: Body, value: unknown): void => {
    let target = body;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      target = c.isPlainObject(next) ? next : (target[key] = {});
    }
    target[path[path.length - 1]] = value;
  };

const rule = (check: c.Check, ...path: string[]): OptionRule => ({ check, set: at(...path) });
const stringRecord = c.recordOf(c.string, 'an object of strings');
const effort = c.oneOf('minimal', 'low', 'medium', 'high');
const shared = {
  parallelToolCalls: rule(c.boolean, 'parallel_tool_calls'),
  user: rule(c.string, 'user'),
  metadata: rule(stringRecord, 'metadata'),
  serviceTier: rule(c.oneOf('auto', 'default', 'flex', 'priority'), 'service_tier'),
  promptCacheKey: rule(c.nonEmpty, 'prompt_cache_key'),
  safetyIdentifier: rule(c.nonEmpty, 'safety_identifier'),
};

/** `strictJsonSchema: false` sends a response schema without `strict` (OpenAI's strict mode refuses optional properties and open objects). */
const strictJsonSchema = (...path: string[]): OptionRule => ({
  check: c.boolean,
  set: (body, value) => {
    let format: unknown = body;
    for (const key of path) format = c.isPlainObject(format) ? format[key] : undefined;
    if (c.isPlainObject(format) && format.type === 'json_schema') (path[0] === 'response_format' ? (format.json_schema as Body) : format).strict = value;
  },
});

/** OpenAI Chat Completions (and servers that speak it, under their own provider name). */
export const OPENAI_CHAT_OPTIONS: Record<string, OptionRule> = {
  ...shared,
  strictJsonSchema: strictJsonSchema('response_format'),
  reasoningEffort: rule(effort, 'reasoning_effort'),
  store: rule(c.boolean, 'store'),
  logitBias: rule(c.recordOf((x) => (typeof x === 'number' ? undefined : 'a number'), 'an object of token ids to numbers'), 'logit_bias'),
  maxCompletionTokens: rule(c.integer(1, 10_000_000), 'max_completion_tokens'),
  textVerbosity: rule(c.oneOf('low', 'medium', 'high'), 'verbosity'),
};

/** OpenAI Responses. */
export const OPENAI_RESPONSES_OPTIONS: Record<string, OptionRule> = {
  ...shared,
  strictJsonSchema: strictJsonSchema('text', 'format'),
  reasoningEffort: rule(effort, 'reasoning', 'effort'),
  reasoningSummary: rule(c.oneOf('auto', 'concise', 'detailed'), 'reasoning', 'summary'),
  store: rule(c.boolean, 'store'),
  previousResponseId: rule(c.nonEmpty, 'previous_response_id'),
  instructions: rule(c.string, 'instructions'),
  include: {
    check: c.stringList,
    // Added to what the model asks for itself (encrypted reasoning when nothing is stored).
    set: (body, value) => (body.include = [...new Set([...((body.include as string[] | undefined) ?? []), ...(value as string[])])]),
  },
  textVerbosity: rule(c.oneOf('low', 'medium', 'high'), 'text', 'verbosity'),
  truncation: rule(c.oneOf('auto', 'disabled'), 'truncation'),
  maxToolCalls: rule(c.integer(1, 1_000_000), 'max_tool_calls'),
};

/** Anthropic Messages. `thinking` replaces the model's reasoning setting before the body is built (AnthropicMessagesModel.generate). */
export const ANTHROPIC_OPTIONS: Record<string, OptionRule> = {
  thinking: {
    check: (v) =>
      c.isPlainObject(v) && (v.type === 'disabled' || (v.type === 'enabled' && Number.isInteger(v.budgetTokens)))
        ? undefined
        : "{type: 'enabled', budgetTokens: <integer>} or {type: 'disabled'}",
    set: () => {}, // applied before the body is built: it changes max_tokens and the checks of the other settings
  },
  disableParallelToolUse: {
    check: c.boolean,
    set: (body, value) => {
      if (body.tool_choice === undefined) body.tool_choice = { type: 'auto' };
      (body.tool_choice as Body).disable_parallel_tool_use = value;
    },
  },
  metadata: {
    check: (v) => (c.isPlainObject(v) && Object.keys(v).every((k) => k === 'userId') && typeof v.userId === 'string' ? undefined : '{userId: string}'),
    set: (body, value) => (body.metadata = { user_id: (value as { userId: string }).userId }),
  },
};

/** Gemini. */
export const GOOGLE_OPTIONS: Record<string, OptionRule> = {
  thinkingConfig: {
    check: (v) => (c.isPlainObject(v) ? undefined : '{thinkingBudget?, includeThoughts?, thinkingLevel?}'),
    set: (body, value) => {
      const v = value as Record<string, unknown>;
      c.checkOptions('providerOptions.google.thinkingConfig', v, { thinkingBudget: c.integer(-1, 1_000_000), includeThoughts: c.boolean, thinkingLevel: c.oneOf('minimal', 'low', 'medium', 'high') });
      at('generationConfig', 'thinkingConfig')(body, v);
    },
  },
  safetySettings: rule(c.arrayOf((v) => (c.isPlainObject(v) && typeof v.category === 'string' && typeof v.threshold === 'string' ? undefined : 'x'), 'an array of {category, threshold}'), 'safetySettings'),
  cachedContent: rule(c.nonEmpty, 'cachedContent'),
  responseModalities: rule(c.stringList, 'generationConfig', 'responseModalities'),
  mediaResolution: rule(c.nonEmpty, 'generationConfig', 'mediaResolution'),
  labels: rule(stringRecord, 'labels'),
};

/** `provider`'s own options of the request, checked against `rules`; undefined when it has none. */
export function ownOptions(req: Omit<ModelRequest, 'model'>, provider: string, rules: Record<string, OptionRule>): Record<string, unknown> | undefined {
  const own = req.providerOptions?.[provider];
  if (own === undefined) return undefined;
  const shape: c.Shape = Object.fromEntries(Object.entries(rules).map(([key, r]) => [key, r.check]));
  return c.checkOptions(`providerOptions.${provider}`, own, shape, `${provider} option`);
}

/** Writes `provider`'s options of the request into `body` (after the provider built it). */
export function applyProviderOptions(body: Body, req: Omit<ModelRequest, 'model'>, provider: string, rules: Record<string, OptionRule>): Body {
  const own = ownOptions(req, provider, rules);
  for (const [key, value] of Object.entries(own ?? {})) if (value !== undefined) rules[key].set(body, value);
  return body;
}

/** The HTTP headers of one call: the provider's, then the call's own (`headers`), whose credentials join `secrets`. */
export function callHeaders(headers: Record<string, string>, secrets: string[], req: Omit<ModelRequest, 'model'>): Record<string, string> {
  if (!req.headers) return headers;
  secrets.push(...secretsOf(undefined, req.headers));
  return withHeaders(headers, req.headers);
}

/**
 * Warnings for the generation settings of the request that `provider`'s API does not have: they are
 * left out of its request, and the caller hears of it (`result.warnings`) instead of nothing.
 */
export function unsupportedSettings(req: Omit<ModelRequest, 'model'>, provider: string, unsupported: ReadonlyArray<keyof GenerationParams>): CallWarning[] {
  const params = req.params ?? {};
  return unsupported
    .filter((setting) => params[setting] !== undefined && !(Array.isArray(params[setting]) && (params[setting] as unknown[]).length === 0))
    .map((setting) => ({ type: 'unsupported-setting', setting, details: `${provider}'s API has no ${setting}; it was left out of the request` }));
}

/** `response` with `warnings` added (unchanged when there are none). */
export function withWarnings(response: ModelResponse, warnings: CallWarning[]): ModelResponse {
  return warnings.length === 0 ? response : { ...response, warnings: [...(response.warnings ?? []), ...warnings] };
}
