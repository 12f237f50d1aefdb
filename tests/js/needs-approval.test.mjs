// The AI SDK's `needsApproval` on runPrompt's config tools (js/prompt/config-tools.ts): the call waits
// for the run's onApproval handler, always (true) or when the function of the arguments says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { mockModel, runPrompt, tool } from '../../dist/node.js';

const remove = (path, id) => ({ type: 'tool-call', toolCallId: id, toolName: 'remove', args: { path } });

test('needsApproval: true asks before every call; a denied call does not run and the model reads why', async () => {
  const model = mockModel([remove('/tmp/a', 'c1'), remove('/tmp/b', 'c2'), { type: 'text', text: 'done' }]);
  const ran = [];
  const asked = [];
  const { result } = await runPrompt({
    model,
    prompt: 'Clean up.',
    tools: { remove: { inputSchema: z.object({ path: z.string() }), execute: ({ path }) => (ran.push(path), 'removed'), needsApproval: true } },
    onApproval: (request) => (asked.push(request), asked.length === 1 ? 'approve' : 'deny'),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(ran, ['/tmp/a']);
  assert.equal(asked.length, 2);
  const [first, second] = (await result.steps).slice(0, 2).map((s) => JSON.stringify(s.toolResults[0]));
  assert.match(first, /removed/);
  assert.match(second, /den/i);
});

test('needsApproval as a function of the (zod-parsed) arguments asks only for the calls it names', async () => {
  const model = mockModel([remove('/tmp/a', 'c1'), remove('/etc/passwd', 'c2'), { type: 'text', text: 'done' }]);
  const decided = [];
  const asked = [];
  const ran = [];
  const { result } = await runPrompt({
    model,
    prompt: 'Clean up.',
    tools: {
      remove: tool({
        inputSchema: z.object({ path: z.string().transform((p) => p.toUpperCase()) }),
        execute: ({ path }) => (ran.push(path), 'removed'),
        needsApproval: ({ path }, { toolCallId }) => (decided.push(`${toolCallId} ${path}`), path.startsWith('/ETC')),
      }),
    },
    onApproval: (request) => (asked.push(request), 'approve'),
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual(decided, ['c1 /TMP/A', 'c2 /ETC/PASSWD']);
  assert.equal(asked.length, 1, 'only the call under /etc was asked about');
  assert.deepEqual(ran, ['/TMP/A', '/ETC/PASSWD']);
});

test('needsApproval: bad values and a clash with options.approval are refused', async () => {
  const model = mockModel([]);
  const base = { inputSchema: { type: 'object' }, execute: () => 'x' };
  await assert.rejects(runPrompt({ model, prompt: 'x', tools: { t: { ...base, needsApproval: 'yes' } } }).text, /tools\.t: 'needsApproval' must be/);
  await assert.rejects(
    runPrompt((ctx) => ctx.defApproval('mine', {}), { model, tools: { t: { ...base, needsApproval: true, options: { approval: 'mine' } } } }).text,
    /tools\.t: give 'needsApproval' or 'options\.approval', not both/,
  );
  await assert.rejects(runPrompt({ model, prompt: 'x', tools: { t: { ...base, needsAproval: true } } }).text, /did you mean 'needsApproval'/);
});

test('needsApproval on run(agent, {tools}): one tool({...}) serves both kinds of run', async () => {
  const { L, run } = await import('../../dist/node.js');
  const remover = tool({
    inputSchema: z.object({ path: z.string() }),
    execute: ({ path }) => `removed ${path}`,
    needsApproval: ({ path }) => path.startsWith('/etc'),
  });
  const model = mockModel([remove('/tmp/a', 'c1'), remove('/etc/hosts', 'c2'), { type: 'text', text: 'done' }]);
  const asked = [];
  const steps = [];
  const text = await run(function* () {
    yield* L.user`Clean up.`;
    return (yield* L.reply).value;
  }, { models: { default: model }, tools: { remove: remover }, onApproval: (request) => (asked.push(request), 'deny'), onStepFinish: (s) => steps.push(s) });
  assert.equal(text, 'done');
  assert.equal(asked.length, 1, 'only the /etc call was asked about');
  assert.match(JSON.stringify(steps[0].toolResults), /removed \/tmp\/a/);
  assert.doesNotMatch(JSON.stringify(steps[1].toolResults), /removed/);
});
