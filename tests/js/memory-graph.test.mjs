// Graph memories (docs/memory.md, "Graph memories") through the package on the offline embedder:
// entities and relations given explicitly, neighbourhood search by depth, relation and direction,
// ctx.graphMemory in the prompt function and in tools, L.graphMemory in directive agents, events,
// persistence reloaded by another engine without re-embedding, and bad input that stores nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';

import {
  ConfigError, createEngine, fileStorage, GraphMemoryHandle, L, MemoryError, mockModel, offlineEmbedding, run, runPrompt, ValidationError,
} from '../../dist/node.js';
import { countingEmbedder } from './helpers/counting-embedder.mjs';

let unique = 0;
const name = (base) => `${base}-${process.pid}-${unique++}`;
const dirs = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const people = {
  entities: [
    { name: 'Ada', type: 'person', description: 'mathematician, wrote the first program', metadata: { born: 1815 } },
    { name: 'Analytical Engine', type: 'machine', description: 'a mechanical computer designed by Babbage' },
    { name: 'Babbage', type: 'person' },
  ],
  relations: [
    { from: 'Ada', relation: 'wrote programs for', to: 'Analytical Engine' },
    { from: 'Babbage', relation: 'designed', to: 'Analytical Engine', metadata: { year: 1837 } },
  ],
};

const names = (n) => n.entities.map((e) => [e.name, e.depth]);
const edges = (n) => n.relations.map((r) => `${r.from} -${r.relation}-> ${r.to}`);

test('store entities and relations, then search by meaning with their neighbourhood (prompt function and tool)', async () => {
  const memory = name('people');
  const embedder = countingEmbedder();
  const seen = {};
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: embedder });
      const graph = ctx.graphMemory(memory);
      assert.ok(graph instanceof GraphMemoryHandle);
      seen.stored = await graph.store(people);
      seen.depth2 = await graph.search('who wrote the first program', { limit: 1, depth: 2 });
      seen.depth0 = await graph.search('who wrote the first program', { limit: 1, depth: 0 });
      seen.depth1 = await graph.search('who wrote the first program', { limit: 1 });
      ctx.defTool('around', 'Neighbours of Babbage', { type: 'object', properties: {} }, async () => {
        seen.designed = await graph.neighbors('Babbage', { depth: 3, relation: 'designed' });
        seen.out = await graph.neighbors('Analytical Engine', { direction: 'out' });
        seen.in = await graph.neighbors('Analytical Engine', { direction: 'in', relation: ['designed', 'wrote programs for'] });
        seen.added = await graph.addRelation('Ada', 'corresponded with', 'Babbage', { letters: true });
        seen.afterAdd = await graph.neighbors('Ada', { depth: 1, direction: 'out' });
        seen.deleted = await graph.delete(['Analytical Engine', 'Analytical Engine']); // a name twice is deleted once
        seen.afterDelete = await graph.neighbors('Babbage', { depth: 5 });
        seen.cleared = await graph.clear();
        seen.empty = await graph.search('Ada');
        return 'ok';
      });
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'around' }, { type: 'text', text: 'done' }]), engine: await createEngine() },
  );
  assert.equal(await result.text, 'done');
  assert.deepEqual(seen.stored, { ids: ['Ada', 'Analytical Engine', 'Babbage'], relations: 2, size: 3, relationCount: 2 });
  assert.deepEqual(embedder.seen.slice(0, 3), ['Ada: mathematician, wrote the first program', 'Analytical Engine: a mechanical computer designed by Babbage', 'Babbage']);

  assert.deepEqual(names(seen.depth2), [['Ada', 0], ['Analytical Engine', 1], ['Babbage', 2]]);
  assert.deepEqual(edges(seen.depth2), ['Ada -wrote programs for-> Analytical Engine', 'Babbage -designed-> Analytical Engine']);
  const [ada, engine, babbage] = seen.depth2.entities;
  assert.equal(typeof ada.score, 'number');
  assert.ok(ada.score > 0.3);
  assert.deepEqual({ ...ada, score: 0 }, { name: 'Ada', type: 'person', description: 'mathematician, wrote the first program', metadata: { born: 1815 }, depth: 0, score: 0 });
  assert.equal(engine.score, undefined, 'reached by a relation, not matched');
  assert.deepEqual(babbage, { name: 'Babbage', type: 'person', description: null, metadata: {}, depth: 2 });
  assert.deepEqual(seen.depth2.relations[1].metadata, { year: 1837 });
  assert.deepEqual(names(seen.depth0), [['Ada', 0]]);
  assert.deepEqual(seen.depth0.relations, []);
  assert.deepEqual(names(seen.depth1), [['Ada', 0], ['Analytical Engine', 1]]);

  assert.deepEqual(names(seen.designed), [['Babbage', 0], ['Analytical Engine', 1]]);
  assert.deepEqual(edges(seen.designed), ['Babbage -designed-> Analytical Engine']);
  assert.deepEqual(names(seen.out), [['Analytical Engine', 0]]);
  assert.deepEqual(names(seen.in), [['Analytical Engine', 0], ['Ada', 1], ['Babbage', 1]]);
  assert.deepEqual(seen.added, { ids: [], relations: 1, size: 3, relationCount: 3 });
  assert.deepEqual(edges(seen.afterAdd), ['Ada -corresponded with-> Babbage', 'Ada -wrote programs for-> Analytical Engine']);
  assert.equal(seen.deleted, 1);
  assert.deepEqual(names(seen.afterDelete), [['Babbage', 0], ['Ada', 1]], 'the relations of the deleted entity went with it');
  assert.equal(seen.cleared, 2);
  assert.deepEqual(seen.empty, { entities: [], relations: [] });
});

test('filters on type and metadata pick the matched entities; the walk still reaches any type', async () => {
  const memory = name('typed');
  let found;
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) });
      await ctx.graphMemory(memory).store(people);
      found = {
        machines: await ctx.graphMemory(memory).search('Babbage', { filter: { type: 'machine' }, limit: 5, depth: 1 }),
        born: await ctx.graphMemory(memory).search('person', { filter: { 'metadata.born': { $lt: 1900 } }, depth: 0 }),
      };
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine() },
  );
  await result.text;
  assert.deepEqual(names(found.machines), [['Analytical Engine', 0], ['Ada', 1], ['Babbage', 1]]);
  assert.deepEqual(names(found.born), [['Ada', 0]]);
});

test('L.graphMemory in a directive agent: the neighbourhood feeds the prompt; events name the entities', async () => {
  const memory = name('directive');
  const events = [];
  const model = mockModel([{ type: 'text', text: 'Babbage.' }, { type: 'end-step' }]);
  const out = await run(
    function* () {
      const stored = yield* L.graphMemory(memory).store(people);
      const found = yield* L.graphMemory(memory).search('who wrote the first program', { limit: 1, depth: 2 });
      yield* L.user`Facts: ${found.relations.map((r) => `${r.from} ${r.relation} ${r.to}`).join('; ')}. Who designed the engine Ada programmed?`;
      const reply = yield* L.reply;
      const around = yield* L.graphMemory(memory).neighbors('Ada');
      const added = yield* L.graphMemory(memory).addRelation('Babbage', 'knew', 'Ada');
      const deleted = yield* L.graphMemory(memory).delete(['Babbage']);
      const cleared = yield* L.graphMemory(memory).clear();
      return { stored, reply: reply.value, around: names(around), added, deleted, cleared };
    },
    {
      models: { default: model },
      define: (ctx) => ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) }),
      onEvent: (e) => events.push(e),
    },
  );
  assert.equal(out.stored.size, 3);
  assert.equal(out.reply, 'Babbage.');
  const prompt = model.calls[0].messages.at(-1);
  const text = typeof prompt.content === 'string' ? prompt.content : prompt.content.map((p) => p.text).join('');
  assert.equal(text, 'Facts: Ada wrote programs for Analytical Engine; Babbage designed Analytical Engine. Who designed the engine Ada programmed?');
  assert.deepEqual(out.around, [['Ada', 0], ['Analytical Engine', 1]]);
  assert.deepEqual(out.added, { ids: [], relations: 1, size: 3, relationCount: 3 });
  assert.equal(out.deleted, 1);
  assert.equal(out.cleared, 2);
  const memoryEvents = events.filter((e) => e.type.startsWith('memory-'));
  assert.deepEqual(memoryEvents.map((e) => e.type), ['memory-store', 'memory-search', 'memory-search', 'memory-store', 'memory-delete', 'memory-clear']);
  assert.deepEqual(memoryEvents[0].ids, ['Ada', 'Analytical Engine', 'Babbage']);
  assert.deepEqual(memoryEvents[1].ids, ['Ada', 'Analytical Engine', 'Babbage']);
  assert.deepEqual(memoryEvents[2].ids, ['Ada', 'Analytical Engine']);
  assert.deepEqual(memoryEvents[4].ids, ['Babbage']);
});

test('a persisted graph memory is reloaded by another engine: relations intact, nothing re-embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-graph-'));
  dirs.push(dir);
  const storage = fileStorage(dir);
  const memory = name('persisted');
  await run(
    function* () {
      yield* L.graphMemory(memory).store(people);
    },
    { models: { default: mockModel([]) }, engine: await createEngine(), storage, define: (ctx) => ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: countingEmbedder(), persist: true }) },
  );
  const record = await storage.get(`memory:global:${memory}`);
  assert.equal(record.value.format, 'lmthing.memory/1');
  assert.equal(record.value.graph.relations.length, 2);
  const reader = countingEmbedder();
  const found = await run(
    function* () {
      return {
        search: yield* L.graphMemory(memory).search('who wrote the first program', { limit: 1, depth: 2 }),
        around: yield* L.graphMemory(memory).neighbors('Babbage', { depth: 2 }),
      };
    },
    { models: { default: mockModel([]) }, engine: await createEngine(), storage, define: (ctx) => ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: reader, persist: true }) },
  );
  assert.deepEqual(names(found.search), [['Ada', 0], ['Analytical Engine', 1], ['Babbage', 2]]);
  assert.deepEqual(names(found.around), [['Babbage', 0], ['Analytical Engine', 1], ['Ada', 2]]);
  assert.deepEqual(found.around.relations[0].metadata, { year: 1837 });
  assert.deepEqual(reader.seen, ['who wrote the first program']);

  // A record whose graph names an entity its index does not hold is refused, not half-loaded.
  const damaged = structuredClone(record.value);
  damaged.graph.entities.push({ name: 'Ghost', metadata: {} });
  await storage.set(`memory:global:${memory}`, damaged);
  await assert.rejects(
    run(function* () {
      yield* L.graphMemory(memory).neighbors('Ada');
    }, { models: { default: mockModel([]) }, engine: await createEngine(), storage, define: (ctx) => ctx.defMemory(memory, 'graph', { dimensions: 64, persist: true }) }),
    (err) => err instanceof MemoryError && err.code === 'CORRUPT_DATA' && /holds a graph whose entities are not those of its index/.test(err.message),
  );
});

test('bad input is a typed error naming what was wrong; a failed batch stores nothing', async () => {
  const memory = name('strict');
  const embedder = countingEmbedder(64, 1); // the second embedding request fails
  const errors = {};
  const sizes = {};
  const attempt = async (key, promise) => {
    try {
      await promise;
      errors[key] = null;
    } catch (error) {
      errors[key] = error;
    }
  };
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: embedder });
      ctx.defMemory(`${memory}-v`, 'vector', { dimensions: 4 });
      const g = ctx.graphMemory(memory);
      await g.store({ entities: [{ name: 'a' }, { name: 'b' }], relations: [{ from: 'a', relation: 'r', to: 'b' }] }); // embedding call 0
      await attempt('embedder', g.store({ entities: [{ name: 'c' }] })); // call 1 fails
      await attempt('unknownEnd', g.store({ entities: [{ name: 'd', vector: Array(64).fill(0.1) }], relations: [{ from: 'd', relation: 'r', to: 'zed' }] }));
      await attempt('duplicate', g.store({ entities: [{ name: 'e', vector: Array(64).fill(0.1) }, { name: 'e', vector: Array(64).fill(0.2) }] }));
      await attempt('dimensions', g.store({ entities: [{ name: 'f', vector: [1, 2] }], relations: [{ from: 'f', relation: 'r', to: 'a' }] }));
      await attempt('neighbors', g.neighbors('nobody'));
      await attempt('deleteUnknown', g.delete(['a', 'nobody']));
      await attempt('text', g.store(42));
      await attempt('empty', g.store({}));
      await attempt('noName', g.store({ entities: [{ type: 'person' }] }));
      await attempt('noTo', g.store({ relations: [{ from: 'a', relation: 'r' }] }));
      await attempt('field', g.store({ relaton: [] }));
      await attempt('depth', g.search('a', { depth: 11 }));
      await attempt('direction', g.neighbors('a', { direction: 'up' }));
      await attempt('relation', g.neighbors('a', { relation: [] }));
      await attempt('option', g.search('a', { limt: 2 }));
      await attempt('fromOption', g.search('a', { from: 0 }));
      await attempt('memoryOnGraph', Promise.resolve().then(() => ctx.memory(memory)));
      await attempt('graphOnVector', Promise.resolve().then(() => ctx.graphMemory(`${memory}-v`)));
      sizes.after = await g.neighbors('a', { depth: 3 });
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine() },
  );
  await result.text;
  assert.deepEqual(names(sizes.after), [['a', 0], ['b', 1]], 'nothing of the failed batches was stored, nothing deleted');
  assert.equal(sizes.after.relations.length, 1);
  assert.match(errors.embedder.message, /embedder down/);
  const memoryError = (key, code, pattern) => {
    assert.ok(errors[key] instanceof MemoryError, `${key}: ${errors[key]}`);
    assert.equal(errors[key].code, code, key);
    assert.equal(errors[key].memory, memory);
    if (pattern) assert.match(errors[key].message, pattern);
  };
  memoryError('unknownEnd', 'UNKNOWN_ENTITY', /relations\[0\] \(d -r-> zed\): no entity named "zed" in the memory or in this batch/);
  memoryError('duplicate', 'DUPLICATE_ID', /"e" is twice in one batch/);
  memoryError('dimensions', 'DIMENSION_MISMATCH');
  memoryError('neighbors', 'UNKNOWN_ID', /no entity named "nobody"/);
  memoryError('deleteUnknown', 'UNKNOWN_ID');
  const configError = (key, pattern) => {
    assert.ok(errors[key] instanceof ConfigError, `${key}: ${errors[key]}`);
    assert.match(errors[key].message, pattern, key);
  };
  configError('text', /graphMemory\(".*"\)\.store: expected \{entities\?, relations\?\}, \{text\} or a text, got the number 42/);
  configError('empty', /needs entities, relations or both/);
  configError('noName', /entities\[0\]: 'name' is required/);
  configError('noTo', /relations\[0\]: 'to' is required/);
  configError('field', /unknown field 'relaton' \(did you mean 'relations'\?/);
  configError('depth', /'depth' must be/);
  configError('direction', /'direction' must be/);
  configError('relation', /'relation' must be a relation name or a non-empty array of them/);
  configError('option', /unknown option 'limt' \(did you mean 'limit'\?/);
  configError('fromOption', /unknown option 'from'/);
  configError('memoryOnGraph', /is a graph memory; use ctx\.graphMemory/);
  configError('graphOnVector', /is a vector memory; use ctx\.memory/);
});

test('L.memory on a graph memory and L.graphMemory on a vector memory are explained; one name cannot be both in an engine', async () => {
  const memory = name('mixed');
  const caught = [];
  await run(
    function* () {
      for (const directive of [L.memory(`${memory}-g`).search('x'), L.graphMemory(`${memory}-v`).search('x')]) {
        try {
          yield* directive;
        } catch (error) {
          caught.push(error);
        }
      }
    },
    {
      models: { default: mockModel([]) },
      define: (ctx) => {
        ctx.defMemory(`${memory}-g`, 'graph', { dimensions: 4 });
        ctx.defMemory(`${memory}-v`, 'vector', { dimensions: 4 });
      },
    },
  );
  assert.ok(caught.every((e) => e instanceof ConfigError));
  assert.match(caught[0].message, /L\.memory: memory ".*-g" is a graph memory; use L\.graphMemory/);
  assert.match(caught[1].message, /L\.graphMemory: memory ".*-v" is a vector memory; use L\.memory/);
  assert.throws(() => L.graphMemory(''), ConfigError);

  const engine = await createEngine();
  const shared = name('shared');
  await run(function* () {
    yield* L.memory(shared).store({ vector: [1, 0, 0, 0] });
  }, { models: { default: mockModel([]) }, engine, define: (ctx) => ctx.defMemory(shared, 'vector', { dimensions: 4 }) });
  await assert.rejects(
    run(function* () {
      yield* L.graphMemory(shared).clear();
    }, { models: { default: mockModel([]) }, engine, define: (ctx) => ctx.defMemory(shared, 'graph', { dimensions: 4 }) }),
    (err) => err instanceof MemoryError && err.code === 'INVALID_CONFIG' && /as a vector memory; a graph memory cannot share it/.test(err.message),
  );
});

// Extraction with a model is the agent's own structured call (L.infer(schema): the run's model chain,
// validated, retried), then one store: bad JSON throws ValidationError and nothing is stored.
const Extracted = z.object({
  entities: z.array(z.object({ name: z.string().min(1), type: z.string().optional(), description: z.string().optional() })),
  relations: z.array(z.object({ from: z.string().min(1), relation: z.string().min(1), to: z.string().min(1) })),
});
function* extractInto(memory, text) {
  yield* L.user`Extract the entities and relations of: ${text}`;
  const { value } = yield* L.infer(Extracted);
  return yield* L.graphMemory(memory).store(value);
}

test('entities and relations extracted by a structured model call are stored; bad JSON stores nothing', async () => {
  const memory = name('extracted');
  const answer = JSON.stringify({
    entities: [{ name: 'Ada', type: 'person' }, { name: 'Babbage', type: 'person' }],
    relations: [{ from: 'Ada', relation: 'worked with', to: 'Babbage' }],
  });
  const good = mockModel([{ type: 'text', text: answer }, { type: 'end-step' }]);
  const define = (ctx) => ctx.defMemory(memory, 'graph', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) });
  const engine = await createEngine();
  const stored = await run(extractInto(memory, 'Ada worked with Babbage.'), { models: { default: good }, define, engine });
  assert.deepEqual(stored, { ids: ['Ada', 'Babbage'], relations: 1, size: 2, relationCount: 1 });
  assert.equal(good.calls.length, 1);

  const bad = mockModel([{ type: 'text', text: 'not json' }, { type: 'end-step' }, { type: 'text', text: '{"entities": []}' }, { type: 'end-step' }, { type: 'text', text: '{"entities": [{"name": ""}], "relations": []}' }, { type: 'end-step' }]);
  const outcome = await run(
    function* () {
      const caught = yield* L.catch(extractInto(memory, 'Lovelace met Faraday.'));
      return { caught: caught.error, after: yield* L.graphMemory(memory).search('anyone', { limit: 10, depth: 0 }) };
    },
    { models: { default: bad }, define, engine },
  );
  assert.ok(outcome.caught instanceof ValidationError, String(outcome.caught));
  assert.equal(bad.calls.length, 3, 'one answer and two retries, each validated');
  assert.deepEqual(outcome.after.entities.map((e) => e.name).sort(), ['Ada', 'Babbage'], 'nothing was stored');
});
