// defMemory through the package (docs/memory.md): what a ctx.memory call costs on top of the
// engine's index — one `memory` run, one model.embed op, JSON across the boundary. One run, the
// offline embedder (so the embedding itself is cheap and the overhead shows), 384 dimensions.
//   node bench/memory-wiring.mjs [memories=2000] [searches=200]
import { createEngine, mockModel, offlineEmbedding, runPrompt } from '../dist/node.js';

const count = Number(process.argv[2] ?? 2000);
const searches = Number(process.argv[3] ?? 200);
const embedder = offlineEmbedding({ dimensions: 384 });
const texts = Array.from({ length: count }, (_, i) => `note ${i}: topic ${i % 37} mentions item ${(i * 7919) % 1000} and place ${i % 11}`);

// The embedder alone, for comparison.
let t = performance.now();
await embedder.embed({ values: texts });
const embedOnly = performance.now() - t;
t = performance.now();
for (let i = 0; i < searches; i++) await embedder.embed({ values: [`topic ${i % 37} item ${i}`] });
const embedQueries = performance.now() - t;

const engine = await createEngine();
let storeMs = 0;
let searchMs = 0;
let batchMs = 0;
await (
  await runPrompt(
    async (ctx) => {
      ctx.defMemory('bench', 'vector', { dimensions: 384, embeddingModel: embedder, efConstruction: 100 });
      let s = performance.now();
      for (let i = 0; i < count; i += 100) await ctx.memory('bench').store(texts.slice(i, i + 100));
      storeMs = performance.now() - s;
      s = performance.now();
      for (let i = 0; i < searches; i++) await ctx.memory('bench').search(`topic ${i % 37} item ${i}`, { limit: 10 });
      searchMs = performance.now() - s;
      s = performance.now();
      await ctx.memory('bench').store(texts.slice(0, 100).map((content, i) => ({ content, id: `again-${i}` })));
      batchMs = performance.now() - s;
      ctx.$`done`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  )
).result.text;

const out = {
  memories: count,
  dimensions: 384,
  storeMsPer100: +(storeMs / (count / 100)).toFixed(2),
  embedOnlyMsPer100: +(embedOnly / (count / 100)).toFixed(2),
  searchMsEach: +(searchMs / searches).toFixed(3),
  embedOnlyMsPerQuery: +(embedQueries / searches).toFixed(3),
  oneMoreBatchOf100Ms: +batchMs.toFixed(2),
};
console.log(JSON.stringify(out, null, 2));
