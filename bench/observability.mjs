// The cost of observability: the 100-step tool loop with tracing + metrics + a logger at `info`
// enabled vs disabled, for lmthing and for the AI SDK with its OpenTelemetry integration
// (`@ai-sdk/otel`). Spans go to the OTel SDK's in-memory exporter on both sides (no I/O measured).
//
//   node bench/observability.mjs        (after `bash scripts/build.sh`)
//
// Writes bench/results/observability.json. See bench/README.md, "Observability overhead".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InMemorySpanExporter, BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { generateText, jsonSchema, tool, isStepCount } from 'ai';
import * as aiTest from 'ai/test';
import { OpenTelemetry } from '@ai-sdk/otel';
import { runPrompt } from '../dist/node.js';
import { check, median, printTable, round } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const aiVersion = require('ai/package.json').version;

const STEPS = 100;
const WARMUP = 2;
const RUNS = 9;
const incSchema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
const usage = { inputTokens: 10, outputTokens: 20, totalTokens: 30 };

/** A zero-latency model: STEPS tool calls inc({n}), then text (as bench/step-overhead.mjs). */
function bareModel() {
  let i = 0;
  return {
    provider: 'bench',
    modelId: 'scripted',
    async generate() {
      i++;
      if (i <= STEPS) {
        const args = { n: i };
        return { content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'inc', args, argsText: JSON.stringify(args) }], finishReason: 'tool-calls', usage };
      }
      return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
    },
  };
}

class Collect extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}

/** One lmthing run; `observed`: defTracing (in-memory exporter) + a MeterProvider + a logger at info. */
async function runLmthing(observed) {
  const exporter = new InMemorySpanExporter();
  const reader = new Collect();
  const meterProvider = new MeterProvider({ readers: [reader] });
  let logged = 0;
  const t0 = performance.now();
  const { result } = await runPrompt((ctx) => {
    if (observed) {
      ctx.defTracing('bench', { exporters: [exporter] });
      ctx.defLogger('bench', { level: 'info', outputs: [() => logged++] });
    }
    ctx.defTool('inc', 'increments', incSchema, ({ n }) => {
      ctx.logger.info('inc', { n });
      return { n: n + 1 };
    });
    ctx.$`count`;
  }, { model: bareModel(), maxSteps: STEPS + 1, ...(observed ? { meterProvider } : {}) });
  check((await result.text) === 'done', 'lmthing answered');
  const steps = (await result.steps).length;
  const ms = performance.now() - t0;
  check(steps === STEPS + 1, `lmthing made ${steps} steps`);
  if (observed) {
    const spans = exporter.getFinishedSpans();
    // run + (steps + model calls) per step + a tool call per tool step
    check(spans.length === 1 + 2 * (STEPS + 1) + STEPS, `lmthing exported ${spans.length} spans`);
    check(logged === STEPS, `lmthing logged ${logged} records`);
    const { resourceMetrics } = await reader.collect();
    check(resourceMetrics.scopeMetrics.some((s) => s.metrics.some((m) => m.descriptor.name === 'lmthing_tool_call_duration_seconds')), 'lmthing exported metrics');
  }
  await meterProvider.shutdown();
  return { ms, steps, spans: observed ? exporter.getFinishedSpans().length : 0 };
}

const MockLanguageModel = aiTest.MockLanguageModelV4 ?? aiTest.MockLanguageModelV3;
const aiUsage = { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 20, text: 20, reasoning: 0 } };

function aiModel() {
  let i = 0;
  return new MockLanguageModel({
    doGenerate: async () => {
      i++;
      if (i <= STEPS)
        return { content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'inc', input: JSON.stringify({ n: i }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: aiUsage, warnings: [] };
      return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: aiUsage, warnings: [] };
    },
  });
}

/** One AI SDK run; `observed`: its OpenTelemetry integration with the same in-memory exporter. */
async function runAi(observed) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const t0 = performance.now();
  const r = await generateText({
    model: aiModel(),
    prompt: 'count',
    tools: { inc: tool({ description: 'increments', inputSchema: jsonSchema(incSchema), execute: async ({ n }) => ({ n: n + 1 }) }) },
    stopWhen: isStepCount(STEPS + 1),
    telemetry: observed ? { isEnabled: true, integrations: [new OpenTelemetry({ tracer: provider.getTracer('ai') })] } : { isEnabled: false },
  });
  const ms = performance.now() - t0;
  check(r.text === 'done' && r.steps.length === STEPS + 1, `ai made ${r.steps.length} steps`);
  const spans = exporter.getFinishedSpans().length;
  if (observed) check(spans > STEPS, `ai exported ${spans} spans`);
  await provider.shutdown();
  return { ms, steps: r.steps.length, spans };
}

const contenders = {
  'lmthing off': () => runLmthing(false),
  'lmthing on': () => runLmthing(true),
  'ai off': () => runAi(false),
  'ai on': () => runAi(true),
};

const loadBefore = os.loadavg();
console.log(`observability overhead: ${STEPS}-step tool loop, ${WARMUP} warm-ups + ${RUNS} rotating runs each`);
for (let w = 0; w < WARMUP; w++) for (const fn of Object.values(contenders)) await fn();
const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
const spanCounts = {};
for (let r = 0; r < RUNS; r++) {
  const order = Object.entries(contenders);
  for (let k = 0; k < r % order.length; k++) order.push(order.shift()); // rotate who goes first
  for (const [name, fn] of order) {
    const { ms, steps, spans } = await fn();
    samples[name].push(ms / steps);
    spanCounts[name] = spans;
  }
}
const perStep = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const overhead = { lmthing: perStep['lmthing on'] - perStep['lmthing off'], ai: perStep['ai on'] - perStep['ai off'] };

const rows = [
  ['measure', 'lmthing', `ai ${aiVersion}`, 'lmthing / ai'],
  ['ms per step, observability off', perStep['lmthing off'].toFixed(3), perStep['ai off'].toFixed(3), (perStep['lmthing off'] / perStep['ai off']).toFixed(2)],
  ['ms per step, observability on', perStep['lmthing on'].toFixed(3), perStep['ai on'].toFixed(3), (perStep['lmthing on'] / perStep['ai on']).toFixed(2)],
  ['overhead ms per step (on - off)', overhead.lmthing.toFixed(3), overhead.ai.toFixed(3), (overhead.lmthing / overhead.ai).toFixed(2)],
  ['on / off', (perStep['lmthing on'] / perStep['lmthing off']).toFixed(2), (perStep['ai on'] / perStep['ai off']).toFixed(2), ''],
  ['spans per run', String(spanCounts['lmthing on']), String(spanCounts['ai on']), ''],
];
console.log('');
printTable(rows);
console.log(`\nlmthing on = defTracing (in-memory exporter) + a MeterProvider + a logger at info (one record per tool call);`);
console.log(`ai on = @ai-sdk/otel's OpenTelemetry integration (same exporter); the AI SDK has no metrics or logger to enable.`);

const out = {
  bench: 'observability',
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadavg: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
  ai: aiVersion,
  steps: STEPS,
  runs: RUNS,
  msPerStep: Object.fromEntries(Object.entries(perStep).map(([k, v]) => [k, round(v)])),
  overheadMsPerStep: { lmthing: round(overhead.lmthing), ai: round(overhead.ai) },
  spansPerRun: spanCounts,
};
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'observability.json'), JSON.stringify(out, null, 2) + '\n');
