// The packed package, unchanged, built into a small app by Vite, esbuild, webpack 5 and a
// Next.js-style server/client webpack split, and loaded without a bundler (import map, relative
// import); headless Chromium runs each page offline (a mockModel run with a tool call). Each app
// is built once; one browser serves every page. The apps live in tests/bundlers/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { buildEsbuild, buildEsbuildNode, buildServerClient, buildVite, buildWebpack, placeApp, placeStaticPages } from '../bundlers/build.mjs';
import { launchChromium } from './helpers/chromium.mjs';
import { installPackedPackage } from './helpers/packed.mjs';
import { serveStatic } from './helpers/static-server.mjs';

const expected = { ok: true, text: 'It is 19 C in Lima.', toolResult: { city: 'Lima', tempC: 19, where: 'browser' } };
let project;
let browser;
const servers = [];

before(async () => {
  ({ dir: project } = installPackedPackage());
  placeApp(project);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** Serves `dir` at `/`, opens `page`, and returns what the app wrote in #result (and any page errors). */
async function load(dir, page = '/index.html', pages = {}) {
  const selector = '#result';
  const server = await serveStatic({ routes: { '/': dir }, pages });
  servers.push(server);
  const tab = await browser.newPage();
  const errors = [];
  const requests = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  tab.on('request', (r) => requests.push(new URL(r.url()).pathname));
  try {
    await tab.goto(server.url + page);
    await tab.waitForSelector(`${selector}[data-state]`, { timeout: 30_000 });
    return { result: JSON.parse(await tab.locator(selector).textContent()), errors, requests, origin: server.url };
  } finally {
    await tab.close();
  }
}

const emitted = (dir, ending) => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(ending));

test('Vite: `vite build` without configuration emits the two wasm files and the page runs the agent', { timeout: 120_000 }, async () => {
  const outDir = await buildVite(project);
  assert.equal(emitted(outDir, '.wasm').length, 2, 'Vite emitted lmthing_core.wasm and lmthing_core.deferred.wasm as assets');
  const { result, errors } = await load(outDir);
  assert.deepEqual(errors, []);
  assert.deepEqual(result, expected);
});

test('webpack 5 (webpack-cli): a production build without loaders emits the two wasm files and the page runs the agent', { timeout: 120_000 }, async () => {
  const { outDir, output } = buildWebpack(project);
  assert.match(output, /compiled successfully/);
  assert.doesNotMatch(output, /WARNING/, 'webpack builds without warnings');
  assert.equal(emitted(outDir, '.wasm').length, 2);
  const { result, errors } = await load(outDir);
  assert.deepEqual(errors, []);
  assert.deepEqual(result, expected);
});

test('Next.js-style split: the server bundle (node condition) prerenders, the client bundle runs in the page', { timeout: 120_000 }, async () => {
  const { outDir, warnings } = await buildServerClient(project);
  assert.deepEqual(warnings.map((w) => w.message), [], 'both builds without warnings');
  assert.ok(existsSync(join(outDir, 'index.html')), 'the server bundle ran under Node and wrote the page');
  const server = await serveStatic({ routes: { '/': outDir } });
  servers.push(server);
  const tab = await browser.newPage();
  try {
    await tab.goto(server.url + '/index.html');
    await tab.waitForSelector('#result[data-state]', { timeout: 30_000 });
    assert.deepEqual(JSON.parse(await tab.locator('#server-result').textContent()), { ...expected, toolResult: { ...expected.toolResult, where: 'server' } });
    assert.deepEqual(JSON.parse(await tab.locator('#result').textContent()), expected);
  } finally {
    await tab.close();
  }
});

test('esbuild without options: the page fails with ENGINE_LOAD naming the file, the URL tried and the option', { timeout: 120_000 }, async () => {
  const { outDir } = await buildEsbuild(project, { configured: false });
  const { result, origin } = await load(outDir);
  assert.equal(result.ok, false);
  assert.equal(result.name, 'EngineLoadError');
  assert.equal(result.code, 'ENGINE_LOAD');
  assert.equal(result.file, 'dist/wasm/lmthing_core.wasm');
  assert.deepEqual(result.urls, [`${origin}/wasm/lmthing_core.wasm`]);
  assert.match(result.message, /HTTP 404/);
  assert.match(result.message, /wasmUrl/);
  assert.match(result.message, /docs\/bundlers\.md/);

  // A dev server that answers a missing file with its index.html: not taken for the wasm.
  const fallback = await load(outDir, '/index.html', { '/wasm/lmthing_core.wasm': '<!doctype html><title>app</title>' });
  assert.equal(fallback.result.code, 'ENGINE_LOAD');
  assert.match(fallback.result.message, /not a WebAssembly module .*got text\/html/);
});

test('esbuild with the documented fix (file loader + configureDefaultEngine({wasmUrl, deferredWasm})) runs the agent', { timeout: 120_000 }, async () => {
  const { outDir, warnings } = await buildEsbuild(project, { configured: true });
  assert.deepEqual(warnings, []);
  const { result, errors } = await load(outDir);
  assert.deepEqual(errors, []);
  assert.deepEqual(result, expected);
});

test('esbuild for Node with the documented import.meta.url recipe: the bundle runs from any working directory', { timeout: 120_000 }, async () => {
  const { bundle, warnings } = await buildEsbuildNode(project);
  assert.deepEqual(warnings, []);
  for (const cwd of [dirname(bundle), project, tmpdir()]) {
    const output = execFileSync(process.execPath, [bundle], { cwd, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output), { ...expected, toolResult: { ...expected.toolResult, where: 'node' } }, `run from ${cwd}`);
  }
});

test('no bundler: static files with an import map, and with a relative import', { timeout: 60_000 }, async () => {
  placeStaticPages(project);
  const mapped = await load(project, '/out/importmap/index.html');
  assert.deepEqual(mapped.errors, []);
  assert.deepEqual(mapped.result, expected);
  assert.ok(mapped.requests.includes('/node_modules/lmthing/dist/wasm/lmthing_core.wasm'));
  const relative = await load(project, '/out/relative/index.html');
  assert.deepEqual(relative.result, { ok: true, text: 'done', toolResult: 5 });
});
