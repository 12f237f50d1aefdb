// What an unused retry policy + circuit breaker + constraints cost around a tool call: a 100-step
// tool loop with a zero-latency scripted model, run with a bare tool and with the same tool wrapped
// in `retry`, `circuitBreaker`, a token budget and a tool rate limit that never trigger.
//
//   node bench/resilience-overhead.mjs        (after `bash scripts/build.sh`)
//
// Writes bench/results/resilience-overhead.json. See bench/README.md.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPrompt } from '../dist/node.js';
import { median } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const STEPS = 100;
const WARMUP = 3;
const RUNS = 15;
const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };

/** STEPS tool calls inc({n}), then text; no per-call work beyond building the response. */
function scriptedModel() {
  let i = 0;
  const usage = { inputTokens: 10, outputTokens: 20, totalTokens: 30 };
  return {
    provider: 'bench',
    modelId: 'scripted',
    async generate() {
      i++;
      if (i > STEPS) return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
      const args = { n: i };
      return { content: [{ type: 'tool-call', toolCallId: `c${i}`, toolName: 'inc', args, argsText: JSON.stringify(args) }], finishReason: 'tool-calls', usage };
    },
  };
}

async function run(guarded) {
  let calls = 0;
  const t0 = performance.now();
  const { result } = await runPrompt((ctx) => {
    if (guarded) {
      ctx.defRetry('net', { maxAttempts: 3, backoff: 'exponential', baseDelay: 100 });
      ctx.defCircuitBreaker('cb', { failureThreshold: 5, resetTimeout: 1000 });
      ctx.defConstraint('budget', 'tokens', { max: 1e9 });
      ctx.defConstraint('rps', 'rate', { requests: 1e6, period: 1000, scope: 'tool' });
    }
    const options = guarded ? { retry: 'net', circuitBreaker: 'cb' } : {};
    ctx.defTool('inc', 'increments', schema, ({ n }) => (calls++, { n: n + 1 }), options);
    ctx.$`count`;
  }, { model: scriptedModel(), options: { maxSteps: STEPS + 1 } });
  await result.text;
  const ms = performance.now() - t0;
  if (calls !== STEPS) throw new Error(`expected ${STEPS} tool calls, got ${calls}`);
  return ms;
}

const times = { bare: [], guarded: [] };
for (let i = 0; i < WARMUP; i++) {
  await run(false);
  await run(true);
}
for (let i = 0; i < RUNS; i++) {
  // Alternate so drift on a shared machine hits both alike.
  times.bare.push(await run(false));
  times.guarded.push(await run(true));
}
const bareUs = (median(times.bare) / STEPS) * 1000;
const guardedUs = (median(times.guarded) / STEPS) * 1000;
const result = {
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, load: os.loadavg()[0] },
  steps: STEPS,
  runs: RUNS,
  bareUsPerStep: Number(bareUs.toFixed(1)),
  guardedUsPerStep: Number(guardedUs.toFixed(1)),
  overheadUsPerToolCall: Number((guardedUs - bareUs).toFixed(1)),
  ratio: Number((guardedUs / bareUs).toFixed(3)),
};
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'resilience-overhead.json'), JSON.stringify(result, null, 2) + '\n');
console.log(`step with a bare tool:            ${result.bareUsPerStep} µs`);
console.log(`step with retry+breaker+limits:   ${result.guardedUsPerStep} µs`);
console.log(`overhead per guarded tool call:   ${result.overheadUsPerToolCall} µs (ratio ${result.ratio})`);
