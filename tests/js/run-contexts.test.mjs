// runPrompt's contexts (js/prompt/run-contexts.ts): the AI SDK 5/6's experimental_context for every
// tool (a sub-agent's too), the AI SDK 7's toolsContext per tool name and runtimeContext for the
// callbacks; prepareStep gets them and may replace them for the steps after it; bad names refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, memoryStorage, mockModel, runPrompt } from '../../dist/node.js';

const citySchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const weatherCall = (id, city) => ({ type: 'tool-call', toolCallId: id, toolName: 'weather', args: { city } });

test('tools get experimental_context and their toolsContext; prepareStep sees them and its new ones hold for later steps', async () => {
  const seen = [];
  const prepared = [];
  const started = [];
  const { result } = await runPrompt({
    model: mockModel([weatherCall('c1', 'Oslo'), weatherCall('c2', 'Rome'), { type: 'text', text: 'done' }]),
    prompt: 'Weather?',
    tools: {
      weather: { description: 'Weather', inputSchema: citySchema, execute: ({ city }, { context, experimental_context }) => (seen.push([city, context, experimental_context]), 'mild') },
      news: { description: 'News', inputSchema: { type: 'object' }, execute: () => 'none' },
    },
    experimental_context: { userId: 'u1' },
    toolsContext: { weather: { units: 'metric' } },
    runtimeContext: { tenant: 't1' },
    prepareStep: ({ stepNumber, experimental_context, toolsContext, runtimeContext }) => {
      prepared.push([stepNumber, experimental_context.userId, toolsContext.weather.units, runtimeContext.tenant]);
      if (stepNumber === 1) return { toolsContext: { weather: { units: 'imperial' } }, runtimeContext: { tenant: 't2' } };
    },
    onStepStart: ({ stepNumber, runtimeContext }) => void started.push([stepNumber, runtimeContext.tenant]),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(seen, [
    ['Oslo', { units: 'metric' }, { userId: 'u1' }],
    ['Rome', { units: 'imperial' }, { userId: 'u1' }], // step 1's prepareStep changed it
  ]);
  assert.deepEqual(prepared, [
    [0, 'u1', 'metric', 't1'],
    [1, 'u1', 'metric', 't1'],
    [2, 'u1', 'imperial', 't2'],
  ]);
  assert.deepEqual(started, [
    [0, 't1'],
    [1, 't2'],
    [2, 't2'],
  ]);
});

test('a sub-agent\'s tools get the run\'s experimental_context, but not the toolsContext of a root tool with their name', async () => {
  const seen = [];
  const parent = mockModel([{ type: 'tool-call', toolCallId: 'a1', toolName: 'helper', args: {} }, { type: 'text', text: 'ok' }]);
  const child = mockModel([{ type: 'tool-call', toolCallId: 'h1', toolName: 'weather', args: {} }, { type: 'text', text: 'found' }]);
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defAgent('helper', 'Helps', {}, (_args, c) => {
        c.defTool('weather', 'Looks up', {}, (_a, { context, experimental_context }) => (seen.push([context, experimental_context]), 'x'));
        c.$`Look it up`;
      }, { model: child });
      ctx.defTool('weather', 'Weather', {}, () => 'mild');
      ctx.$`Go`;
    },
    { model: parent, experimental_context: { userId: 'u9' }, toolsContext: { weather: 'root only' } },
  );
  assert.equal(await result.text, 'ok');
  assert.deepEqual(seen, [[undefined, { userId: 'u9' }]]);
});

test('toolsContext naming no tool, or not an object, is a ConfigError; so is prepareStep returning one, or a new context in a durable run', async () => {
  const tools = { weather: { description: 'Weather', inputSchema: citySchema, execute: () => 'mild' } };
  const model = () => mockModel([weatherCall('c1', 'Oslo'), { type: 'text', text: 'done' }]);
  await assert.rejects(runPrompt({ model: model(), prompt: 'Hi', tools, toolsContext: { wether: {} } }).text, (err) =>
    err instanceof ConfigError && /toolsContext: unknown tool "wether" \(did you mean "weather"\?/.test(err.message),
  );
  await assert.rejects(runPrompt({ model: model(), prompt: 'Hi', tools, toolsContext: 'metric' }).text, (err) => err instanceof ConfigError && /toolsContext/.test(err.message));
  await assert.rejects(runPrompt({ model: model(), prompt: 'Hi', tools, prepareStep: () => ({ toolsContext: { nope: 1 } }) }).text, (err) => /prepareStep returned: toolsContext: unknown tool "nope"/.test(err.message));
  await assert.rejects(
    runPrompt({ model: model(), prompt: 'Hi', tools, runtimeContext: {}, prepareStep: () => ({ runtimeContext: { n: 1 } }), durable: { id: 'ctx', storage: memoryStorage() } }).text,
    (err) => /a durable run's contexts cannot change/.test(err.message),
  );
  // A durable run may read its contexts.
  const seen = [];
  const { result } = await runPrompt({
    model: model(),
    prompt: 'Hi',
    tools: { weather: { ...tools.weather, execute: (_a, { experimental_context }) => (seen.push(experimental_context), 'mild') } },
    experimental_context: 'fixed',
    durable: { id: 'ctx-read', storage: memoryStorage() },
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(seen, ['fixed']);
});
