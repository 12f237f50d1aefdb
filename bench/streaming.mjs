// Streaming throughput end to end (issue 19): a loopback HTTP server streams an OpenAI Chat
// Completions answer of 50 MiB of text as SSE `chat.completion.chunk`s (64 bytes of content per
// delta); lmthing's `runPrompt` with its OpenAI provider and the AI SDK's `streamText` with
// `@ai-sdk/openai` read it through `textStream`. Same server, same bytes, checked on arrival.
//
//   node bench/streaming.mjs [MiB] [RUNS]   (after `bash scripts/build.sh`; default 50 MiB, 3 runs)
//
// The server lives in this process with the body pre-built; each contender runs in a child process
// of its own (memory figures are its own), one warm-up each, then the runs alternate. Each child
// samples its RSS and heapUsed every 50 ms during a run. Writes bench/results/streaming.json
// (default size and runs only). See bench/README.md, "Streaming".
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { fork, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { check, median, printTable, round } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.argv[2] ?? 50);
const RUNS = Number(process.argv[3] ?? 3);
const DELTA_BYTES = 64; // content per chunk: a few tokens, as a fast model batches them
const WRITE_BYTES = 64 * 1024; // the server writes the pre-built events in slabs of this size
const SAMPLE_MS = 50;
const RUN_TIMEOUT_MS = 10 * 60_000;

// ------------------------------------------------------------------------------------ child

async function lmthingStream(url) {
  const { runPrompt, createOpenAI } = await import('../dist/node.js');
  const model = createOpenAI({ baseURL: url, apiKey: 'bench' })('gpt-4o');
  return async () => {
    const run = runPrompt((ctx) => {
      ctx.$`Write a lot.`;
    }, { model });
    let bytes = 0;
    let deltas = 0;
    for await (const d of run.textStream) {
      bytes += Buffer.byteLength(d);
      deltas++;
    }
    return { bytes, deltas };
  };
}

async function aiStream(url) {
  const { streamText } = await import('ai');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const model = createOpenAI({ baseURL: url, apiKey: 'bench' }).chat('gpt-4o');
  return async () => {
    let error;
    const result = streamText({ model, prompt: 'Write a lot.', onError: ({ error: e }) => { error = e; } });
    let bytes = 0;
    let deltas = 0;
    for await (const d of result.textStream) {
      bytes += Buffer.byteLength(d);
      deltas++;
    }
    if (error) throw error; // streamText reports stream errors here, not by throwing
    return { bytes, deltas };
  };
}

const memory = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external }; // external holds lmthing's wasm memory
};

async function child(name, url) {
  const once = await (name === 'lmthing' ? lmthingStream(url) : aiStream(url));
  process.on('message', async ({ expectBytes }) => {
    globalThis.gc?.(); // start each run from a collected heap, so growth is this run's
    const start = memory();
    const peak = { ...start };
    let samples = 0;
    const sample = () => {
      const m = memory();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      peak.external = Math.max(peak.external, m.external);
      samples++;
    };
    const timer = setInterval(sample, SAMPLE_MS);
    const t0 = performance.now();
    const { bytes, deltas } = await once();
    const ms = performance.now() - t0;
    sample();
    clearInterval(timer);
    check(bytes === expectBytes, `${name} received ${bytes} bytes of text, the server sent ${expectBytes}`);
    // maxRSS: the kernel's peak for the process so far, which no sampling gap can miss
    process.send({ ms, bytes, deltas, start, peak, samples, maxRss: process.resourceUsage().maxRSS * 1024 });
  });
  globalThis.gc?.();
  process.send({ ready: true, loaded: memory() }); // the baseline: package loaded, nothing streamed yet
}

// ------------------------------------------------------------------------------------ server

/** The SSE body as slabs of about WRITE_BYTES, in the wire format of a recorded OpenAI stream. */
function buildBody(textBytes) {
  const head = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1755691077, model: 'gpt-4o-2024-08-06', service_tier: 'default', system_fingerprint: 'fp_bench' };
  const event = (choices, usage = null) => `data: ${JSON.stringify({ ...head, choices, usage, obfuscation: 'XjUSo1V9S' })}\n\n`;
  const delta = (content) => [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }];
  // Words and punctuation, plus an escaped quote and newline now and then (JSON escapes on the wire).
  const words = 'The quick brown fox jumps over the lazy dog, then "rests" by the river.\nLorem ipsum dolor sit amet, consectetur adipiscing elit. ';
  const events = [event([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }])];
  let sent = 0;
  for (let at = 0; sent < textBytes; at = (at + DELTA_BYTES) % words.length) {
    const content = (words + words).slice(at, at + Math.min(DELTA_BYTES, textBytes - sent));
    events.push(event(delta(content)));
    sent += content.length; // ASCII: one byte per character
  }
  const deltas = events.length - 1;
  events.push(event([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  events.push(event([], { prompt_tokens: 11, completion_tokens: deltas * 16, total_tokens: 11 + deltas * 16 }));
  events.push('data: [DONE]\n\n');
  const slabs = [];
  for (let i = 0; i < events.length;) {
    let s = '';
    while (i < events.length && s.length < WRITE_BYTES) s += events[i++];
    slabs.push(Buffer.from(s));
  }
  return { slabs, textBytes: sent, deltas, wireBytes: slabs.reduce((a, b) => a + b.length, 0) };
}

/** Streams `body` to every request, honouring backpressure (a slow reader slows the server). */
async function serve(body) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      let i = 0;
      const pump = () => {
        while (i < body.slabs.length) if (!res.write(body.slabs[i++])) return void res.once('drain', pump);
        res.end();
      };
      pump();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((resolve) => server.close(resolve)) };
}

// ------------------------------------------------------------------------------------ parent

/** A contender's child process; `run()` resolves with one run's figures. */
async function startChild(name, url) {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', name, url], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending;
  const failed = new Promise((_, reject) => proc.once('exit', (code) => reject(new Error(`${name} child exited (${code})`))));
  failed.catch(() => {});
  const next = () => Promise.race([new Promise((resolve) => { pending = resolve; }), failed]);
  proc.on('message', (m) => pending?.(m));
  const { loaded } = await next();
  return {
    loaded,
    async run(expectBytes) {
      let t;
      const timeout = new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`${name}: no result after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS); });
      const answer = next();
      proc.send({ expectBytes });
      try {
        return await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(t);
      }
    },
    stop: () => proc.kill(),
  };
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  const require = createRequire(import.meta.url);
  const versions = { ai: require('ai/package.json').version, aiSdkOpenai: require('@ai-sdk/openai/package.json').version };
  try {
    versions.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  const body = buildBody(SIZE_MIB * MIB);
  console.log(`streaming: ${SIZE_MIB} MiB of text in ${body.deltas} deltas of ${DELTA_BYTES} bytes (${(body.wireBytes / MIB).toFixed(1)} MiB of SSE); 1 warm-up + ${RUNS} alternating runs, one process per contender`);
  const loadBefore = os.loadavg();
  const server = await serve(body);
  const names = ['lmthing', 'ai'];
  const children = {};
  const runs = { lmthing: [], ai: [] };
  try {
    for (const name of names) children[name] = await startChild(name, server.url);
    for (const name of names) {
      const w = await children[name].run(body.textBytes);
      console.log(`  warm-up ${name.padEnd(7)} ${(w.ms / 1000).toFixed(1)} s`);
    }
    for (let r = 0; r < RUNS; r++) {
      for (const name of r % 2 ? [...names].reverse() : names) {
        const x = await children[name].run(body.textBytes);
        runs[name].push(x);
        console.log(`  run ${r + 1}   ${name.padEnd(7)} ${(x.ms / 1000).toFixed(1)} s, sampled peak RSS ${(x.peak.rss / MIB).toFixed(1)} MiB`);
      }
    }
  } finally {
    for (const c of Object.values(children)) c.stop();
    await server.close();
  }

  const mibps = (x) => body.textBytes / MIB / (x.ms / 1000);
  const mib = (bytes) => round(bytes / MIB, 1);
  const summary = Object.fromEntries(names.map((name) => {
    const xs = runs[name];
    const { loaded } = children[name];
    const max = (f) => Math.max(...xs.map(f));
    return [name, {
      mibPerSecondMedian: round(median(xs.map(mibps)), 2),
      msMedian: round(median(xs.map((x) => x.ms)), 1),
      deltasReceived: xs[0].deltas,
      // RSS: the process after loading the package (nothing streamed yet) and its peak (maxRSS,
      // warm-up included); the growth includes what a run leaves behind (a wasm heap never shrinks).
      loadedRssMiB: mib(loaded.rss),
      peakRssMiB: mib(max((x) => x.maxRss)),
      rssGrowthMiB: mib(max((x) => x.maxRss) - loaded.rss),
      loadedExternalMiB: mib(loaded.external),
      peakExternalMiB: mib(max((x) => x.peak.external)),
      // Per run, from its start after a gc(): JS heap, and external memory (Buffers, wasm memory).
      heapUsedGrowthPerRunMiB: mib(max((x) => x.peak.heapUsed - x.start.heapUsed)),
      externalGrowthPerRunMiB: mib(max((x) => x.peak.external - x.start.external)),
      samples: xs.map((x) => ({
        ms: round(x.ms, 1), mibPerSecond: round(mibps(x), 2), memorySamples: x.samples,
        startRssMiB: mib(x.start.rss), peakRssMiB: mib(x.peak.rss),
        startHeapUsedMiB: mib(x.start.heapUsed), peakHeapUsedMiB: mib(x.peak.heapUsed),
        startExternalMiB: mib(x.start.external), peakExternalMiB: mib(x.peak.external),
      })),
    }];
  }));
  const ratio = round(median(runs.lmthing.map(mibps)) / median(runs.ai.map(mibps)), 3); // from the unrounded medians

  const rows = [
    ['measure', 'lmthing', `ai ${versions.ai}`, 'lmthing / ai'],
    [`MiB/s of text (median of ${RUNS})`, summary.lmthing.mibPerSecondMedian.toFixed(2), summary.ai.mibPerSecondMedian.toFixed(2), ratio.toFixed(2)],
    ['peak RSS MiB', summary.lmthing.peakRssMiB.toFixed(1), summary.ai.peakRssMiB.toFixed(1), (summary.lmthing.peakRssMiB / summary.ai.peakRssMiB).toFixed(2)],
    ['external MiB (wasm memory, Buffers), peak', summary.lmthing.peakExternalMiB.toFixed(1), summary.ai.peakExternalMiB.toFixed(1), ''],
    ['RSS MiB after loading (before any run)', summary.lmthing.loadedRssMiB.toFixed(1), summary.ai.loadedRssMiB.toFixed(1), ''],
    ['RSS growth MiB (peak - loaded)', summary.lmthing.rssGrowthMiB.toFixed(1), summary.ai.rssGrowthMiB.toFixed(1), ''],
    ['heapUsed growth in a run MiB', summary.lmthing.heapUsedGrowthPerRunMiB.toFixed(1), summary.ai.heapUsedGrowthPerRunMiB.toFixed(1), ''],
    ['external growth in a run MiB', summary.lmthing.externalGrowthPerRunMiB.toFixed(1), summary.ai.externalGrowthPerRunMiB.toFixed(1), ''],
  ];
  console.log('');
  printTable(rows);

  const cpus = os.cpus();
  const report = {
    benchmark: 'streaming',
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, totalMemGiB: round(os.totalmem() / 2 ** 30, 1), loadavg1mBefore: round(loadBefore[0], 2), loadavg1mAfter: round(os.loadavg()[0], 2) },
    versions,
    setup: { textMiB: SIZE_MIB, textBytes: body.textBytes, deltaBytes: DELTA_BYTES, deltas: body.deltas, wireMiB: round(body.wireBytes / MIB, 1), serverWriteBytes: WRITE_BYTES, memorySampleMs: SAMPLE_MS, warmup: 1, runs: RUNS },
    mibPerSecondMedian: { lmthing: summary.lmthing.mibPerSecondMedian, ai: summary.ai.mibPerSecondMedian },
    ratioLmthingOverAi: ratio,
    contenders: summary,
  };
  console.log(`\n${report.machine.cpu}, ${report.machine.cores} cores, node ${report.machine.node}, load ${report.machine.loadavg1mBefore} -> ${report.machine.loadavg1mAfter}`);
  if (process.argv[2] === undefined && process.argv[3] === undefined) {
    const file = path.join(here, 'results', 'streaming.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
