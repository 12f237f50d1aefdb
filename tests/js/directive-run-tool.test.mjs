// runTool in directive runs (docs/orchestration.md, docs/directive-agents.md): a workflow step
// (wctx.runTool), a parallel task (ctx.runTool) and a tool implementation calling another tool
// reach the tools enabled in the run's root conversation — `run(agent, {tools})` and the root
// agent's `L.tool`s — through the same tool chain as the model's calls (retry, guards, events).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { L, mockModel, run, tool } from '../../dist/node.js';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };

test("a directive run's workflow steps, parallel tasks and tools reach its root conversation's tools through their chain", async () => {
  let definitions;
  let lookups = 0;
  const events = [];
  const out = await run(function* () {
    yield* L.tool('shout', 'Upper-cases', objectSchema, (args) => String(args.text).toUpperCase());
    const viaWorkflow = yield* L.call('start', {});
    return viaWorkflow;
  }, {
    models: { default: mockModel([]) },
    define: (ctx) => {
      definitions = ctx;
      ctx.defRetry('twice', { maxAttempts: 2, baseDelay: 1 });
      ctx.defWorkflow('wf', [
        { id: 'find', action: (wctx) => wctx.runTool('lookup', { q: 'x' }) },
        { id: 'loud', action: (wctx) => wctx.runTool('shout', { text: wctx.results.find }) },
      ]);
      ctx.defParallel('both', { a: () => ctx.runTool('lookup', { q: 'a' }), b: () => ctx.runTool('shout', { text: 'b' }) });
    },
    tools: {
      lookup: {
        description: 'Finds things; fails once',
        parameters: objectSchema,
        execute: (args) => {
          lookups += 1;
          if (lookups === 1) throw new Error('flaky');
          return `found ${args.q}`;
        },
        options: { retry: 'twice' },
      },
      start: {
        description: 'Runs the workflow and the parallel group',
        parameters: objectSchema,
        // A tool implementation calling the run's tools (through the workflow, the group and directly).
        execute: async () => {
          const workflow = await definitions.runWorkflow('wf');
          const group = await definitions.executeParallel('both');
          const direct = await definitions.runTool('shout', { text: 'direct' });
          return { workflow: workflow.output, group, direct };
        },
      },
    },
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(out, { workflow: 'FOUND X', group: { a: 'found a', b: 'B' }, direct: 'DIRECT' });
  assert.equal(lookups, 3, 'the first lookup was retried by its retry policy');
  const calls = events.filter((e) => e.type === 'tool-call' && e.stepNumber === null).map((e) => e.toolName);
  assert.deepEqual(calls.sort(), ['lookup', 'lookup', 'shout', 'shout', 'shout']);
  assert.ok(events.some((e) => e.type === 'retry'), 'a retry event of the lookup');
});

test('run(agent, {tools}) takes the config tools\' shape: inputSchema (or parameters), and a tool({...}) as it is', async () => {
  const shout = tool({ description: 'Shouts', inputSchema: { type: 'object', properties: { text: { type: 'string' } } }, execute: ({ text }) => text.toUpperCase() });
  const out = await run(function* () {
    return [yield* L.call('shout', { text: 'hi' }), yield* L.call('add', { a: 1 })];
  }, {
    models: { default: mockModel([]) },
    tools: { shout, add: { parameters: { type: 'object', properties: { a: { type: 'number' } } }, execute: ({ a }) => a + 1 } },
  });
  assert.deepEqual(out, ['HI', 2]);
  const refused = (tools) => run(function* () {}, { models: { default: mockModel([]) }, tools });
  await assert.rejects(refused({ t: { execute: () => 1 } }), { name: 'ConfigError', message: /config\.tools\.t: give the arguments' schema once, as 'parameters' \(or 'inputSchema'\)/ });
  await assert.rejects(refused({ t: { parameters: {}, inputSchema: {}, execute: () => 1 } }), { name: 'ConfigError', message: /give the arguments' schema once/ });
});
