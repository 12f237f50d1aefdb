// A chat that goes through the browser between requests keeps what the provider needs to verify its
// own output: the UI message stream sends a reasoning block's and a tool call's signature as the AI
// SDK's `providerMetadata`, the AI SDK's chat client keeps it in its UI message, and
// `fromUIMessages` gives it back to the provider. Checked over real HTTP with the AI SDK's own
// `AbstractChat` (what `useChat` is built on), approving a deferred call in a second request: with
// Gemini's recorded function calls (the thought signature must come back on the call), an
// Anthropic thinking stream (a tool-use turn with thinking on must come back with its signed block),
// and OpenAI Responses' reasoning item (its id and encrypted content).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { DefaultChatTransport, readUIMessageStream } from 'ai';
import { z } from 'zod';
import { createAnthropic, createGoogle, createOpenAI, fromUIMessages, isStepCount, memoryStorage, replay, runPrompt, tool } from '../../dist/node.js';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY, sse, response } from './helpers/provider-calls.mjs';
import { ApprovalChat, settled } from './helpers/approval-chat.mjs';
import { responsesStream } from './helpers/responses-stream.mjs';

let providerServer;
let httpServer;
let api;
/** The route's model and tools for the next request, and what it ran. */
const route = { model: undefined, tools: undefined };

before(async () => {
  providerServer = await startFixtureServer();
  httpServer = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { messages } = JSON.parse(body);
    try {
      const { result } = await runPrompt({ model: route.model, messages: fromUIMessages(messages), tools: route.tools, onApproval: () => 'defer', maxRetries: 0 });
      await result.pipeUIMessageStreamToResponse(res, { originalMessages: messages });
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${httpServer.address().port}/api/chat`;
});
after(async () => {
  await providerServer.close();
  await new Promise((resolve) => httpServer.close(resolve));
});


/** Sends `text`, approves the deferred call, and returns the chat's last message and the provider's requests. */
async function approveInChat(text) {
  const before = providerServer.requests.length;
  const chat = new ApprovalChat(api);
  await chat.sendMessage({ text });
  await settled(chat);
  const pending = chat.current.messages.at(-1).parts.find((p) => p.state === 'approval-requested');
  assert.ok(pending, 'the call waits for the user');
  const shown = structuredClone(chat.current.messages.at(-1));
  await chat.addToolApprovalResponse({ id: pending.approval.id, approved: true });
  await settled(chat);
  return { shown, reply: chat.current.messages.at(-1), requests: providerServer.requests.slice(before) };
}

test('Gemini: the recorded call\'s thought signature reaches the chat client and comes back on the call when it is approved', async () => {
  const ran = [];
  route.model = createGoogle({ baseURL: `${providerServer.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash');
  route.tools = {
    weather: tool({
      description: 'Gets current weather for a location',
      inputSchema: z.object({ latitude: z.string(), longitude: z.string() }),
      execute: () => (ran.push('weather'), 'Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h'),
      needsApproval: true,
    }),
    best_language_to_learn: tool({ description: 'Gets the best language to learn', inputSchema: z.object({}), execute: () => (ran.push('language'), 'Ruby') }),
  };
  const first = loadFixture('gemini', 'parallel-function-calls-nonstream', 1);
  const signature = JSON.parse(first.body.toString('utf8')).candidates[0].content.parts[0].thoughtSignature;
  providerServer.enqueue(first);
  providerServer.enqueue(loadFixture('gemini', 'parallel-function-calls-nonstream', 2));

  const { shown, reply, requests } = await approveInChat("What's the weather in Berlin (52.5200, 13.4050) and what's the best language to learn?");
  const weather = shown.parts.find((p) => p.type === 'tool-weather');
  assert.deepEqual(weather.callProviderMetadata, { google: { thoughtSignature: signature } });
  assert.equal(shown.parts.find((p) => p.type === 'tool-best_language_to_learn').callProviderMetadata, undefined, 'an unsigned call has none');
  assert.deepEqual(ran, ['language', 'weather']);
  assert.equal(requests.length, 2);
  // The second request sends the model's turn back with the signature on the call that had it.
  const modelTurn = requests[1].body.contents[1];
  assert.equal(modelTurn.role, 'model');
  assert.equal(modelTurn.parts[0].thoughtSignature, signature);
  assert.equal(modelTurn.parts[0].functionCall.name, 'weather');
  assert.equal(modelTurn.parts[1].thoughtSignature, undefined);
  assert.equal(reply.parts.filter((p) => p.type === 'text').at(-1).text, 'The weather in Berlin (52.5200, 13.4050) is 15°C with a wind of 10 km/h. The best language to learn is Ruby.');
});

/** An Anthropic Messages stream: `blocks` are [kind, ...] with kind thinking / redacted / text / tool. */
function anthropicStream(blocks, stopReason) {
  const events = [{ event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: 10, output_tokens: 1 } } } }];
  blocks.forEach(([kind, ...rest], index) => {
    const start = (content_block) => events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block } });
    const delta = (d) => events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: d } });
    if (kind === 'thinking') {
      const [pieces, signature] = rest;
      start({ type: 'thinking', thinking: '' });
      for (const thinking of pieces) delta({ type: 'thinking_delta', thinking });
      delta({ type: 'signature_delta', signature });
    } else if (kind === 'redacted') start({ type: 'redacted_thinking', data: rest[0] });
    else if (kind === 'text') {
      start({ type: 'text', text: '' });
      delta({ type: 'text_delta', text: rest[0] });
    } else {
      const [id, name, input] = rest;
      start({ type: 'tool_use', id, name, input: {} });
      delta({ type: 'input_json_delta', partial_json: JSON.stringify(input) });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReason }, usage: { output_tokens: 20 } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return response(sse(events));
}

test('Anthropic: thinking and redacted thinking come back signed, in order, before the approved tool call', async () => {
  const ran = [];
  route.model = createAnthropic({ baseURL: `${providerServer.url}/v1`, apiKey: KEY })('claude-sonnet-4-5');
  route.tools = { remove: tool({ description: 'Removes a file', inputSchema: z.object({ path: z.string() }), execute: ({ path }) => (ran.push(path), `removed ${path}`), needsApproval: true }) };
  providerServer.enqueue(anthropicStream([
    ['thinking', ['The user wants ', 'the file gone.'], 'sig-EqQBCkYIBRgCIkA'],
    ['redacted', 'EmwKAhgBEgy3va3pzix'],
    ['text', 'Removing it.'],
    ['tool', 'toolu_1', 'remove', { path: '/tmp/a' }],
  ], 'tool_use'));
  providerServer.enqueue(anthropicStream([['text', 'Done.']], 'end_turn'));

  const { shown, reply, requests } = await approveInChat('Remove /tmp/a');
  const reasoning = shown.parts.filter((p) => p.type === 'reasoning');
  assert.deepEqual(reasoning.map((p) => [p.text, p.state, p.providerMetadata]), [
    ['The user wants the file gone.', 'done', { anthropic: { signature: 'sig-EqQBCkYIBRgCIkA' } }],
    ['', 'done', { anthropic: { redactedData: 'EmwKAhgBEgy3va3pzix' } }],
  ]);
  assert.deepEqual(ran, ['/tmp/a']);
  assert.equal(requests.length, 2);
  const assistant = requests[1].body.messages.find((m) => m.role === 'assistant');
  assert.deepEqual(assistant.content.map((b) => b.type), ['thinking', 'redacted_thinking', 'text', 'tool_use']);
  assert.deepEqual(assistant.content[0], { type: 'thinking', thinking: 'The user wants the file gone.', signature: 'sig-EqQBCkYIBRgCIkA' });
  assert.deepEqual(assistant.content[1], { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' });
  assert.equal(reply.parts.at(-1).text, 'Done.');
});

test('OpenAI Responses: the reasoning item (its id and encrypted content) comes back before the approved call', async () => {
  const ran = [];
  route.model = createOpenAI({ baseURL: `${providerServer.url}/v1`, apiKey: KEY }).responses('o4-mini', { reasoning: { effort: 'low' } });
  route.tools = { remove: tool({ description: 'Removes a file', inputSchema: z.object({ path: z.string() }), execute: ({ path }) => (ran.push(path), `removed ${path}`), needsApproval: true }) };
  const usage = { input_tokens: 10, output_tokens: 20, total_tokens: 30 };
  providerServer.enqueue(response(responsesStream([
    { type: 'reasoning', summaries: [['The user ', 'wants it gone.'], ['Ask first.']], encrypted: 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=' },
    { type: 'function_call', callId: 'call_1', name: 'remove', args: '{"path":"/tmp/a"}', chunks: ['{"path":', '"/tmp/a"}'] },
  ], { usage })));
  providerServer.enqueue(response(responsesStream([{ type: 'message', chunks: ['Done.'] }], { usage })));

  const { shown, requests } = await approveInChat('Remove /tmp/a');
  const [reasoning] = shown.parts.filter((p) => p.type === 'reasoning');
  assert.equal(reasoning.text, 'The user wants it gone.\n\nAsk first.');
  assert.equal(reasoning.providerMetadata.openai.reasoningEncryptedContent, 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=');
  assert.match(reasoning.providerMetadata.openai.itemId, /^rs_/);
  assert.deepEqual(ran, ['/tmp/a']);
  const input = requests[1].body.input;
  const item = input.findIndex((i) => i.type === 'reasoning');
  assert.deepEqual(input[item], { type: 'reasoning', id: reasoning.providerMetadata.openai.itemId, summary: [{ type: 'summary_text', text: 'The user wants it gone.\n\nAsk first.' }], encrypted_content: 'gAAAAABoeW9sZS1lbmNyeXB0ZWQ=' });
  assert.equal(input[item + 1].type, 'function_call');
});

test('reasoning blocks that stream back to back each get a UI part of their own, signed, and go back to the model as they came', async () => {
  route.model = createAnthropic({ baseURL: `${providerServer.url}/v1`, apiKey: KEY })('claude-sonnet-4-5');
  route.tools = {};
  providerServer.enqueue(anthropicStream([
    ['thinking', ['First. '], 'sig-1'],
    ['thinking', ['Second.'], 'sig-2'],
    ['text', 'Between.'],
    ['thinking', ['Third.'], 'sig-3'],
    ['text', 'After.'],
  ], 'end_turn'));
  const transport = new DefaultChatTransport({ api });
  const stream = await transport.sendMessages({ chatId: 'c', messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Think.' }] }], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
  let message;
  for await (const m of readUIMessageStream({ stream })) message = m;
  assert.deepEqual(message.parts.filter((p) => p.type === 'reasoning').map((p) => [p.text, p.providerMetadata]), [
    ['First. ', { anthropic: { signature: 'sig-1' } }],
    ['Second.', { anthropic: { signature: 'sig-2' } }],
    ['Third.', { anthropic: { signature: 'sig-3' } }],
  ]);
  const messages = fromUIMessages([{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Think.' }] }, message]);
  assert.deepEqual(messages[1].content.filter((p) => p.type === 'reasoning').map((p) => [p.text, p.signature, p.signedBy]), [
    ['First. ', 'sig-1', 'anthropic'],
    ['Second.', 'sig-2', 'anthropic'],
    ['Third.', 'sig-3', 'anthropic'],
  ]);
});

test('OpenAI Responses: reasoning items that stream back to back keep their own encrypted content in the UI message', async () => {
  route.model = createOpenAI({ baseURL: `${providerServer.url}/v1`, apiKey: KEY }).responses('o4-mini', { reasoning: { effort: 'low' } });
  route.tools = {};
  providerServer.enqueue(response(responsesStream([
    { type: 'reasoning', summaries: [['One.']], encrypted: 'gAAAA-one' },
    { type: 'reasoning', summaries: [['Two.']], encrypted: 'gAAAA-two' },
    { type: 'message', chunks: ['Done.'] },
  ], { usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } })));
  const stream = await new DefaultChatTransport({ api }).sendMessages({ chatId: 'c', messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Think.' }] }], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
  let message;
  for await (const m of readUIMessageStream({ stream })) message = m;
  assert.deepEqual(message.parts.filter((p) => p.type === 'reasoning').map((p) => [p.text, p.providerMetadata?.openai?.reasoningEncryptedContent]), [
    ['One.', 'gAAAA-one'],
    ['Two.', 'gAAAA-two'],
  ]);
});

test('a custom model that streams reasoning, then a tool call, then reasoning: two parts, each signed, without reasoning-start', async () => {
  const model = {
    provider: 'custom',
    modelId: 'm',
    generate: async (_request, { onDelta }) => {
      onDelta?.({ type: 'reasoning-delta', text: 'Look first.' });
      onDelta?.({ type: 'tool-call-delta', index: 0, toolCallId: 'c1', toolName: 'look', argsTextDelta: '{}' });
      onDelta?.({ type: 'reasoning-delta', text: 'Then answer.' });
      return {
        content: [
          { type: 'reasoning', text: 'Look first.', signature: 'sig-a', signedBy: 'anthropic' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'look', args: {}, argsText: '{}' },
          { type: 'reasoning', text: 'Then answer.', signature: 'sig-b', signedBy: 'anthropic' },
        ],
        finishReason: 'tool-calls',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      };
    },
  };
  const { result } = await runPrompt({ model, prompt: 'Think.', tools: { look: tool({ description: 'Looks', inputSchema: z.object({}), execute: () => 'seen' }) }, stopWhen: isStepCount(1) });
  const parts = [];
  for await (const part of result.fullStream) if (part.type.startsWith('reasoning')) parts.push(part.type === 'reasoning-delta' ? `${part.type}:${part.text}` : part.type);
  assert.deepEqual(parts, ['reasoning-start', 'reasoning-delta:Look first.', 'reasoning-start', 'reasoning-delta:Then answer.', 'reasoning-end', 'reasoning-end']);
  const ends = [];
  for await (const chunk of result.toUIMessageStream()) if (chunk.type === 'reasoning-end') ends.push(chunk);
  assert.deepEqual(ends, [
    { type: 'reasoning-end', id: 'reasoning-0', providerMetadata: { anthropic: { signature: 'sig-a' } } },
    { type: 'reasoning-end', id: 'reasoning-1', providerMetadata: { anthropic: { signature: 'sig-b' } } },
  ]);
});

test('fromUIMessages reads the AI SDK providers\' metadata: OpenAI reasoning items, Gemini thought signatures; other metadata is ignored', () => {
  const messages = fromUIMessages([
    {
      role: 'assistant',
      parts: [
        { type: 'step-start' },
        { type: 'reasoning', text: 'Summary.', providerMetadata: { openai: { itemId: 'rs_1', reasoningEncryptedContent: 'gAAAA' } } },
        { type: 'reasoning', text: 'Thought.', providerMetadata: { google: { thoughtSignature: 'CpED' } } },
        { type: 'reasoning', text: 'Plain.', providerMetadata: { someone: { signature: 'x' } } },
        { type: 'reasoning', text: '', providerMetadata: { anthropic: { signature: 42 } } },
        { type: 'tool-weather', toolCallId: 'c1', state: 'output-available', input: {}, output: 'sunny', callProviderMetadata: { google: { thoughtSignature: 'CpEE' } } },
      ],
    },
  ]);
  assert.deepEqual(messages[0].content, [
    { type: 'reasoning', text: 'Summary.', itemId: 'rs_1', signedBy: 'openai-responses', signature: 'gAAAA' },
    { type: 'reasoning', text: 'Thought.', signature: 'CpED', signedBy: 'google' },
    { type: 'reasoning', text: 'Plain.' },
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: {}, argsText: '{}', signature: 'CpEE', signedBy: 'google' },
  ]);
});

test('a model that does not stream: its reasoning still reaches fullStream (deltas, then each block\'s end) and the UI stream, signed', async () => {
  const model = {
    provider: 'custom',
    modelId: 'm',
    generate: async () => ({
      content: [{ type: 'reasoning', text: 'Thinking it over.', signature: 'sig-9', signedBy: 'anthropic' }, { type: 'text', text: 'Answer.' }],
      finishReason: 'stop',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    }),
  };
  const { result } = await runPrompt({ model, prompt: 'Think.' });
  const parts = [];
  for await (const part of result.fullStream) if (part.type.startsWith('reasoning') || part.type === 'text-delta') parts.push(part);
  assert.deepEqual(parts, [
    { type: 'reasoning-start', stepNumber: 0 },
    { type: 'reasoning-delta', text: 'Thinking it over.', stepNumber: 0 },
    { type: 'text-delta', text: 'Answer.', stepNumber: 0 },
    { type: 'reasoning-end', stepNumber: 0, length: 17, signature: 'sig-9', signedBy: 'anthropic' },
  ]);
  const chunks = [];
  for await (const chunk of result.toUIMessageStream()) chunks.push(chunk);
  assert.deepEqual(chunks.find((chunk) => chunk.type === 'reasoning-end'), { type: 'reasoning-end', id: 'reasoning-0', providerMetadata: { anthropic: { signature: 'sig-9' } } });
});

test('Gemini: a signed text part keeps its thought signature in the UI message and sends it back with the next turn', async () => {
  route.model = createGoogle({ baseURL: `${providerServer.url}/v1beta`, apiKey: KEY })('gemini-3-pro-preview');
  route.tools = {};
  const chunk = (parts, end) => ({ candidates: [{ content: { role: 'model', parts }, index: 0, ...(end ? { finishReason: 'STOP' } : {}) }], ...(end ? { usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 } } : {}) });
  providerServer.enqueue(response(sse([chunk([{ text: 'Hello' }]), chunk([{ text: ' there.', thoughtSignature: 'SIGT-1' }], true)])));
  providerServer.enqueue(response(sse([chunk([{ text: 'Fine.' }], true)])));
  const before = providerServer.requests.length;
  const first = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Hi' }] };
  const turn = async (messages) => {
    const stream = await new DefaultChatTransport({ api }).sendMessages({ chatId: 'c', messages, trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    let message;
    for await (const m of readUIMessageStream({ stream })) message = m;
    return message;
  };
  const reply = await turn([first]);
  assert.deepEqual(reply.parts.filter((p) => p.type === 'text').map((p) => [p.text, p.providerMetadata]), [['Hello there.', { google: { thoughtSignature: 'SIGT-1' } }]]);
  await turn([first, reply, { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'How are you?' }] }]);
  const sent = providerServer.requests[before + 1].body.contents;
  assert.deepEqual(sent[1], { role: 'model', parts: [{ text: 'Hello there.', thoughtSignature: 'SIGT-1' }] });
});

test('a durable run\'s replay streams each reasoning block as the model did: its start, then its deltas as they came', async () => {
  const blocks = [['Fir', 'st.'], ['Sec', 'ond', '.']];
  const model = {
    provider: 'custom',
    modelId: 'm',
    generate: async (_request, { onDelta }) => {
      for (const deltas of blocks) {
        onDelta?.({ type: 'reasoning-start' });
        for (const text of deltas) onDelta?.({ type: 'reasoning-delta', text });
      }
      onDelta?.({ type: 'text-delta', text: 'Done.' });
      return {
        content: [...blocks.map((deltas, i) => ({ type: 'reasoning', text: deltas.join(''), signature: `sig-${i}`, signedBy: 'anthropic' })), { type: 'text', text: 'Done.' }],
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      };
    },
  };
  const reasoningParts = async (result) => {
    const parts = [];
    for await (const part of result.fullStream) if (part.type === 'reasoning-start' || part.type === 'reasoning-delta') parts.push(part.type === 'reasoning-start' ? '|' : part.text);
    return parts;
  };
  const live = await runPrompt({ model, prompt: 'Think.', durable: { id: 'blocks', storage: memoryStorage() } });
  assert.deepEqual(await reasoningParts(live.result), ['|', 'Fir', 'st.', '|', 'Sec', 'ond', '.']);
  await live.prompt.finished;
  const never = { provider: 'custom', modelId: 'm', generate: () => assert.fail('a replay does not call the model') };
  const replayed = await replay(live.prompt.journal, () => {}, { model: never, prompt: 'Think.' });
  assert.deepEqual(await reasoningParts(replayed.result), ['|', 'Fir', 'st.', '|', 'Sec', 'ond', '.']);
});
