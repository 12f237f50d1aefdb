// runPrompt's experimental_refineToolInput (src/agent/refine_tool_input.cpp): a valid call of a
// named tool runs with the arguments the function returns, which the conversation, the tool-call
// part and callbacks see; refined arguments the schema refuses are the call's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, mockModel, runPrompt } from '../../dist/node.js';

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

test('the refined arguments run the tool and replace the model\'s in the conversation, the stream and onToolExecutionStart', async () => {
  const ran = [];
  const started = [];
  const model = mockModel([
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: '  paris ' } },
    { type: 'tool-call', toolCallId: 'c2', toolName: 'note', args: { text: 'as is' } },
    { type: 'text', text: 'Sunny in Paris.' },
  ]);
  const run = runPrompt({
    model,
    prompt: 'Weather?',
    tools: {
      weather: { description: 'Weather', inputSchema: weatherSchema, execute: ({ city }) => (ran.push(city), 'sunny') },
      note: { description: 'Notes', inputSchema: z.object({ text: z.string() }), execute: ({ text }) => (ran.push(text), 'noted') },
    },
    experimental_refineToolInput: { weather: async ({ city }) => ({ city: city.trim().replace(/^./, (ch) => ch.toUpperCase()) }) },
    onToolExecutionStart: ({ toolCall }) => void started.push(toolCall.input),
  });
  assert.equal(await run.text, 'Sunny in Paris.');
  assert.deepEqual(ran, ['Paris', 'as is']);
  assert.deepEqual(started, [{ city: 'Paris' }, { text: 'as is' }]);
  const toolCalls = [];
  for await (const part of run.fullStream) if (part.type === 'tool-call') toolCalls.push(part.args);
  assert.deepEqual(toolCalls, [{ city: 'Paris' }, { text: 'as is' }]);
  const sent = model.calls[1].messages.find((m) => m.role === 'assistant').content.find((p) => p.type === 'tool-call');
  assert.deepEqual(sent.args, { city: 'Paris' }, 'the next step sends the refined call');
  const kept = (await run.response).messages.find((m) => m.role === 'assistant').content.find((p) => p.type === 'tool-call');
  assert.deepEqual(kept.args, { city: 'Paris' });
});

test('refined arguments the schema refuses are the call\'s error; a throwing refinement fails the run; unknown tools are refused', async () => {
  const ran = [];
  const run = runPrompt({
    model: mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } }, { type: 'text', text: 'ok' }]),
    prompt: 'x',
    tools: { weather: { description: 'Weather', inputSchema: weatherSchema, execute: ({ city }) => (ran.push(city), 'cold') } },
    experimental_refineToolInput: { weather: () => ({ town: 'Oslo' }) },
  });
  assert.equal(await run.text, 'ok');
  assert.deepEqual(ran, []);
  const [result] = (await run.steps)[0].toolResults;
  assert.match(JSON.stringify(result.result), /the refined arguments of tool \\"weather\\" are invalid/);

  const failing = runPrompt({
    model: mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } }]),
    prompt: 'x',
    tools: { weather: { description: 'Weather', inputSchema: weatherSchema, execute: () => 'cold' } },
    experimental_refineToolInput: { weather: () => { throw new Error('no refinement today'); } },
  });
  await assert.rejects(failing.text, /no refinement today/);
  await assert.rejects(
    runPrompt({ model: mockModel([]), prompt: 'x', tools: { weather: { inputSchema: weatherSchema, execute: () => 'x' } }, experimental_refineToolInput: { wether: (i) => i } }),
    (e) => e instanceof ConfigError && /experimental_refineToolInput: unknown tool "wether" \(did you mean "weather"\?/.test(e.message),
  );
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', experimental_refineToolInput: { weather: 'trim' } }), /'experimental_refineToolInput' must be an object of tool names to functions/);
});

test('run(agent, {experimental_refineToolInput}): every reply\'s valid calls of the named tool run refined; an unknown name fails the reply', async () => {
  const { L, run } = await import('../../dist/node.js');
  const ran = [];
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: ' oslo ' } }, { type: 'text', text: 'Cold.' }]);
  const agent = function* () {
    yield* L.tool('weather', 'Weather', weatherSchema, ({ city }) => (ran.push(city), 'cold'));
    yield* L.user`Weather?`;
    return (yield* L.reply).value;
  };
  assert.equal(await run(agent, { models: { default: model }, experimental_refineToolInput: { weather: ({ city }) => ({ city: city.trim() }) } }), 'Cold.');
  assert.deepEqual(ran, ['oslo']);
  assert.deepEqual(model.calls[1].messages.find((m) => m.role === 'assistant').content.find((p) => p.type === 'tool-call').args, { city: 'oslo' });
  await assert.rejects(
    run(agent, { models: { default: mockModel([{ type: 'text', text: 'x' }]) }, experimental_refineToolInput: { wether: (i) => i } }),
    /refineTools names tool "wether" \(did you mean "weather"\?/,
  );
});
