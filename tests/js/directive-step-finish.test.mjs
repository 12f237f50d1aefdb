// run(agent, {onStepFinish}): every step of every reply, with its conversation's path; the reply's
// next step waits for it (the engine's step_finish seam), as runPrompt's does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { L, loadJournal, memoryStorage, mockModel, replay, run } from '../../dist/node.js';

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
