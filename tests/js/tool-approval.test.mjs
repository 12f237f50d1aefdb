// The AI SDK 7's toolApproval on runPrompt (js/prompt/tool-approval.ts): per call of the config's
// tools, 'approved' runs it, 'denied' refuses it without asking (the model reads the reason),
// 'user-approval' waits for onApproval, 'not-applicable' leaves it to the tool's needsApproval;
// it takes precedence over needsApproval; bad configs and statuses are refused clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, mockModel, runPrompt } from '../../dist/node.js';

const call = (toolName, path, id) => ({ type: 'tool-call', toolCallId: id, toolName, args: { path } });
const fileTool = (ran, extra = {}) => ({ inputSchema: z.object({ path: z.string() }), execute: ({ path }) => (ran.push(path), `done ${path}`), ...extra });

test('a per-tool toolApproval: approved runs without asking (over needsApproval), user-approval asks, denied never runs and the model reads why', async () => {
  const ran = [];
  const asked = [];
  const { result } = await runPrompt({
    model: mockModel([call('read', '/a', 'c1'), call('remove', '/b', 'c2'), call('wipe', '/', 'c3'), { type: 'text', text: 'finished' }]),
    prompt: 'Tidy up.',
    tools: { read: fileTool(ran, { needsApproval: true }), remove: fileTool(ran), wipe: fileTool(ran) },
    toolApproval: { read: 'approved', remove: 'user-approval', wipe: { type: 'denied', reason: 'wiping is never allowed' } },
    onApproval: (request) => (asked.push(request.context?.toolName ?? request.toolName), 'approve'),
  });
  assert.equal(await result.text, 'finished');
  assert.deepEqual(ran, ['/a', '/b']);
  assert.deepEqual(asked, ['remove']);
  const steps = await result.steps;
  assert.match(JSON.stringify(steps[2].toolResults[0]), /wiping is never allowed/);
});

test('a toolApproval function decides per call; not-applicable (or nothing) leaves the call to needsApproval', async () => {
  const ran = [];
  const asked = [];
  const seen = [];
  const { result } = await runPrompt({
    model: mockModel([call('remove', '/tmp/x', 'c1'), call('remove', '/etc/y', 'c2'), call('remove', '/home/z', 'c3'), { type: 'text', text: 'ok' }]),
    prompt: 'Clean.',
    tools: { remove: fileTool(ran, { needsApproval: ({ path }) => path.startsWith('/home') }) },
    toolApproval: ({ toolCall }) => {
      seen.push(`${toolCall.toolCallId} ${toolCall.toolName} ${toolCall.input.path}`);
      if (toolCall.input.path.startsWith('/tmp')) return 'approved';
      if (toolCall.input.path.startsWith('/etc')) return { type: 'denied' };
      return 'not-applicable';
    },
    onApproval: () => (asked.push('asked'), 'deny'),
  });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(seen, ['c1 remove /tmp/x', 'c2 remove /etc/y', 'c3 remove /home/z']); // once per call
  assert.deepEqual(ran, ['/tmp/x']);
  assert.deepEqual(asked, ['asked']); // /home/z: needsApproval asked, the handler denied
  const steps = await result.steps;
  assert.match(JSON.stringify(steps[1].toolResults[0]), /the call of tool \\"remove\\" was denied/);
});

test('toolApproval: an unknown tool, no tools, a clash with options.approval, or a bad status are refused', async () => {
  const model = () => mockModel([call('remove', '/a', 'c1'), { type: 'text', text: 'x' }]);
  const tools = { remove: fileTool([]) };
  await assert.rejects(runPrompt({ model: model(), prompt: 'x', tools, toolApproval: { remuve: 'approved' } }).text, (e) =>
    e instanceof ConfigError && /toolApproval: unknown tool "remuve" \(did you mean "remove"\?/.test(e.message),
  );
  await assert.rejects(runPrompt({ model: model(), prompt: 'x', tools, toolApproval: { remove: 'maybe' } }).text, (e) => e instanceof ConfigError && /toolApproval\.remove must return 'approved', 'denied'/.test(e.message));
  await assert.rejects(runPrompt({ model: model(), prompt: 'x', toolApproval: () => 'approved' }).text, (e) => e instanceof ConfigError && /'toolApproval' decides about the config's 'tools', and it has none/.test(e.message));
  await assert.rejects(runPrompt({ model: model(), prompt: 'x', tools, toolApproval: 'approved' }).text, (e) => e instanceof ConfigError && /toolApproval/.test(e.message));
  await assert.rejects(
    runPrompt((ctx) => ctx.defApproval('mine', {}), { model: model(), tools: { remove: fileTool([], { options: { approval: 'mine' } }) }, toolApproval: () => 'approved' }).text,
    (e) => e instanceof ConfigError && /cannot have 'options\.approval' too/.test(e.message),
  );
  // A status it cannot read at run time refuses the call (fail closed), and the model reads why.
  const ran = [];
  const run = runPrompt({ model: model(), prompt: 'x', tools: { remove: fileTool(ran) }, toolApproval: () => 'yes' });
  assert.equal(await run.text, 'x');
  assert.deepEqual(ran, []);
  const [step] = await run.steps;
  assert.match(step.toolResults[0].result.message, /toolApproval \(tool "remove"\) must return 'approved', 'denied', 'user-approval', 'not-applicable' \(or \{type, reason\}\) or nothing, got the string "yes"/);
  // A slip of a status names the one meant.
  const slip = runPrompt({ model: model(), prompt: 'x', tools: { remove: fileTool(ran) }, toolApproval: () => 'aproved' });
  assert.equal(await slip.text, 'x');
  assert.deepEqual(ran, []);
  assert.match((await slip.steps)[0].toolResults[0].result.message, /got the string "aproved" \(did you mean 'approved'\?\)/);
});

test('user-approval deferred to the next request: the run ends with the call pending; the approved call runs on resume, before the model is asked', async () => {
  const ran = [];
  const decided = [];
  const fileTools = () => ({ remove: fileTool(ran), list: fileTool(ran) });
  const toolApproval = ({ toolCall }) => (decided.push(toolCall.toolCallId), toolCall.toolName === 'remove' ? 'user-approval' : 'approved');
  const first = await runPrompt({
    model: mockModel([call('remove', '/tmp/a', 'c1')]),
    prompt: 'Clean up.',
    tools: fileTools(),
    toolApproval,
    onApproval: () => 'defer',
  });
  assert.equal(await first.result.finishReason, 'tool-calls');
  assert.deepEqual(ran, [], 'the call waits');
  const { messages } = await first.result.response;
  const decision = { type: 'tool-approval-response', toolCallId: 'c1', approved: true, approvalId: 'ap-1' };
  const asked = [];
  const resumed = await runPrompt({
    model: mockModel([{ type: 'text', text: 'Removed.' }]),
    messages: [...messages, { role: 'tool', content: [decision] }],
    tools: fileTools(),
    toolApproval,
    onApproval: () => (asked.push('asked'), 'deny'),
  });
  assert.equal(await resumed.result.text, 'Removed.');
  assert.deepEqual(ran, ['/tmp/a']);
  assert.deepEqual(asked, [], 'the decision came with the messages');
  assert.deepEqual(decided, ['c1', 'c1'], 'asked again on resume, where it still says user-approval');
});
