// Approval latency: the time from the model finishing a step with a tool call (its `generate`
// returning) to that call's approval request reaching the `onApproval` handler, in Node.
//
//   node bench/approval-latency.mjs     (after `bash scripts/build.sh`)
//
// Writes bench/results/approval-latency.json. See bench/README.md, "Approval latency".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runPrompt } from '../dist/node.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WARMUP = 50;
const RUNS = 500;

/** One run: a model that calls `deleteFile` once, then answers; returns the latency in µs. */
async function once() {
  let finishedAt = 0;
  let latency = -1;
  let calls = 0;
  const model = {
    provider: 'bench',
    modelId: 'bench',
    async generate() {
      const first = calls++ === 0;
      const content = first
        ? [{ type: 'tool-call', toolCallId: 'c1', toolName: 'deleteFile', args: { path: 'a.txt' }, argsText: '{"path":"a.txt"}' }]
        : [{ type: 'text', text: 'done' }];
      if (first) finishedAt = performance.now();
      return { content, finishReason: first ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  const { result } = await runPrompt((ctx) => {
    ctx.defApproval('destructive', { message: 'Delete?' });
    ctx.defTool('deleteFile', 'Deletes a file', { type: 'object', properties: { path: { type: 'string' } } }, () => 'deleted', { approval: 'destructive' });
    ctx.$`delete a.txt`;
  }, {
    model,
    onApproval: () => {
      latency = (performance.now() - finishedAt) * 1000;
      return 'approve';
    },
  });
  if ((await result.text) !== 'done' || latency < 0) throw new Error('the benchmark run did not go through its approval');
  return latency;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

for (let i = 0; i < WARMUP; i++) await once();
const samples = [];
for (let i = 0; i < RUNS; i++) samples.push(await once());
const sorted = [...samples].sort((a, b) => a - b);
const summary = {
  measure: 'model finished a tool call -> approval request reaches onApproval (µs)',
  runs: RUNS,
  medianUs: +quantile(sorted, 0.5).toFixed(1),
  p10Us: +quantile(sorted, 0.1).toFixed(1),
  p90Us: +quantile(sorted, 0.9).toFixed(1),
  maxUs: +sorted.at(-1).toFixed(1),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg()[0].toFixed(2), node: process.version },
  date: new Date().toISOString(),
};
console.log(`approval latency (${RUNS} runs): median ${summary.medianUs} µs, p10 ${summary.p10Us} µs, p90 ${summary.p90Us} µs, max ${summary.maxUs} µs`);
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'approval-latency.json'), JSON.stringify({ ...summary, samplesUs: samples.map((s) => +s.toFixed(1)) }, null, 2) + '\n');
