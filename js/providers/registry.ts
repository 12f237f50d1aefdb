/**
 * Resolution of model specs such as `openai:gpt-4o`, `anthropic:claude-sonnet-4-5`, `ollama:qwen3`
 * (a custom OpenAI-compatible provider configured through the environment) or an alias `fast`
 * (`LM_MODEL_FAST=openai:gpt-4o-mini`) to a {@link LanguageModel}.
 */
import { AuthenticationError } from '../errors.js';
import { createAnthropic } from './anthropic.js';
import { createOpenAI, createOpenAICompatible } from './openai.js';
import type { FetchFunction, LanguageModel } from './types.js';

/** Environment variables as a plain record (`process.env` under Node). */
export type Env = Record<string, string | undefined>;

/** Extra options of {@link resolveModel}. */
export interface ResolveOptions {
  /** Custom `fetch` given to the created provider. */
  fetch?: FetchFunction;
}

const BUILT_IN = ['openai', 'anthropic'] as const;
const MAX_ALIAS_DEPTH = 8;

/** The upper-case env-var prefix of a provider or alias name (`my-llm` → `MY_LLM`). */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function defaultEnv(): Env {
  return typeof process !== 'undefined' && process.env ? process.env : {};
}

function get(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Lists the providers `resolveModel` knows: the built-ins plus every `{NAME}_API_BASE` found in `env`
 * (lower-cased).
 */
export function knownProviders(env: Env = defaultEnv()): string[] {
  const custom = Object.keys(env)
    .filter((k) => k.endsWith('_API_BASE') && get(env, k) !== undefined)
    .map((k) => k.slice(0, -'_API_BASE'.length).toLowerCase())
    .filter((n) => n !== '' && !(BUILT_IN as readonly string[]).includes(n));
  return [...BUILT_IN, ...new Set(custom)];
}

/**
 * Turns a model spec into a {@link LanguageModel}; a `LanguageModel` is returned as it is.
 *
 * - `openai:<model>` needs `OPENAI_API_KEY` (base URL `OPENAI_BASE_URL`, optional).
 * - `anthropic:<model>` needs `ANTHROPIC_API_KEY` (base URL `ANTHROPIC_BASE_URL`, optional).
 * - `<name>:<model>` uses `{NAME}_API_BASE`, optional `{NAME}_API_KEY`, and `{NAME}_API_TYPE`
 *   (`openai`, the default, for an OpenAI-compatible server, or `anthropic`).
 * - A spec without `:` is an alias read from `LM_MODEL_<ALIAS>`.
 *
 * The model id is everything after the first `:` (so `ollama:gpt-oss:120b` works).
 * @throws AuthenticationError when a required key is missing (the message names the env var).
 * @throws Error for an unknown provider or alias (the message lists the known providers).
 */
export function resolveModel(spec: string | LanguageModel, env: Env = defaultEnv(), options: ResolveOptions = {}): LanguageModel {
  if (typeof spec !== 'string') return spec;
  let current = spec.trim();
  for (let depth = 0; !current.includes(':'); depth++) {
    const aliasVar = `LM_MODEL_${envName(current)}`;
    const target = get(env, aliasVar);
    if (target === undefined) {
      throw new Error(
        `Unknown model '${current}': use 'provider:model' (known providers: ${knownProviders(env).join(', ')}) ` +
          `or define the alias with ${aliasVar}=provider:model`,
      );
    }
    if (depth >= MAX_ALIAS_DEPTH) throw new Error(`Model alias '${spec}' does not resolve (alias loop?)`);
    current = target.trim();
  }
  const colon = current.indexOf(':');
  const provider = current.slice(0, colon).trim().toLowerCase();
  const modelId = current.slice(colon + 1).trim();
  if (provider === '' || modelId === '') throw new Error(`Invalid model spec '${current}': expected 'provider:model'`);
  const fetch = options.fetch;

  if (provider === 'openai') {
    const apiKey = requireKey(env, 'openai', 'OPENAI_API_KEY');
    return createOpenAI({ apiKey, baseURL: get(env, 'OPENAI_BASE_URL'), fetch })(modelId);
  }
  if (provider === 'anthropic') {
    const apiKey = requireKey(env, 'anthropic', 'ANTHROPIC_API_KEY');
    return createAnthropic({ apiKey, baseURL: get(env, 'ANTHROPIC_BASE_URL'), fetch })(modelId);
  }
  const prefix = envName(provider);
  const baseURL = get(env, `${prefix}_API_BASE`);
  if (baseURL === undefined) {
    throw new Error(
      `Unknown provider '${provider}' in model '${current}'. Known providers: ${knownProviders(env).join(', ')}. ` +
        `To add an OpenAI-compatible server set ${prefix}_API_BASE (and ${prefix}_API_TYPE=openai, optionally ${prefix}_API_KEY).`,
    );
  }
  const apiKey = get(env, `${prefix}_API_KEY`);
  const type = (get(env, `${prefix}_API_TYPE`) ?? 'openai').toLowerCase();
  if (type === 'openai') return createOpenAICompatible({ name: provider, baseURL, apiKey, fetch })(modelId);
  if (type === 'anthropic') return createAnthropic({ name: provider, apiKey, baseURL, fetch })(modelId);
  throw new Error(`Unsupported ${prefix}_API_TYPE '${type}' for provider '${provider}': use 'openai' or 'anthropic'`);
}

function requireKey(env: Env, provider: string, varName: string): string {
  const key = get(env, varName);
  if (key === undefined) {
    throw new AuthenticationError(`No API key for provider '${provider}': set the ${varName} environment variable`);
  }
  return key;
}
