// Storage and cache benchmarks (bench/README.md, "Storage and cache"):
// 1. cache hit latency at 100k entries: the engine's LruCache (native, build/native/bench_lru)
//    vs lru-cache (npm) and a plain Map in JS;
// 2. save/load round trip (set + get of a ~1 KB JSON value) per adapter: memory, file, Redis
//    (a real redis-server on loopback), and memory through the engine's storage.* ops.
// Times are CPU time of the process (process.cpuUsage / CLOCK_PROCESS_CPUTIME_ID), not wall time:
// the development machine is shared, and wall time there mostly measures the other jobs. Wall time
// of the round trips is recorded too. Writes bench/results/storage.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';

import { createEngine, fileStorage, memoryStorage, redisStorage, registerStorage } from '../dist/node.js';
import { startRedis } from '../tests/js/helpers/redis-server.mjs';
import { buildNativeBench, check, median, round } from './lib.mjs';

const root = resolve(import.meta.dirname, '..');
const ENTRIES = 100_000;
const LOOKUPS = 2_000_000;
const RUNS = 7;

// ------------------------------------------------------------------ cache hits

const cpuNs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};

function nativeLru() {
  const bin = join(buildNativeBench(root, ['bench_lru']), 'bench_lru');
  return JSON.parse(execFileSync(bin, [String(ENTRIES), String(LOOKUPS)], { encoding: 'utf8' }));
}

/** ns per hit of `get` over uniform random existing keys, median of RUNS after a warm-up. */
function jsHits(label, get) {
  const keys = Array.from({ length: ENTRIES }, (_, i) => `key:${i}`);
  let x = 42;
  const order = new Uint32Array(LOOKUPS);
  for (let i = 0; i < LOOKUPS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    order[i] = x % ENTRIES;
  }
  const runs = [];
  for (let r = 0; r <= RUNS; r++) {
    let found = 0;
    const start = cpuNs();
    for (let i = 0; i < LOOKUPS; i++) if (get(keys[order[i]]) !== undefined) found++;
    const ns = (cpuNs() - start) / LOOKUPS;
    check(found === LOOKUPS, `${label}: every lookup must hit`);
    if (r > 0) runs.push(round(ns, 2));
  }
  return { runs, median_ns: median(runs) };
}

function cacheHits() {
  const value = (i) => ({ i, text: `value ${i}` });
  const lru = new LRUCache({ max: ENTRIES });
  const map = new Map();
  for (let i = 0; i < ENTRIES; i++) {
    lru.set(`key:${i}`, value(i));
    map.set(`key:${i}`, value(i));
  }
  return { engineLru: nativeLru(), lruCache: jsHits('lru-cache', (k) => lru.get(k)), map: jsHits('Map', (k) => map.get(k)) };
}

// ------------------------------------------------------------------ save/load round trips

const payload = { user: 'ada', prefs: { theme: 'dark', langs: ['en', 'fr'] }, notes: 'x'.repeat(900) };

/** Measures `batch` (which performs `iterations` set+get pairs): CPU and wall µs per pair, median of 5 after a warm-up. */
async function measure(iterations, batch) {
  const cpu = [];
  const wall = [];
  for (let b = 0; b <= 5; b++) {
    const cpu0 = cpuNs();
    const wall0 = process.hrtime.bigint();
    await batch();
    if (b === 0) continue;
    cpu.push(round((cpuNs() - cpu0) / 1000 / iterations, 2));
    wall.push(round(Number(process.hrtime.bigint() - wall0) / 1000 / iterations, 2));
  }
  return { iterations, cpu_us: cpu, wall_us: wall, median_cpu_us: median(cpu), median_wall_us: median(wall) };
}

/** µs per set+get pair of a ~1 KB value, straight on the adapter. */
function roundTrip(storage, iterations) {
  return measure(iterations, async () => {
    for (let i = 0; i < iterations; i++) {
      await storage.set(`bench:${i % 100}`, payload);
      const entry = await storage.get(`bench:${i % 100}`);
      check(entry.value.user === 'ada', 'the value read back');
    }
  });
}

/** The same pairs issued by the engine (run kind "storage") against the memory adapter. */
async function engineRoundTrip(iterations) {
  const engine = await createEngine();
  registerStorage(engine, 'bench', memoryStorage());
  const ops = [];
  for (let i = 0; i < iterations; i++) ops.push({ op: 'set', key: `bench:${i % 100}`, value: payload }, { op: 'get', key: `bench:${i % 100}` });
  return measure(iterations, async () => {
    const answers = await engine.startRun({ kind: 'storage', storage: 'bench', ops });
    check(answers.length === ops.length && answers[1].value.user === 'ada', 'engine answers');
  });
}

async function roundTrips() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-bench-storage-'));
  const redis = await startRedis();
  const redisAdapter = redisStorage({ url: redis.url, keyPrefix: 'bench:' });
  try {
    return {
      memory: await roundTrip(memoryStorage(), 20_000),
      memoryThroughEngine: await engineRoundTrip(5_000),
      file: await roundTrip(fileStorage(join(dir, 'durable')), 300),
      fileNotDurable: await roundTrip(fileStorage(join(dir, 'fast'), { durable: false }), 300),
      redis: await roundTrip(redisAdapter, 2_000),
    };
  } finally {
    await redisAdapter.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

const hits = cacheHits();
const trips = await roundTrips();
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: round(totalmem() / 2 ** 30, 1), node: process.version, loadavg: loadavg() },
  cacheHits: hits,
  roundTrips: trips,
};
writeFileSync(join(root, 'bench/results/storage.json'), `${JSON.stringify(result, null, 2)}\n`);

const ratio = (a, b) => `${round(a / b, 2)}x`;
console.log(`cache hit, ${ENTRIES} entries (CPU ns)  engine LruCache (native) ${hits.engineLru.median_ns} | lru-cache ${hits.lruCache.median_ns} | Map ${hits.map.median_ns}`);
console.log(`  engine/lru-cache                ${ratio(hits.engineLru.median_ns, hits.lruCache.median_ns)}`);
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [name, r] of Object.entries(trips))
  console.log(`round trip ${name.padEnd(20)} cpu ${r.median_cpu_us} µs, wall ${r.median_wall_us} µs per set+get (cpu ${ratio(r.median_cpu_us, trips.memory.median_cpu_us)} memory)`);
