// A run's text as an HTTP response (js/prompt/text-response.ts): a web Response for route handlers,
// and piping into Node's http.ServerResponse, read by a real HTTP client over loopback.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { ConfigError, L, ProviderError, mockModel, run, runPrompt } from '../../dist/node.js';

const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

/** A model that streams `pieces`, then fails with a non-retryable error (or answers when `fail` is false). */
function streamingModel(pieces, { fail = true, gapMs = 0 } = {}) {
  return {
    provider: 'test',
    modelId: 'streaming',
    async generate(_req, opts) {
      for (const text of pieces) {
        opts.onDelta?.({ type: 'text-delta', text });
        if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      if (fail) throw new ProviderError('the provider went away', { retryable: false });
      return { content: [{ type: 'text', text: pieces.join('') }], finishReason: 'stop' };
    },
  };
}

/** Reads `response`'s body chunk by chunk: `text` has what came before `done` settles (rejecting if the body broke). */
function readUntilFailure(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const read = { text: '', done: undefined };
  read.done = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read.text += decoder.decode(value);
    }
  })();
  return read;
}

/** A loopback server whose every request is answered by `handle(req, res)`; closed after `fn`. */
async function withServer(handle, fn) {
  const server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await fn(`http://127.0.0.1:${server.address().port}/`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('toTextStreamResponse: the text as UTF-8 text/plain, read straight off runPrompt', async () => {
  const text = `Olá, ${words(2000)} — fin ✓`;
  const run = runPrompt({ model: mockModel([{ type: 'text', text }]), prompt: 'hi' });
  const response = run.toTextStreamResponse();
  assert.ok(response instanceof Response);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await response.text(), text);
  assert.equal(await run.text, text);
});

test('toTextStreamResponse: status, status text and headers in any form; a content type of yours wins', async () => {
  const model = () => mockModel([{ type: 'text', text: 'hello' }]);
  const { result } = await runPrompt({ model: model(), prompt: 'hi' });
  const asRecord = result.toTextStreamResponse({ status: 201, statusText: 'Made', headers: { 'X-Trace': 'abc', 'Content-Type': 'text/markdown' } });
  assert.deepEqual([asRecord.status, asRecord.statusText, asRecord.headers.get('x-trace'), asRecord.headers.get('content-type')], [201, 'Made', 'abc', 'text/markdown']);
  assert.equal(await asRecord.text(), 'hello');
  const asPairs = result.toTextStreamResponse({ headers: [['x-one', '1']] });
  assert.deepEqual([asPairs.headers.get('x-one'), asPairs.headers.get('content-type')], ['1', 'text/plain; charset=utf-8']);
  const asHeaders = result.toTextStreamResponse({ headers: new Headers({ 'cache-control': 'no-store' }) });
  assert.equal(asHeaders.headers.get('cache-control'), 'no-store');
  // The same run can be sent more than once: every part is kept.
  assert.equal(await asHeaders.text(), 'hello');
});

test('toTextStreamResponse and pipeTextStreamToResponse refuse bad options, naming them', async () => {
  const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'hi' });
  assert.throws(() => result.toTextStreamResponse({ stauts: 200 }), (e) => e instanceof ConfigError && /unknown option 'stauts' \(did you mean 'status'\?/.test(e.message));
  assert.throws(() => result.toTextStreamResponse({ status: 42 }), (e) => e instanceof ConfigError && /'status' must be an HTTP status from 200 to 599 .*got the number 42/.test(e.message));
  assert.throws(() => result.toTextStreamResponse({ headers: { 'bad header': 'x' } }), (e) => e instanceof ConfigError && /'headers' are not valid HTTP headers/.test(e.message));
  assert.throws(() => result.toTextStreamResponse('201'), (e) => e instanceof ConfigError && /expected an options object, got the string "201"/.test(e.message));
  // At the call, not as a rejection a handler that does not await would leave unhandled.
  assert.throws(() => result.pipeTextStreamToResponse({}), (e) => e instanceof ConfigError && /expected a Node http\.ServerResponse/.test(e.message));
  assert.throws(() => result.pipeTextStreamToResponse({ writeHead() {}, write() {} }), (e) => e instanceof ConfigError && /expected a Node http\.ServerResponse/.test(e.message));
  assert.throws(() => result.pipeTextStreamToResponse({}, { status: 7 }), (e) => e instanceof ConfigError && /'status'/.test(e.message));
});

test('toTextStreamResponse: a run that fails mid-stream ends the body with its error, never as if complete', async () => {
  const response = runPrompt({ model: streamingModel(['Hel', 'lo']), prompt: 'hi' }).toTextStreamResponse();
  const read = readUntilFailure(response);
  await assert.rejects(read.done, (e) => e instanceof ProviderError && /went away/.test(e.message));
  assert.equal(read.text, 'Hello');
  // A run that cannot even start ends the body the same way.
  const broken = runPrompt(() => {
    throw new Error('bad prompt function');
  }, { model: mockModel([]) }).toTextStreamResponse();
  await assert.rejects(broken.text(), /bad prompt function/);
});

test('toTextStreamResponse: a client that cancels stops the reading, not the run', async () => {
  const run = runPrompt({ model: streamingModel(['a', 'b', 'c', 'd'], { fail: false, gapMs: 5 }), prompt: 'hi' });
  const reader = run.toTextStreamResponse().body.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'a');
  await reader.cancel();
  assert.equal(await run.text, 'abcd');
});

test('pipeTextStreamToResponse: a real HTTP client reads the text as it streams', async () => {
  const text = words(200_000); // ≈ 1.3 MB, many deltas: the socket fills and drains
  const model = mockModel([{ type: 'text', text }]);
  let piped;
  await withServer(
    (req, res) => {
      piped = runPrompt({ model, prompt: 'hi' }).pipeTextStreamToResponse(res, { headers: { 'x-run': 'yes' } });
    },
    async (url) => {
      const response = await fetch(url);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(response.headers.get('x-run'), 'yes');
      assert.equal(await response.text(), text);
    },
  );
  assert.equal(await piped, undefined);
});

test('pipeTextStreamToResponse: a run that fails mid-stream breaks the response, the client sees it', async () => {
  let piped;
  await withServer(
    (req, res) => {
      piped = runPrompt({ model: streamingModel(['Hel', 'lo'], { gapMs: 20 }), prompt: 'hi' }).pipeTextStreamToResponse(res);
    },
    async (url) => {
      const response = await fetch(url);
      assert.equal(response.status, 200); // the head went out before the failure
      await assert.rejects(response.text(), TypeError); // undici: "terminated"
    },
  );
  assert.equal(await piped, undefined); // it never rejects: no unhandled rejection in a server
});

test('pipeTextStreamToResponse: a client that goes away ends the piping; the run finishes', async () => {
  const pieces = Array.from({ length: 50 }, (_, i) => `${i} `);
  let run;
  let piped;
  await withServer(
    (req, res) => {
      run = runPrompt({ model: streamingModel(pieces, { fail: false, gapMs: 5 }), prompt: 'hi' });
      piped = run.pipeTextStreamToResponse(res);
    },
    async (url) => {
      const controller = new AbortController();
      const response = await fetch(url, { signal: controller.signal });
      const reader = response.body.getReader();
      await reader.read();
      controller.abort();
      await assert.rejects(reader.read());
      assert.equal(await piped, undefined);
    },
  );
  assert.equal(await run.text, pieces.join(''));
});

// ------------------------------------------------------------------ directive runs: run(agent, config)

/** A model whose n-th call streams `answers[n]` in pieces of 3 characters (`gapMs` apart). */
function answering(answers, gapMs = 0) {
  let call = 0;
  return {
    provider: 'test',
    modelId: 'answering',
    async generate(_req, opts) {
      const text = answers[call++];
      for (let i = 0; i < text.length; i += 3) {
        opts.onDelta?.({ type: 'text-delta', text: text.slice(i, i + 3) });
        if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      return { content: [{ type: 'text', text }], finishReason: 'stop' };
    },
  };
}

test("a directive run's textStream: the root's streamed replies in order; plain replies and branches are left out", async () => {
  const model = answering(['first answer. ', 'not streamed', 'from a branch', 'second answer.']);
  const agent = async function* () {
    yield* L.user`one`;
    const first = yield* L.stream;
    for await (const _ of first); // the agent reads its stream too: both readers get every delta
    yield* L.user`two`;
    yield* L.reply;
    yield* L.branch(async function* () {
      yield* L.user`three`;
      yield* L.stream;
    });
    yield* L.user`four`;
    yield* L.stream;
    return 'done';
  };
  const running = run(agent, { models: { default: model } });
  const deltas = [];
  for await (const delta of running.textStream) deltas.push(delta);
  assert.equal(await running, 'done');
  assert.equal(deltas.join(''), 'first answer. second answer.');
  assert.ok(deltas.length > 2, 'delta by delta, as streamed');
  // Kept from the start: a reader that starts after the run still gets all of it.
  const again = [];
  for await (const delta of running.textStream) again.push(delta);
  assert.deepEqual(again, deltas);
});

test("a directive run's text over HTTP: a web Response and a Node response read by a real client", async () => {
  const text = `Olá ${words(3000)} ✓`;
  const agent = function* () {
    yield* L.user`hi`;
    yield* L.stream;
    return 1;
  };
  const response = run(agent, { models: { default: answering([text]) } }).toTextStreamResponse({ headers: { 'x-agent': 'liminal' } });
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(response.headers.get('x-agent'), 'liminal');
  assert.equal(await response.text(), text);
  let piped;
  await withServer(
    (req, res) => {
      piped = run(agent, { models: { default: answering([text]) } }).pipeTextStreamToResponse(res);
    },
    async (url) => assert.equal(await (await fetch(url)).text(), text),
  );
  assert.equal(await piped, undefined);
  assert.throws(() => run(agent, { models: { default: answering([text]) } }).toTextStreamResponse({ stauts: 201 }), /unknown option 'stauts' \(did you mean 'status'\?/);
});

test("a directive run that fails after streaming ends its HTTP body with the error", async () => {
  const agent = async function* () {
    yield* L.user`hi`;
    yield* L.stream;
    throw new Error('the agent gave up');
  };
  const running = run(agent, { models: { default: answering(['partial ']) } });
  const read = readUntilFailure(running.toTextStreamResponse());
  await assert.rejects(read.done, /the agent gave up/);
  assert.equal(read.text, 'partial ');
  await assert.rejects(running, /the agent gave up/);
  // textStream ends with the text; the failure is the run's own rejection.
  const deltas = [];
  for await (const delta of running.textStream) deltas.push(delta);
  assert.equal(deltas.join(''), 'partial ');
});

test('toTextStreamResponse keeps an emoji whose two UTF-16 halves came in different deltas', async () => {
  const sun = '\u{1F31E}';
  const deltas = ['Hi ', sun[0], sun[1], ' there'];
  const model = {
    provider: 'test',
    modelId: 'halves',
    async generate(_request, { onDelta }) {
      for (const text of deltas) {
        onDelta?.({ type: 'text-delta', text });
        await new Promise((resolve) => setTimeout(resolve, 5)); // each half in a burst of its own
      }
      return { content: [{ type: 'text', text: deltas.join('') }], finishReason: 'stop' };
    },
  };
  assert.equal(await runPrompt({ model, prompt: 'x' }).toTextStreamResponse().text(), `Hi ${sun} there`);
  // A half that never gets its pair is still sent (as the replacement character), at the end.
  const lone = { ...model, generate: async (_request, { onDelta }) => (onDelta?.({ type: 'text-delta', text: `a${sun[0]}` }), { content: [{ type: 'text', text: `a${sun[0]}` }], finishReason: 'stop' }) };
  assert.equal(await runPrompt({ model: lone, prompt: 'x' }).toTextStreamResponse().text(), 'a\uFFFD');
});
