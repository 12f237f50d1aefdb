// Memories that call a model (docs/memory.md, "Hierarchical memories" and "Extraction"): a
// hierarchical memory's summaries written by its `model` or the run's, searched top-down with
// `beam` and `level`; a failed summary that stores nothing; graph memories extracting entities and
// relations from text, and a malformed extraction that stores nothing. Offline embedder, mockModel.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { ConfigError, createEngine, fileStorage, L, MemoryError, mockModel, offlineEmbedding, run, runPrompt } from '../../dist/node.js';
import { countingEmbedder } from './helpers/counting-embedder.mjs';

const dirs = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let unique = 0;
const name = (base) => `${base}-${process.pid}-${unique++}`;
const embeddingModel = offlineEmbedding({ dimensions: 128 });

const facts = [
  'User drinks green tea every morning',
  'User likes tea with honey',
  'Server listens on port 8080',
  'Database backups run nightly at 2am',
];

test('a hierarchical memory summarizes each chunk with one call of its model and is searched top-down', async () => {
  const memory = name('notes');
  const summarizer = mockModel([
    { type: 'text', text: 'Tea: the user drinks green tea every morning and likes tea with honey' },
    { type: 'end-step' },
    { type: 'text', text: 'Infrastructure: the server listens on port 8080, database backups run nightly' },
  ]);
  const seen = {};
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'hierarchical', { embeddingModel, chunkSize: 2, levels: 2, model: summarizer });
      seen.stored = await ctx.memory(memory).store(facts);
      seen.tea = await ctx.memory(memory).search('what tea does the user like', { beam: 1 });
      seen.chunks = await ctx.memory(memory).search('database backups', { level: 1, limit: 1 });
      ctx.$`Answer.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]) },
  );
  assert.equal(await result.text, 'ok');
  assert.equal(summarizer.calls.length, 2); // one call per chunk of two
  assert.match(summarizer.calls[0].system, /You summarize memories/);
  assert.equal(summarizer.calls[0].messages.at(-1).content, `Entries:\n1. ${facts[0]}\n2. ${facts[1]}\n`);
  assert.equal(seen.stored.ids.length, 4);
  assert.equal(seen.stored.summaries.length, 2);
  assert.equal(seen.stored.size, 6);
  // beam 1: only the tea summary is opened, so only its two items can come back.
  assert.deepEqual(seen.tea.map((r) => r.content).sort(), [facts[0], facts[1]].sort());
  for (const r of seen.tea) {
    assert.equal(r.level, 0);
    assert.equal(r.path.length, 1);
    assert.equal(r.path[0].level, 1);
    assert.match(r.path[0].content, /^Tea:/);
  }
  assert.equal(seen.chunks[0].level, 1);
  assert.match(seen.chunks[0].content, /^Infrastructure:/);
});

test("without a model of its own the memory summarizes with the run's model, through the run (tool, events, quiet text)", async () => {
  const memory = name('talk');
  const model = mockModel([
    { type: 'tool-call', toolName: 'remember' },
    { type: 'text', text: 'Tea habits: green tea mornings, tea with honey' },
    { type: 'end-step' },
    { type: 'text', text: 'done' },
  ]);
  const events = [];
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'hierarchical', { embeddingModel, chunkSize: 2 });
      ctx.defTool('remember', 'Stores two facts', { type: 'object', properties: {} }, async () => {
        const stored = await ctx.memory(memory).store(facts.slice(0, 2));
        return stored.summaries;
      });
      ctx.$`Remember what I like.`;
    },
    { model, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'done'); // the summary is not part of the run's answer
  assert.equal(model.calls.length, 3);
  assert.match(model.calls[1].system, /You summarize memories/);
  assert.deepEqual(model.calls[1].tools ?? [], []);
  const stored = events.find((e) => e.type === 'memory-store');
  assert.equal(stored.memory, memory);
  assert.equal(stored.ids.length, 2);
});

test('a summarizer failure mid-store rejects and leaves the memory as it was', async () => {
  const memory = name('fragile');
  const down = { provider: 'test', modelId: 'down', generate: () => Promise.reject(new Error('the summarizer is down')) };
  await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'hierarchical', { embeddingModel, chunkSize: 2, model: down });
      await ctx.memory(memory).store(facts[0]); // fills no chunk: no call
      await assert.rejects(ctx.memory(memory).store([facts[1], facts[2]]), /summarizer is down/);
      const all = await ctx.memory(memory).search('tea server port', { limit: 10 });
      assert.deepEqual(all.map((r) => r.content), [facts[0]]);
      ctx.$`x`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]) },
  );
});

test('hierarchical configs and options are checked with the right words', async () => {
  await runPrompt(
    async (ctx) => {
      assert.throws(() => ctx.defMemory(name('h'), 'hierarchical', { dimensions: 8 }), (e) => e instanceof ConfigError && /needs an 'embeddingModel'/.test(e.message));
      assert.throws(() => ctx.defMemory(name('v'), 'vector', { dimensions: 8, chunkSize: 4 }), /'chunkSize' applies to hierarchical memories only/);
      assert.throws(() => ctx.defMemory(name('v'), 'vector', { dimensions: 8, model: 'openai:gpt-4o' }), /'model' applies to hierarchical memories/);
      assert.throws(() => ctx.defMemory(name('h'), 'hierarchical', { embeddingModel, levels: 1 }), /levels/);
      assert.throws(() => ctx.defMemory(name('h'), 'hierarchical', { embeddingModel, maxSize: 3 }), /'maxSize' does not apply to hierarchical/);
      const memory = name('h');
      ctx.defMemory(memory, 'hierarchical', { embeddingModel });
      await assert.rejects(ctx.memory(memory).search('x', { bema: 2 }), /beam/);
      await assert.rejects(ctx.memory(memory).search('x', { exact: true }), ConfigError);
      ctx.$`x`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]) },
  );
});

test('a graph memory extracts entities and relations from text with one model call; a malformed answer stores nothing', async () => {
  const memory = name('people');
  const extractor = mockModel([
    {
      type: 'text',
      text: JSON.stringify({
        entities: [
          { name: 'Ada', type: 'person', description: 'wrote the first program', properties: { born: 1815 } },
          { name: 'Analytical Engine', type: 'machine' },
        ],
        relations: [{ from: 'Ada', relation: 'wrote programs for', to: 'Analytical Engine' }],
      }),
    },
    { type: 'end-step' },
    { type: 'text', text: 'Ada was a mathematician.' },
    { type: 'end-step' },
    { type: 'text', text: '{"entities": [{"name": "Babbage"}], "relations": [{"from": "Babbage", "relation": "met", "to": "Lovelace"}]}' },
  ]);
  await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'graph', { embeddingModel, model: extractor });
      const graph = ctx.graphMemory(memory);
      const stored = await graph.store({ text: 'Ada Lovelace wrote programs for the Analytical Engine.', instructions: 'People and machines only.' });
      assert.deepEqual(stored.ids, ['Ada', 'Analytical Engine']);
      assert.equal(stored.relationCount, 1);
      assert.equal(stored.extracted.relations[0].relation, 'wrote programs for');
      assert.match(extractor.calls[0].system, /You extract a knowledge graph/);
      assert.equal(extractor.calls[0].messages.at(-1).content, 'People and machines only.\n\nText:\nAda Lovelace wrote programs for the Analytical Engine.');
      const around = await graph.neighbors('Ada');
      assert.equal(around.entities[0].metadata.born, 1815);
      assert.deepEqual(around.entities.map((e) => e.name), ['Ada', 'Analytical Engine']);

      await assert.rejects(graph.store('Ada was a mathematician.'), (e) => e instanceof MemoryError && e.code === 'INVALID_EXTRACTION' && e.memory === memory && /is not JSON/.test(e.message));
      await assert.rejects(graph.store('Babbage met Lovelace.'), (e) => e instanceof MemoryError && e.code === 'UNKNOWN_ENTITY');
      const everything = await graph.search('Ada Babbage', { limit: 10, depth: 0 });
      assert.equal(everything.entities.length, 2); // neither failed extraction stored anything
      ctx.$`x`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]) },
  );
});

test('L.memory of a hierarchical memory in a directive agent uses the agent model for its summaries', async () => {
  const memory = name('agent-notes');
  const model = mockModel([{ type: 'text', text: 'Tea summary' }, { type: 'end-step' }, { type: 'text', text: 'Green tea.' }]);
  const answer = await run(
    function* () {
      const stored = yield* L.memory(memory).store(facts.slice(0, 2));
      assert.equal(stored.summaries.length, 1);
      const [best] = yield* L.memory(memory).search('tea', { limit: 1 });
      assert.equal(best.path[0].content, 'Tea summary');
      yield* L.user`Which tea? ${best.content}`;
      return (yield* L.reply).value;
    },
    {
      models: { default: model },
      define: (ctx) => {
        ctx.defMemory(memory, 'hierarchical', { embeddingModel, chunkSize: 2 });
      },
    },
  );
  assert.equal(answer, 'Green tea.');
});

test('a persisted hierarchical memory is reloaded by another engine: no re-embedding, no new summaries, the tree goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-hier-'));
  dirs.push(dir);
  const storage = fileStorage(dir);
  const memory = name('kept');
  const summarizer = mockModel([{ type: 'text', text: 'Tea: green tea mornings, tea with honey' }, { type: 'end-step' }, { type: 'text', text: 'Servers: port 8080, nightly backups' }]);
  const config = (embedder) => ({ embeddingModel: embedder, dimensions: 64, chunkSize: 2, levels: 2, model: summarizer, persist: true });
  const first = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'hierarchical', config(countingEmbedder()));
      await ctx.memory(memory).store(facts.slice(0, 3));
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine(), storage },
  );
  await first.result.text;
  assert.equal(summarizer.calls.length, 1);
  const record = (await storage.get(`memory:global:${memory}`)).value;
  assert.equal(Object.keys(record.hierarchy.nodes).length, 4);

  const reader = countingEmbedder();
  const seen = {};
  const second = await runPrompt(
    async (ctx) => {
      ctx.defMemory(memory, 'hierarchical', config(reader));
      seen.tea = await ctx.memory(memory).search('tea with honey', { limit: 1 });
      seen.stored = await ctx.memory(memory).store(facts[3]); // completes the open chunk of the reloaded tree
      ctx.$`Go.`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine(), storage }, // a new engine: an empty heap
  );
  await second.result.text;
  assert.equal(seen.tea[0].content, facts[1]);
  assert.equal(seen.tea[0].path[0].content, 'Tea: green tea mornings, tea with honey');
  assert.equal(reader.seen[0], 'tea with honey'); // the query only: the stored texts were loaded, not re-embedded
  assert.equal(summarizer.calls.length, 2);
  assert.equal(summarizer.calls[1].messages.at(-1).content, `Entries:\n1. ${facts[2]}\n2. ${facts[3]}\n`);
  assert.equal(seen.stored.summaries.length, 1);
});
