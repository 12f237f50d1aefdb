// JsonLog (js/directive/json-log.ts): a directive run's unread events kept as UTF-8 bytes outside
// the JS heap, and EventQueue over it: each entry comes back as the value its bytes held, in order,
// across chunk boundaries, after the view it was copied from changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EventQueue } from '../../dist/directive/events.js';
import { JsonLog } from '../../dist/directive/json-log.js';

const bytes = (value) => new TextEncoder().encode(JSON.stringify(value));

test('entries come back parsed, across 64 KiB chunks, one larger than a chunk, multi-byte text included', () => {
  const log = new JsonLog();
  const values = [];
  for (let i = 0; i < 3000; i++) values.push({ type: 'step-finish', i, text: `réponse ${i} ✓ ${'x'.repeat(i % 50)}` });
  values.splice(1500, 0, { type: 'big', text: 'z'.repeat(100_000) });
  const entries = values.map((value) => log.append(bytes(value)));
  assert.deepEqual(entries, values.map((_, i) => i));
  for (const [i, value] of values.entries()) assert.deepEqual(log.parse(i), value);
});

test('append copies: the view may change afterwards (it is wasm memory, valid only during the call)', () => {
  const log = new JsonLog();
  const memory = new Uint8Array(64);
  const first = new TextEncoder().encode('{"n":1}');
  memory.set(first);
  const entry = log.append(memory.subarray(0, first.length));
  memory.set(new TextEncoder().encode('{"n":2}'));
  assert.deepEqual(log.parse(entry), { n: 1 });
});

test('EventQueue: events and kept bytes come out in the order they were pushed, to a reader that starts late', async () => {
  const queue = new EventQueue();
  queue.push(queue.keep(bytes({ type: 'a' })));
  queue.push({ type: 'b' });
  const kept = queue.keep(bytes({ type: 'c' })); // kept first, queued in its turn
  queue.push({ type: 'd' });
  queue.push(kept);
  queue.close();
  const seen = [];
  for await (const event of queue) seen.push(event.type);
  assert.deepEqual(seen, ['a', 'b', 'd', 'c']);
});

test('EventQueue of a run without events keeps nothing and refuses a reader', () => {
  const queue = new EventQueue('run(): events: false keeps no events');
  queue.push(queue.keep(bytes({ type: 'a' })));
  assert.throws(() => queue[Symbol.asyncIterator](), /keeps no events/);
});
