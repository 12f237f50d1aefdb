// Streaming throughput of the provider edge: how fast a model's SSE answer is turned into deltas
// and a response, so the host edge is never the bottleneck of a fast model.
//
// 1. SSE + JSON layer, lmthing vs the AI SDK: lmthing's `readSseEvents` + JSON.parse of each event
//    against `parseJsonEventStream` of @ai-sdk/provider-utils (eventsource-parser underneath; the
//    layer every AI SDK provider streams through), fed the same 16 KiB chunks of one body. The AI SDK
//    is given a schema without validation, so this is its floor (its providers also run a zod schema
//    per chunk).
// 2. Whole `generate()` per provider (SSE parsing, delta handling, response assembly, idle timer),
//    with an in-memory fetch: MB/s and deltas/s.
//
// Usage: node bench/provider-streams.mjs [MB] (default 8). Writes bench/results/provider-streams.json.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { median, round, check } from './lib.mjs';
import { readSseEvents } from '../dist/providers/sse.js';
import { createOpenAI } from '../dist/providers/openai.js';
import { createAnthropic } from '../dist/providers/anthropic.js';
import { createGoogle } from '../dist/providers/google.js';
import { parseJsonEventStream, jsonSchema } from '@ai-sdk/provider-utils';

const MB = Number(process.argv[2] ?? 8);
const RUNS = 7;
const CHUNK = 16 * 1024;
const enc = new TextEncoder();

const word = (i) => ['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet, ', 'consectetur ', 'adipiscing ', 'elit. '][i % 8];

/** Builds an SSE body of about MB megabytes from `event(i)` plus head and tail events. */
function body(head, event, tail) {
  const parts = [head];
  let size = head.length;
  let n = 0;
  while (size < MB * 1024 * 1024) {
    const e = event(n++);
    parts.push(e);
    size += e.length;
  }
  parts.push(tail);
  return { bytes: enc.encode(parts.join('')), events: n };
}

const sse = (data, event) => (event ? `event: ${event}\n` : '') + `data: ${JSON.stringify(data)}\n\n`;
const bodies = {
  'openai-chat': body(
    '',
    (i) => sse({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content: word(i) }, finish_reason: null }] }),
    sse({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
      sse({ id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 } }) +
      'data: [DONE]\n\n',
  ),
  'openai-responses': body(
    sse({ type: 'response.created', response: { id: 'resp_1', model: 'gpt-5', status: 'in_progress', output: [] } }, 'response.created') +
      sse({ type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }, 'response.output_item.added'),
    (i) => sse({ type: 'response.output_text.delta', sequence_number: i, item_id: 'msg_1', output_index: 0, content_index: 0, delta: word(i) }, 'response.output_text.delta'),
    sse({ type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } }, 'response.completed'),
  ),
  anthropic: body(
    sse({ type: 'message_start', message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 1, output_tokens: 1 } } }, 'message_start') +
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
    (i) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word(i) } }, 'content_block_delta'),
    sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }, 'message_delta') + sse({ type: 'message_stop' }, 'message_stop'),
  ),
  google: body(
    '',
    (i) => `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: word(i) }] } }], modelVersion: 'gemini-2.5-flash' })}\r\n\r\n`,
    `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: '.' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 } })}\r\n\r\n`,
  ),
};

function streamOf(bytes) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

/** Medians of `a` and `b` timed alternately (a, b, a, b, ...), so load changes hit both alike. */
async function timePair(a, b) {
  await a();
  await b();
  const ta = [];
  const tb = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    await a();
    ta.push(performance.now() - t);
    t = performance.now();
    await b();
    tb.push(performance.now() - t);
  }
  return [median(ta), median(tb)];
}

async function time(fn) {
  await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

async function lmthingSse(bytes) {
  let n = 0;
  for await (const ev of readSseEvents(streamOf(bytes))) {
    if (ev.data !== '[DONE]') JSON.parse(ev.data);
    n++;
  }
  return n;
}

async function aiSdkSse(bytes) {
  let n = 0;
  const reader = parseJsonEventStream({ stream: streamOf(bytes), schema: jsonSchema({}) }).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.success || value.rawValue !== undefined) n++;
  }
  return n;
}

const fetchOf = (bytes) => async () => new Response(streamOf(bytes), { status: 200, headers: { 'content-type': 'text/event-stream' } });
const models = {
  'openai-chat': (f) => createOpenAI({ baseURL: 'http://bench.invalid/v1', apiKey: 'k', fetch: f })('gpt-4o'),
  'openai-responses': (f) => createOpenAI({ baseURL: 'http://bench.invalid/v1', apiKey: 'k', fetch: f }).responses('gpt-5'),
  anthropic: (f) => createAnthropic({ baseURL: 'http://bench.invalid/v1', apiKey: 'k', fetch: f })('claude'),
  google: (f) => createGoogle({ baseURL: 'http://bench.invalid/v1beta', apiKey: 'k', fetch: f })('gemini-2.5-flash'),
};

const results = { date: new Date().toISOString(), loadAverage: (await import('node:os')).loadavg().map((x) => round(x, 1)), node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, memGiB: round(totalmem() / 2 ** 30, 1), sizeMB: MB, chunkBytes: CHUNK, runs: RUNS, sse: {}, generate: {} };
const mb = (bytes) => bytes.length / (1024 * 1024);

for (const [name, { bytes, events }] of Object.entries(bodies)) {
  const [ours, peer] = await timePair(() => lmthingSse(bytes), () => aiSdkSse(bytes));
  check((await lmthingSse(bytes)) >= events, `${name}: lmthing saw every event`);
  check((await aiSdkSse(bytes)) >= events - 1, `${name}: AI SDK saw every event`);
  results.sse[name] = { MB: round(mb(bytes), 2), events, lmthingMBps: round(mb(bytes) / (ours / 1000), 1), aiSdkMBps: round(mb(bytes) / (peer / 1000), 1), ratio: round(peer / ours, 2) };
  console.log(`SSE+JSON  ${name.padEnd(17)} lmthing ${results.sse[name].lmthingMBps} MB/s | AI SDK parseJsonEventStream ${results.sse[name].aiSdkMBps} MB/s | lmthing is ${results.sse[name].ratio}x`);
}

for (const [name, { bytes, events }] of Object.entries(bodies)) {
  let deltas = 0;
  const run = async () => {
    deltas = 0;
    const res = await models[name](fetchOf(bytes)).generate({ messages: [{ role: 'user', content: 'x' }] }, { onDelta: () => deltas++ });
    check(res.content[0]?.type === 'text' && res.content[0].text.length > events, `${name}: whole text assembled`);
  };
  const ms = await time(run);
  results.generate[name] = { MB: round(mb(bytes), 2), deltas, ms: round(ms, 1), MBps: round(mb(bytes) / (ms / 1000), 1), deltasPerSec: Math.round(deltas / (ms / 1000)) };
  console.log(`generate  ${name.padEnd(17)} ${results.generate[name].MBps} MB/s, ${results.generate[name].deltasPerSec} deltas/s (${deltas} deltas in ${results.generate[name].ms} ms)`);
}

writeFileSync(new URL('./results/provider-streams.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
