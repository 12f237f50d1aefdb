// Graph memories through the package (docs/memory.md, "Graph memories"): N entities with given
// 64-dimension vectors (seeded, no embedder) and a chain of N − 1 relations stored in batches of
// 500, then 200 searches `{limit: 10, depth: 2}` and 200 `neighbors(name, {depth: 3})`; each call
// is a whole `memory` run. Usage: node bench/graph-memory.mjs [N=5000]
import { createEngine, runPrompt, mockModel } from '../dist/node.js';
const N = Number(process.argv[2] ?? 5000), D = 64;
let seed = 7; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
const vec = () => Array.from({ length: D }, rnd);
const out = {};
await runPrompt(async (ctx) => {
  ctx.defMemory('bench', 'graph', { dimensions: D, m: 16, efConstruction: 100 });
  const g = ctx.graphMemory('bench');
  const t0 = performance.now();
  for (let b = 0; b < N; b += 500) {
    const entities = []; const relations = [];
    for (let i = b; i < Math.min(N, b + 500); i++) {
      entities.push({ name: `e${i}`, vector: vec() });
      if (i > 0) relations.push({ from: `e${i}`, relation: i % 2 ? 'next' : 'link', to: `e${i - 1}` });
    }
    await g.store({ entities, relations });
  }
  out.storeMs = performance.now() - t0;
  const lat = [];
  for (let q = 0; q < 200; q++) { const s = performance.now(); await g.search(vec(), { limit: 10, depth: 2 }); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b);
  out.searchP50 = lat[100]; out.searchP99 = lat[197];
  const nl = [];
  for (let q = 0; q < 200; q++) { const s = performance.now(); await g.neighbors(`e${q * 7}`, { depth: 3 }); nl.push(performance.now() - s); }
  nl.sort((a, b) => a - b);
  out.neighborsP50 = nl[100]; out.neighborsP99 = nl[197];
  ctx.$`x`;
}, { model: mockModel([{ type: 'text', text: 'ok' }]), engine: await createEngine() });
console.log(JSON.stringify({ N, D, ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 100) / 100])) }));
