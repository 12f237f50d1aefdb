// A directive run's UI message stream (js/directive/run-stream.ts), checked with the AI SDK's own
// client: `DefaultChatTransport` (what `useChat` uses) posts to a loopback server whose route runs a
// directive agent and pipes `pipeUIMessageStreamToResponse`; `readUIMessageStream` builds the
// message the chat shows. Only the root conversation's streamed replies are in it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, fromUIMessages, L, memoryStorage, mockModel, replay, run } from '../../dist/node.js';
import { chatTurn, startChatRoute, userMessage } from './helpers/chat-route.mjs';

const textOf = (message) => (typeof message.content === 'string' ? message.content : message.content.filter((p) => p.type === 'text').map((p) => p.text).join(''));
const addSchema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] };

/** The chat so far, then a draft the agent keeps to itself, a branch's reply, and the streamed answer. */
function chatAgent(messages) {
  return async function* () {
    yield* L.tool('add', 'Adds two numbers', addSchema, ({ a, b }) => a + b);
    yield* L.tool('broken', 'Always fails', { type: 'object' }, () => {
      throw new Error('the sensor is offline');
    });
    for (const message of fromUIMessages(messages)) {
      if (message.role === 'user') yield* L.user(textOf(message));
      else if (message.role === 'assistant') yield* L.assistant(textOf(message));
    }
    const draft = yield* L.reply; // not streamed: not in the UI message
    yield* L.branch(function* () {
      yield* L.user`Check the draft: ${draft}`;
      yield* L.stream; // a branch's stream: not in it either
    });
    yield* L.stream;
  };
}

/** What the route's model answers, in order, and how the route runs the agent. */
const route = { items: [], config: {}, options: {} };

let chat;
before(async () => {
  chat = await startChatRoute(async (messages, res) => {
    const result = run(chatAgent(messages), { models: { default: mockModel(route.items) }, ...route.config });
    result.catch(() => {}); // the stream reports a failure
    await result.pipeUIMessageStreamToResponse(res, { messageId: 'reply-1', ...route.options });
  });
});
after(() => chat.close());

const turn = (messages) => chatTurn(chat.api, messages);
const user = userMessage;
const shapeOf = (message) => message.parts.map((p) => (p.type === 'text' ? `text:${p.text}` : p.type.startsWith('tool-') ? `${p.type}:${p.state}` : p.type));

const script = [
  { type: 'text', text: 'a private draft' }, { type: 'end-step' }, // L.reply
  { type: 'text', text: 'the branch says fine' }, { type: 'end-step' }, // the branch's L.stream
  { type: 'text', text: 'Let me add.' }, // the root's L.stream: three steps
  { type: 'tool-call', toolCallId: 'c1', toolName: 'add', args: { a: 1, b: 2 } },
  { type: 'tool-call', toolCallId: 'c2', toolName: 'broken', args: {} },
  { type: 'text', text: 'It is 3.' },
];

test('useChat over real HTTP: a directive agent\'s streamed root reply, with its steps and tool calls, is one assistant message', async () => {
  route.items = script;
  route.config = {};
  route.options = {};
  const first = user('u1', 'What is 1 + 2?');
  const reply = await turn([first]);
  assert.equal(reply.id, 'reply-1');
  assert.deepEqual(shapeOf(reply), ['step-start', 'text:Let me add.', 'tool-add:output-available', 'step-start', 'tool-broken:output-error', 'step-start', 'text:It is 3.']);
  const add = reply.parts.find((p) => p.type === 'tool-add');
  assert.deepEqual([add.toolCallId, add.input, add.output], ['c1', { a: 1, b: 2 }, 3]);
  assert.equal(reply.parts.find((p) => p.type === 'tool-broken').errorText, 'the sensor is offline');

  // The next turn sends the chat back: the agent replays it into its root conversation.
  route.items = [{ type: 'text', text: 'draft 2' }, { type: 'end-step' }, { type: 'text', text: 'ok' }, { type: 'end-step' }, { type: 'text', text: 'You are welcome.' }];
  const second = await turn([first, reply, user('u2', 'Thanks!')]);
  assert.deepEqual(shapeOf(second), ['step-start', 'text:You are welcome.']);
});

test('events: false sends the streamed text without steps or tool parts; textStream is unchanged', async () => {
  route.items = script;
  route.config = { events: false };
  route.options = {};
  const reply = await turn([user('u1', 'What is 1 + 2?')]);
  assert.deepEqual(shapeOf(reply), ['text:Let me add.It is 3.']);

  const result = run(chatAgent([user('u1', 'What is 1 + 2?')]), { models: { default: mockModel(script) } });
  const chunks = [];
  for await (const chunk of result.toUIMessageStream()) chunks.push(chunk.type);
  assert.deepEqual(chunks.slice(0, 3), ['start', 'start-step', 'text-start']);
  assert.equal(chunks.at(-1), 'finish');
  let text = '';
  for await (const delta of result.textStream) text += delta;
  assert.equal(text, 'Let me add.It is 3.');
});

test('a failed run ends with an error chunk that keeps its detail out unless onError says otherwise; an aborted one with abort', async () => {
  const failing = { provider: 'down', modelId: 'm', generate: () => Promise.reject(new Error('secret upstream detail')) };
  const chunksOf = async (result, options) => {
    const chunks = [];
    for await (const chunk of result.toUIMessageStream(options)) chunks.push(chunk);
    await result.catch(() => {});
    return chunks;
  };
  const agent = function* () {
    yield* L.user`hi`;
    yield* L.stream;
  };
  const hidden = await chunksOf(run(agent, { models: { default: failing }, maxRetries: 0 }));
  assert.deepEqual(hidden.at(-1), { type: 'error', errorText: 'An error occurred.' });
  const shown = await chunksOf(run(agent, { models: { default: failing }, maxRetries: 0 }), { onError: (e) => `failed: ${e.message}` });
  assert.match(shown.at(-1).errorText, /^failed: .*secret upstream detail/);

  // Aborted once the model is called: the step has started (its event comes before the call).
  const controller = new AbortController();
  const slow = {
    provider: 'slow',
    modelId: 'm',
    generate: (_req, { signal }) => {
      setImmediate(() => controller.abort());
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    },
  };
  const result = run(agent, { models: { default: slow }, signal: controller.signal });
  const aborted = await chunksOf(result);
  assert.deepEqual(aborted.map((c) => c.type), ['start', 'start-step', 'abort']);
});

test('the UI message stream\'s options are checked: a typo is a ConfigError with a did-you-mean', async () => {
  const result = run(function* () {
    yield* L.user`hi`;
    yield* L.stream;
  }, { models: { default: mockModel([{ type: 'text', text: 'hello' }]) } });
  assert.throws(() => result.toUIMessageStream({ sendReasonning: false }), (e) => e instanceof ConfigError && /sendReasoning/.test(e.message));
  assert.throws(() => result.toUIMessageStreamResponse({ messageID: 'x' }), (e) => e instanceof ConfigError && /messageId/.test(e.message));
  const response = result.toUIMessageStreamResponse({ headers: { 'x-chat': '1' } });
  assert.equal(response.headers.get('x-vercel-ai-ui-message-stream'), 'v1');
  assert.equal(response.headers.get('x-chat'), '1');
  const body = await response.text();
  assert.match(body, /"type":"text-delta","id":"text-0","delta":"hello"/);
  assert.ok(body.endsWith('data: [DONE]\n\n'));
  assert.equal(await result, undefined);
});

test('a sub-agent\'s steps inside a streamed reply, and a root reply after it, stay out of the UI message', async () => {
  const result = run(function* () {
    yield* L.tool('ask', 'Asks a sub-agent', { type: 'object' }, () =>
      function* () {
        yield* L.user`What do you think?`;
        return (yield* L.reply).value;
      });
    yield* L.user`Ask around.`;
    yield* L.stream;
    yield* L.user`And now?`;
    return (yield* L.reply).value; // after the stream: not in it
  }, {
    models: {
      default: mockModel([
        { type: 'tool-call', toolCallId: 'c1', toolName: 'ask', args: {} },
        { type: 'text', text: 'the sub-agent thinks so' }, { type: 'end-step' },
        { type: 'text', text: 'Done.' }, { type: 'end-step' },
        { type: 'text', text: 'later' },
      ]),
    },
  });
  // The finish chunk carries the usage of the message's steps: two model calls of 10 + 20 tokens.
  const chunks = [];
  for await (const chunk of result.toUIMessageStream({ messageMetadata: ({ part }) => (part.type === 'finish' ? part.usage : undefined) })) chunks.push(chunk);
  assert.equal(await result, 'later');
  assert.deepEqual(chunks.map((c) => c.type), [
    'start', 'start-step', 'tool-input-available', 'tool-output-available', 'finish-step',
    'start-step', 'text-start', 'text-delta', 'text-end', 'finish-step', 'finish',
  ]);
  assert.equal(chunks[3].output, 'the sub-agent thinks so');
  assert.deepEqual(chunks.at(-1), { type: 'finish', finishReason: 'stop', messageMetadata: { inputTokens: 20, outputTokens: 40, totalTokens: 60 } });
});

test('a streamed reply\'s reasoning is sent as reasoning parts, each block signed as the provider signed it', async () => {
  const model = {
    provider: 'custom',
    modelId: 'm',
    generate: async (_request, { onDelta }) => {
      onDelta?.({ type: 'reasoning-start' });
      onDelta?.({ type: 'reasoning-delta', text: 'First, ' });
      onDelta?.({ type: 'reasoning-delta', text: 'think.' });
      onDelta?.({ type: 'reasoning-start' });
      onDelta?.({ type: 'reasoning-delta', text: 'Then check.' });
      onDelta?.({ type: 'text-delta', text: 'Forty-two.' });
      return {
        content: [
          { type: 'reasoning', text: 'First, think.', signature: 'sig-a', signedBy: 'anthropic' },
          { type: 'reasoning', text: 'Then check.', signature: 'sig-b', signedBy: 'anthropic' },
          { type: 'text', text: 'Forty-two.' },
        ],
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      };
    },
  };
  const agent = function* () {
    yield* L.user`The answer?`;
    yield* L.reply; // its reasoning is not the message's
    yield* L.stream;
  };
  const result = run(agent, { models: { default: model } });
  const chunks = [];
  for await (const chunk of result.toUIMessageStream()) chunks.push(chunk);
  assert.deepEqual(chunks.filter((c) => c.type.startsWith('reasoning') || c.type.startsWith('text')), [
    { type: 'reasoning-start', id: 'reasoning-0' },
    { type: 'reasoning-delta', id: 'reasoning-0', delta: 'First, ' },
    { type: 'reasoning-delta', id: 'reasoning-0', delta: 'think.' },
    { type: 'reasoning-start', id: 'reasoning-1' },
    { type: 'reasoning-delta', id: 'reasoning-1', delta: 'Then check.' },
    { type: 'text-start', id: 'text-2' },
    { type: 'text-delta', id: 'text-2', delta: 'Forty-two.' },
    { type: 'reasoning-end', id: 'reasoning-0', providerMetadata: { anthropic: { signature: 'sig-a' } } },
    { type: 'reasoning-end', id: 'reasoning-1', providerMetadata: { anthropic: { signature: 'sig-b' } } },
    { type: 'text-end', id: 'text-2' },
  ]);
  const hidden = [];
  for await (const chunk of run(agent, { models: { default: model } }).toUIMessageStream({ sendReasoning: false })) hidden.push(chunk.type);
  assert.ok(!hidden.some((type) => type.startsWith('reasoning')), hidden.join(' '));
});

test('a durable run\'s replay sends the UI message its live run sent', async () => {
  const agent = function* () {
    yield* L.tool('add', 'Adds one', { type: 'object', properties: { a: { type: 'number' } } }, ({ a }) => a + 1);
    yield* L.user`Go.`;
    yield* L.stream;
    return 'ok';
  };
  const chunksOf = async (result) => {
    const chunks = [];
    for await (const chunk of result.toUIMessageStream()) chunks.push(chunk);
    assert.equal(await result, 'ok');
    return chunks;
  };
  const live = run(agent, {
    models: { default: mockModel([{ type: 'text', text: 'Adding. ' }, { type: 'tool-call', toolName: 'add', args: { a: 1 } }, { type: 'text', text: 'Two.' }]) },
    durable: { id: 'ui-1', storage: memoryStorage() },
  });
  const sent = await chunksOf(live);
  assert.ok(sent.some((c) => c.type === 'tool-output-available' && c.output === 2));
  const replayed = await chunksOf(replay(live.journal(), agent, { models: { default: mockModel([]) } }));
  assert.deepEqual(replayed, sent);
});
