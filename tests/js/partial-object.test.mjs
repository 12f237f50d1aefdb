// result.partialObjectStream (js/prompt/partial-objects.ts): a structured answer while it streams,
// from partial JSON (js/prompt/partial-json.ts), over a real OpenAI-format SSE stream on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { startFixtureServer } from './helpers/fixture-server.mjs';
import { KEY, sse } from './helpers/provider-calls.mjs';
import { ConfigError, createOpenAI, memoryStorage, mockModel, replay, runPrompt } from '../../dist/node.js';
import { parsePartialJson } from '../../dist/prompt/partial-json.js';
import { partialObjects } from '../../dist/prompt/partial-objects.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const DOCUMENT = '{"name": "Jo\\u00e9 \\"the\\" 😀", "age": 30, "tags": ["a", "bc", true, null, {}], "nested": {"k": -1.5e3, "empty": []}, "__proto__": {"x": 1}}';

test('partial JSON: every prefix gives what it holds, and nothing it will not keep', () => {
  const whole = JSON.parse(DOCUMENT);
  let previous = '';
  for (let i = 0; i <= DOCUMENT.length; i++) {
    const parsed = parsePartialJson(DOCUMENT.slice(0, i));
    if (parsed === undefined) {
      assert.ok(i < 2, `only "" and "{" hold nothing, not ${JSON.stringify(DOCUMENT.slice(0, i))}`);
      continue;
    }
    const shown = JSON.stringify(parsed.value);
    // What a prefix shows is never taken back: each value's JSON, strings and containers left open,
    // is where the whole document's JSON goes on from.
    const open = shown.replace(/("?[\]}]*)$/, '');
    assert.ok(JSON.stringify(whole).startsWith(open), `prefix ${i} shows ${shown}`);
    assert.ok(open.length >= previous.length, `prefix ${i} shows less than the one before`);
    previous = open;
  }
  assert.deepEqual(parsePartialJson(DOCUMENT).value, whole);
  assert.equal(Object.getPrototypeOf(parsePartialJson(DOCUMENT).value), Object.prototype, 'a "__proto__" key is a member');
  assert.deepEqual(Object.keys(parsePartialJson(DOCUMENT).value), ['name', 'age', 'tags', 'nested', '__proto__']);
});

test('partial JSON: cut numbers, words, keys and escapes wait; a fence is skipped; what is not JSON is nothing', () => {
  const at = (text) => parsePartialJson(text)?.value;
  assert.deepEqual(at('{"n": 12'), {}, 'a number at the end may go on');
  assert.deepEqual(at('{"n": 12,'), { n: 12 });
  assert.deepEqual(at('{"n": 1.5e'), {});
  assert.deepEqual(at('{"ok": tr'), {});
  assert.deepEqual(at('{"ok": true'), { ok: true });
  assert.deepEqual(at('{"na'), {}, 'a key cut short');
  assert.deepEqual(at('{"name"'), {}, 'a key without its value');
  assert.deepEqual(at('{"s": "a\\'), { s: 'a' }, 'an escape cut short');
  assert.deepEqual(at('{"s": "a\\u00'), { s: 'a' });
  assert.deepEqual(at('{"s": "a\\u00e9'), { s: 'aé' });
  assert.deepEqual(at('```json\n{"a": [1, 2'), { a: [1] });
  assert.equal(at('"a\ud83d'), 'a', 'half a surrogate pair waits for the other half');
  assert.equal(at('"a\\ud83d'), 'a');
  assert.equal(at('"a\\ud83d\\ude00'), 'a😀');
  assert.equal(at('42'), undefined);
  assert.equal(at('42 '), 42);
  assert.equal(at('"abc'), 'abc');
  // Deeper than the engine's limit on values: nothing is shown (and the parser does not overflow its stack).
  assert.equal(parsePartialJson('['.repeat(200_000)), undefined);
  assert.deepEqual(parsePartialJson('['.repeat(1000)), { value: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) });
  for (const text of ['', '  ', 'Sure! {"a": 1}', '{"a" 1}', '[1,,2]', '{"a": tx}', '{"a": 1.}', '{"s": "\\q"}', '{,}', '[1 2]', '```json']) assert.equal(parsePartialJson(text), undefined, text);
});

/** An OpenAI Chat Completions stream whose content is `text` in deltas of `size` characters. */
const chatStream = (text, size) =>
  sse([
    { id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...Array.from({ length: Math.ceil(text.length / size) }, (_, i) => ({ id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: text.slice(i * size, (i + 1) * size) }, finish_reason: null }] })),
    { id: 'c', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    '[DONE]',
  ]);

test('runPrompt over a real SSE stream: partial objects as the answer streams, the last equal to result.object; a refused answer starts over', async () => {
  const Person = z.object({ name: z.string(), langs: z.array(z.string()), age: z.number() });
  const answer = { name: 'Ada Lovelace', langs: ['en', 'fr', 'it'], age: 36 };
  srv.enqueue({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: chatStream('{"name": "Bob", "age": "old"}', 3) }, { seed: 1 });
  srv.enqueue({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: chatStream(JSON.stringify(answer, null, 1), 2) }, { seed: 2 });
  const run = runPrompt({ model: createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('m'), prompt: 'Who?', responseSchema: Person });
  const partials = [];
  for await (const partial of run.partialObjectStream) partials.push(partial);
  assert.deepEqual(await run.object, answer);
  assert.deepEqual(partials.at(-1), answer);
  // The refused answer streamed first, complete members only; then the second started over from {}.
  const restart = partials.findIndex((p, i) => i > 0 && Object.keys(p).length === 0);
  assert.ok(restart > 0, JSON.stringify(partials));
  assert.deepEqual(partials[restart - 1], { name: 'Bob', age: 'old' });
  const second = partials.slice(restart);
  assert.ok(second.some((p) => p.name === 'Ada Lo'), 'strings grow as they stream');
  assert.ok(second.some((p) => Array.isArray(p.langs) && p.langs.length === 2 && p.age === undefined), 'arrays hold the items so far');
  assert.ok(second.every((p) => p.age === undefined || p.age === 36), 'a number appears once complete');
  for (let i = 1; i < second.length; i++) assert.notDeepEqual(second[i], second[i - 1], 'a value is given out only when it changed');
});

test('partialObjectStream: a model that does not stream gives the whole answer once; a run without responseSchema is refused', async () => {
  const whole = { provider: 'custom', modelId: 'm', generate: async () => ({ content: [{ type: 'text', text: '{"n": 1}' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } }) };
  const run = runPrompt({ model: whole, prompt: 'n?', responseSchema: { type: 'object', properties: { n: { type: 'number' } } } });
  const partials = [];
  for await (const partial of run.partialObjectStream) partials.push(partial);
  assert.deepEqual(partials, [{ n: 1 }]);

  const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), prompt: 'x' });
  assert.throws(() => result.partialObjectStream, (e) => e instanceof ConfigError && /has no responseSchema/.test(e.message));
  const shortcut = runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), prompt: 'x' });
  await assert.rejects(async () => {
    for await (const _ of shortcut.partialObjectStream);
  }, ConfigError);
});

test('partialObjectStream of a durable run: its replay, with no model, gives the same partial values', async () => {
  const text = '{"name": "Ada", "langs": ["en", "fr"], "age": 36}';
  const model = {
    provider: 'custom', modelId: 'm',
    async generate(request, { onDelta }) {
      for (let i = 0; i < text.length; i += 5) {
        onDelta?.({ type: 'text-delta', text: text.slice(i, i + 5) });
        await new Promise((r) => setTimeout(r, 1));
      }
      return { content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  const config = { prompt: 'Who?', responseSchema: { type: 'object' } };
  const collect = async (stream) => {
    const values = [];
    for await (const value of stream) values.push(value);
    return values;
  };
  const run = runPrompt({ ...config, model, durable: { id: 'partial-1', storage: memoryStorage() } });
  const live = await collect(run.partialObjectStream);
  assert.ok(live.length > 3, JSON.stringify(live));
  const { prompt } = await run;
  const replayed = await replay(prompt.journal, () => {}, { ...config, model: { provider: 'custom', modelId: 'm', generate: () => Promise.reject(new Error('the model was called')) } });
  assert.deepEqual(await collect(replayed.result.partialObjectStream), live);
});

test('partialObjects: an event in the middle of a step does not complete a number; the step end does', async () => {
  const delta = (text, stepNumber = 0) => ({ type: 'text-delta', text, stepNumber });
  const parts = [
    delta('{"n": 12'),
    { type: 'tool-call', path: ['root', 'helper'], stepNumber: 0, toolCallId: 'x', toolName: 't', args: {} },
    delta('3, "m": 4'),
    { type: 'step-finish', path: ['root', 'helper'], stepNumber: 0 },
    delta('5'),
    { type: 'step-finish', path: ['root'], stepNumber: 0 },
    delta('7', 1),
    { type: 'finish', finishReason: 'stop' },
  ];
  const values = [];
  for await (const value of partialObjects((async function* () { yield* parts; })())) values.push(value);
  assert.deepEqual(values, [{}, { n: 123 }, { n: 123, m: 45 }, 7]);
});
