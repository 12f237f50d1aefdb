// Durable runs across the package's features (issue 20: "cover every feature that exists"). Each
// scenario below is a durable run that exercises a group of features; for each one:
//   (a) replay of its whole journal gives the identical text, steps, events and response messages,
//       and runs no tool;
//   (b) resumed after every loop-turn cut (the first k records copied into a fresh storage), the
//       run ends with the identical transcript;
//   (c) no tool whose completion was journaled runs again (each non-idempotent tool logs its runs in
//       a "world" shared by the original run and its resumes, and tags its result with a key, so a
//       completion can be found in a journal's op.done lines), and no op that completed before the
//       cut is handed out again.
// Models answer from the conversation they are sent (tests/js/helpers/durable-scenario.mjs), never
// in call order, so a resumed run asks the same questions. Interrupted tools are run again
// (`onInterrupted: () => 'rerun'`): they are deterministic given the world.
//
// Cuts that once broke a resume are also checked on their own at the end: cuts where an interrupted
// callback had already sent commands to the engine (interruptedSenders), cuts where a sub-agent's
// run.start is not journaled yet behind later records (pendingAgentStarts), a state save written
// but not journaled.
// Debugging: DURABLE_CUTS=3,7 checks only those cuts; DURABLE_DEBUG=1 prints the journal of a cut
// whose transcript differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { durableApprovals, L, loadJournal, memoryStorage, offlineEmbedding, Output, replay, resume, run, runPrompt } from '../../dist/node.js';

// ------------------------------------------------------------------------------------ harness

const call = (toolName, toolCallId, args = {}) => ({ type: 'tool-call', toolCallId, toolName, args, argsText: JSON.stringify(args) });
const text = (t) => ({ type: 'text', text: t });
const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const answer = (content) => ({ content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage });
const assistantTurns = (request) => request.messages.filter((m) => m.role === 'assistant').length;
const systemOf = (request) => String(request.messages.find((m) => m.role === 'system')?.content ?? '');

/** A model with `like`'s name that must not be called (replays answer from the journal). */
const uncalled = (like) => ({ provider: like.provider, modelId: like.modelId, generate: () => Promise.reject(new Error('the model was called during a replay')) });

/** Copies the first `count` records of `journal` into a fresh storage under `id`: a run interrupted after that loop turn. */
async function cutJournal(journal, count, id) {
  const storage = memoryStorage();
  for (const record of journal.records.slice(0, count)) await storage.set(`lmthing:journal:${id}:${String(record.seq).padStart(10, '0')}`, record);
  return storage;
}

/** What a prompt run must end with, however often it was interrupted. */
async function transcriptOf(result) {
  return JSON.stringify({ text: await result.text, steps: await result.steps, messages: (await result.response).messages });
}

/** `promise`, or a rejection naming `what` once it has not settled for `ms` (a hung run keeps the event loop alive with this timer). */
function withTimeLimit(promise, what, ms) {
  let timer;
  const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms (it hangs)`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Asserts the run raised every event type in `types` (the features of the scenario did run). */
function assertRaised(events, types) {
  const raised = new Set(events.map((e) => e.type));
  assert.deepEqual(types.filter((t) => !raised.has(t)), [], 'event types the scenario must raise');
}

/** The op.done lines of the first `count` records. */
const doneLines = (journal, count) => journal.records.slice(0, count).flatMap((r) => r.lines).filter((l) => l.includes('"op.done"'));
const doneIds = (journal, count) => new Set(doneLines(journal, count).map((l) => JSON.parse(l).id));

/**
 * The external world of a scenario: shared by the original run and all its resumes (a flaky service
 * that failed once stays "fixed"; the log of what the tools did). `key` tags a tool's result, so that
 * its completion can be found in a journal.
 */
function newWorld() {
  const world = {
    stateStorage: memoryStorage(), // where persisted state lives
    ran: [], // keys of non-idempotent executions, in order
    flaky: new Set(),
    tag: (key) => `#${key}#`,
    exec(key) {
      world.ran.push(key);
      return world.tag(key);
    },
  };
  return world;
}

/**
 * Checks a prompt scenario: `build(world)` returns `{fn, config(durable), model}` (a fresh prompt
 * function and config, as a new process would have them). (a) is asserted at once; (b) and (c) are
 * checked at each cut `cuts(journal)` keeps (default: every record) and the problems are returned,
 * one line per cut, for the test to assert on.
 */
async function checkPromptScenario(name, build, { cuts: keepCut = () => true, state, prepare, final, replayOnly = false, deadlineMs = 5000 } = {}) {
  const withDeadline = (promise, what) => withTimeLimit(promise, what, deadlineMs);
  const world = newWorld();
  const original = build(world);
  const first = await withDeadline(runPrompt(original.fn, original.config({ id: name, storage: memoryStorage(), onInterrupted: () => 'rerun' })), `${name}: the run`);
  const transcript = await withDeadline(transcriptOf(first.result), `${name}: the run`);
  await withDeadline(first.prompt.finished, `${name}: the run`);
  const events = JSON.stringify(first.prompt.events);
  const journal = first.prompt.journal;
  assert.equal(new Set(world.ran).size, world.ran.length, `${name}: every tool call ran once in the uninterrupted run (${world.ran})`);
  const stateAfter = state ? await state(original) : undefined;
  const finalAfter = final ? JSON.stringify(await final(first.prompt)) : undefined;

  // (a) replay: identical, no tool.
  world.ran.length = 0;
  const again = build(world);
  const replayed = await withDeadline(replay(journal, again.fn, { ...again.config(undefined), model: uncalled(again.model), durable: undefined }), `${name}: the replay`);
  assert.equal(await withDeadline(transcriptOf(replayed.result), `${name}: the replay`), transcript, `${name}: replay gives the same text, steps and messages`);
  await withDeadline(replayed.prompt.finished, `${name}: the replay`);
  if (JSON.stringify(replayed.prompt.events) !== events) assert.fail(`${name}: replay events differ: ${firstDifference(first.prompt.events, replayed.prompt.events)}`);
  assert.deepEqual(world.ran, [], `${name}: no tool ran during the replay`);
  if (replayOnly) return { journal, world, problems: [], checked: [], events: first.prompt.events };

  // (b) + (c): resume after every cut.
  const only = process.env.DURABLE_CUTS?.split(',').map(Number);
  const checked = journal.records.map((r) => r.seq).filter((seq) => (only ? only.includes(seq) : keepCut(journal, seq)));
  const problems = [];
  for (const cut of checked) {
    world.ran.length = 0;
    const id = `${name}-cut${cut}`;
    const cutStorage = await cutJournal(journal, cut, id);
    await prepare?.(world, journal, cut); // the world as it was when the run stopped
    const resumedBuild = build(world);
    const what = `resumed after record ${cut} of ${journal.records.length}`;
    const resumed = await withDeadline(resume(id, resumedBuild.fn, resumedBuild.config({ storage: cutStorage, onInterrupted: () => 'rerun' })), what).catch((e) => e);
    if (resumed instanceof Error) {
      problems.push(`${what}: ${resumed.message}`);
      continue;
    }
    const got = await withDeadline(transcriptOf(resumed.result), what).catch((e) => `failed: ${e?.stack ?? e}`);
    if (got !== transcript) {
      if (process.env.DURABLE_DEBUG) dumpJournal(journal, cut);
      problems.push(`${what}: the transcript differs ${firstStringDifference(transcript, got)}`);
    }
    await withDeadline(resumed.prompt.finished, what).catch((e) => problems.push(`${what}: ${e.message}`));
    // (c) tools whose completion the cut journal holds did not run again ...
    const done = doneLines(journal, cut).join('\n');
    const reran = world.ran.filter((key) => done.includes(world.tag(key)));
    if (reran.length > 0) problems.push(`${what}: completed tool calls ran again: ${reran}`);
    const twice = world.ran.filter((key, i) => world.ran.indexOf(key) !== i);
    if (twice.length > 0) problems.push(`${what}: tool calls ran twice: ${twice}`);
    // ... and no op that completed before the cut was handed out again.
    const completed = doneIds(journal, cut);
    const repeated = resumed.prompt.journal.records.slice(cut).flatMap((r) => r.ops).filter((o) => completed.has(o.id));
    if (repeated.length > 0) problems.push(`${what}: completed ops were performed again: ${JSON.stringify(repeated)}`);
    if (final) {
      const got = JSON.stringify(await final(resumed.prompt));
      if (got !== finalAfter) problems.push(`${what}: ${got} where the uninterrupted run has ${finalAfter}`);
    }
    if (state) {
      const stored = await state(resumedBuild);
      if (JSON.stringify(stored) !== JSON.stringify(stateAfter)) problems.push(`${what}: the stored state is ${JSON.stringify(stored)}, not ${JSON.stringify(stateAfter)}`);
    }
  }
  return { journal, world, problems, checked, events: first.prompt.events };
}

const queries = new Set(['state.view', 'template.render']); // commands that change nothing

/**
 * The callback ops in flight after record `cut` of `journal` that had sent commands to the engine
 * since they were handed out, reads aside (a state change, a metric, an emitted event, a workflow, pipeline,
 * parallel group, batch item or memory operation they started). Those commands are in the journal;
 * a resume runs the callback again, which sends them again. Commands that name the op that sent them
 * (`scope`) are attributed to it; the others to every callback in flight. A sub-agent's `run.start`
 * (a `defAgent` call) is not counted, nor is the call of a sub-agent: a resume claims its run.start.
 */
function interruptedSenders(journal, cut) {
  const done = doneIds(journal, cut);
  const lines = journal.records.flatMap((r) => r.lines.map((l) => JSON.parse(l)));
  const agentCalls = new Set(lines.filter((m) => m.type === 'run.start' && m.spec?.parentOp !== undefined).map((m) => m.spec.parentOp));
  const senders = [];
  for (const record of journal.records.slice(0, cut)) {
    for (const op of record.ops) {
      if (op.op !== 'callback.invoke' || done.has(op.id) || agentCalls.has(op.id)) continue;
      const sent = journal.records
        .slice(record.seq, cut)
        .flatMap((r) => r.lines.map((l) => JSON.parse(l)))
        .filter((m) => m.type !== 'op.done' && !queries.has(m.type) && !(m.type === 'run.start' && m.spec?.parentOp !== undefined))
        .filter((m) => m.scope === undefined || m.scope === op.id);
      if (sent.length > 0) senders.push(`op ${op.id} (${op.fn}) had sent ${sent.map((m) => m.type).join(', ')}`);
    }
  }
  return senders;
}

/**
 * The sub-agent calls handed out before record `cut` whose `run.start` the journal does not hold by
 * then, while it holds later records: a resume that replays those records while the sub-agent's
 * set-up sends its `run.start` fails with ReplayDivergenceError (see the todo test below).
 */
function pendingAgentStarts(journal, cut) {
  const startedAt = new Map();
  for (const record of journal.records)
    for (const line of record.lines) {
      const message = JSON.parse(line);
      if (message.type === 'run.start' && message.spec?.parentOp !== undefined) startedAt.set(message.spec.parentOp, record.seq);
    }
  const pending = [];
  for (const record of journal.records.slice(0, cut - 1))
    for (const op of record.ops) if (startedAt.has(op.id) && startedAt.get(op.id) > cut) pending.push(`op ${op.id} (${op.fn}) handed out in record ${record.seq}, started in record ${startedAt.get(op.id)}`);
  return pending;
}

/** Cuts a resume is expected to handle today: no interrupted callback had sent commands, no sub-agent start is pending behind later records. */
// Every cut: the cuts the tests below single out are handled too.
const unaffected = () => true;
const affected = (journal, seq) => interruptedSenders(journal, seq).length > 0;

/** A compact view of a journal (DURABLE_DEBUG=1), the cut marked. */
function dumpJournal(journal, cut) {
  for (const r of journal.records) {
    const lines = r.lines.map((l) => {
      const m = JSON.parse(l);
      return `${m.type}${m.id !== undefined ? `#${m.id}` : ''}${m.type === 'op.done' ? `${m.ok ? ' ok ' : ' ERR '}${String(JSON.stringify(m.value ?? m.error)).slice(0, 60)}` : ''}`;
    });
    console.error(`${r.seq === cut ? '>' : ' '}${r.seq} clock ${r.clock} | ${lines.join(', ')} | ops: ${r.ops.map((o) => `${o.id} ${o.op}${o.fn ? ` ${o.fn}` : ''}`).join(', ')}`);
  }
}

/**
 * A `prepare` for scenarios with persisted state: the state storage holds the run's final save when
 * the cut journal has its completion (the original run wrote it before stopping), else nothing yet.
 */
function savedStateAsOf(key) {
  let final;
  return async (world, journal, cut) => {
    final ??= await world.stateStorage.get(key);
    const saves = journal.records.flatMap((r) => r.ops).filter((o) => o.op.startsWith('storage.') && o.op !== 'storage.get').map((o) => o.id);
    const done = doneIds(journal, cut);
    world.stateStorage = memoryStorage();
    if (saves.some((id) => done.has(id))) await world.stateStorage.set(key, final.value);
  };
}

/** Where two event lists first differ, for messages. */
function firstDifference(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `event ${i} of ${a.length}/${b.length}:\n  recorded ${x}\n  replayed ${y}`;
  }
  return 'none';
}

function firstStringDifference(a, b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}:\n  expected …${a.slice(Math.max(0, i - 200), i + 200)}\n  got      …${b.slice(Math.max(0, i - 200), i + 200)}`;
}

// ------------------------------------------------------------------------------------ scenarios

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const qSchema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };

/**
 * Resilience, human in the loop, state and cache, constraints, parallel tool calls.
 */
function resilienceScenario(world) {
  const script = [
    [call('lookup', 'a1', { q: 'wasm' }), call('setCount', 'a2', { n: 2 }), call('flaky', 'a3', { q: 'x' })],
    [call('lookup', 'b1', { q: 'wasm' }), call('broken', 'b2'), call('api', 'b3')],
    [call('api', 'c1'), call('deleteFile', 'c2', { path: '.env' }), call('deleteFile', 'c3', { path: 'a.txt' })],
    [call('summarize', 'd1', { text: 'a very long text that goes on' }), call('readCount', 'd2')],
    [call('summarize', 'e1', { text: 'short' }), call('setCount', 'e2', { n: 5 })],
    [text('All done.')],
  ];
  const model = { provider: 'test', modelId: 'resilience', generate: async (request) => answer(script[assistantTurns(request)]) };
  const stateStorage = world.stateStorage;
  const fn = (ctx) => {
    ctx.defState('counter', { n: 0 }, { persist: true });
    ctx.defCache('lookups', 'lru', { maxSize: 10 });
    ctx.defRetry('twice', { maxAttempts: 2, backoff: 'constant', baseDelay: 20 });
    ctx.defFallback('empty', 'default', { value: { results: [] } });
    ctx.defCircuitBreaker('api-breaker', { failureThreshold: 1, resetTimeout: 60_000 });
    ctx.defConstraint('tokens', 'tokens', { max: 100_000, warn: 40 });
    ctx.defApproval('destructive', { message: (c) => `Delete ${c.args.path}?` });
    ctx.defGuard('noSecrets', ({ path }) => !path.startsWith('.env'), { onFail: 'skip', message: 'secrets stay' });
    ctx.defValidator('brief', { type: 'string' }, (out) => ({ valid: out.length < 40, errors: ['too long'], fix: 'shorter' }));
    ctx.defTool('lookup', 'Looks a word up', qSchema, ({ q }, { toolCallId }) => `${q}: found ${world.exec(`lookup:${toolCallId}`)}`, { cache: 'lookups' });
    // Sets (not adds): running it again after an interruption changes nothing, so it is idempotent.
    ctx.defTool('setCount', 'Sets the counter', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => {
      ctx.getState('counter').n = n;
      return `now ${ctx.getState('counter').n}`;
    }, { idempotent: true });
    ctx.defTool('readCount', 'Reads the counter', objectSchema, () => `the counter is ${ctx.getState('counter').n}`, { idempotent: true });
    ctx.defTool('flaky', 'Fails once', qSchema, ({ q }, { toolCallId }) => {
      if (!world.flaky.has(toolCallId)) {
        world.flaky.add(toolCallId);
        throw new Error(`ECONNRESET ${world.exec(`flaky:${toolCallId}:fail`)}`);
      }
      return `${q} fetched ${world.exec(`flaky:${toolCallId}:ok`)}`;
    }, { retry: 'twice' });
    ctx.defTool('broken', 'Always fails', objectSchema, (_args, { toolCallId }) => {
      throw new Error(`down ${world.exec(`broken:${toolCallId}`)}`);
    }, { fallback: 'empty' });
    ctx.defTool('api', 'Fails', objectSchema, (_args, { toolCallId }) => {
      throw new Error(`503 unavailable ${world.exec(`api:${toolCallId}`)}`);
    }, { circuitBreaker: 'api-breaker' });
    ctx.defTool('deleteFile', 'Deletes a file', { type: 'object', properties: { path: { type: 'string' } } }, ({ path }, { toolCallId }) => `deleted ${path} ${world.exec(`deleteFile:${toolCallId}`)}`, {
      approval: 'destructive',
      guards: ['noSecrets'],
    });
    ctx.defTool('summarize', 'Summarizes', { type: 'object', properties: { text: { type: 'string' } } }, ({ text: t }, { toolCallId }) => `${t} ${world.exec(`summarize:${toolCallId}`)}`, {
      validator: 'brief',
      retryOnFailure: true,
      maxRetries: 2,
    });
    ctx.$`Do the resilient things.`;
  };
  const config = (durable) => ({ model, storage: stateStorage, sessionId: 'alice', maxSteps: 20, onApproval: () => 'approve', ...(durable ? { durable } : {}) });
  return { fn, config, model, stateStorage };
}

test('durable features: retry, fallback, circuit breaker, guard, validator, approval, token constraint, state, cache, parallel tool calls', async (t) => {
  const { problems, events, checked, journal } = await checkPromptScenario('resilience', resilienceScenario, {
    state: async (b) => (await b.stateStorage.get('state:session:alice:counter'))?.value,
    prepare: savedStateAsOf('state:session:alice:counter'),
  });
  assert.deepEqual(problems, []);
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assertRaised(events, ['state-loaded', 'state-saved', 'cache-hit', 'retry', 'fallback', 'circuit-state', 'constraint-warning', 'guard', 'approval-decision', 'validation']);
});

/**
 * Observability (defEvent, emit, defMetric, defTracing with the events exporter, defLogger), a plugin
 * (a tool interceptor and a method), defTemplate/useTemplate, defRole (an approval the role
 * requires), a defAgent sub-agent with a tool of its own, and a model cascade (defFallback).
 */
function observabilityScenario(world) {
  const rootScript = [
    [call('clock', 'a1', { zone: 'utc' }), call('researcher', 'a2', { topic: 'journals' })],
    [call('publish', 'b1', { title: 'On journals' })], // the primary model fails here: the cascade answers
    [call('clock', 'c1', { zone: 'cet' })],
    [text('Published.')],
  ];
  const respond = (request) => {
    if (systemOf(request).includes('You research.')) {
      return assistantTurns(request) === 0 ? answer([call('fetchNotes', 'r1', { q: 'journals' })]) : answer([text('Journals make runs durable.')]);
    }
    return answer(rootScript[assistantTurns(request)]);
  };
  const primary = {
    provider: 'test',
    modelId: 'primary',
    async generate(request) {
      if (!systemOf(request).includes('You research.') && assistantTurns(request) === 1) throw new Error('primary overloaded');
      return respond(request);
    },
  };
  const backup = { provider: 'test', modelId: 'backup', generate: async (request) => respond(request) };
  const audit = {
    name: 'audit',
    version: '1.0.0',
    install(ctx, api) {
      api.method('seen', () => world.audited.slice());
      api.interceptTool(async (call, next) => {
        world.audited.push(call.toolName);
        return `[audited] ${String(await next(call.args))}`;
      });
    },
  };
  world.audited ??= [];
  world.handled ??= [];
  world.logs ??= [];
  const fn = async (ctx) => {
    ctx.defFallback('backupModel', 'cascade', { models: [backup], errors: ['overloaded'] });
    ctx.defTracing('trace', { exporters: ['events'] });
    ctx.defLogger('app', { level: 'info', format: 'json', outputs: [(record) => world.logs.push(record.msg)] });
    ctx.defMetric('clocks', 'counter', { labels: ['zone'] });
    ctx.defEvent('onToolStart', (event) => world.handled.push(`tool ${event.toolName}`));
    ctx.defEvent('noted', (event) => world.handled.push(`noted ${JSON.stringify(event.value)}`));
    ctx.emit('noted', { before: 'the run' });
    await ctx.defPlugin('audit', audit);
    ctx.defTemplate('signature', '-- the {{team}} team');
    const brief = ctx.defTemplate('brief', 'On {{topic}} ({{level}}).\n{{> signature}}', { level: { type: 'enum', values: ['short', 'long'], default: 'short' } });
    ctx.def('team', 'platform');
    ctx.defRole('editor', { systemPrompt: 'You edit and publish.', capabilities: ['editing'], constraints: { requiresApproval: ['publish'] } });
    ctx.assumeRole('editor');
    ctx.defTool('clock', 'The time', { type: 'object', properties: { zone: { type: 'string' } } }, async ({ zone }, { toolCallId }) => {
      await ctx.recordMetric('clocks', 1, { zone });
      ctx.logger.info(`clock ${zone}`);
      await ctx.emit('noted', { zone });
      return `12:00 ${zone} ${world.exec(`clock:${toolCallId}`)}`;
    });
    ctx.defTool('publish', 'Publishes', { type: 'object', properties: { title: { type: 'string' } } }, async ({ title }, { toolCallId }) => {
      const body = await ctx.renderTemplate(brief, { topic: title }); // rendered by the live run's engine
      return `published ${body} ${world.exec(`publish:${toolCallId}`)}`;
    });
    ctx.defAgent('researcher', 'Researches a topic', { type: 'object', properties: { topic: { type: 'string' } } }, (args, child) => {
      child.defTool('fetchNotes', 'Fetches notes', qSchema, ({ q }, { toolCallId }) => `notes on ${q} ${world.exec(`fetchNotes:${toolCallId}`)}`);
      child.$`Research ${args.topic}`;
    }, { system: 'You research.' });
    await ctx.useTemplate(brief, { topic: 'journals', level: 'long' }); // rendered before the run: the replay sends it again
  };
  const config = (durable) => ({ model: primary, fallback: 'backupModel', maxSteps: 20, onApproval: () => 'approve', ...(durable ? { durable } : {}) });
  return { fn, config, model: primary };
}

/** What a run tree counted and emitted: the `clocks` metric and the custom events. */
async function observedTotals(prompt) {
  const { metrics } = await prompt.metrics();
  return { clocks: metrics.find((m) => m.name === 'clocks')?.series, emitted: prompt.events.filter((e) => e.type === 'emitted').map((e) => e.value) };
}

test('durable features: defEvent/emit, defMetric, defTracing (events), defLogger, a plugin, defTemplate (useTemplate before the run, renderTemplate in a tool), defRole, defAgent, a model cascade', async (t) => {
  const { problems, checked, journal, events, world } = await checkPromptScenario('observability', observabilityScenario, { cuts: unaffected, final: observedTotals });
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assert.deepEqual(problems, []);
  assertRaised(events, ['span-start', 'span-end', 'emitted', 'role-assumed', 'fallback', 'approval-decision']);
  assert.ok(world.logs.includes('clock utc'), 'the logger wrote');
  assert.ok(checked.length >= journal.records.length / 2, `${checked.length} of ${journal.records.length} cuts checked (the others: the todo test below)`);
});

/**
 * Orchestration from tools (defWorkflow + ctx.runWorkflow with wctx.runTool / runAgent, defPipeline
 * with a retried stage, defParallel, defBatcher) and defMemory (vector, offlineEmbedding) stored from
 * the prompt function before the run and stored and searched from tools.
 */
function orchestrationScenario(world) {
  const script = [
    [call('flow', 'a1', { files: ['a.ts', 'b.ts'] }), call('remember', 'a2', { text: 'journals make runs durable' })],
    [call('pipe', 'b1', { file: 'doc.txt' }), call('vote', 'b2', { q: 'which' })],
    [call('batchIt', 'c1', { items: ['x', 'y', 'z'] }), call('recall', 'c2', { q: 'durable runs' })],
    [text('Orchestrated.')],
  ];
  const model = {
    provider: 'test',
    modelId: 'orchestration',
    async generate(request) {
      if (systemOf(request).includes('You analyze.')) return answer([text(`{"score": 5, "files": ${JSON.stringify(String(request.messages.at(-1).content))}}`)]);
      return answer(script[assistantTurns(request)]);
    },
  };
  const exec = (key, value) => `${value} ${world.exec(key)}`;
  const fn = async (ctx) => {
    ctx.defRetry('quick', { maxAttempts: 2, backoff: 'constant', baseDelay: 15 });
    ctx.defMemory('notes', 'vector', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) });
    await ctx.memory('notes').store({ id: 'seed', content: 'the seed note: runs survive crashes', metadata: { source: 'prompt' } });
    ctx.defTool('scan', 'Scans files', { type: 'object', properties: { files: { type: 'array' } } }, ({ files }) => exec(`scan:${files}`, `scanned ${files.length}`));
    ctx.defAgent('analyzer', 'Analyzes code', { type: 'object', properties: { files: { type: 'array' } } }, (args, child) => child.$`Analyze ${args.files.join(', ')}`, { system: 'You analyze.' });
    ctx.defWorkflow('review', [
      { id: 'scan', action: async (wctx) => wctx.runTool('scan', { files: wctx.input.files }) },
      { id: 'analyze', action: async (wctx) => wctx.runAgent('analyzer', { files: wctx.input.files }) },
      { id: 'fix', condition: (wctx) => wctx.results.analyze.score < 7, action: (wctx) => exec(`fix:${wctx.input.files}:${wctx.attempt}`, `fixed after ${wctx.results.scan}`) },
      { id: 'skipped', condition: () => false, action: () => exec('never', 'never') },
    ]);
    ctx.defPipeline('proc', [
      { stage: 'extract', fn: (input) => exec(`extract:${input.file}`, `text of ${input.file}`) },
      {
        stage: 'chunk',
        retry: 'quick',
        fn: (input, stage) => {
          if (stage.attempt === 1) throw new Error(`chunker warming up ${world.exec(`chunk:${input}:fail`)}`);
          return exec(`chunk:${input}:${stage.attempt}`, `chunks(${input.length})`);
        },
      },
    ]);
    ctx.defParallel('vote', {
      a: (input) => exec(`vote:a:${input.q}`, 'yes'),
      b: (input) => exec(`vote:b:${input.q}`, 'no'),
      c: async (input) => exec(`vote:c:${input.q}`, 'yes'),
    });
    ctx.defBatcher('batcher', { maxSize: 3, maxWait: 50, processor: (items) => items.map((item) => exec(`batch:${item}`, `done ${item}`)) });
    ctx.defTool('flow', 'Runs the review workflow', { type: 'object', properties: { files: { type: 'array' } } }, async ({ files }) => JSON.stringify(await ctx.runWorkflow('review', { files })));
    ctx.defTool('pipe', 'Processes a file', { type: 'object', properties: { file: { type: 'string' } } }, async ({ file }) => ctx.executePipeline('proc', { file }));
    ctx.defTool('vote', 'Votes', qSchema, async ({ q }) => ctx.executeParallel('vote', { q }));
    ctx.defTool('batchIt', 'Batches', { type: 'object', properties: { items: { type: 'array' } } }, async ({ items }) => Promise.all(items.map((item) => ctx.batch('batcher', item))));
    ctx.defTool('remember', 'Stores a note', { type: 'object', properties: { text: { type: 'string' } } }, async ({ text: t }, { toolCallId }) => {
      const stored = await ctx.memory('notes').store({ id: toolCallId, content: t });
      return exec(`remember:${toolCallId}`, `stored ${stored.ids}`);
    });
    ctx.defTool('recall', 'Searches notes', qSchema, async ({ q }) => {
      const hits = await ctx.memory('notes').search(q, { limit: 5 });
      return hits.map((h) => `${h.id}: ${h.content} (${h.score.toFixed(3)})`).join('\n');
    }, { idempotent: true });
    ctx.$`Orchestrate.`;
  };
  const config = (durable) => ({ model, maxSteps: 20, ...(durable ? { durable } : {}) });
  return { fn, config, model };
}

test('durable features: defWorkflow (runTool, runAgent), defPipeline with a retried stage, defParallel, defBatcher, defMemory with offlineEmbedding (before the run and in tools)', async (t) => {
  const { problems, checked, journal, events } = await checkPromptScenario('orchestration', orchestrationScenario, { cuts: unaffected });
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assert.deepEqual(problems, []);
  assertRaised(events, ['workflow-finish', 'pipeline-stage-finish', 'retry', 'parallel-finish', 'batch-flush', 'memory-store', 'memory-search']);
  assert.ok(checked.length >= 8, `${checked.length} of ${journal.records.length} cuts checked (the others: the todo test below)`);
});

/**
 * defContext with summarization: the engine makes its own model calls (purpose "summary") to fold the
 * oldest messages into a running summary. The model reads the step from the last tool result (the
 * window hides the early turns, so assistant turns cannot be counted).
 */
function contextScenario(world) {
  const steps = 14;
  const model = {
    provider: 'test',
    modelId: 'context',
    async generate(request) {
      if (systemOf(request).startsWith('You compress conversations')) {
        const folded = String(request.messages.at(-1).content).match(/note \d+/g) ?? [];
        return answer([text(`Summary: ${folded.length} notes folded, the last ${folded.at(-1) ?? 'none'}.`)]);
      }
      const last = request.messages.at(-1);
      const results = Array.isArray(last.content) ? last.content.filter((p) => p.type === 'tool-result') : [];
      const n = results.length > 0 ? Number(/note (\d+)/.exec(JSON.stringify(results[0].result))[1]) : 0;
      return answer(n >= steps ? [text(`Took ${n} notes.`)] : [call('note', `n${n + 1}`, { n: n + 1 })]);
    },
  };
  const fn = (ctx) => {
    ctx.defContext('main', 'sliding-window', { maxTokens: 420, reserveTokens: 60, prioritize: ['system', 'recent'], summarization: { trigger: 0.8, ratio: 0.5 } });
    ctx.defTool('note', 'Takes a note', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }, { toolCallId }) => `note ${n}: nothing unusual to report today ${world.exec(`note:${toolCallId}`)}`);
    ctx.$`Take notes until you are done.`;
  };
  const config = (durable) => ({ model, maxSteps: steps + 2, ...(durable ? { durable } : {}) });
  return { fn, config, model };
}

test('durable features: defContext with summarization (the engine\'s own summary calls)', async (t) => {
  const { problems, journal, events, checked } = await checkPromptScenario('context', contextScenario);
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assert.deepEqual(problems, []);
  const summaries = journal.records.flatMap((r) => r.lines).filter((l) => l.includes('"op.done"') && l.includes('Summary: '));
  assert.ok(summaries.length >= 2, `the run made summary calls (${summaries.length})`);
  assertRaised(events, ['context-summarized']);
});

/**
 * defResource and defResourcePool used by tools. Their values live in the process that made them
 * (docs/durable-runs.md, "Limits"), so only the replay is checked.
 */
function resourceScenario(world) {
  const script = [[call('query', 'a1', { sql: 'select 1' }), call('shoot', 'a2', { url: 'https://example.test' })], [call('query', 'b1', { sql: 'select 2' })], [text('Queried and shot.')]];
  const model = { provider: 'test', modelId: 'resources', generate: async (request) => answer(script[assistantTurns(request)]) };
  world.lifecycle ??= [];
  const fn = (ctx) => {
    ctx.defResource('db', 'fake-sql', {
      initialize: () => (world.lifecycle.push('db init'), { query: (sql) => `rows of ${sql}` }),
      healthCheck: () => true,
      cleanup: () => world.lifecycle.push('db cleanup'),
    });
    let browsers = 0;
    ctx.defResourcePool('browsers', () => (world.lifecycle.push('browser made'), { id: ++browsers }), { max: 2, destroy: () => world.lifecycle.push('browser destroyed') });
    ctx.defTool('query', 'Runs SQL', { type: 'object', properties: { sql: { type: 'string' } } }, async ({ sql }, { resources, toolCallId }) => `${(await resources.get('db')).query(sql)} ${world.exec(`query:${toolCallId}`)}`);
    ctx.defTool('shoot', 'Screenshots a page', { type: 'object', properties: { url: { type: 'string' } } }, async ({ url }, { resources, toolCallId }) =>
      resources.use('browsers', async (browser) => `shot ${url} with browser ${browser.id} ${world.exec(`shoot:${toolCallId}`)}`));
    ctx.$`Query and shoot.`;
  };
  const config = (durable) => ({ model, ...(durable ? { durable } : {}) });
  return { fn, config, model };
}

test('durable features: defResource and defResourcePool (replay only: their values do not survive a process)', async () => {
  const { world, events } = await checkPromptScenario('resources', resourceScenario, { replayOnly: true });
  assertRaised(events, ['resource-initialized', 'pool-item', 'resource-cleanup', 'pool-drained']);
  assert.deepEqual(world.lifecycle.slice().sort(), ['browser destroyed', 'browser made', 'db cleanup', 'db init'], 'the replay initialized, made and cleaned up nothing (these are the original run\'s)');
});

/**
 * A run configured as an AI SDK user writes it: tools in the config, activeTools, prepareStep,
 * stopWhen conditions (hasToolCall) and onStepFinish.
 */
function aiSdkConfigScenario(world) {
  const script = [[call('lookup', 'a1', { q: 'journals' })], [call('note', 'b1', { text: 'found' }), call('lookup', 'b2', { q: 'more' })], [call('finish', 'c1')], [text('never reached')]];
  const model = { provider: 'test', modelId: 'ai-sdk', generate: async (request) => answer(script[assistantTurns(request)]) };
  const fn = (ctx) => ctx.$`Look it up, note it, finish.`;
  const config = (durable) => ({
    model,
    tools: {
      lookup: { inputSchema: { type: 'object', properties: { q: { type: 'string' } } }, execute: ({ q }, { toolCallId }) => `results for ${q} ${world.exec(`lookup:${toolCallId}`)}` },
      note: { parameters: { type: 'object', properties: { text: { type: 'string' } } }, execute: ({ text: t }, { toolCallId }) => `noted ${t} ${world.exec(`note:${toolCallId}`)}` },
      finish: { inputSchema: { type: 'object', properties: {} }, execute: (_args, { toolCallId }) => `done ${world.exec(`finish:${toolCallId}`)}` },
      unused: { inputSchema: { type: 'object', properties: {} }, execute: () => 'never offered' },
    },
    activeTools: ['lookup', 'note', 'finish'],
    // Step 1's system carries forward to step 2 (the AI SDK 7's rule), also in a resumed run.
    prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { system: 'Finish now.' } : stepNumber === 2 ? { toolChoice: 'required' } : undefined),
    stopWhen: [({ steps }) => steps.length > 5, (step) => step.toolCalls.some((c) => c.toolName === 'finish')],
    onStepFinish: async (step) => {
      await new Promise((r) => setTimeout(r, 1));
      world.steps.push(step.stepNumber);
    },
    ...(durable ? { durable } : {}),
  });
  world.steps ??= [];
  return { fn, config, model };
}

test('durable features: a run configured as the AI SDK takes it (config tools, activeTools, prepareStep, stopWhen conditions, onStepFinish)', async (t) => {
  const { problems, checked, journal, world, events } = await checkPromptScenario('ai-sdk-config', aiSdkConfigScenario);
  assert.deepEqual(problems, []);
  // stopWhen ended the run after the step that called finish; prepareStep's system of step 1 reached step 2.
  assert.deepEqual(events.filter((e) => e.type === 'step-finish').map((e) => e.toolCalls.map((c) => c.toolName).join('+')), ['lookup', 'note+lookup', 'finish']);
  assert.equal(events.find((e) => e.type === 'step-start' && e.stepNumber === 1).system, 'Finish now.');
  assert.equal(events.find((e) => e.type === 'step-start' && e.stepNumber === 2).system, 'Finish now.');
  assert.deepEqual(events.find((e) => e.type === 'step-start').activeTools, ['lookup', 'note', 'finish']);
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  const first = journal.records.flatMap((r) => r.lines).find((l) => l.includes('"run.start"'));
  assert.match(first, /"activeTools":\["lookup","note","finish"\]/);
  assert.ok(world.steps.length >= 3, `onStepFinish was called (${world.steps})`);
});

/**
 * zod's parse and `output`: a tool whose arguments a refinement refuses once (the model reads the
 * error and calls again), then an Output.array answer an element's refinement refuses once.
 */
function zodOutputScenario(world) {
  const script = [
    [call('weigh', 'a1', { grams: '-5' })],
    [call('weigh', 'b1', { grams: '250' })],
    [text('{"elements": [{"item": "box", "kg": 0}]}')],
    [text('{"elements": [{"item": "box", "kg": 0.25}]}')],
  ];
  const model = { provider: 'test', modelId: 'zod-output', generate: async (request) => answer(script[assistantTurns(request)]) };
  const grams = z.object({ grams: z.string().transform(Number).refine((g) => g > 0, 'must be positive') });
  const fn = (ctx) => {
    ctx.defTool('weigh', 'Weighs', grams, ({ grams: g }, { toolCallId }) => `${g / 1000} kg ${world.exec(`weigh:${toolCallId}`)}`);
    ctx.$`Weigh the box.`;
  };
  const element = z.object({ item: z.string().transform((i) => i.toUpperCase()), kg: z.number().refine((kg) => kg > 0, 'must weigh something') });
  const config = (durable) => ({ model, output: Output.array({ element }), ...(durable ? { durable } : {}) });
  return { fn, config, model };
}

test('durable features: zod parses tool arguments and an Output.array answer, refusing once each', async (t) => {
  const { problems, checked, journal, events } = await checkPromptScenario('zod-output', zodOutputScenario);
  assert.deepEqual(problems, []);
  const results = events.filter((e) => e.type === 'step-finish').flatMap((e) => e.toolResults.map((r) => JSON.stringify(r.result)));
  assert.match(results[0], /the arguments do not match the schema: \/grams: must be positive/);
  assert.match(results[1], /0\.25 kg/);
  assert.equal(events.filter((e) => e.type === 'step-finish').length, 4, 'two tool steps, the refused answer, the accepted one');
  const again = zodOutputScenario(newWorld());
  const output = await replay(journal, again.fn, { ...again.config(undefined), model: uncalled(again.model) }).output;
  assert.deepEqual(output, [{ item: 'BOX', kg: 0.25 }]);
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
});

/**
 * Approvals across requests: the run resumes a conversation whose last call was decided in the
 * messages (approved: it runs first), then the model calls the tool again and the approval is
 * deferred, which ends the run with that call pending.
 */
function deferredApprovalScenario(world) {
  const script = [null, [call('list', 'l1')], [text('Now b.'), call('remove', 'a2', { path: '/tmp/b' })]];
  const model = { provider: 'test', modelId: 'deferred', generate: async (request) => answer(script[assistantTurns(request)]) };
  const fn = (ctx) => {
    ctx.defApproval('destructive', { message: 'Remove it?' });
    ctx.defTool('remove', 'Removes a file', { type: 'object', properties: { path: { type: 'string' } } }, ({ path }, { toolCallId }) => `removed ${path} ${world.exec(`remove:${toolCallId}`)}`, { approval: 'destructive' });
    ctx.defTool('list', 'Lists files', {}, (_, { toolCallId }) => `a, b ${world.exec(`list:${toolCallId}`)}`);
  };
  const messages = [
    { role: 'user', content: 'Tidy up.' },
    { role: 'assistant', content: [call('remove', 'a1', { path: '/tmp/a' })] },
    { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'a1', approved: true, approvalId: 'first' }] },
  ];
  const config = (durable) => ({ model, messages, onApproval: () => 'defer', ...(durable ? { durable } : {}) });
  return { fn, config, model };
}

test('durable features: a call decided in the messages runs first, a later approval is deferred and ends the run', async (t) => {
  const { problems, checked, journal, events, world } = await checkPromptScenario('deferred-approval', deferredApprovalScenario);
  assert.deepEqual(problems, []);
  assert.deepEqual(events.filter((e) => e.type === 'approval-decision').map((e) => `${e.toolCallId}:${e.action}:${e.source}`), ['a1:approve:message', 'a2:defer:handler']);
  assert.equal(events.filter((e) => e.type === 'step-finish').length, 2);
  assert.ok(!world.ran.includes('remove:a2'), 'the deferred call did not run');
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
});

/** A tool that adds to a persisted defState counter: not idempotent, so a resume that runs it again must not add twice. */
function counterScenario(world) {
  const script = [[call('bump', 'a1', { by: 2 })], [call('bump', 'b1', { by: 3 })], [text('Bumped twice.')]];
  const model = { provider: 'test', modelId: 'counter', generate: async (request) => answer(script[assistantTurns(request)]) };
  const stateStorage = world.stateStorage;
  const fn = (ctx) => {
    ctx.defState('counter', { n: 0 }, { persist: true });
    ctx.defTool('bump', 'Adds to the counter', { type: 'object', properties: { by: { type: 'number' } } }, ({ by }, { toolCallId }) => {
      ctx.getState('counter').n += by;
      return `now ${ctx.getState('counter').n} ${world.exec(`bump:${toolCallId}`)}`;
    });
    ctx.$`Bump it.`;
  };
  const config = (durable) => ({ model, storage: stateStorage, sessionId: 'bob', ...(durable ? { durable } : {}) });
  return { fn, config, model, stateStorage };
}

test('durable features: a counter in defState bumped by a tool (resumed at the cuts where no interrupted tool had changed it)', async (t) => {
  const { problems, checked, journal } = await checkPromptScenario('counter', counterScenario, {
    cuts: unaffected,
    state: async (b) => (await b.stateStorage.get('state:session:bob:counter'))?.value,
    prepare: savedStateAsOf('state:session:bob:counter'),
  });
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assert.deepEqual(problems, []);
  assert.ok(checked.length >= journal.records.length - 2);
});

test('durable features: resumed while a callback that had sent commands to the engine was in flight (state change, metric, emit, workflow, pipeline, parallel, batch, memory)', {
}, async () => {
  const counted = await checkPromptScenario('counter-affected', counterScenario, {
    cuts: affected,
    state: async (b) => (await b.stateStorage.get('state:session:bob:counter'))?.value,
    prepare: savedStateAsOf('state:session:bob:counter'),
  });
  const observed = await checkPromptScenario('observability-affected', observabilityScenario, { cuts: affected, final: observedTotals });
  const orchestrated = await checkPromptScenario('orchestration-affected', orchestrationScenario, { cuts: affected });
  assert.ok(counted.checked.length > 0 && observed.checked.length > 0 && orchestrated.checked.length > 0);
  assert.deepEqual([...counted.problems, ...observed.problems, ...orchestrated.problems], []);
});

/**
 * Two sub-agents called in one step, whose set-ups take different times in the original run and on
 * resume (a cold and a warm cache, say): agent a starts after agent b at first, before it on resume.
 */
function twoAgentScenario(world) {
  const model = {
    provider: 'test',
    modelId: 'agents',
    async generate(request) {
      const system = systemOf(request);
      if (system.startsWith('Agent ')) return answer([text(`${system} is done`)]);
      return answer(assistantTurns(request) === 0 ? [call('a', 'ca'), call('b', 'cb')] : [text('Both are done.')]);
    },
  };
  const setUpMs = world.resumed ? { a: 0, b: 30 } : { a: 30, b: 0 };
  const fn = (ctx) => {
    for (const name of ['a', 'b'])
      ctx.defAgent(name, `Runs agent ${name}`, objectSchema, async (_args, child) => {
        await new Promise((resolve) => setTimeout(resolve, setUpMs[name]));
        child.$`Work`;
      }, { system: `Agent ${name}` });
    ctx.$`Run both agents.`;
  };
  return { fn, model, config: (durable) => ({ model, ...(durable ? { durable } : {}) }) };
}

test('durable features: a sub-agent whose run.start was not journaled yet starts live on resume', {
}, async () => {
  const { problems, checked } = await checkPromptScenario('agents', twoAgentScenario, {
    cuts: (journal, seq) => pendingAgentStarts(journal, seq).length > 0 || journal.records[seq - 1].lines.some((l) => l.includes('"run.start"') && l.includes('"parentOp"')),
    prepare: (world) => void (world.resumed = true),
  });
  assert.ok(checked.length > 0);
  assert.deepEqual(problems, []);
});

test('durable features: the end-of-run state save made again after it had been written', {
}, async () => {
  const key = 'state:session:bob:counter';
  const { problems, checked } = await checkPromptScenario('counter-saved', counterScenario, {
    // Cut right after the turn that handed out the save; the storage holds what it wrote (the process died after the write).
    cuts: (journal, seq) => journal.records[seq - 1].ops.some((o) => o.op === 'storage.cas'),
    state: async (b) => (await b.stateStorage.get(key))?.value,
    prepare: async (world) => {
      const saved = await world.stateStorage.get(key);
      world.stateStorage = memoryStorage();
      await world.stateStorage.set(key, saved.value);
    },
  });
  assert.equal(checked.length, 1);
  assert.deepEqual(problems, []);
});

test('durable features: defEvent handlers and defLogger outputs are not called again for the events a journal replays', async () => {
  const world = newWorld();
  const original = observabilityScenario(world);
  const first = await runPrompt(original.fn, original.config({ id: 'handled', storage: memoryStorage() }));
  await first.result.text;
  await first.prompt.finished;
  assert.ok(world.handled.length > 0 && world.logs.length > 0);
  world.handled.length = 0;
  world.logs.length = 0;
  const again = observabilityScenario(world);
  const replayed = await replay(first.prompt.journal, again.fn, { ...again.config(undefined), model: uncalled(again.model) });
  await replayed.result.text;
  await replayed.prompt.finished;
  assert.deepEqual(world.handled, [], 'no handler ran during the replay');
  assert.deepEqual(world.logs, [], 'no logger output during the replay');
  // A resume of the whole journal replays every event: no handler runs either.
  const storage = await cutJournal(first.prompt.journal, first.prompt.journal.records.length, 'handled-all');
  const resumedBuild = observabilityScenario(world);
  const resumed = await resume('handled-all', resumedBuild.fn, resumedBuild.config({ storage }));
  await resumed.result.text;
  await resumed.prompt.finished;
  assert.deepEqual(world.handled, [], 'no handler ran for the replayed part of a resume');
});

// ------------------------------------------------------------------------------------ directive runs

/**
 * Checks a directive scenario as checkPromptScenario does: `build(world)` returns `{agent,
 * config(durable, onEvent), model}`; the transcript is the agent's return value.
 */
async function checkDirectiveScenario(name, build, { cuts: keepCut = () => true } = {}) {
  const withDeadline = (promise, what) => withTimeLimit(promise, what, 5000);
  const world = newWorld();
  const original = build(world);
  const storage = memoryStorage();
  const events = [];
  const value = JSON.stringify(await withDeadline(run(original.agent, original.config({ id: name, storage, onInterrupted: () => 'rerun' }, (e) => events.push(e))), `${name}: the run`));
  const journal = await loadJournal(name, storage);
  assert.equal(new Set(world.ran).size, world.ran.length, `${name}: every tool call ran once in the uninterrupted run (${world.ran})`);

  world.ran.length = 0;
  const again = build(world);
  const replayedEvents = [];
  const replayed = await withDeadline(replay(journal, again.agent, { ...again.config(undefined, (e) => replayedEvents.push(e)), models: { default: uncalled(again.model) } }), `${name}: the replay`);
  assert.equal(JSON.stringify(replayed), value, `${name}: replay returns the same value`);
  if (JSON.stringify(replayedEvents) !== JSON.stringify(events)) assert.fail(`${name}: replay events differ: ${firstDifference(events, replayedEvents)}`);
  assert.deepEqual(world.ran, [], `${name}: no tool ran during the replay`);

  const checked = journal.records.map((r) => r.seq).filter((seq) => keepCut(journal, seq));
  const problems = [];
  for (const cut of checked) {
    world.ran.length = 0;
    const id = `${name}-cut${cut}`;
    const cutStorage = await cutJournal(journal, cut, id);
    const resumedBuild = build(world);
    const what = `resumed after record ${cut} of ${journal.records.length}`;
    const got = await withDeadline(resume(id, resumedBuild.agent, resumedBuild.config({ storage: cutStorage, onInterrupted: () => 'rerun' }, () => {})), what).then(JSON.stringify, (e) => `failed: ${e?.stack ?? e}`);
    if (got !== value) problems.push(`${what}: returned ${got}, not ${value}`);
    const done = doneLines(journal, cut).join('\n');
    const reran = world.ran.filter((key) => done.includes(world.tag(key)));
    if (reran.length > 0) problems.push(`${what}: completed tool calls ran again: ${reran}`);
    const twice = world.ran.filter((key, i) => world.ran.indexOf(key) !== i);
    if (twice.length > 0) problems.push(`${what}: tool calls ran twice: ${twice}`);
    const completed = doneIds(journal, cut);
    const resumedJournal = await loadJournal(id, cutStorage);
    const repeated = resumedJournal.records.slice(cut).flatMap((r) => r.ops).filter((o) => completed.has(o.id));
    if (repeated.length > 0) problems.push(`${what}: completed ops were performed again: ${JSON.stringify(repeated)}`);
  }
  return { journal, problems, checked, events };
}

/**
 * A directive agent with define's definitions (a retry policy, an approval, a cache, a guard, a
 * custom event), L.tool implementations (one flaky and retried, one approved, one cached),
 * parallel tool calls in a reply, L.branch, L.reply(schema), L.call and L.event.
 */
function directiveFeatureScenario(world) {
  const model = {
    provider: 'test',
    modelId: 'directive',
    async generate(request) {
      const last = String(request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
      const turns = assistantTurns(request);
      if (last.includes('Add 2 and 3')) {
        if (turns === 0) return answer([call('add', 'p1', { a: 2, b: 3 }), call('write', 'p2', { path: 'sum.txt' }), call('lookup', 'p3', { q: 'sum' })]);
        if (turns === 1) return answer([call('lookup', 'p4', { q: 'sum' })]);
        return answer([text('Added and written.')]);
      }
      if (last.includes('as JSON')) return answer([text('{"sum": 5}')]);
      return answer([text(`branch answer to "${last}" after ${request.messages.length} messages`)]);
    },
  };
  const agent = function* () {
    yield* L.system`You add.`;
    yield* L.tool('add', 'Adds', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }, ({ a, b }, { toolCallId }) => {
      if (!world.flaky.has(toolCallId)) {
        world.flaky.add(toolCallId);
        throw new Error(`ECONNRESET ${world.exec(`add:${toolCallId}:fail`)}`);
      }
      return `${a + b} ${world.exec(`add:${toolCallId}:ok`)}`;
    }, { retry: 'quick' });
    yield* L.tool('write', 'Writes a file', { type: 'object', properties: { path: { type: 'string' } } }, ({ path }, { toolCallId }) => `wrote ${path} ${world.exec(`write:${toolCallId}`)}`, { approval: 'confirm' });
    yield* L.tool('lookup', 'Looks up', qSchema, ({ q }, { toolCallId }) => `${q} found ${world.exec(`lookup:${toolCallId}`)}`, { cache: 'lookups' });
    yield* L.user`Add 2 and 3, then write it.`;
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
    yield* L.user`The sum as JSON.`;
    const json = yield* L.reply({ type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] });
    yield* L.event('summed', { sum: json.value.sum });
    const called = yield* L.call('add', { a: 1, b: 1 });
    return { first: first.text, x, y, sum: json.value, called };
  };
  const config = (durable, onEvent) => ({
    models: { default: model },
    define: (ctx) => {
      ctx.defRetry('quick', { maxAttempts: 2, backoff: 'constant', baseDelay: 15 });
      ctx.defApproval('confirm', { message: 'Write?' });
      ctx.defCache('lookups', 'lru', { maxSize: 10 });
    },
    onApproval: () => 'approve',
    onEvent,
    ...(durable ? { durable } : {}),
  });
  return { agent, config, model };
}

test('durable features: a directive run (define, L.tool with retry/approval/cache, parallel tool calls, L.branch, L.reply(schema), L.call, L.event)', async (t) => {
  const { problems, events, checked, journal } = await checkDirectiveScenario('directive', directiveFeatureScenario);
  t.diagnostic(`resumed after ${checked.length} of ${journal.records.length} records`);
  assert.deepEqual(problems, []);
  assertRaised(events, ['retry', 'approval-decision', 'cache-hit', 'branch-started', 'emitted']);
});

test('durable features: a resumed directive run sees the state its journaled tools changed (a change and an update), in its tools and in the agent', async () => {
  const call = (toolName, toolCallId) => ({ type: 'tool-call', toolCallId, toolName, args: {}, argsText: '{}' });
  // Answers from the conversation, so the resumed run asks what the first one asked.
  const model = {
    provider: 'test', modelId: 'state-steps',
    async generate(request) {
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      const steps = [[call('bump', 'b1')], [call('double', 'd1')], [call('remove', 'r1')], [{ type: 'text', text: 'done' }]];
      return { content: steps[step], finishReason: step < 3 ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  let defined;
  const define = (ctx) => {
    defined = ctx;
    ctx.defState('counter', { n: 0 });
    ctx.defApproval('confirm', { message: 'Remove?' });
  };
  const agent = function* () {
    yield* L.tool('bump', 'Adds one', { type: 'object', properties: {} }, () => `n=${++defined.getState('counter').n}`);
    yield* L.tool('double', 'Doubles', { type: 'object', properties: {} }, async () => `n=${(await defined.updateState('counter', (v) => ({ n: v.n * 2 }))).n}`);
    yield* L.tool('remove', 'Removes', { type: 'object', properties: {} }, () => `remove saw n=${defined.getState('counter').n}`, { approval: 'confirm' });
    yield* L.user`go`;
    yield* L.reply;
    // The agent's own code reads the state too, on replay as the first time.
    return { seen: defined.getState('counter').n, results: (yield* L.messages).filter((m) => m.role === 'tool').map((m) => m.content[0].result) };
  };
  const live = await run(agent, { models: { default: model }, define, onApproval: () => 'approve' });
  assert.deepEqual(live, { seen: 2, results: ['n=1', 'n=2', 'remove saw n=2'] });

  const storage = memoryStorage();
  const first = run(agent, { models: { default: model }, define, onApproval: () => undefined, durable: { id: 'state-resume', storage } });
  first.catch(() => {});
  while ((await durableApprovals(storage).pending('state-resume').catch(() => [])).length === 0) await new Promise((r) => setTimeout(r, 5));
  await first.suspend();
  const resumed = await resume('state-resume', agent, { models: { default: model }, define, onApproval: () => 'approve', durable: { storage } });
  assert.deepEqual(resumed, live);
});
