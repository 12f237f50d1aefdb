// The AI SDK's UI message stream (js/prompt/ui-messages.ts), checked with the AI SDK's own client:
// `DefaultChatTransport` (what `useChat` uses) posts to a real loopback server whose route handler
// runs `runPrompt` and pipes `pipeUIMessageStreamToResponse`; `readUIMessageStream` builds the
// message the chat shows; the next turn sends it back through `fromUIMessages`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createUIMessageStream, DefaultChatTransport, parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema } from 'ai';
import { ConfigError, fromUIMessages, mockModel, runPrompt } from '../../dist/node.js';
import { chatTurn, startChatRoute, userMessage } from './helpers/chat-route.mjs';

/** The scripted answers of the server's model, and what it was sent. */
const script = { items: [], model: undefined, fail: false, onError: undefined };

let route;
before(async () => {
  route = await startChatRoute(async (messages, res) => {
    script.model = script.fail ? { provider: 'down', modelId: 'm', generate: () => Promise.reject(new Error('secret upstream detail')) } : mockModel(script.items);
    const result = runPrompt((ctx) => {
      ctx.defTool('weather', 'The weather in a city', { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, ({ city }) => ({ city, tempC: 21 }));
      ctx.defTool('broken', 'Always fails', {}, () => {
        throw new Error('the sensor is offline');
      });
    }, { model: script.model, messages: fromUIMessages(messages), maxRetries: 0 });
    await result.pipeUIMessageStreamToResponse(res, { messageId: 'reply-1', ...(script.onError ? { onError: script.onError } : {}) });
  });
});
after(() => route.close());

const turn = (messages) => chatTurn(route.api, messages);
const user = userMessage;

test('useChat over real HTTP: text, tool calls and their outcomes stream into one assistant message; the next turn sends it back', async () => {
  script.fail = false;
  script.items = [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Lisbon' } },
    { type: 'tool-call', toolCallId: 'c2', toolName: 'broken', args: {} },
    { type: 'text', text: 'It is 21 °C in Lisbon.' },
  ];
  const first = user('u1', 'Weather in Lisbon?');
  const reply = await turn([first]);
  assert.equal(reply.id, 'reply-1');
  assert.equal(reply.role, 'assistant');
  const shape = reply.parts.map((p) => (p.type === 'text' ? `text:${p.text}` : p.type.startsWith('tool-') ? `${p.type}:${p.state}` : p.type));
  assert.deepEqual(shape, ['step-start', 'text:Let me check.', 'tool-weather:output-available', 'step-start', 'tool-broken:output-error', 'step-start', 'text:It is 21 °C in Lisbon.']);
  const weather = reply.parts.find((p) => p.type === 'tool-weather');
  assert.deepEqual([weather.toolCallId, weather.input, weather.output], ['c1', { city: 'Lisbon' }, { city: 'Lisbon', tempC: 21 }]);
  assert.equal(reply.parts.find((p) => p.type === 'tool-broken').errorText, 'the sensor is offline', 'the text the model got');

  // The next turn: the whole chat goes back, and the model gets it as model messages.
  script.items = [{ type: 'text', text: 'You are welcome.' }];
  const second = await turn([first, reply, user('u2', 'Thanks!')]);
  assert.deepEqual(second.parts.filter((p) => p.type === 'text').map((p) => p.text), ['You are welcome.']);
  const sent = script.model.calls[0].messages.map((m) => [m.role, typeof m.content === 'string' ? m.content : m.content.map((p) => p.type === 'text' ? p.text : `${p.type}:${p.toolName}`).join('|')]);
  assert.deepEqual(sent, [
    ['user', 'Weather in Lisbon?'],
    ['assistant', 'Let me check.|tool-call:weather'],
    ['tool', 'tool-result:weather'],
    ['assistant', 'tool-call:broken'],
    ['tool', 'tool-result:broken'],
    ['assistant', 'It is 21 °C in Lisbon.'],
    ['user', 'Thanks!'],
  ]);
  const results = script.model.calls[0].messages.filter((m) => m.role === 'tool').map((m) => m.content[0]);
  assert.deepEqual(results[0].result, { city: 'Lisbon', tempC: 21 });
  assert.deepEqual([results[1].result, results[1].isError], [{ error: 'the sensor is offline' }, true]);
});

test('a failed run ends the stream with an error chunk that keeps server details out unless onError says otherwise', async () => {
  script.fail = true;
  script.onError = undefined;
  const transport = new DefaultChatTransport({ api: route.api });
  const chunks = [];
  const stream = await transport.sendMessages({ chatId: 'c', messages: [user('u1', 'Hi')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
  for await (const chunk of stream) chunks.push(chunk);
  assert.deepEqual(chunks.at(-1), { type: 'error', errorText: 'An error occurred.' });
  assert.ok(!JSON.stringify(chunks).includes('secret upstream detail'));

  script.onError = (error) => `failed: ${error.message}`;
  const shown = [];
  for await (const chunk of await transport.sendMessages({ chatId: 'c', messages: [user('u1', 'Hi')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined })) shown.push(chunk);
  assert.match(shown.at(-1).errorText, /^failed: .*secret upstream detail/);
  script.fail = false;
  script.onError = undefined;
});

test('toUIMessageStreamResponse: the headers the client checks, chunks the AI SDK schema accepts, [DONE] at the end; bad options are refused', async () => {
  const response = runPrompt({ model: mockModel([{ type: 'text', text: 'Hello there' }]), prompt: 'Hi' }).toUIMessageStreamResponse({ headers: { 'x-extra': '1' }, status: 201 });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  assert.equal(response.headers.get('x-vercel-ai-ui-message-stream'), 'v1');
  assert.equal(response.headers.get('x-extra'), '1');
  const raw = await response.text();
  assert.ok(raw.endsWith('data: [DONE]\n\n'), raw.slice(-40));
  const parsed = [];
  for await (const result of parseJsonEventStream({ stream: new Response(raw).body, schema: uiMessageChunkSchema() })) {
    assert.ok(result.success, String(result.error));
    parsed.push(result.value.type);
  }
  assert.deepEqual(parsed.filter((t) => t !== 'text-delta'), ['start', 'start-step', 'text-start', 'text-end', 'finish-step', 'finish']);

  const chunks = [];
  for await (const chunk of runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' }).toUIMessageStream({ sendReasoning: false })) chunks.push(chunk.type);
  assert.equal(chunks.at(-1), 'finish');
  // A run cancelled through its abortSignal ends with `abort`, not an error.
  const controller = new AbortController();
  const slow = { provider: 'slow', modelId: 'm', generate: (_request, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) };
  const aborted = [];
  setTimeout(() => controller.abort(), 20);
  for await (const chunk of runPrompt({ model: slow, prompt: 'Hi', abortSignal: controller.signal }).toUIMessageStream()) aborted.push(chunk.type);
  assert.deepEqual(aborted, ['start', 'start-step', 'abort']);

  const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' });
  assert.throws(() => result.toUIMessageStreamResponse({ sendReasonning: false }), (e) => e instanceof ConfigError && /unknown option 'sendReasonning' \(did you mean 'sendReasoning'\?/.test(e.message));
  assert.throws(() => result.toUIMessageStreamResponse({ status: 99 }), ConfigError);
});

test('originalMessages and onFinish/onEnd: the chat with the response in it, for saving; its id; aborted runs; bad options refused', async () => {
  const history = [user('u1', 'Hi')];
  const finished = [];
  const ended = [];
  const chunks = [];
  const stream = runPrompt({ model: mockModel([{ type: 'text', text: 'Hello.' }]), prompt: 'Hi' }).toUIMessageStream({
    originalMessages: history,
    generateMessageId: () => 'gen-1',
    onFinish: (event) => void finished.push(event),
    onEnd: (event) => void ended.push(event),
  });
  for await (const chunk of stream) chunks.push(chunk);
  assert.deepEqual(chunks[0], { type: 'start', messageId: 'gen-1' });
  assert.equal(finished.length, 1);
  assert.equal(ended[0], finished[0], 'both names get the same event');
  const { messages, responseMessage, isContinuation, isAborted, finishReason } = finished[0];
  assert.deepEqual([isContinuation, isAborted, finishReason], [false, false, 'stop']);
  assert.deepEqual(messages, [...history, responseMessage]);
  assert.deepEqual(responseMessage, { id: 'gen-1', role: 'assistant', parts: [{ type: 'step-start' }, { type: 'text', text: 'Hello.', state: 'done' }] });

  // A cancelled run: onFinish still runs, with isAborted; without generateMessageId the id is a UUID.
  const controller = new AbortController();
  const slow = { provider: 'slow', modelId: 'm', generate: (_request, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) };
  setTimeout(() => controller.abort(), 20);
  let aborted;
  for await (const _ of runPrompt({ model: slow, prompt: 'Hi', abortSignal: controller.signal }).toUIMessageStream({ originalMessages: history, onFinish: (event) => (aborted = event) }));
  assert.equal(aborted.isAborted, true);
  assert.equal(aborted.finishReason, undefined);
  assert.match(aborted.responseMessage.id, /^[0-9a-f-]{36}$/);

  // A failing onFinish errors the stream (as the AI SDK's does).
  const failing = runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' }).toUIMessageStream({ onFinish: () => Promise.reject(new Error('the database is down')) });
  await assert.rejects(async () => {
    for await (const _ of failing);
  }, /the database is down/);

  const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' });
  assert.throws(() => result.toUIMessageStreamResponse({ onFinsh: () => {} }), /unknown option 'onFinsh' \(did you mean 'onFinish'\?/);
  assert.throws(() => result.toUIMessageStreamResponse({ originalMessages: [{ role: 'user' }] }), /originalMessages/);
  // Each message is a chat message: a role the chat has no place for, or an id that is not a string, is named.
  assert.throws(
    () => result.toUIMessageStreamResponse({ originalMessages: [{ id: 'm1', role: 'user', parts: [] }, { id: 'm2', role: 'robot', parts: [] }] }),
    (e) => e instanceof ConfigError && /'originalMessages' must be an array of UI messages \(\{id, role, parts\}\) \(item 1 its role must be 'system', 'user' or 'assistant', got the string "robot"\)/.test(e.message),
  );
  assert.throws(() => result.toUIMessageStreamResponse({ originalMessages: [{ id: 7, role: 'user', parts: [] }] }), /item 0 its id must be a string, got the number 7/);
});

test('what messageMetadata and generateMessageId return reaches the client as given, or errors the stream', async () => {
  const read = async (options) => {
    const chunks = [];
    for await (const chunk of runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' }).toUIMessageStream(options)) chunks.push(chunk);
    return chunks;
  };
  // JSON's rules would have sent {n: null} and an empty message-metadata chunk.
  // Once the stream has begun, a failure is the stream's error chunk (as a throw from messageMetadata is).
  const failed = await read({ messageMetadata: ({ part }) => (part.type === 'finish' ? { n: NaN } : undefined), onError: (e) => `${e.name}: ${e.message}` });
  assert.deepEqual(failed.at(-1), { type: 'error', errorText: 'ConfigError: messageMetadata returned a value that is not JSON for a "finish" part: metadata.n is NaN' });
  assert.equal(failed.filter((chunk) => chunk.type === 'finish').length, 0);
  await assert.rejects(read({ messageMetadata: () => () => 1 }), (e) => e instanceof ConfigError && /for a "start" part: metadata is a function/.test(e.message));
  // The client keys the message by its id: a number or an empty string is refused.
  for (const [id, got] of [[5, 'the number 5'], ['', 'the string ""']])
    await assert.rejects(read({ originalMessages: [], generateMessageId: () => id }), (e) => e instanceof ConfigError && e.message === `generateMessageId must return a non-empty string, got ${got}`);
  const chunks = await read({ originalMessages: [], generateMessageId: () => 'msg-1', messageMetadata: ({ part }) => (part.type === 'start' ? { at: 1 } : undefined) });
  assert.deepEqual(chunks[0], { type: 'start', messageId: 'msg-1', messageMetadata: { at: 1 } });
});

test('messageMetadata, sendStart/sendFinish and onStepEnd, read by the AI SDK\'s own client', async () => {
  const steps = [];
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } }, { type: 'text', text: 'Cold.' }]);
  const chunks = [];
  const stream = runPrompt((ctx) => {
    ctx.defTool('weather', 'The weather', { type: 'object', properties: { city: { type: 'string' } } }, ({ city }) => ({ city, tempC: -3 }));
    ctx.$`Weather in Oslo?`;
  }, { model }).toUIMessageStream({
    originalMessages: [user('u1', 'Weather in Oslo?')],
    messageMetadata: ({ part }) => (part.type === 'start' ? { model: 'mock' } : part.type === 'finish' ? { usage: { total: part.usage.totalTokens } } : undefined),
    onStepEnd: ({ responseMessage }) => void steps.push(responseMessage.parts.map((p) => p.type)),
  });
  for await (const chunk of stream) chunks.push(chunk);
  assert.deepEqual(chunks[0].messageMetadata, { model: 'mock' });
  assert.equal(typeof chunks.at(-1).messageMetadata.usage.total, 'number');
  assert.deepEqual(steps, [['step-start', 'tool-weather'], ['step-start', 'tool-weather', 'step-start', 'text']], 'onStepEnd sees the message after each step');
  // The AI SDK's client reads them into the message's metadata.
  let last;
  for await (const message of readUIMessageStream({ stream: new ReadableStream({ start: (controller) => (chunks.forEach((chunk) => controller.enqueue(chunk)), controller.close()) }) })) last = message;
  assert.deepEqual(last.metadata, { model: 'mock', usage: { total: chunks.at(-1).messageMetadata.usage.total } });

  const types = [];
  for await (const chunk of runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi' }).toUIMessageStream({ sendStart: false, sendFinish: false })) types.push(chunk.type);
  assert.equal(types.includes('start'), false);
  assert.equal(types.includes('finish'), false);
  assert.equal(types.at(-1), 'finish-step');
});

test('fromUIMessages: images from data URLs, reasoning kept, tool calls still running left out, and clear errors for what is not a UI message', () => {
  const messages = fromUIMessages([
    { id: 's', role: 'system', parts: [{ type: 'text', text: 'Be brief.' }] },
    { id: 'u', role: 'user', parts: [{ type: 'text', text: 'What is this?' }, { type: 'file', mediaType: 'image/png', url: 'data:image/png;base64,iVBORw0KGgo=' }] },
    { id: 'a', role: 'assistant', parts: [{ type: 'step-start' }, { type: 'reasoning', text: 'hmm' }, { type: 'text', text: 'A picture.' }, { type: 'tool-look', toolCallId: 'c9', state: 'input-available', input: {} }, { type: 'data-progress', data: 1 }] },
  ]);
  assert.deepEqual(messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' }] },
    // Unsigned reasoning goes too (each provider sends back only what it signed: tests/js/ui-provider-signatures.test.mjs).
    { role: 'assistant', content: [{ type: 'reasoning', text: 'hmm' }, { type: 'text', text: 'A picture.' }] },
  ]);
  assert.throws(() => fromUIMessages('hi'), (e) => e instanceof ConfigError && /expected an array of UI messages/.test(e.message));
  assert.throws(() => fromUIMessages([{ role: 'user', content: 'hi' }]), (e) => e instanceof ConfigError && /messages\[0\]: expected a UI message \{role, parts: \[\.\.\.\]\}/.test(e.message));
  assert.throws(() => fromUIMessages([{ role: 'user', parts: [{ type: 'text' }] }]), (e) => e instanceof ConfigError && /messages\[0\]\.parts\[0\]: a text part's text must be a string, got undefined/.test(e.message));
  assert.throws(() => fromUIMessages([{ role: 'robot', parts: [] }]), (e) => e instanceof ConfigError && /messages\[0\]\.role: expected 'system', 'user' or 'assistant', got the string "robot"/.test(e.message));
  // Other files go as file parts, which the provider checks.
  assert.deepEqual(fromUIMessages([{ role: 'user', parts: [{ type: 'file', mediaType: 'application/pdf', filename: 'a.pdf', url: 'data:application/pdf;base64,AA' }] }]), [
    { role: 'user', content: [{ type: 'file', data: 'AA', mediaType: 'application/pdf', filename: 'a.pdf' }] },
  ]);
  assert.throws(() => fromUIMessages([{ role: 'user', parts: [{ type: 'file', url: 'data:application/pdf;base64,AA' }] }]), (e) => e instanceof ConfigError && /parts\[0\]: expected the file's mediaType/.test(e.message));
  // A client's URL of another scheme reached the provider as base64 it could not read.
  for (const [url, got] of [['javascript:alert(1)', 'a javascript: URL'], ['file:///etc/passwd', 'a file: URL'], ['not a url', 'a string that is not a URL']])
    assert.throws(() => fromUIMessages([{ role: 'user', parts: [{ type: 'file', mediaType: 'image/png', url }] }]), (e) => e instanceof ConfigError && e.message === `fromUIMessages: messages[0].parts[0]: the file's url must be a data:, https: or http: URL, got ${got}`);
  assert.equal(fromUIMessages([{ role: 'user', parts: [{ type: 'file', mediaType: 'image/png', url: 'HTTPS://example.com/a.png' }] }])[0].content[0].data, 'HTTPS://example.com/a.png');
  assert.throws(() => fromUIMessages([{ role: 'user', parts: 'hi' }]), (e) => e instanceof ConfigError && e.message === 'fromUIMessages: messages[0].parts: expected an array of parts, got the string "hi"');
  // A decided approval becomes a tool-approval-response after its call; a decision without `approved` is refused.
  const decided = { type: 'tool-remove', toolCallId: 'c1', state: 'approval-responded', input: { path: '/a' }, approval: { id: 'ap-1', approved: false, reason: 'no', signature: 's' } };
  assert.deepEqual(fromUIMessages([{ role: 'assistant', parts: [{ type: 'step-start' }, decided] }]), [
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'remove', args: { path: '/a' }, argsText: '{"path":"/a"}' }] },
    { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: false, reason: 'no', approvalId: 'ap-1', signature: 's' }] },
  ]);
  assert.throws(() => fromUIMessages([{ role: 'assistant', parts: [{ ...decided, approval: { id: 'ap-1' } }] }]), (e) => e instanceof ConfigError && /parts\[0\]: an approval-responded tool part needs approval: \{id, approved: true \| false, reason\?\}/.test(e.message));
});

test('toUIMessageStream is a web stream the AI SDK\'s createUIMessageStream merges (with data parts of the route\'s own); a loop that stops early cancels it', async () => {
  const result = runPrompt({ model: mockModel([{ type: 'text', text: 'Sunny.' }]), prompt: 'Weather?' });
  const stream = createUIMessageStream({
    execute: ({ writer }) => {
      // The route starts the message itself, so the merged stream does not start another.
      writer.write({ type: 'start', messageId: 'reply-9' });
      writer.write({ type: 'data-status', data: { phase: 'looking' } });
      writer.merge(result.toUIMessageStream({ sendStart: false }));
    },
  });
  let message;
  for await (const m of readUIMessageStream({ stream })) message = m;
  assert.deepEqual(message.parts.map((p) => (p.type === 'text' ? `text:${p.text}` : p.type)), ['data-status', 'step-start', 'text:Sunny.']);
  assert.equal(message.id, 'reply-9');
  assert.ok(result.toUIMessageStream() instanceof ReadableStream);

  // for await reads the same stream; breaking out cancels it, and the run is not disturbed.
  const again = runPrompt({ model: mockModel([{ type: 'text', text: 'Rainy.' }]), prompt: 'Weather?' });
  const chunks = again.toUIMessageStream();
  for await (const chunk of chunks) {
    assert.equal(chunk.type, 'start');
    break;
  }
  assert.equal(chunks.locked, false);
  assert.equal(await again.text, 'Rainy.');
});

test("a call of a tool that does not exist is the AI SDK's invalid, dynamic call, and keeps the model's input in the UI message and the next turn", async () => {
  const result = runPrompt({
    model: mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'wether', args: { city: 'Oslo' } }, { type: 'text', text: 'Sorry.' }]),
    prompt: 'Weather in Oslo?',
    tools: { weather: { description: 'Weather of a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } }, execute: () => 'sunny' } },
  });
  const [forClient, forServer] = result.toUIMessageStream().tee();
  const chunks = [];
  for await (const chunk of forServer) if (chunk.toolCallId === 'c1') chunks.push(chunk);
  for (const chunk of chunks) assert.equal((await uiMessageChunkSchema().validate(chunk)).success, true, JSON.stringify(chunk));
  assert.deepEqual(chunks.map((c) => [c.type, c.dynamic]), [['tool-input-error', true], ['tool-output-error', true]]);
  assert.deepEqual(chunks[0].input, { city: 'Oslo' });
  assert.equal(chunks[0].toolName, 'wether');
  let last;
  for await (const message of readUIMessageStream({ stream: forClient })) last = message;
  const part = last.parts.find((p) => p.toolCallId === 'c1');
  assert.equal(part.type, 'dynamic-tool');
  assert.equal(part.toolName, 'wether');
  assert.deepEqual(part.input, { city: 'Oslo' });
  assert.equal(part.state, 'output-error');
  assert.match(part.errorText, /Tool "wether" is not available/);
  const [, assistant] = fromUIMessages([{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'Weather in Oslo?' }] }, last]);
  assert.deepEqual(assistant.content.find((p) => p.type === 'tool-call').args, { city: 'Oslo' });
});

test("a call of a known tool whose input does not fit is a static tool part in error, on the server's message as on the client's", async () => {
  const result = runPrompt({
    model: mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 7 } }, { type: 'text', text: 'Sorry.' }]),
    prompt: 'Weather?',
    tools: { weather: { description: 'Weather of a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } }, execute: () => 'sunny' } },
  });
  let saved;
  const stream = result.toUIMessageStream({ originalMessages: [], onFinish: ({ responseMessage }) => void (saved = responseMessage) });
  let last;
  for await (const message of readUIMessageStream({ stream })) last = message;
  const client = last.parts.find((p) => p.toolCallId === 'c1');
  assert.equal(client.type, 'tool-weather');
  assert.equal(client.state, 'output-error');
  assert.match(client.errorText, /Invalid arguments for tool "weather"/);
  assert.deepEqual(saved.parts.find((p) => p.toolCallId === 'c1'), JSON.parse(JSON.stringify(client)));
  const call = (await result.steps)[0];
  assert.equal(call.toolResults[0].isError, true);
});

test("a call whose arguments are not JSON keeps the model's text as its input, in the UI message and the next turn", async () => {
  const broken = '{"city": "Osl';
  let turn = 0;
  const model = {
    provider: 'test',
    modelId: 'broken-args',
    async generate() {
      turn++;
      if (turn === 1) return { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: undefined, argsText: broken }], finishReason: 'tool-calls' };
      return { content: [{ type: 'text', text: 'Sorry.' }], finishReason: 'stop' };
    },
  };
  const result = runPrompt({
    model,
    prompt: 'Weather?',
    tools: { weather: { description: 'Weather of a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } }, execute: () => 'sunny' } },
  });
  let last;
  for await (const message of readUIMessageStream({ stream: result.toUIMessageStream() })) last = message;
  const part = last.parts.find((p) => p.toolCallId === 'c1');
  assert.equal(part.state, 'output-error');
  assert.equal(part.input, broken);
  assert.match(part.errorText, /Invalid JSON in arguments of tool "weather"/);
  const [, assistant] = fromUIMessages([{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'Weather?' }] }, last]);
  const call = assistant.content.find((p) => p.type === 'tool-call');
  assert.equal(call.argsText, broken);
  assert.equal(call.args, undefined);
});

test("onFinish runs when the client leaves mid-stream: with the whole answer when the run goes on, isAborted when the client's leaving aborts it", async () => {
  const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
  const model = {
    provider: 'test',
    modelId: 'slow',
    async generate(_request, { onDelta, signal }) {
      for (const text of words) {
        if (signal?.aborted) throw signal.reason;
        onDelta?.({ type: 'text-delta', text });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return { content: [{ type: 'text', text: words.join('') }], finishReason: 'stop' };
    },
  };
  for (const aborting of [false, true]) {
    const controller = new AbortController();
    let finished;
    const done = new Promise((resolve) => (finished = resolve));
    const response = runPrompt({ model, prompt: 'hi', abortSignal: aborting ? controller.signal : undefined }).toUIMessageStreamResponse({ onFinish: finished });
    const reader = response.body.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    await reader.cancel(); // the client went away (useChat's stop(), a closed tab)
    if (aborting) controller.abort();
    const event = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('never called'), 3_000))]);
    assert.notEqual(event, 'never called', `aborting: ${aborting}`);
    assert.equal(event.isAborted, aborting);
    const text = event.responseMessage.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');
    if (aborting) assert.ok(text.length < words.join('').length, text);
    else assert.equal(text, words.join(''));
  }
});
