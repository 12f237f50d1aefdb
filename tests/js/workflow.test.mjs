// defWorkflow / ctx.runWorkflow through the package (docs/orchestration.md): the proposal's
// codeReview example and Integration Example 1's workflow as written (with mockModel), typed
// errors (a failed step, the loop bound, maxDuration), wctx (state, results, runTool through the
// tool's pipeline, runAgent, requestApproval, emit), a dependsOn DAG, and strict config.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, mockModel, NotRunningError, runPrompt, TimeoutError, WorkflowError } from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const filesSchema = { type: 'object', properties: { files: { type: 'array', items: { type: 'string' } } }, required: ['files'] };


function analyzerAgent(ctx, answer, seen = []) {
  ctx.defAgent('codeAnalyzer', 'Analyze code quality', filesSchema, (args, agentCtx) => {
    seen.push(args);
    agentCtx.$`Analyze code quality for: ${args.files.join(', ')}`;
  }, {
    model: mockModel([{ type: 'text', text: JSON.stringify(answer) }]),
    responseSchema: { type: 'object', properties: { score: { type: 'number' } }, required: ['score'] },
  });
}

test("the proposal's codeReview workflow runs as written: agent, condition, tools, routing", async () => {
  const calls = [];
  const analyzed = [];
  const { value, error, events } = await whileLive(
    (ctx) => {
      analyzerAgent(ctx, { score: 5, issues: ['naming'] }, analyzed);
      ctx.defTool('suggestImprovements', 'Suggest improvements', objectSchema, (args) => {
        calls.push(['suggestImprovements', args]);
        return { patches: ['rename x'] };
      });
      ctx.defTool('applyPatches', 'Apply patches', objectSchema, (args) => {
        calls.push(['applyPatches', args]);
        return { applied: args.patches.length };
      });
      // --- as in lmthing-next-features.md §2 ---
      ctx.defWorkflow('codeReview', [
        {
          id: 'analyze',
          action: async (wctx) => {
            return await wctx.runAgent('codeAnalyzer', { files: wctx.state.files });
          },
          onSuccess: 'checkQuality',
          onError: 'reportError'
        },
        {
          id: 'checkQuality',
          condition: (wctx) => wctx.results.analyze.score < 7,
          action: async (wctx) => {
            return await wctx.runTool('suggestImprovements', wctx.results.analyze);
          },
          onSuccess: 'applyFixes',
          onError: 'requestHumanReview'
        },
        {
          id: 'applyFixes',
          action: async (wctx) => {
            return await wctx.runTool('applyPatches', wctx.results.checkQuality);
          },
          retries: 3,
          timeout: 30000
        },
        // The example routes to these two; they must exist (an unknown id is a ConfigError). Being
        // onError targets, they are handlers: they run only when a step fails into them.
        { id: 'reportError', action: async (wctx) => ({ failed: wctx.error?.message }) },
        { id: 'requestHumanReview', action: async () => ({ review: 'requested' }) },
      ], { maxDuration: 300000 });
    },
    (ctx) => ctx.runWorkflow('codeReview', { files: ['src/a.ts', 'src/b.ts'] }),
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(analyzed, [{ files: ['src/a.ts', 'src/b.ts'] }]);
  assert.deepEqual(calls, [
    ['suggestImprovements', { score: 5, issues: ['naming'] }],
    ['applyPatches', { patches: ['rename x'] }],
  ]);
  // reportError and requestHumanReview are onError targets: handlers run only when routed to.
  assert.deepEqual(value.steps.map((s) => `${s.id}:${s.status}`), ['analyze:success', 'checkQuality:success', 'applyFixes:success']);
  assert.deepEqual(value.results.applyFixes, { applied: 1 });
  const types = events.map((e) => e.type);
  assert.ok(types.includes('workflow-start') && types.includes('workflow-finish'));
});

test('a false condition skips the step and its route; a good score goes straight on', async () => {
  const ran = [];
  const { value } = await whileLive(
    (ctx) => {
      analyzerAgent(ctx, { score: 9 });
      ctx.defWorkflow('review', [
        { id: 'analyze', action: (wctx) => wctx.runAgent('codeAnalyzer', { files: wctx.input.files }) },
        { id: 'improve', condition: (wctx) => wctx.results.analyze.score < 7, action: () => ran.push('improve'), onSuccess: 'improve' },
        { id: 'ship', action: () => 'shipped' },
      ]);
    },
    (ctx) => ctx.runWorkflow('review', { files: ['a.ts'] }),
  );
  assert.deepEqual(ran, []);
  assert.deepEqual(value.steps.map((s) => s.status), ['success', 'skipped', 'success']);
  assert.equal(value.output, 'shipped');
});

test("Integration Example 1's workflow: agent, approval, then the tool through its pipeline", async () => {
  const written = [];
  const approvals = [];
  const { value, error } = await whileLive(
    (ctx) => {
      analyzerAgent(ctx, { score: 4, changesNeeded: true, changes: { path: 'a.ts', content: 'fixed' } });
      ctx.defApproval('destructiveOp', { message: (c) => `About to modify ${c.path}. Continue?`, timeout: 30000 });
      ctx.defGuard('safePath', ({ path }) => !path.startsWith('/'), { onFail: 'throw' });
      ctx.defTool('writeFile', 'Write to file', { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] }, (args) => {
        written.push(args);
        return { success: true };
      }, { guards: ['safePath'] });
      // --- as in lmthing-next-features.md, Integration Example 1 ---
      ctx.defWorkflow('codeReviewWorkflow', [
        {
          id: 'analyze',
          action: async (wctx) => wctx.runAgent('codeAnalyzer', { files: wctx.state.files })
        },
        {
          id: 'requestApproval',
          condition: (wctx) => wctx.results.analyze.changesNeeded,
          action: async (wctx) => wctx.requestApproval('destructiveOp', wctx.results.analyze)
        },
        {
          id: 'applyChanges',
          action: async (wctx) => wctx.runTool('writeFile', wctx.results.analyze.changes)
        }
      ]);
    },
    (ctx) => ctx.runWorkflow('codeReviewWorkflow', { files: ['a.ts'] }),
    { onApproval: (request) => { approvals.push(request); return { action: 'approve' }; } },
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(approvals.length, 1);
  assert.equal(value.results.requestApproval.action, 'approve');
  assert.deepEqual(written, [{ path: 'a.ts', content: 'fixed' }]);
  assert.deepEqual(value.output, { success: true });
});

test('runAgent gives an agent answer that is one JSON object parsed; other text stays text', async () => {
  const answers = ['{"changesNeeded": true, "files": ["a.ts"]}', 'The code looks fine.', '[1, 2]'];
  const { value, error } = await whileLive(
    (ctx) => ctx.defAgent('analyst', 'Analyze', objectSchema, (_args, agentCtx) => agentCtx.$`go`, {
      model: mockModel(answers.flatMap((text) => [{ type: 'text', text }, { type: 'end-step' }])),
    }),
    async (ctx) => {
      const out = [];
      for (let i = 0; i < answers.length; i++) out.push(await ctx.runAgent('analyst', {}));
      return out;
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(value, [{ changesNeeded: true, files: ['a.ts'] }, 'The code looks fine.', '[1, 2]']);
});

test("a step's runTool is a tool call in the events (tool-call, then tool-result or tool-error; no step number)", async () => {
  const { value, events } = await whileLive(
    (ctx) => {
      ctx.defTool('ok', 'works', objectSchema, () => 'fine');
      ctx.defTool('broken', 'fails', objectSchema, () => { throw new Error('disk full'); });
      ctx.defWorkflow('w', [
        { id: 'first', action: (wctx) => wctx.runTool('ok', { n: 1 }) },
        { id: 'second', action: (wctx) => wctx.runTool('broken', {}), onError: 'handled' },
        { id: 'handled', action: (wctx) => wctx.error.message },
      ]);
    },
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.match(value.output, /disk full/);
  const calls = events.filter((e) => ['tool-call', 'tool-result', 'tool-error'].includes(e.type) && e.toolName !== 'go');
  assert.deepEqual(calls.map((e) => `${e.type} ${e.toolName} ${e.stepNumber}`), ['tool-call ok null', 'tool-result ok null', 'tool-call broken null', 'tool-error broken null']);
  assert.equal(calls[1].result, 'fine');
  assert.equal(calls[1].toolCallId, calls[0].toolCallId);
  assert.match(calls[3].error, /disk full/);
});

test("runTool and runAgent check the arguments against the tool's parameters, as a model's call is checked: the tool does not run", async () => {
  const ran = [];
  const echo = { type: 'object', properties: { x: { type: 'string' } }, required: ['x'] };
  const define = (ctx) => {
    ctx.defTool('echo', 'echoes', echo, ({ x }) => (ran.push(x), x));
    ctx.defAgent('helper', 'helps', echo, (sub) => sub.$`help`, { model: mockModel([{ type: 'text', text: 'helped' }]) });
  };
  // It used to call the tool with {x: 5}.
  const { error, events } = await whileLive(define, (ctx) => ctx.runTool('echo', { x: 5 }));
  assert.equal(error?.name, 'ValidationError', String(error));
  assert.equal(error.message, 'invalid arguments for tool "echo": /x: must be string');
  assert.deepEqual(ran, []);
  assert.deepEqual(events.filter((e) => e.toolName === 'echo').map((e) => e.type), ['tool-call', 'tool-error']);
  const agent = await whileLive(define, (ctx) => ctx.runAgent('helper', {}));
  assert.match(String(agent.error?.message), /^invalid arguments for tool "helper": .*x/);
  // A workflow step's call can route the refusal to onError; right arguments still run.
  const { value } = await whileLive(
    (ctx) => {
      define(ctx);
      ctx.defWorkflow('w', [
        { id: 'bad', action: (wctx) => wctx.runTool('echo', {}), onError: 'fix' },
        { id: 'fix', action: (wctx) => wctx.runTool('echo', { x: `after: ${wctx.error.message}` }) },
      ]);
    },
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.match(value.output, /^after: .*invalid arguments for tool "echo"/);
  assert.equal(ran.length, 1);
});

test('runTool and runAgent name themselves in their errors (not the protocol command behind them)', async () => {
  const define = (ctx) => ctx.defTool('echo', 'echoes', objectSchema, () => 'x');
  const tool = await whileLive(define, (ctx) => ctx.runTool('ecoh', {}));
  assert.equal(tool.error?.message, 'runTool: unknown tool or agent "ecoh" (did you mean "echo"? defined: echo, go)');
  const agent = await whileLive(define, (ctx) => ctx.runAgent('', {}));
  assert.match(String(agent.error?.message), /^runAgent: "name" must be a non-empty string/);
  const { value } = await whileLive(
    (ctx) => (define(ctx), ctx.defWorkflow('w', [{ id: 'a', action: (wctx) => wctx.runTool('ecoh', {}), onError: 'b' }, { id: 'b', action: (wctx) => wctx.error.message }])),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.match(value.output, /runTool: unknown tool or agent "ecoh"/);
});

test('an analyzer failure routes to reportError, which ends the workflow', async () => {
  const { value } = await whileLive(
    (ctx) => {
      ctx.defTool('analyzeTool', 'fails', objectSchema, () => { throw new Error('parser crashed'); });
      ctx.defWorkflow('codeReview', [
        { id: 'analyze', action: (wctx) => wctx.runTool('analyzeTool', {}), onSuccess: 'fix', onError: 'reportError' },
        { id: 'fix', action: () => assert.fail('not after a failure') },
        { id: 'reportError', action: (wctx) => ({ failed: wctx.error.step, why: wctx.error.message }) },
      ]);
    },
    (ctx) => ctx.runWorkflow('codeReview'),
  );
  assert.deepEqual(value.steps.map((s) => `${s.id}:${s.status}`), ['analyze:error', 'reportError:success']);
  assert.equal(value.output.failed, 'analyze');
  assert.match(value.output.why, /parser crashed/);
});

test("a workflow's tool calls reach guards that read state (g.state)", async () => {
  let used = 0;
  const { value } = await whileLive(
    (ctx) => {
      ctx.defState('quota', { left: 1 });
      ctx.defGuard('hasQuota', (g) => g.state.quota.left > 0, { onFail: 'throw' });
      ctx.defTool('use', 'Uses quota', objectSchema, () => {
        used++;
        ctx.setState('quota', { left: ctx.getState('quota').left - 1 });
        return 'used';
      }, { guards: ['hasQuota'] });
      ctx.defWorkflow('twice', [
        { id: 'first', action: (wctx) => wctx.runTool('use', {}) },
        { id: 'second', action: (wctx) => wctx.runTool('use', {}), onError: 'refused' },
        { id: 'refused', action: (wctx) => `refused: ${wctx.error.kind}` },
      ]);
    },
    (ctx) => ctx.runWorkflow('twice'),
  );
  assert.equal(used, 1);
  assert.deepEqual(value.steps.map((s) => `${s.id}:${s.status}`), ['first:success', 'second:error', 'refused:success']);
  assert.equal(value.output, 'refused: guard');
});

test('runTool goes through the tool pipeline: a guard refusal fails the step, which routes to onError', async () => {
  const { value } = await whileLive(
    (ctx) => {
      ctx.defGuard('noRoot', ({ path }) => path !== '/', { onFail: 'throw' });
      ctx.defTool('rm', 'remove', { type: 'object', properties: { path: { type: 'string' } } }, () => assert.fail('the guard must stop it'), { guards: ['noRoot'] });
      ctx.defWorkflow('clean', [
        { id: 'remove', action: (wctx) => wctx.runTool('rm', { path: '/' }), onError: 'explain' },
        { id: 'explain', action: (wctx) => `refused: ${wctx.error.kind}` },
      ]);
    },
    (ctx) => ctx.runWorkflow('clean'),
  );
  assert.equal(value.output, 'refused: guard');
  assert.equal(value.steps[0].status, 'error');
});

test('state is shared across steps; results by id; wctx.emit reaches the run events', async () => {
  const { value, events } = await whileLive(
    (ctx) => {
      ctx.defWorkflow('count', [
        { id: 'one', action: (wctx) => { wctx.state.n = 1; return 'a'; } },
        { id: 'two', action: async (wctx) => { wctx.state.n += 1; await wctx.emit({ progress: wctx.state.n }); return wctx.results.one + 'b'; } },
      ]);
    },
    (ctx) => ctx.runWorkflow('count', { start: true }),
  );
  assert.deepEqual(value.state, { start: true, n: 2 });
  assert.equal(value.output, 'ab');
  const custom = events.filter((e) => e.type === 'workflow-event');
  assert.deepEqual(custom.map((e) => [e.step, e.data]), [['two', { progress: 2 }]]);
});

test('a failed step without onError rejects with WorkflowError naming the step and the cause', async () => {
  const { error } = await whileLive(
    (ctx) => ctx.defWorkflow('w', [{ id: 'ok', action: () => 1 }, { id: 'boom', action: () => { throw new Error('disk full'); } }]),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.ok(error instanceof WorkflowError, String(error));
  assert.equal(error.code, 'WORKFLOW_STEP_FAILED');
  assert.equal(error.step, 'boom');
  assert.equal(error.workflow, 'w');
  assert.match(error.message, /step "boom" failed: disk full/);
});

test("a step's result is JSON as a tool's is: undefined or a function is null, and the next step goes on", async () => {
  const { value } = await whileLive(
    (ctx) => ctx.defWorkflow('w', [{ id: 'fn', action: () => () => 1 }, { id: 'none', action: () => undefined }, { id: 'after', action: (w) => [w.results.fn, w.results.none] }]),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.deepEqual(value.output, [null, null]);
  assert.deepEqual(value.steps.map((s) => s.status), ['success', 'success', 'success']);
});

test('per-step retries: the action runs again with the next attempt number', async () => {
  const attempts = [];
  const { value } = await whileLive(
    (ctx) => ctx.defWorkflow('w', [{ id: 'flaky', retries: 2, action: (wctx) => { attempts.push(wctx.attempt); if (wctx.attempt < 2) throw new Error('once'); return 'ok'; } }]),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(value.output, 'ok');
});

test('routing back loops; past maxIterations: WorkflowError WORKFLOW_LOOP_LIMIT', async () => {
  let runs = 0;
  const { error } = await whileLive(
    (ctx) => ctx.defWorkflow('w', [{ id: 'again', action: () => ++runs, onSuccess: 'again' }], { maxIterations: 4 }),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.equal(runs, 4);
  assert.ok(error instanceof WorkflowError);
  assert.equal(error.code, 'WORKFLOW_LOOP_LIMIT');
  assert.match(error.message, /more than 4 times \(maxIterations\)/);
});

test('past maxDuration the workflow rejects with TimeoutError and the step sees its abortSignal', async () => {
  let aborted = false;
  const { error } = await whileLive(
    (ctx) =>
      ctx.defWorkflow('w', [{
        id: 'stuck',
        action: (wctx) => new Promise((resolve) => wctx.abortSignal.addEventListener('abort', () => { aborted = true; resolve('late'); })),
      }], { maxDuration: 100 }),
    (ctx) => ctx.runWorkflow('w'),
  );
  assert.ok(error instanceof TimeoutError, String(error));
  assert.match(error.message, /exceeded its maxDuration of 100 ms/);
  assert.equal(aborted, true);
});

test('a dependsOn DAG runs independent steps concurrently, each after its dependencies', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const finished = [];
  const work = (id, deps) => ({
    id,
    ...(deps.length ? { dependsOn: deps } : {}),
    action: async (wctx) => {
      for (const d of deps) assert.ok(d in wctx.results, `${id} ran before ${d}`);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      finished.push(id);
      return id;
    },
  });
  const { value } = await whileLive(
    (ctx) => ctx.defWorkflow('dag', [work('a', []), work('b', []), work('c', []), work('d', ['a', 'b']), work('e', ['d', 'c'])]),
    (ctx) => ctx.runWorkflow('dag'),
  );
  assert.ok(maxInFlight >= 2, `max in flight ${maxInFlight}`);
  assert.equal(finished.at(-1), 'e');
  assert.equal(value.output, 'e');
});

test('bad input: typed errors naming the workflow, the step and the field', async () => {
  let notRunning;
  await runPrompt((ctx) => {
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1, onSuccess: 'reveiw' }, { id: 'review', action: () => 1 }]), (e) => e instanceof ConfigError && /onSuccess names unknown step "reveiw" \(did you mean "review"\?/.test(e.message));
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1 }, { id: 'a', action: () => 2 }]), /id "a" is already used by steps\[0\]/);
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1, retrys: 2 }]), /retries/);
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a' }]), /'action' is required/);
    assert.throws(() => ctx.defWorkflow('w', []), /non-empty array/);
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1 }], { maxDuraton: 5 }), /maxDuration/);
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1, dependsOn: ['a'] }]), (e) => e instanceof ConfigError && /step "a": dependsOn names the step itself/.test(e.message));
    const chain = [{ id: 'a', action: () => 1 }, { id: 'b', action: () => 1, dependsOn: ['a', 'd'] }, { id: 'c', action: () => 1, dependsOn: ['b'] }, { id: 'd', action: () => 1, dependsOn: ['c'] }];
    assert.throws(() => ctx.defWorkflow('w', chain), (e) => e instanceof ConfigError && /dependsOn forms a cycle, so none of its steps could start: b → d → c → b/.test(e.message));
    const dagWith = (extra) => [{ id: 'a', action: () => 1, ...extra }, { id: 'b', action: () => 1, dependsOn: ['a'] }];
    assert.throws(() => ctx.defWorkflow('w', dagWith({ onSuccess: 'b' })), (e) => e instanceof ConfigError && /step "a": onSuccess cannot be combined with dependsOn/.test(e.message));
    assert.throws(() => ctx.defWorkflow('w', dagWith({ parallel: true })), (e) => e instanceof ConfigError && /step "a": parallel cannot be combined with dependsOn/.test(e.message));
    assert.throws(() => ctx.defWorkflow('w', [{ id: 'a', action: () => 1, onError: 'h' }, { id: 'h', action: () => 1, parallel: true }]), (e) => e instanceof ConfigError && /step "h": an onError handler cannot be a parallel step/.test(e.message));
    ctx.defWorkflow('fine', [{ id: 'a', action: () => 1 }]);
    notRunning = ctx.runWorkflow('fine').then(() => null, (e) => e);
    ctx.$`hi`;
  }, { model: mockModel([{ type: 'text', text: 'hi' }]) }).then(({ result }) => result.text);
  assert.ok((await notRunning) instanceof NotRunningError);
  const { error } = await whileLive((ctx) => ctx.defWorkflow('known', [{ id: 'a', action: () => 1 }]), (ctx) => ctx.runWorkflow('unknown'));
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /unknown workflow "unknown" \(defined: known\)/);
});

test('parallel: true steps run as one concurrent group; the next step sees all their results', async () => {
  let running = 0;
  let most = 0;
  const member = (id, ms) => async () => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, ms));
    running -= 1;
    return id;
  };
  const { value, error } = await whileLive(
    (ctx) => ctx.defWorkflow('fanOut', [
      { id: 'prepare', action: () => 'ready' },
      { id: 'web', parallel: true, action: member('web', 30) },
      { id: 'docs', parallel: true, action: member('docs', 10) },
      { id: 'code', parallel: true, action: member('code', 20) },
      { id: 'merge', action: (wctx) => [wctx.results.web, wctx.results.docs, wctx.results.code].join('+') },
    ]),
    (ctx) => ctx.runWorkflow('fanOut'),
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(most, 3);
  assert.equal(value.output, 'web+docs+code');
  await assert.rejects(runPrompt((ctx) => ctx.defWorkflow('w', [{ id: 'a', parallel: true, onSuccess: 'a', action: () => 1 }]), { model: mockModel([]) }), /a parallel step cannot route \(onSuccess\)/);
});

test('a workflow with `tool` is offered to the model, which calls it with the input and gets its output', async () => {
  const inputs = [];
  let sent;
  const model = mockModel([{ type: 'tool-call', toolName: 'triage', args: { ticket: 'T-1' } }, { type: 'text', text: 'triaged' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defWorkflow('triage', [
      { id: 'read', action: (wctx) => inputs.push(wctx.input) && `read ${wctx.input.ticket}` },
      { id: 'label', action: (wctx) => ({ label: 'bug', from: wctx.results.read }) },
    ], { tool: { description: 'Triage a ticket', parameters: { type: 'object', properties: { ticket: { type: 'string' } }, required: ['ticket'] } } });
    ctx.$`triage T-1`;
  }, { model, onEvent: (e) => e.type === 'tool-result' && (sent = e) });
  assert.equal(await result.text, 'triaged');
  assert.deepEqual(inputs, [{ ticket: 'T-1' }]);
  assert.equal(sent.toolName, 'triage');
  assert.deepEqual(sent.result, { label: 'bug', from: 'read T-1' });
});

test('what a flow call sends to the engine must be JSON: a function, NaN or a Map is named instead of dropped or turned into null', async () => {
  const define = (ctx) => {
    ctx.defTool('echo', 'echoes', objectSchema, (args) => args);
    ctx.defPipeline('p', [{ stage: 's', fn: (x) => x }]);
    ctx.defParallel('g', { a: (x) => x });
    ctx.defBatcher('b', { processor: (items) => items });
    ctx.defWorkflow('w', [{ id: 'a', action: (wctx) => wctx.runTool('echo', { when: () => 1 }) }]);
    ctx.defWorkflow('emits', [{ id: 'a', action: (wctx) => wctx.emit({ n: Number.NaN }) }]);
  };
  const cases = [
    [(ctx) => ctx.batch('b', () => 1), 'ctx.batch("b"): item is a function'],
    [(ctx) => ctx.executePipeline('p', { n: Number.NaN }), 'ctx.executePipeline("p"): input.n is NaN'],
    [(ctx) => ctx.executeParallel('g', new Map()), 'ctx.executeParallel("g"): input is a Map, not a plain object'],
    [(ctx) => ctx.runWorkflow('w', { big: 1n }), 'ctx.runWorkflow("w"): input.big is a BigInt'],
    [(ctx) => ctx.runWorkflow('w', {}, { state: { at: new Date(0) } }), 'ctx.runWorkflow("w"): state.at is a Date, not a plain object'],
    [(ctx) => ctx.runTool('echo', { x: Infinity }), 'ctx.runTool("echo"): args.x is Infinity'],
  ];
  for (const [call, message] of cases) {
    const { error } = await whileLive(define, call);
    assert.equal(error?.name, 'ConfigError', message);
    assert.equal(error.message.slice(0, message.length), message);
  }
  // Inside a workflow step: the step fails with the same error.
  const step = await whileLive(define, (ctx) => ctx.runWorkflow('w'));
  assert.match(String(step.error?.message), /wctx\.runTool\("echo"\): args\.when is a function/);
  const emitted = await whileLive(define, (ctx) => ctx.runWorkflow('emits'));
  assert.match(String(emitted.error?.message), /wctx\.emit: data\.n is NaN/);
  // What is JSON still goes through, and a left-out argument is fine.
  assert.deepEqual((await whileLive(define, (ctx) => ctx.executePipeline('p', { n: 1, s: 'x', l: [null, true] }))).value, { n: 1, s: 'x', l: [null, true] });
  assert.equal((await whileLive(define, (ctx) => ctx.executePipeline('p'))).value, null);
});

test("a cancelled step's later state writes are never taken: not by its retry, its onError handler or the workflow's state", async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const out = {};
  const { result } = await runPrompt((ctx) => {
    ctx.defWorkflow('retrying', [
      {
        id: 'a', timeout: 50, retries: 1,
        action: async (w) => {
          if (w.attempt === 1) {
            w.state.before = true; // written while live: kept
            await sleep(150);
            w.state.late = true; // after the timeout
            return 'late';
          }
          return { sawLate: 'late' in w.state, sawBefore: w.state.before === true };
        },
      },
    ]);
    ctx.defWorkflow('routed', [
      { id: 'a', timeout: 50, onError: 'handler', action: async (w) => (await sleep(100), (w.state.late = true), 'late') },
      { id: 'handler', action: async (w) => (await sleep(150), { sawLate: 'late' in w.state, kind: w.error.kind }) },
    ]);
    ctx.defTool('go', 'go', { type: 'object', properties: {} }, async () => {
      out.retrying = await ctx.runWorkflow('retrying', {});
      out.routed = await ctx.runWorkflow('routed', {});
      return 'ok';
    });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'go', args: {} }, { type: 'text', text: 'done' }]) });
  assert.equal(await result.text, 'done');
  assert.deepEqual(out.retrying.output, { sawLate: false, sawBefore: true });
  assert.deepEqual(out.retrying.state, { before: true });
  assert.deepEqual(out.routed.output, { sawLate: false, kind: 'timeout' });
  assert.deepEqual(out.routed.state, {});
});

test('definition checks: a misspelt dependsOn gets a did-you-mean; a parallel task needs a name', async () => {
  const action = () => 1;
  await assert.rejects(
    runPrompt((ctx) => void ctx.defWorkflow('w', [{ id: 'alpha', action }, { id: 'b', action, dependsOn: ['alphx'] }]), { model: mockModel([]) }),
    (e) => e instanceof ConfigError && /step "b": dependsOn names unknown step "alphx" \(did you mean "alpha"\? steps: alpha, b\)/.test(e.message),
  );
  await assert.rejects(
    runPrompt((ctx) => void ctx.defParallel('g', { '': action, other: action }), { model: mockModel([]) }),
    (e) => e instanceof ConfigError && /defParallel\("g"\): a task needs a non-empty name/.test(e.message),
  );
});
