// mockModel: a scripted LanguageModel for tests and offline demos; isLanguageModel.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError } from '../../dist/errors.js';
import { isLanguageModel, mockModel } from '../../dist/mock-model.js';

const req = (text = 'hi') => ({ messages: [{ role: 'user', content: text }] });

test('is a LanguageModel with provider and modelId "mock"', () => {
  const m = mockModel([]);
  assert.equal(m.provider, 'mock');
  assert.equal(m.modelId, 'mock');
  assert.equal(typeof m.generate, 'function');
  assert.ok(isLanguageModel(m));
});

test('consecutive text items form one text part; finishReason stop', async () => {
  const m = mockModel([{ type: 'text', text: 'Hello, ' }, { type: 'text', text: 'world.' }]);
  const r = await m.generate(req(), {});
  assert.deepEqual(r.content, [{ type: 'text', text: 'Hello, world.' }]);
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.usage, { inputTokens: 10, outputTokens: 20, totalTokens: 30 });
});

test('each call consumes items up to and including the next tool call', async () => {
  const m = mockModel([
    { type: 'text', text: 'Let me check.' },
    { type: 'tool-call', toolName: 'getWeather', args: { city: 'Paris' } },
    { type: 'tool-call', toolName: 'getWeather', args: { city: 'Oslo' }, toolCallId: 'mine' },
    { type: 'text', text: 'Paris 21, Oslo 4.' },
  ]);
  assert.equal(m.remaining, 4);
  const r1 = await m.generate(req(), {});
  assert.deepEqual(r1.content, [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool-call', toolCallId: 'call_1', toolName: 'getWeather', args: { city: 'Paris' }, argsText: '{"city":"Paris"}' },
  ]);
  assert.equal(r1.finishReason, 'tool-calls');
  const r2 = await m.generate(req(), {});
  assert.deepEqual(r2.content, [
    { type: 'tool-call', toolCallId: 'mine', toolName: 'getWeather', args: { city: 'Oslo' }, argsText: '{"city":"Oslo"}' },
  ]);
  assert.equal(r2.finishReason, 'tool-calls');
  const r3 = await m.generate(req(), {});
  assert.deepEqual(r3.content, [{ type: 'text', text: 'Paris 21, Oslo 4.' }]);
  assert.equal(r3.finishReason, 'stop');
  assert.equal(m.remaining, 0);
});

test('an end-step item separates two text-only answers', async () => {
  const m = mockModel([
    { type: 'text', text: 'child answer' },
    { type: 'end-step' },
    { type: 'text', text: 'parent ' },
    { type: 'text', text: 'summary' },
    { type: 'end-step' },
    { type: 'end-step' },
    { type: 'tool-call', toolName: 't' },
  ]);
  const r1 = await m.generate(req(), {});
  assert.deepEqual(r1.content, [{ type: 'text', text: 'child answer' }]);
  assert.equal(r1.finishReason, 'stop');
  assert.deepEqual((await m.generate(req(), {})).content, [{ type: 'text', text: 'parent summary' }]);
  const empty = await m.generate(req(), {});
  assert.deepEqual(empty.content, [], 'an end-step right away is an empty answer');
  assert.equal(empty.finishReason, 'stop');
  assert.equal((await m.generate(req(), {})).finishReason, 'tool-calls');
  assert.equal(m.remaining, 0);
});

test('default tool call ids are call_<n> for the n-th tool call; args default to {}', async () => {
  const m = mockModel([
    { type: 'tool-call', toolName: 'a' },
    { type: 'tool-call', toolName: 'b', toolCallId: 'own' },
    { type: 'text', text: 'between' },
    { type: 'end-step' },
    { type: 'tool-call', toolName: 'c', args: { n: 1 } },
  ]);
  const [c1] = (await m.generate(req(), {})).content;
  const [c2] = (await m.generate(req(), {})).content;
  await m.generate(req(), {});
  const [c3] = (await m.generate(req(), {})).content;
  assert.equal(c1.toolCallId, 'call_1');
  assert.deepEqual(c1.args, {});
  assert.equal(c1.argsText, '{}');
  assert.equal(c2.toolCallId, 'own');
  assert.equal(c3.toolCallId, 'call_3');
});

test('returned args are copies: mutating them does not change the script', async () => {
  const items = [{ type: 'tool-call', toolName: 't', args: { list: [1] } }];
  const m = mockModel(items);
  const [c] = (await m.generate(req(), {})).content;
  c.args.list.push(2);
  assert.deepEqual(items[0].args, { list: [1] });
});

test('once exhausted every call answers content [] with finishReason stop', async () => {
  const m = mockModel([{ type: 'text', text: 'only' }]);
  await m.generate(req(), {});
  for (let i = 0; i < 2; i++) {
    const r = await m.generate(req(), {});
    assert.deepEqual(r.content, []);
    assert.equal(r.finishReason, 'stop');
    assert.deepEqual(r.usage, { inputTokens: 10, outputTokens: 20, totalTokens: 30 });
  }
  assert.deepEqual((await mockModel([]).generate(req(), {})).content, []);
});

test('options.usage sets the usage of every call', async () => {
  const m = mockModel([{ type: 'text', text: 'x' }], { usage: { inputTokens: 3, outputTokens: 4 } });
  assert.deepEqual((await m.generate(req(), {})).usage, { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  assert.deepEqual((await m.generate(req(), {})).usage, { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  const partial = mockModel([], { usage: { outputTokens: 1 } });
  assert.deepEqual((await partial.generate(req(), {})).usage, { inputTokens: 10, outputTokens: 1, totalTokens: 11 });
});

test('.calls records deep copies of every request, with the system text', async () => {
  const m = mockModel([{ type: 'text', text: 'a' }]);
  const request = {
    messages: [{ role: 'system', content: 'You are R' }, { role: 'user', content: 'q' }],
    tools: [{ name: 'getWeather', description: 'd', parameters: { type: 'object', properties: {} } }],
    toolChoice: 'auto',
    params: { temperature: 0.2 },
  };
  await m.generate(request, {});
  await m.generate(req('second'), {});
  request.messages.push({ role: 'user', content: 'mutated later' });
  request.tools[0].name = 'changed';
  assert.equal(m.calls.length, 2);
  assert.equal(m.calls[0].system, 'You are R');
  assert.deepEqual(m.calls[0].messages, [{ role: 'system', content: 'You are R' }, { role: 'user', content: 'q' }]);
  assert.equal(m.calls[0].tools[0].name, 'getWeather');
  assert.deepEqual(m.calls[0].params, { temperature: 0.2 });
  assert.equal(m.calls[0].toolChoice, 'auto');
  assert.equal(m.calls[1].system, undefined);
  assert.deepEqual(m.calls[1].messages, [{ role: 'user', content: 'second' }]);
});

test('.calls: a message the host gives several calls is copied once, each call keeps its own list', async () => {
  const m = mockModel([{ type: 'tool-call', toolName: 'inc', args: { n: 1 } }, { type: 'tool-call', toolName: 'inc', args: { n: 2 } }, { type: 'text', text: 'done' }]);
  const { runPrompt } = await import('../../dist/node.js');
  const run = runPrompt((ctx) => {
    ctx.defTool('inc', 'adds one', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => ({ n: n + 1 }));
    ctx.$`count`;
  }, { model: m });
  assert.equal(await run.text, 'done');
  const lengths = m.calls.map((c) => c.messages.length);
  assert.ok(lengths[0] < lengths[1] && lengths[1] < lengths[2], `each record has its call's messages: ${lengths}`);
  // The conversation's first turns reach every call as the same objects: one copy, shared.
  for (let i = 0; i < lengths[0]; i++) assert.equal(m.calls[2].messages[i], m.calls[0].messages[i]);
  assert.deepEqual(m.calls[2].messages.at(-1), { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_2', toolName: 'inc', result: { n: 3 } }] });
  // Not the caller's objects: a record does not change with what it was given.
  const given = { role: 'user', content: 'q' };
  const request = { messages: [given] };
  await m.generate(request, {});
  request.messages.push({ role: 'user', content: 'later' });
  given.role = 'assistant';
  assert.deepEqual(m.calls.at(-1).messages, [{ role: 'user', content: 'q' }]);
});

test('.calls copies what is not plain data too: bytes, dates, an own "__proto__" key, a cycle', async () => {
  const m = mockModel([]);
  const image = new Uint8Array([1, 2, 3]);
  const when = new Date(0);
  const parsed = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
  const cyclic = { role: 'user', content: 'c' };
  cyclic.self = cyclic;
  await m.generate({ messages: [{ role: 'user', content: [{ type: 'image', image }] }], params: { when } }, {});
  await m.generate({ messages: [], params: parsed }, {});
  await m.generate({ messages: [cyclic] }, {});
  image[0] = 9;
  assert.deepEqual(m.calls[0].messages[0].content[0].image, new Uint8Array([1, 2, 3]));
  assert.ok(m.calls[0].params.when instanceof Date && m.calls[0].params.when.getTime() === 0);
  const copy = m.calls[1].params;
  assert.equal(Object.getPrototypeOf(copy), Object.prototype, 'the copy\'s prototype is not set from the data');
  assert.deepEqual(Object.keys(copy), ['__proto__', 'ok']);
  assert.equal({}.polluted, undefined);
  assert.equal(m.calls[2].messages[0].self, m.calls[2].messages[0]);
});

test('the system text is read from a system message given as parts', async () => {
  const m = mockModel([]);
  await m.generate({ messages: [{ role: 'system', content: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] }] }, {});
  assert.equal(m.calls[0].system, 'AB');
});

test('onDelta receives the text in word chunks and one delta per tool call, before resolving', async () => {
  const m = mockModel([
    { type: 'text', text: 'It is sunny in Paris.' },
    { type: 'tool-call', toolName: 'save', args: { ok: true }, toolCallId: 'c9' },
  ]);
  const deltas = [];
  const r = await m.generate(req(), { onDelta: (d) => deltas.push(d) });
  const texts = deltas.filter((d) => d.type === 'text-delta').map((d) => d.text);
  assert.ok(texts.length > 1, 'the text is split into several chunks');
  assert.equal(texts.join(''), 'It is sunny in Paris.');
  assert.deepEqual(deltas.at(-1), { type: 'tool-call-delta', index: 0, toolCallId: 'c9', toolName: 'save', argsTextDelta: '{"ok":true}' });
  assert.equal(r.content.length, 2);
});

test('onDelta preserves whitespace exactly and gets nothing for an empty answer', async () => {
  const text = '  two  spaces\nnew line ';
  const m = mockModel([{ type: 'text', text }]);
  const deltas = [];
  await m.generate(req(), { onDelta: (d) => deltas.push(d) });
  assert.equal(deltas.map((d) => d.text).join(''), text);
  const none = [];
  await m.generate(req(), { onDelta: (d) => none.push(d) });
  assert.deepEqual(none, []);
});

test('delayMs waits before answering', async () => {
  const m = mockModel([{ type: 'text', text: 'late' }], { delayMs: 60 });
  const t0 = performance.now();
  const r = await m.generate(req(), {});
  assert.ok(performance.now() - t0 >= 45, `waited ${performance.now() - t0} ms`);
  assert.equal(r.content[0].text, 'late');
});

test('an abort during the delay rejects with AbortError and consumes nothing', async () => {
  const m = mockModel([{ type: 'text', text: 'never' }], { delayMs: 5_000 });
  const ac = new AbortController();
  const p = m.generate(req(), { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, (e) => e instanceof AbortError && e.code === 'ABORTED'); // else it answers after 5 s
  assert.equal(m.remaining, 1);
  assert.equal(m.calls.length, 1, 'the request is still recorded');
});

test('an already aborted signal rejects even without a delay', async () => {
  const m = mockModel([{ type: 'text', text: 'x' }]);
  await assert.rejects(m.generate(req(), { signal: AbortSignal.abort() }), AbortError);
  assert.equal(m.remaining, 1);
});

test('invalid items are rejected up front with a ConfigError (a TypeError) naming the index', () => {
  assert.throws(() => mockModel('text'), { name: 'ConfigError', message: /items must be an array/ });
  assert.throws(() => mockModel(undefined), { name: 'ConfigError', message: /items must be an array/ });
  assert.throws(() => mockModel([{ type: 'text', text: 'ok' }, { type: 'image' }]), {
    name: 'ConfigError',
    message: /items\[1\] has unknown type "image": expected 'text', 'tool-call' or 'end-step'/,
  });
  assert.throws(() => mockModel([{ text: 'no type' }]), { name: 'ConfigError', message: /items\[0\] has unknown type undefined: expected/ });
  assert.throws(() => mockModel([{ type: 'txt', text: 'x' }]), { name: 'ConfigError', message: `mockModel: items[0] has unknown type "txt" (did you mean 'text'?): expected 'text', 'tool-call' or 'end-step'` });
  // What is missing is named as such (it read "got undefined undefined").
  assert.throws(() => mockModel([{ type: 'text' }]), { name: 'ConfigError', message: 'mockModel: items[0] (text) must have a string "text", got undefined' });
  assert.throws(() => mockModel([null]), { name: 'ConfigError', message: /items\[0\] must be an object/ });
  assert.throws(() => mockModel([{ type: 'tool-call', args: {} }]), {
    name: 'ConfigError',
    message: /items\[0\] \(tool-call\) must have a non-empty string "toolName"/,
  });
  assert.throws(() => mockModel([{ type: 'tool-call', toolName: 42 }]), { name: 'ConfigError', message: /items\[0\].*toolName/ });
  assert.throws(() => mockModel([{ type: 'text', text: 1 }]), { name: 'ConfigError', message: /items\[0\] \(text\) must have a string "text"/ });
  assert.throws(() => mockModel([{ type: 'tool-call', toolName: 't', toolCallId: 5 }]), { name: 'ConfigError', message: /toolCallId/ });
  assert.throws(() => mockModel([], { delayMs: -1 }), { name: 'ConfigError', message: /delayMs/ });
});

test('an item with a key it does not have is refused, with a did-you-mean', () => {
  // Before, the key was dropped: this call ran with args {} instead of failing.
  assert.throws(() => mockModel([{ type: 'tool-call', toolName: 't', argsText: '{"n":1}' }]), {
    name: 'ConfigError',
    message: /items\[0\] \(tool-call\): unknown key 'argsText' \(did you mean 'args'\? known: type, toolCallId, toolName, args\)/,
  });
  assert.throws(() => mockModel([{ type: 'text', text: 'a', delay: 5 }]), { name: 'ConfigError', message: /items\[0\] \(text\): unknown key 'delay'/ });
  assert.throws(() => mockModel([{ type: 'end-step', text: '' }]), { name: 'ConfigError', message: /items\[0\] \(end-step\): unknown key 'text'/ });
  assert.equal(mockModel([{ type: 'tool-call', toolCallId: 'c', toolName: 't', args: {} }, { type: 'end-step' }]).remaining, 2);
  // A type named like an Object.prototype member is an unknown type, not a crash.
  assert.throws(() => mockModel([{ type: 'toString' }]), { name: 'ConfigError', message: /items\[0\] has unknown type "toString"/ });
});

test('isLanguageModel checks provider, modelId and generate', () => {
  assert.equal(isLanguageModel({ provider: 'x', modelId: 'y', generate() {} }), true);
  assert.equal(isLanguageModel({ provider: 'x', modelId: 'y' }), false);
  assert.equal(isLanguageModel({ provider: 'x', generate() {} }), false);
  assert.equal(isLanguageModel({ provider: 1, modelId: 'y', generate() {} }), false);
  assert.equal(isLanguageModel('openai:gpt-4o'), false);
  assert.equal(isLanguageModel(null), false);
  assert.equal(isLanguageModel(undefined), false);
});
