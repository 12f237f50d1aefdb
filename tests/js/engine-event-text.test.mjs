// The engine's text form of run events (RunOptions.eventsAsText, internal): a listener that only
// buffers gets each event's JSON text as the engine framed it, unparsed, except an event that
// carries a blob (a string of 16 Ki characters or more), which arrives parsed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { L, mockModel, preload, run } from '../../dist/node.js';

test('eventsAsText: events arrive as JSON text, a blob-carrying event parsed; both match onEvent', async () => {
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

  // The same run, its events taken as text whenever the engine can.
  const raw = [];
  const original = engine.startRun.bind(engine);
  engine.startRun = (spec, options) => original(spec, { ...options, onEvent: (e) => raw.push(e), eventsAsText: { wanted: () => true, push: (e) => raw.push(e) } });
  try {
    await run(agent, { models: { default: model() }, engine });
  } finally {
    delete engine.startRun;
  }

  const texts = raw.filter((e) => typeof e === 'string');
  const parsed = raw.filter((e) => typeof e !== 'string');
  assert.ok(texts.length >= 5, `most events arrive as text (${texts.length} of ${raw.length})`);
  assert.deepEqual(parsed.map((e) => e.type), ['message-appended'], 'only the event with the long message arrives parsed');
  assert.equal(parsed[0].message.content, long);
  for (const text of texts) assert.equal(typeof JSON.parse(text).type, 'string', `not one event's JSON: ${text.slice(0, 80)}`);
  const asObjects = raw.map((e) => (typeof e === 'string' ? JSON.parse(e) : e));
  const stable = (events) => JSON.parse(JSON.stringify(events).replace(/"durationMs":[0-9.e+-]+/g, '"durationMs":0'));
  assert.deepEqual(stable(asObjects), stable(objects));
});
