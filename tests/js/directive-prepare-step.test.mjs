// run(agent, {prepareStep, activeTools}): the AI SDK's per-step hook and tool list for every reply of
// a directive run, through the engine's hooks seam and the reply's step plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, L, loadJournal, memoryStorage, mockModel, replay, run } from '../../dist/node.js';

const look = ['look', 'Looks', { type: 'object', properties: { q: { type: 'string' } } }, () => 'seen'];
const note = ['note', 'Notes', { type: 'object', properties: {} }, () => 'noted'];

test('prepareStep changes a step\'s model, tools, system and messages; it sees the reply\'s steps and the path', async () => {
  const main = mockModel([{ type: 'tool-call', toolName: 'look', args: { q: 'a' } }, { type: 'text', text: 'unused' }]);
  const other = mockModel([{ type: 'text', text: 'from the other model' }]);
  const inputs = [];
  const value = await run(function* () {
    yield* L.tool(...look);
    yield* L.tool(...note);
    yield* L.user`Look.`;
    return (yield* L.reply).value;
  }, {
    models: { default: main, other },
    activeTools: ['look'],
    prepareStep: ({ stepNumber, steps, messages, path }) => {
      inputs.push({ stepNumber, steps: steps.length, messages: messages.length, path });
      if (stepNumber === 1) return { model: 'other', activeTools: ['note'], system: 'Be brief.', messages: [{ role: 'user', content: 'Only this.' }] };
    },
  });
  assert.equal(value, 'from the other model');
  assert.deepEqual(inputs, [
    { stepNumber: 0, steps: 0, messages: 1, path: ['root'] },
    { stepNumber: 1, steps: 1, messages: 3, path: ['root'] },
  ]);
  assert.deepEqual(main.calls[0].tools.map((t) => t.name), ['look'], 'activeTools from the config');
  assert.equal(main.calls.length, 1);
  assert.deepEqual(other.calls[0].tools.map((t) => t.name), ['note'], 'activeTools from prepareStep');
  assert.equal(other.calls[0].system, 'Be brief.');
  assert.deepEqual(other.calls[0].messages.filter((m) => m.role !== 'system'), [{ role: 'user', content: 'Only this.' }]);
});

test('bad activeTools and prepareStep answers fail the reply (or the run) naming what is wrong; a replay calls prepareStep again', async () => {
  const model = () => mockModel([{ type: 'text', text: 'ok' }]);
  const agent = function* () {
    yield* L.tool(...look);
    yield* L.user`Hi.`;
    return (yield* L.reply).value;
  };
  await assert.rejects(run(agent, { models: { default: model() }, activeTools: ['lok'] }), (e) => e instanceof ConfigError && /activeTools names tool "lok" \(did you mean "look"\?/.test(e.message));
  await assert.rejects(run(agent, { models: { default: model() }, activeTools: 'look' }), /activeTools/);
  await assert.rejects(run(agent, { models: { default: model() }, prepareStep: () => ({ activeSystems: ['x'] }) }), /activeSystems and activeVariables choose a prompt run's defSystem/);
  await assert.rejects(run(agent, { models: { default: model() }, prepareStep: () => ({ model: 'nope' }) }), /prepareStep returned a bad 'model' \(a key of models: default;/);
  await assert.rejects(run(agent, { models: { default: model() }, prepareStep: () => ({ sytem: 'x' }) }), /prepareStep returned: unknown field 'sytem' \(did you mean 'system'\?/);

  // Durable: the journal answers prepareStep's callback; a replay reaches the same answer with no model.
  const storage = memoryStorage();
  let calls = 0;
  const config = (m) => ({ models: { default: m }, prepareStep: () => (calls++, { system: 'S' }) });
  assert.equal(await run(agent, { ...config(model()), durable: { id: 'prep', storage } }), 'ok');
  const journal = await loadJournal('prep', storage);
  const uncalled = { provider: 'mock', modelId: 'mock', generate: () => Promise.reject(new Error('the model was called during a replay')) };
  assert.equal(await replay(journal, agent, config(uncalled)), 'ok');
  assert.equal(calls, 1, 'the replay answered prepareStep from the journal');
});
