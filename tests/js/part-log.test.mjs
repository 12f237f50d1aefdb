// The replayable part log behind runPrompt's fullStream and textStream (js/prompt/part-log.ts): text
// and reasoning deltas are stored joined in blocks, and every reader, live or late, must still get
// every part in order with the exact text of each delta.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PartLog } from '../../dist/prompt/part-log.js';
import { mockModel, runPrompt } from '../../dist/node.js';

/** A log and the readers' `more` callback: waits for the next append, false once closed. */
function liveLog() {
  const log = new PartLog();
  let closed = false;
  let wake = [];
  const notify = () => wake.splice(0).forEach((f) => f());
  return {
    log,
    append: (part) => (log.append(part), notify()),
    close: () => ((closed = true), notify()),
    more: () => (closed ? Promise.resolve(false) : new Promise((resolve) => wake.push(() => resolve(true)))),
  };
}

const collect = async (iterable) => {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
};

/** 2,500 text deltas in step 0 (more than two blocks), reasoning and events between, then step 1. */
function someParts() {
  const parts = [{ type: 'step-start', stepNumber: 0 }];
  for (let i = 0; i < 2500; i++) parts.push({ type: 'text-delta', text: `t${i} `, stepNumber: 0 });
  parts.push({ type: 'reasoning-delta', text: 'hmm', stepNumber: 0 });
  parts.push({ type: 'reasoning-delta', text: '', stepNumber: 0 }); // an empty delta is still a part
  parts.push({ type: 'text-delta', text: 'after reasoning', stepNumber: 0 });
  parts.push({ type: 'step-finish', stepNumber: 0 });
  parts.push({ type: 'text-delta', text: 'ünïcødé 🎉', stepNumber: 1 });
  parts.push({ type: 'text-delta', text: 'x', stepNumber: 2 }); // a new step starts a new block
  parts.push({ type: 'finish', text: 'done' });
  return parts;
}

test('a reader that starts after the last part gets every part, in order, with each delta as it came', async () => {
  const { log, close, more } = liveLog();
  const parts = someParts();
  for (const p of parts) log.append(p);
  close();
  assert.deepEqual(await collect(log.read(more)), parts);
  assert.deepEqual(await collect(log.read(more)), parts); // and again
});

test('live readers, one from the start and one joining midway, see the same parts as a late one', async () => {
  const { log, append, close, more } = liveLog();
  const parts = someParts();
  const early = collect(log.read(more));
  let midway;
  for (const [i, p] of parts.entries()) {
    append(p);
    if (i === 1500) midway = collect(log.read(more));
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the readers catch up
  }
  close();
  assert.deepEqual(await early, parts);
  assert.deepEqual(await midway, parts);
});

test('runPrompt: textStream and fullStream read after the run give the streamed deltas again', async () => {
  const words = Array.from({ length: 3000 }, (_, i) => `w${i} `).join('');
  const { result } = await runPrompt((ctx) => ctx.$`long`, { model: mockModel([{ type: 'text', text: words }]) });
  const live = await collect(result.textStream);
  assert.equal(live.length, 3000); // the mock streams one word per delta
  assert.equal(await result.text, words);
  const late = await collect(result.textStream);
  assert.deepEqual(late, live);
  const deltas = (await collect(result.fullStream)).filter((p) => p.type === 'text-delta');
  assert.deepEqual(deltas.map((p) => p.text), live);
  assert.ok(deltas.every((p) => p.stepNumber === 0));
});
