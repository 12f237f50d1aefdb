// defMemory(name, 'temporal', config) (docs/memory.md, "Temporal memories"): the vector index with
// results ranked by similarity × recency at the engine's clock (a VirtualClock here), time-range
// queries, and configs checked strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createEngine, mockModel, offlineEmbedding, runPrompt, VirtualClock } from '../../dist/node.js';

const DAY = 24 * 3600 * 1000;
const NOW = 1_000 * DAY;

/** Runs `body(ctx)` in a prompt function on an engine whose clock reads NOW; resolves with its value. */
async function withMemory(engine, define, body) {
  let value;
  const { result } = await runPrompt(
    async (ctx) => {
      define(ctx);
      value = await body(ctx);
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
  await result.text;
  return value;
}

const deploys = [
  { id: 'old', content: 'the deploy failed on the staging server', metadata: { timestamp: NOW - 10 * DAY } },
  { id: 'mid', content: 'the deploy failed on the staging server', metadata: { timestamp: NOW - DAY } },
  { id: 'new', content: 'the deploy failed on the staging server again', metadata: { timestamp: NOW - DAY / 24 } },
  { id: 'lunch', content: 'friday lunch menu: soup and bread', metadata: { timestamp: NOW } },
];

test('temporal search ranks by similarity × 2^(−age/halfLife) at the engine clock', async () => {
  const engine = await createEngine({ clock: new VirtualClock(NOW) });
  const results = await withMemory(
    engine,
    (ctx) => ctx.defMemory('incidents', 'temporal', { dimensions: 128, embeddingModel: offlineEmbedding({ dimensions: 128 }), halfLifeMs: DAY }),
    async (ctx) => {
      await ctx.memory('incidents').store(deploys);
      return ctx.memory('incidents').search('deploy failed on staging', { limit: 4 });
    },
  );
  // The unrelated note of today (similarity ~0.15) outranks the ten-day-old exact text (~0.75 × 2^-10).
  assert.deepEqual(results.map((r) => r.id), ['new', 'mid', 'lunch', 'old']);
  for (const r of results) {
    const age = NOW - r.createdAt;
    assert.ok(Math.abs(r.score - r.similarity * 2 ** (-age / DAY)) < 1e-9, `${r.id}: ${r.score} vs ${r.similarity} × decay`);
  }
  // old and mid hold the same text: equal similarity, and a day of age halves the score.
  assert.ok(Math.abs(results[1].similarity - results[3].similarity) < 1e-6);
  assert.ok(Math.abs(results[1].score / results[1].similarity - 0.5) < 1e-9);
});

test('recencyWeight 0 ranks by similarity alone; linear decay reaches 0 at the end of its window', async () => {
  const engine = await createEngine({ clock: new VirtualClock(NOW) });
  const embeddingModel = offlineEmbedding({ dimensions: 128 });
  const [plain, linear] = await withMemory(
    engine,
    (ctx) => {
      ctx.defMemory('plain', 'temporal', { dimensions: 128, embeddingModel, recencyWeight: 0 });
      ctx.defMemory('linear', 'temporal', { dimensions: 128, embeddingModel, decay: 'linear', windowMs: 5 * DAY });
    },
    async (ctx) => {
      await ctx.memory('plain').store(deploys);
      await ctx.memory('linear').store(deploys);
      return [await ctx.memory('plain').search('the deploy failed on the staging server', { limit: 4 }), await ctx.memory('linear').search('the deploy failed on the staging server', { limit: 4 })];
    },
  );
  // Equal similarity: newer first; the exact text beats "... again" although that one is newest.
  assert.deepEqual(plain.map((r) => r.id).slice(0, 3), ['mid', 'old', 'new']);
  assert.ok(plain.every((r) => r.score === r.similarity));
  const old = linear.find((r) => r.id === 'old');
  assert.equal(old.score, 0, 'ten days old, past the five-day window');
  const mid = linear.find((r) => r.id === 'mid');
  assert.ok(Math.abs(mid.score - mid.similarity * 0.8) < 1e-9);
});

test('time-range queries search only memories created in [from, to]', async () => {
  const engine = await createEngine({ clock: new VirtualClock(NOW) });
  const results = await withMemory(
    engine,
    (ctx) => ctx.defMemory('incidents', 'temporal', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) }),
    async (ctx) => {
      await ctx.memory('incidents').store(deploys);
      return ctx.memory('incidents').search('deploy', { from: NOW - 2 * DAY, to: NOW - DAY / 2 });
    },
  );
  assert.deepEqual(results.map((r) => r.id), ['mid']);
});

test('memories stored without a timestamp are created at the engine clock', async () => {
  const clock = new VirtualClock(NOW);
  const engine = await createEngine({ clock });
  const results = await withMemory(
    engine,
    (ctx) => ctx.defMemory('notes', 'temporal', { dimensions: 64, embeddingModel: offlineEmbedding({ dimensions: 64 }) }),
    async (ctx) => {
      await ctx.memory('notes').store('remember the milk');
      return ctx.memory('notes').search('milk');
    },
  );
  assert.equal(results[0].createdAt, NOW);
  assert.ok(Math.abs(results[0].score - results[0].similarity) < 1e-9);
});

test('temporal configs are checked strictly', async () => {
  const engine = await createEngine();
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  const bad = [
    [['m', 'temporal', { dimensions: 8, decay: 'cubic' }], /decay/],
    [['m', 'temporal', { dimensions: 8, halfLifeMs: 0 }], /halfLifeMs/],
    [['m', 'temporal', { dimensions: 8, recencyWeight: 2 }], /recencyWeight/],
    [['m', 'temporal', { dimensions: 8, halfLifeMS: 5 }], /halfLifeMs/],
    [['m', 'vector', { dimensions: 8, halfLifeMs: 5 }], /temporal memories only/],
    [['m', 'graph', { dimensions: 8, maxSize: 3 }], /'maxSize' does not apply to graph memories/],
    [['m', 'graph', { dimensions: 8, halfLifeMs: 5 }], /temporal memories only/],
    [['m', 'hierarchical', { dimensions: 8 }], /needs an 'embeddingModel'/],
    [['m', 'temporal', { dimensions: 8, chunkSize: 4 }], /hierarchical memories only/],
  ];
  for (const [args, pattern] of bad)
    await assert.rejects(runPrompt((ctx) => ctx.defMemory(...args), { model, engine }), (e) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(args));
});

test('memory operations inside a live run are run events (store, search, delete, clear)', async () => {
  const engine = await createEngine({ clock: new VirtualClock(NOW) });
  const events = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'remember' }, { type: 'text', text: 'ok' }]);
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defMemory('notes', 'temporal', { dimensions: 32, embeddingModel: offlineEmbedding({ dimensions: 32 }), maxSize: 2 });
      ctx.defTool('remember', 'Remembers', { type: 'object', properties: {} }, async () => {
        const notes = ctx.memory('notes');
        await notes.store([{ id: 'a', content: 'alpha' }, { id: 'b', content: 'beta' }, { id: 'c', content: 'gamma' }]);
        const found = await notes.search('beta', { limit: 1 });
        await notes.delete(found[0].id);
        await notes.clear();
        return 'done';
      });
    },
    { model, engine, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'ok');
  const memoryEvents = events.filter((e) => e.type.startsWith('memory-'));
  assert.deepEqual(memoryEvents.map((e) => e.type), ['memory-store', 'memory-search', 'memory-delete', 'memory-clear']);
  const [stored, searched, deleted, cleared] = memoryEvents;
  assert.deepEqual(stored.ids, ['a', 'b', 'c']);
  assert.equal(stored.evicted.length, 1);
  assert.equal(stored.size, 2);
  assert.deepEqual(searched.ids, [deleted.ids[0]]);
  assert.equal(deleted.size, 1);
  assert.equal(cleared.cleared, 1);
  assert.ok(memoryEvents.every((e) => e.memory === 'notes' && e.path[0] === 'root'));
});
