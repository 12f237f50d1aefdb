/**
 * Redaction of what observability writes out (log records, span contents): values under the keys a
 * logger or tracer names (`redact: ['apiKey', 'password']`), at any depth, and always the known
 * secret headers and anything that looks like an API key. Keys match without regard to case, `-`
 * or `_` (`apiKey` also masks `api_key` and `API-KEY`).
 */

import { describe, fail } from '../config/check.js';

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Header and field names that always hold secrets. */
const ALWAYS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'apikey', 'x-goog-api-key', 'cookie', 'set-cookie'];

/** Strings shaped like provider API keys and bearer tokens. */
const SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}/g, // OpenAI, Anthropic
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*/g,
];

const MAX_DEPTH = 32;

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** Masks secrets in values before they are logged or put on a span. */
export class Redactor {
  private readonly keys: Set<string>;
  private readonly secrets: string[];

  /**
   * @param keys Keys whose values are masked at any depth, in addition to the known secret headers.
   * @param secrets Exact secret strings to mask wherever they appear (by default the values of the
   *   `*_API_KEY` environment variables under Node).
   */
  constructor(keys: Iterable<string> = [], secrets: string[] = environmentSecrets()) {
    const keyList = typeof keys === 'string' || !isIterable(keys) ? undefined : [...keys];
    if (keyList === undefined || keyList.some((key) => typeof key !== 'string'))
      fail('new Redactor', `keys must be an iterable of strings (the keys whose values are masked), got ${describe(keys)}`);
    if (!Array.isArray(secrets) || secrets.some((secret) => typeof secret !== 'string'))
      fail('new Redactor', `secrets must be an array of strings (the exact secrets to mask), got ${describe(secrets)}`);
    this.keys = new Set([...ALWAYS, ...keyList].map(normalize));
    this.secrets = secrets.filter((s) => s.length >= 8);
  }

  /** A copy of `value` with secrets masked (cycles become `[Circular]`). */
  redact<T>(value: T): T {
    return this.walk(value, 0, new WeakSet()) as T;
  }

  /** `text` with secret-looking substrings masked. */
  redactText(text: string): string {
    if (typeof text !== 'string') fail('Redactor.redactText', `expected a string, got ${describe(text)} (redact() masks any value)`);
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const secret of providerSecrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, REDACTED);
    return out;
  }

  /**
   * A string inside a value: JSON text of an object (a tool call's `argsText`, a serialized result)
   * is redacted as the object it encodes, so a key listed in `redact` is masked there too.
   */
  private redactString(text: string, depth: number, seen: WeakSet<object>): string {
    if (text.length > 1 && (text[0] === '{' || text[0] === '[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return this.redactText(text);
      }
      if (typeof parsed === 'object' && parsed !== null) return JSON.stringify(this.walk(parsed, depth + 1, seen));
    }
    return this.redactText(text);
  }

  /** Whether a value under `key` is masked whatever it holds. */
  masks(key: string): boolean {
    return this.keys.has(normalize(key));
  }

  private walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactString(value, depth, seen);
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return '[Truncated]';
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (value instanceof Error) {
      const error: Record<string, unknown> = { name: value.name, message: this.redactText(value.message) };
      const code = (value as { code?: unknown }).code;
      if (code !== undefined) error.code = code;
      return error;
    }
    if (Array.isArray(value)) return value.map((item) => this.walk(item, depth + 1, seen));
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // A key can be a secret too (`{[apiKey]: usage}`); defineProperty keeps a "__proto__" key a key.
      Object.defineProperty(out, this.redactText(key), { value: this.masks(key) ? REDACTED : this.walk(item, depth + 1, seen), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/**
 * Credentials given to provider factories (`createOpenAI({apiKey})`) and in credential headers: a
 * model echoing one must not put it in a log or a span. Insertion-ordered; the oldest go first past
 * the cap (per-user tokens given per call would otherwise grow it without end).
 */
const providerSecrets = new Set<string>();
const MAX_PROVIDER_SECRETS = 256;

/** Masks `secret` wherever any Redactor writes (an API key a provider was given). */
export function rememberSecret(secret: string | undefined): void {
  if (typeof secret !== 'string' || secret.length < 8) return;
  providerSecrets.delete(secret);
  providerSecrets.add(secret);
  if (providerSecrets.size > MAX_PROVIDER_SECRETS) providerSecrets.delete(providerSecrets.values().next().value!);
}

/** The values of `*_API_KEY` / `*_TOKEN` environment variables (Node only). */
export function environmentSecrets(): string[] {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env) return [];
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && /(_API_KEY|_TOKEN|_SECRET)$/.test(name))
    .map(([, value]) => value!);
}
