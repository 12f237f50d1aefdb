/**
 * Node entry point (`exports["."].node`): loads the wasm from disk through the Node glue
 * (Emscripten's CommonJS glue made an ES module by scripts/node-glue.mjs; its ES-module glue does
 * not run under Node, and `fetch` of a file path fails, so the bytes are read and compiled here,
 * once per file: js/wasm-module.ts). Both files are referenced literally (`import()` and
 * `new URL(..., import.meta.url)`) so server bundles (webpack, Next.js) carry them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { setDefaultEngineFactory } from './default-engine.js';
import { Engine } from './engine.js';
import { checkEngineOptions, deferredPlace, loadFailure, notCompiled, WASM_FILE, type CreateEngineOptions } from './engine-options.js';
import { terminalApprover } from './prompt/terminal.js';
import { EngineHost } from './run/host.js';
import { installStorageHost } from './storage/host.js';
import { installTokenizerHost } from './tokens/tokenizer-host.js';
import { compiledModule } from './wasm-module.js';
import { DEFERRED_WASM_FILE, type DeferredSource } from './split-code.js';
import { setLogFileOpener } from './observe/logger.js';
import { setOpScopeStorage, type OpScope } from './run/op-scope.js';

// defLogger's file output: one append per record (O_APPEND), so writers sharing a file never split a line.
setLogFileOpener((path) => ({ write: (line) => appendFileSync(path, line) }));
// What a callback starts through ctx (runTool, runAgent ...) is cancelled with the callback's op.
const opScopes = new AsyncLocalStorage<OpScope>();
setOpScopeStorage({ run: (scope, fn) => opScopes.run(scope, fn), current: () => opScopes.getStore() });

export * from './common.js';
export type { CreateEngineOptions } from './engine-options.js';
export { fileStorage } from './storage/file.js';
export { redisStorage } from './storage/redis.js';

/** Loads and starts an engine. Each engine is an independent wasm instance with its own loop. */
export async function createEngine(options: CreateEngineOptions = {}): Promise<Engine> {
  checkEngineOptions(options);
  // The glue's import starts first, so its file is read while the wasm is read and compiled.
  const [glue, compiled] = await Promise.all([import('./wasm/lmthing_core.node.mjs'), wasmModule(options)]);
  const engine = await Engine.create(glue.default, compiled, { clock: options.clock, limits: options.limits, deferred: deferredSource(options) });
  installStorageHost(engine); // storage.* ops, with the engine's own "memory" storage
  const rankFile = (encoding: string) => rankFileUrl(options.tokenizersUrl, encoding);
  installTokenizerHost(engine, (encoding) => readFile(rankFile(encoding)), (encoding) => fileURLToPath(rankFile(encoding)));
  // Approvals without an onApproval handler are asked on the terminal when there is one.
  EngineHost.of(engine).human.terminal = terminalApprover();
  return engine;
}

/**
 * The compiled engine module: compiled once per file (or bytes object) and reused by later engines.
 * Read and compiled synchronously, once per process: that blocks this thread ≈ 40 ms, where the
 * asynchronous read and compile took ≈ 60 ms to finish at start-up, ≈ 20 ms of it on this thread
 * anyway and the rest waiting for the compile threads (bench/README.md, "Browser cold start and
 * shipped size").
 */
async function wasmModule(options: CreateEngineOptions): Promise<WebAssembly.Module> {
  const source = options.wasm;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    return compiledModule(source, () => compileOrExplain(source, 'the bytes given as `wasm`', 'Pass the bytes of lmthing_core.wasm'));
  }
  const where = options.wasmUrl ?? source ?? new URL('./wasm/lmthing_core.wasm', import.meta.url);
  const path = where instanceof URL || where.startsWith('file:') ? fileURLToPath(where) : where;
  const fix = options.wasmUrl === undefined && source === undefined
    ? 'The package is incomplete, or a bundler left the file behind: pass its path as createEngine({ wasmUrl }) (see docs/bundlers.md)'
    : 'Check the path given as `wasmUrl`';
  return compiledModule(path, () => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw loadFailure(WASM_FILE, [path], (err as Error).message, fix, err);
    }
    return compileOrExplain(bytes, path, fix);
  });
}

/** Compiles the bytes; bytes that are not a wasm module are a load error naming where they came from. */
function compileOrExplain(bytes: Uint8Array | ArrayBuffer, from: string, fix: string, file = WASM_FILE): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as BufferSource);
  } catch (err) {
    throw notCompiled(file, from, fix, err);
  }
}

/** Deferred modules compiled so far, by path and by the caller's bytes object: compiled once per process. */
const deferredByPath = new Map<string, WebAssembly.Module>();
const deferredByBytes = new WeakMap<object, WebAssembly.Module>();

/**
 * Where the engine's deferred code is read from: `deferredWasm`, else next to the primary module's
 * path, else the package's file. Read and compiled synchronously on first use (≈ 30 ms, once per
 * process): the call that needs it is inside an engine turn; `preload()` reads and compiles it asynchronously.
 * Nothing when only bytes were given.
 */
function deferredSource(options: CreateEngineOptions): DeferredSource | undefined {
  const place = deferredPlace(options);
  if (!place) return undefined;
  if ('bytes' in place) {
    const { bytes } = place;
    const where = 'the bytes given as `deferredWasm`';
    const moduleNow = () => cachedDeferred(bytes, () => compileOrExplain(bytes, where, 'Pass the bytes of lmthing_core.deferred.wasm', DEFERRED_WASM_FILE));
    return { where, moduleNow, prepare: () => new Promise((resolve) => resolve(moduleNow())) };
  }
  const at = place.at ?? new URL('./wasm/lmthing_core.deferred.wasm', import.meta.url);
  const path = at instanceof URL || at.startsWith('file:') ? fileURLToPath(at) : at;
  const fix = place.given ? 'Check the path given as `deferredWasm`' : 'Keep it next to lmthing_core.wasm, or pass its path as createEngine({ deferredWasm }) (see docs/bundlers.md)';
  const unreadable = (err: unknown) => loadFailure(DEFERRED_WASM_FILE, [path], (err as Error).message, fix, err);
  const moduleNow = () => cachedDeferred(path, () => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw unreadable(err);
    }
    return compileOrExplain(bytes, path, fix, DEFERRED_WASM_FILE);
  });
  // Ahead of use (preload(), which a server calls at start-up), the read and the compile are asynchronous.
  const prepare = async (): Promise<WebAssembly.Module> => {
    const cached = deferredByPath.get(path);
    if (cached) return cached;
    const bytes = await readFile(path).catch((err: unknown) => {
      throw unreadable(err);
    });
    const module = await WebAssembly.compile(bytes as BufferSource).catch((err: unknown) => {
      throw notCompiled(DEFERRED_WASM_FILE, path, fix, err);
    });
    return cachedDeferred(path, () => module);
  };
  return { where: path, moduleNow, prepare };
}

function cachedDeferred(key: string | object, compile: () => WebAssembly.Module): WebAssembly.Module {
  const cache = (typeof key === 'string' ? deferredByPath : deferredByBytes) as Map<string | object, WebAssembly.Module>;
  let module = cache.get(key);
  if (!module) {
    module = compile();
    cache.set(key, module);
  }
  return module;
}

/** The rank file of `encoding`: in `tokenizersUrl` (a folder) when given, else dist/tokenizers/. */
function rankFileUrl(folder: CreateEngineOptions['tokenizersUrl'], encoding: string): URL {
  if (folder !== undefined) {
    const href = folder instanceof URL ? folder.href : folder.startsWith('file:') ? folder : pathToFileURL(folder).href;
    return new URL(`${encoding}.bpe`, href.endsWith('/') ? href : `${href}/`);
  }
  // Literal URLs, so server bundles carry the files.
  return encoding === 'cl100k_base' ? new URL('./tokenizers/cl100k_base.bpe', import.meta.url) : new URL('./tokenizers/o200k_base.bpe', import.meta.url);
}

setDefaultEngineFactory(createEngine);
