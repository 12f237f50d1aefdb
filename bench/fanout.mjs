// Parallel fan-out: 1,000 directive branches x 3 replies each with a 20 ms model, vs the same
// fan-out written with plain Promise.all over the AI SDK's generateText (each worker keeps its own
// message list). Ideal wall time: 3 x 20 ms = 60 ms.
//
//   node bench/fanout.mjs        (after `bash scripts/build.sh`; needs the `ai` devDependency)
//
// Each contender runs in its own node process so its peak RSS (process.resourceUsage().maxRSS) is
// its own. Writes bench/results/fanout.json. See bench/README.md, "Parallel fan-out".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { check, median, round, sleep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BRANCHES = 1000;
const REPLIES = 3;
const DELAY_MS = 20;
const WARMUP = 2;
const RUNS = 7;
const IDEAL_MS = REPLIES * DELAY_MS;

const question = (worker, round) => `Question ${round} for worker ${worker}`;

// ------------------------------------------------------------------------------------ lmthing

async function lmthingContender() {
  const { run, L } = await import('../dist/node.js');
  let calls = 0;
  // Like the AI SDK's mock, this model keeps no copy of its requests (mockModel records deep copies).
  const model = {
    provider: 'bench',
    modelId: 'fanout',
    async generate(req, opts) {
      await sleep(DELAY_MS, opts?.signal);
      calls++;
      return { content: [{ type: 'text', text: `answer to ${req.messages.at(-1).content}` }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  const worker = (i) => function* () {
    let last;
    for (let r = 0; r < REPLIES; r++) {
      yield* L.user`${question(i, r)}`;
      last = yield* L.reply;
    }
    return last.value;
  };
  return async () => {
    calls = 0;
    const t0 = performance.now();
    const results = await run(function* () {
      return yield* L.branch(Array.from({ length: BRANCHES }, (_, i) => worker(i)));
    }, { models: { default: model } });
    const ms = performance.now() - t0;
    check(results.length === BRANCHES && results[7] === `answer to ${question(7, REPLIES - 1)}`, 'lmthing results');
    check(calls === BRANCHES * REPLIES, `lmthing made ${calls} model calls`);
    return ms;
  };
}

// ------------------------------------------------------------------------------------ AI SDK

async function aiContender() {
  const { generateText } = await import('ai');
  const aiTest = await import('ai/test');
  const MockLanguageModel = aiTest.MockLanguageModelV4 ?? aiTest.MockLanguageModelV3;
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  let calls = 0;
  const model = new MockLanguageModel({
    doGenerate: async (options) => {
      await sleep(DELAY_MS, options?.abortSignal);
      calls++;
      const last = options.prompt.at(-1).content.map((p) => p.text).join('');
      return { content: [{ type: 'text', text: `answer to ${last}` }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
  });
  const worker = async (i) => {
    const messages = [];
    let last;
    for (let r = 0; r < REPLIES; r++) {
      messages.push({ role: 'user', content: question(i, r) });
      const result = await generateText({ model, messages });
      messages.push(...result.response.messages);
      last = result.text;
    }
    return last;
  };
  return async () => {
    calls = 0;
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: BRANCHES }, (_, i) => worker(i)));
    const ms = performance.now() - t0;
    check(results.length === BRANCHES && results[7] === `answer to ${question(7, REPLIES - 1)}`, 'ai results');
    check(calls === BRANCHES * REPLIES, `ai made ${calls} model calls`);
    return ms;
  };
}

// ------------------------------------------------------------------------------------ child

async function child(name) {
  const once = await (name === 'lmthing' ? lmthingContender() : aiContender());
  const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  for (let w = 0; w < WARMUP; w++) await once();
  const samples = [];
  for (let r = 0; r < RUNS; r++) samples.push(await once());
  process.stdout.write(JSON.stringify({ samples, rssBeforeKiB, maxRssKiB: process.resourceUsage().maxRSS }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
} else {
  const require = createRequire(import.meta.url);
  const aiVersion = require('ai/package.json').version;
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  console.log(`fan-out: ${BRANCHES} branches x ${REPLIES} replies, ${DELAY_MS} ms model (ideal ${IDEAL_MS} ms); ${WARMUP} warm-ups + median of ${RUNS}, one process per contender`);
  const loadBefore = os.loadavg();
  const results = {};
  for (const name of ['lmthing', 'ai']) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name], { encoding: 'utf8', maxBuffer: 1 << 20 });
    results[name] = JSON.parse(out);
  }
  const med = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v.samples)]));
  const rows = [
    ['measure', 'lmthing', `ai ${aiVersion}`, 'lmthing / ai'],
    [`wall ms (median of ${RUNS}; ideal ${IDEAL_MS})`, med.lmthing.toFixed(1), med.ai.toFixed(1), (med.lmthing / med.ai).toFixed(2)],
    ['wall / ideal', (med.lmthing / IDEAL_MS).toFixed(2), (med.ai / IDEAL_MS).toFixed(2), ''],
    ['peak RSS MiB (process)', (results.lmthing.maxRssKiB / 1024).toFixed(1), (results.ai.maxRssKiB / 1024).toFixed(1), (results.lmthing.maxRssKiB / results.ai.maxRssKiB).toFixed(2)],
    ['RSS MiB before the runs', (results.lmthing.rssBeforeKiB / 1024).toFixed(1), (results.ai.rssBeforeKiB / 1024).toFixed(1), ''],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log('');
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const cpus = os.cpus();
  const report = {
    benchmark: 'fanout',
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadavg1mBefore: round(loadBefore[0], 2),
      loadavg1mAfter: round(os.loadavg()[0], 2),
    },
    versions: { commit, ai: aiVersion },
    setup: { branches: BRANCHES, repliesPerBranch: REPLIES, modelDelayMs: DELAY_MS, idealMs: IDEAL_MS, warmup: WARMUP, runs: RUNS },
    wallMsMedian: { lmthing: round(med.lmthing, 1), ai: round(med.ai, 1) },
    ratioLmthingOverAi: round(med.lmthing / med.ai, 3),
    peakRssMiB: { lmthing: round(results.lmthing.maxRssKiB / 1024, 1), ai: round(results.ai.maxRssKiB / 1024, 1) },
    rssBeforeRunsMiB: { lmthing: round(results.lmthing.rssBeforeKiB / 1024, 1), ai: round(results.ai.rssBeforeKiB / 1024, 1) },
    samplesWallMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.samples.map((x) => round(x, 1))])),
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', 'fanout.json');
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n${report.machine.cpu}, ${report.machine.cores} cores, node ${report.machine.node}, load ${report.machine.loadavg1mBefore} -> ${report.machine.loadavg1mAfter}`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
