// Orchestration features where they meet cancellation and the end of a run (docs/orchestration.md,
// docs/resilience.md): a pool's waiter whose step timed out, a batch item whose step timed out or
// whose run ended, a workflow's maxDuration during a step's retry wait, a rate-limit slot of a
// cancelled call, a parallel group's tasks that never started, resources used after the run.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BatchError, NotRunningError } from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `whileLive` (one tool call of `go` running `go(ctx, toolCtx)` in a live run), rethrowing what `go` threw. */
async function withTool(define, go) {
  const { value, error } = await whileLive(define, go);
  if (error) throw error;
  return value;
}

test("a pool value released after a waiting step timed out goes to the next caller, not to the step that left", async () => {
  const got = [];
  const out = await withTool(
    (ctx) => {
      ctx.defResourcePool('conn', () => ({ id: 1 }), { max: 1, acquireTimeout: 2000 });
      ctx.defWorkflow('wf', [{ id: 'wait', timeout: 100, action: async (w) => got.push((await w.resources.acquire('conn')).id) }]);
    },
    async (ctx, { resources }) => {
      const holder = resources.use('conn', () => sleep(400));
      await sleep(20);
      const failed = await ctx.runWorkflow('wf', {}).then(() => 'resolved', (e) => e.message);
      await holder;
      const started = Date.now();
      const value = await resources.acquire('conn');
      const waited = Date.now() - started;
      await resources.release('conn', value);
      return { failed, waited };
    },
  );
  assert.match(out.failed, /step "wait" timed out after 100 ms/);
  assert.ok(out.waited < 500, `the value was free at once (waited ${out.waited} ms, acquireTimeout 2000)`);
  assert.deepEqual(got, [], 'the step that timed out never got the value');
});

test('a pool value whose factory was still running when its caller left stays in the pool', async () => {
  let created = 0;
  const out = await withTool(
    (ctx) => {
      ctx.defResourcePool('conn', async () => (await sleep(150), { id: ++created }), { max: 1, acquireTimeout: 1000 });
      ctx.defWorkflow('wf', [{ id: 's', timeout: 50, action: (w) => w.resources.acquire('conn') }]);
    },
    async (ctx, { resources }) => {
      await ctx.runWorkflow('wf', {}).catch(() => {});
      await sleep(200); // the factory has answered by now
      const value = await resources.acquire('conn');
      await resources.release('conn', value);
      return value.id;
    },
  );
  assert.equal(out, 1);
  assert.equal(created, 1, 'the value made for the caller that left is the one the next caller gets');
});

test("a batch item of a step that timed out is not processed; its promise rejects with the step's timeout", async () => {
  const processed = [];
  const out = await withTool(
    (ctx) => {
      ctx.defBatcher('b', { maxSize: 10, maxWait: 200, processor: async (items) => (processed.push(...items), items) });
      ctx.defWorkflow('wf', [{ id: 'a', timeout: 50, action: () => ctx.batch('b', 'from the step') }]);
    },
    async (ctx) => {
      const failed = await ctx.runWorkflow('wf', {}).then(() => 'resolved', (e) => e.message);
      const later = await ctx.batch('b', 'later');
      return { failed, later };
    },
  );
  assert.match(out.failed, /step "a" timed out after 50 ms/);
  assert.equal(out.later, 'later');
  assert.deepEqual(processed, ['later']);
});

test('a batch item still waiting when its run ends fails at once with BATCH_RUN_ENDED; the processor is not called', async () => {
  let pending;
  let calls = 0;
  await withTool(
    (ctx) => ctx.defBatcher('b', { maxSize: 10, maxWait: 5000, processor: async (items) => (calls++, items) }),
    (ctx) => {
      pending = ctx.batch('b', 1);
      pending.catch(() => {});
    },
  );
  const started = Date.now();
  const error = await pending.then(() => undefined, (e) => e);
  assert.ok(error instanceof BatchError, String(error));
  assert.equal(error.code, 'BATCH_RUN_ENDED');
  assert.match(error.message, /batcher "b": the run that defines it ended before the batch of 1 item waiting for it was processed/);
  assert.ok(Date.now() - started < 1000, 'not after maxWait');
  assert.equal(calls, 0);
});

test("a workflow's maxDuration ends it while a step waits to retry", async () => {
  const out = await withTool(
    (ctx) => {
      ctx.defRetry('patient', { maxAttempts: 3, backoff: 'constant', baseDelay: 3000 });
      ctx.defWorkflow('wf', [{ id: 's', retry: 'patient', action: async () => { throw new Error('flaky'); } }], { maxDuration: 300 });
    },
    async (ctx) => {
      const started = Date.now();
      const error = await ctx.runWorkflow('wf', {}).then(() => undefined, (e) => e);
      return { error, ms: Date.now() - started };
    },
  );
  assert.equal(out.error?.name, 'TimeoutError');
  assert.match(out.error.message, /workflow "wf" exceeded its maxDuration of 300 ms/);
  assert.ok(out.ms < 1500, `ended at the deadline, not after the 3 s retry wait (${out.ms} ms)`);
});

test('a call cancelled while it waits for a rate-limit slot gives the slot back', async () => {
  const starts = [];
  const out = await withTool(
    (ctx) => {
      ctx.defConstraint('rps', 'rate', { requests: 1, period: 1000, scope: 'tool' });
      ctx.defTool('api', 'api', objectSchema, async () => (starts.push(Date.now()), 'ok'));
      ctx.defParallel('g', { x: () => ctx.runTool('api', {}) }, { timeout: 100 });
    },
    async (ctx) => {
      await ctx.runTool('api', {}); // the slot after go's own
      await ctx.executeParallel('g').catch(() => {}); // waits for the next slot and is cancelled first
      await ctx.runTool('api', {});
    },
  );
  assert.equal(out, undefined);
  assert.equal(starts.length, 2);
  const gap = starts[1] - starts[0];
  assert.ok(gap < 1500, `the third tool call took the cancelled call's slot, a period after the second (${gap} ms)`);
});

test("a parallel group's timeout names the tasks that never started as such", async () => {
  const started = [];
  const task = (name) => async (_input, { abortSignal }) => {
    started.push(name);
    await new Promise((resolve) => abortSignal.addEventListener('abort', resolve));
  };
  const message = await withTool(
    (ctx) => ctx.defParallel('g', { a: task('a'), b: task('b') }, { concurrency: 1, timeout: 100, minSuccess: 1 }),
    (ctx) => ctx.executeParallel('g').then(() => 'resolved', (e) => e.message),
  );
  assert.deepEqual(started, ['a']);
  assert.match(message, /a: parallel "g": the task was still running after the group's timeout of 100 ms/);
  assert.match(message, /b: parallel "g": the group's timeout of 100 ms passed before the task could start \(concurrency 1\)/);
});

test('resources used after their run ended are a NotRunningError', async () => {
  let saved;
  await withTool(
    (ctx) => {
      ctx.defResource('db', 'a database', { initialize: () => ({}) });
      ctx.defResourcePool('conn', () => ({}), { max: 1 });
    },
    (_ctx, toolCtx) => {
      saved = toolCtx.resources;
    },
  );
  for (const call of [() => saved.get('db'), () => saved.acquire('conn'), () => saved.use('conn', () => 1)])
    await assert.rejects(call(), (e) => e instanceof NotRunningError && /works only while the run that called this tool or step is live/.test(e.message));
});
