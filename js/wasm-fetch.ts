/**
 * How the browser entry gets the engine's two wasm modules: fetched and compiled while they
 * download, once per URL for the page's lifetime (js/wasm-module.ts), and, for the deferred module,
 * synchronously when a call needs it before its background fetch finished (js/split-code.ts).
 */
import type { CreateEngineOptions } from './engine-options.js';
import { deferredPlace, loadFailure, notCompiled } from './engine-options.js';
import { DEFERRED_WASM_FILE, type DeferredSource } from './split-code.js';
import { compiledModule } from './wasm-module.js';

export const NOT_WASM = 'not a WebAssembly module (it does not start with \\0asm)';

/** Fetches and compiles `url`; what fails is a load error naming `file`, `url` and `fix`. */
export async function fetchAndCompile(url: string, file: string, fix: string): Promise<WebAssembly.Module> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw loadFailure(file, [url], describe(err), fix, err);
  }
  if (!response.ok) throw loadFailure(file, [url], `HTTP ${response.status}`, fix);
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (err) {
      throw notCompiled(file, url, fix, err);
    }
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  // A dev server or an SPA fallback may answer a missing file with its index.html.
  if (!isWasm(bytes)) throw loadFailure(file, [url], `${NOT_WASM} (got ${contentType || 'no content type'})`, fix);
  return WebAssembly.compile(bytes);
}

/** Deferred modules compiled so far, by URL: what a synchronous load can use at once. */
const compiledDeferred = new Map<string, WebAssembly.Module>();

/**
 * Where the engine's deferred code comes from in a browser: `deferredWasm`, else next to `wasmUrl`,
 * else the package's file (a literal URL, so bundlers emit it). Nothing when only bytes were given.
 */
export function browserDeferredSource(options: CreateEngineOptions): DeferredSource | undefined {
  const place = deferredPlace(options);
  if (!place) return undefined;
  if ('bytes' in place) {
    const bytes = place.bytes instanceof Uint8Array ? place.bytes : new Uint8Array(place.bytes);
    const where = 'the bytes given as `deferredWasm`';
    let module: WebAssembly.Module | undefined;
    const check = () => {
      if (!isWasm(bytes)) throw loadFailure(DEFERRED_WASM_FILE, [where], NOT_WASM, 'Pass the bytes of lmthing_core.deferred.wasm');
    };
    return {
      where,
      moduleNow: () => (check(), (module ??= new WebAssembly.Module(bytes as BufferSource))),
      prepare: async () => (check(), (module ??= await WebAssembly.compile(bytes as BufferSource))),
    };
  }
  // The literal `new URL(..., import.meta.url)` is what Vite and webpack recognise as an asset.
  const at = place.at ?? new URL('./wasm/lmthing_core.deferred.wasm', import.meta.url);
  const url = new URL(String(at), pageBase()).href;
  const fix = place.given
    ? 'Check that the URL given as `deferredWasm` serves that file (see docs/bundlers.md)'
    : 'Serve it next to lmthing_core.wasm, or pass its URL as createEngine({ deferredWasm }) (see docs/bundlers.md)';
  return {
    where: url,
    moduleNow: () => compiledDeferred.get(url) ?? remember(url, compileSync(fetchSync(url, fix), url, fix)),
    prepare: async () => compiledDeferred.get(url) ?? remember(url, await compiledModule(url, () => fetchAndCompile(url, DEFERRED_WASM_FILE, fix))),
  };
}

function remember(url: string, module: WebAssembly.Module): WebAssembly.Module {
  if (!compiledDeferred.has(url)) compiledDeferred.set(url, module);
  return compiledDeferred.get(url)!;
}

/**
 * The file's bytes by a synchronous request: the only way a call inside an engine turn can get
 * them. A page cannot ask a synchronous request for bytes, so the text comes as "x-user-defined"
 * (each byte one character in U+0000–U+00FF); a worker can.
 */
function fetchSync(url: string, fix: string): Uint8Array {
  if (typeof XMLHttpRequest === 'undefined') {
    throw loadFailure(DEFERRED_WASM_FILE, [url], 'this environment has no synchronous request to load it while the engine runs', 'Call preload() (or, for an engine of your own, await engine.prepareDeferredCode()) before the first run that needs it');
  }
  const request = new XMLHttpRequest();
  const inPage = typeof document !== 'undefined';
  try {
    request.open('GET', url, false);
    if (inPage) request.overrideMimeType('text/plain; charset=x-user-defined');
    else request.responseType = 'arraybuffer';
    request.send();
  } catch (err) {
    throw loadFailure(DEFERRED_WASM_FILE, [url], describe(err), fix, err);
  }
  if (request.status < 200 || request.status >= 300) throw loadFailure(DEFERRED_WASM_FILE, [url], `HTTP ${request.status}`, fix);
  if (!inPage) return new Uint8Array(request.response as ArrayBuffer);
  const text = request.responseText;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

function compileSync(bytes: Uint8Array, url: string, fix: string): WebAssembly.Module {
  if (!isWasm(bytes)) throw loadFailure(DEFERRED_WASM_FILE, [url], NOT_WASM, fix);
  try {
    return new WebAssembly.Module(bytes as BufferSource);
  } catch (err) {
    throw notCompiled(DEFERRED_WASM_FILE, url, fix, err);
  }
}

/** Whether `bytes` start with the wasm magic number. */
export function isWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}

/** Where relative URLs resolve: the page, the worker's script, or else this module. */
export function pageBase(): string {
  if (typeof document !== 'undefined') return document.baseURI;
  return typeof location !== 'undefined' ? location.href : import.meta.url;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
