/**
 * The options of `createEngine`, shared by the Node and browser entry points, and the checks on
 * them that do not depend on the platform.
 */
import * as c from './config/check.js';
import type { HostClock } from './clock.js';
import type { EngineLimits } from './engine.js';
import { ConfigError, EngineLoadError } from './errors.js';
import { DEFERRED_WASM_FILE, deferredBeside } from './split-code.js';

/** Options of `createEngine` (and of {@link configureDefaultEngine}). */
export interface CreateEngineOptions {
  /**
   * The wasm module itself: its bytes, or (as before `wasmUrl` existed) its URL or path. Give
   * either this or `wasmUrl`.
   */
  wasm?: Uint8Array | ArrayBuffer | URL | string;
  /**
   * Where to fetch `lmthing_core.wasm` from when the bundler did not emit it next to the code
   * (esbuild, a CDN, a page without a bundler that serves the file elsewhere). Under Node: a file
   * path or `file:` URL. Relative URLs resolve against the page.
   */
  wasmUrl?: URL | string;
  /**
   * The engine's second wasm file, `lmthing_core.deferred.wasm` (the code a first request does not
   * run, loaded on first use: docs/bundlers.md): its bytes, URL or path. By default it is read from
   * next to `lmthing_core.wasm` (`wasmUrl` with `.deferred.wasm` for `.wasm`). Needed with `wasm`
   * bytes, which have no location.
   */
  deferredWasm?: Uint8Array | ArrayBuffer | URL | string;
  /**
   * Browser only: where to import the ES-module glue `lmthing_core.mjs` from, when it is not
   * bundled with the code (the glue is a static `import()` that bundlers follow by themselves).
   */
  glueUrl?: URL | string;
  /**
   * Where the BPE rank files `o200k_base.bpe` and `cl100k_base.bpe` are (a folder URL or path; by
   * default `dist/tokenizers/` next to the package code). Read only when an exact token count of an
   * OpenAI model is needed (`countTokens`, `defContext`).
   */
  tokenizersUrl?: URL | string;
  /** The engine's time; pass `new VirtualClock()` in tests so timers complete at once in virtual time. */
  clock?: HostClock;
  /** Limits on what crosses into the engine (docs/limits.md); the engine's defaults when left out. */
  limits?: EngineLimits;
}

/** The package file names, as error messages and docs name them. */
export const WASM_FILE = 'dist/wasm/lmthing_core.wasm';
export const GLUE_FILE = 'dist/wasm/lmthing_core.mjs';
export const TOKENIZERS_DIR = 'dist/tokenizers/';

/** Throws on an unknown option (ConfigError, with the nearest known one) and on combinations that cannot mean anything. */
export function checkEngineOptions(options: CreateEngineOptions, where = 'createEngine'): void {
  c.checkOptions(where, options, { wasm: wasmSource, wasmUrl: c.anything, deferredWasm: c.anything, glueUrl: c.anything, tokenizersUrl: c.anything, clock: hostClock, limits: c.object });
  if (options === undefined) return;
  // limits: an unknown (misspelt) limit would be ignored; the engine checks the values' ranges.
  c.checkOptions(`${where}: limits`, options.limits, { jsonDepth: (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : "an integer from 1 to the engine's maximum") }, 'limit');
  if (options.wasm !== undefined && options.wasmUrl !== undefined)
    throw new EngineLoadError('createEngine: give either `wasm` (the bytes) or `wasmUrl` (where to fetch them), not both', WASM_FILE, []);
  const deferred = options.deferredWasm;
  if (deferred !== undefined && typeof deferred !== 'string' && !(deferred instanceof URL) && !(deferred instanceof Uint8Array) && !(deferred instanceof ArrayBuffer))
    throw new EngineLoadError(`createEngine: \`deferredWasm\` must be the bytes (a Uint8Array or ArrayBuffer), a string or a URL, got ${typeof deferred}`, DEFERRED_WASM_FILE, []);
  for (const key of ['wasmUrl', 'glueUrl', 'tokenizersUrl'] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'string' && !(value instanceof URL))
      throw new EngineLoadError(`createEngine: \`${key}\` must be a string or a URL, got ${typeof value}`, key === 'wasmUrl' ? WASM_FILE : key === 'glueUrl' ? GLUE_FILE : TOKENIZERS_DIR, []);
  }
}

const wasmSource: c.Check = (v) =>
  v instanceof Uint8Array || v instanceof ArrayBuffer || v instanceof URL || typeof v === 'string' ? undefined : 'the module\'s bytes (a Uint8Array or ArrayBuffer), or its URL or path';

/** A clock the engine can use: `now()`, `setTimer(ms, fire)`, `clearTimer(handle)` (realClock, a VirtualClock). */
const hostClock: c.Check = (v) => {
  const clock = v as Record<string, unknown> | null;
  return typeof clock === 'object' && clock !== null && ['now', 'setTimer', 'clearTimer'].every((m) => typeof clock[m] === 'function')
    ? undefined
    : 'a clock with now(), setTimer(ms, fire) and clearTimer(handle) (realClock or a VirtualClock)';
};

/**
 * Where the options put the engine's deferred module (docs/bundlers.md, "Two wasm files"): its
 * bytes; or where to read it, `deferredWasm` (`given`) or next to `wasmUrl`, with `at` undefined
 * for the package's own file (each entry names that by a literal URL, which bundlers follow); or
 * nowhere (`undefined`) when only the first module's bytes were given.
 */
export type DeferredPlace = { bytes: Uint8Array | ArrayBuffer } | { at: string | URL | undefined; given: boolean };

export function deferredPlace(options: CreateEngineOptions): DeferredPlace | undefined {
  const given = options.deferredWasm;
  if (given instanceof Uint8Array || given instanceof ArrayBuffer) return { bytes: given };
  if (given !== undefined) return { at: given, given: true };
  const primary = options.wasmUrl ?? options.wasm;
  if (primary instanceof Uint8Array || primary instanceof ArrayBuffer) return undefined;
  return { at: primary === undefined ? undefined : deferredBeside(String(primary)), given: false };
}

/** The load error for bytes from `from` that do not compile as a wasm module. */
export function notCompiled(file: string, from: string, fix: string, err: unknown): EngineLoadError {
  return loadFailure(file, [from], `not a valid WebAssembly module (${err instanceof Error ? err.message : String(err)})`, fix, err);
}

/** "Failed to load <file> from <urls>: <why>. <fix>" in one place so every load error reads alike. */
export function loadFailure(file: string, urls: string[], why: string, fix: string, cause?: unknown): EngineLoadError {
  return new EngineLoadError(`lmthing could not load ${file} from ${urls.join(', ')}: ${why}. ${fix}`, file, urls, { cause });
}

/**
 * Refuses a value that is not an engine (one `createEngine` made): it would fail later as "x is not
 * a function". Read by its methods, so an engine of another copy of the package passes.
 */
export function checkEngine(value: unknown, where: string): void {
  const engine = value as Record<string, unknown> | null;
  if (typeof engine !== 'object' || engine === null || !['request', 'startRun', 'registerOpHandler'].every((m) => typeof engine[m] === 'function'))
    throw new ConfigError(`${where}: expected an engine (from createEngine), got ${c.describe(value)}`);
}
