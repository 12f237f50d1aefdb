// Long strings cross the engine boundary beside the JSON (src/protocol/blobs.hpp, js/blobs.ts):
// whatever route a long or marker-like string takes — model text, tool result, def value, tool
// arguments, a request sent back to the model — it arrives unchanged (lone surrogates aside, which
// become U+FFFD as everywhere on the boundary).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createEngine, runPrompt } from '../../dist/node.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
/**
 * A mixed text of `n` UTF-16 units: ASCII, 2-, 3- and 4-byte UTF-8, newlines, quotes, backslashes
 * (well-formed: an emoji cut in half by the length becomes U+FFFD, as the engine would make it).
 */
const mixed = (n, seed = 'x') => `${seed}\u00e9\u20ac\ud83d\ude00 "quoted" back\\slash\n`.repeat(Math.ceil(n / 30)).slice(0, n).toWellFormed();

/** A model answering from `answers` in order, recording each request it gets. */
function scripted(answers) {
  const requests = [];
  return {
    requests,
    model: {
      provider: 'test', modelId: 'scripted',
      async generate(request) {
        requests.push(structuredClone(request));
        return { ...answers[requests.length - 1], finishReason: answers[requests.length - 1].finishReason ?? 'stop', usage };
      },
    },
  };
}

test('a long model text comes back unchanged in text, steps and messages', async () => {
  const engine = await createEngine();
  const long = mixed(200_000);
  const { model } = scripted([{ content: [{ type: 'text', text: long }] }]);
  const { result, prompt } = await runPrompt((ctx) => ctx.$`write`, { model, engine });
  assert.equal(await result.text, long);
  const steps = await result.steps;
  assert.equal(steps[0].text, long);
  assert.equal(prompt.steps[0].text, long);
  const { messages } = await result.response;
  assert.deepEqual(messages.at(-1).content, [{ type: 'text', text: long }]);
});

test('long tool arguments, tool results and def values reach the model and the tool unchanged', async () => {
  const engine = await createEngine();
  const document = mixed(50_000, 'doc');
  const argument = mixed(40_000, 'arg');
  const toolOutput = mixed(60_000, 'out');
  const { model, requests } = scripted([
    { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'echo', args: { text: argument } }], finishReason: 'tool-calls' },
    { content: [{ type: 'text', text: 'done' }] },
  ]);
  let seen;
  const { result } = await runPrompt((ctx) => {
    ctx.def('DOC', document);
    ctx.defTool('echo', 'echoes', { type: 'object', properties: { text: { type: 'string' } } }, ({ text }) => {
      seen = text;
      return toolOutput;
    });
    ctx.$`go`;
  }, { model, engine });
  assert.equal(await result.text, 'done');
  assert.equal(seen, argument);
  const system = requests[0].messages.find((m) => m.role === 'system');
  assert.ok(system.content.includes(document), 'the def value is in the system prompt');
  const toolMessage = requests[1].messages.find((m) => m.role === 'tool');
  assert.ok(JSON.stringify(toolMessage).includes(JSON.stringify(toolOutput).slice(1, -1)), 'the tool result went back to the model');
  const call = requests[1].messages.find((m) => m.role === 'assistant').content.find((p) => p.type === 'tool-call');
  assert.equal(call.args.text, argument);
});

test('strings that look like blob markers pass through as ordinary text', async () => {
  const engine = await createEngine();
  const lookalikes = ['\u0000lmthing:in:1', '\u0000lmthing:out:0:3:h:1:3', '\u0000lmthing:'];
  const { model, requests } = scripted([{ content: [{ type: 'text', text: lookalikes.join('|') }] }]);
  const { result } = await runPrompt((ctx) => {
    ctx.def('A', lookalikes[0]);
    ctx.$`${lookalikes[1]}`;
  }, { model, engine });
  assert.equal(await result.text, lookalikes.join('|'));
  const sent = JSON.stringify(requests[0].messages);
  assert.ok(sent.includes(JSON.stringify(lookalikes[0]).slice(1, -1)) && sent.includes(JSON.stringify(lookalikes[1]).slice(1, -1)));
});

test('a long text with a lone surrogate comes back with U+FFFD in its place', async () => {
  const engine = await createEngine();
  const long = `${mixed(30_000)}\ud800tail`;
  const { model } = scripted([{ content: [{ type: 'text', text: long }] }]);
  const { result } = await runPrompt((ctx) => ctx.$`x`, { model, engine });
  assert.equal(await result.text, long.replace('\ud800', '\ufffd'));
});

test('many runs with different long texts in one batch each get their own', async () => {
  const engine = await createEngine();
  const texts = Array.from({ length: 20 }, (_, i) => mixed(20_000 + i, `run${i}`));
  const results = await Promise.all(texts.map(async (long) => {
    const { model } = scripted([{ content: [{ type: 'text', text: long }] }]);
    const { result } = await runPrompt((ctx) => ctx.$`x`, { model, engine });
    return result.text;
  }));
  assert.deepEqual(results, texts);
});

test('the long texts the host keeps for the engine are let go once no run is left, and a later run still gets its own', async () => {
  const engine = await createEngine();
  const cache = engine['blobCache'];
  const first = mixed(300_000, 'first');
  const toolOutput = mixed(40_000, 'tool');
  let heldDuringRun;
  const { model } = scripted([
    { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'look', args: {} }], finishReason: 'tool-calls' },
    { content: [{ type: 'text', text: first }] },
  ]);
  const watched = { ...model, async generate(request) {
    if (request.messages.length > 2) heldDuringRun = cache.size; // after the long tool result went in
    return model.generate(request);
  } };
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('look', 'looks', { type: 'object', properties: {} }, () => toolOutput);
    ctx.$`write`;
  }, { model: watched, engine });
  assert.equal(await result.text, first);
  assert.equal((await result.steps)[0].toolResults[0].result, toolOutput);
  assert.ok(heldDuringRun > 0, 'during the run the host keeps the long texts it exchanged');
  assert.equal(cache.size, 0, 'nothing is kept once the engine has no run left');

  // The same long text again, and the run's reply naming it: decoded from the bytes, not the cache.
  const again = scripted([{ content: [{ type: 'text', text: first }] }]);
  const second = await runPrompt((ctx) => ctx.$`write`, { model: again.model, engine });
  assert.equal(await second.result.text, first);
  assert.equal((await second.result.steps)[0].text, first);
});

test('an outbound message with several blobs: each marker reads its own bytes, the cache answers known keys', async () => {
  const { BlobCache, resolveBlobs } = await import('../../dist/blobs.js');
  const encoder = new TextEncoder();
  const [a, b, c] = [mixed(20_000, 'a'), mixed(30_000, 'b'), mixed(17_000, 'c')];
  const bytes = [a, b, c].map((text) => encoder.encode(text));
  const marker = (offset, i, key) => `\u0000lmthing:out:${offset}:${bytes[i].length}:${key}`;
  const offsets = [0, bytes[0].length, bytes[0].length + bytes[1].length];
  const cache = new BlobCache();
  cache.set('in:7', b); // a text the host sent: answered from the cache, not decoded
  const message = { type: 'reply', value: { first: marker(offsets[0], 0, 'h:1:1'), list: [marker(offsets[1], 1, 'in:7'), marker(offsets[2], 2, 'h:2:2')], again: marker(offsets[0], 0, 'h:1:1') } };
  // Views of separate buffers, as the wasm host hands them over: the engine's strings where they are.
  const resolved = resolveBlobs(message, bytes, cache, new TextDecoder());
  assert.deepEqual(resolved.value, { first: a, list: [b, c], again: a });
  assert.equal(cache.get('h:2:2'), c, 'a decoded text is kept under its key');

  const missing = { value: `\u0000lmthing:out:${offsets[2] + 1}:5:h:3:5` };
  assert.throws(() => resolveBlobs(missing, bytes, new BlobCache(), new TextDecoder()), /does not carry/);
});

test('a blob is as long in UTF-8 as the header says, natively and as browsers count it', async () => {
  const { utf8Length } = await import('../../dist/blobs.js');
  const encoder = new TextEncoder();
  const units = ['a', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '\ud83d\ude00', '\ud800', '\udc00', '\udbff\udfff'];
  const texts = ['', 'ascii only', mixed(5_000), 'end\ud83d', '\udc00start', '\ud83d\ud83d\ude00'];
  for (let seed = 1; seed <= 300; seed++) {
    let text = '';
    for (let i = 0; i < seed % 40; i++) text += units[(seed * 31 + i * 17) % units.length];
    texts.push(text);
  }
  for (const text of texts) {
    const expected = encoder.encode(text).length;
    assert.equal(utf8Length(text), expected, JSON.stringify(text));
    assert.equal(utf8Length(text, null), expected, `browser count of ${JSON.stringify(text)}`);
  }
});
