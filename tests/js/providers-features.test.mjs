// Cross-provider features in the request and response bodies: reasoning (Anthropic extended
// thinking with signatures, OpenAI reasoning effort, `reasoning` fields of compatible servers),
// image parts, Anthropic prompt caching, and cached-token usage.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY, callModel, ok, deltaText, sse, response } from './helpers/provider-calls.mjs';
import { createOpenAI, createOpenAICompatible } from '../../dist/providers/openai.js';
import { createAnthropic } from '../../dist/providers/anthropic.js';
import { createGoogle } from '../../dist/providers/google.js';
import { ValidationError } from '../../dist/errors.js';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const claude = (options) => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude-sonnet-4-5', options);
const gpt = (options) => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('o4-mini', options);
const ollama = (options) => createOpenAICompatible({ name: 'ollama', baseURL: `${srv.url}/v1` })('qwen3', options);
const user = (content) => ({ role: 'user', content });
const tools = [
  { name: 'a', parameters: { type: 'object', properties: {} } },
  { name: 'b', description: 'B', parameters: { type: 'object', properties: { x: { type: 'number' } } } },
];

describe('anthropic: prompt caching', () => {
  test('cache: {system, tools} puts cache_control breakpoints on the system prompt and the last tool', async () => {
    const r = await callModel(srv, claude({ cache: { system: true, tools: true } }), ['anthropic', 'text-nonstream', 1], {
      messages: [{ role: 'system', content: 'A long, stable system prompt.' }, user('hi')],
      tools,
      stream: false,
    });
    ok(r);
    assert.deepEqual(r.sent.body.system, [{ type: 'text', text: 'A long, stable system prompt.', cache_control: { type: 'ephemeral' } }]);
    assert.equal(r.sent.body.tools[0].cache_control, undefined);
    assert.deepEqual(r.sent.body.tools[1].cache_control, { type: 'ephemeral' });
    assert.deepEqual(r.sent.body.messages, [{ role: 'user', content: 'hi' }]);
  });

  test('cache: {messages, ttl: 1h} marks the last conversation block; no cache option sends none', async () => {
    let r = await callModel(srv, claude({ cache: { messages: true, ttl: '1h' } }), ['anthropic', 'text-nonstream', 1], {
      messages: [{ role: 'system', content: 'S' }, user('q1'), { role: 'assistant', content: 'a1' }, user([{ type: 'text', text: 'q2' }])],
      stream: false,
    });
    ok(r);
    assert.equal(r.sent.body.system, 'S');
    assert.deepEqual(r.sent.body.messages.at(-1), { role: 'user', content: [{ type: 'text', text: 'q2', cache_control: { type: 'ephemeral', ttl: '1h' } }] });
    assert.equal(r.sent.body.messages[0].content, 'q1');
    r = await callModel(srv, claude(), ['anthropic', 'text-nonstream', 1], { messages: [{ role: 'system', content: 'S' }, user('q')], tools, stream: false });
    assert.ok(!JSON.stringify(r.sent.body).includes('cache_control'));
  });

  test('cache reads and writes are reported as cachedInputTokens / cacheWriteInputTokens (JSON and stream)', async () => {
    const whole = {
      id: 'msg_c',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 20, cache_creation_input_tokens: 300, cache_read_input_tokens: 1800, output_tokens: 3 },
    };
    let r = await callModel(srv, claude(), response(whole, 'application/json'), { messages: [user('q')], stream: false });
    assert.deepEqual(ok(r).usage, { inputTokens: 2120, outputTokens: 3, totalTokens: 2123, cachedInputTokens: 1800, cacheWriteInputTokens: 300 });
    const stream = sse([
      { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_s', model: 'm', usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 2100, output_tokens: 1 } } } },
      { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
      { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } } },
      { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } } },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ]);
    r = await callModel(srv, claude(), response(stream), { messages: [user('q')] });
    assert.deepEqual(ok(r).usage, { inputTokens: 2120, outputTokens: 4, totalTokens: 2124, cachedInputTokens: 2100, cacheWriteInputTokens: 0 });
  });
});

describe('anthropic: extended thinking', () => {
  const thinkingStream = sse([
    { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_t', model: 'claude-sonnet-4-5', usage: { input_tokens: 50, output_tokens: 1 } } } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user wants ' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'the weather.' } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'b', input: {} } } },
    { event: 'content_block_delta', data: { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"x": 1}' } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 2 } },
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 90 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);

  test('reasoning options -> thinking {budget_tokens}, max_tokens above the budget; signatures and redacted thinking kept', async () => {
    for (const seed of [undefined, 5]) {
      const r = await callModel(srv, claude({ reasoning: { budgetTokens: 2048 } }), response(thinkingStream), { messages: [user('Weather?')], tools }, { seed, maxChunk: 40, maxDelayMs: 1 });
      const res = ok(r);
      assert.deepEqual(r.sent.body.thinking, { type: 'enabled', budget_tokens: 2048 });
      assert.equal(r.sent.body.max_tokens, 4096 + 2048);
      assert.deepEqual(res.content, [
        { type: 'reasoning', text: 'The user wants the weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds', signedBy: 'anthropic' },
        { type: 'reasoning', text: '', signature: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP', signedBy: 'anthropic', redacted: true },
        { type: 'tool-call', toolCallId: 'toolu_1', toolName: 'b', args: { x: 1 }, argsText: '{"x": 1}' },
      ]);
      assert.equal(deltaText(r.deltas, 'reasoning-delta'), 'The user wants the weather.');
    }
  });

  test('the next turn sends the signed thinking blocks first; other providers\' reasoning is dropped', async () => {
    const first = ok(await callModel(srv, claude({ reasoning: { effort: 'low' } }), response(thinkingStream), { messages: [user('Weather?')], tools }));
    const r = await callModel(srv, claude({ reasoning: { effort: 'low' } }), ['anthropic', 'text-nonstream', 1], {
      messages: [
        user('Weather?'),
        { role: 'assistant', content: [{ type: 'reasoning', text: 'gemini thought', signature: 'g', signedBy: 'google' }, { type: 'reasoning', text: 'unsigned' }, ...first.content] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'toolu_1', toolName: 'b', result: 'sunny' }] },
      ],
      tools,
      stream: false,
    });
    ok(r);
    assert.deepEqual(r.sent.body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.deepEqual(r.sent.body.messages[1], {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'The user wants the weather.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
        { type: 'tool_use', id: 'toolu_1', name: 'b', input: { x: 1 } },
      ],
    });
  });

  test('settings extended thinking cannot take -> ValidationError naming what to change, before any request', async () => {
    const before = srv.requests.length;
    const cases = [
      [{ budgetTokens: 4000 }, { maxOutputTokens: 4000 }, /maxOutputTokens \(4000\) must be larger than the thinking budget \(4000\)/],
      [{ effort: 'high' }, { temperature: 0.3 }, /only works with temperature 1/],
      [{ budgetTokens: 100 }, {}, /budgetTokens must be a whole number >= 1024/],
      [{ budgetTokens: 2048 }, { topK: 5 }, /does not allow topK/],
    ];
    for (const [reasoning, params, pattern] of cases) {
      const err = await claude({ reasoning }).generate({ messages: [user('q')], params }, {}).catch((e) => e);
      assert.ok(err instanceof ValidationError, String(err));
      assert.match(err.message, /^anthropic: /);
      assert.match(err.message, pattern);
    }
    assert.equal(srv.requests.length, before);
  });

  test('a whole (non-streamed) answer with thinking blocks', async () => {
    const whole = {
      id: 'msg_w',
      type: 'message',
      model: 'm',
      content: [
        { type: 'thinking', thinking: 'Hmm.', signature: 'sig1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'Done.' },
      ],
      stop_reason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 2 },
    };
    const r = await callModel(srv, claude(), response(whole, 'application/json'), { messages: [user('q')], stream: false });
    assert.deepEqual(ok(r).content, [
      { type: 'reasoning', text: 'Hmm.', signature: 'sig1', signedBy: 'anthropic' },
      { type: 'reasoning', text: '', signature: 'opaque', signedBy: 'anthropic', redacted: true },
      { type: 'text', text: 'Done.' },
    ]);
  });
});

describe('images per provider', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const pngB64 = Buffer.from(png).toString('base64');
  const webpB64 = Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1').toString('base64');
  const parts = [
    { type: 'text', text: 'Describe' },
    { type: 'image', data: png },
    { type: 'image', data: webpB64 },
    { type: 'image', data: `data:image/gif;base64,R0lGODlh` },
    { type: 'image', data: 'https://x.test/photo.jpg' },
  ];

  test('openai chat: bytes and base64 become data URLs with the detected type; URLs pass through', async () => {
    const r = await callModel(srv, gpt(), ['openai-chat', 'text-nonstream', 1], { messages: [user(parts)], stream: false });
    ok(r);
    assert.deepEqual(r.sent.body.messages[0].content, [
      { type: 'text', text: 'Describe' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${pngB64}` } },
      { type: 'image_url', image_url: { url: `data:image/webp;base64,${webpB64}` } },
      { type: 'image_url', image_url: { url: 'data:image/gif;base64,R0lGODlh' } },
      { type: 'image_url', image_url: { url: 'https://x.test/photo.jpg' } },
    ]);
  });

  test('anthropic: base64 sources with media types, URL sources', async () => {
    const r = await callModel(srv, claude(), ['anthropic', 'text-nonstream', 1], { messages: [user(parts)], stream: false });
    ok(r);
    assert.deepEqual(r.sent.body.messages[0].content, [
      { type: 'text', text: 'Describe' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngB64 } },
      { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: webpB64 } },
      { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: 'R0lGODlh' } },
      { type: 'image', source: { type: 'url', url: 'https://x.test/photo.jpg' } },
    ]);
  });

  test('a type the provider refuses -> ValidationError naming provider and accepted types; compatible servers decide themselves', async () => {
    const bmp = { type: 'image', data: new Uint8Array([0x42, 0x4d, 1, 2, 3, 4]) };
    const svgUrl = { type: 'image', data: 'https://x.test/logo.svg' };
    for (const [m, provider, img] of [[gpt(), 'openai', bmp], [claude(), 'anthropic', bmp], [claude(), 'anthropic', svgUrl]]) {
      const err = await m.generate({ messages: [user([img])] }, {}).catch((e) => e);
      assert.ok(err instanceof ValidationError, String(err));
      assert.match(err.message, new RegExp(`^${provider}: image type image/(bmp|svg\\+xml) is not accepted; convert the image to one of `));
    }
    const r = await callModel(srv, ollama(), ['openai-chat', 'text-nonstream', 1], { messages: [user([bmp])], stream: false });
    ok(r);
    assert.match(r.sent.body.messages[0].content[0].image_url.url, /^data:image\/bmp;base64,/);
    const bad = await gpt().generate({ messages: [user([{ type: 'image', data: 42 }])] }, {}).catch((e) => e);
    assert.ok(bad instanceof ValidationError);
    assert.match(bad.message, /an image part needs data as a Uint8Array, base64 text, a data: URL or an http\(s\) URL/);
  });
});

describe('files (documents) per provider', () => {
  const pdf = new TextEncoder().encode('%PDF-1.4 tiny');
  const pdfB64 = Buffer.from(pdf).toString('base64');
  const parts = [
    { type: 'text', text: 'Summarize' },
    { type: 'file', data: pdf, mediaType: 'application/pdf', filename: 'report.pdf' },
    { type: 'file', data: `data:application/pdf;base64,${pdfB64}`, mediaType: 'application/pdf' },
    { type: 'file', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
  ];
  const gemini = () => createGoogle({ baseURL: srv.url, apiKey: KEY })('gemini-2.5-flash');

  test('openai chat: file parts with the data as a data: URL and a filename; an image file goes as an image', async () => {
    const r = await callModel(srv, gpt(), ['openai-chat', 'text-nonstream', 1], { messages: [user(parts)], stream: false });
    ok(r);
    assert.deepEqual(r.sent.body.messages[0].content, [
      { type: 'text', text: 'Summarize' },
      { type: 'file', file: { filename: 'report.pdf', file_data: `data:application/pdf;base64,${pdfB64}` } },
      { type: 'file', file: { filename: 'document.pdf', file_data: `data:application/pdf;base64,${pdfB64}` } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ]);
  });

  test('openai responses: input_file with file_data, or file_url for a URL', async () => {
    const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-5');
    const r = await callModel(srv, model, response({ error: { message: 'not needed' } }, 'application/json'), { messages: [user([...parts.slice(0, 2), { type: 'file', data: 'https://x.test/a.pdf', mediaType: 'application/pdf' }])], stream: false });
    assert.deepEqual(r.sent.body.input[0].content, [
      { type: 'input_text', text: 'Summarize' },
      { type: 'input_file', filename: 'report.pdf', file_data: `data:application/pdf;base64,${pdfB64}` },
      { type: 'input_file', file_url: 'https://x.test/a.pdf' },
    ]);
  });

  test('anthropic: document blocks (base64, URL, plain text as text) titled with the filename', async () => {
    const text = { type: 'file', data: Buffer.from('Minutes: all agreed.').toString('base64'), mediaType: 'text/plain', filename: 'minutes.txt' };
    const url = { type: 'file', data: 'https://x.test/a.pdf', mediaType: 'application/pdf' };
    const r = await callModel(srv, claude(), ['anthropic', 'text-nonstream', 1], { messages: [user([...parts.slice(0, 2), text, url, parts[3]])], stream: false });
    ok(r);
    assert.deepEqual(r.sent.body.messages[0].content, [
      { type: 'text', text: 'Summarize' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdfB64 }, title: 'report.pdf' },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Minutes: all agreed.' }, title: 'minutes.txt' },
      { type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
  });

  test('gemini: inlineData for data, fileData for a URL, any media type', async () => {
    const csv = { type: 'file', data: 'https://x.test/t.csv', mediaType: 'text/csv' };
    const r = await callModel(srv, gemini(), ['gemini', 'text-nonstream', 1], { messages: [user([...parts.slice(0, 2), csv])], stream: false });
    ok(r);
    assert.deepEqual(r.sent.body.contents[0].parts, [
      { text: 'Summarize' },
      { inlineData: { mimeType: 'application/pdf', data: pdfB64 } },
      { fileData: { mimeType: 'text/csv', fileUri: 'https://x.test/t.csv' } },
    ]);
  });

  test('a type or form the provider refuses -> ValidationError before any request; compatible servers decide themselves', async () => {
    const docx = { type: 'file', data: pdf, mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' };
    for (const [m, provider] of [[gpt(), 'openai'], [claude(), 'anthropic']]) {
      const err = await m.generate({ messages: [user([docx])] }, {}).catch((e) => e);
      assert.ok(err instanceof ValidationError, String(err));
      assert.match(err.message, new RegExp(`^${provider}: files of type application/vnd\\.openxml.* are not accepted; send one of application/pdf`));
    }
    const url = await gpt().generate({ messages: [user([{ type: 'file', data: 'https://x.test/a.pdf', mediaType: 'application/pdf' }])] }, {}).catch((e) => e);
    assert.match(url.message, /^openai: the Chat Completions API takes a file as data, not a URL \(https:\/\/x\.test\/a\.pdf\); pass its bytes or base64/);
    const untyped = await claude().generate({ messages: [user([{ type: 'file', data: pdf }])] }, {}).catch((e) => e);
    assert.match(untyped.message, /^anthropic: a file part needs its mediaType/);
    const r = await callModel(srv, ollama(), ['openai-chat', 'text-nonstream', 1], { messages: [user([docx])], stream: false });
    ok(r);
    assert.equal(r.sent.body.messages[0].content[0].type, 'file');
  });
});

describe('openai chat and compatible servers: reasoning and usage details', () => {
  test('reasoning.effort -> reasoning_effort; cached and reasoning tokens from the usage details', async () => {
    const whole = {
      id: 'c',
      model: 'o4-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2000, completion_tokens: 300, total_tokens: 2300, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 256 } },
    };
    const r = await callModel(srv, gpt({ reasoning: { effort: 'high' } }), response(whole, 'application/json'), { messages: [user('q')], stream: false });
    assert.deepEqual(ok(r).usage, { inputTokens: 2000, outputTokens: 300, totalTokens: 2300, cachedInputTokens: 1536, reasoningTokens: 256 });
    assert.equal(r.sent.body.reasoning_effort, 'high');
    const plain = await callModel(srv, gpt(), response(whole, 'application/json'), { messages: [user('q')], stream: false });
    assert.equal(plain.sent.body.reasoning_effort, undefined);
  });

  test('Ollama / OpenRouter `reasoning` deltas -> reasoning part and reasoning-delta; reasoning_effort sent', async () => {
    const chunk = (delta, finish = null) => ({ id: 'c', model: 'qwen3', choices: [{ index: 0, delta, finish_reason: finish }] });
    const body = sse([chunk({ reasoning: 'Let me ' }), chunk({ reasoning: 'see.' }), chunk({ content: 'Yes' }), chunk({}, 'stop'), '[DONE]']);
    const r = await callModel(srv, ollama({ reasoning: { effort: 'low' } }), response(body), { messages: [user('q')] });
    assert.deepEqual(ok(r).content, [
      { type: 'reasoning', text: 'Let me see.' },
      { type: 'text', text: 'Yes' },
    ]);
    assert.deepEqual(r.deltas.filter((d) => d.type === 'reasoning-delta'), [
      { type: 'reasoning-delta', text: 'Let me ' },
      { type: 'reasoning-delta', text: 'see.' },
    ]);
    assert.equal(r.sent.body.reasoning_effort, 'low');
  });

  test('the recorded Ollama answer with a `reasoning` field gives a reasoning part', async () => {
    const r = await callModel(srv, ollama(), ['openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', 1], { messages: [user('q')], stream: false });
    const res = ok(r);
    assert.equal(res.content[0].type, 'reasoning');
    assert.ok(res.content[0].text.length > 100);
    assert.equal(loadFixture('openai-compatible', 'ollama-qwen3-parallel-tool-calls-nonstream', 1).status, 200);
  });
});
