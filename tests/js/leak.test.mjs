// 10,000 prompt runs on one engine with failures and aborts mixed in: neither the JS heap nor the
// wasm memory may keep growing. Growth is measured after a warm-up, with forced garbage
// collections, and bounded generously (a leak of one callback or one conversation per run would
// still exceed it by far).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';

import { AbortError, createEngine, L, mockModel, offlineEmbedding, ProviderError, run, runPrompt } from '../../dist/node.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const RUNS = 10_000;
const WARMUP = 1_000;
const CONCURRENT = 50;
const MB = 1024 * 1024;

/** A model that fails every call with a non-retryable provider error. */
const failingModel = {
  provider: 'test', modelId: 'broken',
  async generate() {
    throw new ProviderError('HTTP 400: bad request', { status: 400 });
  },
};

/** One run of kind `i % 4`: success with a tool, a tool that throws, a model that fails, an abort. */
async function oneRun(engine, i) {
  const kind = i % 4;
  const controller = new AbortController();
  const big = 'x'.repeat(2_000); // something worth leaking in every conversation
  const model = kind === 2 ? failingModel : mockModel([{ type: 'tool-call', toolName: 'work', args: { i } }, { type: 'text', text: `done ${i}` }]);
  const { result } = await runPrompt((ctx) => {
    ctx.def('payload', big);
    ctx.defTool('work', 'does work', { type: 'object' }, ({ i: n }) => {
      if (kind === 1) throw new Error(`tool failure ${n}`);
      if (kind === 3) {
        controller.abort();
        return new Promise(() => {}); // never answers: only the abort ends the run
      }
      return { n, big };
    });
    ctx.$`run ${i}`;
  }, { model, engine, options: { abortSignal: controller.signal, maxRetries: 0 } });
  try {
    const text = await result.text;
    assert.ok(kind === 0 || kind === 1, `run ${i} of kind ${kind} succeeded`);
    assert.equal(text, `done ${i}`);
  } catch (err) {
    if (kind === 2) assert.ok(err instanceof ProviderError, String(err));
    else if (kind === 3) assert.ok(err instanceof AbortError, String(err));
    else throw err;
  }
}

async function runs(engine, from, to) {
  for (let i = from; i < to; i += CONCURRENT) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENT, to - i) }, (_, k) => oneRun(engine, i + k)));
  }
}

function measure(engine) {
  gc();
  gc();
  return { heap: process.memoryUsage().heapUsed, wasm: engine.module.HEAP8.buffer.byteLength };
}

test(`${RUNS} runs with failures and aborts mixed in keep the heap and the wasm memory flat`, { timeout: 300_000 }, async () => {
  const engine = await createEngine();
  await runs(engine, 0, WARMUP);
  const before = measure(engine);
  await runs(engine, WARMUP, RUNS);
  const after = measure(engine);
  const heapGrowth = (after.heap - before.heap) / MB;
  const wasmGrowth = (after.wasm - before.wasm) / MB;
  assert.ok(heapGrowth < 8, `JS heap grew by ${heapGrowth.toFixed(1)} MB over ${RUNS - WARMUP} runs`);
  assert.ok(wasmGrowth < 4, `wasm memory grew by ${wasmGrowth.toFixed(1)} MB over ${RUNS - WARMUP} runs`);
  assert.deepEqual(await engine.request('engine.info').then((info) => [info.activeRuns, info.pendingOps]), [0, 0]);
});

test('a memory embedding model and an L.tag made per run are not kept once their runs are over', { timeout: 120_000 }, async () => {
  const engine = await createEngine();
  const models = [];
  const tags = [];
  for (let i = 0; i < 300; i++) {
    const embeddingModel = offlineEmbedding({ dimensions: 16 });
    if (i < 5) models.push(new WeakRef(embeddingModel));
    const { result } = await runPrompt((ctx) => {
      ctx.defMemory('notes', 'vector', { embeddingModel });
      ctx.defTool('remember', 'stores a note', { type: 'object' }, async () => (await ctx.memory('notes').store([{ content: `note ${i}` }])).length);
      ctx.$`remember`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'remember', args: {} }, { type: 'text', text: 'ok' }]), engine });
    assert.equal(await result.text, 'ok');
    const tag = L.tag(`request ${i} ${'x'.repeat(1_000)}`);
    if (i < 5) tags.push(new WeakRef(tag));
    await run(function* () {
      yield* L.user`hello`.tag(tag);
      return (yield* L.messages(tag)).length;
    }, { models: { default: mockModel([]) }, engine });
  }
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(models.map((ref) => ref.deref() === undefined), [true, true, true, true, true], 'the first runs\' embedding models were let go');
  assert.deepEqual(tags.map((ref) => ref.deref() === undefined), [true, true, true, true, true], 'the first runs\' tags were let go');
});
