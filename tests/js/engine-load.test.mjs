// Loading the engine's files: the wasmUrl option, EngineLoadError (file, URLs tried, the option
// that fixes it), and configureDefaultEngine for the shared engine runPrompt uses.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ConfigError, configureDefaultEngine, countTokens, createEngine, Engine, EngineLoadError, fileStorage, indexedDBStorage, LmthingError, memoryStorage, mockModel, preload, redisStorage, runPrompt,
  StorageError, validate, VirtualClock,
} from '../../dist/node.js';
import { tempDir } from './helpers/temp-dir.mjs';

const wasmPath = fileURLToPath(new URL('../../dist/wasm/lmthing_core.wasm', import.meta.url));
const deferredPath = fileURLToPath(new URL('../../dist/wasm/lmthing_core.deferred.wasm', import.meta.url));

test('createEngine({ wasmUrl }) reads the wasm from that path or file: URL', async () => {
  for (const wasmUrl of [wasmPath, new URL(`file://${wasmPath}`)]) {
    const engine = await createEngine({ wasmUrl });
    assert.equal((await engine.request('engine.info')).protocol, 1);
  }
});

test('a missing wasm is an EngineLoadError naming the file, the path tried and the option', async () => {
  const err = await createEngine({ wasmUrl: '/nowhere/lmthing_core.wasm' }).catch((e) => e);
  assert.ok(err instanceof EngineLoadError && err instanceof LmthingError);
  assert.equal(err.code, 'ENGINE_LOAD');
  assert.equal(err.file, 'dist/wasm/lmthing_core.wasm');
  assert.deepEqual(err.urls, ['/nowhere/lmthing_core.wasm']);
  assert.match(err.message, /could not load dist\/wasm\/lmthing_core\.wasm from \/nowhere\/lmthing_core\.wasm: ENOENT/);
  assert.match(err.message, /wasmUrl/);
});

test('the two wasm files swapped, or the first given for both, are an EngineLoadError naming the file', async () => {
  const swapped = await createEngine({ wasmUrl: deferredPath, deferredWasm: wasmPath }).catch((e) => e);
  assert.ok(swapped instanceof EngineLoadError, String(swapped));
  assert.match(swapped.message, /the module given for it is lmthing_core\.deferred\.wasm, the engine's second half/);
  const engine = await createEngine({ wasmUrl: wasmPath, deferredWasm: wasmPath });
  const twice = await engine.prepareDeferredCode().catch((e) => e);
  assert.ok(twice instanceof EngineLoadError, String(twice));
  assert.match(twice.message, /lmthing_core\.deferred\.wasm from .*: it is not that file \(it looks like lmthing_core\.wasm/);
});

test('bad option combinations are refused before anything loads', async () => {
  const bytes = readFileSync(wasmPath);
  await assert.rejects(createEngine({ wasm: bytes, wasmUrl: wasmPath }), (e) => e instanceof EngineLoadError && /either `wasm` .* or `wasmUrl`/.test(e.message));
  await assert.rejects(createEngine({ wasmUrl: 42 }), (e) => e instanceof EngineLoadError && /`wasmUrl` must be a string or a URL, got number/.test(e.message));
  assert.throws(() => configureDefaultEngine({ glueUrl: {} }), EngineLoadError);
  // The bytes alone still work, as before.
  assert.equal((await (await createEngine({ wasm: bytes })).request('engine.info')).protocol, 1);
});

test('configureDefaultEngine: runs fail with its wrong wasmUrl, then load again once it is fixed', async () => {
  const model = () => mockModel([{ type: 'text', text: 'hi' }]);
  const prompt = (ctx) => ctx.$`hello`;
  configureDefaultEngine({ wasmUrl: '/nowhere/lmthing_core.wasm' });
  await assert.rejects(runPrompt(prompt, { model: model() }), (e) => e.code === 'ENGINE_LOAD');
  configureDefaultEngine({ wasmUrl: wasmPath });
  const { result } = await runPrompt(prompt, { model: model() });
  assert.equal(await result.text, 'hi');
  configureDefaultEngine({});
});

test('the wasm is compiled once per file: later engines from it only instantiate', async () => {
  const path = join(tempDir('lmthing-wasm-'), 'lmthing_core.wasm');
  copyFileSync(wasmPath, path);
  copyFileSync(deferredPath, path.replace(/\.wasm$/, '.deferred.wasm'));
  // Counts compilations through either API (node.ts compiles synchronously, with `new WebAssembly.Module`).
  const { compile, Module } = WebAssembly;
  let compiles = 0;
  WebAssembly.compile = (...args) => {
    compiles++;
    return compile.apply(WebAssembly, args);
  };
  WebAssembly.Module = class extends Module {
    constructor(bytes) {
      compiles++;
      super(bytes);
    }
  };
  try {
    const engines = await Promise.all([createEngine({ wasmUrl: path }), createEngine({ wasmUrl: path })]);
    engines.push(await createEngine({ wasmUrl: path }));
    assert.equal(compiles, 1);
    // Each engine is its own instance with its own loop and memory.
    const infos = await Promise.all(engines.map((engine) => engine.request('engine.info')));
    assert.deepEqual(infos.map((info) => info.protocol), [1, 1, 1]);
    assert.equal(new Set(engines).size, 3);
  } finally {
    Object.assign(WebAssembly, { compile, Module });
  }
});

test('bytes that are not a wasm module are an EngineLoadError naming where they came from, and are not cached', async () => {
  const path = join(tempDir('lmthing-wasm-'), 'lmthing_core.wasm');
  writeFileSync(path, '<!doctype html><title>index</title>');
  const err = await createEngine({ wasmUrl: path }).catch((e) => e);
  assert.ok(err instanceof EngineLoadError, String(err));
  assert.deepEqual(err.urls, [path]);
  assert.match(err.message, /not a valid WebAssembly module/);
  // Fixed on disk: the next attempt loads (the failure was not kept).
  copyFileSync(wasmPath, path);
  assert.equal((await (await createEngine({ wasmUrl: path })).request('engine.info')).protocol, 1);
  const fromBytes = await createEngine({ wasm: new TextEncoder().encode('not wasm') }).catch((e) => e);
  assert.ok(fromBytes instanceof EngineLoadError && /the bytes given as `wasm`: not a valid WebAssembly module/.test(fromBytes.message), String(fromBytes));
});

test('preload() readies the shared engine before the first run, rejects with the load error, and retries', async () => {
  configureDefaultEngine({ wasmUrl: '/nowhere/lmthing_core.wasm' });
  await assert.rejects(preload(), (e) => e instanceof EngineLoadError && e.urls[0] === '/nowhere/lmthing_core.wasm');
  configureDefaultEngine({ wasmUrl: wasmPath });
  const engine = await preload();
  assert.ok(engine instanceof Engine && engine.fault === null);
  assert.equal(await preload(), engine); // a second call is free: the same engine
  const { result } = await runPrompt((ctx) => ctx.$`hello`, { model: mockModel([{ type: 'text', text: 'ready' }]) });
  assert.equal(await result.text, 'ready');
  configureDefaultEngine({});
});

test('preload() warms the code on a throwaway engine: the shared engine gets no runs, events or metrics from it', async () => {
  const { instantiate } = WebAssembly;
  let instances = 0;
  WebAssembly.instantiate = (...args) => {
    instances++;
    return instantiate.apply(WebAssembly, args);
  };
  try {
    configureDefaultEngine({ wasmUrl: wasmPath }); // a configuration not warmed yet
    const engine = await preload();
    assert.equal(instances, 2); // the shared engine and the one the warm-up ran on
    const fresh = await createEngine({ wasmUrl: wasmPath });
    assert.deepEqual(await engine.request('metrics.read'), await fresh.request('metrics.read'));
    assert.equal(await preload(), engine);
    assert.equal(instances, 3); // `fresh`; a second preload() warms nothing again

    configureDefaultEngine({ wasmUrl: wasmPath });
    const unwarmed = await preload({ warmUp: false });
    assert.equal(instances, 4);
    assert.ok(unwarmed instanceof Engine && unwarmed !== engine);
  } finally {
    WebAssembly.instantiate = instantiate;
    configureDefaultEngine({});
  }
});

test('every other options object of the package refuses a misspelled key, naming the nearest one', async () => {
  const refused = (fn, where, key, meant) =>
    assert.throws(fn, (e) => e instanceof ConfigError && e.message.startsWith(`${where}: unknown option '${key}' (did you mean '${meant}'?`), `${where} ${key}`);
  // A misspelled wasmUrl used to be ignored: the engine then loaded from the default place, or not at all.
  await assert.rejects(createEngine({ wasmURL: wasmPath }), (e) => e instanceof ConfigError && /^createEngine: unknown option 'wasmURL' \(did you mean 'wasmUrl'\?/.test(e.message));
  refused(() => configureDefaultEngine({ wasmURL: wasmPath }), 'configureDefaultEngine', 'wasmURL', 'wasmUrl');
  refused(() => mockModel([{ type: 'text', text: 'x' }], { delayMS: 5 }), 'mockModel', 'delayMS', 'delayMs');
  refused(() => mockModel([{ type: 'text', text: 'x' }], { usage: { inputToken: 1 } }), 'mockModel: usage', 'inputToken', 'inputTokens');
  await assert.rejects(validate({ type: 'string' }, 'x', { engien: null }), (e) => e instanceof ConfigError && /^validate\(\): unknown option 'engien' \(did you mean 'engine'\?/.test(e.message));
  await assert.rejects(countTokens('openai:gpt-4o', 'hi', { engin: null }), (e) => e instanceof ConfigError && /^countTokens\(\): unknown option 'engin' \(did you mean 'engine'\?/.test(e.message));
  assert.throws(() => new VirtualClock({ start: 5 }), (e) => e instanceof ConfigError && /VirtualClock: the start time must be a finite number of milliseconds, got an object/.test(e.message));
  // Storage adapters refuse theirs as their other bad arguments: a StorageError STORAGE_BAD_ARGUMENT.
  for (const [make, where, key, meant] of [
    [() => memoryStorage({ clok: new VirtualClock() }), 'memoryStorage', 'clok', 'clock'],
    [() => fileStorage(join(tmpdir(), 'lm-never-created'), { lockTimeout: 5 }), 'fileStorage', 'lockTimeout', 'lockTimeoutMs'],
    [() => redisStorage({ ulr: 'redis://127.0.0.1:1' }), 'redisStorage', 'ulr', 'url'],
  ]) {
    assert.throws(make, (e) => e instanceof StorageError && e.code === 'STORAGE_BAD_ARGUMENT' && e.message.startsWith(`${where}: unknown option '${key}' (did you mean '${meant}'?`), where);
  }
  // ... and a known option of the wrong type (these were taken and failed later, or never).
  for (const [make, message] of [
    [() => memoryStorage({ clock: 5 }), "memoryStorage: option 'clock' must be a clock, an object with now() returning ms, got 5"],
    [() => fileStorage(join(tmpdir(), 'lm-never-created'), { durable: 'yes' }), `fileStorage: option 'durable' must be true or false, got "yes"`],
    [() => fileStorage(join(tmpdir(), 'lm-never-created'), { lockTimeoutMs: -5 }), "fileStorage: option 'lockTimeoutMs' must be a number >= 0, got -5"],
    [() => indexedDBStorage('db', { indexedDB: {} }), "indexedDBStorage: option 'indexedDB' must be an IDBFactory (such as the global indexedDB), got object"],
  ]) {
    assert.throws(make, (e) => e instanceof StorageError && e.code === 'STORAGE_BAD_ARGUMENT' && e.message === message, message);
  }
  // What is right still works.
  assert.equal((await validate({ type: 'string' }, 'x', { engine: undefined })).valid, true);
  assert.equal(new VirtualClock(5).now(), 5);
});

test('preload() refuses an unknown option with a suggestion, and a wrong type', async () => {
  await assert.rejects(preload({ warmup: true }), (e) => e instanceof ConfigError && /unknown option 'warmup' \(did you mean 'warmUp'\?/.test(e.message));
  await assert.rejects(preload({ warmUp: 'yes' }), (e) => e instanceof ConfigError && /'warmUp' must be true or false/.test(e.message));
  await assert.rejects(preload('fast'), ConfigError);
});
