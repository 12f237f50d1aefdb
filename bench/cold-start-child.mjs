// One cold start, run in a fresh `node` process by bench/boundary.mjs: prints the milliseconds from
// process start to the first line of this file, to the package import, to a created engine, and to
// the engine answering its first command (the loop has run once).
const t0 = performance.now(); // already includes node's own boot (timeOrigin = process start)
const { createEngine } = await import('../dist/node.js');
const t1 = performance.now();
const engine = await createEngine();
const t2 = performance.now();
await engine.request('engine.info');
const t3 = performance.now();
console.log(JSON.stringify({ nodeBootMs: t0, importMs: t1 - t0, createMs: t2 - t1, firstReplyMs: t3 - t2, readyMs: t3 - t0 }));
