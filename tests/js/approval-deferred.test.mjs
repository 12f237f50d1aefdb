// Approvals across requests (docs/human-in-the-loop.md): `onApproval` answers `defer`, the run ends
// after the step with the call pending, and a later run given the conversation and a
// `tool-approval-response` runs (or refuses) the call before it asks the model. Checked with model
// messages, and with the AI SDK's own chat client (`AbstractChat`, what `useChat` is built on) over
// real HTTP, whose `addToolApprovalResponse` sends the decision with the next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { z } from 'zod';
import { ConfigError, L, fileStorage, fromUIMessages, memoryStorage, replay, run, runPrompt, tool } from '../../dist/node.js';
import { call, recordingModel } from './helpers/scripted-model.mjs';
import { ApprovalChat, settled } from './helpers/approval-chat.mjs';
import { tempDir } from './helpers/temp-dir.mjs';

/** `remove` needs approval; `list` does not. `ran` records what ran. */
function tools(ran) {
  return {
    remove: tool({ description: 'Removes a file', inputSchema: z.object({ path: z.string() }), execute: ({ path }) => (ran.push(path), `removed ${path}`), needsApproval: true }),
    list: tool({ description: 'Lists files', inputSchema: z.object({}), execute: () => (ran.push('list'), ['a.txt', 'b.txt']) }),
  };
}

test('defer: the run ends after the step with the call pending; the step\'s other calls run; response.messages holds their results', async () => {
  const ran = [];
  const model = recordingModel([[{ type: 'text', text: 'Cleaning up.' }, call('remove', 'c1', { path: '/tmp/a' }), call('list', 'c2', {})]]);
  const asked = [];
  const { result } = await runPrompt({ model, prompt: 'Clean up.', tools: tools(ran), onApproval: (request) => (asked.push(request.toolCallId), 'defer') });
  assert.equal(await result.finishReason, 'tool-calls');
  assert.deepEqual(ran, ['list']);
  assert.deepEqual(asked, ['c1']);
  assert.equal(model.calls.length, 1, 'the model is not asked again');
  const [step] = await result.steps;
  assert.deepEqual(step.toolCalls.map((c) => c.toolCallId), ['c1', 'c2']);
  assert.deepEqual(step.toolResults.map((r) => r.toolCallId), ['c2']);
  const { messages } = await result.response;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(messages[2].content.map((p) => p.toolCallId), ['c2']);
  const parts = [];
  for await (const part of result.fullStream) parts.push(part);
  const deferred = parts.find((p) => p.type === 'approval-decision');
  assert.equal(deferred.action, 'defer');
  assert.equal(deferred.toolCallId, 'c1');
  assert.equal(parts.some((p) => p.type === 'tool-error'), false, 'a pending call is not a failed one');
});

test('resumed with tool-approval-responses: the approved call runs, the denied one is refused with its reason, before the model is asked', async () => {
  for (const approved of [true, false]) {
    const ran = [];
    const first = recordingModel([[call('remove', 'c1', { path: '/tmp/a' }), call('list', 'c2', {})]]);
    const { result } = await runPrompt({ model: first, prompt: 'Clean up.', tools: tools(ran), onApproval: () => 'defer' });
    const { messages } = await result.response;
    ran.length = 0;

    const second = recordingModel([[{ type: 'text', text: approved ? 'Removed.' : 'Left it.' }]]);
    const decision = { type: 'tool-approval-response', toolCallId: 'c1', approved, ...(approved ? {} : { reason: 'not today' }), approvalId: 'ap-1' };
    const events = [];
    const { result: resumed } = await runPrompt({
      model: second,
      messages: [...messages, { role: 'tool', content: [decision] }],
      tools: tools(ran),
      onApproval: () => assert.fail('a decided call is not asked about again'),
      onEvent: (event) => events.push(event),
    });
    assert.equal(await resumed.text, approved ? 'Removed.' : 'Left it.');
    assert.deepEqual(ran, approved ? ['/tmp/a'] : [], 'only the approved call ran, once; list kept its earlier result');
    // The model got one tool message after its turn, both results in call order.
    const sent = second.calls[0].messages;
    assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.deepEqual(sent[2].content.map((p) => p.toolCallId), ['c1', 'c2']);
    if (approved) assert.equal(sent[2].content[0].result, 'removed /tmp/a');
    else assert.deepEqual(sent[2].content[0], { type: 'tool-result', toolCallId: 'c1', toolName: 'remove', result: { error: 'The call of tool "remove" was denied: not today.' }, isError: true });
    const decided = events.find((e) => e.type === 'approval-decision');
    assert.deepEqual([decided.request, decided.action, decided.source], ['ap-1', approved ? 'approve' : 'deny', 'message']);
  }
});

test('bad decisions in the messages are refused naming the message; `defer` outside a root prompt run applies the default action', async () => {
  const ran = [];
  const user = { role: 'user', content: 'Clean up.' };
  const turn = { role: 'assistant', content: [call('remove', 'c1', { path: '/tmp/a' })] };
  const start = (messages) => runPrompt({ model: recordingModel([]), messages, tools: tools(ran) }).text;
  await assert.rejects(start([user, turn, { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c7', approved: true }] }]), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /messages\[1\]: an approval response decides tool call "c7", which this last assistant message does not make \(its calls: c1\)/);
    return true;
  });
  await assert.rejects(start([user, turn, { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: 'yes' }] }]), /messages\[2\]\.content\[0\]: a tool-approval-response needs approved: true or false, got "yes"/);
  // The chat went on after the decision (useChat without sendAutomaticallyWhen): the tool's result
  // would belong to no message the chat shows, and each later turn would send the decision again.
  const decided = { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: true }] };
  await assert.rejects(start([user, turn, decided, { role: 'user', content: 'thanks' }]), (err) => err instanceof ConfigError && /messages\[3\]\.content\[0\]: the chat went on \(a user message\) after an approval response that no run applied yet; send the response before the next message/.test(err.message));
  assert.deepEqual(ran, []);

  // A directive reply cannot end with a call pending: `defer` is an invalid decision there.
  const model = recordingModel([[call('remove', 'c1', { path: '/tmp/a' })], [{ type: 'text', text: 'ok' }]]);
  const decisions = [];
  const text = await run(function* () {
    yield* L.user`Clean up.`;
    return (yield* L.reply).value;
  }, { models: { default: model }, tools: tools(ran), onApproval: () => 'defer', onEvent: (e) => e.type === 'approval-decision' && decisions.push(e) });
  assert.equal(text, 'ok');
  assert.deepEqual(ran, []);
  assert.equal(decisions[0].action, 'deny');
  assert.equal(decisions[0].source, 'invalid');
  assert.match(decisions[0].reason, /action "defer" ends a run with the tool call pending, which only a prompt run's own tool calls can do/);
});

// ------------------------------------------------------------------ useChat over real HTTP

/** The route's approvalSecret (an environment variable in a real app). */
const SECRET = 'a-secret-of-at-least-32-characters!!';

/** The server's model per request, and what it was sent. */
const server = { responses: [], model: undefined, ran: [], saved: [] };
let httpServer;
let api;
before(async () => {
  httpServer = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { messages } = JSON.parse(body);
    server.model = recordingModel(server.responses.shift() ?? []);
    // The route a chat app writes: every approval is the user's, in the browser, within 10 minutes.
    try {
      const { result } = await runPrompt({ model: server.model, messages: fromUIMessages(messages), tools: tools(server.ran), onApproval: () => 'defer', approvalSecret: SECRET, approvalTtlMs: 600_000 });
      // Persistence as the AI SDK's chatbot guide does it: the chat as its user sees it, after each response.
      await result.pipeUIMessageStreamToResponse(res, { originalMessages: messages, onFinish: (finish) => void server.saved.push(finish) });
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${httpServer.address().port}/api/chat`;
});
after(() => new Promise((resolve) => httpServer.close(resolve)));


const shape = (message) => message.parts.map((p) => (p.type === 'text' ? `text:${p.text}` : p.type.startsWith('tool-') ? `${p.type}:${p.state}` : p.type));

test('useChat: the tool part asks for approval; addToolApprovalResponse sends it back and the call runs (or is denied) before the model goes on', async () => {
  for (const approved of [true, false]) {
    server.ran = [];
    server.responses = [[[{ type: 'text', text: 'Removing it.' }, call('remove', 'c1', { path: '/tmp/a' })]], [[{ type: 'text', text: approved ? 'Done.' : 'Kept it.' }]]];
    const chat = new ApprovalChat(api);
    await chat.sendMessage({ text: 'Remove /tmp/a' });
    await settled(chat);
    let reply = chat.current.messages.at(-1);
    assert.deepEqual(shape(reply), ['step-start', 'text:Removing it.', 'tool-remove:approval-requested']);
    const part = reply.parts.find((p) => p.type === 'tool-remove');
    assert.deepEqual(part.input, { path: '/tmp/a' });
    assert.equal(typeof part.approval.id, 'string');
    assert.match(part.approval.signature, /^[A-Za-z0-9_-]{43}\.[0-9a-z]+$/, 'the request is signed (approvalSecret), with its expiry (approvalTtlMs)');
    assert.deepEqual(server.ran, [], 'nothing runs before the user decides');

    await chat.addToolApprovalResponse({ id: part.approval.id, approved, ...(approved ? {} : { reason: 'keep it' }) });
    await settled(chat);
    reply = chat.current.messages.at(-1);
    assert.equal(chat.current.messages.length, 2, 'the reply continues the same assistant message');
    assert.deepEqual(shape(reply), ['step-start', 'text:Removing it.', `tool-remove:${approved ? 'output-available' : 'output-denied'}`, 'step-start', `text:${approved ? 'Done.' : 'Kept it.'}`]);
    assert.deepEqual(server.ran, approved ? ['/tmp/a'] : []);
    const seen = server.model.calls[0].messages.at(-1);
    assert.equal(seen.role, 'tool');
    assert.equal(seen.content[0].toolCallId, 'c1');
    if (approved) assert.equal(reply.parts[2].output, 'removed /tmp/a');
    else assert.match(JSON.stringify(seen.content[0].result), /was denied: keep it/);
    // What the server saved after each response is the chat the client shows.
    const [first, second] = server.saved.splice(0);
    assert.deepEqual([first.isContinuation, second.isContinuation], [false, true]);
    assert.deepEqual([first.finishReason, second.finishReason], ['tool-calls', 'stop']);
    assert.deepEqual(JSON.parse(JSON.stringify(second.messages)), JSON.parse(JSON.stringify(chat.current.messages)));
    assert.equal(second.responseMessage.id, reply.id);
    assert.deepEqual(shape(first.responseMessage), ['step-start', 'text:Removing it.', 'tool-remove:approval-requested']);
  }
});

test('approvalSecret: a response must carry the signature of the call it decides; forged or altered calls do not run', async () => {
  const ran = [];
  const first = recordingModel([[call('remove', 'c1', { path: '/tmp/a' })]]);
  const decisions = [];
  const { result } = await runPrompt({ model: first, prompt: 'Clean up.', tools: tools(ran), onApproval: () => 'defer', approvalSecret: SECRET, onEvent: (e) => e.type === 'approval-decision' && decisions.push(e) });
  const { messages } = await result.response;
  const { request: approvalId, signature } = decisions[0];
  assert.match(signature, /^[A-Za-z0-9_-]{43}$/);
  const resume = (turns, response, secret = SECRET) =>
    runPrompt({ model: recordingModel([[{ type: 'text', text: 'Removed.' }]]), messages: [...turns, { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: true, approvalId, ...response }] }], tools: tools(ran), approvalSecret: secret }).text;

  // Unsigned, signed for another call, or the call's arguments changed after signing: refused before anything runs.
  await assert.rejects(resume(messages, {}), (e) => e instanceof ConfigError && /messages\[2\]\.content\[0\]: the approval response for tool call "c1" is not signed by this server \(approvalSecret\): its signature is missing/.test(e.message));
  const altered = structuredClone(messages);
  altered[1].content[0].args = { path: '/' };
  await assert.rejects(resume(altered, { signature }), /its signature is not the signature of that call/);
  await assert.rejects(resume(messages, { signature, approvalId: 'approval-99' }), /not the signature of that call/);
  await assert.rejects(resume(messages, { signature }, 'another-secret-of-at-least-32-chars!!'), /not the signature of that call/);
  assert.deepEqual(ran, []);
  // The server's own request, answered: runs.
  assert.equal(await resume(messages, { signature }), 'Removed.');
  assert.deepEqual(ran, ['/tmp/a']);

  // Deferred by id (prompt.approvals.respond) rather than by the handler: signed the same way.
  let started;
  const byId = [];
  const later = await runPrompt({
    model: recordingModel([[call('remove', 'c9', { path: '/tmp/b' })]]),
    prompt: 'Clean up.',
    tools: tools(ran),
    approvalSecret: SECRET,
    onApproval: (request) => void setTimeout(() => started.then(({ prompt }) => prompt.approvals.respond(request.id, 'defer')), 1),
    onEvent: (e) => e.type === 'approval-decision' && byId.push(e),
  });
  started = Promise.resolve(later);
  assert.equal(await later.result.finishReason, 'tool-calls');
  assert.deepEqual([byId[0].source, byId[0].action], ['respond', 'defer']);
  assert.match(byId[0].signature, /^[A-Za-z0-9_-]{43}$/);

  // A short or missing secret is refused without showing it.
  const short = await runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: 'hunter2' }).text.catch((e) => e);
  assert.ok(short instanceof ConfigError);
  assert.match(short.message, /'approvalSecret' must be a string of at least 32 characters, got 7 characters \(not shown\)/);
  assert.doesNotMatch(short.message, /hunter2/);

  // The AI SDK 7's name, experimental_toolApprovalSecret, is the same option: what one name signed, the other verifies.
  const aliased = [];
  const signedBy7 = await runPrompt({ model: recordingModel([[call('remove', 'c1', { path: '/tmp/c' })]]), prompt: 'Clean up.', tools: tools(ran), onApproval: () => 'defer', experimental_toolApprovalSecret: SECRET, onEvent: (e) => e.type === 'approval-decision' && aliased.push(e) });
  const turns = (await signedBy7.result.response).messages;
  const answer = { type: 'tool-approval-response', toolCallId: 'c1', approved: true, approvalId: aliased[0].request, signature: aliased[0].signature };
  assert.equal(await runPrompt({ model: recordingModel([[{ type: 'text', text: 'Removed c.' }]]), messages: [...turns, { role: 'tool', content: [answer] }], tools: tools(ran), approvalSecret: SECRET }).text, 'Removed c.');
  const shortSeven = await runPrompt({ model: recordingModel([]), prompt: 'x', experimental_toolApprovalSecret: 'hunter2' }).text.catch((e) => e);
  assert.match(shortSeven.message, /'experimental_toolApprovalSecret' must be a string of at least 32 characters, got 7 characters \(not shown\)/);
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: SECRET, experimental_toolApprovalSecret: SECRET }), (e) => /give 'experimental_toolApprovalSecret' or 'approvalSecret'/.test(e.message) && !e.message.includes(SECRET));
});

/**
 * A signed run that deferred `calls` (paths to remove, as calls c1, c2 ...): its messages, and each
 * call's approving response by call id.
 */
async function deferred(ran, paths) {
  const decisions = [];
  const first = await runPrompt({
    model: recordingModel([paths.map((path, i) => call('remove', `c${i + 1}`, { path }))]),
    prompt: 'Clean up.',
    tools: tools(ran),
    onApproval: () => 'defer',
    approvalSecret: SECRET,
    onEvent: (e) => e.type === 'approval-decision' && decisions.push(e),
  });
  const { messages } = await first.result.response;
  // Several calls' approvals are asked concurrently: their events may come in any order.
  const responses = Object.fromEntries(decisions.map((d) => [d.toolCallId, { type: 'tool-approval-response', toolCallId: d.toolCallId, approved: true, approvalId: d.request, signature: d.signature }]));
  return { messages, responses };
}

/** `messages` answered with `responses`, as the next request's runPrompt config. */
const answered = (ran, messages, responses, extra) => ({ model: recordingModel([[{ type: 'text', text: 'Removed.' }]]), messages: [...messages, { role: 'tool', content: responses }], tools: tools(ran), approvalSecret: SECRET, ...extra });

test('approvalStore: a signed decision runs its call once; a repeat is refused; configuration mistakes', async () => {
  const ran = [];
  const store = fileStorage(tempDir('lmthing-approvals-'));
  const { messages, responses } = await deferred(ran, ['/tmp/a', '/tmp/b']);
  const resume = () => runPrompt(answered(ran, messages, [responses.c1, responses.c2], { approvalStore: store })).text;

  assert.equal(await runPrompt(answered(ran, messages, [responses.c1, { ...responses.c2, approved: false }])).text, 'Removed.');
  assert.deepEqual(ran, ['/tmp/a'], 'without a store a decision is not recorded');
  ran.length = 0;
  assert.equal(await resume(), 'Removed.');
  assert.deepEqual(ran, ['/tmp/a', '/tmp/b']);
  await assert.rejects(resume(), (e) => e instanceof ConfigError && /messages\[2\]\.content\[0\]: the approval response for tool call "c1" was used by an earlier request \(approvalStore\): a decision answers its call once; ask the user again/.test(e.message));
  assert.deepEqual(ran, ['/tmp/a', '/tmp/b'], 'nothing ran again');
  assert.equal((await store.list('lmthing:approval:')).length, 2);

  // Configuration mistakes.
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalStore: store }).text, (e) => e instanceof ConfigError && /'approvalStore' needs 'approvalSecret'/.test(e.message));
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: SECRET, approvalStore: {} }).text, (e) => e instanceof ConfigError && /approvalStore: "storage" must be a storage adapter .*got an object without get, set, list, delete, compareAndSet/.test(e.message));
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: SECRET, approvalStor: store }).text, (e) => e instanceof ConfigError && /approvalStore/.test(e.message));
});

test('approvalStore: a request refused for one used decision releases the others it recorded', async () => {
  const ran = [];
  const store = memoryStorage();
  const { messages, responses } = await deferred(ran, ['/tmp/a', '/tmp/b']);
  // c2's decision is recorded as used (as by an earlier request that failed before the model).
  await store.compareAndSet(`lmthing:approval:${responses.c2.signature}`, null, { toolCallId: 'c2' });
  await assert.rejects(runPrompt(answered(ran, messages, [responses.c1, responses.c2], { approvalStore: store })).text, /messages\[2\]\.content\[1\]: the approval response for tool call "c2" was used by an earlier request/);
  assert.deepEqual(ran, []);
  assert.deepEqual(await store.list('lmthing:approval:'), [`lmthing:approval:${responses.c2.signature}`], 'c1\'s record was released');
});

test('approvalStore with a durable run: its first start uses the decision up; a replay of its journal goes on with it', async () => {
  const ran = [];
  const store = memoryStorage();
  const { messages, responses } = await deferred(ran, ['/tmp/a']);
  const durable = await runPrompt(answered(ran, messages, [responses.c1], { approvalStore: store, durable: { id: 'approved-once', storage: memoryStorage() } }));
  assert.equal(await durable.result.text, 'Removed.');
  await durable.prompt.finished;
  assert.deepEqual(ran, ['/tmp/a']);
  const model = { provider: 'scripted', modelId: 'scripted', generate: () => assert.fail('a replay does not call the model') };
  const replayed = await replay(durable.prompt.journal, () => {}, answered(ran, messages, [responses.c1], { approvalStore: store, model }));
  assert.equal(await replayed.result.text, 'Removed.');
  assert.deepEqual(ran, ['/tmp/a'], 'the replay ran nothing');
  // A new request with the same decision is refused.
  await assert.rejects(runPrompt(answered(ran, messages, [responses.c1], { approvalStore: store })).text, /was used by an earlier request \(approvalStore\)/);
});

/** A signed run that deferred one call to remove `path` (c1), with `extra` config; its messages and c1's approving response. */
async function deferredOne(ran, path, extra = {}) {
  const decisions = [];
  const first = await runPrompt({
    model: recordingModel([[call('remove', 'c1', { path })]]),
    prompt: 'Clean up.',
    tools: tools(ran),
    onApproval: () => 'defer',
    approvalSecret: SECRET,
    onEvent: (e) => e.type === 'approval-decision' && decisions.push(e),
    ...extra,
  });
  const { messages } = await first.result.response;
  const [d] = decisions;
  return { messages, response: { type: 'tool-approval-response', toolCallId: 'c1', approved: true, approvalId: d.request, signature: d.signature } };
}

const sleepMs = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('approvalTtlMs: a deferred call\'s signature carries its expiry; a response after it, or one without an expiry, is refused', async () => {
  const ran = [];
  const before = Date.now();
  const { messages, response } = await deferredOne(ran, '/tmp/a', { approvalTtlMs: 60_000 });
  const [, expiry] = response.signature.match(/^[A-Za-z0-9_-]{43}\.([0-9a-z]+)$/);
  const expiresAt = parseInt(expiry, 36);
  assert.ok(expiresAt >= before + 60_000 && expiresAt <= Date.now() + 60_000, `expires 60 s after the deferral, got ${expiresAt - before} ms`);

  // The expiry is covered by the signature: moved later, it is not this server's signature.
  const moved = { ...response, signature: response.signature.replace(/\.[0-9a-z]+$/, `.${(expiresAt + 3_600_000).toString(36)}`) };
  await assert.rejects(runPrompt(answered(ran, messages, [moved], { approvalTtlMs: 60_000 })).text, /tool call "c1" is not signed by this server \(approvalSecret\): its signature is not the signature of that call/);
  assert.deepEqual(ran, []);
  // In time: runs (a server without approvalTtlMs still checks the expiry the signature carries).
  assert.equal(await runPrompt(answered(ran, messages, [response], { approvalTtlMs: 60_000 })).text, 'Removed.');
  assert.equal(await runPrompt(answered(ran, messages, [response])).text, 'Removed.');
  assert.deepEqual(ran, ['/tmp/a', '/tmp/a']);

  // Too late: refused before anything runs, with and without approvalTtlMs on the server.
  ran.length = 0;
  const late = await deferredOne(ran, '/tmp/b', { approvalTtlMs: 1 });
  await sleepMs(10);
  for (const extra of [{ approvalTtlMs: 60_000 }, {}])
    await assert.rejects(runPrompt(answered(ran, late.messages, [late.response], extra)).text, (e) =>
      e instanceof ConfigError && /messages\[2\]\.content\[0\]: the approval response for tool call "c1" expired at \d{4}-\d\d-\d\dT[\d:.]+Z \(approvalTtlMs\): ask the user again/.test(e.message));
  assert.deepEqual(ran, []);

  // Signed without an expiry (before the server set approvalTtlMs): refused where approvals expire.
  const old = await deferredOne(ran, '/tmp/c');
  assert.match(old.response.signature, /^[A-Za-z0-9_-]{43}$/);
  await assert.rejects(runPrompt(answered(ran, old.messages, [old.response], { approvalTtlMs: 60_000 })).text, /tool call "c1" was signed without an expiry, and this server's approvals expire \(approvalTtlMs\): ask the user again/);
  assert.deepEqual(ran, []);

  // Configuration mistakes.
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalTtlMs: 1000 }).text, (e) => e instanceof ConfigError && /'approvalTtlMs' needs 'approvalSecret'/.test(e.message));
  for (const bad of [0, -5, 'soon', Infinity])
    await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: SECRET, approvalTtlMs: bad }).text, (e) => e instanceof ConfigError && /approvalTtlMs.*a number of milliseconds > 0/.test(e.message));
  await assert.rejects(runPrompt({ model: recordingModel([]), prompt: 'x', approvalSecret: SECRET, approvalTTLMs: 1000 }).text, (e) => e instanceof ConfigError && /did you mean 'approvalTtlMs'/.test(e.message));
});

test('approvalTtlMs with approvalStore: a used decision is recorded until a few minutes after it expires', async () => {
  const ran = [];
  // The store's clock starts at the real time; moving it on expires what it holds.
  let offset = 0;
  const store = memoryStorage({ clock: { now: () => Date.now() + offset } });
  const { messages, response } = await deferredOne(ran, '/tmp/a', { approvalTtlMs: 60_000 });
  assert.equal(await runPrompt(answered(ran, messages, [response], { approvalStore: store })).text, 'Removed.');
  const key = `lmthing:approval:${response.signature}`;
  assert.deepEqual(await store.list('lmthing:approval:'), [key]);
  offset = 60_000 + 4 * 60_000; // past the expiry, within the margin: still recorded
  assert.deepEqual(await store.list('lmthing:approval:'), [key]);
  offset = 60_000 + 6 * 60_000;
  assert.deepEqual(await store.list('lmthing:approval:'), [], 'gone a few minutes after its decision expired');

  // Without an expiry the record is kept.
  const old = await deferredOne(ran, '/tmp/b');
  offset = 0;
  assert.equal(await runPrompt(answered(ran, old.messages, [old.response], { approvalStore: store })).text, 'Removed.');
  offset = 10 * 365 * 86_400_000;
  assert.equal((await store.list('lmthing:approval:')).length, 1);
});

test('approvalTtlMs with a durable run: a replay after the decision expired goes on with it', async () => {
  const ran = [];
  // Long enough for the first start to come in time on a busy machine.
  const { messages, response } = await deferredOne(ran, '/tmp/a', { approvalTtlMs: 1500 });
  const durable = await runPrompt(answered(ran, messages, [response], { approvalTtlMs: 1500, durable: { id: 'expiring', storage: memoryStorage() } }));
  assert.equal(await durable.result.text, 'Removed.');
  await durable.prompt.finished;
  await sleepMs(parseInt(response.signature.split('.')[1], 36) - Date.now() + 20);
  const model = { provider: 'scripted', modelId: 'scripted', generate: () => assert.fail('a replay does not call the model') };
  const replayed = await replay(durable.prompt.journal, () => {}, answered(ran, messages, [response], { approvalTtlMs: 1500, model }));
  assert.equal(await replayed.result.text, 'Removed.');
  assert.deepEqual(ran, ['/tmp/a']);
  // A new request with it is refused: it has expired.
  await assert.rejects(runPrompt(answered(ran, messages, [response], { approvalTtlMs: 1500 })).text, /expired at/);
});
