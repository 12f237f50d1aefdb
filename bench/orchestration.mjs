// Orchestration overhead: a 50-step workflow and a 3-way `first` parallel group in lmthing
// (defWorkflow / defParallel, run by the engine) vs the same logic in LangGraph.js (a StateGraph,
// with @langchain/core's FakeListChatModel as the model where there is one) and in plain Promise code.
//
//   node bench/orchestration.mjs        (after `bash scripts/build.sh`; needs the @langchain/langgraph devDependency)
//
// Writes bench/results/orchestration.json. See bench/README.md, "Orchestration vs LangGraph.js".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runPrompt, mockModel } from '../dist/node.js';
import { StateGraph, Annotation, START, END } from '@langchain/langgraph';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { check, median, round, sleep } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const langgraphVersion = JSON.parse(fs.readFileSync(require.resolve('@langchain/langgraph/package.json'), 'utf8')).version;

const STEPS = 50;
const WARMUP = 3;
const RUNS = 21;
// The three `first` racers' model latencies, ms: the fastest wins, the others are cancelled.
const LATENCIES = { fast: 5, medium: 40, slow: 80 };

/** A step's work: the same pure function everywhere, so the figures are orchestration only. */
const work = (n) => n + 1;

// ------------------------------------------------------------------------------ plain Promise code

async function plainWorkflow() {
  let n = 0;
  for (let i = 0; i < STEPS; i++) n = await Promise.resolve(work(n));
  return n;
}

/** A fake model call that honours an AbortSignal (as fetch does). */
const fakeModel = (name, signal) => sleep(LATENCIES[name], signal).then(() => `${name} answer`);

async function plainFirst() {
  const controller = new AbortController();
  const answer = await Promise.any(Object.keys(LATENCIES).map((name) => fakeModel(name, controller.signal)));
  controller.abort();
  return answer;
}

// -------------------------------------------------------------------------------------- LangGraph

const Counter = Annotation.Root({ n: Annotation({ reducer: (_, b) => b, default: () => 0 }) });

function langgraphWorkflow() {
  const graph = new StateGraph(Counter);
  for (let i = 0; i < STEPS; i++) graph.addNode(`s${i}`, (state) => ({ n: work(state.n) }));
  graph.addEdge(START, 's0');
  for (let i = 1; i < STEPS; i++) graph.addEdge(`s${i - 1}`, `s${i}`);
  graph.addEdge(`s${STEPS - 1}`, END);
  return graph.compile();
}

const Answer = Annotation.Root({ answer: Annotation({ reducer: (_, b) => b, default: () => '' }) });

// LangGraph has no first-success join (a fan-out's join waits for every branch), so the race is
// one node, as a LangGraph user would write it: the three fake models raced, the losers aborted.
function langgraphFirst() {
  const models = Object.fromEntries(Object.entries(LATENCIES).map(([name, ms]) => [name, new FakeListChatModel({ responses: [`${name} answer`], sleep: ms })]));
  const graph = new StateGraph(Answer)
    .addNode('race', async () => {
      const controller = new AbortController();
      const answer = await Promise.any(Object.entries(models).map(([, model]) => model.invoke('q', { signal: controller.signal }).then((m) => m.content)));
      controller.abort();
      return { answer };
    })
    .addEdge(START, 'race')
    .addEdge('race', END);
  return graph.compile();
}

// ---------------------------------------------------------------------------------------- lmthing

/**
 * One prompt run whose tool `bench` calls `body(ctx)` `count` times, timing each call; the run's
 * own start and model step are outside the timings.
 */
async function lmthingTimings(define, body, count) {
  const times = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'bench', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    define(ctx);
    ctx.defTool('bench', 'runs the benchmark', { type: 'object', properties: {} }, async () => {
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await body(ctx);
        times.push(performance.now() - t);
      }
      return 'ok';
    });
    ctx.$`bench`;
  }, { model });
  check((await result.text) === 'done', 'the lmthing run finished');
  return times;
}

const defineWorkflow = (ctx) =>
  ctx.defWorkflow('fifty', Array.from({ length: STEPS }, (_, i) => ({ id: `s${i}`, action: (wctx) => (wctx.state.n = work(wctx.state.n)) })));

const defineFirst = (ctx) =>
  ctx.defParallel('race', Object.fromEntries(Object.keys(LATENCIES).map((name) => [name, (input, task) => fakeModel(name, task.abortSignal)])), { aggregation: 'first' });

// ------------------------------------------------------------------------------------------ runs

async function timeEach(fn, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times;
}

async function main() {
  const workflowGraph = langgraphWorkflow();
  const firstGraph = langgraphFirst();

  const workflow = {
    plain: await timeEach(async () => check((await plainWorkflow()) === STEPS, 'plain 50 steps'), WARMUP + RUNS),
    langgraph: await timeEach(async () => check((await workflowGraph.invoke({ n: 0 }, { recursionLimit: STEPS + 10 })).n === STEPS, 'langgraph 50 steps'), WARMUP + RUNS),
    lmthing: await lmthingTimings(defineWorkflow, async (ctx) => check((await ctx.runWorkflow('fifty', { n: 0 })).state.n === STEPS, 'lmthing 50 steps'), WARMUP + RUNS),
  };
  const first = {
    plain: await timeEach(async () => check((await plainFirst()) === 'fast answer', 'plain first'), WARMUP + RUNS),
    langgraph: await timeEach(async () => check((await firstGraph.invoke({})).answer === 'fast answer', 'langgraph first'), WARMUP + RUNS),
    lmthing: await lmthingTimings(defineFirst, async (ctx) => check((await ctx.executeParallel('race')) === 'fast answer', 'lmthing first'), WARMUP + RUNS),
  };

  const summary = (times) => round(median(times.slice(WARMUP)), 3);
  const w = Object.fromEntries(Object.entries(workflow).map(([k, v]) => [k, summary(v)]));
  const f = Object.fromEntries(Object.entries(first).map(([k, v]) => [k, summary(v)]));
  const perStep = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, round((v * 1000) / STEPS, 1)]));
  const overFast = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, round(v - LATENCIES.fast, 3)]));
  const result = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadavg: os.loadavg().map((x) => round(x, 2)), node: process.version },
    langgraph: langgraphVersion,
    runs: RUNS,
    warmup: WARMUP,
    workflow50: { medianMs: w, perStepUs: perStep, lmthingOverLanggraph: round(w.lmthing / w.langgraph, 2), lmthingOverPlain: round(w.lmthing / w.plain, 1) },
    first3: { latenciesMs: LATENCIES, medianMs: f, overFastestMs: overFast, lmthingOverLanggraph: round(f.lmthing / f.langgraph, 2) },
    samples: { workflow, first },
  };
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  fs.writeFileSync(path.join(here, 'results', 'orchestration.json'), `${JSON.stringify(result, null, 1)}\n`);
  console.log(`50-step workflow (median of ${RUNS}): plain ${w.plain} ms (${perStep.plain} µs/step) | LangGraph ${w.langgraph} ms (${perStep.langgraph} µs/step) | lmthing ${w.lmthing} ms (${perStep.lmthing} µs/step)`);
  console.log(`  lmthing/LangGraph ${result.workflow50.lmthingOverLanggraph}x, lmthing/plain ${result.workflow50.lmthingOverPlain}x`);
  console.log(`3-way first (fastest model ${LATENCIES.fast} ms): plain ${f.plain} ms | LangGraph ${f.langgraph} ms | lmthing ${f.lmthing} ms; over the fastest model: plain ${overFast.plain}, LangGraph ${overFast.langgraph}, lmthing ${overFast.lmthing} ms`);
}

await main();
