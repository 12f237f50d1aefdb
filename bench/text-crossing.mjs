// Text crossing into the engine: a model answers with one large text (1, 10 and 50 MB), the run's
// result resolves; MB/s is the size over the run's wall time. The model is in-process and returns
// at once, so the figure is the cost of moving the text through the host, the engine and back.
//
//   node bench/text-crossing.mjs            (after `bash scripts/build.sh`)
//   node --cpu-prof --cpu-prof-dir=build/prof bench/text-crossing.mjs 10   (one size, profiled)
//
// Writes bench/results/text-crossing.json (unless a size is given on the command line).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createEngine, mockModel, runPrompt } from '../dist/node.js';
import { check, median, round } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2] ? [Number(process.argv[2])] : undefined;
const SIZES_MB = only ?? [1, 10, 50];
const REPEATS = only ? 1 : 3;
const MB = 1024 * 1024;

/** Text of `mb` MiB: words and newlines, with some non-ASCII (2- and 4-byte UTF-8) mixed in. */
function bigText(mb) {
  const line = 'The quick brown fox jumps over the lazy dog — café 😀 naïve résumé 0123456789.\n';
  return line.repeat(Math.ceil((mb * MB) / line.length)).slice(0, mb * MB);
}

/** An in-process model answering `text` at once (no streaming), like a provider's final response. */
function bareModel(text) {
  return {
    provider: 'bench', modelId: 'big',
    async generate() {
      return { content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
}

async function oneRun(engine, model, text) {
  const t0 = performance.now();
  const { result } = await runPrompt((ctx) => ctx.$`write a lot`, { model, engine });
  const answer = await result.text;
  const ms = performance.now() - t0;
  check(answer.length === text.length && answer === text, 'the text came back unchanged');
  return ms;
}

const engine = await createEngine();
const rows = [];
for (const mb of SIZES_MB) {
  const text = bigText(mb);
  const contenders = { 'bare model': () => bareModel(text), 'mockModel (streams deltas)': () => mockModel([{ type: 'text', text }]) };
  for (const [name, make] of Object.entries(contenders)) {
    await oneRun(engine, make(), text); // warm-up
    const samples = [];
    for (let r = 0; r < REPEATS; r++) samples.push(await oneRun(engine, make(), text));
    const ms = median(samples);
    const row = { sizeMB: mb, model: name, msMedian: round(ms, 1), mbPerSecond: round(mb / (ms / 1000), 1), samplesMs: samples.map((x) => round(x, 1)) };
    rows.push(row);
    console.log(`${String(mb).padStart(3)} MB  ${name.padEnd(28)} ${row.msMedian.toFixed(1).padStart(9)} ms  ${row.mbPerSecond.toFixed(1).padStart(7)} MB/s`);
  }
}

if (!only) {
  const out = {
    benchmark: 'text-crossing',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadavg1m: round(os.loadavg()[0], 2) },
    repeats: REPEATS,
    rows,
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  fs.writeFileSync(path.join(here, 'results', 'text-crossing.json'), `${JSON.stringify(out, null, 2)}\n`);
}
