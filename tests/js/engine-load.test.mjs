// Loading the engine's files: the wasmUrl option, EngineLoadError (file, URLs tried, the option
// that fixes it), and configureDefaultEngine for the shared engine runPrompt uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { configureDefaultEngine, createEngine, EngineLoadError, LmthingError, mockModel, runPrompt } from '../../dist/node.js';

const wasmPath = fileURLToPath(new URL('../../dist/wasm/lmthing_core.wasm', import.meta.url));

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
