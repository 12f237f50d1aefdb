// The engine<->host boundary benchmark: native baseline vs the wasm engine in Node, package sizes
// and cold start. Run after a build: `npm run bench`.
// Prints a table and writes everything to bench/results/boundary.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { createEngine } from '../dist/node.js';
import { buildNativeBench } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => join(root, ...p);
const REPEATS = 5;
const SEQ_N = 50_000;   // sequential round trips through wasm are slower; 50k is enough for stable figures
const CONC_N = 200_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (n, seconds) => {
  const s = median(seconds);
  return { ops: n, usPerOp: (s * 1e6) / n, opsPerSec: n / s, runsSec: seconds };
};

// ---- native baseline (its own medians of 5; see bench/native_boundary.cpp)
const nativeBin = join(buildNativeBench(root, ['bench_boundary']), 'bench_boundary');
console.error('native boundary (200k ops x 5 x 2) ...');
const native = JSON.parse(execFileSync(nativeBin, { encoding: 'utf8', maxBuffer: 1 << 20 }));

// ---- wasm in Node: the same map runs through the public Engine
// One `map` run; returns wall seconds from startRun to its result, checking the result.
async function timeMap(engine, n, concurrency) {
  const items = Array.from({ length: n }, (_, i) => i);
  const spec = { kind: 'map', fn: 'inc', items, ...(concurrency ? { concurrency } : {}) };
  const t0 = performance.now();
  const out = await engine.startRun(spec);
  const seconds = (performance.now() - t0) / 1000;
  if (!Array.isArray(out) || out.length !== n || out[n - 1] !== n) throw new Error('map run returned a wrong result');
  return seconds;
}

async function measureWasm(engine, n, concurrency) {
  await timeMap(engine, n, concurrency); // warm-up: JIT tiers, wasm memory growth
  const seconds = [];
  for (let i = 0; i < REPEATS; i++) seconds.push(await timeMap(engine, n, concurrency));
  return summary(n, seconds);
}

const withInc = (engine) => (engine.registerCallback('inc', (x) => x + 1), engine);
console.error(`wasm boundary (sequential ${SEQ_N}, concurrent ${CONC_N}, 1+${REPEATS} runs each) ...`);
const engine = withInc(await createEngine());
const wasm = { sequential: await measureWasm(engine, SEQ_N, 1), concurrent: await measureWasm(engine, CONC_N, 0) };

// ---- sizes, raw and gzip -9 (what a CDN would serve)
const size = (file) => {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const sizes = {
  'dist/wasm/lmthing_core.wasm': size(at('dist/wasm/lmthing_core.wasm')),
  'dist/wasm/lmthing_core.node.mjs': size(at('dist/wasm/lmthing_core.node.mjs')),
  'dist/wasm/lmthing_core.mjs': size(at('dist/wasm/lmthing_core.mjs')),
};
const distJs = readdirSync(at('dist')).filter((f) => f.endsWith('.js') && statSync(at('dist', f)).isFile()).sort();
const jsTotal = { raw: 0, gzip: 0, files: distJs };
for (const f of distJs) {
  const s = size(at('dist', f));
  jsTotal.raw += s.raw;
  jsTotal.gzip += s.gzip; // per-file gzip, as each module is fetched on its own
}
sizes['dist/*.js (no providers)'] = jsTotal;

// ---- cold start: fresh node processes, import -> engine answering engine.info
console.error('cold start (7 processes) ...');
const coldRuns = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const line = execFileSync(process.execPath, [at('bench/cold-start-child.mjs')], { encoding: 'utf8' });
  coldRuns.push({ ...JSON.parse(line), processWallMs: performance.now() - t0 });
}
const coldStart = { runs: coldRuns };
for (const key of Object.keys(coldRuns[0])) coldStart[`${key}Median`] = median(coldRuns.map((r) => r[key]));

// ---- report
const machine = {
  cpu: os.cpus()[0].model,
  cores: os.cpus().length,
  node: process.version,
  totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  loadAvg1m: os.loadavg()[0], // the machine is shared: a high load skews the figures
};
const result = {
  date: new Date().toISOString(),
  machine,
  native,
  wasm,
  ratios: {
    sequentialUsPerOp: wasm.sequential.usPerOp / native.sequential.usPerOp,
    concurrentUsPerOp: wasm.concurrent.usPerOp / native.concurrent.usPerOp,
  },
  sizes,
  coldStart,
};

const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
const fmt = (x, d = 2) => x.toFixed(d);
const rows = [
  ['machine', `${machine.cpu}, ${machine.cores} cores, ${machine.totalMemGiB} GiB, node ${machine.node}, load ${fmt(machine.loadAvg1m)}`],
  ['sequential round trip', `native ${fmt(native.sequential.usPerOp)} µs/op (${Math.round(native.sequential.opsPerSec)} ops/s) | wasm ${fmt(wasm.sequential.usPerOp)} µs/op (${Math.round(wasm.sequential.opsPerSec)} ops/s) | wasm/native ${fmt(result.ratios.sequentialUsPerOp, 1)}x`],
  ['concurrent throughput', `native ${fmt(native.concurrent.usPerOp)} µs/op (${Math.round(native.concurrent.opsPerSec)} ops/s) | wasm ${fmt(wasm.concurrent.usPerOp)} µs/op (${Math.round(wasm.concurrent.opsPerSec)} ops/s) | wasm/native ${fmt(result.ratios.concurrentUsPerOp, 1)}x`],
  ...Object.entries(sizes).map(([name, s]) => [`size ${name}`, `${kb(s.raw)} raw, ${kb(s.gzip)} gzip`]),
  ['cold start (median of 7)', `import->ready ${fmt(coldStart.readyMsMedian, 1)} ms (import ${fmt(coldStart.importMsMedian, 1)}, create ${fmt(coldStart.createMsMedian, 1)}, first reply ${fmt(coldStart.firstReplyMsMedian, 1)}); node boot ${fmt(coldStart.nodeBootMsMedian, 1)} ms; whole process ${fmt(coldStart.processWallMsMedian, 1)} ms`],
];
const width = Math.max(...rows.map((r) => r[0].length));
console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));

mkdirSync(at('bench/results'), { recursive: true });
writeFileSync(at('bench/results/boundary.json'), `${JSON.stringify(result, null, 2)}\n`);
console.error('wrote bench/results/boundary.json');
