/**
 * Browser entry point (`exports["."].default`). The engine's two files are referenced the way
 * bundlers follow by themselves: the glue is a static `import()` (bundled with the code) and the
 * wasm is `new URL('./wasm/lmthing_core.wasm', import.meta.url)` (emitted as an asset by Vite and
 * webpack; served next to this file without a bundler). Where neither holds (esbuild, a CDN), the
 * `wasmUrl` / `glueUrl` options say where the files are (docs/bundlers.md).
 */
import { setDefaultEngineFactory } from './default-engine.js';
import { Engine, type CoreFactory } from './engine.js';
import { checkEngineOptions, GLUE_FILE, loadFailure, WASM_FILE, type CreateEngineOptions } from './engine-options.js';
import { installStorageHost } from './storage/host.js';
import { installTokenizerHost } from './tokens/tokenizer-host.js';
import { compiledModule } from './wasm-module.js';
import { browserDeferredSource, describe, fetchAndCompile, isWasm, NOT_WASM, pageBase } from './wasm-fetch.js';

export * from './common.js';
export type { CreateEngineOptions } from './engine-options.js';
export { fileStorage, redisStorage } from './storage/unsupported.js';

/** Loads and starts an engine. Each engine is an independent wasm instance with its own loop. */
export async function createEngine(options: CreateEngineOptions = {}): Promise<Engine> {
  checkEngineOptions(options);
  const [factory, compiled] = await Promise.all([loadGlue(options.glueUrl), wasmModule(options)]);
  const deferred = browserDeferredSource(options);
  const engine = await Engine.create(factory, compiled, { clock: options.clock, limits: options.limits, deferred });
  // The deferred code is fetched and compiled in the background once the first work is done (or
  // after a few seconds without any), so that it neither slows the first run down nor, usually,
  // has to be loaded synchronously by the call that needs it (js/split-code.ts).
  if (deferred) {
    const prefetch = () => void engine.prepareDeferredCode().catch(() => undefined);
    engine.onceIdle(() => whenPageIdle(prefetch));
    setTimeout(() => whenPageIdle(prefetch), PREFETCH_AFTER_MS);
  }
  installStorageHost(engine); // storage.* ops, with the engine's own "memory" storage
  const rankFile = (encoding: string) => rankFileUrl(options.tokenizersUrl, encoding);
  installTokenizerHost(engine, async (encoding) => {
    const response = await fetch(rankFile(encoding));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }, rankFile);
  return engine;
}

async function loadGlue(glueUrl: CreateEngineOptions['glueUrl']): Promise<CoreFactory> {
  try {
    if (glueUrl === undefined) return (await import('./wasm/lmthing_core.mjs')).default;
    const url = new URL(String(glueUrl), pageBase()).href;
    const glue = (await import(/* webpackIgnore: true */ /* @vite-ignore */ url)) as { default?: unknown };
    if (typeof glue.default !== 'function') throw new TypeError('the module has no default-exported factory (is it lmthing_core.mjs?)');
    return glue.default as CoreFactory;
  } catch (err) {
    const tried = glueUrl === undefined ? "./wasm/lmthing_core.mjs next to lmthing's code" : new URL(String(glueUrl), pageBase()).href;
    const served = glueUrl === undefined ? undefined : await servedAs(tried);
    throw loadFailure(GLUE_FILE, [tried], describe(err) + (served ?? ''), 'Serve that file as JavaScript (text/javascript) and pass its URL as createEngine({ glueUrl }) (see docs/bundlers.md)', err);
  }
}

/**
 * Why a module import of `url` may have failed when the file is there: the browser refuses a
 * module script served with another content type, and says so only in its console.
 */
async function servedAs(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url);
    void response.body?.cancel();
    const type = response.headers.get('content-type') ?? 'no content type';
    if (response.ok && !/javascript|ecmascript/i.test(type)) return ` (the server answers it with ${type}; a module script must be served as text/javascript)`;
  } catch {
    // not reachable at all: the import's own error says enough
  }
  return undefined;
}

/**
 * The compiled engine module, once per URL (or bytes object) for the page's lifetime. Served as
 * `application/wasm`, it is compiled while it downloads (`compileStreaming`).
 */
async function wasmModule(options: CreateEngineOptions): Promise<WebAssembly.Module> {
  const source = options.wasm;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    if (!isWasm(bytes)) throw loadFailure(WASM_FILE, ['the bytes given as `wasm`'], NOT_WASM, 'Pass the bytes of lmthing_core.wasm');
    return compiledModule(source, () => WebAssembly.compile(bytes as BufferSource));
  }
  // The literal `new URL(..., import.meta.url)` is what Vite and webpack recognise as an asset.
  const url = new URL(String(options.wasmUrl ?? source ?? new URL('./wasm/lmthing_core.wasm', import.meta.url)), pageBase()).href;
  const fix = options.wasmUrl === undefined && source === undefined
    ? 'Copy that file where your app serves it and pass its URL as createEngine({ wasmUrl }) or configureDefaultEngine({ wasmUrl }) (see docs/bundlers.md)'
    : 'Check that the URL serves that file (see docs/bundlers.md)';
  return compiledModule(url, () => fetchAndCompile(url, WASM_FILE, fix));
}

/** The rank file of `encoding`: in `tokenizersUrl` (a folder) when given, else next to this module. */
function rankFileUrl(folder: CreateEngineOptions['tokenizersUrl'], encoding: string): string {
  if (folder !== undefined) {
    const base = new URL(String(folder), pageBase()).href;
    return new URL(`${encoding}.bpe`, base.endsWith('/') ? base : `${base}/`).href;
  }
  // Literal URLs: what bundlers recognise as assets (fetched only when a count needs them).
  return (encoding === 'cl100k_base' ? new URL('./tokenizers/cl100k_base.bpe', import.meta.url) : new URL('./tokenizers/o200k_base.bpe', import.meta.url)).href;
}

/** When an engine that ran nothing yet fetches its deferred code anyway. */
const PREFETCH_AFTER_MS = 3000;

/** Runs `task` when the page is idle (at the latest after a second), or soon where there is no idle callback. */
function whenPageIdle(task: () => unknown): void {
  const idle = (globalThis as { requestIdleCallback?: (callback: () => void, options: { timeout: number }) => number }).requestIdleCallback;
  if (idle) idle(() => void task(), { timeout: 1000 });
  else setTimeout(() => void task(), 0);
}

setDefaultEngineFactory(createEngine);
