// repairToolCall (js/run/repair-tool-call.ts, src/agent/agent_loop.cpp): a tool call the model got
// wrong — a tool it was not offered, arguments that are not JSON or do not fit the schema — is
// offered to the user's function, as the AI SDK's repairToolCall; the mended call runs, the
// conversation keeps it, and a call left alone gets its error as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, InvalidToolInputError, L, LmthingError, memoryStorage, NoSuchToolError, replay, run, runPrompt } from '../../dist/node.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
const weather = {
  description: 'Weather for a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  execute: ({ city }) => `sunny in ${city}`,
};

/** A model that makes `calls` on its first step, then answers `done`; it keeps each request. */
function scripted(calls) {
  const requests = [];
  return {
    requests,
    model: {
      provider: 'scripted',
      modelId: 'm',
      generate: async (request) => {
        requests.push(structuredClone(request));
        if (requests.length === 1) return { content: calls, finishReason: 'tool-calls', usage };
        return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage };
      },
    },
  };
}

const wrongCalls = () => [
  { type: 'tool-call', toolCallId: 'c1', toolName: 'wether', args: { city: 'Paris' } },
  { type: 'tool-call', toolCallId: 'c2', toolName: 'weather', args: { town: 'Oslo' } },
  { type: 'tool-call', toolCallId: 'c3', toolName: 'weather', argsText: '{city: Rome' },
];

/** The user's repair: the AI SDK's arguments in; mends c1 (text input) and c2 (object input), leaves c3. */
function repairer(seen) {
  return async ({ toolCall, error, tools, inputSchema, messages, system, stepNumber }) => {
    seen.push({ id: toolCall.toolCallId, type: toolCall.type, error: error.type, input: toolCall.input, tools: Object.keys(tools), schema: inputSchema({ toolName: 'weather' })?.required, messages: messages.length, system, stepNumber });
    // The AI SDK's error classes and their checks, with the fields theirs have.
    assert.ok(error instanceof LmthingError);
    if (error.type === 'no-such-tool') {
      assert.ok(NoSuchToolError.isInstance(error) && !InvalidToolInputError.isInstance(error));
      assert.deepEqual([error.code, error.toolName, error.availableTools], ['NO_SUCH_TOOL', toolCall.toolName, ['weather']]);
      assert.match(error.message, /Available tools: weather/);
    } else {
      assert.ok(InvalidToolInputError.isInstance(error) && !NoSuchToolError.isInstance(error));
      assert.deepEqual([error.code, error.toolName, error.toolInput], ['INVALID_TOOL_INPUT', toolCall.toolName, toolCall.input]);
    }
    if (toolCall.toolCallId === 'c1') return { toolName: 'weather', input: toolCall.input };
    if (toolCall.toolCallId === 'c2') return { toolName: 'weather', input: { city: 'Oslo' } };
    return null;
  };
}

test('runPrompt: mended calls run and stay in the conversation; a call left alone gets its error', async () => {
  const { model, requests } = scripted(wrongCalls());
  const seen = [];
  const events = [];
  const { result } = await runPrompt({ model, system: 'Be brief.', prompt: 'Weather?', tools: { weather }, repairToolCall: repairer(seen), onEvent: (e) => events.push(e) });
  assert.equal(await result.text, 'done');
  // Each mended call: a tool-call-repaired event with what the model wrote, then its tool-call.
  const told = events.filter((e) => e.type === 'tool-call-repaired' || e.type === 'tool-call').map((e) => (e.type === 'tool-call' ? `call ${e.toolCallId}` : `repaired ${e.toolCallId} ${e.original.toolName} ${e.original.input} -> ${e.toolName} ${JSON.stringify(e.args)} (${e.error.type})`));
  assert.deepEqual(told, ['repaired c1 wether {"city":"Paris"} -> weather {"city":"Paris"} (no-such-tool)', 'repaired c2 weather {"town":"Oslo"} -> weather {"city":"Oslo"} (invalid-input)', 'call c1', 'call c2', 'call c3']);
  assert.deepEqual(seen, [
    { id: 'c1', type: 'tool-call', error: 'no-such-tool', input: '{"city":"Paris"}', tools: ['weather'], schema: ['city'], messages: 1, system: '<system>\nBe brief.\n</system>', stepNumber: 0 },
    { id: 'c2', type: 'tool-call', error: 'invalid-input', input: '{"town":"Oslo"}', tools: ['weather'], schema: ['city'], messages: 1, system: '<system>\nBe brief.\n</system>', stepNumber: 0 },
    { id: 'c3', type: 'tool-call', error: 'invalid-input', input: '{city: Rome', tools: ['weather'], schema: ['city'], messages: 1, system: '<system>\nBe brief.\n</system>', stepNumber: 0 },
  ]);
  // What the model saw next: its turn with the mended calls, then their results and c3's error.
  const [, assistant, tool] = requests[1].messages.filter((m) => m.role !== 'system');
  assert.deepEqual(assistant.content.map((p) => [p.toolName, p.args]), [['weather', { city: 'Paris' }], ['weather', { city: 'Oslo' }], ['weather', undefined]]);
  assert.deepEqual(tool.content.slice(0, 2).map((p) => p.result), ['sunny in Paris', 'sunny in Oslo']);
  assert.match(JSON.stringify(tool.content[2].result), /Invalid JSON in arguments of tool \\"weather\\"/);
  // The run's own record: the steps' calls and results, and the response messages, have the mended calls.
  const [first] = await result.steps;
  assert.deepEqual(first.toolCalls.map((c) => [c.toolName, c.args]), [['weather', { city: 'Paris' }], ['weather', { city: 'Oslo' }], ['weather', null]]);
  const { messages } = await result.response;
  const calling = messages.find((m) => m.role === 'assistant' && Array.isArray(m.content) && m.content.some((p) => p.type === 'tool-call'));
  assert.deepEqual(calling.content.map((p) => p.toolName), ['weather', 'weather', 'weather']);
});

test('a repair that returns something else fails the run naming repairToolCall; the config is checked', async () => {
  const { model } = scripted(wrongCalls());
  const { result } = await runPrompt({ model, prompt: 'Weather?', tools: { weather }, repairToolCall: () => ({ name: 'weather' }) });
  await assert.rejects(result.text, (e) => e instanceof ConfigError && /repairToolCall: must return \{toolName, input\} \(input: JSON text or an object\) or null, got/.test(e.message));
  await assert.rejects(runPrompt({ model, prompt: 'x', repairToolCall: 'weather' }), (e) => e instanceof ConfigError && /'repairToolCall' must be a function/.test(e.message));
});

test('a directive run mends its replies\' calls; a durable replay answers the repair from its journal', async () => {
  const { model, requests } = scripted(wrongCalls());
  const seen = [];
  const agent = function* () {
    yield* L.tool('weather', weather.description, weather.inputSchema, weather.execute);
    yield* L.user`Weather?`;
    return (yield* L.reply).value;
  };
  const live = run(agent, { models: { default: model }, repairToolCall: repairer(seen), durable: { id: 'repair-directive', storage: memoryStorage() } });
  assert.equal(await live, 'done');
  assert.deepEqual(seen.map((s) => `${s.id} ${s.error}`), ['c1 no-such-tool', 'c2 invalid-input', 'c3 invalid-input']);
  const turn = requests[1].messages.find((m) => m.role === 'assistant');
  assert.deepEqual(turn.content.map((p) => p.toolName), ['weather', 'weather', 'weather']);

  const uncalled = { provider: 'scripted', modelId: 'm', generate: () => Promise.reject(new Error('the model was called during a replay')) };
  const replayedRepairs = [];
  assert.equal(await replay(live.journal(), agent, { models: { default: uncalled }, repairToolCall: repairer(replayedRepairs) }), 'done');
  assert.deepEqual(replayedRepairs, [], 'the journal answered the repairs');
});

test('the AI SDK 5/6 name experimental_repairToolCall works for runPrompt and run; giving both names is a ConfigError', async () => {
  const seen = [];
  const { model } = scripted(wrongCalls());
  const { result } = await runPrompt({ model, prompt: 'Weather?', tools: { weather }, experimental_repairToolCall: repairer(seen) });
  assert.equal(await result.text, 'done');
  assert.deepEqual(seen.map((s) => s.id), ['c1', 'c2', 'c3']);
  await assert.rejects(runPrompt({ model, prompt: 'x', repairToolCall: () => null, experimental_repairToolCall: () => null }), (e) =>
    e instanceof ConfigError && /give 'experimental_repairToolCall' or 'repairToolCall' \(two names of one option\), not both/.test(e.message),
  );
  const agent = function* () {
    yield* L.user`Weather?`;
    return (yield* L.reply).value;
  };
  const directiveSeen = [];
  assert.equal(await run(agent, { models: { default: scripted(wrongCalls()).model }, tools: { weather }, experimental_repairToolCall: repairer(directiveSeen) }), 'done');
  assert.equal(directiveSeen.length, 3);
});
