// runPrompt's includeRawChunks (each SSE event of a recorded stream as a raw part) and its
// experimental_transform (js/prompt/stream-transforms.ts) and smoothStream
// (js/prompt/smooth-stream.ts): the parts go through the transforms, in order, before every reader
// (fullStream, textStream, onChunk, the UI message stream); the run's text stays the model's; a
// transform's stopStream cancels the run; a failing transform ends the streams with its error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AbortError, ConfigError, createAnthropic, createGoogle, createOpenAI, mockModel, runPrompt, smoothStream } from '../../dist/node.js';
import fs from 'node:fs';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

/** A model that streams `deltas` ({type, text}) one per macrotask, then answers their text. */
function streamingModel(deltas, { toolCallFirst = false } = {}) {
  let call = 0;
  return {
    provider: 'test',
    modelId: 'deltas',
    async generate(_request, { onDelta }) {
      if (toolCallFirst && call++ === 0) return { content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'noop', args: {} }], finishReason: 'tool-calls', usage: {} };
      for (const delta of deltas) {
        onDelta?.(delta);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const text = deltas.filter((d) => d.type === 'text-delta').map((d) => d.text).join('');
      const reasoning = deltas.filter((d) => d.type === 'reasoning-delta').map((d) => d.text).join('');
      return { content: [...(reasoning ? [{ type: 'reasoning', text: reasoning }] : []), { type: 'text', text }], finishReason: 'stop', usage: {} };
    },
  };
}

const textOf = (parts, type = 'text-delta') => parts.filter((p) => p.type === type).map((p) => p.text);

test('smoothStream over a recorded OpenAI stream: words, one per delay, adding up to the answer; onChunk and textStream see the same', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1));
  const openai = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'sk-test-not-a-real-key' });
  const chunks = [];
  const seenAt = [];
  const result = runPrompt({
    model: openai('gpt-3.5-turbo'),
    prompt: 'Hello',
    experimental_transform: smoothStream({ delayInMs: 15 }),
    onChunk: ({ chunk }) => void chunks.push(chunk.text),
  });
  const words = [];
  for await (const text of result.textStream) {
    words.push(text);
    seenAt.push(performance.now());
  }
  const answer = await result.text;
  assert.equal(words.join(''), answer, 'the words add up to the model text');
  assert.ok(words.length >= 3, `several words, got ${JSON.stringify(words)}`);
  for (const word of words.slice(0, -1)) assert.match(word, /^\S+\s+$/, 'a word and the whitespace after it');
  assert.deepEqual(chunks, words);
  const gaps = seenAt.slice(1).map((t, i) => t - seenAt[i]);
  assert.ok(gaps.slice(0, -1).every((gap) => gap >= 10), `about 15 ms between words, got ${gaps.map((g) => g.toFixed(1))}`);
});

test('lines, a RegExp, an Intl.Segmenter and a detector function cut the text their way; null delay does not wait', async () => {
  const deltas = [{ type: 'text-delta', text: 'one two\nthr' }, { type: 'text-delta', text: 'ee four\n\nfive' }];
  const cut = async (chunking) => {
    const result = runPrompt({ model: streamingModel(deltas), prompt: 'x', experimental_transform: smoothStream({ chunking, delayInMs: null }) });
    const parts = [];
    for await (const text of result.textStream) parts.push(text);
    assert.equal(parts.join(''), 'one two\nthree four\n\nfive');
    return parts;
  };
  assert.deepEqual(await cut('line'), ['one two\n', 'three four\n\n', 'five']);
  assert.deepEqual(await cut(/o/), ['o', 'ne two', '\nthree fo', 'ur\n\nfive']);
  assert.deepEqual(await cut((buffer) => (buffer.length >= 5 ? buffer.slice(0, 5) : undefined)), ['one t', 'wo\nth', 'ree f', 'our\n\n', 'five']);
  assert.deepEqual(await cut(new Intl.Segmenter('en', { granularity: 'word' })), ['one ', 'two\n', 'three ', 'four\n\n', 'five']);
});

test('text and reasoning are buffered apart, and a step boundary or another part sends the rest of the buffer first', async () => {
  const deltas = [
    { type: 'reasoning-delta', text: 'think a' },
    { type: 'reasoning-delta', text: 'bit' },
    { type: 'text-delta', text: 'Hello wor' },
    { type: 'text-delta', text: 'ld' },
  ];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defTool('noop', 'does nothing', { type: 'object', properties: {} }, () => 'ok');
      ctx.$`x`;
    },
    { model: streamingModel(deltas, { toolCallFirst: true }), experimental_transform: smoothStream({ delayInMs: null }) },
  );
  const parts = [];
  for await (const part of result.fullStream) parts.push(part);
  assert.deepEqual(textOf(parts, 'reasoning-delta'), ['think ', 'abit']);
  assert.deepEqual(textOf(parts), ['Hello ', 'world']);
  const types = parts.map((p) => p.type);
  assert.ok(types.indexOf('tool-result') < types.indexOf('reasoning-delta'), 'step 0 tool round first');
  assert.ok(types.lastIndexOf('reasoning-delta') < types.indexOf('text-delta'), 'the reasoning buffer went out before the text');
  assert.ok(types.lastIndexOf('text-delta') < types.lastIndexOf('step-finish'), 'the text buffer went out before the step ended');
  assert.ok(parts.filter((p) => p.type === 'text-delta').every((p) => p.stepNumber === 1), 'the parts keep their step');
  assert.equal(types.at(-1), 'finish');
});

test('transforms apply in order, before every reader; the run\'s text, steps and conversation stay the model\'s', async () => {
  const order = [];
  const upper = () => new TransformStream({ transform(part, c) { order.push('upper'); c.enqueue(part.type === 'text-delta' ? { ...part, text: part.text.toUpperCase() } : part); } });
  const tag = ({ tools }) => {
    assert.deepEqual(Object.keys(tools), ['lookup']);
    assert.equal(tools.lookup.description, 'Looks up');
    return new TransformStream({ transform(part, c) { order.push('tag'); c.enqueue(part.type === 'text-delta' ? { ...part, text: `[${part.text}]` } : part); } });
  };
  const chunks = [];
  const result = runPrompt({
    model: mockModel([{ type: 'text', text: 'quiet words' }]),
    prompt: 'x',
    tools: { lookup: { description: 'Looks up', inputSchema: { type: 'object', properties: {} }, execute: () => 'x' } },
    experimental_transform: [upper, tag],
    onChunk: ({ chunk }) => void chunks.push(chunk.text),
  });
  const streamed = [];
  for await (const text of result.textStream) streamed.push(text);
  assert.ok(streamed.length > 0 && streamed.every((t) => /^\[[A-Z ]+\]$/.test(t)), `upper-cased, then tagged: ${JSON.stringify(streamed)}`);
  assert.equal(streamed.map((t) => t.slice(1, -1)).join(''), 'QUIET WORDS');
  assert.deepEqual(chunks, streamed);
  assert.equal(order[0], 'upper');
  assert.equal(await result.text, 'quiet words');
  assert.equal((await result.steps)[0].text, 'quiet words');
  assert.equal((await result.response).messages.at(-1).content.find((p) => p.type === 'text')?.text ?? (await result.response).messages.at(-1).content, 'quiet words');
  // The UI message stream is built from the transformed parts too.
  const again = runPrompt({ model: mockModel([{ type: 'text', text: 'quiet words' }]), prompt: 'x', experimental_transform: upper });
  let uiText = '';
  for await (const chunk of again.toUIMessageStream()) if (chunk.type === 'text-delta') uiText += chunk.delta;
  assert.equal(uiText, 'QUIET WORDS');
});

test('stopStream cancels the run: the streams end with the AbortError, onAbort is called, the parts before it stay', async () => {
  let aborted = false;
  const stopAtFirstText = ({ stopStream }) =>
    new TransformStream({
      transform(part, c) {
        c.enqueue(part);
        if (part.type === 'text-delta') stopStream();
      },
    });
  const result = runPrompt({
    model: mockModel([{ type: 'text', text: 'a long answer that goes on' }], { delayMs: 30 }),
    prompt: 'x',
    experimental_transform: stopAtFirstText,
    onAbort: () => void (aborted = true),
  });
  const parts = [];
  for await (const part of result.fullStream) parts.push(part);
  assert.ok(textOf(parts).length >= 1);
  const last = parts.at(-1);
  assert.equal(last.type, 'error');
  assert.ok(last.error instanceof AbortError, String(last.error));
  assert.match(last.error.message, /stopStream/);
  await assert.rejects(result.text, AbortError);
  assert.equal(aborted, true);
  // The caller's own abortSignal still works beside it.
  const controller = new AbortController();
  const other = runPrompt({ model: mockModel([{ type: 'text', text: 'x' }], { delayMs: 200 }), prompt: 'x', experimental_transform: smoothStream(), abortSignal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(other.text, AbortError);
});

test('a transform that throws, or passes on a part readers cannot take, ends the streams with that error; the run still finishes', async () => {
  const failing = () => new TransformStream({ transform(part) { if (part.type === 'text-delta') throw new Error('transform broke'); } });
  const result = runPrompt({ model: mockModel([{ type: 'text', text: 'fine' }]), prompt: 'x', experimental_transform: failing });
  const parts = [];
  for await (const part of result.fullStream) parts.push(part);
  assert.equal(parts.at(-1).type, 'error');
  assert.equal(parts.at(-1).error.message, 'transform broke');
  assert.equal(await result.text, 'fine');

  const lossy = () => new TransformStream({ transform(part, c) { c.enqueue(part.type === 'text-delta' ? { type: 'text-delta', text: part.text } : part); } });
  const second = runPrompt({ model: mockModel([{ type: 'text', text: 'fine' }]), prompt: 'x', experimental_transform: lossy });
  const seen = [];
  for await (const part of second.fullStream) seen.push(part);
  assert.ok(seen.at(-1).error instanceof ConfigError);
  assert.match(seen.at(-1).error.message, /'text-delta' part without a string 'text' and a number 'stepNumber'/);
});

test('bad transforms and smoothStream options are refused with what was expected', async () => {
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'x', experimental_transform: 'smooth' }), (e) => e instanceof ConfigError && /'experimental_transform' must be a function or an array of transforms/.test(e.message));
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'x', experimental_transform: () => ({}) }), (e) => e instanceof ConfigError && /must return a TransformStream, got/.test(e.message));
  assert.throws(() => smoothStream({ chunking: /\s*/ }), /matches the empty string/);
  assert.throws(() => smoothStream({ chunking: 'sentence' }), /'chunking' must be 'word', 'line', a RegExp/);
  assert.throws(() => smoothStream({ delayInMs: -1 }), /'delayInMs' must be null or a number of milliseconds/);
  assert.throws(() => smoothStream({ delay: 5 }), /unknown option 'delay' \(did you mean 'delayInMs'\?/);
  const wrongPrefix = runPrompt({ model: mockModel([{ type: 'text', text: 'abc def' }]), prompt: 'x', experimental_transform: smoothStream({ chunking: () => 'zzz' }) });
  const parts = [];
  for await (const part of wrongPrefix.fullStream) parts.push(part);
  assert.match(parts.at(-1).error.message, /must return a prefix of the buffer/);
});

/** The JSON data lines of a recorded SSE response, as the provider sent them. */
function recordedEvents(provider, name) {
  const http = fs.readFileSync(new URL(`../fixtures/providers/${provider}/${name}.1.response.http`, import.meta.url), 'utf8');
  return http.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).map((data) => { try { return JSON.parse(data); } catch { return data; } });
}

test('includeRawChunks: every event of a recorded OpenAI, Anthropic and Gemini stream is a raw part of fullStream and onChunk, in order, between the text', async () => {
  const cases = [
    ['openai-chat', 'text-stream-include-usage', (url) => createOpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-test-not-a-real-key' })('gpt-3.5-turbo')],
    ['anthropic', 'text-stream', (url) => createAnthropic({ baseURL: `${url}/v1`, apiKey: 'sk-ant-test' })('claude-3-5-haiku-latest')],
    ['gemini', 'text-stream-sse', (url) => createGoogle({ baseURL: `${url}/v1beta`, apiKey: 'gm-test' })('gemini-2.5-flash')],
  ];
  for (const [provider, name, make] of cases) {
    srv.enqueue(loadFixture(provider, name, 1));
    const chunks = [];
    const result = runPrompt({ model: make(srv.url), prompt: 'Hello', includeRawChunks: true, onChunk: ({ chunk }) => void (chunk.type === 'raw' && chunks.push(chunk.rawValue)) });
    const parts = [];
    for await (const part of result.fullStream) parts.push(part);
    const raw = parts.filter((p) => p.type === 'raw');
    assert.deepEqual(raw.map((p) => p.rawValue), recordedEvents(provider, name), `${provider}: the raw parts are the recorded events`);
    assert.ok(raw.every((p) => p.stepNumber === 0));
    assert.deepEqual(chunks, raw.map((p) => p.rawValue), `${provider}: onChunk gets them too`);
    const types = parts.map((p) => p.type);
    assert.ok(types.indexOf('raw') < types.indexOf('text-delta') && types.lastIndexOf('raw') > types.indexOf('text-delta'), `${provider}: raw chunks come as the text streams`);
    assert.equal(textOf(parts).join(''), await result.text);
  }
  // Without the option there are none.
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1));
  const plain = runPrompt({ model: createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'sk-test-not-a-real-key' })('gpt-3.5-turbo'), prompt: 'Hello' });
  const types = [];
  for await (const part of plain.fullStream) types.push(part.type);
  assert.equal(types.includes('raw'), false);
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', includeRawChunks: 'yes' }), /'includeRawChunks' must be true or false/);
});
