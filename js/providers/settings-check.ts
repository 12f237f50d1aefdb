/**
 * Checks what a provider factory and its models are given, at the call that received it: an
 * unknown key is a ConfigError naming the nearest known one (a misspelled `baseUrl` would otherwise
 * send every request to the official API), a wrong type says what was expected. Values that the
 * code using them checks already (idle timeouts, embedding batch sizes) are left to it. Nothing a
 * message prints can be a secret: keys and header values are never shown.
 */
import * as c from '../config/check.js';

/** An absolute http(s) URL (a string that is not one is not printed: it may carry a key). */
const httpUrl: c.Check = (v) => {
  const expected = 'an absolute http(s) URL such as "https://api.example.com/v1"';
  if (typeof v !== 'string') return expected;
  try {
    const { protocol, username, password } = new URL(v);
    if (protocol !== 'http:' && protocol !== 'https:') return `${expected}, not a ${protocol} URL`;
    // fetch refuses such URLs, and the URL would be shown in its errors.
    if (username || password) return `${expected} without a user name or password ("user:password@"); send credentials in 'headers' instead`;
    return undefined;
  } catch {
    return `${expected}; the string given is not a URL`;
  }
};

const settingsShape: c.Shape = { baseURL: httpUrl, apiKey: c.string, headers: c.httpHeaders, fetch: c.func, idleTimeoutMs: c.anything };

/** Checks a factory's settings (`createOpenAI({...})`); `extra` are the factory's own keys. */
export function checkProviderSettings(where: string, settings: unknown, extra: c.Shape = {}): void {
  const shape = { ...settingsShape, ...extra };
  if (c.isPlainObject(settings)) {
    // Shown without the value itself (a URL may carry a key): what is wrong is enough to find it.
    const problem = typeof settings.baseURL === 'string' ? httpUrl(settings.baseURL) : undefined;
    if (problem) c.fail(where, `'baseURL' must be ${problem}`);
    const key = settings.apiKey;
    if (key !== undefined && typeof key !== 'string') c.fail(where, `'apiKey' must be a string, got ${key === null ? 'null' : `a ${typeof key}`} (not shown)`);
  }
  c.checkOptions(where, settings, shape);
}

/** Option objects inside a model's options, each with its keys. */
type NestedShapes = Record<string, c.Shape>;

const reasoningShape: c.Shape = { effort: c.oneOf('minimal', 'low', 'medium', 'high'), budgetTokens: c.integer(1, 1_000_000), includeThoughts: c.boolean };

/** Anthropic's `cache` option: which parts get a cache breakpoint, and for how long. */
export const anthropicCacheShape: c.Shape = { system: c.boolean, tools: c.boolean, messages: c.boolean, ttl: c.oneOf('5m', '1h') };

/**
 * Checks a model's id and options (`openai('gpt-4o', {...})`): every model's `idleTimeoutMs` and
 * `reasoning`, plus the provider's own `extra` keys and `nested` option objects. Returns the id.
 */
export function checkModelOptions(provider: string, modelId: unknown, options: unknown, extra: c.Shape = {}, nested: NestedShapes = {}): string {
  if (typeof modelId !== 'string' || modelId.length === 0) c.fail(`${provider} model`, `the model id must be a non-empty string, got ${c.describe(modelId)}`);
  const where = `${provider} model "${modelId}"`;
  const objects: NestedShapes = { reasoning: reasoningShape, ...nested };
  const shape: c.Shape = { idleTimeoutMs: c.anything, ...extra };
  for (const key of Object.keys(objects)) shape[key] = c.object;
  c.checkOptions(where, options, shape);
  for (const [key, keys] of Object.entries(objects)) {
    const value = (options as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) c.checkOptions(`${where}: ${key}`, value, keys);
  }
  return modelId;
}

/** Checks an embedding model's id and options (their values are checked where they are used). */
export function checkEmbeddingOptions(provider: string, modelId: unknown, options: unknown): string {
  if (typeof modelId !== 'string' || modelId.length === 0) c.fail(`${provider} embedding model`, `the model id must be a non-empty string, got ${c.describe(modelId)}`);
  c.checkOptions(`${provider} embedding model "${modelId}"`, options, { maxBatchSize: c.anything, maxParallelCalls: c.anything });
  return modelId;
}
