// The first run after `preload()`, with and without its warm-up (issue 19): an app that preloads
// at start-up, then serves its first request. V8 compiles wasm functions (and JS) when they first
// run, so without the warm-up the first run pays for that; `preload()` runs offline runs on a
// throwaway engine to pay it at start-up instead (js/preload.ts).
//
// Node: fresh processes, `preload({ warmUp })`, then one `runPrompt` with a tool call and a text
// reply (mockModel); the two variants alternate. Browser: the same app bundled with esbuild and
// loaded in headless Chromium, a fresh context per run.
//
//   node bench/first-run.mjs [RUNS]   # default 7; writes bench/results/first-run.json
import { build } from 'esbuild';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

import { launchChromium } from '../tests/js/helpers/chromium.mjs';
import { check, median, printTable, round } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.argv[2] ?? 7);
const variants = { 'no warm-up': false, 'warm-up': true };

/** The app: preload, then the first run; reports both durations. `entry` is node.js or browser.js. */
const app = (entry, warmUp, report) => `
  import { mockModel, preload, runPrompt, configureDefaultEngine } from ${JSON.stringify(join(root, 'dist', entry))};
  ${entry === 'browser.js' ? "configureDefaultEngine({ wasmUrl: '/lmthing_core.wasm' });" : ''}
  const t0 = performance.now();
  await preload({ warmUp: ${warmUp} });
  const t1 = performance.now();
  const model = mockModel([{ type: 'tool-call', toolName: 'add', args: { a: 2, b: 3 } }, { type: 'text', text: 'five' }]);
  const schema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] };
  const { result } = await runPrompt((ctx) => { ctx.defTool('add', 'Adds', schema, ({ a, b }) => a + b); ctx.$\`2 + 3?\`; }, { model });
  const text = await result.text;
  const t2 = performance.now();
  ${report}({ text, preloadMs: t1 - t0, firstRunMs: t2 - t1 });
`;

const samples = { node: {}, browser: {} };
for (const where of Object.keys(samples)) for (const name of Object.keys(variants)) samples[where][name] = [];

// Node
for (let i = 0; i < RUNS; i++) {
  for (const [name, warmUp] of Object.entries(variants)) {
    const code = app('node.js', warmUp, '((r) => { console.log(JSON.stringify(r)); process.exit(0); })');
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', code], { cwd: root, encoding: 'utf8' }));
    check(r.text === 'five', `node ${name}: result ${JSON.stringify(r.text)}`);
    samples.node[name].push(r);
  }
}

// Browser
const dir = mkdtempSync(join(os.tmpdir(), 'lmthing-first-run-'));
// preload() also loads the deferred module, which the page finds next to the first one (docs/bundlers.md).
const files = new Map(['lmthing_core.wasm', 'lmthing_core.deferred.wasm'].map((file) => [`/${file}`, readFileSync(join(root, 'dist/wasm', file))]));
for (const warmUp of Object.values(variants)) {
  const entry = join(dir, `${warmUp}.mjs`);
  writeFileSync(entry, app('browser.js', warmUp, '((r) => { window.benchDone = r; })'));
  await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(dir, `${warmUp}.js`), logLevel: 'error' });
  files.set(`/${warmUp}.js`, readFileSync(join(dir, `${warmUp}.js`)));
  files.set(`/${warmUp}.html`, Buffer.from(`<!doctype html><meta charset="utf-8"><script type="module" src="/${warmUp}.js"></script>`));
}
rmSync(dir, { recursive: true, force: true });
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const body = files.get(path);
  if (!body) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[path.slice(path.lastIndexOf('.'))], 'cache-control': 'no-store' }).end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await launchChromium();
const chromium = browser.version();
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [name, warmUp] of Object.entries(variants)) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/${warmUp}.html`);
      await page.waitForFunction(() => window.benchDone, null, { timeout: 30_000 });
      const r = await page.evaluate(() => window.benchDone);
      check(r.text === 'five', `browser ${name}: result ${JSON.stringify(r.text)}`);
      samples.browser[name].push(r);
      await context.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}

const summary = {};
const rows = [['where', 'preload', 'preload() ms (median)', 'first run ms (median)', 'first run ms (min)']];
for (const [where, byVariant] of Object.entries(samples)) {
  summary[where] = {};
  for (const [name, xs] of Object.entries(byVariant)) {
    const s = { preloadMsMedian: round(median(xs.map((x) => x.preloadMs)), 1), firstRunMsMedian: round(median(xs.map((x) => x.firstRunMs)), 1), firstRunMsMin: round(Math.min(...xs.map((x) => x.firstRunMs)), 1) };
    summary[where][name] = s;
    rows.push([where, name, s.preloadMsMedian.toFixed(1), s.firstRunMsMedian.toFixed(1), s.firstRunMsMin.toFixed(1)]);
  }
}
console.log(`first run after preload(): ${RUNS} runs each, fresh process / browser context per run, variants alternating (Chromium ${chromium})`);
printTable(rows, [0, 1]);
const report = { benchmark: 'first-run', date: new Date().toISOString(), node: process.version, chromium, cores: os.cpus().length, loadavg: os.loadavg(), runs: RUNS, summary };
if (process.argv[2] === undefined) {
  writeFileSync(join(root, 'bench/results/first-run.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote bench/results/first-run.json');
}
