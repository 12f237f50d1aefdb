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
// in call order, so a resumed run asks the same questions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { L, memoryStorage, offlineEmbedding, replay, resume, run, runPrompt } from '../../dist/node.js';

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
function withDeadline(promise, what, ms = 5000) {
  let timer;
  const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms (it hangs)`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
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
async function checkPromptScenario(name, build, { cuts: keepCut = () => true, state, prepare, replayOnly = false } = {}) {
  const world = newWorld();
  const original = build(world);
  const first = await withDeadline(runPrompt(original.fn, original.config({ id: name, storage: memoryStorage(), onInterrupted: () => 'rerun' })), `${name}: the run`);
  const transcript = await withDeadline(transcriptOf(first.result), `${name}: the run`);
  await withDeadline(first.prompt.finished, `${name}: the run`);
  const events = JSON.stringify(first.prompt.events);
  const journal = first.prompt.journal;
  assert.equal(new Set(world.ran).size, world.ran.length, `${name}: every tool call ran once in the uninterrupted run (${world.ran})`);
  const stateAfter = state ? await state(original) : undefined;

  // (a) replay: identical, no tool.
  world.ran.length = 0;
  const again = build(world);
  const replayed = await withDeadline(replay(journal, again.fn, { ...again.config(undefined), model: uncalled(again.model), durable: undefined }), `${name}: the replay`);
  assert.equal(await withDeadline(transcriptOf(replayed.result), `${name}: the replay`), transcript, `${name}: replay gives the same text, steps and messages`);
  await withDeadline(replayed.prompt.finished, `${name}: the replay`);
  if (JSON.stringify(replayed.prompt.events) !== events) assert.fail(`${name}: replay events differ: ${firstDifference(first.prompt.events, replayed.prompt.events)}`);
  assert.deepEqual(world.ran, [], `${name}: no tool ran during the replay`);
  if (replayOnly) return { journal, world, problems: [], checked: [] };

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
    if (state) {
      const stored = await state(resumedBuild);
      if (JSON.stringify(stored) !== JSON.stringify(stateAfter)) problems.push(`${what}: the stored state is ${JSON.stringify(stored)}, not ${JSON.stringify(stateAfter)}`);
    }
  }
  return { journal, world, problems, checked };
}

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

test('durable features: retry, fallback, circuit breaker, guard, validator, approval, token constraint, state, cache, parallel tool calls', async () => {
  const { problems } = await checkPromptScenario('resilience', resilienceScenario, {
    state: async (b) => (await b.stateStorage.get('state:session:alice:counter'))?.value,
    prepare: savedStateAsOf('state:session:alice:counter'),
  });
  assert.deepEqual(problems, []);
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
    ctx.$`Publish something on journals.`;
  };
  const config = (durable) => ({ model: primary, fallback: 'backupModel', maxSteps: 20, onApproval: () => 'approve', ...(durable ? { durable } : {}) });
  return { fn, config, model: primary };
}

test('durable features: defEvent/emit, defMetric, defTracing (events), defLogger, a plugin, defTemplate + renderTemplate in a tool, defRole, defAgent, a model cascade', async () => {
  const { problems } = await checkPromptScenario('observability', observabilityScenario);
  assert.deepEqual(problems, []);
});

/**
 * Orchestration from tools (defWorkflow + ctx.runWorkflow with wctx.runTool / runAgent, defPipeline
 * with a retried stage, defParallel, defBatcher) and defMemory (vector, offlineEmbedding) stored from
 * the prompt function before the run and stored and searched from tools.
 */
function orchestrationScenario(world, { preRunMemory = true } = {}) {
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
    if (preRunMemory) await ctx.memory('notes').store({ id: 'seed', content: 'the seed note: runs survive crashes', metadata: { source: 'prompt' } });
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

test('durable features: defWorkflow (runTool, runAgent), defPipeline with a retried stage, defParallel, defBatcher, defMemory with offlineEmbedding (in a tool)', async () => {
  const { problems } = await checkPromptScenario('orchestration', (world) => orchestrationScenario(world, { preRunMemory: false }));
  assert.deepEqual(problems, []);
});
