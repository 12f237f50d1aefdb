// Browser cold start and shipped size (issue 19): a minimal app of each library, bundled and minified
// with esbuild, served from 127.0.0.1 and loaded in headless Chromium with an empty cache.
//   lmthing: runPrompt with mockModel, one text reply.   AI SDK: generateText with its mock model.
// Cold start = navigation start → the first mock result in the page (performance.now() there).
// Size = gzip -9 of what the page downloads (JS bundle, plus the wasm for lmthing); the files are
// served gzip-compressed, as a production server or CDN would.
// Node cold start: the same two apps (lmthing from dist/node.js), each run in a fresh `node` process;
// process start → the first mock result (performance.now() in the process), and import → the first
// mock result (issue 19 words its row so; node's own boot is left out).
//
//   node bench/browser-cold-start.mjs [RUNS]      # default 7; writes bench/results/browser-cold-start.json
//   LMTHING_DIST=/other/dist node bench/browser-cold-start.mjs   # another build of the package (before/after)
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';

import { launchChromium } from '../tests/js/helpers/chromium.mjs';
import { check, median, round } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const RUNS = Number(process.argv[2] ?? 7);
const dist = process.env.LMTHING_DIST ?? join(root, 'dist');

const apps = {
  lmthing: `
    import { runPrompt, mockModel, configureDefaultEngine } from ${JSON.stringify(join(dist, 'browser.js'))};
    // esbuild does not emit the wasm by itself (docs/bundlers.md): the page serves it next to the bundle.
    configureDefaultEngine({ wasmUrl: '/lmthing_core.wasm' });
    const { result } = await runPrompt((ctx) => { ctx.$\`Say hello\`; }, { model: mockModel([{ type: 'text', text: 'hello' }]) });
    const text = await result.text;
    window.benchDone = { text, ms: performance.now() };
  `,
  'ai-sdk': `
    import { generateText } from 'ai';
    import { MockLanguageModelV4 } from 'ai/test';
    const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
    const model = new MockLanguageModelV4({
      doGenerate: async () => ({ content: [{ type: 'text', text: 'hello' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }),
    });
    const result = await generateText({ model, prompt: 'Say hello' });
    window.benchDone = { text: result.text, ms: performance.now() };
  `,
};

// The same apps for Node: ESM evaluated with the repository as cwd, so 'ai' resolves from node_modules.
// Each imports its library with a dynamic import after taking the time, so one process gives both
// figures: process start → result (node's own boot in both) and import → result (issue 19's row).
const aiSdkRun = apps['ai-sdk'].replace(/^\s*import .*$/gm, '').replace('window.benchDone = { text: result.text, ms: performance.now() };', 'report(result.text);');
const nodeApps = {
  lmthing: `
    const importedAt = performance.now();
    const { runPrompt, mockModel } = await import(${JSON.stringify(join(dist, 'node.js'))});
    const { result } = await runPrompt((ctx) => { ctx.$\`Say hello\`; }, { model: mockModel([{ type: 'text', text: 'hello' }]) });
    const text = await result.text;
    const ms = performance.now();
    console.log(JSON.stringify({ text, ms, fromImportMs: ms - importedAt }));
    process.exit(0);
  `,
  'ai-sdk': `
    const report = (text) => { const ms = performance.now(); console.log(JSON.stringify({ text, ms, fromImportMs: ms - importedAt })); process.exit(0); };
    const importedAt = performance.now();
    const [{ generateText }, { MockLanguageModelV4 }] = await Promise.all([import('ai'), import('ai/test')]);
    ${aiSdkRun}
  `,
};

/** Bundles one app into `dir` (minified, browser platform); returns the files the page loads. */
async function bundle(name, dir) {
  const entry = join(dir, `${name}.entry.mjs`);
  writeFileSync(entry, apps[name]);
  const out = join(dir, `${name}.js`);
  await build({
    entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
    outfile: out, logLevel: 'error', nodePaths: [join(root, 'node_modules')],
  });
  const files = [out];
  if (name === 'lmthing') {
    // The deferred module (docs/bundlers.md) is served beside it: the page fetches it once idle.
    for (const file of ['lmthing_core.wasm', 'lmthing_core.deferred.wasm']) {
      if (!existsSync(join(dist, 'wasm', file))) continue; // a build from before the split (LMTHING_DIST)
      copyFileSync(join(dist, 'wasm', file), join(dir, file));
      files.push(join(dir, file));
    }
  }
  return files;
}

const gzip = (file) => gzipSync(readFileSync(file), { level: 9 }).length;

/** Serves `pages` and the files of `dir`, gzip -9 compressed, from 127.0.0.1. */
async function serveCompressed(dir, pages) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  // Compressed up front, so no request pays for the compression.
  const bodies = new Map(Object.entries(pages).map(([path, html]) => [path, gzipSync(html, { level: 9 })]));
  for (const file of readdirSync(dir)) bodies.set(`/${file}`, gzipSync(readFileSync(join(dir, file)), { level: 9 }));
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const body = bodies.get(path);
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream', 'content-encoding': 'gzip', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}
const kb = (bytes) => round(bytes / 1024, 1);

const dir = mkdtempSync(join(os.tmpdir(), 'lmthing-cold-'));
const sizes = {};
for (const name of Object.keys(apps)) {
  const files = await bundle(name, dir);
  sizes[name] = {
    files: Object.fromEntries(files.map((f) => [f.slice(dir.length + 1), { rawKb: kb(readFileSync(f).length), gzipKb: kb(gzip(f)) }])),
    totalGzipKb: kb(files.reduce((sum, f) => sum + gzip(f), 0)),
    // What the page downloads before its first result: all but the deferred module.
    firstResultGzipKb: kb(files.filter((f) => !f.endsWith('.deferred.wasm')).reduce((sum, f) => sum + gzip(f), 0)),
  };
}

const pages = Object.fromEntries(Object.keys(apps).map((name) => [`/${name}.html`, `<!doctype html><meta charset="utf-8"><script type="module" src="/${name}.js"></script>`]));
const server = await serveCompressed(dir, pages);
const browser = await launchChromium();
const chromiumVersion = browser.version();
const coldMs = Object.fromEntries(Object.keys(apps).map((name) => [name, []]));
try {
  // Alternate the two apps so drift in the machine's load hits both alike.
  for (let i = 0; i < RUNS; i++) {
    for (const name of Object.keys(apps)) {
      const context = await browser.newContext(); // a fresh profile: empty HTTP and code caches
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}/${name}.html`);
      await page.waitForFunction(() => window.benchDone, null, { timeout: 30_000 });
      const done = await page.evaluate(() => window.benchDone);
      check(errors.length === 0, `${name}: page errors ${errors.join('; ')}`);
      check(done.text === 'hello', `${name}: result ${JSON.stringify(done.text)}, expected "hello"`);
      coldMs[name].push(done.ms);
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

// Node: fresh processes, the two apps alternating. performance.now() counts from process start.
const nodeMs = Object.fromEntries(Object.keys(nodeApps).map((name) => [name, []]));
const nodeFromImportMs = Object.fromEntries(Object.keys(nodeApps).map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, code] of Object.entries(nodeApps)) {
    const done = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', code], { cwd: root, encoding: 'utf8' }));
    check(done.text === 'hello', `node ${name}: result ${JSON.stringify(done.text)}, expected "hello"`);
    nodeMs[name].push(done.ms);
    nodeFromImportMs[name].push(done.fromImportMs);
  }
}

const stats = (xs) => ({ medianMs: round(median(xs), 1), minMs: round(Math.min(...xs), 1), runs: xs.map((x) => round(x, 1)) });
const nodeCold = Object.fromEntries(Object.entries(nodeMs).map(([name, xs]) => [name, stats(xs)]));
const nodeFromImport = Object.fromEntries(Object.entries(nodeFromImportMs).map(([name, xs]) => [name, stats(xs)]));
const cold = Object.fromEntries(Object.entries(coldMs).map(([name, xs]) => [name, stats(xs)]));
const ratios = {
  coldStart: round(cold.lmthing.medianMs / cold['ai-sdk'].medianMs, 2),
  nodeColdStart: round(nodeCold.lmthing.medianMs / nodeCold['ai-sdk'].medianMs, 2),
  nodeImportToResult: round(nodeFromImport.lmthing.medianMs / nodeFromImport['ai-sdk'].medianMs, 2),
  size: round(sizes.lmthing.totalGzipKb / sizes['ai-sdk'].totalGzipKb, 2),
};

console.log(`browser cold start (Chromium ${chromiumVersion}, ${RUNS} runs each, fresh context per run)`);
console.log('app        cold start ms (median / min)   shipped gzip KB');
for (const name of Object.keys(apps)) {
  console.log(`${name.padEnd(10)} ${String(cold[name].medianMs).padStart(10)} / ${String(cold[name].minMs).padEnd(18)} ${sizes[name].totalGzipKb}`);
}
const deferredWasm = sizes.lmthing.files['lmthing_core.deferred.wasm'];
console.log(`lmthing wasm: ${sizes.lmthing.files['lmthing_core.wasm'].rawKb} KB raw, ${sizes.lmthing.files['lmthing_core.wasm'].gzipKb} KB gzip` +
  (deferredWasm ? `, and the deferred module ${deferredWasm.rawKb} KB raw, ${deferredWasm.gzipKb} KB gzip (before the first result: ${sizes.lmthing.firstResultGzipKb} KB gzip in all)` : ''));
console.log(`node cold start (fresh process → first result, median / min): lmthing ${nodeCold.lmthing.medianMs} / ${nodeCold.lmthing.minMs} ms, AI SDK ${nodeCold['ai-sdk'].medianMs} / ${nodeCold['ai-sdk'].minMs} ms`);
console.log(`node import → first result (median / min): lmthing ${nodeFromImport.lmthing.medianMs} / ${nodeFromImport.lmthing.minMs} ms, AI SDK ${nodeFromImport['ai-sdk'].medianMs} / ${nodeFromImport['ai-sdk'].minMs} ms`);
console.log(`ratios lmthing / AI SDK: cold start ${ratios.coldStart}, node cold start ${ratios.nodeColdStart} (from import ${ratios.nodeImportToResult}), size ${ratios.size}`);

const results = {
  date: new Date().toISOString(), node: process.version, chromium: chromiumVersion, cores: os.cpus().length, loadavg: os.loadavg(),
  versions: { ai: require('ai/package.json').version, esbuild: require('esbuild/package.json').version },
  dist, runs: RUNS, coldStart: cold, nodeColdStart: nodeCold, nodeImportToResult: nodeFromImport, sizes, ratios,
};
if (!process.env.LMTHING_DIST) writeFileSync(join(root, 'bench/results/browser-cold-start.json'), `${JSON.stringify(results, null, 2)}\n`);
