// run(agent, {onStepFinish, stopWhen}): every step of every reply, with its conversation's path, the
// reply's next step waiting for it (the engine's step_finish seam); conditions that end a reply's
// tool loop early (the stop_when seam), as runPrompt's do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasToolCall, isStepCount, L, loadJournal, memoryStorage, mockModel, replay, run } from '../../dist/node.js';

/** mockModel, logging each call in `log` before it answers. */
function logged(items, log) {
  const model = mockModel(items);
  const generate = model.generate.bind(model);
  return Object.assign(model, { generate: (request) => (log.push(`model ${model.calls.length}`), generate(request)) });
}

test('onStepFinish gets each step of a reply before the next one starts, with the conversation\'s path', async () => {
  const log = [];
  const model = logged([
    { type: 'tool-call', toolName: 'look', args: { q: 'a' } },
    { type: 'text', text: 'found' }, { type: 'end-step' },
    { type: 'text', text: 'branch answer' },
  ], log);
  const steps = [];
  const value = await run(function* () {
    yield* L.tool('look', 'Looks', { type: 'object', properties: { q: { type: 'string' } } }, () => 'seen');
    yield* L.user`Look.`;
    const first = (yield* L.reply).value;
    const branch = yield* L.branch({ side: function* () {
      yield* L.user`And you?`;
      return (yield* L.reply).value;
    } });
    return [first, branch.side];
  }, {
    models: { default: model },
    onStepFinish: async (step) => {
      await new Promise((r) => setTimeout(r, 5));
      log.push(`step ${step.path.join('/')} ${step.stepNumber}`);
      steps.push(step);
    },
  });
  assert.deepEqual(value, ['found', 'branch answer']);
  assert.deepEqual(log, ['model 0', 'step root 0', 'model 1', 'step root 1', 'model 2', 'step root/side 0']);
  assert.deepEqual(steps[0].toolCalls.map((c) => c.toolName), ['look']);
  assert.equal(steps[0].finishReason, 'tool-calls');
  assert.equal(steps[1].text, 'found');
});

test('an onStepFinish that throws is an error event of the run, not its failure', async () => {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  const events = [];
  const value = await run(function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  }, { models: { default: model }, onStepFinish: () => { throw new Error('step bug'); }, onEvent: (e) => events.push(e) });
  assert.equal(value, 'hi');
  const error = events.find((e) => e.type === 'error');
  assert.equal(error?.source, 'handler');
  assert.match(error.error.message ?? String(error.error), /step bug/);
});

test('onStepFinish must be a function; a replay of a durable run does not call it', async () => {
  await assert.rejects(run(function* () {}, { models: { default: mockModel([]) }, onStepFinish: 'log' }), /run config: 'onStepFinish' must be a function, got the string "log"/);
  const storage = memoryStorage();
  const agent = function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  };
  const reported = [];
  const recorded = run(agent, { models: { default: mockModel([{ type: 'text', text: 'hello' }]) }, durable: { id: 'dsf', storage }, onStepFinish: (s) => reported.push(s.stepNumber) });
  assert.equal(await recorded, 'hello');
  assert.deepEqual(reported, [0]);
  const uncalled = { provider: 'mock', modelId: 'mock', generate: () => Promise.reject(new Error('the model was called during a replay')) };
  assert.equal(await replay(await loadJournal('dsf', storage), agent, { models: { default: uncalled }, onStepFinish: (s) => reported.push(s.stepNumber) }), 'hello');
  assert.deepEqual(reported, [0], 'the replay answered the step from the journal');
});

test('stopWhen ends a reply\'s tool loop: hasToolCall, and conditions over the reply\'s own steps, in any conversation', async () => {
  const tool = { type: 'object', properties: {} };
  const script = () => mockModel([
    { type: 'tool-call', toolName: 'look', args: {} },
    { type: 'tool-call', toolName: 'done', args: {} },
    { type: 'text', text: 'never asked' },
  ]);
  const agent = function* () {
    yield* L.tool('look', 'Looks', tool, () => 'seen');
    yield* L.tool('done', 'Ends', tool, () => 'ended');
    yield* L.user`Go.`;
    const reply = yield* L.reply;
    return reply.content.filter((p) => p.type === 'tool-call').map((p) => p.toolName);
  };
  const model = script();
  assert.deepEqual(await run(agent, { models: { default: model }, stopWhen: hasToolCall('done') }), ['done']);
  assert.equal(model.calls.length, 2, 'the reply ended after the step that called done');

  const counts = [];
  const counted = script();
  await run(agent, { models: { default: counted }, events: false, stopWhen: [({ steps }) => (counts.push(steps.length), false), isStepCount(5)] });
  assert.deepEqual(counts, [1, 2], 'each condition sees the reply\'s steps so far');
  assert.equal(counted.calls.length, 3);
  await assert.rejects(run(agent, { models: { default: script() }, stopWhen: 'done' }), /run config: 'stopWhen' must be/);
});

test('stopWhen on a durable run: a replay ends the reply at the same step with no model', async () => {
  const storage = memoryStorage();
  const agent = function* () {
    yield* L.tool('step', 'Steps', { type: 'object', properties: {} }, () => 'ok');
    yield* L.user`Go.`;
    return (yield* L.reply).content.filter((p) => p.type === 'tool-call').length;
  };
  const model = mockModel([1, 2, 3, 4].map(() => ({ type: 'tool-call', toolName: 'step', args: {} })));
  const config = { stopWhen: isStepCount(3) };
  assert.equal(await run(agent, { ...config, models: { default: model }, durable: { id: 'dsw', storage } }), 1);
  assert.equal(model.calls.length, 3);
  const uncalled = { provider: 'mock', modelId: 'mock', generate: () => Promise.reject(new Error('the model was called during a replay')) };
  assert.equal(await replay(await loadJournal('dsw', storage), agent, { ...config, models: { default: uncalled } }), 1);
});
