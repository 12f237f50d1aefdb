// How deeply nested a value can be before one of the engine's recursive operations (copy, dump,
// compare, YAML, schema compile/validate) overflows the stack in the wasm build under this Node.
// Each attempt runs in a fresh module instance in a child process (a trap leaves an instance
// unusable, a fresh one runs unoptimized code, whose frames are the largest: the worst case, and a
// process per attempt gives its memory back). Binary search per operation.
//
//   bash scripts/build.sh && NODE_PATH=/usr/share/nodejs cmake --build build/wasm --target depth_probe
//   node bench/depth-limit.mjs
//
// Writes bench/results/depth-limit.json; docs/limits.md explains how the engine's limit follows.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const glue = join(root, 'build/wasm/depth_probe.js');
if (!existsSync(glue)) throw new Error(`${glue} is missing: build the depth_probe target (see the header of this file)`);
const require = createRequire(import.meta.url);
const createDepthProbe = require(glue);
const wasmBinary = readFileSync(join(root, 'build/wasm/depth_probe.wasm'));

const OPERATIONS = ['copy', 'dump', 'equality', 'yaml', 'schema (properties)', 'schema (items) + validate', 'uniqueItems'];
const CEILING = 1 << 20;

/** Child mode (`--attempt op depth`): exit code 0 when operation `op` survives `depth` levels. */
if (process.argv[2] === '--attempt') {
  const module = await createDepthProbe({ wasmBinary, print: () => {}, printErr: () => {} });
  module._probe_unlimited();
  let ok = false;
  try {
    ok = module._probe(Number(process.argv[3]), Number(process.argv[4])) === 0;
  } catch {
    // RangeError (V8 stack), RuntimeError (memory access out of bounds) ...
  }
  process.exit(ok ? 0 : 1);
}

/** Whether operation `op` survives `depth` levels in a fresh instance (in a child process). */
async function survives(op, depth) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--attempt', String(op), String(depth)], { stdio: 'ignore', timeout: 120_000 });
  return child.status === 0;
}

const results = {};
for (const [op, name] of OPERATIONS.entries()) {
  let good = 1;
  let bad = CEILING;
  while (good * 2 < bad && (await survives(op, good * 2))) good *= 2;
  bad = Math.min(bad, good * 2);
  while (bad - good > Math.max(1, good / 100)) {
    const mid = Math.floor((good + bad) / 2);
    if (await survives(op, mid)) good = mid;
    else bad = mid;
  }
  results[name] = good >= CEILING / 2 ? `>= ${good}` : good;
  console.log(`${name.padEnd(28)} survives ${String(results[name]).padStart(8)} levels`);
}
const deepest = Math.min(...Object.values(results).filter((v) => typeof v === 'number'));
console.log(`\nshallowest failure point: ${deepest} levels (node ${process.version})`);

mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/depth-limit.json'),
  `${JSON.stringify({ benchmark: 'depth-limit', date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, survivesLevels: results, shallowest: deepest }, null, 2)}\n`,
);
