// runPrompt end to end through the wasm engine, with the scripted mock model.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError, ConfigError, createOpenAI, mockModel, PromptContext, ProviderError, runPrompt, tool, agent } from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

test('rendering: systems, variables and the design example, byte for byte', async () => {
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defSystem('role', 'You are R');
    const city = ctx.def('city', 'San Francisco');
    ctx.defData('config', { precision: 1, tags: ['a', 'b'] });
    assert.equal(String(city), '<city>');
    ctx.$`Weather in ${city}?`;
  }, { model });
  await result.text;
  const [system, user] = model.calls[0].messages;
  assert.deepEqual(system, {
    role: 'system',
    content: '<role>\nYou are R\n</role>\n<variables>\n<city>\nSan Francisco\n</city>\n<config>\nprecision: 1\ntags:\n  - a\n  - b\n</config>\n</variables>',
  });
  assert.deepEqual(user, { role: 'user', content: 'Weather in <city>?' });
});

test('rendering: YAML of nested data, multi-line strings, dates, empty containers; key order kept', async () => {
  const model = mockModel([]);
  const { result } = await runPrompt((ctx) => {
    ctx.defData('data', {
      zeta: { nested: [{ name: 'x', n: 2 }, []], empty: {} },
      note: 'line one\nline two',
      when: new Date('2024-01-02T03:04:05.000Z'),
      quoted: 'true',
    });
  }, { model });
  await result.text;
  assert.equal(
    model.calls[0].messages[0].content,
    '<variables>\n<data>\nzeta:\n  nested:\n    - name: x\n      n: 2\n    - []\n  empty: {}\nnote: |-\n  line one\n  line two\nwhen: 2024-01-02T03:04:05.000Z\nquoted: "true"\n</data>\n</variables>',
  );
});

test('rendering: a string ending in empty lines, last in its data, reads back whole (quoted, not a "|+" block the final newline cut)', async () => {
  const model = mockModel([]);
  await (await runPrompt((ctx) => ctx.defData('d', { first: 'a\n\n', note: 'line\n\n' }), { model })).result.text;
  assert.equal(model.calls[0].messages[0].content, '<variables>\n<d>\nfirst: "a\\n\\n"\nnote: "line\\n\\n"\n</d>\n</variables>');
});

test('a name is one tag: `variables` and one name for two sections (another kind, another case) are refused at the call; defData refuses a tag at once', () => {
  const ctx = new PromptContext();
  assert.throws(() => ctx.def('Variables', 'x'), { message: 'def("Variables"): <variables> is the section the renderer writes around the variables; give the definition another name' });
  ctx.defSystem('a', 'S');
  assert.throws(() => ctx.def('a', 'V'), { message: 'def("a"): the system part "a" has the tag <a> already (tags match without case), and one tag is one section; give this one another name' });
  ctx.def('City', 'Paris');
  assert.throws(() => ctx.def('city', 'Rome'), /the variable "City" has the tag <City> already/);
  ctx.defData('City', { name: 'Paris' }); // the same name and kind replaces it, in its place
  ctx.defSystem('a', 'replaced');
  assert.throws(() => ctx.defData('city2', { a: 'x</city2>' }), (e) => e instanceof ConfigError && /the value of "city2" contains "<\/city2>"/.test(e.message));
  assert.throws(() => ctx.defData('d', ['<variables>']), /contains "<variables>", a tag of the system prompt/);
});

test('no definitions: no system message; config.system comes first; redefinition keeps position', async () => {
  const bare = mockModel([]);
  await (await runPrompt((ctx) => ctx.$`hi`, { model: bare })).result.text;
  assert.deepEqual(bare.calls[0].messages, [{ role: 'user', content: 'hi' }]);

  const model = mockModel([]);
  await (
    await runPrompt((ctx) => {
      ctx.defSystem('a', 'first');
      ctx.defSystem('b', 'second');
      ctx.defSystem('a', 'replaced');
      ctx.defMessage('assistant', 'earlier answer');
    }, { model, system: 'Be brief.' })
  ).result.text;
  assert.equal(model.calls[0].messages[0].content, '<system>\nBe brief.\n</system>\n<a>\nreplaced\n</a>\n<b>\nsecond\n</b>');
  assert.deepEqual(model.calls[0].messages[1], { role: 'assistant', content: 'earlier answer' });
});

test('bad definitions are TypeErrors naming the value', async () => {
  const model = mockModel([]);
  const attempt = (fn) => runPrompt(fn, { model });
  await assert.rejects(attempt((ctx) => ctx.def('1abc', 'x')), /def: invalid name "1abc"; names must match \[A-Za-z_\]\[A-Za-z0-9_.-\]\*/);
  await assert.rejects(attempt((ctx) => ctx.defSystem('has space', 'x')), /invalid name "has space"/);
  await assert.rejects(attempt((ctx) => ctx.def('', 'x')), /invalid name ""/);
  await assert.rejects(attempt((ctx) => ctx.def('x', 'a </x> b')), /contains "<\/x>"/);
  await assert.rejects(attempt((ctx) => ctx.def('x', 42)), { name: 'ConfigError', message: 'def("x"): expected a string value, got the number 42' });
  await assert.rejects(attempt((ctx) => ctx.defData('x', undefined)), /expected JSON-like data, got undefined/);
  await assert.rejects(attempt((ctx) => ctx.defData('x', { rows: [{ id: 1n }] })), { name: 'ConfigError', message: 'defData("x"): the value cannot be serialized: $.rows[0].id is a BigInt' });
  await assert.rejects(attempt((ctx) => ctx.defMessage('robot', 'x')), /role must be "user", "assistant" or "system", got the string "robot"/);
  await assert.rejects(attempt((ctx) => ctx.defTool('t', 'd', 'not a schema', () => 1)), /tool "t" parameters: expected a zod schema or a JSON Schema object, got string/);
  await assert.rejects(attempt((ctx) => ctx.defTool('t', 'd', { type: 'object' })), /defTool\("t"\): execute must be a function, got undefined/);
  await assert.rejects(attempt((ctx) => { ctx.defTool('t', 'd', {}, () => 1); ctx.defTool('t', 'd', {}, () => 2); }), /"t" is already defined/);
  await assert.rejects(runPrompt(() => {}, { model: 'nosuch:model' }), /nosuch/);
  await assert.rejects(runPrompt(() => {}, { model: 42 }), /'model' must be a model/);
});

test('a definition kind defined twice under one name is refused (the second would replace the first in silence)', async () => {
  const attempt = (fn) => runPrompt((ctx) => { fn(ctx); ctx.$`Hi`; }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
  for (const [twice, message] of [
    [(ctx) => { ctx.defState('prefs', {}); ctx.defState('prefs', { theme: 'dark' }); }, 'defState("prefs"): a state named "prefs" is already defined in this run; give this one another name'],
    [(ctx) => { ctx.defTemplate('t', 'a {{x}}'); ctx.defTemplate('t', 'b {{x}}'); }, /^defTemplate\("t"\): a template named "t" is already defined in this run/],
    [(ctx) => { ctx.defRetry('net', { maxAttempts: 2 }); ctx.defRetry('net', { maxAttempts: 5 }); }, /^defRetry\("net"\): a retry policy named "net" is already defined in this run/],
  ])
    await assert.rejects(attempt(twice), (e) => e instanceof ConfigError && (typeof message === 'string' ? e.message === message : message.test(e.message)));
  // One name for two kinds, and a sub-agent's own definition of its parent's name, are fine.
  const model = mockModel([{ type: 'tool-call', toolName: 'helper', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defState('shared', { by: 'parent' });
    ctx.defCache('shared', 'lru');
    ctx.defAgent('helper', 'h', {}, (_args, child) => {
      child.defState('shared', { by: 'child' });
      child.$`Help`;
    }, { model: mockModel([{ type: 'text', text: 'helped' }]) });
    ctx.$`Hi`;
  }, { model });
  assert.equal(await result.text, 'done');
});

test('tool results: object → JSON, string → text, throw → {error} and the run goes on', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'obj', args: {} },
    { type: 'tool-call', toolName: 'str', args: {} },
    { type: 'tool-call', toolName: 'boom', args: {} },
    { type: 'text', text: 'done' },
  ]);
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('obj', 'object', {}, () => ({ a: 1 }));
    ctx.defTool('str', 'string', {}, () => 'plain text');
    ctx.defTool('boom', 'throws', {}, () => {
      throw new Error('exploded');
    });
  }, { model });
  assert.equal(await result.text, 'done');
  const steps = await result.steps;
  assert.deepEqual(steps.map((s) => s.toolResults[0]?.result), [{ a: 1 }, 'plain text', { error: 'exploded' }, undefined]);
  assert.equal(steps[2].toolResults[0].isError, true);
  const parts = await collect(result.fullStream);
  assert.deepEqual(parts.filter((p) => p.type === 'tool-error').map((p) => p.error), ['exploded']);
});

test('tool options: beforeCall replaces the input, onSuccess the output, onError recovers', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'calc', args: { x: 2 } },
    { type: 'tool-call', toolName: 'fragile', args: {} },
    { type: 'text', text: 'ok' },
  ]);
  const seen = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('calc', 'c', { type: 'object' }, (args) => (seen.push(args), args.x * 10), {
      beforeCall: (input) => ({ x: input.x + 1 }),
      onSuccess: (_input, output) => ({ value: output }),
    });
    ctx.defTool('fragile', 'f', {}, () => { throw new Error('nope'); }, { onError: () => 'recovered' });
  }, { model });
  const steps = await result.steps;
  assert.deepEqual(seen, [{ x: 3 }]);
  assert.deepEqual(steps[0].toolResults[0].result, { value: 30 });
  assert.equal(steps[0].toolCalls[0].invalid, undefined);
  assert.equal(steps[1].toolResults[0].result, 'recovered');
});

test('the model gets its mistakes back: unknown tool, bad JSON, schema failure', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'nosuch', args: {} },
    { type: 'tool-call', toolName: 'weather', args: { city: 7 } },
    { type: 'text', text: 'sorry' },
  ]);
  const { result } = await runPrompt((ctx) => ctx.defTool('weather', 'w', weatherSchema, () => 'sunny'), { model });
  const steps = await result.steps;
  assert.deepEqual(steps[0].toolResults[0].result, { error: 'Tool "nosuch" is not available. Available tools: weather.' });
  assert.match(steps[1].toolResults[0].result.error, /Invalid arguments for tool "weather": \/city: must be string/);
  // Both calls are marked invalid (their args are the model's, not what the schema promises).
  assert.deepEqual(steps.slice(0, 2).map((s) => [s.toolCalls[0].invalid, s.toolResults[0].invalid]), [[true, true], [true, true]]);
  const toolMessage = model.calls[2].messages.at(-1);
  assert.equal(toolMessage.role, 'tool');
  assert.equal(toolMessage.content[0].isError, true);
});

test('several tool calls in one step run concurrently and results keep call order', async () => {
  // A model that asks for three tools at once.
  const model = {
    provider: 'test', modelId: 'parallel', calls: 0,
    async generate(req) {
      if (this.calls++ > 0) return { content: [{ type: 'text', text: 'all done' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
      const call = (id, ms) => ({ type: 'tool-call', toolCallId: id, toolName: 'wait', args: { ms }, argsText: JSON.stringify({ ms }) });
      return { content: [call('slow', 60), call('fast', 5), call('mid', 30)], finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  let running = 0;
  let maxRunning = 0;
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('wait', 'waits', { type: 'object' }, async ({ ms }) => {
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(ms);
      running--;
      return `waited ${ms}`;
    });
  }, { model });
  const steps = await result.steps;
  assert.equal(maxRunning, 3); // all three in flight at once (counted, not timed: CI is loaded)
  assert.deepEqual(steps[0].toolResults.map((r) => r.result), ['waited 60', 'waited 5', 'waited 30']);
});

test('composite tools take {calls} and return {results}', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'math', args: { calls: [{ name: 'add', args: { a: 1, b: 2 } }, { name: 'div', args: { a: 1, b: 0 } }] } },
    { type: 'text', text: 'done' },
  ]);
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defTool('math', 'arithmetic', [
      tool('add', 'adds', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }, ({ a, b }) => a + b),
      tool('div', 'divides', { type: 'object' }, ({ a, b }) => {
        if (b === 0) throw new Error('division by zero');
        return a / b;
      }),
    ]);
  }, { model });
  const steps = await result.steps;
  assert.deepEqual(steps[0].toolResults[0].result, { results: [{ name: 'add', result: 3 }, { name: 'div', error: 'division by zero' }] });
  assert.equal(prompt.getTools()[0].parameters.properties.calls.items.anyOf.length, 2);
});

test('sub-agents run their own loop; responseSchema gives the parent an object or the validation message', async () => {
  const parent = mockModel([
    { type: 'tool-call', toolName: 'researcher', args: { topic: 'tides' } },
    { type: 'tool-call', toolName: 'sloppy', args: { topic: 'x' } },
    { type: 'text', text: 'final' },
  ]);
  // A mock concatenates text items up to the next tool call, so each child answer is its own model.
  const childA = mockModel([{ type: 'text', text: '```json\n{"summary": "the moon", "confidence": 0.9}\n```' }]);
  // Refused answers are sent back with the validator's message; after two retries the agent fails.
  const sloppy = { type: 'text', text: '{"summary": 5}' };
  const childB = mockModel([sloppy, { type: 'end-step' }, sloppy, { type: 'end-step' }, sloppy]);
  const schema = { type: 'object', properties: { summary: { type: 'string' }, confidence: { type: 'number' } }, required: ['summary'] };
  const { result } = await runPrompt((ctx) => {
    const configure = (args, c) => {
      c.def('topic', args.topic);
      c.$`Research ${args.topic}`;
    };
    ctx.defAgent('researcher', 'researches', { type: 'object', properties: { topic: { type: 'string' } } }, configure, { system: 'You research.', responseSchema: schema, model: childA });
    ctx.defAgent('sloppy', 'bad output', { type: 'object' }, configure, { responseSchema: schema, model: childB });
  }, { model: parent });
  assert.equal(await result.text, 'final');
  const steps = await result.steps;
  assert.deepEqual(steps[0].toolResults[0].result, { summary: 'the moon', confidence: 0.9 });
  assert.match(steps[1].toolResults[0].result.error, /agent "sloppy": .*\/summary: must be string.*\(after 3 attempts\)/);
  assert.equal(childB.calls.length, 3);
  assert.match(childB.calls[1].messages.at(-1).content, /Your reply was refused: .*\/summary: must be string/);
  // The child's own request: its system prompt and message.
  assert.equal(childA.calls[0].messages[0].content, '<system>\nYou research.\n</system>\n<variables>\n<topic>\ntides\n</topic>\n</variables>');
  assert.equal(childA.calls[0].messages[1].content, 'Research tides');
});

test('a sub-agent without its own model uses the parent model', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'helper', args: {} },
    { type: 'tool-call', toolName: 'noop', args: {} },
    { type: 'text', text: 'parent done' },
  ]);
  // Call order: parent (helper call), child (its noop call + nothing), ...: the child consumes the
  // second item and then the exhausted script; the parent gets what is left.
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('noop', 'n', {}, () => 'x');
    ctx.defAgent('helper', 'h', {}, (args, c) => {
      c.defTool('noop', 'n', {}, () => 'child tool ran');
      c.$`help`;
    });
  }, { model });
  await result.text;
  assert.equal(model.calls[1].messages[0].content, 'help');
});

test('composite agents', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'team', args: { calls: [{ name: 'writer', args: { about: 'cats' } }] } },
    { type: 'text', text: 'done' },
  ]);
  const writerModel = mockModel([{ type: 'text', text: 'A poem about cats.' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defAgent('team', 'agents', [agent('writer', 'writes', { type: 'object' }, (args, child) => child.$`Write about ${args.about}`, { model: writerModel })]);
  }, { model });
  const steps = await result.steps;
  assert.deepEqual(steps[0].toolResults[0].result, { results: [{ name: 'writer', result: 'A poem about cats.' }] });
  assert.equal(await result.text, 'done');
});

test('hooks see stepNumber from 0 and change one step only', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'weather', args: { city: 'Oslo' } }, { type: 'text', text: 'bye' }]);
  const inputs = [];
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defSystem('role', 'normal');
    ctx.defSystem('extra', 'only sometimes');
    ctx.defTool('weather', 'w', weatherSchema, () => 'rain');
    ctx.defHook(({ stepNumber, lastToolCall, steps, messages }) => {
      inputs.push({ stepNumber, lastToolCall: lastToolCall?.toolName ?? null, steps: steps.length, messages: messages.length });
      if (stepNumber === 1) return { activeSystems: ['role'], activeTools: [] };
    });
  }, { model });
  await result.text;
  assert.deepEqual(inputs, [
    { stepNumber: 0, lastToolCall: null, steps: 0, messages: 0 },
    { stepNumber: 1, lastToolCall: 'weather', steps: 1, messages: 2 },
  ]);
  assert.equal(prompt.steps[0].system, '<role>\nnormal\n</role>\n<extra>\nonly sometimes\n</extra>');
  assert.equal(prompt.steps[1].system, '<role>\nnormal\n</role>');
  assert.equal(model.calls[0].tools.length, 1);
  assert.equal(model.calls[1].tools, undefined);
});

test('a hook can switch the model for one step', async () => {
  const main = mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'main again' }]);
  const other = mockModel([{ type: 'text', text: 'from other' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('t', 't', {}, () => 'x');
    ctx.defHook(({ stepNumber }) => (stepNumber === 1 ? { model: other } : undefined));
  }, { model: main });
  assert.equal(await result.text, 'from other');
  assert.equal(main.calls.length, 1);
  assert.equal(other.calls.length, 1);
});

test('a hook that returns a misspelled field fails the run naming the field it meant', async () => {
  const { result } = await runPrompt((ctx) => {
    ctx.defHook(() => ({ activeToolz: [] }));
    ctx.$`hi`;
  }, { model: mockModel([{ type: 'text', text: 'never' }]) });
  await assert.rejects(result.text, /hook #1 returned: unknown field 'activeToolz' \(did you mean 'activeTools'\? known: system, messages, .*, temperature, .*, providerOptions\)/);
});

test("a hook's messages and toolChoice are checked as the config's are, before the step's model call", async () => {
  const cases = [
    [{ messages: [{ role: 'robot', content: 'x' }] }, `hook #1 returned: messages[0].role must be one of "system", "user", "assistant", "tool", got the string "robot"`],
    [{ messages: [{ role: 'user', content: 5 }] }, 'hook #1 returned: messages[0].content must be a string or an array of parts, got the number 5'],
    [{ messages: 'hi' }, `hook #1 returned: 'messages' must be an array of messages, got the string "hi"`],
    [{ toolChoice: 'requried' }, `hook #1 returned: 'toolChoice' must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got the string "requried" (did you mean 'required'?)`],
    [{ toolChoice: { type: 'tool', toolName: 'nope' } }, 'hook #1: "toolChoice" names unknown tool "nope" (defined tools: t)'],
    [{ messages: [{ role: 'user', content: [{ type: 'txt', text: 'x' }] }] }, `hook #1 returned: messages[0].content[0] must be a part {type: 'text' | 'reasoning' | 'tool-call' | 'tool-result' | 'image' | 'file' | 'tool-approval-response', ...}, got type the string "txt" (did you mean 'text'?)`],
    [{ messages: [{ role: 'user', content: [{ type: 'image', mediaType: 'image/png' }] }] }, 'hook #1 returned: messages[0].content[0].data must be a string (base64, a data: or http(s) URL) or a Uint8Array, got undefined'],
  ];
  for (const [changes, message] of cases) {
    const model = mockModel([{ type: 'text', text: 'never' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('t', 't', {}, () => 'x');
      ctx.defHook(() => changes);
      ctx.$`hi`;
    }, { model });
    await assert.rejects(result.text, (err) => err.message.startsWith(message), message);
    assert.equal(model.calls.length, 0);
  }
});

test('a hook may hand back the transcript it got: its parts (reasoning, tool calls and results, errors, images, files) all pass the check', async () => {
  const requests = [];
  const model = {
    provider: 'scripted',
    modelId: 'm',
    async generate(request) {
      requests.push(request);
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      const content = [
        [{ type: 'reasoning', text: 'thinking', signature: 'sig' }, { type: 'tool-call', toolCallId: 'c1', toolName: 'look', args: { q: 'a' }, argsText: '{"q":"a"}' }],
        [{ type: 'tool-call', toolCallId: 'c2', toolName: 'boom', args: {}, argsText: '{}' }],
        [{ type: 'text', text: 'done' }],
      ][step];
      return { content, finishReason: step < 2 ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  const sizes = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('look', 'l', { type: 'object', properties: { q: { type: 'string' } } }, ({ q }) => ({ found: q }));
    ctx.defTool('boom', 'b', {}, () => {
      throw new Error('x');
    });
    ctx.defHook(({ messages }) => {
      sizes.push(messages.length);
      return { messages };
    });
  }, { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' }, { type: 'file', data: 'JVBERi0=', mediaType: 'application/pdf' }] }] });
  assert.equal(await result.text, 'done');
  assert.deepEqual(sizes, [1, 3, 5]);
  assert.deepEqual(requests[2].messages.map((m) => m.content.map((p) => p.type).join(',')), ['text,image,file', 'reasoning,tool-call', 'tool-result', 'tool-call', 'tool-result']);
});

test('textStream is the concatenated text of all steps; usage sums; maxSteps and stopWhen stop', async () => {
  const items = [];
  for (let i = 0; i < 5; i++) items.push({ type: 'text', text: `step ${i}. ` }, { type: 'tool-call', toolName: 't', args: {} });
  const { result } = await runPrompt((ctx) => ctx.defTool('t', 't', {}, () => 'ok'), { model: mockModel(items), options: { maxSteps: 3 } });
  const streamed = (await collect(result.textStream)).join('');
  const steps = await result.steps;
  assert.equal(streamed, steps.map((s) => s.text).join(''));
  assert.equal(streamed, 'step 0. step 1. step 2. ');
  assert.deepEqual(await result.usage, { inputTokens: 30, outputTokens: 60, totalTokens: 90 });
  assert.equal(await result.finishReason, 'tool-calls');
  assert.equal((await result.toolCalls)[0].toolName, 't');

  const stopped = await runPrompt((ctx) => ctx.defTool('t', 't', {}, () => 'ok'), {
    model: mockModel(items),
    options: { stopWhen: (step) => step.stepNumber === 1 },
  });
  assert.equal((await stopped.result.steps).length, 2);
});

test('fullStream yields typed parts in order', async () => {
  const model = mockModel([{ type: 'text', text: 'calling' }, { type: 'tool-call', toolName: 't', args: { q: 1 } }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => ctx.defTool('t', 't', {}, () => 'r'), { model });
  const types = (await collect(result.fullStream)).map((p) => p.type);
  assert.deepEqual(types.slice(0, 2), ['step-start', 'text-delta']);
  assert.deepEqual(types.filter((t) => t !== 'text-delta'), ['step-start', 'tool-call', 'tool-result', 'step-finish', 'step-start', 'step-finish', 'finish']);
});

test('abort mid-run: the tool sees its signal aborted and every promise rejects with AbortError', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'slow', args: {} }, { type: 'text', text: 'never' }]);
  const controller = new AbortController();
  let toolSignal;
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('slow', 's', {}, (args, { abortSignal }) => {
      toolSignal = abortSignal;
      setTimeout(() => controller.abort(), 0); // mid-run: once the tool is running, however slow the machine
      return new Promise(() => {});
    });
  }, { model, options: { abortSignal: controller.signal } });
  await assert.rejects(result.text, AbortError);
  await assert.rejects(result.usage, AbortError);
  assert.equal(toolSignal.aborted, true);
  const parts = await collect(result.fullStream);
  assert.equal(parts.at(-1).type, 'error');
});

test('a huge tool result crosses the boundary intact', async () => {
  const big = 'x'.repeat(5_000_000);
  const model = mockModel([{ type: 'tool-call', toolName: 'big', args: {} }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => ctx.defTool('big', 'b', {}, () => big), { model });
  await result.text;
  assert.equal(model.calls[1].messages.at(-1).content[0].result.length, 5_000_000);
});

test('200 concurrent runPrompt calls on the shared engine all complete', async () => {
  const runs = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      runPrompt((ctx) => {
        ctx.defTool('echo', 'e', {}, (args) => args);
        ctx.$`run ${i}`;
      }, { model: mockModel([{ type: 'tool-call', toolName: 'echo', args: { i } }, { type: 'text', text: `answer ${i}` }], { delayMs: 5 }) }),
    ),
  );
  const texts = await Promise.all(runs.map(({ result }) => result.text));
  assert.deepEqual(texts, Array.from({ length: 200 }, (_, i) => `answer ${i}`));
});

test('a provider stream cut mid-way fails the run with a ProviderError that keeps the partial text', async () => {
  const server = await startFixtureServer();
  try {
    const fixture = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    server.enqueue(fixture, { cutAfter: Math.floor(fixture.body.length / 2) });
    const openai = createOpenAI({ baseURL: server.url + '/v1', apiKey: 'sk-test-not-a-real-key-000000000000' });
    const { result } = await runPrompt((ctx) => ctx.$`count`, { model: openai('gpt-3.5-turbo'), options: { maxRetries: 0 } });
    const streamed = (await collect(result.textStream)).join('');
    await assert.rejects(result.text, (err) => {
      assert.ok(err instanceof ProviderError, String(err));
      assert.ok(err.partialText.length > 0);
      assert.equal(err.partialText, streamed);
      assert.doesNotMatch(err.message, /sk-test/);
      return true;
    });
  } finally {
    await server.close();
  }
});

test('validate(schema, value) uses the engine validator; zod and JSON Schema both accepted', async () => {
  const { validate } = await import('../../dist/node.js');
  const { z } = await import('zod');
  assert.deepEqual(await validate({ type: 'object', required: ['a'] }, { a: 1 }), { valid: true, errors: [] });
  const outcome = await validate(z.object({ n: z.number() }), { n: 'x' });
  assert.equal(outcome.valid, false);
  assert.deepEqual(outcome.errors[0], { instancePath: '/n', schemaPath: '#/properties/n/type', message: 'must be number' });
  await assert.rejects(validate({ type: 5 }, 1), TypeError);
  await assert.rejects(validate('nope', 1), /expected a zod schema or a JSON Schema object, got string/);
});

test('tools see the conversation up to their own call; a hook can replace the messages of one step', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'look', args: {} }, { type: 'tool-call', toolName: 'look', args: {} }, { type: 'text', text: 'end' }]);
  const seen = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('look', 'l', {}, (args, { messages }) => (seen.push(messages.map((m) => m.role)), 'ok'));
    ctx.defHook(({ stepNumber }) => (stepNumber === 2 ? { messages: [{ role: 'user', content: 'summarize only this' }] } : undefined));
    ctx.$`start`;
  }, { model });
  assert.equal(await result.text, 'end');
  assert.deepEqual(seen, [['user', 'assistant'], ['user', 'assistant', 'tool', 'assistant']]);
  assert.deepEqual(model.calls[1].messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(model.calls[2].messages, [{ role: 'user', content: 'summarize only this' }]);
});

test('what the prompt function adds after the run started is refused, not lost: messages, tools, definitions', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'act', args: {} }, { type: 'text', text: 'done' }]);
  const live = [];
  let saved;
  const { result } = await runPrompt((ctx) => {
    saved = ctx;
    ctx.defTool('act', 'acts', { type: 'object' }, () => {
      for (const [what, add] of [
        ['ctx.$', () => ctx.$`one more thing`],
        ['defMessage', () => ctx.defMessage('user', 'one more thing')],
        ['defTool("late")', () => ctx.defTool('late', 'never offered', { type: 'object' }, () => 1)],
        ['def("city")', () => ctx.def('city', 'Paris')],
        ['defRetry("r")', () => ctx.defRetry('r', { maxAttempts: 2 })],
      ]) {
        try {
          add();
          live.push(`${what}: accepted`);
        } catch (e) {
          live.push(e instanceof ConfigError && e.message.startsWith(`${what}: the run is live;`) ? `${what}: refused` : `${what}: ${e}`);
        }
      }
      ctx.defLogger('audit', { level: 'info', outputs: [() => {}] }); // host-only: it still works while the run is live
      ctx.defEvent('onToolEnd', () => {}); // so does an event handler, but not a token threshold the engine would have to watch
      assert.throws(() => ctx.defEvent('onTokenThreshold', () => {}, { threshold: 100 }), (e) => e instanceof ConfigError && /a threshold cannot be added now: the run is live/.test(e.message));
      return 'ok';
    });
    ctx.$`Act.`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.equal((await result.steps)[0].toolResults[0].result, 'ok', 'the host-only definition was taken');
  assert.deepEqual(live, ['ctx.$: refused', 'defMessage: refused', 'defTool("late"): refused', 'def("city"): refused', 'defRetry("r"): refused']);
  assert.equal(model.calls[1].messages.filter((m) => m.role === 'user').length, 1, 'no message was added to the conversation');
  assert.throws(() => saved.$`after the end`, (e) => e instanceof ConfigError && /^ctx\.\$: the run ended;/.test(e.message));
  assert.throws(() => saved.defTool('after', 'd', { type: 'object' }, () => 1), (e) => e instanceof ConfigError && /^defTool\("after"\): the run ended;/.test(e.message));
});

test('a conversation given in config.messages is checked message by message, naming the one that is wrong', async () => {
  const attempt = (messages) => runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), messages }).then(() => null, (e) => e);
  for (const [messages, message] of [
    [[{ role: 'robot', content: 'x' }], 'runPrompt config: messages[0].role must be one of "system", "user", "assistant", "tool", got the string "robot"'],
    [[{ role: 'user', content: 'hi' }, { role: 'user', content: 5 }], 'runPrompt config: messages[1].content must be a string or an array of parts, got the number 5'],
    [[null], 'runPrompt config: messages[0] must be a message {role, content}, got null'],
    [[{ role: 'assistant', content: [{ type: 'text', text: 5 }] }], 'runPrompt config: messages[0].content[0].text must be a string, got the number 5'],
    [[{ role: 'tool', content: [{ type: 'tool-result', toolName: 't', result: 1 }] }], 'runPrompt config: messages[0].content[0].toolCallId must be a string, got undefined'],
    [[{ role: 'user', content: [{ type: 'video', data: 'x' }] }], `runPrompt config: messages[0].content[0] must be a part {type: 'text' | 'reasoning' | 'tool-call' | 'tool-result' | 'image' | 'file' | 'tool-approval-response', ...}, got type the string "video"`],
    [[{ role: 'user', content: [{ type: 'file', data: 'x' }] }], `runPrompt config: messages[0].content[0].mediaType must be the file's media type (e.g. 'application/pdf'), got undefined`],
  ]) {
    const error = await attempt(messages);
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.message, message);
  }
  // A run's own response.messages continue a conversation as they are.
  const first = await runPrompt({ model: mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'one' }]), prompt: 'hi' });
  await first.result.text;
  const again = await runPrompt({ model: mockModel([{ type: 'text', text: 'two' }]), messages: [...(await first.result.response).messages, { role: 'user', content: 'more' }] });
  assert.equal(await again.result.text, 'two');
});
