// The engine as two wasm files (scripts/split-wasm.mjs, js/split-code.ts): what a first request runs
// is in lmthing_core.wasm; the rest loads from lmthing_core.deferred.wasm on first use, and a missing
// or mismatched deferred file is an EngineLoadError that says which file and which option.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createEngine, EngineError, EngineLoadError, L, mockModel, preload, ProviderError, run, runPrompt } from '../../dist/node.js';
import { tempDir } from './helpers/temp-dir.mjs';

const wasmPath = fileURLToPath(new URL('../../dist/wasm/lmthing_core.wasm', import.meta.url));
const deferredPath = fileURLToPath(new URL('../../dist/wasm/lmthing_core.deferred.wasm', import.meta.url));

/** A run whose state store is deferred code (no first request uses defState). */
async function stateRun(engine) {
  const { result } = await runPrompt((ctx) => {
    const count = ctx.defState('count', 41);
    ctx.$`The count is ${count}.`;
  }, { model: mockModel([{ type: 'text', text: 'counted' }]), engine });
  return result.text;
}

test('the two files carry one build id, and the first file imports the second one\'s functions as placeholders', () => {
  const primary = new WebAssembly.Module(readFileSync(wasmPath));
  const deferred = new WebAssembly.Module(readFileSync(deferredPath));
  const id = (module) => Buffer.from(WebAssembly.Module.customSections(module, 'lmthing.build')[0] ?? []).toString();
  assert.match(id(primary), /^[0-9a-f]{32}$/);
  assert.equal(id(deferred), id(primary));
  const placeholders = WebAssembly.Module.imports(primary).filter((entry) => entry.module === 'placeholder');
  assert.ok(placeholders.length > 100, `${placeholders.length} placeholders`);
  assert.ok(WebAssembly.Module.imports(deferred).every((entry) => entry.module === 'primary'));
  // The point of the split: the first file is the smaller part.
  assert.ok(readFileSync(wasmPath).length * 2 < readFileSync(deferredPath).length);
});

test('the functions the deferred file calls are handed over through the table, not exported (an export costs V8 a wrapper compile)', () => {
  const primary = new WebAssembly.Module(readFileSync(wasmPath));
  const deferred = new WebAssembly.Module(readFileSync(deferredPath));
  const { base, names } = JSON.parse(Buffer.from(WebAssembly.Module.customSections(primary, 'lmthing.shared')[0]).toString());
  const exported = new Set(WebAssembly.Module.exports(primary).map((entry) => entry.name));
  const called = WebAssembly.Module.imports(deferred).filter((entry) => entry.kind === 'function').map((entry) => entry.name);
  assert.ok(names.length > 100, `${names.length} shared functions`);
  assert.ok(Number.isInteger(base) && base > 0);
  assert.deepEqual(names.filter((name) => exported.has(name)), []);
  // Every function the deferred file imports comes from one of the two.
  assert.deepEqual(called.filter((name) => !exported.has(name) && !names.includes(name)), []);
  assert.ok(exported.size < 60, `${exported.size} exports: only the glue's`);
});

test('a first request (a prompt with a tool call, a directive reply, branches) runs without the deferred code; a state store loads it', async () => {
  const engine = await createEngine();
  const tool = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('inc', 'Adds one', tool, ({ n }) => ({ n: n + 1 }));
    ctx.$`Add one to 1.`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'inc', args: { n: 1 } }, { type: 'text', text: 'two' }]), engine });
  assert.equal(await result.text, 'two');
  assert.deepEqual((await result.steps)[0].toolResults[0].result, { n: 2 });
  const reply = await run(function* () {
    yield* L.user`Hi.`;
    return (yield* L.reply).value;
  }, { models: { default: mockModel([{ type: 'text', text: 'hello' }]) }, engine });
  assert.equal(reply, 'hello');
  // A fan-out (the Liminal doc's parallel branches) is a first request too.
  const answers = await run(function* () {
    return yield* L.branch([1, 2, 3].map((n) => function* () {
      yield* L.user`Branch ${n}.`;
      return (yield* L.reply).value;
    }));
  }, { models: { default: { provider: 'test', modelId: 'echo', generate: async (req) => ({ content: [{ type: 'text', text: `re ${req.messages.at(-1).content}` }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) } }, engine });
  assert.deepEqual(answers, ['re Branch 1.', 're Branch 2.', 're Branch 3.']);
  assert.equal(engine.deferredCodeLoaded, false);

  assert.equal(await stateRun(engine), 'counted');
  assert.equal(engine.deferredCodeLoaded, true);
  // Later runs, and the first request's kind again, go on in the same engine.
  assert.equal(await stateRun(engine), 'counted');
  assert.equal(engine.fault, null);
});

test("the first request's kinds of run at scale and on their error paths run without the deferred code too", async () => {
  // Before, 1,000 branches (a deque's growth, four-digit numbers) or a text long enough to cross as
  // a blob loaded the whole deferred file for half a KB of code, and so did a tool that threw.
  const engine = await createEngine();
  const echo = { provider: 'test', modelId: 'echo', generate: async (req) => ({ content: [{ type: 'text', text: `re ${String(req.messages.at(-1).content).slice(0, 20)}` }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) };
  const wide = await run(function* () {
    return yield* L.branch(Array.from({ length: 1500 }, (_, n) => function* () {
      yield* L.user`Branch ${n}.`;
      return (yield* L.reply).value;
    }));
  }, { models: { default: echo }, engine });
  assert.equal(wide[1234], 're Branch 1234.');
  const long = 'é\u0001😀'.repeat(60_000);
  const { result: longRun } = await runPrompt((ctx) => ctx.$`${long}`, { model: mockModel([{ type: 'text', text: long }]), engine });
  assert.equal(await longRun.text, long);
  let step = 0;
  const counter = { provider: 'test', modelId: 'count', generate: async () => (++step <= 1200
    ? { content: [{ type: 'tool-call', toolCallId: `c${step}`, toolName: 'inc', args: { n: step } }], finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }
    : { content: [{ type: 'text', text: 'counted' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } }) };
  const { result: loop } = await runPrompt((ctx) => {
    ctx.defTool('inc', 'Adds one', { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }, ({ n }) => n + 1);
    ctx.$`Count.`;
  }, { model: counter, options: { maxSteps: 1201 }, engine });
  assert.equal(await loop.text, 'counted');
  assert.equal(engine.deferredCodeLoaded, false, 'at scale');

  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
  const { result: structured } = await runPrompt((ctx) => ctx.$`Answer.`, { model: mockModel([{ type: 'text', text: '{"answer":"yes"}' }]), responseSchema: schema, engine });
  assert.deepEqual(await structured.object, { answer: 'yes' });
  const { result: failing } = await runPrompt((ctx) => {
    ctx.defTool('boom', 'Fails', { type: 'object', properties: {} }, () => { throw new TypeError('no'); });
    ctx.defTool('typed', 'Takes text', schema, () => 'ok');
    ctx.$`Use them.`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'boom', args: {} }, { type: 'tool-call', toolName: 'typed', args: { answer: 5 } }, { type: 'text', text: 'done' }]), onStepFinish: () => {}, stopWhen: ({ steps }) => steps.length > 5, engine });
  assert.equal(await failing.text, 'done');
  assert.deepEqual((await failing.steps).map((s) => s.toolResults[0]?.isError), [true, true, undefined]);
  let calls = 0;
  const flaky = { provider: 'test', modelId: 'flaky', generate: async () => {
    if (calls++ === 0) throw new ProviderError('overloaded', { status: 503, retryable: true });
    return { content: [{ type: 'text', text: 'recovered' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
  } };
  const { result: retried } = await runPrompt((ctx) => ctx.$`Try.`, { model: flaky, engine });
  assert.equal(await retried.text, 'recovered');
  const stop = new AbortController();
  const { result: aborted } = await runPrompt((ctx) => ctx.$`Wait.`, { model: mockModel([{ type: 'text', text: 'late' }], { delayMs: 200 }), abortSignal: stop.signal, engine });
  setTimeout(() => stop.abort(), 10);
  await assert.rejects(aborted.text, { name: 'AbortError' });
  assert.equal(engine.deferredCodeLoaded, false, 'on the error paths');
  assert.equal(engine.fault, null);
});

test('prepareDeferredCode() and preload() load it ahead of the first call that needs it', async () => {
  const engine = await createEngine();
  await engine.prepareDeferredCode();
  assert.equal(engine.deferredCodeLoaded, true);
  await engine.prepareDeferredCode(); // once is enough
  assert.equal(await stateRun(engine), 'counted');
  assert.equal((await preload({ warmUp: false })).deferredCodeLoaded, true);
});

test('`deferredWasm` gives the second file as bytes or a path; bytes of the first file alone serve a first request only', async () => {
  const wasm = readFileSync(wasmPath);
  const withBytes = await createEngine({ wasm, deferredWasm: readFileSync(deferredPath) });
  assert.equal(await stateRun(withBytes), 'counted');
  const dir = tempDir('lmthing-split-');
  copyFileSync(deferredPath, join(dir, 'elsewhere.wasm'));
  const withPath = await createEngine({ wasmUrl: wasmPath, deferredWasm: join(dir, 'elsewhere.wasm') });
  assert.equal(await stateRun(withPath), 'counted');

  const alone = await createEngine({ wasm });
  const { result } = await runPrompt((ctx) => ctx.$`Hi`, { model: mockModel([{ type: 'text', text: 'hi' }]), engine: alone });
  assert.equal(await result.text, 'hi');
  const err = await stateRun(alone).catch((e) => e);
  assert.ok(err instanceof EngineError, String(err));
  assert.ok(err.cause instanceof EngineLoadError, String(err.cause));
  assert.equal(err.cause.file, 'dist/wasm/lmthing_core.deferred.wasm');
  assert.match(err.message, /needs dist\/wasm\/lmthing_core\.deferred\.wasm .* createEngine\(\{ deferredWasm \}\)/);
  // The engine cannot go on after a call failed inside it; it says so.
  assert.ok(alone.fault instanceof EngineError);
  await assert.rejects(createEngine({ deferredWasm: 42 }), (e) => e instanceof EngineLoadError && /`deferredWasm` must be the bytes .* got number/.test(e.message));
});

test('a missing deferred file, or one of another build, is an EngineLoadError naming it, the path and the fix', async () => {
  const dir = tempDir('lmthing-split-');
  const path = join(dir, 'lmthing_core.wasm');
  copyFileSync(wasmPath, path);
  const missing = await createEngine({ wasmUrl: path });
  const err = await stateRun(missing).catch((e) => e);
  assert.ok(err.cause instanceof EngineLoadError, String(err));
  assert.deepEqual(err.cause.urls, [join(dir, 'lmthing_core.deferred.wasm')]);
  assert.match(err.cause.message, /could not load dist\/wasm\/lmthing_core\.deferred\.wasm from .*lmthing_core\.deferred\.wasm: ENOENT.*Keep it next to lmthing_core\.wasm, or pass its path as createEngine\(\{ deferredWasm \}\)/);
  // preload() would have said so before any run.
  await assert.rejects((await createEngine({ wasmUrl: path })).prepareDeferredCode(), (e) => e instanceof EngineLoadError && /ENOENT/.test(e.message));

  // The build id is the last 32 bytes of the file (scripts/split-wasm.mjs appends it).
  const other = Buffer.from(readFileSync(deferredPath));
  other[other.length - 1] = other[other.length - 1] === 0x30 ? 0x31 : 0x30;
  const mixed = await createEngine({ wasmUrl: wasmPath, deferredWasm: other });
  const mismatch = await stateRun(mixed).catch((e) => e);
  assert.ok(mismatch.cause instanceof EngineLoadError, String(mismatch));
  assert.match(mismatch.cause.message, /belongs to another build .* Serve the two files of one build together/);
});
