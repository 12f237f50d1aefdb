// What an app moving from the AI SDK brings along: a conversation stored in the AI SDK's message
// format (tool calls with `input`, results with `output: {type, value}`) goes on as it was, and a
// schema wrapped by the AI SDK's `jsonSchema()` / `zodSchema()` is sent as the schema it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonSchema, zodSchema } from 'ai';
import { z } from 'zod';
import { ConfigError, runPrompt } from '../../dist/node.js';

/** A model that answers once and keeps the requests it got. */
function recording() {
  const requests = [];
  return {
    requests,
    model: { provider: 'test', modelId: 'rec', generate: async (request) => (requests.push(request), { content: [{ type: 'text', text: 'ok' }], finishReason: 'stop' }) },
  };
}

test("messages in the AI SDK's format: a tool call's input and a result's output become lmthing's args and result", async () => {
  const { model, requests } = recording();
  const messages = [
    { role: 'user', content: 'Weather in Oslo and Rome?' },
    { role: 'assistant', content: [
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Oslo' } },
      { type: 'tool-call', toolCallId: 'c2', toolName: 'weather', input: { city: 'Rome' } },
    ] },
    { role: 'tool', content: [
      { type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: { type: 'json', value: { tempC: 4 } } },
      { type: 'tool-result', toolCallId: 'c2', toolName: 'weather', output: { type: 'error-text', value: 'service down' } },
    ] },
    { role: 'user', content: 'Thanks' },
  ];
  assert.equal(await runPrompt({ model, messages }).text, 'ok');
  const [assistant, tool] = requests[0].messages.slice(1, 3);
  assert.deepEqual(assistant.content.map((p) => [p.args, p.argsText]), [[{ city: 'Oslo' }, '{"city":"Oslo"}'], [{ city: 'Rome' }, '{"city":"Rome"}']]);
  assert.deepEqual(tool.content.map((p) => [p.result, p.isError]), [[{ tempC: 4 }, undefined], [{ error: 'service down' }, true]]);
  assert.deepEqual(messages[1].content[0], { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Oslo' } }, "the caller's messages are not changed");
});

test('a tool call without arguments or a tool result without a result is refused, naming the part', async () => {
  const { model } = recording();
  const call = (part) => runPrompt({ model, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: [part] }] }).text;
  await assert.rejects(call({ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', argz: { city: 'Oslo' } }), (e) => e instanceof ConfigError && /messages\[1\]\.content\[0\] needs its arguments: 'args'/.test(e.message));
  const result = (part) => runPrompt({ model, messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: [part] }] }).text;
  await assert.rejects(result({ type: 'tool-result', toolCallId: 'c1', toolName: 'weather' }), (e) => e instanceof ConfigError && /needs the tool's 'result'/.test(e.message));
  await assert.rejects(result({ type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: { tempC: 4 } }), (e) => e instanceof ConfigError && /\.output must be the AI SDK's \{type: 'text' \| 'json'/.test(e.message));
});

test("a schema wrapped by the AI SDK's jsonSchema() or zodSchema() is sent as the JSON Schema it holds", async () => {
  const { model, requests } = recording();
  const weather = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  await runPrompt({
    model,
    prompt: 'x',
    tools: {
      a: { description: 'A', inputSchema: jsonSchema(weather), execute: () => 'x' },
      b: { description: 'B', inputSchema: zodSchema(z.object({ n: z.number() })), execute: () => 'x' },
    },
  }).text;
  const [a, b] = requests[0].tools;
  assert.deepEqual(a.parameters.properties, weather.properties);
  assert.equal(a.parameters.jsonSchema, undefined);
  assert.deepEqual(b.parameters.properties, { n: { type: 'number' } });
});

test("onChunk reports a step's tool result before that step's onStepFinish, as the AI SDK orders them", async () => {
  const { mockModel } = await import('../../dist/node.js');
  const log = [];
  const run = runPrompt({
    model: mockModel([{ type: 'tool-call', toolName: 'weather', args: { city: 'Paris' } }, { type: 'text', text: 'Sunny.' }]),
    prompt: 'Weather?',
    tools: { weather: { description: 'Weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } }, execute: async () => 'sunny' } },
    onChunk: async ({ chunk }) => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // a slow report still comes first
      log.push(`chunk:${chunk.type}`);
    },
    onStepFinish: (step) => log.push(`step-finish:${step.stepNumber}`),
  });
  assert.equal(await run.text, 'Sunny.');
  assert.deepEqual(log.filter((entry) => !entry.startsWith('chunk:text-delta')), ['chunk:tool-call', 'chunk:tool-result', 'step-finish:0', 'step-finish:1']);
  assert.ok(log.indexOf('step-finish:1') > log.lastIndexOf('chunk:text-delta'));
});
