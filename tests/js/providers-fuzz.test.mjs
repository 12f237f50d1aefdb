// Seeded random fuzzing of the provider edge: the SSE parser, and every provider's response and
// stream parsing fed random bytes, random splits, truncations and mutated recorded bodies (through
// `generate` with an in-memory `fetch`), random JSON shaped like the providers' payloads, and random
// schemas for the Gemini converter. Every outcome must be a well-formed result or an LmthingError,
// and nothing may hang.
//
// Budget: LMTHING_FUZZ_SECONDS per target (default 0.5). Seed: LMTHING_FUZZ_SEED (default 1); a
// failure names the seed and the case, so `LMTHING_FUZZ_SEED=<seed>` reproduces it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, parseHttpFixture, rng } from './helpers/fixture-server.mjs';
import { SseParser, readSseEvents } from '../../dist/providers/sse.js';
import { createOpenAI, createOpenAICompatible } from '../../dist/providers/openai.js';
import { createAnthropic } from '../../dist/providers/anthropic.js';
import { createGoogle } from '../../dist/providers/google.js';
import { toGeminiSchema } from '../../dist/providers/google-schema.js';
import { parseOpenAIEmbeddings, parseGoogleEmbeddings } from '../../dist/providers/embeddings.js';
import { LmthingError } from '../../dist/errors.js';

const BUDGET_MS = Math.max(50, Number(process.env.LMTHING_FUZZ_SECONDS ?? 0.5) * 1000);
const SEED = Number(process.env.LMTHING_FUZZ_SEED ?? 1) >>> 0;
const HANG_MS = 5000;
const enc = new TextEncoder();

/** Random helpers over one seeded generator. */
function randomness(seed) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (list) => list[int(list.length)];
  return { r, int, pick };
}

/** Runs `body(caseNumber)` until the budget is spent; failures name the seed and case. */
async function fuzz(name, body) {
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < BUDGET_MS) {
    try {
      await body(n);
    } catch (err) {
      err.message = `${name}: seed ${SEED}, case ${n}: ${err.message}`;
      throw err;
    }
    n++;
  }
  return n;
}

function assertTyped(err) {
  assert.ok(err instanceof LmthingError, `expected an LmthingError, got ${err?.constructor?.name}: ${err?.stack ?? err}`);
  assert.equal(typeof err.code, 'string');
}

// ---------------------------------------------------------------------------------------------------------
// Corpus: every recorded response body, plus hand-written streams of the formats without recordings,
// grouped by the provider whose parser they were made for.
const FOLDER_OWNER = { 'openai-chat': 'openai-chat', 'openai-compatible': 'openai-compatible', anthropic: 'anthropic', gemini: 'google' };

function recordedBodies() {
  const out = [];
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(FIXTURES, dir.name))) {
      if (f.endsWith('.response.http')) out.push({ owner: FOLDER_OWNER[dir.name], body: parseHttpFixture(readFileSync(join(FIXTURES, dir.name, f))).body });
    }
  }
  return out;
}

const responsesEvents = [
  { type: 'response.created', response: { id: 'resp_1', model: 'gpt-4.1', status: 'in_progress', output: [] } },
  { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } },
  { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'Thinking' },
  { type: 'response.output_item.done', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking' }], encrypted_content: 'enc' } },
  { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '' } },
  { type: 'response.function_call_arguments.delta', output_index: 1, delta: '{"a":' },
  { type: 'response.function_call_arguments.done', output_index: 1, arguments: '{"a":1}' },
  { type: 'response.output_item.added', output_index: 2, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } },
  { type: 'response.output_text.delta', output_index: 2, content_index: 0, delta: 'Hi 👋' },
  { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: [], usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } } },
];
const handWritten = [
  { owner: 'openai-responses', text: responsesEvents.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('') },
  {
    owner: 'openai-responses',
    text: JSON.stringify({ id: 'r', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'x' }] }, { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] }),
  },
  {
    owner: 'google',
    text: 'data: {"candidates":[{"content":{"parts":[{"text":"a","thought":true,"thoughtSignature":"s"},{"functionCall":{"name":"f","args":{"x":[1,{"y":null}]}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1}}\r\n\r\n',
  },
  { owner: 'anthropic', text: 'event: ping\ndata: {"type":"ping"}\n\n: comment\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n' },
  { owner: 'openai-chat', text: 'data: {"error":{"message":"boom","code":"server_error"}}\n\n' },
];

const corpusEntries = [...recordedBodies(), ...handWritten.map((h) => ({ owner: h.owner, body: Buffer.from(h.text) }))];
const corpus = corpusEntries.map((e) => e.body);
/** The bodies made for one provider (Chat Completions bodies serve compatible servers too). */
const corpusOf = (provider) => {
  const own = corpusEntries.filter((e) => e.owner === provider || (provider === 'openai-compatible' && e.owner === 'openai-chat') || (provider === 'openai-chat' && e.owner === 'openai-compatible'));
  return own.length > 0 ? own.map((e) => e.body) : corpus;
};
const looksLikeSse = (bytes) => /^\s*(data|event|:)/.test(Buffer.from(bytes.subarray(0, 16)).toString('latin1'));

const TOKENS = [
  'data: ', 'event: ', '\n', '\r\n', '\r', '\n\n', ':', '{', '}', '[', ']', '"', ',', 'null', '[DONE]', '"type":', '"delta":',
  '"candidates":', '"choices":', '"content":', '"parts":', '"functionCall":', '"tool_calls":', '"index":', '"arguments":',
  '"finish_reason":"stop"', '"finishReason":"STOP"', '"message_stop"', '"response.completed"', '"error":', '1e309', '-0', '\u0000',
  '\ud83d', '\ufffd', '😀', '\\u0000', '\\ud800', 'true', '"text":', '"input_json_delta"', '"partial_json":', '"usage":',
];

/** Mutates bytes: flips, deletions, insertions of format tokens, duplicated slices, truncation. */
function mutate(bytes, rand) {
  let b = Buffer.from(bytes);
  const edits = rand.int(2) ? 1 : 1 + rand.int(6);
  for (let i = 0; i < edits; i++) {
    const at = rand.int(b.length + 1);
    switch (rand.int(6)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = rand.int(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rand.int(40)))]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rand.pick(TOKENS)), b.subarray(at)]);
        break;
      case 3: {
        const from = rand.int(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + rand.int(200)), b.subarray(at)]);
        break;
      }
      case 4:
        b = b.subarray(0, at);
        break;
      default:
        break;
    }
  }
  return b;
}

function randomBytes(rand) {
  const n = rand.int(400);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rand.int(256);
  return out;
}

/** Random chunk boundaries (1..maxChunk bytes, sometimes empty chunks). */
function split(bytes, rand) {
  const chunks = [];
  const max = 1 + rand.int(64);
  for (let i = 0; i < bytes.length; ) {
    const n = rand.int(10) === 0 ? 0 : 1 + rand.int(max);
    chunks.push(new Uint8Array(bytes.subarray(i, i + n)));
    i += n;
  }
  return chunks;
}

function streamOf(chunks, { failAfter } = {}) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && i === failAfter) {
        controller.error(new TypeError('terminated'));
        return;
      }
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

function withinHangBound(promise, what) {
  let timer;
  const hang = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${HANG_MS} ms`)), HANG_MS);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

const FINISH = new Set(['stop', 'length', 'tool-calls', 'content-filter', 'error', 'other']);

function assertResponse(res) {
  assert.ok(res && Array.isArray(res.content), 'content is an array');
  assert.ok(FINISH.has(res.finishReason), `finishReason ${res.finishReason}`);
  for (const k of ['inputTokens', 'outputTokens', 'totalTokens']) assert.ok(Number.isFinite(res.usage[k]) && res.usage[k] >= 0, `usage.${k}`);
  for (const p of res.content) {
    assert.ok(['text', 'reasoning', 'tool-call'].includes(p.type), `part type ${p.type}`);
    if (p.type === 'tool-call') {
      assert.equal(typeof p.toolCallId, 'string');
      assert.equal(typeof p.toolName, 'string');
      assert.equal(typeof p.argsText, 'string');
    } else {
      assert.equal(typeof p.text, 'string');
    }
  }
  JSON.stringify(res);
}

/** A plain reading of the WHATWG event-stream rules, line by line, to check the incremental parser against. */
function referenceSse(text) {
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // the text after the last line break is not a complete line
  const out = [];
  let data = [];
  let type = '';
  let id;
  let retry;
  for (const line of lines) {
    if (line === '') {
      if (data.length > 0) {
        const ev = { event: type || 'message', data: data.join('\n') };
        if (id !== undefined) ev.id = id;
        if (retry !== undefined) ev.retry = retry;
        out.push(ev);
      }
      data = [];
      type = '';
      retry = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) retry = Number(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
test('SSE parser: any text, split anywhere, gives the events of a plain line-by-line reading, never throws', async () => {
  const rand = randomness(SEED);
  const alphabet = ['data', 'event', 'id', 'retry', ':', ' ', 'x', '\n', '\r', '\r\n', '\n\n', '0', '{"a":1}', '\u0000', '\ud83d', 'é'];
  const cases = await fuzz('sse-text', () => {
    let text = '';
    const n = rand.int(60);
    for (let i = 0; i < n; i++) text += rand.pick(alphabet);
    const whole = new SseParser();
    const expected = [...whole.push(text), ...whole.end()];
    assert.deepEqual(expected, referenceSse(text), JSON.stringify(text));
    const parts = new SseParser();
    const got = [];
    for (let i = 0; i < text.length; ) {
      const k = rand.int(6);
      got.push(...parts.push(text.slice(i, i + k)));
      i += k;
    }
    got.push(...parts.end());
    assert.deepEqual(got, expected, JSON.stringify(text));
  });
  assert.ok(cases > 0);
});

test('SSE byte reader: random bytes (invalid UTF-8 too) split anywhere equal the unsplit decode', async () => {
  const rand = randomness(SEED + 1);
  await fuzz('sse-bytes', async () => {
    const bytes = rand.int(2) ? mutate(rand.pick(corpus), rand) : randomBytes(rand);
    const collect = async (chunks) => {
      const out = [];
      for await (const ev of readSseEvents(streamOf(chunks))) out.push(ev);
      return out;
    };
    const expected = await collect([new Uint8Array(bytes)]);
    const got = await withinHangBound(collect(split(bytes, rand)), 'readSseEvents');
    assert.deepEqual(got, expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
/** A fetch that answers from memory: the body split into random chunks, sometimes failing mid-way. */
function memoryFetch(rand, bytes, contentType, status) {
  return async (_url, init) => {
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const chunks = split(bytes, rand);
    const failAfter = rand.int(12) === 0 ? rand.int(chunks.length + 1) : undefined;
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    if (rand.int(5) === 0) headers['retry-after'] = rand.pick(['1', '-5', 'soon', '99999999999', 'Wed, 21 Oct 2015 07:28:00 GMT']);
    return new Response(streamOf(chunks, { failAfter }), { status, headers });
  };
}

const KEY = 'sk-fuzz-0123456789abcdef';
const makers = {
  'openai-chat': (fetch) => createOpenAI({ baseURL: 'http://fuzz.invalid/v1', apiKey: KEY, fetch })('gpt-4o', { idleTimeoutMs: 2000 }),
  'openai-compatible': (fetch) => createOpenAICompatible({ name: 'ollama', baseURL: 'http://fuzz.invalid/v1', fetch })('qwen3'),
  'openai-responses': (fetch) => createOpenAI({ baseURL: 'http://fuzz.invalid/v1', apiKey: KEY, fetch }).responses('gpt-5'),
  anthropic: (fetch) => createAnthropic({ baseURL: 'http://fuzz.invalid/v1', apiKey: KEY, fetch })('claude'),
  google: (fetch) => createGoogle({ baseURL: 'http://fuzz.invalid/v1beta', apiKey: KEY, fetch })('gemini-2.5-flash'),
};

for (const [name, make] of Object.entries(makers)) {
  test(`${name}: generate() on mutated recordings, random bytes, random splits and cut connections`, async (t) => {
    const rand = randomness(SEED + name.length * 7919);
    let resolved = 0;
    let rejected = 0;
    const own = corpusOf(name);
    await fuzz(name, async () => {
      // mostly this provider's own bodies, lightly or heavily mutated; sometimes anything at all
      const roll = rand.int(10);
      const source = rand.int(4) === 0 ? rand.pick(corpus) : rand.pick(own);
      const bytes = roll === 0 ? randomBytes(rand) : roll < 4 ? source : mutate(source, rand);
      const fitting = looksLikeSse(source) ? 'text/event-stream' : 'application/json';
      const contentType = rand.int(3) > 0 ? fitting : rand.pick(['text/event-stream', 'application/json', 'text/plain', 'text/html', undefined]);
      const status = rand.int(8) === 0 ? rand.pick([400, 401, 429, 500, 529]) : 200;
      const model = make(memoryFetch(rand, bytes, contentType, status));
      const deltas = [];
      const req = {
        messages: [{ role: 'user', content: 'hi' }],
        tools: rand.int(2) ? [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'number' } } } }] : undefined,
        stream: rand.int(4) !== 0,
      };
      try {
        const res = await withinHangBound(model.generate(req, { onDelta: (d) => deltas.push(d) }), `${name}.generate`);
        assertResponse(res);
        resolved++;
      } catch (err) {
        if (/^hang:/.test(err.message)) throw err;
        assertTyped(err);
        assert.ok(!err.message.includes(KEY), 'no key in messages');
        rejected++;
      }
    });
    t.diagnostic(`${resolved + rejected} cases: ${resolved} responses, ${rejected} typed errors`);
    assert.ok(resolved + rejected > 0);
  });
}

// ---------------------------------------------------------------------------------------------------------
const VOCAB = [
  'type', 'text', 'delta', 'content', 'parts', 'candidates', 'choices', 'message', 'tool_calls', 'function', 'arguments', 'index',
  'id', 'name', 'args', 'functionCall', 'thought', 'thoughtSignature', 'finishReason', 'finish_reason', 'usage', 'usageMetadata',
  'output', 'item', 'output_index', 'summary', 'encrypted_content', 'call_id', 'response', 'status', 'error', 'code', 'details',
  'content_block', 'partial_json', 'signature', 'stop_reason', 'input', 'data', 'embedding', 'embeddings', 'values', 'promptFeedback',
  'incomplete_details', 'reason', 'prompt_tokens', 'input_tokens', 'cache_read_input_tokens', 'promptTokenCount', '__proto__',
];
const STRINGS = ['', 'text', 'tool_use', 'thinking', 'message', 'function_call', 'reasoning', 'STOP', 'MAX_TOKENS', 'stop', 'tool_calls',
  'response.completed', 'response.output_text.delta', 'content_block_delta', 'message_stop', 'output_text', 'text_delta', 'error',
  'input_json_delta', 'signature_delta', 'response.failed', '{"a":1}', '{', '😀', '\ud800'];

function randomJson(rand, depth = 0) {
  const k = rand.int(depth > 4 ? 5 : 8);
  if (k === 0) return null;
  if (k === 1) return rand.int(2) === 0;
  if (k === 2) return rand.pick([0, -1, 1.5, 1e308, -0, 42, Number.MAX_SAFE_INTEGER]);
  if (k === 3 || k === 4) return rand.pick(STRINGS);
  if (k === 5) return Array.from({ length: rand.int(4) }, () => randomJson(rand, depth + 1));
  const o = {};
  for (let i = rand.int(5); i > 0; i--) Object.defineProperty(o, rand.pick(VOCAB), { value: randomJson(rand, depth + 1), enumerable: true, configurable: true, writable: true });
  return o;
}

test('payload-shaped random JSON through every stream parser and whole-response parser', async () => {
  const rand = randomness(SEED + 99);
  await fuzz('json-shapes', async () => {
    const events = Array.from({ length: 1 + rand.int(6) }, () => JSON.stringify(randomJson(rand)));
    const name = rand.pick(Object.keys(makers));
    const body = rand.int(3) === 0 ? events[0] : events.map((e) => `event: ${rand.pick(STRINGS)}\ndata: ${e}\n\n`).join('');
    const model = makers[name](memoryFetch(rand, Buffer.from(body), rand.pick(['text/event-stream', 'application/json']), 200));
    try {
      const res = await withinHangBound(model.generate({ messages: [{ role: 'user', content: 'x' }], stream: rand.int(2) === 0 }, { onDelta: () => undefined }), name);
      assertResponse(res);
    } catch (err) {
      if (/^hang:/.test(err.message)) throw err;
      assertTyped(err);
    }
  });
});

test('embedding response parsers on random JSON', async () => {
  const rand = randomness(SEED + 5);
  await fuzz('embeddings', () => {
    const json = randomJson(rand);
    for (const parse of [parseOpenAIEmbeddings, parseGoogleEmbeddings]) {
      try {
        const out = parse(json, 1 + rand.int(3), 'p', []);
        assert.ok(out.embeddings.every((v) => Array.isArray(v) && v.every(Number.isFinite)));
      } catch (err) {
        assertTyped(err);
      }
    }
  });
});

test('Gemini schema conversion: random schemas give a schema or a ValidationError, never a crash', async () => {
  const rand = randomness(SEED + 11);
  const keys = ['type', 'properties', 'items', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', '$ref', 'required', 'nullable', 'format',
    'description', 'additionalProperties', 'minimum', 'not', 'prefixItems', '__proto__', 'constructor'];
  const types = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null', 'date', ['string', 'null'], ['integer', 'string'], 7];
  const schema = (depth) => {
    if (depth > 3 || rand.int(6) === 0) return rand.pick([true, false, null, {}, { type: rand.pick(types) }]);
    const s = {};
    for (let i = rand.int(5); i > 0; i--) {
      const k = rand.pick(keys);
      let v;
      if (k === 'type') v = rand.pick(types);
      else if (k === 'properties') v = Object.fromEntries(Array.from({ length: rand.int(3) }, () => [rand.pick(['a', '__proto__', 'b/c', '~']), schema(depth + 1)]));
      else if (k === 'items' || k === 'not' || k === 'additionalProperties') v = schema(depth + 1);
      else if (k === 'anyOf' || k === 'oneOf' || k === 'allOf' || k === 'prefixItems') v = Array.from({ length: rand.int(3) }, () => schema(depth + 1));
      else if (k === 'enum') v = Array.from({ length: rand.int(3) }, () => rand.pick(['a', 1, null, true]));
      else if (k === 'required') v = [rand.pick(['a', 'b', 3])];
      else v = randomJson(rand, 3);
      Object.defineProperty(s, k, { value: v, enumerable: true, configurable: true, writable: true });
    }
    return s;
  };
  await fuzz('gemini-schema', () => {
    try {
      const out = toGeminiSchema(schema(0), 'fuzz');
      JSON.stringify(out);
    } catch (err) {
      assertTyped(err);
      assert.equal(err.code, 'VALIDATION_ERROR');
    }
  });
  // very deep schemas are refused, not a stack overflow
  let deep = { type: 'string' };
  for (let i = 0; i < 5000; i++) deep = { type: 'array', items: deep };
  assert.throws(() => toGeminiSchema(deep, 'deep'), /nested deeper than 64 levels/);
});

test('deeply nested tool arguments from a provider are a typed error, not a stack overflow', async () => {
  const depth = 20_000;
  const args = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const gemini = `{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":${args}}}]},"finishReason":"STOP"}]}`;
  const whole = (text) => async () => new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
  const model = makers.google(whole(gemini));
  const err = await model.generate({ messages: [{ role: 'user', content: 'x' }], stream: false }, {}).catch((e) => e);
  assertTyped(err);
  assert.match(err.message, /function call arguments cannot be turned into JSON text/);
  const deepResult = JSON.parse('['.repeat(depth) + ']'.repeat(depth));
  const openai = makers['openai-chat'](whole('{}'));
  const sendErr = await openai
    .generate({ messages: [{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', toolName: 'f', result: { deep: deepResult } }] }], stream: false }, {})
    .catch((e) => e);
  assertTyped(sendErr);
});

test('the fuzz budget is configurable', () => {
  assert.ok(BUDGET_MS >= 50);
  assert.ok(enc.encode('x').length === 1);
});
