// Durable runs (issue 20, docs/durable-runs.md): journal, replay, resume after an interruption,
// kill -9 of a real process, divergence, corrupt journals, interrupted tools, suspend, storage on
// files and on a real redis-server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError, createEngine, deleteJournal, durableApprovals, fileStorage, InterruptedError, JournalError, L, loadJournal, memoryStorage, mockModel, redisStorage, replay, run,
  RateLimitError, ReplayDivergenceError, resume, runPrompt, RunSuspendedError, TimeoutError,
} from '../../dist/node.js';
import { conversationModel, durableScenario, readToolLog, transcriptOf } from './helpers/durable-scenario.mjs';
import { killTrials } from './helpers/durable-kill.mjs';
import { startRedis } from './helpers/redis-server.mjs';

const dirs = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-durable-test-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A model with `like`'s name that must not be called (replays answer from the journal; the model's name is part of the run). */
const uncalled = (like) => ({ provider: like.provider, modelId: like.modelId, generate: () => Promise.reject(new Error('the model was called during a replay')) });
const noModel = uncalled({ provider: 'test', modelId: 'durable' });

/** Copies the first `count` records of `journal` into a fresh storage under `id`: a run interrupted after that loop turn. */
async function cutJournal(journal, count, id) {
  const storage = memoryStorage();
  for (const record of journal.records.slice(0, count)) await storage.set(`lmthing:journal:${id}:${String(record.seq).padStart(10, '0')}`, record);
  return storage;
}

let recorded; // the scenario's uninterrupted run, shared by the tests below
async function recordedScenario() {
  if (recorded) return recorded;
  const logPath = join(tempDir(), 'log.jsonl');
  const { fn, config } = durableScenario({ logPath });
  const storage = memoryStorage();
  const { result, prompt } = await runPrompt(fn, config(storage, 'scenario'));
  recorded = { fn, config, logPath, storage, transcript: await transcriptOf(result), events: JSON.stringify(prompt.events), journal: prompt.journal, steps: await result.steps };
  return recorded;
}

test('durable: the scenario journals every loop turn; the stored journal equals prompt.journal', async () => {
  const { journal, storage, steps, logPath } = await recordedScenario();
  assert.equal(steps.length, 20);
  assert.ok(journal.records.length > 40, `a record per loop turn (${journal.records.length})`);
  assert.deepEqual(journal.records.map((r) => r.seq), journal.records.map((_, i) => i + 1));
  assert.deepEqual(await loadJournal('scenario', storage), journal);
  const kinds = new Set(journal.records.flatMap((r) => r.ops.map((o) => o.op)));
  for (const kind of ['model.generate', 'callback.invoke', 'approval.ask']) assert.ok(kinds.has(kind), `the journal holds ${kind} ops`);
  assert.equal(readToolLog(logPath).filter((e) => e.phase === 'end').length, 23, 'every tool call of the scenario ran once');
});

test('durable: replay re-runs a finished run with no model and no tool: text, steps and events are identical', async () => {
  const { fn, config, journal, transcript, events, logPath } = await recordedScenario();
  const before = readToolLog(logPath).length;
  const { result, prompt } = await replay(journal, fn, { ...config(undefined, 'x'), model: noModel, durable: undefined });
  assert.equal(await transcriptOf(result), transcript);
  assert.equal(JSON.stringify(prompt.events), events);
  assert.equal(readToolLog(logPath).length, before, 'no tool ran during the replay');
});

test('durable: resumed after any loop turn, the run ends with the uninterrupted transcript and no completed tool runs again', async () => {
  const { fn, config, journal, transcript } = await recordedScenario();
  const cuts = journal.records.map((r) => r.seq).filter((seq) => seq % 3 === 1 || seq > journal.records.length - 3);
  for (const cut of cuts) {
    const logPath = join(tempDir(), `cut-${cut}.jsonl`);
    const scenario = durableScenario({ logPath });
    const storage = await cutJournal(journal, cut, `cut${cut}`);
    const { result, prompt } = await resume(`cut${cut}`, scenario.fn, scenario.config(storage, `cut${cut}`));
    assert.equal(await transcriptOf(result), transcript, `resumed after record ${cut}`);
    // The tools that ran now are those the journal had not seen complete: none of the first `cut` turns' completed calls.
    const completed = new Set(journal.records.slice(0, cut).flatMap((r) => r.lines).map((l) => JSON.parse(l)).filter((m) => m.type === 'op.done').map((m) => m.id));
    const reran = prompt.journal.records.slice(cut).flatMap((r) => r.ops).filter((o) => completed.has(o.id));
    assert.deepEqual(reran, [], `no op completed before the cut is performed again (cut ${cut})`);
    assert.equal(prompt.journal.records.length, (await loadJournal(`cut${cut}`, storage)).records.length, 'the resumed run keeps journaling');
  }
  void fn;
  void config;
});

test('durable: kill -9 of a real process at seeded random points; every resume ends like the uninterrupted run (bench/durable-kill.mjs runs 100)', async () => {
  const trials = await killTrials({ points: 6, seed: 7 });
  for (const trial of trials) {
    assert.ok(trial.same, `same transcript after a kill at ${JSON.stringify(trial.killAt)}: ${JSON.stringify(trial.differsAt)}`);
    assert.deepEqual(trial.repeated, [], 'no completed non-idempotent tool call ran again');
  }
  assert.ok(trials.filter((t) => t.recordsAtKill > 0 && t.resumes > 0).length >= 4, 'most kills landed mid-run');
});

test('durable: a prompt function that asks for something else than the journal holds fails with ReplayDivergenceError naming the record', async () => {
  const { journal } = await recordedScenario();
  const changed = durableScenario({ logPath: join(tempDir(), 'changed.jsonl') });
  const fn = (ctx) => {
    changed.fn(ctx);
    ctx.$`And one more thing.`; // a different prompt: the first model call differs
  };
  const error = await replay(journal, fn, { ...changed.config(undefined, 'x'), model: noModel, durable: undefined }).then((r) => r.result.text).then(() => null, (e) => e);
  assert.ok(error instanceof ReplayDivergenceError, `got ${error}`);
  assert.equal(error.code, 'REPLAY_DIVERGENCE');
  assert.equal(error.seq, 1);
  assert.match(error.expected, /the recorded run\.start #1/);
  assert.match(error.actual, /spec differs in "messages"/);
  assert.match(error.message, /journal record 1/);
});

test('durable: replay of a journal that ends before the run does is a divergence naming the op it waits for', async () => {
  const { fn, config, journal } = await recordedScenario();
  const cut = { id: journal.id, records: journal.records.slice(0, 5) };
  const error = await replay(cut, fn, { ...config(undefined, 'x'), model: noModel, durable: undefined }).then((r) => r.result.text).then(() => null, (e) => e);
  assert.ok(error instanceof ReplayDivergenceError, `got ${error}`);
  assert.match(error.message, /journal's end \(record 5\)/);
  assert.match(error.actual, /never completed/);
});

test('durable: a corrupt, truncated or missing journal is a JournalError and nothing runs', async () => {
  const { journal } = await recordedScenario();
  let calls = 0;
  const counting = { provider: 'test', modelId: 'durable', generate: async () => (calls++, { content: [{ type: 'text', text: 'x' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } }) };
  const fn = (ctx) => ctx.$`hi`;

  const corrupt = await cutJournal(journal, 6, 'bad');
  await corrupt.set('lmthing:journal:bad:0000000003', { seq: 3, lines: 'not lines' });
  let error = await resume('bad', fn, { model: counting, durable: { storage: corrupt } }).then(() => null, (e) => e);
  assert.ok(error instanceof JournalError, `got ${error}`);
  assert.equal(error.code, 'JOURNAL_CORRUPT');
  assert.match(error.message, /lmthing:journal:bad:0000000003/);
  assert.match(error.message, /nothing was run/);

  const truncated = await cutJournal(journal, 6, 'gap');
  await truncated.delete('lmthing:journal:gap:0000000004');
  error = await resume('gap', fn, { model: counting, durable: { storage: truncated } }).then(() => null, (e) => e);
  assert.equal(error?.code, 'JOURNAL_CORRUPT');
  assert.match(error.message, /has sequence number 5 where 4 was expected/);

  error = await resume('nobody', fn, { model: counting, durable: { storage: memoryStorage() } }).then(() => null, (e) => e);
  assert.equal(error?.code, 'JOURNAL_MISSING');

  error = await runPrompt(fn, { model: counting, durable: { id: 'gap', storage: truncated } }).then(() => null, (e) => e);
  assert.equal(error?.code, 'JOURNAL_EXISTS', 'a new run does not overwrite a journal');
  assert.match(error.message, /resume\("gap"/);

  error = await replay({ id: 'x', records: [{ seq: 2, clock: 0, lines: [], ops: [] }] }, fn, { model: counting }).then(() => null, (e) => e);
  assert.equal(error?.code, 'JOURNAL_CORRUPT');
  error = await replay(null, fn, { model: counting }).then(() => null, (e) => e);
  assert.equal(error?.code, 'JOURNAL_CORRUPT');
  assert.match(error.message, /expected a journal \{id, records\} .*got null$/);
  assert.equal(calls, 0, 'no model call for a journal that cannot be used');
});

test('durable: bad durable options are ConfigErrors naming what is expected', async () => {
  const fn = (ctx) => ctx.$`hi`;
  const model = mockModel([{ type: 'text', text: 'x' }]);
  const storage = memoryStorage();
  const cases = [
    [{ durable: { id: 'a', storage, onInterupted: () => {} } }, /onInterupted.*did you mean 'onInterrupted'/],
    [{ durable: { id: '', storage } }, /durable\.id|id/],
    [{ durable: 'yes' }, /'durable' must be an object/],
    [{ durable: { id: 'a', storage, }, engine: await createEngine() }, /engine of its own/],
    [{ durable: { id: 'a', storage: {} } }, /must be a storage adapter .*got an object without get, set, list, delete, compareAndSet/],
    // An adapter the journal cannot write with is refused before the run, not at its first record.
    [{ durable: { id: 'a', storage: { ...storage, get: storage.get, set: storage.set, list: storage.list, delete: storage.delete, compareAndSet: undefined } } }, /got an object without compareAndSet$/],
    [{ durable: { id: 'a', storage: null } }, /must be a storage adapter .*got null$/],
    [{ durable: { id: 'x'.repeat(201), storage } }, /a durable run id must be a non-empty string of at most 200 characters/],
    [{ durable: { storage } }, /durable\.id is required/],
  ];
  for (const [extra, message] of cases) {
    const error = await runPrompt(fn, { model, ...extra }).then(() => null, (e) => e);
    assert.ok(error instanceof ConfigError, `${JSON.stringify(Object.keys(extra.durable ?? {}))} must fail with a ConfigError, got ${error}`);
    assert.match(error.message, message);
  }
  const error = await resume('a', fn, { model, durable: { id: 'b', storage } }).then(() => null, (e) => e);
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /differs from the id to resume/);
  // Arguments swapped: the adapter (which may hold a Redis URL with its password) is described, not printed.
  const withPassword = redisStorage({ url: 'redis://:hunter2@127.0.0.1:1' });
  for (const call of [() => loadJournal(withPassword, 'a'), () => deleteJournal(withPassword, 'a')]) {
    const swapped = await Promise.resolve().then(call).then(() => null, (e) => e);
    assert.ok(swapped instanceof ConfigError, String(swapped));
    assert.match(swapped.message, /a durable run id must be a non-empty string of at most 200 characters, got an object$/);
    assert.ok(!swapped.message.includes('hunter2'));
  }
  await withPassword.close();
});

/** A one-tool run whose tool call is interrupted: the journal is cut after the turn that started it. */
async function interruptedToolRun(options) {
  const ran = [];
  const fn = (ctx) => {
    ctx.defTool('charge', 'Charges a card', { type: 'object', properties: { cents: { type: 'number' } } }, ({ cents }) => (ran.push(cents), `charged ${cents}`), options);
    ctx.$`Charge 500.`;
  };
  const model = () => conversationModelFor([[{ type: 'tool-call', toolCallId: 't1', toolName: 'charge', args: { cents: 500 } }], [{ type: 'text', text: 'Charged.' }]]);
  const { result, prompt } = await runPrompt(fn, { model: model(), durable: { id: 'full', storage: memoryStorage() } });
  await result.text;
  const started = prompt.journal.records.find((r) => r.ops.some((o) => o.fn?.endsWith(':charge')));
  const storage = await cutJournal(prompt.journal, started.seq, 'cut');
  ran.length = 0;
  return { fn, model, storage, ran };
}

/** A model answering step n (the number of assistant turns in the request) with `steps[n]`. */
function conversationModelFor(steps) {
  return {
    provider: 'test',
    modelId: 'steps',
    async generate(request) {
      const content = steps[request.messages.filter((m) => m.role === 'assistant').length];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

test('durable: an interrupted tool call runs again only if the tool is idempotent; else onInterrupted decides or it fails with InterruptedError', async () => {
  let run = await interruptedToolRun({});
  let { result } = await resume('cut', run.fn, { model: run.model(), durable: { storage: run.storage } });
  await result.text;
  assert.deepEqual(run.ran, [], 'a non-idempotent tool is not run again by default');
  const toolError = (await result.steps)[0].toolResults[0];
  assert.match(JSON.stringify(toolError), /had started .* but not completed/);
  assert.ok(new InterruptedError('x') instanceof Error);

  run = await interruptedToolRun({ idempotent: true });
  ({ result } = await resume('cut', run.fn, { model: run.model(), durable: { storage: run.storage } }));
  assert.equal(await result.text, 'Charged.');
  assert.deepEqual(run.ran, [500], 'an idempotent tool runs again');

  run = await interruptedToolRun({});
  const asked = [];
  ({ result } = await resume('cut', run.fn, {
    model: run.model(),
    durable: { storage: run.storage, onInterrupted: (call) => (asked.push(call), { result: 'charged 500 (from the payment log)' }) },
  }));
  assert.equal(await result.text, 'Charged.');
  assert.deepEqual(run.ran, [], 'onInterrupted answered it');
  assert.equal(asked[0].toolName, 'charge');
  assert.deepEqual(asked[0].args, { cents: 500 });
  assert.equal(asked[0].toolCallId, 't1');
  assert.equal((await result.steps)[0].toolResults[0].result, 'charged 500 (from the payment log)');
});

test('durable: suspend() while an approval is pending saves the run; resume asks again and finishes without repeating earlier tools', async () => {
  const dir = tempDir();
  const storage = fileStorage(join(dir, 'journal'), { durable: false });
  const ran = [];
  const fn = (ctx) => {
    ctx.defTool('read', 'Reads', { type: 'object', properties: {} }, () => (ran.push('read'), 'contents'));
    ctx.defApproval('destructive', { message: 'Delete it?' });
    ctx.defTool('remove', 'Deletes', { type: 'object', properties: {} }, () => (ran.push('remove'), 'deleted'), { approval: 'destructive' });
    ctx.$`Read, then delete.`;
  };
  const model = () => conversationModelFor([
    [{ type: 'tool-call', toolCallId: 'r', toolName: 'read', args: {} }],
    [{ type: 'tool-call', toolCallId: 'd', toolName: 'remove', args: {} }],
    [{ type: 'text', text: 'Read and deleted.' }],
  ]);
  const first = await runPrompt(fn, { model: model(), onApproval: () => undefined, durable: { id: 'job-1', storage } });
  for (let i = 0; i < 500 && first.prompt.approvals.pending().length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  assert.equal(first.prompt.approvals.pending().length, 1, 'the run waits for the approval');
  await first.prompt.suspend();
  await assert.rejects(first.result.text, RunSuspendedError);
  assert.deepEqual(ran, ['read']);

  const asked = [];
  const second = await resume('job-1', fn, { model: model(), onApproval: (request) => (asked.push(request.message), 'approve'), durable: { storage } });
  assert.equal(await second.result.text, 'Read and deleted.');
  assert.deepEqual(asked, ['Delete it?'], 'the pending approval is asked again');
  assert.deepEqual(ran, ['read', 'remove'], 'read ran once, remove once, after the approval');
});

test('durable: onStepFinish reports each step once across a suspend and resume, and not at all in a replay', async () => {
  const storage = memoryStorage();
  const fn = (ctx) => {
    ctx.defTool('read', 'Reads', { type: 'object', properties: {} }, () => 'contents');
    ctx.defApproval('destructive', { message: 'Delete it?' });
    ctx.defTool('remove', 'Deletes', { type: 'object', properties: {} }, () => 'deleted', { approval: 'destructive' });
    ctx.$`Read, then delete.`;
  };
  const model = () => conversationModelFor([
    [{ type: 'tool-call', toolCallId: 'r', toolName: 'read', args: {} }],
    [{ type: 'tool-call', toolCallId: 'd', toolName: 'remove', args: {} }],
    [{ type: 'text', text: 'Read and deleted.' }],
  ]);
  const reported = [];
  const onStepFinish = (who) => async (step) => {
    await new Promise((r) => setTimeout(r, 2));
    reported.push(`${who} ${step.stepNumber}`);
  };
  const first = await runPrompt(fn, { model: model(), onApproval: () => undefined, durable: { id: 'steps-1', storage }, onStepFinish: onStepFinish('first') });
  for (let i = 0; i < 500 && first.prompt.approvals.pending().length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  await first.prompt.suspend();
  await assert.rejects(first.result.text, RunSuspendedError);
  const second = await resume('steps-1', fn, { model: model(), onApproval: () => 'approve', durable: { storage }, onStepFinish: onStepFinish('resumed') });
  assert.equal(await second.result.text, 'Read and deleted.');
  assert.deepEqual(reported, ['first 0', 'resumed 1', 'resumed 2']);

  reported.length = 0;
  const replayed = await replay(second.prompt.journal, fn, { model: uncalled(model()), onApproval: () => 'approve', onStepFinish: onStepFinish('replay') });
  assert.equal(await replayed.result.text, 'Read and deleted.');
  assert.deepEqual(reported, []);
});

test('durable: a journal that cannot be written stops the run before the next effect (JOURNAL_WRITE_FAILED)', async () => {
  const ran = [];
  const inner = memoryStorage();
  let writes = 0;
  const full = () => {
    if (++writes > 2) throw new Error('disk full');
  };
  const failing = { name: 'flaky', get: (k) => inner.get(k), list: (p) => inner.list(p), delete: (k) => inner.delete(k),
    compareAndSet: async (...a) => (full(), inner.compareAndSet(...a)), set: async (k, v, o) => (full(), inner.set(k, v, o)) };
  const fn = (ctx) => {
    ctx.defTool('act', 'Acts', { type: 'object', properties: {} }, () => (ran.push('act'), 'done'));
    ctx.$`Act twice.`;
  };
  const model = conversationModelFor([
    [{ type: 'tool-call', toolCallId: 'a', toolName: 'act', args: {} }],
    [{ type: 'tool-call', toolCallId: 'b', toolName: 'act', args: {} }],
    [{ type: 'text', text: 'ok' }],
  ]);
  const error = await runPrompt(fn, { model, durable: { id: 'w', storage: failing } }).then((r) => r.result.text).then(() => null, (e) => e);
  assert.ok(error instanceof JournalError, `got ${error}`);
  assert.equal(error.code, 'JOURNAL_WRITE_FAILED');
  assert.match(error.message, /disk full/);
  assert.deepEqual(ran, ['act'], 'the op whose record was not written never ran');
});

test('durable: a run whose last record cannot be stored fails with JOURNAL_WRITE_FAILED instead of finishing; a resume redoes only that turn', async () => {
  // A storage that fails the write of record `failAt` once (counted from a healthy run of the same agent).
  const failingAt = (failAt) => {
    const inner = memoryStorage();
    let failed = false;
    const fails = (key) => !failed && key.endsWith(`:${String(failAt).padStart(10, '0')}`) && (failed = true);
    return { name: 'flaky', get: (k) => inner.get(k), list: (p) => inner.list(p), delete: (k) => inner.delete(k), set: (k, v, o) => inner.set(k, v, o),
      compareAndSet: async (k, e, v, o) => (fails(k) ? Promise.reject(new Error('disk full')) : inner.compareAndSet(k, e, v, o)) };
  };
  const counting = (model) => ({ ...model, calls: 0, async generate(request, opts) { this.calls++; return model.generate(request, opts); } });
  const steps = [[{ type: 'tool-call', toolCallId: 'a', toolName: 'act', args: {} }], [{ type: 'text', text: 'Acted.' }]];
  const ran = [];
  const fn = (ctx) => {
    ctx.defTool('act', 'Acts', { type: 'object', properties: {} }, () => (ran.push('act'), 'done'));
    ctx.$`Act once.`;
  };
  const healthy = memoryStorage();
  await (await runPrompt(fn, { model: conversationModelFor(steps), durable: { id: 'count', storage: healthy } })).result.text;
  const last = (await loadJournal('count', healthy)).records.length;

  // Its result used to resolve ('Acted.') while the record holding the model's answer was lost.
  ran.length = 0;
  const storage = failingAt(last);
  const first = await runPrompt(fn, { model: conversationModelFor(steps), durable: { id: 'p', storage } });
  const error = await first.result.text.then(() => null, (e) => e);
  assert.ok(error instanceof JournalError, `got ${error}`);
  assert.equal(error.code, 'JOURNAL_WRITE_FAILED');
  assert.match(error.message, new RegExp(`writing journal record ${last} failed: storage adapter "flaky" failed in compareAndSet\\("lmthing:journal:p:\\d+"\\): disk full`));
  assert.equal((await storage.get('lmthing:journal:p:status')).value.state, 'failed');
  const model = counting(conversationModelFor(steps));
  const resumed = await resume('p', fn, { model, durable: { storage } });
  assert.equal(await resumed.result.text, 'Acted.');
  assert.deepEqual(ran, ['act'], 'the tool ran once, in the first run');
  assert.equal(model.calls, 1, 'the resume asked the model again only for the lost turn');

  // The same for a directive run.
  const agent = function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).text;
  };
  const answer = [[{ type: 'text', text: 'Hello.' }]];
  await run(agent, { models: { default: conversationModelFor(answer) }, durable: { id: 'dcount', storage: healthy } });
  const directiveStorage = failingAt((await loadJournal('dcount', healthy)).records.length);
  const directiveError = await run(agent, { models: { default: conversationModelFor(answer) }, durable: { id: 'd', storage: directiveStorage } }).then(() => null, (e) => e);
  assert.equal(directiveError?.code, 'JOURNAL_WRITE_FAILED', String(directiveError));
  assert.equal(await resume('d', agent, { models: { default: conversationModelFor(answer) }, durable: { storage: directiveStorage } }), 'Hello.');
});

test('durable: an aborted run stays aborted: its resume replays the abort and says so (suspend() is the way to stop a run to continue it)', async () => {
  let called;
  const slow = {
    provider: 'test',
    modelId: 'slow',
    async generate(request, { signal } = {}) {
      called();
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 5_000);
        signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
      });
      return { content: [{ type: 'text', text: 'late' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  const storage = memoryStorage();
  const abortedRun = async (start) => {
    const controller = new AbortController();
    const modelCalled = new Promise((resolve) => (called = resolve));
    const started = start(controller.signal);
    // Stopped while the model is answering (the journal has the run's start by then).
    await modelCalled;
    controller.abort(new Error('the user pressed stop'));
    return started.then(() => null, (e) => e);
  };
  const fn = (ctx) => ctx.$`Go.`;
  const first = await abortedRun((abortSignal) => runPrompt(fn, { model: slow, abortSignal, durable: { id: 'stopped', storage } }).then((r) => r.result.text));
  assert.equal(first?.message, 'the user pressed stop');
  const resumed = await resume('stopped', fn, { model: slow, durable: { storage } }).then((r) => r.result.text).then(() => null, (e) => e);
  assert.ok(resumed?.code === 'ABORTED', String(resumed));
  // It used to repeat the first abort's own message, which this resume had not been given.
  assert.match(resumed.message, /^durable run "stopped" was aborted before \(journal record \d+: the user pressed stop\); its journal ends with that abort, so resuming it ends the same way\. .*prompt\.suspend\(\)/);
  assert.equal(resumed.cause?.message, 'the user pressed stop');

  const agent = function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).text;
  };
  const directive = await abortedRun((signal) => run(agent, { models: { default: slow }, signal, durable: { id: 'stopped-directive', storage } }));
  assert.equal(directive?.message, 'the user pressed stop');
  const directiveResumed = await resume('stopped-directive', agent, { models: { default: slow }, durable: { storage } }).then(() => null, (e) => e);
  assert.match(String(directiveResumed?.message), /^durable run "stopped-directive" was aborted before \(journal record \d+: the user pressed stop\)/);
});

test('durable: the journal on a real redis-server; a suspended run resumes in another engine', async (t) => {
  let redis;
  try {
    redis = await startRedis();
  } catch (err) {
    t.skip(`redis-server is not available: ${err.message}`);
    return;
  }
  try {
    const storage = redisStorage({ url: redis.url, keyPrefix: 'durable-test:' });
    const { fn, config, transcript } = await recordedScenario();
    let approvals = 0;
    const first = await runPrompt(fn, { ...config(storage, 'redis-run'), onApproval: () => (++approvals === 2 ? undefined : 'approve') });
    for (let i = 0; i < 1000 && first.prompt.approvals.pending().length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    await first.prompt.suspend();
    await assert.rejects(first.result.text, RunSuspendedError);
    const stored = await loadJournal('redis-run', storage);
    assert.ok(stored.records.length > 10);
    const second = await resume('redis-run', fn, config(storage, 'redis-run'));
    assert.equal(await transcriptOf(second.result), transcript);
    await storage.close();
  } finally {
    await redis.stop();
  }
  void conversationModel;
});

// ------------------------------------------------------------------ directive runs

/** A directive agent with a tool and two parallel branches; its model answers from the conversation. */
function directiveScenario() {
  const ran = [];
  const model = {
    provider: 'test',
    modelId: 'directive',
    async generate(request) {
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      const last = request.messages.at(-1);
      const content = step === 0 && String(last.content).includes('Add')
        ? [{ type: 'tool-call', toolCallId: 'add1', toolName: 'add', args: { a: 2, b: 3 }, argsText: '{"a":2,"b":3}' }]
        : [{ type: 'text', text: `answer after ${request.messages.length} messages` }];
      return { content, finishReason: content[0].type === 'tool-call' ? 'tool-calls' : 'stop', usage: { inputTokens: 2, outputTokens: 1 } };
    },
  };
  const agent = function* () {
    yield* L.system`You add.`;
    yield* L.tool('add', 'Adds', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }, ({ a, b }) => (ran.push([a, b]), a + b));
    yield* L.user`Add 2 and 3`;
    const first = yield* L.reply;
    const [x, y] = yield* L.branch([
      function* () {
        yield* L.user`again`;
        return (yield* L.reply).text;
      },
      function* () {
        yield* L.user`once more`;
        return (yield* L.reply).text;
      },
    ]);
    return `${first.text} | ${x} | ${y}`;
  };
  return { agent, model, ran };
}

test('durable directive run: replay is identical with no tool run; resumed after any loop turn it returns the same value', async () => {
  const { agent, model, ran } = directiveScenario();
  const storage = memoryStorage();
  const value = await run(agent, { models: { default: model }, durable: { id: 'directive', storage } });
  assert.deepEqual(ran, [[2, 3]]);
  const journal = await loadJournal('directive', storage);
  ran.length = 0;
  assert.equal(await replay(journal, agent, { models: { default: uncalled(model) } }), value);
  assert.deepEqual(ran, [], 'no tool ran during the replay');
  for (const cut of journal.records.map((r) => r.seq)) {
    ran.length = 0;
    const cutStorage = await cutJournal(journal, cut, `d${cut}`);
    assert.equal(await resume(`d${cut}`, agent, { models: { default: model }, durable: { storage: cutStorage } }), value, `resumed after record ${cut}`);
    const toolDone = journal.records.slice(0, cut).some((r) => r.lines.some((l) => l.includes('"op.done"') && l.includes('"value":5')));
    assert.deepEqual(ran, toolDone ? [] : [[2, 3]].slice(0, ran.length), `the completed tool call is not run again (cut ${cut})`);
  }
});

test('durable directive run: an agent that sends something else than the journal holds fails with ReplayDivergenceError', async () => {
  const { agent, model } = directiveScenario();
  const storage = memoryStorage();
  await run(agent, { models: { default: model }, durable: { id: 'directive-change', storage } });
  const journal = await loadJournal('directive-change', storage);
  const changed = function* () {
    yield* L.system`You add.`;
    yield* L.user`Something else entirely`;
    return (yield* L.reply).text;
  };
  const error = await replay(journal, changed, { models: { default: uncalled(model) } }).then(() => null, (e) => e);
  assert.ok(error instanceof ReplayDivergenceError, `got ${error}`);
  assert.match(error.expected, /the recorded conversation\.tool\.enable #\d+/);
  assert.match(error.actual, /^conversation\.append \(the code or config changed\)/);
});

test('durable: an approval nobody can answer suspends the run; the decision stored from elsewhere is applied on resume without asking', async () => {
  const storage = memoryStorage();
  const ran = [];
  const fn = (ctx) => {
    ctx.defApproval('pay', { message: 'Pay 5 EUR?' });
    ctx.defTool('payOut', 'Pays', { type: 'object', properties: {} }, () => (ran.push('pay'), 'paid'), { approval: 'pay' });
    ctx.$`Pay.`;
  };
  const model = () => conversationModelFor([[{ type: 'tool-call', toolCallId: 'p', toolName: 'payOut', args: {} }], [{ type: 'text', text: 'Paid.' }]]);
  const first = await runPrompt(fn, { model: model(), durable: { id: 'pay-1', storage } }); // no onApproval, no terminal
  await assert.rejects(first.result.text, RunSuspendedError);
  const approvals = durableApprovals(storage);
  const [pending] = await approvals.pending('pay-1');
  assert.equal(pending.message, 'Pay 5 EUR?');
  assert.deepEqual(pending.preview, { toolName: 'payOut', args: {} });
  await assert.rejects(approvals.respond('pay-1', 'approval-9', 'approve'), /no pending approval request "approval-9" \(pending: approval-1\)/);
  await assert.rejects(approvals.respond('pay-1', pending.request, 'maybe'), /must be one of 'approve', 'deny'/);
  await approvals.respond('pay-1', pending.request, 'approve');
  // The first answer stands: a second approver is told, not silently obeyed.
  await assert.rejects(approvals.respond('pay-1', pending.request, 'deny'), /approval request "approval-1" of run "pay-1" already has an answer/);
  const second = await resume('pay-1', fn, { model: model(), onApproval: () => assert.fail('the stored decision must be used'), durable: { storage } });
  assert.equal(await second.result.text, 'Paid.');
  assert.deepEqual(ran, ['pay']);
  assert.deepEqual(await approvals.pending('pay-1'), [], 'nothing pending once the run finished');
});

test('durable directive run: suspend() saves it and resume continues it', async () => {
  const storage = memoryStorage();
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const ran = [];
  const agent = function* () {
    yield* L.tool('wait', 'Waits', { type: 'object', properties: {} }, async () => (ran.push('wait'), await gate, 'waited'));
    yield* L.user`Wait, then answer.`;
    return (yield* L.reply).text;
  };
  const model = conversationModelFor([[{ type: 'tool-call', toolCallId: 'w', toolName: 'wait', args: {} }], [{ type: 'text', text: 'Done waiting.' }]]);
  const first = run(agent, { models: { default: model }, durable: { id: 'dir-suspend', storage } });
  for (let i = 0; i < 500 && ran.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  await first.suspend();
  await assert.rejects(first, RunSuspendedError);
  assert.ok(first.journal().records.length > 0);
  release();
  const second = await resume('dir-suspend', agent, { models: { default: model }, durable: { storage, onInterrupted: () => ({ result: 'waited' }) } });
  assert.equal(second, 'Done waiting.');
  assert.deepEqual(ran, ['wait'], 'the interrupted tool was answered by onInterrupted, not run again');
});

test('durable: two resumes of one run at once without a lease: the second writer stops with JOURNAL_CONFLICT and no tool runs twice', async () => {
  const storage = memoryStorage();
  const ran = [];
  const fn = (ctx) => {
    ctx.defApproval('go', { message: 'Go?' });
    ctx.defTool('act', 'Acts', { type: 'object', properties: {} }, () => (ran.push('act'), 'acted'), { approval: 'go' });
    ctx.$`Act.`;
  };
  const model = () => conversationModelFor([[{ type: 'tool-call', toolCallId: 'a', toolName: 'act', args: {} }], [{ type: 'text', text: 'Acted.' }]]);
  const first = await runPrompt(fn, { model: model(), durable: { id: 'twice', storage } }); // suspends on the approval
  await assert.rejects(first.result.text, RunSuspendedError);
  const [a, b] = await Promise.all([
    resume('twice', fn, { model: model(), onApproval: () => 'approve', durable: { storage } }),
    resume('twice', fn, { model: model(), onApproval: () => 'approve', durable: { storage } }),
  ]);
  const outcomes = await Promise.allSettled([a.result.text, b.result.text]);
  const failed = outcomes.filter((o) => o.status === 'rejected');
  assert.equal(failed.length, 1, 'one of the two stops');
  assert.equal(failed[0].reason.code, 'JOURNAL_CONFLICT');
  assert.equal(outcomes.find((o) => o.status === 'fulfilled').value, 'Acted.');
  assert.deepEqual(ran, ['act'], 'the tool ran once');
});

test('durable: deleteJournal removes a run\'s records, status and stored decisions, and only that run\'s', async () => {
  const storage = memoryStorage();
  const fn = (ctx) => ctx.$`Hi.`;
  for (const id of ['a', 'a:b']) await (await runPrompt(fn, { model: conversationModelFor([[{ type: 'text', text: 'hello' }]]), durable: { id, storage } })).result.text;
  const before = (await storage.list('lmthing:journal:a:b:')).length;
  assert.ok((await deleteJournal('a', storage)) >= 2);
  await assert.rejects(loadJournal('a', storage), (e) => e.code === 'JOURNAL_MISSING');
  assert.equal((await storage.list('lmthing:journal:a:b:')).length, before, 'run "a:b" is untouched');
  assert.equal((await loadJournal('a:b', storage)).records.length > 0, true);
});

test('durable: a model call that failed or was given up on after showing text shows the same text on replay', async () => {
  // A custom model streams two deltas, then fails in its own way, or hangs until the engine's
  // modelTimeout gives up on it, or until the run is aborted. Only a ProviderError keeps its partial
  // text itself; the others reach the journal through the host (Engine.noteShownText, the error).
  const failures = {
    'a RateLimitError': () => Promise.reject(new RateLimitError('slow down', 10)),
    'a TimeoutError of its own': () => Promise.reject(new TimeoutError('idle')),
    "the engine's modelTimeout": () => new Promise(() => {}),
    'the run aborted': (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    // A busy host: every pump but the first of a stretch is a macrotask (the engine yields after
    // 5 ms of work), so the note of the shown text must not wait for one: the run's end is seen first.
    "the engine's modelTimeout on a busy host, after a long text": () => new Promise(() => {}),
  };
  const realNow = performance.now;
  for (const [what, fail] of Object.entries(failures)) {
    const busy = what.includes('busy');
    const deltas = busy ? Array.from({ length: 400 }, (_, i) => `${i}: é ${'x'.repeat(60)}\n`) : ['Hel', 'lo, wor'];
    const model = {
      provider: 'test',
      modelId: 'cut',
      async generate(_req, opts) {
        for (const text of deltas) opts.onDelta?.({ type: 'text-delta', text });
        return fail(opts.signal);
      },
    };
    const controller = new AbortController();
    const modelTimeout = what.includes('modelTimeout') ? 200 : 60_000;
    const { result, prompt } = await runPrompt((ctx) => ctx.$`hi`, { model, modelTimeout, abortSignal: controller.signal, durable: { id: `shown-${what}`, storage: memoryStorage() } });
    let skew = 0;
    if (busy) performance.now = () => realNow.call(performance) + (skew += 6);
    const live = [];
    try {
      for await (const delta of result.textStream) {
        live.push(delta);
        if (live.length === 2 && what === 'the run aborted') controller.abort();
      }
    } finally {
      performance.now = realNow;
    }
    const liveError = await result.text.then(() => null, (err) => err);
    await prompt.finished.catch(() => {});
    assert.deepEqual(live, deltas, what);
    assert.ok(liveError, `${what}: the run failed`);

    const offline = { provider: 'test', modelId: 'cut', generate: () => Promise.reject(new Error('the replay called the model')) };
    const again = await replay(prompt.journal, (ctx) => ctx.$`hi`, { model: offline, modelTimeout });
    const replayed = [];
    for await (const delta of again.result.textStream) replayed.push(delta);
    const replayError = await again.result.text.then(() => null, (err) => err);
    assert.deepEqual(replayed, live, `${what}: the replay showed the text in the same chunks`);
    assert.equal(replayError?.name, liveError.name, `${what}: the same failure`);
    assert.equal(replayError?.message, liveError.message, what);
  }
});

test('durable: includeRawChunks: a call that failed or was given up on shows the same raw chunks between the same deltas on replay', async () => {
  // The raw chunks reach the journal with the call's error (its own failure) or with the host's
  // note of what was shown (the engine gave up on the call: Engine.noteShownText), text or not.
  const failures = {
    'a RateLimitError': () => Promise.reject(new RateLimitError('slow down', 10)),
    "the engine's modelTimeout": () => new Promise(() => {}),
    'the run aborted': (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    "the engine's modelTimeout, raw chunks and no text": () => new Promise(() => {}),
  };
  for (const [what, fail] of Object.entries(failures)) {
    const noText = what.includes('no text');
    const script = noText ? [{ raw: { n: 0 } }, { raw: { n: 1 } }] : [{ raw: { n: 0 } }, { text: 'Hel' }, { raw: { n: 1 } }, { raw: '[line]' }, { text: 'lo' }, { raw: { n: 2 } }];
    const model = {
      provider: 'test',
      modelId: 'cut',
      async generate(_req, opts) {
        for (const step of script) {
          if (step.raw !== undefined && opts.includeRawChunks) opts.onDelta?.({ type: 'raw', rawValue: step.raw });
          if (step.text !== undefined) opts.onDelta?.({ type: 'text-delta', text: step.text });
        }
        return fail(opts.signal);
      },
    };
    const controller = new AbortController();
    const modelTimeout = what.includes('modelTimeout') ? 200 : 60_000;
    const config = { model, modelTimeout, includeRawChunks: true, maxRetries: 0 };
    const { result, prompt } = await runPrompt((ctx) => ctx.$`hi`, { ...config, abortSignal: controller.signal, durable: { id: `raw-${what}`, storage: memoryStorage() } });
    const shown = (part) => part.type === 'raw' || part.type === 'text-delta';
    const live = [];
    for await (const part of result.fullStream) {
      if (shown(part)) live.push(part);
      if (what === 'the run aborted' && live.length === script.length) controller.abort();
    }
    const liveError = await result.text.then(() => null, (err) => err);
    await prompt.finished.catch(() => {});
    assert.equal(live.length, script.length, `${what}: every raw chunk and delta was shown`);
    assert.ok(liveError, `${what}: the run failed`);

    const offline = { provider: 'test', modelId: 'cut', generate: () => Promise.reject(new Error('the replay called the model')) };
    const again = await replay(prompt.journal, (ctx) => ctx.$`hi`, { ...config, model: offline });
    const replayed = [];
    for await (const part of again.result.fullStream) if (shown(part)) replayed.push(part);
    assert.deepEqual(replayed, live, `${what}: the replay showed the same raw chunks between the same deltas`);
    assert.equal((await again.result.text.then(() => null, (err) => err))?.message, liveError.message, what);
  }
});

test("durable directive run: a replay's textStream streams the root's L.stream text again, with no model", async () => {
  const agent = async function* () {
    yield* L.user`hi`;
    yield* L.stream;
    return 'ok';
  };
  const model = mockModel([{ type: 'text', text: 'streamed once, shown twice' }]);
  const storage = memoryStorage();
  const live = run(agent, { models: { default: model }, durable: { id: 'streamed', storage } });
  const liveText = [];
  for await (const delta of live.textStream) liveText.push(delta);
  assert.equal(await live, 'ok');
  const replayed = replay(await loadJournal('streamed', storage), agent, { models: { default: uncalled(model) } });
  const replayedText = [];
  for await (const delta of replayed.textStream) replayedText.push(delta);
  assert.equal(await replayed, 'ok');
  assert.equal(liveText.join(''), 'streamed once, shown twice');
  assert.deepEqual(replayedText, liveText);
});

test('durable: durableApprovals.respond refuses a modify without modifiedData, as the live desk does', async () => {
  const storage = memoryStorage();
  const fn = (ctx) => {
    ctx.defApproval('rm', { message: 'Remove?', options: ['approve', 'deny', 'modify'] });
    ctx.defTool('remove', 'Removes', { type: 'object', properties: { path: { type: 'string' } } }, ({ path }) => `removed ${path}`, { approval: 'rm' });
    ctx.$`Remove /a.`;
  };
  const model = () => conversationModelFor([[{ type: 'tool-call', toolCallId: 'r', toolName: 'remove', args: { path: '/a' } }], [{ type: 'text', text: 'Removed.' }]]);
  const first = await runPrompt(fn, { model: model(), durable: { id: 'modify-1', storage } });
  await assert.rejects(first.result.text, RunSuspendedError);
  const approvals = durableApprovals(storage);
  const [pending] = await approvals.pending('modify-1');
  await assert.rejects(approvals.respond('modify-1', pending.request, { action: 'modify' }), /action "modify" needs "modifiedData"/);
  await approvals.respond('modify-1', pending.request, { action: 'modify', modifiedData: { path: '/b' } });
  const second = await resume('modify-1', fn, { model: model(), durable: { storage } });
  assert.equal(await second.result.text, 'Removed.');
  const results = (await second.result.response).messages.filter((m) => m.role === 'tool').map((m) => m.content[0].result);
  assert.deepEqual(results, ['removed /b']);
});
