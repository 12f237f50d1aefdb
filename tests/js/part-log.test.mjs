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

/** 3,000 deltas of step 0 (about 100 KB, sharing's threshold is 64 Ki characters), with other parts between. */
function longStep() {
  const deltas = Array.from({ length: 3000 }, (_, i) => `delta ${i} of a long answer, ünï 🎉 `);
  const parts = [{ type: 'step-start', stepNumber: 0 }];
  deltas.forEach((text, i) => {
    parts.push({ type: 'text-delta', text, stepNumber: 0 });
    if (i === 1700) parts.push({ type: 'reasoning-delta', text: 'between', stepNumber: 0 }); // splits the text into two runs of blocks
  });
  return { parts, whole: deltas.join('') };
}

test('a step whose deltas add up to the answer shares it; readers before and after get the same parts', async () => {
  const { log, append, close, more } = liveLog();
  const { parts, whole } = longStep();
  const early = collect(log.read(more));
  for (const p of parts) append(p);
  log.share('text-delta', 0, whole);
  const after = [{ type: 'text-delta', text: 'more of step 0', stepNumber: 0 }, { type: 'finish', text: 'done' }];
  for (const p of after) append(p); // the step's last block was sealed by the sharing: a new one takes these
  close();
  assert.deepEqual(await early, [...parts, ...after]);
  assert.deepEqual(await collect(log.read(more)), [...parts, ...after]);
});

test('a provider\'s rope of the blocks the log holds: the blocks become views of it a macrotask later, every reader gets the same parts', async () => {
  const { TextAccumulator } = await import('../../dist/providers/text-accumulator.js');
  const { log, append, close, more } = liveLog();
  const parts = Array.from({ length: 4000 }, (_, i) => ({ type: 'text-delta', text: `delta ${i}, ünï 🎉 `, stepNumber: 0 }));
  const accumulator = new TextAccumulator();
  const early = collect(log.read(more));
  for (const p of parts) {
    accumulator.append(p.text);
    append(p);
  }
  const whole = accumulator.text; // a rope of the same four blocks (text-ropes.ts)
  log.share('text-delta', 0, whole);
  assert.ok(log['entries'].every((block) => block.whole === undefined), 'the blocks are kept until the readers caught up');
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(log['entries'].every((block) => block.whole === whole && block.joined === ''), 'then each block is a view of the answer');
  close();
  assert.deepEqual(await early, parts);
  assert.deepEqual(await collect(log.read(more)), parts);
});

test('deltas that do not add up to the text offered (another step, more or other text) are kept as they are', async () => {
  const { log, close, more } = liveLog();
  const { parts, whole } = longStep();
  for (const p of parts) log.append(p);
  log.share('text-delta', 0, whole.slice(1)); // one character short
  log.share('text-delta', 0, `${whole}!`); // one too many
  log.share('text-delta', 0, `X${whole.slice(1)}`); // same length, other text
  log.share('text-delta', 1, whole); // another step
  log.share('reasoning-delta', 0, whole); // another kind
  close();
  assert.deepEqual(await collect(log.read(more)), parts);
});

test('runPrompt: a long streamed answer reads back delta for delta after the run', async () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `w${i}${i % 7 === 0 ? '\n' : ' '}`).join('');
  const mock = mockModel([{ type: 'text', text }]);
  const streamed = [];
  const model = { provider: 'mock', modelId: 'recorded', generate: (req, opts = {}) => mock.generate(req, { ...opts, onDelta: (d) => (streamed.push(d), opts.onDelta?.(d)) }) };
  const run = runPrompt((ctx) => ctx.$`write`, { model });
  assert.equal(await run.text, text);
  const deltas = (await collect(run.fullStream)).filter((p) => p.type === 'text-delta').map((p) => p.text);
  assert.ok(streamed.length > 5000, `${streamed.length} deltas streamed`);
  assert.deepEqual(deltas, streamed.map((d) => d.text));
  assert.equal((await collect(run.textStream)).join(''), text);
});

test('readBatches gives the same parts as read, in bursts of what the log has (at most max each)', async () => {
  const { log, append, close, more } = liveLog();
  const parts = someParts();
  // A live reader: the first 1,000 parts are there before it starts, the rest come one by one.
  for (const part of parts.slice(0, 1000)) append(part);
  const batches = [];
  const reading = (async () => {
    for await (const batch of log.readBatches(more, 300)) batches.push(batch);
  })();
  await new Promise((resolve) => setImmediate(resolve));
  for (const part of parts.slice(1000)) {
    append(part);
    await new Promise((resolve) => setImmediate(resolve));
  }
  close();
  await reading;
  assert.deepEqual(batches.flat(), parts);
  assert.deepEqual(batches.slice(0, 4).map((b) => b.length), [300, 300, 300, 100]);
  assert.ok(batches.slice(4).every((b) => b.length === 1), 'later parts come one burst each');
  // A late reader gets every part in full batches.
  const late = await collect(log.readBatches(more, 1024));
  assert.deepEqual(late.flat(), parts);
  assert.ok(late.slice(0, -1).every((b) => b.length === 1024));
});
