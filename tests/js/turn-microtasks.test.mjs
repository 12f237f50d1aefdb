// The engine's after-turn queue (js/run/turn-microtasks.ts): one microtask per turn must run the
// turn's work in the order, and at the place among other microtasks, that one queueMicrotask per
// item would have.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TurnMicrotasks } from '../../dist/run/turn-microtasks.js';

/** What one queueMicrotask per item does with the same script, for comparison. */
function script(later, close, log) {
  later(() => log.push('a'));
  later(() => {
    log.push('b');
    // Work queued while the batch runs waits behind what was queued before it.
    later(() => log.push('d'));
    queueMicrotask(() => log.push('e'));
  });
  close(); // the turn ends
  queueMicrotask(() => log.push('c'));
  later(() => log.push('c2')); // after the turn: behind c
}

test('turn microtasks: the same order as one queueMicrotask per item, within a turn, across turns and from inside a batch', async () => {
  const native = [];
  script(queueMicrotask, () => {}, native);
  await new Promise((resolve) => setTimeout(resolve, 0));

  const batched = [];
  const turn = new TurnMicrotasks();
  script((fn) => turn.add(fn), () => turn.close(), batched);
  assert.deepEqual(batched, []); // nothing runs inside the turn
  await new Promise((resolve) => setTimeout(resolve, 0));

  assert.deepEqual(native, ['a', 'b', 'c', 'c2', 'd', 'e']);
  assert.deepEqual(batched, native);
});

test('turn microtasks: an item that throws is reported as uncaught, and the rest of the batch still runs', async () => {
  const seen = [];
  const errors = [];
  const onError = (err) => errors.push(err.message);
  process.prependListener('uncaughtException', onError);
  const saved = process.listeners('uncaughtException').filter((l) => l !== onError);
  for (const l of saved) process.off('uncaughtException', l);
  try {
    const turn = new TurnMicrotasks();
    turn.add(() => seen.push(1));
    turn.add(() => {
      throw new Error('boom');
    });
    turn.add(() => seen.push(3));
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    process.off('uncaughtException', onError);
    for (const l of saved) process.on('uncaughtException', l);
  }
  assert.deepEqual(seen, [1, 3]);
  assert.deepEqual(errors, ['boom']);
});
