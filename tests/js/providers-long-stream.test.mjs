// Long streams of small deltas (js/providers/text-accumulator.ts): every provider's answer is the
// exact join of thousands of deltas of a few characters (ASCII, accents, CJK, emoji), text and
// reasoning, and a stream that fails after many deltas reports exactly the text it streamed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixtureServer } from './helpers/fixture-server.mjs';
import { KEY, callModel, ok, textOf, deltaText, sse, response } from './helpers/provider-calls.mjs';
import { createOpenAI } from '../../dist/providers/openai.js';
import { createAnthropic } from '../../dist/providers/anthropic.js';
import { createGoogle } from '../../dist/providers/google.js';
import { ProviderError } from '../../dist/errors.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

/** `n` deltas of 1 to 4 units, more than one block of the accumulator (1,024 pieces). */
function pieces(n, seed) {
  const alphabet = ['a', 'é', '中', '😀', ' ', '\n', '"', 'z'];
  return Array.from({ length: n }, (_, i) => {
    const length = 1 + ((i * 7 + seed) % 4);
    let piece = '';
    for (let k = 0; k < length; k++) piece += alphabet[(i * 13 + k * 5 + seed) % alphabet.length];
    return piece;
  });
}

const req = { messages: [{ role: 'user', content: 'Write a lot.' }], stream: true };
const texts = pieces(3_500, 1);
const thoughts = pieces(2_100, 2);

const providers = {
  openai: {
    model: () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('m'),
    body: (text, reasoning, failAfter) =>
      sse([
        ...reasoning.map((r) => ({ choices: [{ index: 0, delta: { reasoning_content: r } }] })),
        ...text.slice(0, failAfter).map((t) => ({ choices: [{ index: 0, delta: { content: t } }] })),
        ...(failAfter === undefined
          ? [{ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, '[DONE]']
          : [{ error: { message: 'The server had an error', type: 'server_error' } }]),
      ]),
  },
  anthropic: {
    model: () => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('m'),
    body: (text, reasoning, failAfter) =>
      sse([
        { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', model: 'm', usage: { input_tokens: 3, output_tokens: 1 } } } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } } },
        ...reasoning.map((r) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: r } } })),
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } } },
        ...text.slice(0, failAfter).map((t) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: t } } })),
        ...(failAfter === undefined
          ? [
              { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
              { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } } },
              { event: 'message_stop', data: { type: 'message_stop' } },
            ]
          : [{ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]),
      ]),
  },
  responses: {
    model: () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('m'),
    body: (text, reasoning, failAfter) =>
      sse([
        { type: 'response.created', response: { id: 'resp_1', model: 'm' } },
        { type: 'response.output_item.added', output_index: 0, item: { type: 'reasoning' } },
        ...reasoning.map((r) => ({ type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: r })),
        { type: 'response.output_item.added', output_index: 1, item: { type: 'message' } },
        ...text.slice(0, failAfter).map((t) => ({ type: 'response.output_text.delta', output_index: 1, delta: t })),
        ...(failAfter === undefined
          ? [{ type: 'response.completed', response: { id: 'resp_1', model: 'm', status: 'completed', usage: { input_tokens: 3, output_tokens: 9, total_tokens: 12 } } }]
          : [{ type: 'error', error: { message: 'The server had an error', type: 'server_error' } }]),
      ]),
  },
  google: {
    model: () => createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash'),
    body: (text, reasoning, failAfter) =>
      sse([
        ...reasoning.map((r) => ({ candidates: [{ content: { role: 'model', parts: [{ text: r, thought: true }] } }] })),
        ...text.slice(0, failAfter).map((t) => ({ candidates: [{ content: { role: 'model', parts: [{ text: t }] } }] })),
        failAfter === undefined
          ? { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 9, totalTokenCount: 12 } }
          : { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } },
      ]),
  },
};

for (const [name, provider] of Object.entries(providers)) {
  test(`${name}: an answer in thousands of small deltas is their exact join, text and reasoning`, async () => {
    const r = await callModel(srv, provider.model(), response(provider.body(texts, thoughts)), req);
    const result = ok(r);
    assert.equal(textOf(result), texts.join(''));
    assert.equal(deltaText(r.deltas), texts.join(''));
    assert.equal(r.deltas.filter((d) => d.type === 'text-delta').length, texts.length);
    const reasoning = result.content.filter((p) => p.type === 'reasoning').map((p) => p.text).join('');
    assert.equal(reasoning, thoughts.join(''));
    assert.equal(deltaText(r.deltas, 'reasoning-delta'), thoughts.join(''));
  });

  test(`${name}: a stream that fails after thousands of deltas reports exactly the text it streamed`, async () => {
    const failAfter = 2_600;
    const r = await callModel(srv, provider.model(), response(provider.body(texts, [], failAfter)), req);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, texts.slice(0, failAfter).join(''));
  });
}

for (const [name, provider] of Object.entries(providers)) {
  test(`${name}: an event that is not JSON after thousands of deltas fails the call, naming it and keeping the text`, async () => {
    const failAfter = 1_500;
    const body = provider.body(texts, [], failAfter);
    // The last event (the in-band error) cut short, with the API key in it.
    const broken = body.replace(/data: [^\n]*\n\n$/, `data: {"type":"x","key":"${KEY}","cut\n\n`);
    assert.notEqual(broken, body);
    const r = await callModel(srv, provider.model(), response(broken), req);
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.match(r.error.message, /malformed stream (event|chunk): \{"type":"x"/);
    assert.ok(!r.error.message.includes(KEY), r.error.message);
    assert.equal(r.error.partialText, texts.slice(0, failAfter).join(''));
  });
}
