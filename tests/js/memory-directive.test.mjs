// L.memory in directive agents (docs/memory.md, "L.memory"): the same engine memory as ctx.memory,
// reached with yield*, on the offline embedder; events, budgets, branches, persistence, and errors
// thrown into the agent (caught there) that leave the memory as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { ConfigError, createEngine, fileStorage, L, MemoryDirectives, MemoryError, mockModel, NotRunningError, offlineEmbedding, run } from '../../dist/node.js';
import { countingEmbedder } from './helpers/counting-embedder.mjs';

const text = (t) => ({ type: 'text', text: t });
const end = { type: 'end-step' };
const object = { type: 'object', properties: {} };

let unique = 0;
const name = (base) => `${base}-${process.pid}-${unique++}`;
const dirs = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const notes = [
  { id: 'cat', content: 'the cat sleeps on the sofa', metadata: { topic: 'pets' } },
  { id: 'invoice', content: 'invoices are due on the first of the month', metadata: { topic: 'billing' } },
  { id: 'dog', content: 'the dog barks at the mailman', metadata: { topic: 'pets' } },
];

test('store, search, delete and clear with yield*; a tool calling ctx.memory sees the same memory; one event each', async () => {
  const memory = name('notes');
  const events = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'recall', args: {} }, text('noted'), end]);
  let defined; // the run's definition context: its tools reach the memory through this closure
  let toolSaw;
  const result = await run(
    function* () {
      const stored = yield* L.memory(memory).store(notes);
      const hits = yield* L.memory(memory).search('when are invoices due', { limit: 2 });
      const pets = yield* L.memory(memory).search('animal', { filter: { topic: 'pets' }, limit: 5 });
      yield* L.user`Recall what you know.`;
      const reply = yield* L.reply;
      const deleted = yield* L.memory(memory).delete(['cat', 'dog']);
      const afterDelete = yield* L.memory(memory).search('the cat sleeps', { limit: 5 });
      const cleared = yield* L.memory(memory).clear();
      const empty = yield* L.memory(memory).search('anything');
      return { stored, hits, pets, reply: reply.value, deleted, afterDelete, cleared, empty };
    },
    {
      models: { default: model },
      define: (ctx) => {
        defined = ctx;
        ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) });
      },
      tools: {
        recall: {
          parameters: object,
          execute: async () => {
            toolSaw = await defined.memory(memory).search('when are invoices due', { limit: 1 });
            return toolSaw[0].content;
          },
        },
      },
      onEvent: (e) => events.push(e),
    },
  );
  assert.deepEqual(result.stored, { ids: ['cat', 'invoice', 'dog'], evicted: [], size: 3 });
  assert.equal(result.hits.length, 2);
  assert.equal(result.hits[0].id, 'invoice');
  assert.equal(result.hits[0].content, notes[1].content);
  assert.deepEqual(result.hits[0].metadata, { topic: 'billing' });
  assert.ok(result.hits[0].score > result.hits[1].score);
  assert.deepEqual(result.pets.map((h) => h.id).sort(), ['cat', 'dog']);
  assert.equal(result.reply, 'noted');
  assert.equal(toolSaw[0].id, 'invoice', 'the tool searched the memory the agent filled');
  assert.equal(result.deleted, 2);
  assert.deepEqual(result.afterDelete.map((h) => h.id), ['invoice']);
  assert.equal(result.cleared, 1);
  assert.deepEqual(result.empty, []);
  const memoryEvents = events.filter((e) => e.type.startsWith('memory-'));
  assert.deepEqual(memoryEvents.map((e) => e.type), [
    'memory-store', 'memory-search', 'memory-search', 'memory-search', 'memory-delete', 'memory-search', 'memory-clear', 'memory-search',
  ]);
  assert.ok(memoryEvents.every((e) => e.memory === memory));
  assert.deepEqual(memoryEvents[1].ids, result.hits.map((h) => h.id));
  assert.deepEqual(memoryEvents[4].ids, ['cat', 'dog']);
});

test('recalled memories feed the next prompt (retrieval before a reply)', async () => {
  const memory = name('facts');
  const model = mockModel([text('Berlin.'), end]);
  const answer = await run(
    function* () {
      yield* L.memory(memory).store(['the office is in Berlin', 'lunch is at noon', 'the office dog is called Rex']);
      const question = 'where is the office';
      const [best] = yield* L.memory(memory).search(question, { limit: 1 });
      yield* L.user`Context: ${best.content}\nQuestion: ${question}`;
      return (yield* L.reply).value;
    },
    { models: { default: model }, define: (ctx) => ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) }) },
  );
  assert.equal(answer, 'Berlin.');
  const sent = model.calls[0].messages.at(-1);
  const content = typeof sent.content === 'string' ? sent.content : sent.content.map((p) => p.text).join('');
  assert.equal(content, 'Context: the office is in Berlin\nQuestion: where is the office');
});

test('parallel branches write to one shared memory', async () => {
  const memory = name('shared');
  const embedder = countingEmbedder();
  const result = await run(
    function* () {
      const ids = yield* L.branch([
        function* () {
          return (yield* L.memory(memory).store({ id: 'a', content: 'alpha beta' })).ids;
        },
        function* () {
          return (yield* L.memory(memory).store({ id: 'b', content: 'gamma delta epsilon' })).ids;
        },
      ]);
      const all = yield* L.memory(memory).search('alpha', { limit: 10 });
      return { ids, all: all.map((h) => h.id) };
    },
    {
      models: { default: mockModel([]) },
      define: (ctx) => ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: embedder }),
    },
  );
  assert.deepEqual(result.ids, [['a'], ['b']]);
  assert.deepEqual(result.all.sort(), ['a', 'b']);
  assert.deepEqual(embedder.seen.sort(), ['alpha', 'alpha beta', 'gamma delta epsilon']);
});

test('a directive run can check its budget after L.memory: embedding tokens are in the ledger', async () => {
  const memory = name('budget');
  let defined;
  const totals = await run(
    function* () {
      yield* L.memory(memory).store(['one two three', 'four five']);
      yield* L.memory(memory).search('six');
      return defined.checkConstraints();
    },
    {
      models: { default: mockModel([]) },
      define: (ctx) => {
        defined = ctx;
        ctx.defConstraint('budget', 'tokens', { max: 1000, track: ['embeddings'] });
        ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) });
      },
    },
  );
  assert.equal(totals.embeddingTokens, 3 + 2 + 1); // the offline embedder reports one token per word
});

test('a persisted memory filled by a directive run is searched by another engine without re-embedding', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-memory-directive-'));
  dirs.push(dir);
  const storage = fileStorage(dir);
  const memory = name('persisted');
  const writer = countingEmbedder();
  await run(
    function* () {
      yield* L.memory(memory).store(notes);
    },
    { models: { default: mockModel([]) }, engine: await createEngine(), storage, define: (ctx) => ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: writer, persist: true }) },
  );
  const reader = countingEmbedder();
  const hits = await run(
    function* () {
      return yield* L.memory(memory).search('when are invoices due', { limit: 1 });
    },
    { models: { default: mockModel([]) }, engine: await createEngine(), storage, define: (ctx) => ctx.defMemory(memory, 'vector', { dimensions: 64, embeddingModel: reader, persist: true }) },
  );
  assert.equal(hits[0].id, 'invoice');
  assert.deepEqual(reader.seen, ['when are invoices due']);
});

test('bad input is a typed error thrown into the agent at the yield*; the memory stays as it was', async () => {
  const memory = name('strict');
  const caught = {};
  const catching = function* (key, directive) {
    try {
      yield* directive;
    } catch (error) {
      caught[key] = error;
    }
  };
  const size = await run(
    function* () {
      yield* L.memory(memory).store([{ id: 'x', vector: [1, 0, 0, 0] }]);
      yield* catching('unknown', L.memory('nope').search('q'));
      yield* catching('option', L.memory(memory).search([1, 0, 0, 0], { limt: 3 }));
      yield* catching('query', L.memory(memory).search({ text: 'q' }));
      yield* catching('dimensions', L.memory(memory).store([{ id: 'y', vector: [1, 0, 0, 0] }, { id: 'z', vector: [1, 0] }]));
      yield* catching('nan', L.memory(memory).store({ id: 'w', vector: [NaN, 0, 0, 1] }));
      yield* catching('id', L.memory(memory).delete(['x', 'missing']));
      yield* catching('item', L.memory(memory).store([{ metadata: {} }]));
      const left = yield* L.memory(memory).search([1, 0, 0, 0], { limit: 10 });
      return left.map((h) => h.id);
    },
    { models: { default: mockModel([]) }, define: (ctx) => ctx.defMemory(memory, 'vector', { dimensions: 4 }) },
  );
  assert.deepEqual(size, ['x'], 'no half-inserted batch, nothing deleted');
  assert.ok(caught.unknown instanceof ConfigError);
  assert.match(caught.unknown.message, new RegExp(`L\\.memory: unknown memory "nope" \\(memories defined with ctx\\.defMemory in run\\(agent, \\{define\\}\\): ${memory}\\)`));
  assert.ok(caught.option instanceof ConfigError);
  assert.match(caught.option.message, /unknown option 'limt' \(did you mean 'limit'\?/);
  assert.ok(caught.query instanceof ConfigError);
  assert.match(caught.query.message, /the query must be a text or an array of numbers/);
  assert.ok(caught.dimensions instanceof MemoryError);
  assert.equal(caught.dimensions.code, 'DIMENSION_MISMATCH');
  assert.equal(caught.dimensions.memory, memory);
  assert.equal(caught.nan.code, 'NON_FINITE_VECTOR');
  assert.equal(caught.id.code, 'UNKNOWN_ID');
  assert.ok(caught.item instanceof ConfigError);
  assert.match(caught.item.message, /needs content .* or vector/);
});

test('L.memory checks its name at once; `yield` without `*` and a run without memories are explained', async () => {
  assert.throws(() => L.memory(''), (err) => err instanceof ConfigError && /L\.memory: expected a memory name \(a non-empty string\), got the string ""/.test(err.message));
  assert.throws(() => L.memory(42), (err) => err instanceof ConfigError && /got number 42/.test(err.message));
  assert.ok(L.memory('m') instanceof MemoryDirectives);
  assert.equal(L.memory('m').name, 'm');
  await assert.rejects(
    run(function* () {
      yield L.memory('m').clear();
    }, { models: { default: mockModel([]) } }),
    (err) => err instanceof ConfigError && /with `yield`; delegate to it with `yield\*`/.test(err.message),
  );
  await assert.rejects(
    run(function* () {
      yield* L.memory('m').clear();
    }, { models: { default: mockModel([]) } }),
    (err) => err instanceof ConfigError && /unknown memory "m" \(.*: none\)/.test(err.message),
  );
});

test("ctx.memory in a directive run's define says where memories are used instead", async () => {
  await assert.rejects(
    run(function* () {
      return 1;
    }, {
      models: { default: mockModel([]) },
      define: async (ctx) => {
        ctx.defMemory('facts', 'vector', { embeddingModel: offlineEmbedding({ dimensions: 8 }) });
        await ctx.memory('facts').store('the office is in Berlin');
      },
    }),
    (err) => err instanceof NotRunningError && /a directive run's define only defines: use yield\* L\.memory\(name\) in the agent, or ctx\.memory in its tools/.test(err.message),
  );
});

test("L.memory: the run's timeout and abort reach a memory operation in flight (its embedder sees the abort; nothing is stored)", async () => {
  const base = offlineEmbedding({ dimensions: 32 });
  let aborted = 0;
  const slow = {
    provider: 'test', modelId: 'slow', maxBatchSize: 100, dimensions: 32,
    async embed(request, options) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 2000);
        options?.signal?.addEventListener('abort', () => (aborted++, clearTimeout(timer), resolve()));
      });
      return base.embed(request, options);
    },
  };
  const engine = await createEngine();
  const define = (ctx) => ctx.defMemory('v', 'vector', { dimensions: 32, embeddingModel: slow });
  let started = Date.now();
  await assert.rejects(run(function* () { return yield* L.memory('v').store('hello'); }, { engine, models: { default: mockModel([]) }, define, timeout: 200 }), (e) => e.name === 'TimeoutError');
  assert.ok(Date.now() - started < 1500, `rejected at the timeout (${Date.now() - started} ms)`);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  started = Date.now();
  await assert.rejects(run(function* () { return yield* L.memory('v').store('world'); }, { engine, models: { default: mockModel([]) }, define, signal: controller.signal }), (e) => e.name === 'AbortError');
  assert.ok(Date.now() - started < 1500, `rejected at the abort (${Date.now() - started} ms)`);
  assert.equal(aborted, 2);
  const found = await run(function* () { return yield* L.memory('v').search('hello', { limit: 5 }); }, { engine, models: { default: mockModel([]) }, define: (ctx) => ctx.defMemory('v', 'vector', { dimensions: 32, embeddingModel: base }) });
  assert.deepEqual(found, [], 'the cancelled stores stored nothing');
});

test("L.memory's events carry the path of the conversation that asked (a branch, an agent tool)", async () => {
  const events = [];
  await run(
    function* () {
      yield* L.tool('helper', 'Helps', { type: 'object', properties: {} }, function* () {
        yield* L.memory('kb').store({ content: 'from the helper', id: 'h' });
        return 'ok';
      });
      yield* L.branch(function* () {
        yield* L.memory('kb').store({ content: 'from the branch', id: 'b' });
      });
      yield* L.call('helper', {});
      yield* L.memory('kb').store({ content: 'from the root', id: 'r' });
    },
    {
      models: { default: mockModel([]) },
      define: (ctx) => ctx.defMemory('kb', 'vector', { dimensions: 32, embeddingModel: offlineEmbedding({ dimensions: 32 }) }),
      onEvent: (e) => e.type === 'memory-store' && events.push(`${e.ids.join()} ${e.path.join('/')}`),
    },
  );
  assert.deepEqual(events, ['b root/0', 'h root/helper', 'r root']);
});
