/**
 * Resolution of model specs such as `openai:gpt-4o`, `openai-responses:gpt-5`,
 * `anthropic:claude-sonnet-4-5`, `google:gemini-2.5-flash`, `ollama:qwen3` (a custom
 * OpenAI-compatible provider configured through the environment) or an alias `fast`
 * (`LM_MODEL_FAST=openai:gpt-4o-mini`) to a {@link LanguageModel} or an {@link EmbeddingModel}.
 */
import * as c from '../config/check.js';
import { AuthenticationError, ConfigError, ValidationError } from '../errors.js';
import { createAnthropic } from './anthropic.js';
import { createGoogle } from './google.js';
import { createOpenAI, createOpenAICompatible } from './openai.js';
import type { EmbeddingModel, EmbeddingModelOptions, FetchFunction, LanguageModel, ModelOptions } from './types.js';

/** Environment variables as a plain record (`process.env` under Node). */
export type Env = Record<string, string | undefined>;

/** Extra options of {@link resolveModel}. */
export interface ResolveOptions {
  /** Custom `fetch` given to the created provider. */
  fetch?: FetchFunction;
  /** Options of the created model (idle timeout, reasoning). */
  modelOptions?: ModelOptions;
}

/** Extra options of {@link resolveEmbeddingModel}. */
export interface ResolveEmbeddingOptions {
  /** Custom `fetch` given to the created provider. */
  fetch?: FetchFunction;
  /** Options of the created model (batch size, parallel calls). */
  modelOptions?: EmbeddingModelOptions;
}

const BUILT_IN = ['openai', 'openai-responses', 'anthropic', 'google'] as const;
const API_TYPES = ['openai', 'openai-responses', 'anthropic', 'google'] as const;
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
  const builtInPrefixes = new Set(BUILT_IN.map(envName));
  const custom = Object.keys(env)
    .filter((k) => k.endsWith('_API_BASE') && get(env, k) !== undefined)
    .map((k) => k.slice(0, -'_API_BASE'.length))
    .filter((prefix) => prefix !== '' && !builtInPrefixes.has(prefix))
    .map((prefix) => prefix.toLowerCase());
  return [...BUILT_IN, ...new Set(custom)];
}

/** A spec split into provider and model id, after following aliases. */
interface ParsedSpec {
  provider: string;
  modelId: string;
  spec: string;
}

function parseSpec(spec: string, env: Env): ParsedSpec {
  let current = spec.trim();
  for (let depth = 0; !current.includes(':'); depth++) {
    const aliasVar = `LM_MODEL_${envName(current)}`;
    const target = get(env, aliasVar);
    if (target === undefined) {
      if (current.toLowerCase() === 'mock') throw new ValidationError(MOCK_IS_NOT_A_STRING);
      throw new ValidationError(
        `Unknown model '${current}': use 'provider:model' (known providers: ${knownProviders(env).join(', ')}) ` +
          `or define the alias with ${aliasVar}=provider:model`,
      );
    }
    if (depth >= MAX_ALIAS_DEPTH) throw new ValidationError(`Model alias '${spec}' does not resolve (alias loop?)`);
    current = target.trim();
  }
  const colon = current.indexOf(':');
  const provider = current.slice(0, colon).trim().toLowerCase();
  const modelId = current.slice(colon + 1).trim();
  if (provider === '' || modelId === '') throw new ValidationError(`Invalid model spec '${current}': expected 'provider:model'`);
  return { provider, modelId, spec: current };
}

/** Where a built-in provider's key and base URL come from. */
const BUILT_IN_ENV = {
  openai: { keys: ['OPENAI_API_KEY'], bases: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'] },
  anthropic: { keys: ['ANTHROPIC_API_KEY'], bases: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_BASE'] },
  google: { keys: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'], bases: ['GOOGLE_API_BASE'] },
} as const;

function builtInSettings(env: Env, family: keyof typeof BUILT_IN_ENV, providerName: string, fetch?: FetchFunction) {
  const { keys, bases } = BUILT_IN_ENV[family];
  const apiKey = keys.map((k) => get(env, k)).find((v) => v !== undefined);
  if (apiKey === undefined) {
    throw new AuthenticationError(`No API key for provider '${providerName}': set the ${keys.join(' or ')} environment variable`);
  }
  const baseURL = bases.map((k) => get(env, k)).find((v) => v !== undefined);
  return { apiKey, baseURL, fetch };
}

/**
 * Why `'mock'` is not a model string: a mock model answers from a script, which a string cannot
 * carry, and a silent echo model would hide a missing provider in real code.
 */
const MOCK_IS_NOT_A_STRING =
  "'mock' is not a model string: a mock model answers from a script that a string cannot carry. " +
  "Pass mockModel([{ type: 'text', text: '…' }]) from 'lmthing' as the model instead (or define LM_MODEL_MOCK=provider:model).";

/** A custom provider's settings from `{NAME}_API_BASE`, `{NAME}_API_KEY` and `{NAME}_API_TYPE`. */
function customSettings(env: Env, parsed: ParsedSpec) {
  const prefix = envName(parsed.provider);
  const baseURL = get(env, `${prefix}_API_BASE`);
  if (baseURL === undefined) {
    if (parsed.provider === 'mock') throw new ValidationError(MOCK_IS_NOT_A_STRING);
    const known = knownProviders(env);
    const guess = c.nearest(parsed.provider, known);
    throw new ValidationError(
      `Unknown provider '${parsed.provider}' in model '${parsed.spec}'` +
        (guess ? ` (did you mean '${guess}'?)` : '') +
        `. Known providers: ${known.join(', ')}. ` +
        `To add an OpenAI-compatible server set ${prefix}_API_BASE (and ${prefix}_API_TYPE=openai, optionally ${prefix}_API_KEY).`,
    );
  }
  const type = (get(env, `${prefix}_API_TYPE`) ?? 'openai').toLowerCase();
  if (!(API_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(
      `Unsupported ${prefix}_API_TYPE '${type}' for provider '${parsed.provider}': use ${API_TYPES.map((t) => `'${t}'`).join(', ')}`,
    );
  }
  return { baseURL, apiKey: get(env, `${prefix}_API_KEY`), type: type as (typeof API_TYPES)[number] };
}

/**
 * Turns a model spec into a {@link LanguageModel}; a `LanguageModel` is returned as it is.
 *
 * - `openai:<model>` (Chat Completions) and `openai-responses:<model>` (Responses API) need
 *   `OPENAI_API_KEY`; base URL `OPENAI_BASE_URL` or `OPENAI_API_BASE` (optional).
 * - `anthropic:<model>` needs `ANTHROPIC_API_KEY`; base URL `ANTHROPIC_BASE_URL` or `ANTHROPIC_API_BASE`.
 * - `google:<model>` needs `GOOGLE_GENERATIVE_AI_API_KEY` or `GEMINI_API_KEY`; base URL `GOOGLE_API_BASE`.
 * - `<name>:<model>` uses `{NAME}_API_BASE`, optional `{NAME}_API_KEY`, and `{NAME}_API_TYPE`
 *   (`openai`, the default, for an OpenAI-compatible server; `openai-responses`, `anthropic` or `google`).
 * - A spec without `:` is an alias read from `LM_MODEL_<ALIAS>`.
 *
 * The model id is everything after the first `:` (so `ollama:gpt-oss:120b` works).
 * @throws AuthenticationError when a required key is missing (the message names the env var).
 * @throws ValidationError for an unknown provider or alias (the message lists the known providers).
 */
export function resolveModel(spec: string | LanguageModel, env: Env = defaultEnv(), options: ResolveOptions = {}): LanguageModel {
  c.checkOptions('resolveModel', options, { fetch: c.func, modelOptions: c.object });
  if (typeof spec !== 'string') {
    if (typeof (spec as Partial<LanguageModel> | null)?.generate !== 'function')
      throw new ConfigError(`resolveModel: expected a model spec ("openai:gpt-4o") or a LanguageModel (an object with generate()), got ${c.describe(spec)}`);
    return spec;
  }
  const parsed = parseSpec(spec, env);
  const { provider, modelId } = parsed;
  const fetch = options.fetch;
  const mo = options.modelOptions;
  if (provider === 'openai') return createOpenAI(builtInSettings(env, 'openai', provider, fetch)).chat(modelId, mo);
  if (provider === 'openai-responses') return createOpenAI(builtInSettings(env, 'openai', provider, fetch)).responses(modelId, mo);
  if (provider === 'anthropic') return createAnthropic(builtInSettings(env, 'anthropic', provider, fetch))(modelId, mo);
  if (provider === 'google') return createGoogle(builtInSettings(env, 'google', provider, fetch))(modelId, mo);
  const { baseURL, apiKey, type } = customSettings(env, parsed);
  switch (type) {
    case 'openai':
      return createOpenAICompatible({ name: provider, baseURL, apiKey, fetch })(modelId, mo);
    case 'openai-responses':
      return createOpenAICompatible({ name: provider, baseURL, apiKey, fetch }).responses(modelId, mo);
    case 'anthropic':
      return createAnthropic({ name: provider, apiKey, baseURL, fetch })(modelId, mo);
    case 'google':
      return createGoogle({ apiKey, baseURL, fetch })(modelId, mo);
  }
}

/**
 * Turns an embedding model spec into an {@link EmbeddingModel}; an `EmbeddingModel` is returned as
 * it is. `openai:text-embedding-3-small` (`/embeddings`), `google:gemini-embedding-001`
 * (`batchEmbedContents`), or `<name>:<model>` for an OpenAI-compatible server (`{NAME}_API_BASE`,
 * e.g. `ollama:nomic-embed-text`); keys and base URLs as for {@link resolveModel}, aliases from
 * `LM_MODEL_<ALIAS>`.
 * @throws AuthenticationError when a required key is missing.
 * @throws ValidationError for an unknown provider, or one without an embeddings API (Anthropic).
 */
export function resolveEmbeddingModel(
  spec: string | EmbeddingModel,
  env: Env = defaultEnv(),
  options: ResolveEmbeddingOptions = {},
): EmbeddingModel {
  c.checkOptions('resolveEmbeddingModel', options, { fetch: c.func, modelOptions: c.object });
  if (typeof spec !== 'string') {
    if (typeof (spec as Partial<EmbeddingModel> | null)?.embed !== 'function')
      throw new ConfigError(`resolveEmbeddingModel: expected a model spec ("openai:text-embedding-3-small") or an EmbeddingModel (an object with embed()), got ${c.describe(spec)}`);
    return spec;
  }
  const parsed = parseSpec(spec, env);
  const { provider, modelId } = parsed;
  const fetch = options.fetch;
  const mo = options.modelOptions;
  if (provider === 'openai' || provider === 'openai-responses') {
    return createOpenAI(builtInSettings(env, 'openai', provider, fetch)).embedding(modelId, mo);
  }
  if (provider === 'google') return createGoogle(builtInSettings(env, 'google', provider, fetch)).embedding(modelId, mo);
  const noEmbeddings = (name: string): ValidationError =>
    new ValidationError(`Provider '${name}' has no embeddings API: use openai:, google: or an OpenAI-compatible server for '${parsed.spec}'`);
  if (provider === 'anthropic') throw noEmbeddings(provider);
  const { baseURL, apiKey, type } = customSettings(env, parsed);
  if (type === 'anthropic') throw noEmbeddings(provider);
  if (type === 'google') return createGoogle({ apiKey, baseURL, fetch }).embedding(modelId, mo);
  return createOpenAICompatible({ name: provider, baseURL, apiKey, fetch }).embedding(modelId, mo);
}
