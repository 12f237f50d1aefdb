// Shared helpers of the provider tests: one model call against the loopback fixture server, and
// assertions on what came back.
import assert from 'node:assert/strict';
import { loadFixture } from './fixture-server.mjs';

/** A fake key; tests assert it never shows up in errors. */
export const KEY = 'sk-test-FAKEKEY-0123456789abcdef';

/**
 * Serves one response (a fixture `[folder, name, n]` or `{status, headers, body}`), runs
 * `model.generate(req)`, and returns {fx, result, error, deltas, sent}.
 */
export async function callModel(srv, model, fixtureOrResponse, req, serveOpts = {}, genOpts = {}) {
  const fx = Array.isArray(fixtureOrResponse) ? loadFixture(...fixtureOrResponse) : fixtureOrResponse;
  srv.enqueue(fx, serveOpts);
  const index = srv.requests.length;
  const deltas = [];
  let result;
  let error;
  try {
    result = await model.generate(req, { onDelta: (d) => deltas.push(d), ...genOpts });
  } catch (e) {
    error = e;
  }
  return { fx, result, error, deltas, sent: srv.requests[index] };
}

/**
 * The result without the HTTP response's metadata, or the error thrown. The metadata is checked
 * here: the response's headers (names in lower case, string values, no cookie) and its time.
 */
export function ok(r) {
  if (r.error) throw r.error;
  const { headers, timestamp, ...answer } = r.result;
  assert.ok(Number.isFinite(timestamp), `a timestamp, got ${timestamp}`);
  assert.ok(headers && typeof headers === 'object' && Object.values(headers).every((v) => typeof v === 'string'), 'the response headers');
  assert.ok(Object.keys(headers).every((name) => name === name.toLowerCase() && name !== 'set-cookie'));
  return answer;
}

export function textOf(r) {
  return r.content.filter((p) => p.type === 'text').map((p) => p.text).join('');
}

export function deltaText(deltas, type = 'text-delta') {
  return deltas.filter((d) => d.type === type).map((d) => d.text).join('');
}

/** Joins tool-call deltas per index into {id, name, argsText}. */
export function joinToolDeltas(deltas) {
  const calls = [];
  for (const d of deltas) {
    if (d.type !== 'tool-call-delta') continue;
    calls[d.index] ??= { id: undefined, name: undefined, argsText: '' };
    if (d.toolCallId) calls[d.index].id = d.toolCallId;
    if (d.toolName) calls[d.index].name = d.toolName;
    calls[d.index].argsText += d.argsTextDelta;
  }
  return calls;
}

/** The tool-call deltas add up to the tool calls of the result. */
export function checkStreamedToolCalls(result, deltas) {
  const joined = joinToolDeltas(deltas);
  const calls = result.content.filter((p) => p.type === 'tool-call');
  assert.equal(joined.length, calls.length);
  calls.forEach((c, i) => {
    assert.equal(joined[i].id, c.toolCallId);
    assert.equal(joined[i].name, c.toolName);
    assert.equal(joined[i].argsText, c.argsText);
  });
}

/** The key (and its tail) appear nowhere in the error. */
export function assertNoSecret(err, key = KEY) {
  assert.ok(err instanceof Error);
  for (const s of [err.message, String(err.stack), JSON.stringify(err)]) {
    assert.ok(!s.includes(key), `secret leaked: ${s}`);
    assert.ok(!s.includes(key.slice(-16)), `secret leaked: ${s}`);
  }
}

/** An SSE body from a list of JSON events (`{event?, data}` or plain objects sent as data). */
export function sse(events, { eol = '\n' } = {}) {
  return events
    .map((e) => {
      const ev = e && typeof e === 'object' && 'data' in e ? e : { data: e };
      const data = typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data);
      return (ev.event ? `event: ${ev.event}${eol}` : '') + `data: ${data}${eol}${eol}`;
    })
    .join('');
}

/** A `{status, headers, body}` response for the fixture server. */
export function response(body, contentType = 'text/event-stream', status = 200) {
  return { status, headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}
