// Before/after of two builds of the package on this machine: the engine's step cost and its cost
// per run, measured in fresh processes that alternate between the two builds, so that the machine's
// drift falls on both sides.
//
//   cp -r dist /tmp/before-dist      # before the change; build the change; then
//   node bench/ab-engine.mjs /tmp/before-dist dist [ROUNDS=4]
//
// Each process measures one build: ms per step of a 100-step tool loop (median of 11 runs) and the
// wall time of 200 concurrent zero-latency 2-step runs (median of 5 batches), with a bare model
// object (no mock-model bookkeeping). Prints one line per process and the medians; writes nothing.
// See bench/README.md, "JSON text in and out".
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, round } from './lib.mjs';

const incSchema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
const usage = { inputTokens: 10, outputTokens: 20, totalTokens: 30 };

/** A model that calls `inc` `toolSteps` times, then answers "done". */
function scriptedModel(toolSteps) {
  let calls = 0;
  return {
    provider: 'bench',
    modelId: 'scripted',
    async generate() {
      calls++;
      if (calls > toolSteps) return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
      const args = { n: calls };
      return { content: [{ type: 'tool-call', toolCallId: `c${calls}`, toolName: 'inc', args, argsText: JSON.stringify(args) }], finishReason: 'tool-calls', usage };
    },
  };
}

async function measure(distDir) {
  const { runPrompt } = await import(pathToFileURL(path.join(distDir, 'node.js')).href);
  const run = async (toolSteps) => {
    const { result } = await runPrompt(
      (ctx) => {
        ctx.defTool('inc', 'inc', incSchema, ({ n }) => ({ n: n + 1 }));
        ctx.$`count`;
      },
      { model: scriptedModel(toolSteps), options: { maxSteps: toolSteps + 1 } },
    );
    if ((await result.text) !== 'done') throw new Error(`${distDir}: the run did not end with "done"`);
  };
  const batch = () => Promise.all(Array.from({ length: 200 }, () => run(1)));
  // Warm enough that V8 has optimised the hot wasm and JS (its optimising tier compiles in the
  // background, and short warm-ups measured a mix of baseline and optimised code).
  for (let i = 0; i < 20; i++) await run(100);
  for (let i = 0; i < 3; i++) await batch();
  const perStep = [];
  for (let i = 0; i < 11; i++) {
    const started = performance.now();
    await run(100);
    perStep.push((performance.now() - started) / 101);
  }
  const concurrent = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await batch();
    concurrent.push(performance.now() - started);
  }
  return { msPerStep: round(median(perStep)), concurrentMs: round(median(concurrent), 1) };
}

const [first, ...rest] = process.argv.slice(2);
if (first === '--child') {
  process.stdout.write(JSON.stringify(await measure(rest[0])));
} else {
  const dists = [first, rest[0]].map((d) => d && path.resolve(d));
  if (!dists[0] || !dists[1]) throw new Error('usage: node bench/ab-engine.mjs BEFORE_DIST AFTER_DIST [ROUNDS]');
  const rounds = Number(rest[1] ?? 4);
  const self = fileURLToPath(import.meta.url);
  const figures = [[], []];
  for (let r = 0; r < rounds; r++)
    for (const side of [0, 1]) {
      const child = spawnSync(process.execPath, [self, '--child', dists[side]], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`measuring ${dists[side]} failed:\n${child.stderr}`);
      const figure = JSON.parse(child.stdout);
      figures[side].push(figure);
      console.log(`round ${r + 1} ${side ? 'after ' : 'before'}  ms/step ${figure.msPerStep}  200 concurrent ${figure.concurrentMs} ms`);
    }
  for (const side of [0, 1])
    console.log(
      `median ${side ? 'after ' : 'before'}  ms/step ${round(median(figures[side].map((f) => f.msPerStep)))}  200 concurrent ${round(median(figures[side].map((f) => f.concurrentMs)), 1)} ms`,
    );
}
