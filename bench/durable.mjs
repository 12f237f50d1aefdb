// Durable runs (issue 20): what the journal costs per step, and how fast a long run resumes.
//
//   node bench/durable.mjs [steps]     (after `bash scripts/build.sh`; default 200 steps; ~45 s, 2 min under heavy load)
//
// 1. Journal overhead: a `steps`-step tool loop (a zero-latency model calls a trivial tool on every
//    step but the last, which answers) without a journal and journaled to the memory, file (with and
//    without fsync) and redis adapters; ms per step, median of 5 interleaved runs after a warm-up.
// 2. Resume: a 1,000-step run is recorded, its journal cut before the last record (the final model
//    call was in flight), and `resume` timed to the end; `replay` of the whole journal is timed too.
//
// There is no durable mode in the AI SDK (or any peer this repo benchmarks against), so the baseline
// is lmthing itself without a journal. Writes bench/results/durable.json (unless `steps` is given).
// The kill -9 figure is bench/durable-kill.mjs. See bench/README.md, "Durable runs: journal
// overhead and resume time".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createEngine, fileStorage, loadJournal, memoryStorage, redisStorage, replay, resume, runPrompt } from '../dist/node.js';
import { startRedis } from '../tests/js/helpers/redis-server.mjs';
import { check, median, printTable, round } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// A step count on the command line is a trial run: its results are printed, not written.
const STEPS = Number(process.argv[2] ?? 200);
const WRITE = process.argv[2] === undefined;
const LONG_STEPS = 1000;
const RUNS = 5;

// ------------------------------------------------------------------------------------ the run

let modelCalls = 0;
let toolCalls = 0;

/**
 * A zero-latency model for a `steps`-step run. It answers by the conversation alone (the step is
 * the number of assistant turns so far), as tests/js/helpers/durable-scenario.mjs does, so a
 * resumed or replayed run asks exactly the questions the journal holds.
 */
function loopModel(steps) {
  return {
    provider: 'bench',
    modelId: 'durable-loop',
    async generate(request) {
      modelCalls++;
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      const args = { n: step };
      const content = step < steps - 1
        ? [{ type: 'tool-call', toolCallId: `c${step}`, toolName: 'inc', args, argsText: JSON.stringify(args) }]
        : [{ type: 'text', text: `done after ${step} tool calls` }];
      return { content, finishReason: step < steps - 1 ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

const incSchema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
const loopFn = (ctx) => {
  ctx.defTool('inc', 'Adds one', incSchema, ({ n }) => (toolCalls++, n + 1));
  ctx.$`Count.`;
};
const configFor = (steps) => ({ model: loopModel(steps), maxSteps: steps });

/** Checks a finished run of `steps` steps, so a wrong run is never timed as a right one. */
async function checkResult(result, steps, what) {
  check((await result.text) === `done after ${steps - 1} tool calls`, `${what}: final text`);
  check((await result.steps).length === steps, `${what}: ${steps} steps`);
}

/**
 * `storage` with its writes counted. A run's result resolves before its last journal record (the
 * one holding the final model answer) is stored, and the run's status is written after that, so
 * a run is timed until its writes have settled too: `settled()` waits for every write started so
 * far, and for writes chained on them (they start within microtasks, before setImmediate).
 */
function tracked(storage) {
  const writes = new Set();
  const count = (promise) => {
    writes.add(promise);
    promise.finally(() => writes.delete(promise)).catch(() => undefined);
    return promise;
  };
  return {
    storage: {
      name: storage.name,
      get: (...a) => storage.get(...a),
      list: (...a) => storage.list(...a),
      set: (...a) => count(storage.set(...a)),
      delete: (...a) => count(storage.delete(...a)),
      compareAndSet: (...a) => count(storage.compareAndSet(...a)),
    },
    async settled() {
      do {
        await Promise.allSettled([...writes]);
        await new Promise((resolve) => setImmediate(resolve));
      } while (writes.size > 0);
    },
  };
}

/** Starts a clock; `stop()` gives the wall ms and this process's CPU ms (user + system) since. */
function clock() {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
  };
}

let runIds = 0;

/**
 * One `steps`-step run, journaled to `storage` (none: no journal) or, with `ownEngine`, on an
 * engine created for it as a durable run's is; its wall and CPU ms, and its journal.
 */
async function timedRun(steps, { storage, ownEngine = false } = {}) {
  const id = `bench-${process.pid}-${++runIds}`;
  const store = storage && tracked(storage);
  modelCalls = toolCalls = 0;
  const stop = clock();
  const extra = store ? { durable: { id, storage: store.storage } } : ownEngine ? { engine: await createEngine() } : {};
  const { result, prompt } = await runPrompt(loopFn, { ...configFor(steps), ...extra });
  await checkResult(result, steps, 'live run');
  await store?.settled();
  const time = stop();
  check(modelCalls === steps && toolCalls === steps - 1, `live run: ${modelCalls} model calls, ${toolCalls} tool calls`);
  return { ...time, id, journal: prompt.journal };
}

// ------------------------------------------------------------------------------------ 1. overhead

/** Median ms of each variant's `STEPS`-step run, and the journal's size. */
async function measureOverhead(variants) {
  // The warm-up also checks that each adapter stored exactly the journal the run reports.
  let journal;
  for (const v of variants) {
    const options = v.options();
    const run = await timedRun(STEPS, options);
    const { storage } = options;
    if (!storage) continue;
    const stored = await loadJournal(run.id, storage);
    check(JSON.stringify(stored) === JSON.stringify(run.journal), `${v.name}: the stored journal equals prompt.journal`);
    journal ??= { records: run.journal.records.length, bytes: Buffer.byteLength(JSON.stringify(run.journal)) };
  }
  // Interleaved, so a load change on the (shared) machine hits every variant alike.
  const samples = new Map(variants.map((v) => [v.name, []]));
  for (let r = 0; r < RUNS; r++) for (const v of variants) samples.get(v.name).push(await timedRun(STEPS, v.options()));
  const wall = (name) => median(samples.get(name).map((s) => s.ms));
  const cpu = (name) => median(samples.get(name).map((s) => s.cpuMs));
  const rows = variants.map((v) => ({
    variant: v.name,
    msPerStep: round(wall(v.name) / STEPS, 4),
    ratioToNoJournal: round(wall(v.name) / wall('no journal'), 3),
    cpuMsPerStep: round(cpu(v.name) / STEPS, 4),
    cpuRatioToNoJournal: round(cpu(v.name) / cpu('no journal'), 3),
    runMsMedian: round(wall(v.name), 1),
    samplesMs: samples.get(v.name).map((s) => round(s.ms, 1)),
    samplesCpuMs: samples.get(v.name).map((s) => round(s.cpuMs, 1)),
  }));
  return { rows, journal };
}

// ------------------------------------------------------------------------------------ 2. resume

/**
 * Records a `LONG_STEPS`-step run, then times `resume` of its journal cut before the last record
 * (the final model call was in flight: resume replays the rest and makes that one call), `replay`
 * of the whole journal, and the same run live without a journal.
 */
async function measureResume() {
  const long = await timedRun(LONG_STEPS, { storage: memoryStorage() });
  const records = long.journal.records;
  const cut = records.length - 1;

  async function timedResume() {
    // A fresh storage holding the first `cut` records, as a crash after that loop turn left it
    // (keys as js/durable/journal.ts recordKey writes them).
    const id = `resume-${++runIds}`;
    const store = tracked(memoryStorage());
    for (const record of records.slice(0, cut)) await store.storage.set(`lmthing:journal:${id}:${String(record.seq).padStart(10, '0')}`, record);
    await store.settled();
    modelCalls = toolCalls = 0;
    const stop = clock();
    const { result, prompt } = await resume(id, loopFn, { ...configFor(LONG_STEPS), durable: { storage: store.storage } });
    await checkResult(result, LONG_STEPS, 'resume');
    await store.settled();
    const time = stop();
    check(modelCalls === 1 && toolCalls === 0, `resume repeated nothing but the interrupted model call (${modelCalls} model, ${toolCalls} tool calls)`);
    check(prompt.journal.records.length === records.length, 'the resumed run journaled its last turn');
    return time;
  }

  async function timedReplay() {
    modelCalls = toolCalls = 0;
    const stop = clock();
    const { result } = await replay(long.journal, loopFn, configFor(LONG_STEPS));
    await checkResult(result, LONG_STEPS, 'replay');
    const time = stop();
    check(modelCalls === 0 && toolCalls === 0, 'replay called no model and no tool');
    return time;
  }

  const samples = { resume: [], replay: [], live: [] };
  await timedResume();
  await timedReplay();
  await timedRun(LONG_STEPS);
  for (let r = 0; r < RUNS; r++) {
    samples.resume.push(await timedResume());
    samples.replay.push(await timedReplay());
    samples.live.push(await timedRun(LONG_STEPS));
  }
  const summary = (list, perRecord) => {
    const ms = median(list.map((s) => s.ms));
    const cpuMs = median(list.map((s) => s.cpuMs));
    return {
      msMedian: round(ms, 1),
      cpuMsMedian: round(cpuMs, 1),
      ...(perRecord ? { usPerRecord: round((ms * 1000) / perRecord, 2), cpuUsPerRecord: round((cpuMs * 1000) / perRecord, 2) } : {}),
      samplesMs: list.map((s) => round(s.ms, 1)),
      samplesCpuMs: list.map((s) => round(s.cpuMs, 1)),
    };
  };
  return {
    steps: LONG_STEPS,
    records: records.length,
    recordsReplayedOnResume: cut,
    recordingRunMs: round(long.ms, 1),
    resume: summary(samples.resume, cut),
    replay: summary(samples.replay, records.length),
    liveNoJournal: summary(samples.live),
  };
}

// ------------------------------------------------------------------------------------ main

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lmthing-bench-durable-'));
let redis;
let redisNote;
// startRedis() crashes the process (an unhandled spawn 'error') when the executable is missing,
// rather than rejecting: look for it first.
const redisServer = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
try {
  fs.accessSync(redisServer, fs.constants.X_OK);
  redis = await startRedis();
} catch (err) {
  redisNote = `redis row skipped: redis-server did not start (${err.message.split('\n')[0]})`;
}
const redisStore = redis && redisStorage({ url: redis.url, keyPrefix: 'bench-durable:' });

// Each file run gets a directory of its own, so every one writes into an empty directory.
const freshDir = () => fs.mkdtempSync(path.join(tmpRoot, 'journal-'));
// A durable run has an engine of its own, where a plain run uses the shared default engine; the
// second row separates that cost from the journal's.
const variants = [
  { name: 'no journal', options: () => ({}) },
  { name: 'no journal, engine of its own', options: () => ({ ownEngine: true }) },
  { name: 'memoryStorage()', options: () => ({ storage: memoryStorage() }) },
  { name: 'fileStorage, durable: false', options: () => ({ storage: fileStorage(freshDir(), { durable: false }) }) },
  { name: 'fileStorage, durable: true (fsync)', options: () => ({ storage: fileStorage(freshDir(), { durable: true }) }) },
  ...(redisStore ? [{ name: 'redisStorage (appendfsync always)', options: () => ({ storage: redisStore }) }] : []),
];

const loadBefore = os.loadavg();
const started = performance.now();
console.log(`durable runs: ${STEPS}-step tool loop, zero-latency model; warm-up + median of ${RUNS} interleaved runs per variant`);
if (redisNote) console.log(redisNote);
let overhead;
let resumed;
try {
  overhead = await measureOverhead(variants);
  resumed = await measureResume();
} finally {
  // Also after a failed check: the redis-server child would otherwise outlive this process.
  await redisStore?.close().catch(() => undefined);
  await redis?.stop();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------ report

const loadAfter = os.loadavg();
const seconds = (performance.now() - started) / 1000;
const table = printTable;
const { rows, journal } = overhead;
console.log('');
table([
  [`${STEPS}-step tool loop`, 'ms/step', 'x no journal', 'cpu ms/step', 'cpu x', 'run ms'],
  ...rows.map((o) => [o.variant, o.msPerStep.toFixed(3), o.ratioToNoJournal.toFixed(2), o.cpuMsPerStep.toFixed(3), o.cpuRatioToNoJournal.toFixed(2), o.runMsMedian.toFixed(1)]),
]);
console.log(`journal: ${journal.records} records, ${journal.bytes} bytes of JSON (${(journal.bytes / STEPS).toFixed(0)} bytes/step)`);
console.log('');
const { resume: res, replay: rep, liveNoJournal: live } = resumed;
table([
  [`${resumed.steps}-step run (${resumed.records} records)`, 'ms', 'µs/record', 'cpu ms', 'cpu µs/record'],
  [`resume after record ${resumed.recordsReplayedOnResume} (1 live model call)`, res.msMedian.toFixed(1), res.usPerRecord.toFixed(1), res.cpuMsMedian.toFixed(1), res.cpuUsPerRecord.toFixed(1)],
  [`replay of all ${resumed.records} records`, rep.msMedian.toFixed(1), rep.usPerRecord.toFixed(1), rep.cpuMsMedian.toFixed(1), rep.cpuUsPerRecord.toFixed(1)],
  ['the same run live, no journal', live.msMedian.toFixed(1), '', live.cpuMsMedian.toFixed(1), ''],
]);
console.log('\nbaseline: lmthing without a journal (the AI SDK has no durable mode to compare with)');

const cpus = os.cpus();
const report = {
  benchmark: 'durable',
  date: new Date().toISOString(),
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tmpdir: os.tmpdir(),
    loadavgBefore: loadBefore.map((x) => round(x, 2)),
    loadavgAfter: loadAfter.map((x) => round(x, 2)),
  },
  baseline: 'lmthing without a journal; the AI SDK has no durable mode',
  setup: { steps: STEPS, warmup: 1, runs: RUNS, model: 'zero latency; a tool call on every step but the last', redis: redis ? 'redis-server on loopback, appendfsync always' : redisNote },
  overhead: rows,
  journal,
  resume: resumed,
  seconds: round(seconds, 1),
};
console.log(`${report.machine.cpu}, ${report.machine.cores} cores, node ${process.version}, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} -> ${loadAfter.map((x) => x.toFixed(2)).join(' ')}, ${seconds.toFixed(1)} s`);
if (WRITE) {
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', 'durable.json');
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
