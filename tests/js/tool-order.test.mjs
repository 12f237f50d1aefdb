// The AI SDK 7's toolOrder: the listed tools are sent first, in that order, the others after them
// sorted by name; checked in the HTTP request a provider sends (a loopback server replaying a
// recorded OpenAI answer), for runPrompt and a directive run's replies; unknown names refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createOpenAI, L, mockModel, run, runPrompt } from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const tool = (description) => ({ description, inputSchema: { type: 'object', properties: {} }, execute: () => 'ok' });
const tools = { search: tool('Search'), weather: tool('Weather'), calendar: tool('Calendar'), alarm: tool('Alarm') };
const sentToolNames = (request) => request.body.tools.map((t) => t.function.name);

test('runPrompt: the request lists the tools in toolOrder, then the rest by name; without it, as defined', async () => {
  const openai = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'sk-test-not-a-real-key' });
  srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
  srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
  const first = srv.requests.length;
  await runPrompt({ model: openai('gpt-3.5-turbo'), prompt: 'Hi', tools, toolOrder: ['weather'] }).text;
  await runPrompt({ model: openai('gpt-3.5-turbo'), prompt: 'Hi', tools }).text;
  const [ordered, asDefined] = srv.requests.slice(first);
  assert.deepEqual(sentToolNames(ordered), ['weather', 'alarm', 'calendar', 'search']);
  assert.deepEqual(sentToolNames(asDefined), ['search', 'weather', 'calendar', 'alarm']);
});

test('run(): every reply sends its tools in toolOrder; a name no tool has is a ConfigError with a did-you-mean', async () => {
  const sent = [];
  const model = mockModel([{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }]);
  const agent = function* () {
    yield* L.user`Hi`;
    yield* L.reply;
    yield* L.user`Again`;
    return (yield* L.reply).value;
  };
  await run(agent, {
    models: { default: model },
    tools,
    toolOrder: ['calendar', 'search'],
    onLanguageModelCallStart: ({ tools: offered }) => void sent.push(offered.map((t) => t.name).join(',')),
  });
  assert.deepEqual(sent, ['calendar,search,alarm,weather', 'calendar,search,alarm,weather']);
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'Hi', tools, toolOrder: ['wether'] }).text, (err) =>
    err instanceof ConfigError && /toolOrder: unknown tool "wether" \(did you mean "weather"\?/.test(err.message),
  );
  await assert.rejects(run(agent, { models: { default: model }, tools, toolOrder: ['serch'] }), (err) => err instanceof ConfigError && /toolOrder names tool "serch" \(did you mean "search"\?/.test(err.message));
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'Hi', tools, toolOrder: 'weather' }).text, (err) => err instanceof ConfigError && /toolOrder/.test(err.message));
});

test('prepareStep may give one step its own toolOrder, and its system as the AI SDK 7\'s instructions (which, as there, holds for the later steps too); both names of one is a ConfigError', async () => {
  const sent = [];
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'alarm', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt({
    model,
    prompt: 'Hi',
    tools,
    toolOrder: ['weather'],
    prepareStep: ({ stepNumber }) => (stepNumber === 0 ? { toolOrder: ['search'], instructions: 'Step zero.' } : undefined),
    onLanguageModelCallStart: ({ tools: offered, system }) => void sent.push(`${offered.map((t) => t.name).join(',')} | ${system}`),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(sent, ['search,alarm,calendar,weather | Step zero.', 'weather,alarm,calendar,search | Step zero.']);
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'Hi', prepareStep: () => ({ system: 'a', instructions: 'b' }) }).text, (err) =>
    err instanceof ConfigError && /prepareStep returned: give 'instructions' or 'system' \(two names of one option\), not both/.test(err.message),
  );
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'Hi', tools, prepareStep: () => ({ toolOrder: ['wether'] }) }).text, (err) =>
    /prepareStep: "toolOrder" names unknown tool "wether" \(did you mean "weather"\?/.test(err.message),
  );
});
