// Cancellation scopes through the package (docs/orchestration.md): what a workflow step or a
// parallel task starts with wctx.runTool / ctx.runTool / ctx.runAgent is cancelled with the step or
// task itself: the tool's abortSignal fires with the reason, a sub-agent's model call sees its
// signal abort, and nothing of the cancelled call (a tool-result event) lands afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError, WorkflowError } from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A tool that ignores its signal and answers late, recording what its signal said meanwhile.
function lateTool(ctx, seen, ms = 300) {
  ctx.defTool('late', 'answers late', objectSchema, async (_args, { abortSignal }) => {
    abortSignal.addEventListener('abort', () => seen.push({ aborted: abortSignal.aborted, reason: abortSignal.reason }));
    await sleep(ms);
    return 'late answer';
  });
}

test("a step's timeout cancels the tool it called with wctx.runTool: its abortSignal fires; no tool-result lands after", async () => {
  const seen = [];
  const { value, events } = await whileLive(
    (ctx) => {
      lateTool(ctx, seen);
      ctx.defWorkflow('wf', [{ id: 'call', action: (wctx) => wctx.runTool('late', {}), timeout: 50 }]);
    },
    async (ctx) => {
      const error = await ctx.runWorkflow('wf').then(() => undefined, (e) => e);
      await sleep(400); // the run stays live past the moment the tool answers
      return { error };
    },
  );
  assert.ok(value.error instanceof WorkflowError, String(value.error));
  assert.equal(seen.length, 1, 'the tool was told to stop');
  assert.equal(seen[0].aborted, true);
  assert.ok(seen[0].reason instanceof AbortError);
  assert.match(seen[0].reason.message, /timed out after 50 ms/);
  const late = events.filter((e) => e.type === 'tool-result' && e.toolName === 'late');
  assert.deepEqual(late, []);
  assert.ok(events.some((e) => e.type === 'tool-call' && e.toolName === 'late'));
});

test('ctx.runTool inside a parallel task is cancelled with the task when another task wins a first race', async () => {
  const seen = [];
  const { value, error, events } = await whileLive(
    (ctx) => {
      lateTool(ctx, seen, 800);
      ctx.defParallel('race', {
        slow: async () => ctx.runTool('late', {}),
        fast: async () => {
          await sleep(200);
          return 'fast';
        },
      }, { aggregation: 'first' });
    },
    async (ctx) => {
      const winner = await ctx.executeParallel('race');
      await sleep(900);
      return winner;
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(value, 'fast');
  assert.equal(seen.length, 1);
  assert.match(seen[0].reason.message, /decided without this task/);
  assert.deepEqual(events.filter((e) => e.type === 'tool-result' && e.toolName === 'late'), []);
});

test("a losing task's sub-agent (ctx.runAgent) is cancelled: its model call sees its abort signal", async () => {
  const signals = [];
  const slowModel = {
    provider: 'test',
    modelId: 'slow',
    async generate(_request, { signal } = {}) {
      signals.push(signal);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 2000);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (signal?.aborted) throw signal.reason;
      return { content: [{ type: 'text', text: 'too late' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  let agentError;
  const started = performance.now();
  const { value, error } = await whileLive(
    (ctx) => {
      ctx.defAgent('helper', 'helps slowly', objectSchema, (_args, agentCtx) => agentCtx.$`help`, { model: slowModel });
      ctx.defParallel('race', {
        slow: async () => ctx.runAgent('helper', {}).catch((e) => {
          agentError = e;
          throw e;
        }),
        fast: async () => {
          await sleep(300);
          return 'fast';
        },
      }, { aggregation: 'first' });
    },
    async (ctx) => {
      const winner = await ctx.executeParallel('race');
      await sleep(100);
      return winner;
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(value, 'fast');
  assert.equal(signals.length, 1, 'the sub-agent called its model');
  assert.equal(signals[0].aborted, true);
  assert.ok(agentError instanceof AbortError, String(agentError));
  assert.ok(performance.now() - started < 1500, 'the sub-agent did not run to its end');
});
