// defState and defCache through the pipeline (bench/README.md, "State and caches"):
// 1. a cached tool call answered from the engine's cache vs the same tool uncached (both through a
//    real prompt run: 500 identical calls in one step), per call, next to an lru-cache lookup in JS;
// 2. a prompt run whose tool changes one persisted state (loaded before the first step, saved with
//    compare-and-set at the end) vs the same run without state, per adapter: memory, file, Redis.
// CPU time of the process (the machine is shared; see storage.mjs), wall time recorded too.
// Writes bench/results/state-cache.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';

import { createEngine, fileStorage, memoryStorage, mockModel, redisStorage, runPrompt } from '../dist/node.js';
import { startRedis } from '../tests/js/helpers/redis-server.mjs';
import { check, median, round } from './lib.mjs';

const root = resolve(import.meta.dirname, '..');
const CALLS = 500;
const RUNS = 5;
const cpuNs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};

/** Median CPU and wall µs per unit of `work` (which performs `units` units), after a warm-up. */
async function measure(units, work) {
  const cpu = [];
  const wall = [];
  for (let r = 0; r <= RUNS; r++) {
    const c0 = cpuNs();
    const w0 = process.hrtime.bigint();
    await work();
    if (r === 0) continue;
    cpu.push(round((cpuNs() - c0) / 1000 / units, 2));
    wall.push(round(Number(process.hrtime.bigint() - w0) / 1000 / units, 2));
  }
  return { units, cpu_us: cpu, median_cpu_us: median(cpu), median_wall_us: median(wall) };
}

function parallelModel(n) {
  const parts = Array.from({ length: n }, (_, i) => ({ type: 'tool-call', toolCallId: `c${i}`, toolName: 'work', args: { q: 'same' } }));
  let calls = 0;
  return {
    provider: 'bench',
    modelId: 'parallel',
    async generate() {
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      return ++calls % 2 === 1 ? { content: parts, finishReason: 'tool-calls', usage } : { content: [{ type: 'text', text: 'ok' }], finishReason: 'stop', usage };
    },
  };
}

async function toolCalls(engine, cached) {
  let executions = 0;
  const { result } = await runPrompt(
    (ctx) => {
      if (cached) ctx.defCache('c', 'lru', { maxSize: 100 });
      ctx.defTool('work', 'w', { type: 'object', properties: { q: { type: 'string' } } }, ({ q }) => {
        executions++;
        return q;
      }, cached ? { cache: 'c' } : {});
      ctx.$`Go.`;
    },
    { model: parallelModel(CALLS), engine },
  );
  await result.text;
  check(executions === (cached ? 1 : CALLS) || (cached && executions === 0), `executions ${executions}`);
}

async function cacheBench() {
  const engine = await createEngine();
  const lru = new LRUCache({ max: 100 });
  lru.set('{"q":"same"}', 'same');
  const lruHit = await measure(1_000_000, () => {
    for (let i = 0; i < 1_000_000; i++) lru.get('{"q":"same"}');
  });
  return {
    uncachedToolCall: await measure(CALLS, () => toolCalls(engine, false)),
    cachedToolCall: await measure(CALLS, () => toolCalls(engine, true)),
    lruCacheGet: lruHit,
  };
}

async function stateRun(engine, storage, withState) {
  const { result } = await runPrompt(
    (ctx) => {
      if (withState) ctx.defState('visits', { n: 0 }, { persist: true, scope: 'global' });
      ctx.defTool('visit', 'v', { type: 'object', properties: {} }, () => {
        if (withState) ctx.getState('visits').n += 1;
        return 'ok';
      });
      ctx.$`Visit.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'visit' }, { type: 'text', text: 'ok' }]), engine, storage },
  );
  await result.text;
}

async function stateBench() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-bench-state-'));
  const redis = await startRedis();
  const adapters = { memory: memoryStorage(), file: fileStorage(dir), redis: redisStorage({ url: redis.url, keyPrefix: 'bench:' }) };
  const out = {};
  try {
    const engine = await createEngine();
    const runs = 40;
    out.runWithoutState = await measure(runs, async () => {
      for (let i = 0; i < runs; i++) await stateRun(engine, adapters.memory, false);
    });
    for (const [name, storage] of Object.entries(adapters)) {
      out[name] = await measure(runs, async () => {
        for (let i = 0; i < runs; i++) await stateRun(engine, storage, true);
      });
      const stored = await storage.get('state:global:visits');
      check(stored.value.n === runs * (RUNS + 1), `${name}: every run's change saved (${stored.value.n})`);
    }
  } finally {
    await adapters.redis.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const cache = await cacheBench();
const state = await stateBench();
const result = { date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: loadavg() }, cache, state };
writeFileSync(join(root, 'bench/results/state-cache.json'), `${JSON.stringify(result, null, 2)}\n`);

const ratio = (a, b) => `${round(a / b, 1)}x`;
console.log(`tool call through a run, per call (CPU µs): uncached ${cache.uncachedToolCall.median_cpu_us} | cached (hit) ${cache.cachedToolCall.median_cpu_us} | lru-cache get ${cache.lruCacheGet.median_cpu_us}`);
console.log(`  cached/uncached ${ratio(cache.cachedToolCall.median_cpu_us, cache.uncachedToolCall.median_cpu_us)}, cached/lru-cache ${ratio(cache.cachedToolCall.median_cpu_us, cache.lruCacheGet.median_cpu_us)}`);
for (const [name, r] of Object.entries(state))
  console.log(`run ${name.padEnd(16)} cpu ${r.median_cpu_us} µs, wall ${r.median_wall_us} µs per run (cpu ${ratio(r.median_cpu_us, state.runWithoutState.median_cpu_us)} of a run without state)`);
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
