// The engine's byte form of run events (RunOptions.eventsAsJson, internal): a listener that only
// buffers gets each event's JSON bytes as the engine framed them, undecoded, except an event that
// carries a blob (a string of 16 Ki characters or more), which arrives parsed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { L, mockModel, preload, run } from '../../dist/node.js';

test('eventsAsJson: events arrive as JSON bytes, a blob-carrying event parsed; both match onEvent', async () => {
  const engine = await preload({ warmUp: false });
  const long = 'y'.repeat(20_000);
  const model = () => mockModel([{ type: 'text', text: 'ok' }, { type: 'end-step' }]);
  const agent = function* () {
    yield* L.user`${long}`;
    return (yield* L.reply).value;
  };

  // What run() gives onEvent: the events as objects.
  const objects = [];
  await run(agent, { models: { default: model() }, engine, onEvent: (e) => objects.push(e) });

  // The same run, its events taken as bytes whenever the engine can. `keep` gets a view of wasm
  // memory that is valid only during the call, so it copies; `push` comes later, in event order.
  const raw = [];
  const kept = [];
  const original = engine.startRun.bind(engine);
  const eventsAsJson = {
    wanted: () => true,
    keep: (json) => kept.push(new TextDecoder().decode(json)) - 1,
    push: (index) => raw.push(kept[index]),
  };
  engine.startRun = (spec, options) => original(spec, { ...options, onEvent: (e) => raw.push(e), eventsAsJson });
  try {
    await run(agent, { models: { default: model() }, engine });
  } finally {
    delete engine.startRun;
  }

  const texts = raw.filter((e) => typeof e === 'string');
  const parsed = raw.filter((e) => typeof e !== 'string');
  assert.ok(texts.length >= 5, `most events arrive as bytes (${texts.length} of ${raw.length})`);
  assert.equal(kept.length, texts.length);
  assert.deepEqual(parsed.map((e) => e.type), ['message-appended'], 'only the event with the long message arrives parsed');
  assert.equal(parsed[0].message.content, long);
  for (const text of texts) assert.equal(typeof JSON.parse(text).type, 'string', `not one event's JSON: ${text.slice(0, 80)}`);
  const asObjects = raw.map((e) => (typeof e === 'string' ? JSON.parse(e) : e));
  const stable = (events) => JSON.parse(JSON.stringify(events).replace(/"durationMs":[0-9.e+-]+/g, '"durationMs":0'));
  assert.deepEqual(stable(asObjects), stable(objects));
});
