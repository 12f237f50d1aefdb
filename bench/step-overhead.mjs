// Step overhead of lmthing's agent loop vs the Vercel AI SDK's generateText, with scripted
// zero-latency models (a 100-step and a 1,000-step tool loop), plus a concurrency run with 20 ms models.
//
//   node bench/step-overhead.mjs        (after `bash scripts/build.sh`; needs the `ai` devDependency)
//
// Writes bench/results/step-overhead.json. See bench/README.md, "Step overhead vs the AI SDK".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runPrompt, mockModel } from '../dist/node.js';
import { generateText, jsonSchema, tool, isStepCount } from 'ai';
import * as aiTest from 'ai/test';
import { check, median, printTable, round, sleep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const aiVersion = require('ai/package.json').version;
const lmthingVersion = JSON.parse(fs.readFileSync(path.join(here, '..', 'package.json'), 'utf8')).version;
let commit = null; // the checkout the dist/ was (presumably) built from; work in progress is not marked
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}

// ai@7 ships MockLanguageModelV4 (and V3); ai@6 ships V3. Both use the same result shape below.
const MockLanguageModel = aiTest.MockLanguageModelV4 ?? aiTest.MockLanguageModelV3;
if (!MockLanguageModel || !isStepCount) {
  throw new Error(`ai@${aiVersion}: this benchmark needs MockLanguageModelV4/V3 from 'ai/test' and isStepCount/stepCountIs (ai >= 6)`);
}
const MockName = aiTest.MockLanguageModelV4 ? 'MockLanguageModelV4' : 'MockLanguageModelV3';

const STEPS = 100; // tool-call steps; one more step answers text
const MAX_STEPS = STEPS + 1;
const WARMUP = 2;
const RUNS = 15;
const LONG_STEPS = 1000; // part 1b: is the cost per step flat in the length of the run?
const LONG_RUNS = 5;
const CONC = 200; // concurrent runs in part 2
const CONC_DELAY_MS = 20;
const CONC_RUNS = 5;
const RUN_TIMEOUT_MS = 60_000;

const incSchema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };


/** Rejects when `p` takes longer than RUN_TIMEOUT_MS, so a hang is reported instead of waited on. */
function withTimeout(p, what) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no result after ${RUN_TIMEOUT_MS} ms (hang?)`)), RUN_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------------------------
// lmthing

/** The script as mockModel items: STEPS tool calls inc({n: i}), then text. */
function lmthingItems(steps) {
  const items = [];
  for (let i = 1; i <= steps; i++) items.push({ type: 'tool-call', toolName: 'inc', args: { n: i } });
  items.push({ type: 'text', text: 'done' });
  return items;
}

/**
 * A minimal custom lmthing model with the same script: unlike mockModel it does not record a deep
 * copy of every request, so like the AI SDK's mock (which keeps requests by reference) it adds no
 * per-step cost that grows with the conversation.
 */
function lmthingBareModel(steps, delayMs = 0) {
  let i = 0;
  const usage = { inputTokens: 10, outputTokens: 20, totalTokens: 30 };
  return {
    provider: 'bench',
    modelId: 'scripted',
    async generate(_req, opts) {
      if (delayMs) await sleep(delayMs, opts?.signal);
      i++;
      if (i <= steps) {
        const args = { n: i };
        return {
          content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'inc', args, argsText: JSON.stringify(args) }],
          finishReason: 'tool-calls',
          usage,
        };
      }
      return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
    },
  };
}

/** One lmthing run; returns { ms, steps, toolCalls }. */
async function runLmthing(model, steps, maxSteps) {
  let toolCalls = 0;
  const t0 = performance.now();
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('inc', 'increments', incSchema, ({ n }) => {
      toolCalls++;
      return { n: n + 1 };
    });
    ctx.$`count`;
  }, { model, options: { maxSteps } });
  const text = await result.text;
  const stepList = await result.steps;
  const ms = performance.now() - t0;
  check(text === 'done', `lmthing final text is ${JSON.stringify(text)}, expected "done"`);
  check(stepList.length === steps + 1, `lmthing made ${stepList.length} steps, expected ${steps + 1}`);
  check(toolCalls === steps, `lmthing executed the tool ${toolCalls} times, expected ${steps}`);
  const last = stepList[stepList.length - 2];
  const lastResult = last?.toolResults?.[0]?.result;
  check(lastResult?.n === steps + 1, `lmthing last tool result is ${JSON.stringify(lastResult)}, expected {n:${steps + 1}}`);
  return { ms, steps: stepList.length, toolCalls };
}

// ---------------------------------------------------------------------------------------------
// AI SDK

const aiUsage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 20, text: 20, reasoning: 0 },
};

function aiModel(steps, delayMs = 0) {
  let i = 0;
  return new MockLanguageModel({
    doGenerate: async (options) => {
      if (delayMs) await sleep(delayMs, options?.abortSignal);
      i++;
      if (i <= steps) {
        return {
          content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'inc', input: JSON.stringify({ n: i }) }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: aiUsage,
          warnings: [],
        };
      }
      return {
        content: [{ type: 'text', text: 'done' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: aiUsage,
        warnings: [],
      };
    },
  });
}

/** One AI SDK run; returns { ms, steps, toolCalls }. */
async function runAi(steps, maxSteps, delayMs = 0) {
  let toolCalls = 0;
  const model = aiModel(steps, delayMs);
  const t0 = performance.now();
  const r = await generateText({
    model,
    prompt: 'count',
    tools: {
      inc: tool({
        description: 'increments',
        inputSchema: jsonSchema(incSchema),
        execute: async ({ n }) => {
          toolCalls++;
          return { n: n + 1 };
        },
      }),
    },
    stopWhen: isStepCount(maxSteps),
  });
  const ms = performance.now() - t0;
  check(r.text === 'done', `ai final text is ${JSON.stringify(r.text)}, expected "done"`);
  check(r.steps.length === steps + 1, `ai made ${r.steps.length} steps, expected ${steps + 1}`);
  check(toolCalls === steps, `ai executed the tool ${toolCalls} times, expected ${steps}`);
  const lastResult = r.steps[r.steps.length - 2]?.toolResults?.[0]?.output;
  check(lastResult?.n === steps + 1, `ai last tool result is ${JSON.stringify(lastResult)}, expected {n:${steps + 1}}`);
  return { ms, steps: r.steps.length, toolCalls };
}

// ---------------------------------------------------------------------------------------------
// Part 1: 100-step tool loop, zero-latency model

const contenders = {
  lmthing: () => runLmthing(lmthingBareModel(STEPS), STEPS, MAX_STEPS),
  'lmthing (mockModel)': () => runLmthing(mockModel(lmthingItems(STEPS), { delayMs: 0 }), STEPS, MAX_STEPS),
  ai: () => runAi(STEPS, MAX_STEPS),
};

const loadBefore = os.loadavg();
console.log(`step overhead: ${STEPS}-step tool loop, ${WARMUP} warm-ups + ${RUNS} alternating runs each`);
for (let w = 0; w < WARMUP; w++) {
  for (const [name, fn] of Object.entries(contenders)) await withTimeout(fn(), `${name} warm-up`);
}
const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) {
  // alternate the order so neither side always runs right after the other's garbage
  const order = Object.entries(contenders);
  if (r % 2) order.reverse();
  for (const [name, fn] of order) {
    const { ms, steps } = await withTimeout(fn(), `${name} run ${r + 1}`);
    samples[name].push(ms / steps);
  }
}
const perStep = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));

// ---------------------------------------------------------------------------------------------
// Part 1b: the same loop with LONG_STEPS tool calls (bare lmthing model vs the AI SDK). A cost per
// step that grows with the conversation shows up as a higher ms/step than at STEPS steps.

const longContenders = {
  lmthing: () => runLmthing(lmthingBareModel(LONG_STEPS), LONG_STEPS, LONG_STEPS + 1),
  ai: () => runAi(LONG_STEPS, LONG_STEPS + 1),
};
console.log(`long loop: ${LONG_STEPS}-step tool loop, 1 warm-up + ${LONG_RUNS} alternating runs each`);
for (const [name, fn] of Object.entries(longContenders)) await withTimeout(fn(), `${name} long warm-up`);
const longSamples = { lmthing: [], ai: [] };
for (let r = 0; r < LONG_RUNS; r++) {
  const order = Object.entries(longContenders);
  if (r % 2) order.reverse();
  for (const [name, fn] of order) {
    const { ms, steps } = await withTimeout(fn(), `${name} long run ${r + 1}`);
    longSamples[name].push(ms / steps);
  }
}
const longPerStep = { lmthing: median(longSamples.lmthing), ai: median(longSamples.ai) };

// ---------------------------------------------------------------------------------------------
// Part 2: CONC concurrent 2-step runs with a CONC_DELAY_MS model

async function concLmthing() {
  const t0 = performance.now();
  const runs = await Promise.all(
    Array.from({ length: CONC }, () =>
      runLmthing(mockModel(lmthingItems(1), { delayMs: CONC_DELAY_MS }), 1, MAX_STEPS)),
  );
  const ms = performance.now() - t0;
  check(runs.reduce((a, r) => a + r.toolCalls, 0) === CONC, 'lmthing concurrent tool calls');
  return ms;
}
async function concAi() {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: CONC }, () => runAi(1, MAX_STEPS, CONC_DELAY_MS)));
  const ms = performance.now() - t0;
  check(runs.reduce((a, r) => a + r.toolCalls, 0) === CONC, 'ai concurrent tool calls');
  return ms;
}

console.log(`concurrency: ${CONC} concurrent 2-step runs, ${CONC_DELAY_MS} ms model, 1 warm-up + median of ${CONC_RUNS}`);
await withTimeout(concLmthing(), 'lmthing concurrent warm-up');
await withTimeout(concAi(), 'ai concurrent warm-up');
const conc = { lmthing: [], ai: [] };
for (let r = 0; r < CONC_RUNS; r++) {
  const order = r % 2 ? [['ai', concAi], ['lmthing', concLmthing]] : [['lmthing', concLmthing], ['ai', concAi]];
  for (const [name, fn] of order) conc[name].push(await withTimeout(fn(), `${name} concurrent run ${r + 1}`));
}
const concMedian = { lmthing: median(conc.lmthing), ai: median(conc.ai) };

// ---------------------------------------------------------------------------------------------
// Report

const idealMs = 2 * CONC_DELAY_MS;
const rows = [
  ['measure', 'lmthing', 'lmthing (mockModel)', `ai ${aiVersion}`, 'lmthing / ai'],
  [
    `ms per step, ${STEPS}-step loop (median of ${RUNS})`,
    perStep.lmthing.toFixed(3),
    perStep['lmthing (mockModel)'].toFixed(3),
    perStep.ai.toFixed(3),
    (perStep.lmthing / perStep.ai).toFixed(2),
  ],
  [
    `ms per step, ${LONG_STEPS}-step loop (median of ${LONG_RUNS})`,
    longPerStep.lmthing.toFixed(3),
    '',
    longPerStep.ai.toFixed(3),
    (longPerStep.lmthing / longPerStep.ai).toFixed(2),
  ],
  [
    `  ${LONG_STEPS} / ${STEPS} steps, ms per step`,
    (longPerStep.lmthing / perStep.lmthing).toFixed(2),
    '',
    (longPerStep.ai / perStep.ai).toFixed(2),
    '',
  ],
  [
    `wall ms, ${CONC} concurrent 2-step runs @ ${CONC_DELAY_MS} ms (ideal ${idealMs}, median of ${CONC_RUNS})`,
    concMedian.lmthing.toFixed(1),
    '(same run)',
    concMedian.ai.toFixed(1),
    (concMedian.lmthing / concMedian.ai).toFixed(2),
  ],
];
console.log('');
printTable(rows);

const cpus = os.cpus();
const out = {
  benchmark: 'step-overhead',
  date: new Date().toISOString(),
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadavg1mBefore: round(loadBefore[0], 2),
    loadavg1mAfter: round(os.loadavg()[0], 2),
  },
  versions: { lmthing: lmthingVersion, commit, ai: aiVersion, aiMock: MockName },
  toolLoop: {
    steps: STEPS + 1,
    toolCalls: STEPS,
    maxSteps: MAX_STEPS,
    warmup: WARMUP,
    runs: RUNS,
    msPerStepMedian: {
      lmthing: round(perStep.lmthing),
      lmthingMockModel: round(perStep['lmthing (mockModel)']),
      ai: round(perStep.ai),
    },
    ratioLmthingOverAi: round(perStep.lmthing / perStep.ai, 3),
    ratioLmthingMockModelOverAi: round(perStep['lmthing (mockModel)'] / perStep.ai, 3),
    samplesMsPerStep: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => round(x))])),
  },
  longToolLoop: {
    steps: LONG_STEPS + 1,
    toolCalls: LONG_STEPS,
    warmup: 1,
    runs: LONG_RUNS,
    msPerStepMedian: { lmthing: round(longPerStep.lmthing), ai: round(longPerStep.ai) },
    ratioLmthingOverAi: round(longPerStep.lmthing / longPerStep.ai, 3),
    // ms/step at LONG_STEPS over ms/step at STEPS (bare lmthing model): 1 = flat
    flatness: { lmthing: round(longPerStep.lmthing / perStep.lmthing, 3), ai: round(longPerStep.ai / perStep.ai, 3) },
    samplesMsPerStep: { lmthing: longSamples.lmthing.map((x) => round(x)), ai: longSamples.ai.map((x) => round(x)) },
  },
  concurrency: {
    runs: CONC,
    stepsPerRun: 2,
    modelDelayMs: CONC_DELAY_MS,
    idealWallMs: idealMs,
    repeats: CONC_RUNS,
    wallMsMedian: { lmthing: round(concMedian.lmthing, 1), ai: round(concMedian.ai, 1) },
    ratioLmthingOverAi: round(concMedian.lmthing / concMedian.ai, 3),
    samplesWallMs: { lmthing: conc.lmthing.map((x) => round(x, 1)), ai: conc.ai.map((x) => round(x, 1)) },
  },
};
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', 'step-overhead.json');
fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log(`\n${out.machine.cpu}, ${out.machine.cores} cores, node ${out.machine.node}, load ${out.machine.loadavg1mBefore} -> ${out.machine.loadavg1mAfter}`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
