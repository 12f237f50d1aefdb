// Human in the loop through the package: approvals (timeouts, default actions, answers by id,
// parallel requests, failing or slow handlers), guards in each onFail mode, validators with
// retries, interactions with invalid answers, the terminal prompt, and bad input.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { resolve } from 'node:path';
import { test } from 'node:test';

import { AbortError, ApprovalDeniedError, ConfigError, GuardError, mockModel, runPrompt, ValidationError } from '../../dist/node.js';
import { askOnTerminal } from '../../dist/prompt/terminal.js';

const pathSchema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** The tool results of the last tool message the model was sent in its n-th call. */
function toolResultsSeen(model, call) {
  return model.calls[call].messages.filter((m) => m.role === 'tool').at(-1).content;
}

/** A model whose first answer is several tool calls in one step, then a final text. */
function parallelModel(calls) {
  const seen = [];
  return {
    provider: 'test',
    modelId: 'parallel',
    calls: seen,
    async generate(req) {
      seen.push(structuredClone(req));
      if (seen.length > 1) return { content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
      const content = calls.map(([toolName, args], i) => ({ type: 'tool-call', toolCallId: `c${i}`, toolName, args, argsText: JSON.stringify(args) }));
      return { content, finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
}

function deleteTool(ctx, ran, approvalConfig = {}) {
  ctx.defApproval('destructive', { message: (c) => `Delete ${c.args.path}?`, options: ['approve', 'deny', 'modify'], ...approvalConfig });
  ctx.defTool('deleteFile', 'Deletes a file', pathSchema, ({ path }) => {
    ran.push(path);
    return `deleted ${path}`;
  }, { approval: 'destructive' });
}

async function until(check, what) {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await sleep(2);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('approval: the tool waits for the decision; it runs only after approve, exactly once', async () => {
  const ran = [];
  const requests = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'old.txt' } }, { type: 'text', text: 'Deleted.' }]);
  const { result, prompt } = await runPrompt((ctx) => {
    deleteTool(ctx, ran);
    ctx.$`delete old.txt`;
  }, {
    model,
    onApproval: (request) => {
      requests.push(request);
      return undefined; // answered later, by id
    },
  });
  await until(() => prompt.approvals.pending().length === 1, 'the approval request');
  await sleep(20);
  assert.deepEqual(ran, [], 'the tool must not run while its approval is pending');
  const [request] = prompt.approvals.pending();
  assert.equal(request, requests[0]);
  assert.equal(request.name, 'destructive');
  assert.equal(request.message, 'Delete old.txt?');
  assert.deepEqual(request.options, ['approve', 'deny', 'modify']);
  assert.deepEqual(request.preview, { toolName: 'deleteFile', args: { path: 'old.txt' } });
  assert.equal(request.deadline, null);
  assert.match(request.id, /^approval-\d+$/);

  await assert.rejects(prompt.approvals.respond('approval-999999', 'approve'), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, `approval.respond: no pending approval request with id "approval-999999" in this run (pending: ${request.id})`);
    return true;
  });
  await prompt.approvals.respond(request.id, { action: 'approve', reason: 'fine' });
  assert.equal(await result.text, 'Deleted.');
  assert.deepEqual(ran, ['old.txt']);
  assert.equal(request.signal.aborted, true, 'the handler is told the request was answered elsewhere');
  assert.deepEqual(prompt.approvals.pending(), []);
  // A second answer to it comes too late, and says so.
  await assert.rejects(prompt.approvals.respond(request.id, 'deny'), (err) => err instanceof ConfigError && err.message === `approval.respond: request "${request.id}" is no longer open: it was answered, timed out, or its run ended`);
  const parts = await collect(result.fullStream);
  const decision = parts.find((p) => p.type === 'approval-decision');
  assert.equal(decision.action, 'approve');
  assert.equal(decision.source, 'respond');
  assert.equal(decision.reason, 'fine');
  assert.equal(decision.toolCallId, 'call_1');
  // Once the run is over, its requests are gone too.
  await assert.rejects(prompt.approvals.respond(request.id, 'approve'), ConfigError);
});

test('approval: aborting the run while an approval is pending rejects with AbortError; the tool never runs', async () => {
  const ran = [];
  const controller = new AbortController();
  const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'a.txt' } }, { type: 'text', text: 'never' }]);
  const { result, prompt } = await runPrompt((ctx) => {
    deleteTool(ctx, ran);
    ctx.$`go`;
  }, { model, onApproval: () => undefined, options: { abortSignal: controller.signal } });
  await until(() => prompt.approvals.pending().length === 1, 'the approval request');
  const [request] = prompt.approvals.pending();
  controller.abort();
  await assert.rejects(result.text, AbortError);
  assert.equal(request.signal.aborted, true);
  assert.deepEqual(ran, []);
});

test('approval: a timeout applies the default action with the reason; the model sees the denial text', async () => {
  const ran = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'a.txt' } }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => {
    deleteTool(ctx, ran, { timeout: 40 });
    ctx.$`go`;
  }, { model, onApproval: () => new Promise(() => {}) /* never decides: only the timeout can settle it */ });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(ran, []);
  const [seen] = toolResultsSeen(model, 1);
  assert.equal(seen.isError, true);
  assert.deepEqual(seen.result, { error: 'The call of tool "deleteFile" was denied: no decision within 40 ms; the default action (deny) was applied.' });
  const request = (await collect(result.fullStream)).find((p) => p.type === 'approval-request');
  assert.equal(typeof request.deadline, 'number');
});

test('approval: a denial by the handler goes back to the model, which goes on', async () => {
  const ran = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'keep.txt' } }, { type: 'text', text: 'Kept it.' }]);
  const { result } = await runPrompt((ctx) => {
    deleteTool(ctx, ran);
    ctx.$`go`;
  }, { model, onApproval: () => ({ action: 'deny', reason: 'I still need it' }) });
  assert.equal(await result.text, 'Kept it.');
  assert.deepEqual(ran, []);
  assert.deepEqual(toolResultsSeen(model, 1)[0].result, { error: 'The call of tool "deleteFile" was denied: I still need it.' });
});

test('approval: a throwing handler, a slow one, and an invalid decision count as the default action, with the reason', async () => {
  const cases = [
    { handler: () => { throw new Error('dialog crashed'); }, reason: 'the approval handler failed: dialog crashed; the default action (approve) was applied', source: 'error' },
    { handler: async () => { await new Promise((r) => setTimeout(r, 10_000).unref()); return 'deny'; }, reason: 'no decision within 30 ms; the default action (approve) was applied', source: 'timeout' },
    { handler: () => 'maybe', reason: /^the approval handler returned an invalid decision: action "maybe" is not offered/, source: 'invalid' },
  ];
  for (const { handler, reason, source } of cases) {
    const ran = [];
    const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'x' } }, { type: 'text', text: 'ok' }]);
    const { result } = await runPrompt((ctx) => {
      deleteTool(ctx, ran, { timeout: 30, defaultAction: 'approve' });
      ctx.$`go`;
    }, { model, onApproval: handler });
    assert.equal(await result.text, 'ok');
    assert.deepEqual(ran, ['x']);
    const decision = (await collect(result.fullStream)).find((p) => p.type === 'approval-decision');
    assert.equal(decision.source, source);
    if (reason instanceof RegExp) assert.match(decision.reason, reason);
    else assert.equal(decision.reason, reason);
  }
});

test('approval: without a handler and without a terminal, the default action applies and says why', async () => {
  const ran = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'x' } }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => {
    deleteTool(ctx, ran);
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(ran, []);
  const decision = (await collect(result.fullStream)).find((p) => p.type === 'approval-decision');
  assert.equal(decision.action, 'deny');
  assert.equal(decision.reason, 'the approval handler failed: no onApproval handler and no terminal to ask on; the default action (deny) was applied');
});

test('approval: parallel tool calls get one request each, answerable in any order; modify re-validates', async () => {
  const ran = [];
  const model = parallelModel([['deleteFile', { path: 'a' }], ['deleteFile', { path: 'b' }], ['deleteFile', { path: 'c' }], ['deleteFile', { path: 'd' }]]);
  const { result, prompt } = await runPrompt((ctx) => {
    deleteTool(ctx, ran);
    ctx.$`go`;
  }, { model, onApproval: () => undefined });
  await until(() => prompt.approvals.pending().length === 4, 'four approval requests');
  const byPath = Object.fromEntries(prompt.approvals.pending().map((r) => [r.preview.args.path, r.id]));
  assert.equal(new Set(Object.values(byPath)).size, 4);
  assert.deepEqual(ran, []);
  await prompt.approvals.respond(byPath.d, { action: 'modify', modifiedData: { path: 42 } });
  await prompt.approvals.respond(byPath.c, 'approve');
  await prompt.approvals.respond(byPath.a, { action: 'deny' });
  await prompt.approvals.respond(byPath.b, { action: 'modify', modifiedData: { path: 'b-renamed' } });
  assert.equal(await result.text, 'done');
  assert.deepEqual(ran.sort(), ['b-renamed', 'c']);
  const seen = model.calls[1].messages.find((m) => m.role === 'tool').content.map((p) => p.result);
  assert.deepEqual(seen, [
    { error: 'The call of tool "deleteFile" was denied.' },
    'deleted b-renamed',
    'deleted c',
    { error: 'The arguments the user modified for tool "deleteFile" are invalid: /path: must be string' },
  ]);
});

test('requestApproval from inside a tool; ctx.requestApproval outside a live run is an error', async () => {
  let ctxRef;
  const model = mockModel([{ type: 'tool-call', toolName: 'publish', args: {} }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => {
    ctxRef = ctx;
    ctx.defApproval('publish', { message: (c) => `Publish version ${c.version}?` });
    ctx.defTool('publish', 'Publishes', { type: 'object' }, async () => {
      const decision = await ctx.requestApproval('publish', { version: '1.2.0' });
      if (decision.action !== 'approve') throw new ApprovalDeniedError(`publish was denied: ${decision.reason}`);
      return 'published';
    });
    ctx.$`go`;
  }, { model, onApproval: (r) => (r.message === 'Publish version 1.2.0?' ? { action: 'deny', reason: 'not today' } : 'approve') });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(toolResultsSeen(model, 1)[0].result, { error: 'publish was denied: not today' });
  await assert.rejects(ctxRef.requestApproval('publish'), { name: 'NotRunningError', code: 'NOT_RUNNING', message: /works only while the run is live/ });
  await assert.rejects(ctxRef.requestApproval('nope'), { name: 'ConfigError', message: 'ctx.requestApproval: unknown approval "nope" (defined: publish)' });
  await assert.rejects(ctxRef.requestApproval('nope'), TypeError);
});

test("a redirect goes through the target's own guards and the run's role: it bypasses neither", async () => {
  const attempt = async (define) => {
    const ran = [];
    const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: '.env' } }, { type: 'text', text: 'ok' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('deleteFile', 'Deletes', pathSchema, ({ path }) => (ran.push(`delete ${path}`), 'deleted'), { guards: ['noSecrets'] });
      ctx.defTool('shred', 'Shreds', pathSchema, ({ path }) => (ran.push(`shred ${path}`), 'shredded'), { guards: ['neverShred'] });
      ctx.defTool('trash', 'Moves to trash', pathSchema, ({ path }) => (ran.push(`trash ${path}`), 'trashed'));
      ctx.defGuard('neverShred', () => ({ pass: false, message: 'shredding is off' }), { onFail: 'skip' });
      define(ctx);
      ctx.$`go`;
    }, { model });
    await result.text;
    return { ran, seen: toolResultsSeen(model, 1)[0].result };
  };
  // Before, a redirected call skipped every guard of its target, and the role's allowedTools.
  const guarded = await attempt((ctx) => ctx.defGuard('noSecrets', () => false, { onFail: 'redirect', redirectTo: 'shred' }));
  assert.deepEqual(guarded.ran, []);
  assert.deepEqual(guarded.seen, { skipped: true, guard: 'neverShred', message: 'shredding is off' });
  const roled = await attempt((ctx) => {
    ctx.defGuard('noSecrets', () => false, { onFail: 'redirect', redirectTo: 'trash' });
    ctx.defRole('careful', { constraints: { allowedTools: ['deleteFile'] } });
    ctx.assumeRole('careful');
  });
  assert.deepEqual(roled.ran, []);
  assert.deepEqual(roled.seen, { error: 'guard "noSecrets" redirects to tool "trash", which the role "careful" does not allow (it allows only: deleteFile)' });
  // Guards that send a call back and forth: the call comes back to each guard, and ends after 8 redirects.
  const cycle = await attempt((ctx) => {
    ctx.defGuard('noSecrets', () => false, { onFail: 'redirect', redirectTo: 'trash' });
    ctx.defGuard('noTrash', () => false, { onFail: 'redirect', redirectTo: 'deleteFile', tools: ['trash'] });
  });
  assert.deepEqual(cycle.ran, []);
  assert.match(cycle.seen.error, /too many redirects/);
  // A guard redirecting to a tool it guards would let the call through unguarded: refused before the run.
  await assert.rejects(
    attempt((ctx) => ctx.defGuard('noSecrets', () => false, { onFail: 'redirect', redirectTo: 'deleteFile' })),
    (err) => err instanceof ConfigError && err.message.startsWith('guard "noSecrets": redirectTo names "deleteFile", a tool the guard itself guards'),
  );
});

test('guards: throw fails the run, skip answers the model, redirect runs the other tool, prompt-user asks', async () => {
  const run = async (onFail, extra = {}) => {
    const ran = [];
    const asked = [];
    const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: '.env' } }, { type: 'text', text: 'ok' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defGuard('noSecrets', ({ path }) => ({ pass: !path.startsWith('.env'), message: 'secrets stay' }), { onFail, tools: ['deleteFile'], ...extra });
      ctx.defTool('deleteFile', 'Deletes', pathSchema, ({ path }) => (ran.push(`delete ${path}`), 'deleted'));
      ctx.defTool('trash', 'Moves to trash', pathSchema, ({ path }) => (ran.push(`trash ${path}`), 'trashed'));
      ctx.$`go`;
    }, { model, onApproval: (r) => (asked.push(r), 'approve') });
    return { result, ran, asked, model };
  };
  const thrown = await run('throw');
  await assert.rejects(thrown.result.text, (err) => err instanceof GuardError && err.message === 'guard "noSecrets" refused tool "deleteFile": secrets stay');
  assert.deepEqual(thrown.ran, []);

  const skipped = await run('skip');
  assert.equal(await skipped.result.text, 'ok');
  assert.deepEqual(skipped.ran, []);
  assert.deepEqual(toolResultsSeen(skipped.model, 1)[0].result, { skipped: true, guard: 'noSecrets', message: 'secrets stay' });
  const verdict = (await collect(skipped.result.fullStream)).find((p) => p.type === 'guard');
  assert.deepEqual({ ...verdict, stepNumber: undefined }, { type: 'guard', guard: 'noSecrets', passed: false, onFail: 'skip', message: 'secrets stay', toolCallId: 'call_1', toolName: 'deleteFile', stepNumber: undefined, path: ['root'] });

  const redirected = await run('redirect', { redirectTo: 'trash' });
  await redirected.result.text;
  assert.deepEqual(redirected.ran, ['trash .env']);

  const prompted = await run('prompt-user');
  await prompted.result.text;
  assert.deepEqual(prompted.ran, ['delete .env']);
  assert.equal(prompted.asked.length, 1);
  assert.equal(prompted.asked[0].message, 'secrets stay');
  assert.deepEqual(prompted.asked[0].options, ['approve', 'deny']);
});

test('guards: a condition that returns neither a boolean nor {pass} fails like a throwing one, naming what it returned', async () => {
  for (const [returned, described] of [[undefined, 'undefined'], ['yes', 'the string "yes"'], [{ pass: 'yes' }, 'an object'], [1, 'the number 1']]) {
    const ran = [];
    const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'a' } }, { type: 'text', text: 'ok' }]);
    const { result } = await runPrompt((ctx) => {
      ctx.defGuard('sloppy', () => returned, { tools: ['deleteFile'] });
      ctx.defTool('deleteFile', 'Deletes', pathSchema, ({ path }) => (ran.push(path), 'deleted'));
      ctx.$`go`;
    }, { model });
    await assert.rejects(result.text, (err) => {
      assert.ok(err instanceof GuardError, String(err));
      assert.ok(err.message.startsWith('guard "sloppy" refused tool "deleteFile": '), err.message);
      assert.ok(err.message.includes(`a guard condition must return a boolean or {pass: boolean, message?}, got ${described}`), err.message);
      return true;
    });
    assert.deepEqual(ran, [], `returned ${described}`);
  }
});

test('validators: an invalid tool output is fed back and retried; past maxRetries the run fails with ValidationError', async () => {
  const define = (ctx, outputs) => {
    ctx.defValidator('summary', { type: 'object', required: ['summary'] }, ({ summary }) =>
      summary.length <= 20 ? { valid: true } : { valid: false, errors: [`summary is ${summary.length} characters`], fix: 'at most 20 characters' });
    let n = 0;
    ctx.defTool('summarize', 'Summarizes', { type: 'object' }, () => outputs[Math.min(n++, outputs.length - 1)], { validator: 'summary', retryOnFailure: true, maxRetries: 1 });
    ctx.$`go`;
  };
  const model = mockModel([{ type: 'tool-call', toolName: 'summarize' }, { type: 'tool-call', toolName: 'summarize' }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt((ctx) => define(ctx, [{ summary: 'x'.repeat(30) }, { summary: 'short' }]), { model });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(toolResultsSeen(model, 1)[0].result, { error: 'The output of tool "summarize" failed validation "summary": summary is 30 characters Fix: at most 20 characters' });
  assert.deepEqual(toolResultsSeen(model, 2)[0].result, { summary: 'short' });
  const validations = (await collect(result.fullStream)).filter((p) => p.type === 'validation').map((p) => p.valid);
  assert.deepEqual(validations, [false, true]);

  const failing = mockModel([{ type: 'tool-call', toolName: 'summarize' }, { type: 'tool-call', toolName: 'summarize' }, { type: 'text', text: 'never' }]);
  const { result: failed } = await runPrompt((ctx) => define(ctx, [{ nope: 1 }]), { model: failing });
  await assert.rejects(failed.text, (err) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.message, 'The output of tool "summarize" failed validation "summary": (root): must have required property \'summary\' (after 1 retry)');
    assert.equal(err.errors[0].instancePath, '');
    return true;
  });
});

test('validators: the final answer is validated; a failure is sent back for another step', async () => {
  const model = mockModel([{ type: 'text', text: 'sure!' }, { type: 'end-step' }, { type: 'text', text: '{"answer": 42}' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defValidator('json', { type: 'object', required: ['answer'] });
    ctx.$`answer in JSON`;
  }, { model, validateResponse: { validator: 'json', retryOnFailure: true } });
  assert.equal(await result.text, '{"answer": 42}');
  assert.equal(model.calls[1].messages.at(-1).content, 'Your answer failed validation "json": (root): must be object. Please answer again.');
});

test('interactions: invalid answers are asked again with the problem; timeouts fall back to the default', async () => {
  const asked = [];
  const answers = { pick: ['c.txt', 'b.txt'], name: [] };
  const model = mockModel([{ type: 'tool-call', toolName: 'ask' }, { type: 'text', text: 'ok' }]);
  let got;
  const { result } = await runPrompt((ctx) => {
    ctx.defInteraction('pick', 'choice', { message: 'Which file?', choices: ['a.txt', 'b.txt'] });
    ctx.defInteraction('count', 'question', { validation: { type: 'integer', minimum: 1 }, timeout: 30, default: 3 });
    ctx.defInteraction('tags', 'choice', { choices: ['x', 'y', 'z'], multiple: true, allowSkip: true });
    ctx.defTool('ask', 'Asks the user', { type: 'object' }, async () => {
      got = {
        pick: await ctx.interact('pick'),
        count: await ctx.interact('count'),
        tags: await ctx.interact('tags'),
      };
      return 'asked';
    });
    ctx.$`go`;
  }, {
    model,
    onInteraction: (request) => {
      asked.push({ name: request.name, attempt: request.attempt, error: request.error });
      if (request.name === 'pick') return answers.pick.shift();
      if (request.name === 'count') return new Promise(() => {}); // never answers
      return undefined; // skip
    },
  });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(got.pick, { value: 'b.txt', skipped: false, attempts: 2 });
  assert.deepEqual(got.count, { value: 3, skipped: false, attempts: 1, reason: 'no answer in time; the default was used' });
  assert.deepEqual(got.tags, { value: null, skipped: true, attempts: 1 });
  assert.deepEqual(asked.slice(0, 2), [
    { name: 'pick', attempt: 1, error: null },
    { name: 'pick', attempt: 2, error: '"c.txt" is not one of the choices ("a.txt", "b.txt")' },
  ]);
});

test('interactions: an answer that never validates fails with ValidationError after maxAttempts', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'ask' }, { type: 'text', text: 'ok' }]);
  let error;
  const { result } = await runPrompt((ctx) => {
    ctx.defInteraction('age', 'question', { validation: { type: 'integer' }, maxAttempts: 2 });
    ctx.defTool('ask', 'Asks', { type: 'object' }, async () => {
      try {
        await ctx.interact('age');
      } catch (err) {
        error = err;
      }
      return 'asked';
    });
    ctx.$`go`;
  }, { model, onInteraction: () => 'forty' });
  await result.text;
  assert.ok(error instanceof ValidationError);
  assert.equal(error.message, 'interaction "age": no acceptable answer after 2 attempts (last problem: the answer is invalid; (root): must be integer)');
});

test('bad input is refused naming what is wrong', async () => {
  const model = mockModel([]);
  await assert.rejects(runPrompt((ctx) => ctx.defApproval('a', { options: ['approve', 'maybe'] }), { model }), {
    name: 'ConfigError',
    message: `defApproval("a"): 'options' must be a non-empty array of 'approve', 'deny', 'modify', got an array`,
  });
  await assert.rejects(runPrompt((ctx) => ctx.defApproval('a', { timeout: -1 }), { model }), /'timeout' must be a number of milliseconds >= 0 \(at most 1e12\), got the number -1/);
  await assert.rejects(runPrompt((ctx) => ctx.defApproval('a', { timout: 5 }), { model }), { message: `defApproval("a"): unknown option 'timout' (did you mean 'timeout'? known: message, options, timeout, defaultAction, showPreview)` });
  await assert.rejects(runPrompt((ctx) => ctx.defGuard('g', () => true, { onFail: 'explode' }), { model }), /'onFail' must be one of "throw", "skip", "redirect", "prompt-user", got the string "explode"/);
  await assert.rejects(runPrompt((ctx) => ctx.defGuard('g', () => true, { onFail: 'redirect' }), { model }), /needs redirectTo/);
  await assert.rejects(runPrompt((ctx) => ctx.defValidator('v'), { model }), /give a schema, a function, or both/);
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('i', 'choice'), { model }), /a choice needs a non-empty choices array/);
  // A choice listed twice, and a default a timeout would answer with that is not a choice.
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('i', 'choice', { choices: ['a', 'b', 'a'] }), { model }), { message: `defInteraction("i"): choices[2] (the string "a") is listed twice; each choice must be distinct` });
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('i', 'choice', { choices: ['a'], default: 'b' }), { model }), { message: `defInteraction("i"): the default must be one of the choices ("a"), got the string "b"` });
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('i', 'choice', { choices: [1, 2], multiple: true, default: 1 }), { model }), /the default must be a list of the choices \(1, 2\), got the number 1/);
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('', 'question'), { model }), TypeError);
  // A question would not enforce choices: they are refused, not ignored.
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('q', 'question', { choices: ['a', 'b'] }), { model }), {
    message: `defInteraction("q"): 'choices' is for kind 'choice'; a question's answer is free text (restrict it with a validation schema, or make it a 'choice')`,
  });
  await assert.rejects(runPrompt((ctx) => ctx.defInteraction('q', 'question', { multiple: true }), { model }), /'multiple' is for kind 'choice'/);
  await assert.rejects(
    runPrompt((ctx) => {
      ctx.defApproval('one');
      ctx.defTool('t', 'd', { type: 'object' }, () => 1, { approval: 'two' });
    }, { model }),
    { name: 'ConfigError', message: 'tool "t": unknown approval "two" (defined: one)' },
  );
  await assert.rejects(
    runPrompt((ctx) => ctx.defTool('t', 'd', { type: 'object' }, () => 1, { guards: ['g'] }), { model }),
    { name: 'ConfigError', message: 'tool "t": unknown guard "g" (defined: none)' },
  );
});

test('terminal prompt: reads the action, and edited JSON for modify, from the given streams', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (d) => (printed += d));
  const request = {
    id: 'approval-1', name: 'write', message: 'Write src/app.js?', options: ['approve', 'deny', 'modify'], defaultAction: 'deny',
    preview: { toolName: 'writeFile', args: { path: 'src/app.js' } }, deadline: null, context: null, signal: new AbortController().signal,
  };
  const decided = askOnTerminal(request, { input, output });
  input.write('maybe\n');
  await sleep(5);
  input.write('m\n');
  await sleep(5);
  input.write('{"path": "src/other.js"}\n');
  assert.deepEqual(await decided, { action: 'modify', modifiedData: { path: 'src/other.js' }, reason: 'edited on the terminal' });
  assert.match(printed, /\[approval approval-1\] Write src\/app\.js\?/);
  assert.match(printed, /writeFile \{"path":"src\/app\.js"\}/);
  assert.match(printed, /Please answer approve, deny, modify\./);
});

const hasScript = spawnSync('script', ['--version']).status === 0;

test('terminal prompt: with a real pseudo-terminal and no handler, runPrompt asks on it', { timeout: 30_000, skip: !hasScript && 'util-linux `script` is not installed' }, async () => {
  const child = resolve(import.meta.dirname, 'helpers/terminal-approval-child.mjs');
  const proc = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(child)}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    if (out.includes('[a]pprove / [d]eny') && !proc.answered) {
      proc.answered = true;
      proc.stdin.write('a\r');
    }
  });
  const code = await new Promise((r) => proc.on('close', r));
  assert.equal(code, 0, out);
  assert.match(out, /\[approval approval-\d+\] Delete notes\.txt\?/);
  assert.match(out, /RESULT deleted notes\.txt; answered on the terminal/);
});

test("a sub-agent's approval requests go to the parent run's onApproval", async () => {
  const ran = [];
  const requests = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defAgent('cleaner', 'Cleans up files', { type: 'object' }, (_args, sub) => {
        deleteTool(sub, ran);
        sub.$`Delete tmp.txt`;
      }, { model: mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'tmp.txt' } }, { type: 'text', text: 'cleaned' }]) });
      ctx.$`Clean up`;
    },
    {
      model: mockModel([{ type: 'tool-call', toolName: 'cleaner', args: {} }, { type: 'text', text: 'done' }]),
      onApproval: async (request) => {
        requests.push(request);
        return { action: 'approve' };
      },
    },
  );
  assert.equal(await result.text, 'done');
  assert.equal(requests.length, 1);
  assert.equal(requests[0].message, 'Delete tmp.txt?');
  assert.deepEqual(ran, ['tmp.txt']);
});

test('a guard, a hook or a toolChoice naming a tool that is not defined gets the nearest name', async () => {
  const model = () => mockModel([{ type: 'text', text: 'x' }]);
  const withRead = (fn) => (ctx) => {
    ctx.defTool('readFile', 'Reads', { type: 'object', properties: {} }, () => 'contents');
    fn(ctx);
    ctx.$`go`;
  };
  await assert.rejects(runPrompt(withRead((ctx) => ctx.defGuard('g', () => true, { tools: ['readFiel'] })), { model: model() }).then((r) => r.result.text), (err) =>
    err instanceof ConfigError && err.message === 'guard "g": unknown tool "readFiel" (did you mean "readFile"? defined tools: readFile)');
  await assert.rejects(runPrompt(withRead((ctx) => ctx.defHook(() => ({ activeTools: ['readfile'] }))), { model: model() }).then((r) => r.result.text), (err) =>
    /hook #1: "activeTools" names unknown tool "readfile" \(did you mean "readFile"\? defined tools: readFile\)/.test(err.message));
  await assert.rejects(runPrompt(withRead(() => {}), { model: model(), toolChoice: { type: 'tool', toolName: 'read' } }).then((r) => r.result.text), (err) =>
    err instanceof ConfigError && /toolChoice names unknown tool "read" \(did you mean "readFile"\? defined tools: readFile\)/.test(err.message));
});

test("a sub-agent's configure function can ask a person (ctx.interact) before its own run starts: the parent's run asks (the seed's defInteraction example)", async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'myAgent', args: { request: 'fix it' } }, { type: 'text', text: 'child answer' }, { type: 'end-step' }, { type: 'text', text: 'root answer' }]);
  const asked = [];
  let prompt;
  const { result } = await runPrompt(
    (root) => {
      root.defInteraction('askClarification', 'question', { message: (c) => c.question });
      root.defAgent('myAgent', 'Fixes things', { type: 'object', properties: { request: { type: 'string' } } }, async (args, ctx) => {
        const answer = await ctx.interact('askClarification', { question: 'Which file?' });
        args.clarification = answer.value;
        prompt = `Process request with clarification: ${args.clarification}`;
        ctx.$`${prompt}`;
      });
      root.$`go`;
    },
    { model, onInteraction: (request) => (asked.push(request.message ?? request.name), 'main.ts') },
  );
  assert.equal(await result.text, 'root answer');
  assert.equal(asked.length, 1);
  assert.equal(prompt, 'Process request with clarification: main.ts');
  assert.equal((await result.steps)[0].toolResults[0].result, 'child answer');
});
