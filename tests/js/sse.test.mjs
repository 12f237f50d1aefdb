// Unit tests of the SSE parser (dist/providers/sse.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, readSseEvents } from '../../dist/providers/sse.js';
import { AbortError } from '../../dist/errors.js';

const enc = new TextEncoder();

function streamOf(chunks) {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      controller.close();
    },
  });
}

async function collect(chunks) {
  const out = [];
  for await (const ev of readSseEvents(streamOf(chunks))) out.push(ev);
  return out;
}

function parseAll(text) {
  const p = new SseParser();
  return [...p.push(text), ...p.end()];
}

test('data lines are joined with \\n and dispatched on a blank line', () => {
  assert.deepEqual(parseAll('data: a\ndata: b\n\ndata:c\n\n'), [
    { event: 'message', data: 'a\nb' },
    { event: 'message', data: 'c' },
  ]);
});

test('comment lines are ignored; comment-only blocks dispatch nothing', () => {
  assert.deepEqual(parseAll(': keep-alive\n\n:x\ndata: y\n: inside\n\n'), [{ event: 'message', data: 'y' }]);
});

test('event, id and retry fields', () => {
  assert.deepEqual(parseAll('event: ping\nid: 7\nretry: 1500\ndata: {}\n\ndata: next\n\n'), [
    { event: 'ping', data: '{}', id: '7', retry: 1500 },
    { event: 'message', data: 'next', id: '7' },
  ]);
});

test('only one leading space after the colon is stripped; field without colon; unknown fields', () => {
  assert.deepEqual(parseAll('data:  two spaces\ndata\nfoo: bar\n\n'), [{ event: 'message', data: ' two spaces\n' }]);
});

test('CRLF, LF and CR line endings all work, also mixed', () => {
  const expected = [
    { event: 'e1', data: 'x\ny' },
    { event: 'message', data: 'z' },
  ];
  assert.deepEqual(parseAll('event: e1\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n'), expected);
  assert.deepEqual(parseAll('event: e1\rdata: x\rdata: y\r\rdata: z\r\r'), expected);
  assert.deepEqual(parseAll('event: e1\ndata: x\r\ndata: y\r\rdata: z\n\r\n'), expected);
});

test('a CRLF split between chunks is one line ending, not two', () => {
  const p = new SseParser();
  const evs = [...p.push('data: a\r'), ...p.push('\ndata: b\r'), ...p.push('\n\r'), ...p.push('\n')];
  assert.deepEqual(evs, [{ event: 'message', data: 'a\nb' }]);
});

test('an event not terminated by a blank line is discarded at end of stream', async () => {
  assert.deepEqual(await collect(['data: complete\n\n', 'data: partial\n']), [{ event: 'message', data: 'complete' }]);
});

test('empty data line gives an empty-string event; empty blocks dispatch nothing', () => {
  assert.deepEqual(parseAll('\n\ndata:\n\n'), [{ event: 'message', data: '' }]);
});

test('UTF-8 characters split inside their bytes decode correctly', async () => {
  const text = 'data: héllo € 𝄞 日本語 🎉\n\nevent: ü\ndata: ✓\n\n';
  const bytes = enc.encode(text);
  const expected = [
    { event: 'message', data: 'héllo € 𝄞 日本語 🎉' },
    { event: 'ü', data: '✓' },
  ];
  // every possible single split point
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(await collect([bytes.subarray(0, i), bytes.subarray(i)]), expected, `split at ${i}`);
  }
  // one byte at a time
  const singles = [...bytes].map((b) => Uint8Array.of(b));
  assert.deepEqual(await collect(singles), expected);
});

test('leading BOM is ignored', async () => {
  const bytes = Uint8Array.of(0xef, 0xbb, 0xbf, ...enc.encode('data: x\n\n'));
  assert.deepEqual(await collect([bytes.subarray(0, 2), bytes.subarray(2)]), [{ event: 'message', data: 'x' }]);
});

test('CRLF stream split at every byte gives the same events', async () => {
  const text = 'event: a\r\ndata: 1\r\n\r\n: c\r\nid: 9\r\ndata: 2\r\ndata: 3\r\n\r\n';
  const expected = await collect([text]);
  assert.deepEqual(expected, [
    { event: 'a', data: '1' },
    { event: 'message', data: '2\n3', id: '9' },
  ]);
  const bytes = enc.encode(text);
  for (let i = 1; i < bytes.length; i++) {
    for (let j = i + 1; j < bytes.length; j += 3) {
      assert.deepEqual(await collect([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), expected);
    }
  }
});

test('abort signal stops a stream that never ends with AbortError', async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(enc.encode('data: first\n\n'));
    },
  });
  const ac = new AbortController();
  const seen = [];
  // The stream never ends: only the abort can end the loop.
  await assert.rejects(async () => {
    for await (const ev of readSseEvents(stream, ac.signal)) {
      seen.push(ev.data);
      setTimeout(() => ac.abort(), 10);
    }
  }, AbortError);
  assert.deepEqual(seen, ['first']);
});

test('stream errors propagate', async () => {
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(enc.encode('data: a\n\n'));
      c.error(new TypeError('terminated'));
    },
  });
  await assert.rejects(async () => {
    for await (const _ of readSseEvents(stream)) void _;
  }, /terminated/);
});
