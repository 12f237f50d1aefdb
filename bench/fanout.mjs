// Parallel fan-out: 1,000 directive branches x 3 replies each with a 20 ms model, vs the same
// fan-out written with plain Promise.all over the AI SDK's generateText (each worker keeps its own
// message list). Ideal wall time: 3 x 20 ms = 60 ms. A second setup, 10,000 branches x 1 reply
// (ideal 20 ms), shows how both scale with the number of branches. lmthing also runs each setup
// with `run(agent, {events: false})` (rows marked so; the goal rows use the defaults).
//
//   node bench/fanout.mjs        (after `bash scripts/build.sh`; needs the `ai` devDependency)
//
// Each contender runs in its own node process per setup, so its peak RSS
// (process.resourceUsage().maxRSS) is its own. Writes bench/results/fanout.json.
// See bench/README.md, "Parallel fan-out".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aiSdkMock, check, median, printTable, round, sleep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DELAY_MS = 20;
// The 10k row is ~10x the work per run, so it gets fewer runs.
const SETUPS = {
  '1000x3': { branches: 1000, replies: 3, warmup: 2, runs: 7 },
  '10000x1': { branches: 10000, replies: 1, warmup: 1, runs: 3 },
};

const question = (worker, round) => `Question ${round} for worker ${worker}`;

// ------------------------------------------------------------------------------------ lmthing

async function lmthingContender({ branches, replies }, runOptions = {}) {
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
    for (let r = 0; r < replies; r++) {
      yield* L.user`${question(i, r)}`;
      last = yield* L.reply;
    }
    return last.value;
  };
  return async () => {
    calls = 0;
    const t0 = performance.now();
    const results = await run(function* () {
      return yield* L.branch(Array.from({ length: branches }, (_, i) => worker(i)));
    }, { models: { default: model }, ...runOptions });
    const ms = performance.now() - t0;
    check(results.length === branches && results[7] === `answer to ${question(7, replies - 1)}`, 'lmthing results');
    check(calls === branches * replies, `lmthing made ${calls} model calls`);
    return ms;
  };
}

// ------------------------------------------------------------------------------------ AI SDK

async function aiContender({ branches, replies }) {
  const { generateText, MockLanguageModel, answer } = await aiSdkMock();
  let calls = 0;
  const model = new MockLanguageModel({
    doGenerate: async (options) => {
      await sleep(DELAY_MS, options?.abortSignal);
      calls++;
      const last = options.prompt.at(-1).content.map((p) => p.text).join('');
      return answer(`answer to ${last}`);
    },
  });
  const worker = async (i) => {
    const messages = [];
    let last;
    for (let r = 0; r < replies; r++) {
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
    const results = await Promise.all(Array.from({ length: branches }, (_, i) => worker(i)));
    const ms = performance.now() - t0;
    check(results.length === branches && results[7] === `answer to ${question(7, replies - 1)}`, 'ai results');
    check(calls === branches * replies, `ai made ${calls} model calls`);
    return ms;
  };
}

// ------------------------------------------------------------------------------------ child

async function child(name, setup) {
  const contenders = {
    lmthing: () => lmthingContender(setup),
    // The same run with `events: false`: nothing keeps its events, so the engine does not send them.
    'lmthing-quiet': () => lmthingContender(setup, { events: false }),
    ai: () => aiContender(setup),
  };
  const once = await contenders[name]();
  const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  // The engine's wasm memory is counted in `external` and never shrinks: its growth from a run of 8
  // branches to the end of the runs is what the width costs the engine (bench/README.md, "Parallel fan-out").
  let externalBase;
  if (name !== 'ai') {
    await (await lmthingContender({ branches: 8, replies: 1 }, name === 'lmthing-quiet' ? { events: false } : {}))();
    externalBase = process.memoryUsage().external;
  }
  for (let w = 0; w < setup.warmup; w++) await once();
  const samples = [];
  for (let r = 0; r < setup.runs; r++) samples.push(await once());
  const engineKiBPerBranch = externalBase === undefined ? null : (process.memoryUsage().external - externalBase) / 1024 / setup.branches;
  process.stdout.write(JSON.stringify({ samples, rssBeforeKiB, maxRssKiB: process.resourceUsage().maxRSS, engineKiBPerBranch }));
}

/** Runs both contenders of one setup, each in a process of its own; returns the report's figures. */
function measure(setup) {
  const idealMs = setup.replies * DELAY_MS;
  const results = {};
  for (const name of ['lmthing', 'lmthing-quiet', 'ai']) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, setup.key], { encoding: 'utf8', maxBuffer: 1 << 20 });
    results[name] = JSON.parse(out);
  }
  const med = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v.samples)]));
  const mib = (kib) => round(kib / 1024, 1);
  return {
    setup: { branches: setup.branches, repliesPerBranch: setup.replies, modelDelayMs: DELAY_MS, idealMs, warmup: setup.warmup, runs: setup.runs },
    wallMsMedian: { lmthing: round(med.lmthing, 1), ai: round(med.ai, 1) },
    ratioLmthingOverAi: round(med.lmthing / med.ai, 3),
    wallOverIdeal: { lmthing: round(med.lmthing / idealMs, 2), ai: round(med.ai / idealMs, 2) },
    peakRssMiB: { lmthing: mib(results.lmthing.maxRssKiB), ai: mib(results.ai.maxRssKiB) },
    peakRssRatioLmthingOverAi: round(results.lmthing.maxRssKiB / results.ai.maxRssKiB, 3),
    rssBeforeRunsMiB: { lmthing: mib(results.lmthing.rssBeforeKiB), ai: mib(results.ai.rssBeforeKiB) },
    samplesWallMs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.samples.map((x) => round(x, 1))])),
    // lmthing with `run(agent, {events: false})`; not the goal rows, which use the defaults.
    eventsOff: {
      wallMsMedian: round(med['lmthing-quiet'], 1),
      ratioOverAi: round(med['lmthing-quiet'] / med.ai, 3),
      peakRssMiB: mib(results['lmthing-quiet'].maxRssKiB),
      peakRssRatioOverAi: round(results['lmthing-quiet'].maxRssKiB / results.ai.maxRssKiB, 3),
      // Without the run's events (kept in array buffers, also `external`): the engine alone. The
      // memory grows in steps, so only a wide fan-out gives a useful figure.
      engineMemoryKiBPerBranch: round(results['lmthing-quiet'].engineKiBPerBranch, 2),
    },
  };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], { key: process.argv[4], ...SETUPS[process.argv[4]] });
} else {
  const require = createRequire(import.meta.url);
  const aiVersion = require('ai/package.json').version;
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  const loadBefore = os.loadavg();
  const rows = [['measure', 'lmthing', `ai ${aiVersion}`, 'lmthing / ai']];
  const measured = {};
  for (const [key, setup] of Object.entries(SETUPS)) {
    const ideal = setup.replies * DELAY_MS;
    console.log(`fan-out: ${setup.branches} branches x ${setup.replies} replies, ${DELAY_MS} ms model (ideal ${ideal} ms); ${setup.warmup} warm-ups + median of ${setup.runs}, one process per contender`);
    const m = (measured[key] = measure({ key, ...setup }));
    const label = `${setup.branches} x ${setup.replies}`;
    rows.push(
      [`${label}: wall ms (median of ${setup.runs}; ideal ${ideal})`, m.wallMsMedian.lmthing.toFixed(1), m.wallMsMedian.ai.toFixed(1), m.ratioLmthingOverAi.toFixed(2)],
      [`${label}: wall / ideal`, m.wallOverIdeal.lmthing.toFixed(2), m.wallOverIdeal.ai.toFixed(2), ''],
      [`${label}: peak RSS MiB (process)`, m.peakRssMiB.lmthing.toFixed(1), m.peakRssMiB.ai.toFixed(1), m.peakRssRatioLmthingOverAi.toFixed(2)],
      [`${label}: RSS MiB before the runs`, m.rssBeforeRunsMiB.lmthing.toFixed(1), m.rssBeforeRunsMiB.ai.toFixed(1), ''],
      [`${label}, events: false: wall ms`, m.eventsOff.wallMsMedian.toFixed(1), m.wallMsMedian.ai.toFixed(1), m.eventsOff.ratioOverAi.toFixed(2)],
      [`${label}, events: false: peak RSS MiB`, m.eventsOff.peakRssMiB.toFixed(1), m.peakRssMiB.ai.toFixed(1), m.eventsOff.peakRssRatioOverAi.toFixed(2)],
      [`${label}, events: false: engine memory KiB per branch`, m.eventsOff.engineMemoryKiBPerBranch.toFixed(2), '', ''],
    );
  }
  console.log('');
  printTable(rows);
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
    // The 1,000 x 3 row at the top level, as before; the 10,000 x 1 row under its own key.
    ...measured['1000x3'],
    branches10000x1: measured['10000x1'],
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', 'fanout.json');
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n${report.machine.cpu}, ${report.machine.cores} cores, node ${report.machine.node}, load ${report.machine.loadavg1mBefore} -> ${report.machine.loadavg1mAfter}`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
