// runPrompt's experimental_steering (js/prompt/steering.ts, src/agent/steering.cpp): user messages
// sent while the run works join it at the next step boundary (queued ones after a final answer),
// each promise says which step got it or why none did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createSteering, experimental_createSteering, fromUIMessages, isStepCount, mockModel, runPrompt } from '../../dist/node.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const lookup = (onCall) => ({
  lookup: {
    description: 'Looks a city up',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    execute: async ({ city }) => {
      await onCall?.();
      return `${city}: sunny`;
    },
  },
});
const lastUser = (call) => call.messages.filter((m) => m.role === 'user').at(-1).content;

test('steer while a tool runs: the message joins the next step, after the tool results; the stream shows it before that step\'s output', async () => {
  const steering = createSteering();
  let outcome;
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: { city: 'Paris' } }, { type: 'text', text: 'Paris, Texas: hot' }]);
  const run = runPrompt({ model, prompt: 'Weather in Paris?', tools: lookup(() => void (outcome = steering.steer('I mean Paris, Texas.'))), experimental_steering: steering });
  assert.equal(await run.text, 'Paris, Texas: hot');
  assert.deepEqual(await outcome, { type: 'delivered', id: 'steering-1', message: { role: 'user', content: 'I mean Paris, Texas.' }, stepNumber: 1 });
  assert.deepEqual(model.calls[1].messages.slice(-3).map((m) => m.role), ['assistant', 'tool', 'user']);
  assert.equal(lastUser(model.calls[1]), 'I mean Paris, Texas.');
  assert.equal((await run.response).messages.filter((m) => m.role === 'user').length, 2, 'the conversation keeps it');
  const types = [];
  for await (const part of run.fullStream) types.push(part.type === 'step-start' ? `step-start ${part.stepNumber}` : part.type);
  const at = types.indexOf('steering-message');
  assert.ok(at > types.indexOf('step-start 1') && at < types.lastIndexOf('text-delta'), types.join(', '));
});

test('steer while the model gives its final answer: the run goes on for another step with the message', async () => {
  const steering = experimental_createSteering();
  const model = mockModel([{ type: 'text', text: 'Paris, France' }, { type: 'end-step' }, { type: 'text', text: 'Paris, Texas' }], { delayMs: 40 });
  const run = runPrompt({ model, prompt: 'Where?', experimental_steering: steering });
  await sleep(10);
  const outcome = steering.steer({ role: 'user', content: [{ type: 'text', text: 'The one in Texas.' }] }, { id: 'texas' });
  assert.equal(steering.steer('again', { id: 'texas' }), outcome, 'the same id gives the first message\'s outcome');
  assert.equal(await run.text, 'Paris, Texas');
  assert.equal(model.calls.length, 2);
  assert.deepEqual((await outcome).stepNumber, 1);
  assert.equal((await outcome).id, 'texas');
});

test('queue waits for a final answer; a message sent before the run starts joins the first step', async () => {
  const steering = createSteering();
  const early = steering.steer('Answer in French.');
  let queued;
  const model = mockModel([
    { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: { city: 'Oslo' } },
    { type: 'text', text: 'Il fait beau.' },
    { type: 'end-step' },
    { type: 'text', text: 'Et demain aussi.' },
  ]);
  const run = runPrompt({ model, prompt: 'Weather in Oslo?', tools: lookup(() => void (queued = steering.queue('And tomorrow?'))), experimental_steering: steering });
  assert.equal(await run.text, 'Et demain aussi.');
  assert.equal((await early).stepNumber, 0);
  assert.equal(lastUser(model.calls[0]), 'Answer in French.');
  assert.equal((await queued).stepNumber, 2, 'not at step 1 (after a tool step), but after the final answer');
  assert.equal(lastUser(model.calls[1]), 'Answer in French.');
  assert.equal(lastUser(model.calls[2]), 'And tomorrow?');
});

test('not delivered: a stop condition ends the run first, the run has ended, it was aborted', async () => {
  const steering = createSteering();
  let outcome;
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: { city: 'Rome' } }, { type: 'text', text: 'unused' }]);
  const run = runPrompt({ model, prompt: 'Rome?', tools: lookup(() => void (outcome = steering.steer('Also Milan.'))), stopWhen: isStepCount(1), experimental_steering: steering });
  await run.text;
  assert.equal(model.calls.length, 1);
  assert.deepEqual(await outcome, { type: 'not-delivered', id: 'steering-1', message: { role: 'user', content: 'Also Milan.' }, reason: 'stop-condition' });
  assert.equal((await steering.steer('too late')).reason, 'finished');

  const aborting = createSteering();
  const controller = new AbortController();
  const slow = runPrompt({ model: mockModel([{ type: 'text', text: 'x' }], { delayMs: 200 }), prompt: 'x', abortSignal: controller.signal, experimental_steering: aborting });
  await sleep(10);
  const pending = aborting.steer('hello?');
  controller.abort();
  await assert.rejects(slow.text);
  assert.equal((await pending).reason, 'aborted');
});

test('bad steering input is refused with what was expected; one object serves one run', async () => {
  const steering = createSteering();
  assert.throws(() => steering.steer(''), /steering.steer: the message is empty/);
  assert.throws(() => steering.queue({ role: 'system', content: 'x' }), (e) => e instanceof ConfigError && /expected a text or a user message \{role: 'user', content\}/.test(e.message));
  assert.throws(() => steering.steer('x', { id: 3 }), /options must be \{id\?: a non-empty string\}/);
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', experimental_steering: { steer() {} } }), /expected an object made by createSteering\(\)/);
  await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'x', experimental_steering: steering }).text;
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', experimental_steering: steering }), /a steering object serves one run/);
});

test('the UI message stream carries a steering message as the AI SDK\'s client reads it, and fromUIMessages makes it a user turn between the steps', async () => {
  const { readUIMessageStream, convertToModelMessages } = await import('ai');
  const steering = createSteering();
  const model = mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: { city: 'Paris' } }, { type: 'text', text: 'Hot.' }]);
  const run = runPrompt({ model, prompt: 'Weather in Paris?', tools: lookup(() => void steering.steer('I mean Paris, Texas.', { id: 's1' })), experimental_steering: steering });
  let finished;
  const stream = run.toUIMessageStream({ onFinish: (f) => void (finished = f) });
  let last;
  for await (const message of readUIMessageStream({ stream })) last = message;
  const steered = last.parts.find((p) => p.type === 'steering-message');
  assert.deepEqual(steered, { type: 'steering-message', id: 's1', parts: [{ type: 'text', text: 'I mean Paris, Texas.' }] });
  assert.deepEqual(JSON.parse(JSON.stringify(finished.responseMessage.parts)), JSON.parse(JSON.stringify(last.parts)), 'onFinish has the message the client built');
  const user = { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Weather in Paris?' }] };
  const ours = fromUIMessages([user, last]);
  assert.deepEqual(ours.map((m) => m.role), ['user', 'assistant', 'tool', 'user', 'assistant']);
  assert.deepEqual(ours[3].content, [{ type: 'text', text: 'I mean Paris, Texas.' }]);
  const theirs = await convertToModelMessages([user, last]);
  assert.deepEqual(theirs.map((m) => m.role), ours.map((m) => m.role), 'the AI SDK reads the same turns');
});
