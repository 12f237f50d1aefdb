// A long streamed answer is held once while it streams (js/providers/shared-blocks.ts): the
// provider's text and the run's part log join the same deltas into equal blocks and keep one string
// for both. Measured halfway through a 16 MiB answer, with forced garbage collections: two copies
// would grow the heap by about twice what has streamed. At the end the answer is a rope of those
// blocks, and once read whole (made flat) the run's log holds views of it: still one copy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';

import { createOpenAI, runPrompt } from '../../dist/node.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const MB = 1024 * 1024;
const DELTAS = 256 * 1024; // of 64 characters: 16 MiB of text
const SLAB = 256; // deltas per chunk of the response body

const encoder = new TextEncoder();
const event = (delta, finish = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const content = (i) => `${String(i).padStart(8, '0')} ${'lorem ipsum '.repeat(5)}`.slice(0, 63) + '\n';

/**
 * An OpenAI model whose answer is a Chat Completions stream of DELTAS deltas that stops halfway:
 * `halfway` resolves there, and the stream goes on when `resume()` is called.
 */
function pausingModel() {
  let resume;
  const resumed = new Promise((resolve) => (resume = resolve));
  let reached;
  const halfway = new Promise((resolve) => (reached = resolve));
  const fetch = async () => {
    let i = 0;
    const body = new ReadableStream({
      async pull(controller) {
        if (i === DELTAS / 2) {
          reached();
          await resumed;
        }
        if (i === DELTAS) {
          controller.enqueue(encoder.encode(event({}, 'stop') + 'data: [DONE]\n\n'));
          return controller.close();
        }
        let slab = '';
        for (const end = i + SLAB; i < end; i++) slab += event({ content: content(i) });
        controller.enqueue(encoder.encode(slab));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return { model: createOpenAI({ apiKey: 'test', fetch })('gpt-4o'), halfway, resume: () => resume() };
}

function heapUsed() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function measuredRun() {
  const { model, halfway, resume } = pausingModel();
  const before = heapUsed();
  const run = runPrompt((ctx) => ctx.$`Write a lot.`, { model });
  await halfway;
  await new Promise((resolve) => setTimeout(resolve, 50)); // the last slab's deltas reach the run
  const atHalf = heapUsed() - before;
  resume();
  const text = await run.text;
  const atEnd = heapUsed() - before;
  text.charCodeAt(1); // read whole: V8 makes the provider's rope one flat string (text-ropes.ts)
  await new Promise((resolve) => setTimeout(resolve, 10));
  const afterRead = heapUsed() - before;
  return { run, text, atHalf, atEnd, afterRead };
}

test('a long answer is held once while it streams, and once when it is done', { timeout: 60_000 }, async () => {
  await measuredRun(); // a warm-up: what the first run compiles and caches is not counted
  const { run, text, atHalf, atEnd, afterRead } = await measuredRun();
  assert.equal(text.length, DELTAS * 64);
  assert.equal(text.slice(64 * 1000, 64 * 1001), content(1000));
  const half = (DELTAS / 2) * 64;
  const mib = (bytes) => `${(bytes / MB).toFixed(1)} MiB`;
  assert.ok(atHalf < 1.4 * half, `halfway the heap grew by ${mib(atHalf)} for ${mib(half)} streamed`);
  assert.ok(atEnd < 1.4 * text.length, `the heap kept ${mib(atEnd)} for a ${mib(text.length)} answer`);
  assert.ok(afterRead < 1.4 * text.length, `once the answer was read whole, the heap kept ${mib(afterRead)} for a ${mib(text.length)} answer`);
  assert.ok(run, 'the run and its parts are still referenced when measured');
});
