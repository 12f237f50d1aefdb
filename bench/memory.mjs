#!/usr/bin/env node
// Vector memory and token counting, in one run (bench/README.md, "Memory"):
//   * HNSW search over N × DIMS float vectors: the engine's index natively, in wasm under Node
//     without and with -msimd128, native hnswlib (the C++ library most ANN bindings wrap), and
//     vectra, the pure-JS local vector store (brute force) a Node user would install;
//   * token counting throughput of the engine's BPE (native and wasm) vs js-tiktoken on the same
//     text, with the counts checked equal.
// Usage: node bench/memory.mjs [N] [DIMS] [QUERIES] [--no-build]
//        (defaults 100000 384 200; ~10 min on 2 idle cores; --no-build uses the bench binaries as built)
//        writes bench/results/memory.json
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNativeBench, check, median, round } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [N, DIMS, QUERIES] = [Number(positional[0] ?? 100000), Number(positional[1] ?? 384), Number(positional[2] ?? 200)];
const M = 16, EF_CONSTRUCTION = 100, EF = 64, LATENT = 16;

// ---- the data set, exactly as bench/memory_bench.cpp generates it ----
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1) >>> 0;
    t = (t ^ ((t + Math.imul(t ^ (t >>> 7), t | 61)) >>> 0)) >>> 0;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function generate(count, dims, seed) {
  const next = mulberry32(seed);
  const centred = () => next() + next() + next() + next() - 2;
  const map = Float64Array.from({ length: dims * LATENT }, () => next() * 2 - 1);
  const out = new Float32Array(count * dims);
  const z = new Float64Array(LATENT);
  for (let i = 0; i < count; i++) {
    for (let l = 0; l < LATENT; l++) z[l] = centred();
    for (let d = 0; d < dims; d++) {
      let v = 0;
      for (let l = 0; l < LATENT; l++) v += map[d * LATENT + l] * z[l];
      out[i * dims + d] = v + 0.5 * centred();
    }
  }
  return out;
}
const normalized = (v) => {
  let n = 0;
  for (const x of v) n += x * x;
  return v.map((x) => x / Math.sqrt(n));
};

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

// ---- vectra (child process, so its memory is its own) ----
async function vectraRun() {
  const { LocalIndex, VirtualFileStorage, ProtobufCodec } = await import('vectra');
  const data = generate(N + QUERIES, DIMS, 1234);
  const vectors = Array.from({ length: N }, (_, i) => Array.from(data.subarray(i * DIMS, (i + 1) * DIMS)));
  // Brute force is slow: time (and check) the first 50 queries only.
  const queries = Array.from({ length: Math.min(QUERIES, 50) }, (_, q) => Array.from(data.subarray((N + q) * DIMS, (N + q + 1) * DIMS)));
  const units = vectors.map(normalized);
  const truth = queries.map((q) => {
    const u = normalized(q);
    const scored = units.map((v, i) => {
      let s = 0;
      for (let d = 0; d < DIMS; d++) s += v[d] * u[d];
      return [s, i];
    });
    return scored.sort((a, b) => b[0] - a[0]).slice(0, 10).map(([, i]) => i);
  });
  global.gc?.();
  const before = process.memoryUsage();
  const dir = mkdtempSync(join(tmpdir(), 'vectra-bench-'));
  // The protobuf codec: vectra's default JSON index exceeds V8's maximum string length at 100k × 384.
  const index = new LocalIndex(dir, 'index.pb', new VirtualFileStorage(), new ProtobufCodec());
  let start = performance.now();
  await index.createIndex();
  await index.beginUpdate();
  for (let i = 0; i < N; i++) await index.insertItem({ vector: vectors[i], metadata: { i } });
  await index.endUpdate();
  const buildMs = performance.now() - start;
  global.gc?.();
  const after = process.memoryUsage();
  const latencies = [];
  let found = 0;
  for (let pass = 0; pass < 2; pass++) {
    latencies.length = 0;
    found = 0;
    for (let q = 0; q < queries.length; q++) {
      start = performance.now();
      const hits = await index.queryItems(queries[q], '', 10);
      latencies.push((performance.now() - start) * 1000);
      const ids = new Set(hits.map((h) => h.item.metadata.i));
      found += truth[q].filter((i) => ids.has(i)).length;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const heapMb = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 2 ** 20;
  console.log(JSON.stringify({ buildMs, p50Us: percentile(latencies, 0.5), p99Us: percentile(latencies, 0.99),
    recallAt10: found / (latencies.length * 10), indexMb: heapMb, queriesTimed: latencies.length }));
}

if (process.argv.includes('--vectra-child')) {
  await vectraRun();
  process.exit(0);
}

// ---- orchestration ----
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
const env = { ...process.env, NODE_PATH: '/usr/share/nodejs' };
if (!process.argv.includes('--no-build')) {
  console.log('building bench targets (incremental)…');
  buildNativeBench(root, ['bench_memory']);
  sh('cmake', ['--build', 'build/wasm', '-j2', '--target', 'bench_memory_wasm', 'bench_memory_wasm_simd'], { env });
}

const vectorArgs = ['vector', N, DIMS, QUERIES, M, EF_CONSTRUCTION, EF].map(String);
const runJson = (cmd, args) => JSON.parse(sh(cmd, args).trim().split('\n').pop());
console.log(`vector search: ${N} × ${DIMS}, ${QUERIES} queries, M ${M}, efConstruction ${EF_CONSTRUCTION}, ef ${EF}`);
const native = runJson('build/native/bench_memory', [...vectorArgs, 'hnswlib']);
console.log('  native done');
const wasm = runJson('node', ['--no-experimental-fetch', 'build/wasm/bench_memory_wasm.js', ...vectorArgs]);
console.log('  wasm done');
const wasmSimd = runJson('node', ['--no-experimental-fetch', 'build/wasm/bench_memory_wasm_simd.js', ...vectorArgs]);
console.log('  wasm simd done');
let vectra;
try {
  vectra = runJson('node', ['--expose-gc', '--max-old-space-size=8192', 'bench/memory.mjs', String(N), String(DIMS), String(QUERIES), '--vectra-child']);
} catch (error) {
  vectra = { error: String(error.stderr ?? error).split('\n').find((l) => l.startsWith('Error')) ?? String(error), buildMs: NaN, p50Us: NaN, p99Us: NaN, recallAt10: NaN, indexMb: NaN };
}
console.log('  vectra done', vectra.error ?? '');
for (const r of [native.lmthing, native.hnswlib, wasm.lmthing, wasmSimd.lmthing]) check(r.recallAt10 >= 0.9, `recall ${r.recallAt10}`);

// ---- token counting ----
const { Tiktoken } = await import('js-tiktoken/lite');
const { createRequire } = await import('node:module');
const require = createRequire(import.meta.url);
// Without the corpus's 300- and 600-character runs: js-tiktoken's merge is quadratic in a piece's
// length (with a string join per pair), and 500 copies of them take it minutes.
const corpus = JSON.parse(readFileSync(join(root, 'tests/fixtures/tokens/corpus.json'), 'utf8')).texts.filter((t) => t.length < 250).join('\n');
const text = corpus.repeat(Math.ceil((2 << 20) / Buffer.byteLength(corpus)));
const dir = mkdtempSync(join(tmpdir(), 'lmthing-tokens-'));
const textFile = join(dir, 'text.txt');
writeFileSync(textFile, text);
const tokens = {};
for (const encoding of ['o200k_base', 'cl100k_base']) {
  const rankFile = join(root, 'dist/tokenizers', `${encoding}.bpe`);
  const nativeTokens = runJson('build/native/bench_memory', ['tokens', rankFile, textFile, '5']);
  const wasmTokens = runJson('node', ['--no-experimental-fetch', 'build/wasm/bench_memory_wasm.js', 'tokens', rankFile, textFile, '5']);
  let start = performance.now();
  const tiktoken = new Tiktoken(require(`js-tiktoken/ranks/${encoding}`));
  const loadMs = performance.now() - start;
  let count = tiktoken.encode(text, [], []).length;
  const runs = [];
  for (let r = 0; r < 5; r++) {
    start = performance.now();
    count = tiktoken.encode(text, [], []).length;
    runs.push(performance.now() - start);
  }
  check(count === nativeTokens.tokens && count === wasmTokens.tokens, `${encoding}: js-tiktoken ${count}, engine ${nativeTokens.tokens}/${wasmTokens.tokens}`);
  const mb = Buffer.byteLength(text) / 2 ** 20;
  tokens[encoding] = { bytes: Buffer.byteLength(text), tokens: count, native: nativeTokens, wasm: wasmTokens,
    jsTiktoken: { loadMs: round(loadMs, 1), medianMs: round(median(runs), 2), mbPerSecond: round(mb / (median(runs) / 1000), 2) } };
}
rmSync(dir, { recursive: true, force: true });

// ---- report ----
const rows = [
  ['lmthing native', native.lmthing], ['hnswlib native', native.hnswlib], ['lmthing wasm', wasm.lmthing], ['lmthing wasm simd128', wasmSimd.lmthing], ['vectra (JS, brute force)', vectra],
];
console.log('\nindex                      build s   p50 µs   p99 µs  recall@10  index MiB');
for (const [name, r] of rows)
  console.log(`${name.padEnd(26)} ${(r.buildMs / 1000).toFixed(1).padStart(7)} ${r.p50Us.toFixed(0).padStart(8)} ${r.p99Us.toFixed(0).padStart(8)} ${r.recallAt10.toFixed(3).padStart(10)} ${r.indexMb.toFixed(1).padStart(10)}`);
const ratios = {
  wasmSimdP50VsNativeHnswlib: round(wasmSimd.lmthing.p50Us / native.hnswlib.p50Us, 2),
  wasmP50VsNativeHnswlib: round(wasm.lmthing.p50Us / native.hnswlib.p50Us, 2),
  nativeP50VsHnswlib: round(native.lmthing.p50Us / native.hnswlib.p50Us, 2),
  wasmSimdP50VsVectra: round(wasmSimd.lmthing.p50Us / vectra.p50Us, 4),
  simdSpeedupP50: round(wasm.lmthing.p50Us / wasmSimd.lmthing.p50Us, 2),
  simdSpeedupBuild: round(wasm.lmthing.buildMs / wasmSimd.lmthing.buildMs, 2),
};
console.log('ratios', ratios);
console.log(`save/load (wasm simd): ${wasmSimd.lmthing.savedMb} MiB, save ${wasmSimd.lmthing.saveMs} ms, load ${wasmSimd.lmthing.loadMs} ms`);
console.log('\ntokens       bytes   engine native MB/s  engine wasm MB/s  js-tiktoken MB/s  wasm/js  rank load ms (wasm / js)');
for (const [encoding, t] of Object.entries(tokens))
  console.log(`${encoding.padEnd(12)} ${t.bytes}  ${t.native.mbPerSecond.toFixed(2).padStart(18)} ${t.wasm.mbPerSecond.toFixed(2).padStart(17)} ${t.jsTiktoken.mbPerSecond.toFixed(2).padStart(17)} ${(t.wasm.mbPerSecond / t.jsTiktoken.mbPerSecond).toFixed(2).padStart(8)}  ${t.wasm.loadMs} / ${t.jsTiktoken.loadMs}`);

const { loadavg, cpus } = await import('node:os');
writeFileSync(join(root, 'bench/results/memory.json'), JSON.stringify({
  date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(),
  params: { n: N, dims: DIMS, queries: QUERIES, m: M, efConstruction: EF_CONSTRUCTION, ef: EF },
  vector: { native, wasm, wasmSimd, vectra }, ratios, tokens,
}, null, 2) + '\n');
console.log('\nwrote bench/results/memory.json');
