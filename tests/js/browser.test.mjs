// The packed package loads and runs in headless Chromium from a page served on 127.0.0.1,
// resolved through the package's "default" export condition.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './helpers/chromium.mjs';
import { installPackedPackage } from './helpers/packed.mjs';
import { serveStatic } from './helpers/static-server.mjs';

let server;
let browser;
let page;

const checks = `
  import { createEngine, AbortError, CallbackError, EngineError, runPrompt, mockModel } from 'lmthing';
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function main() {
    const engine = await createEngine();
    const out = {};
    engine.registerCallback('square', async (x) => { await sleep(Math.random() * 20); return x * x; });
    const items = Array.from({ length: 10000 }, (_, i) => i);
    const squares = await engine.startRun({ kind: 'map', fn: 'square', items });
    out.mapOk = squares.length === 10000 && squares.every((v, i) => v === i * i);

    engine.registerCallback('boom', async () => { throw new Error('kaboom'); });
    try { await engine.startRun({ kind: 'call', fn: 'boom' }); } catch (e) {
      out.thrown = { isCallbackError: e instanceof CallbackError, code: e.code, message: e.message };
    }

    engine.registerCallback('slow', async (tag, i, ctx) => { await sleep(40); return ctx.signal.aborted ? 'aborted' : tag; });
    const controller = new AbortController();
    const a = engine.startRun({ kind: 'call', fn: 'slow', args: ['a', 0] }, { signal: controller.signal });
    const b = engine.startRun({ kind: 'call', fn: 'slow', args: ['b', 0] });
    setTimeout(() => controller.abort(), 5);
    const [ra, rb] = await Promise.allSettled([a, b]);
    out.abort = { a: ra.status === 'rejected' && ra.reason instanceof AbortError, b: rb.value };

    try { await engine.startRun({ kind: 'fault', where: 'run' }); } catch (e) {
      out.fault = { isEngineError: e instanceof EngineError, code: e.code };
    }
    out.info = await engine.request('engine.info');

    const model = mockModel([
      { type: 'text', text: 'Checking. ' },
      { type: 'tool-call', toolName: 'getWeather', args: { city: 'Lima' } },
      { type: 'text', text: 'It is 19 C in Lima.' },
    ]);
    const { result, prompt } = await runPrompt((ctx) => {
      ctx.defSystem('role', 'You are a weather bot');
      ctx.defTool('getWeather', 'weather', { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, ({ city }) => ({ city, tempC: 19 }));
      ctx.$\`Weather in Lima?\`;
    }, { model });
    let streamed = '';
    for await (const delta of result.textStream) streamed += delta;
    out.prompt = { text: await result.text, streamed, system: prompt.steps[0].system, toolResult: (await result.steps)[0].toolResults[0].result };
    return out;
  }
  window.lmthingChecks = main().catch((e) => ({ failed: String(e && e.stack || e) }));
`;

// The engine's second wasm file (js/split-code.ts): loaded by a synchronous request when a call
// needs it before the background fetch, and fetched in the background once the engine is idle.
const splitChecks = (mode) => `
  import { createEngine, runPrompt, mockModel } from 'lmthing';
  async function stateRun(engine) {
    const { result } = await runPrompt((ctx) => { const count = ctx.defState('count', 41); ctx.$\`Count: \${count}\`; }, { model: mockModel([{ type: 'text', text: 'counted' }]), engine });
    return result.text;
  }
  async function main() {
    const engine = await createEngine();
    if (${JSON.stringify(mode)} === 'sync') {
      const before = engine.deferredCodeLoaded;
      return { before, text: await stateRun(engine), after: engine.deferredCodeLoaded };
    }
    const { result } = await runPrompt((ctx) => ctx.$\`Hi\`, { model: mockModel([{ type: 'text', text: 'hi' }]), engine });
    const text = await result.text;
    const afterRun = engine.deferredCodeLoaded;
    const start = performance.now();
    while (!engine.deferredCodeLoaded && performance.now() - start < 10000) await new Promise((r) => setTimeout(r, 20));
    return { text, afterRun, later: engine.deferredCodeLoaded, stateText: await stateRun(engine) };
  }
  window.lmthingChecks = main().catch((e) => ({ failed: String(e && e.stack || e) }));
`;

before(async () => {
  const { packageDir } = installPackedPackage();
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const browserEntry = manifest.exports['.'].default.replace(/^\.\//, '');
  const page_html = `<!doctype html><meta charset="utf-8"><title>lmthing browser check</title>
    <script type="importmap">${JSON.stringify({ imports: { lmthing: `/pkg/${browserEntry}` } })}</script>
    <script type="module">${checks}</script>`;
  const pageOf = (script) => `<!doctype html><meta charset="utf-8"><title>lmthing browser check</title>
    <script type="importmap">${JSON.stringify({ imports: { lmthing: `/pkg/${browserEntry}` } })}</script>
    <script type="module">${script}</script>`;
  // A glue URL a server answers with an HTML page (an app's fallback, or the wrong content type).
  const glueAsHtml = `
    import { createEngine } from 'lmthing';
    window.lmthingChecks = createEngine({ glueUrl: '/glue-as-html.mjs' }).then(() => ({ failed: 'loaded' }), (e) => ({ name: e.name, code: e.code, message: e.message }));
  `;
  server = await serveStatic({
    routes: { '/pkg/': packageDir },
    pages: { '/': page_html, '/split-sync': pageOf(splitChecks('sync')), '/split-prefetch': pageOf(splitChecks('prefetch')), '/glue-as-html': pageOf(glueAsHtml), '/glue-as-html.mjs': 'export default 1;' },
  });
  browser = await launchChromium();
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the package runs in headless Chromium: 10,000 ops, errors, abort, faults, a runPrompt tool loop', async () => {
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(server.url + '/');
  const result = await page.evaluate(() => window.lmthingChecks);
  assert.equal(result.failed, undefined, result.failed);
  assert.deepEqual(pageErrors, []);
  assert.equal(result.mapOk, true);
  assert.deepEqual(result.thrown, { isCallbackError: true, code: 'CALLBACK_ERROR', message: 'kaboom' });
  assert.deepEqual(result.abort, { a: true, b: 'b' });
  assert.deepEqual(result.fault, { isEngineError: true, code: 'ENGINE_ERROR' });
  assert.equal(result.info.protocol, 1);
  assert.equal(result.info.activeRuns, 0);
  assert.deepEqual(result.prompt, {
    text: 'It is 19 C in Lima.',
    streamed: 'Checking. It is 19 C in Lima.',
    system: '<role>\nYou are a weather bot\n</role>',
    toolResult: { city: 'Lima', tempC: 19 },
  });
});

test('the deferred wasm file: a call that needs it first loads it synchronously; otherwise it is fetched once the engine is idle', async () => {
  for (const mode of ['sync', 'prefetch']) {
    const context = await browser.newContext(); // empty caches: each page loads the files itself
    const tab = await context.newPage();
    const requests = [];
    tab.on('request', (r) => { if (r.url().endsWith('.deferred.wasm')) requests.push(r.resourceType()); });
    const pageErrors = [];
    tab.on('pageerror', (e) => pageErrors.push(String(e)));
    await tab.goto(`${server.url}/split-${mode}`);
    const result = await tab.evaluate(() => window.lmthingChecks);
    await context.close();
    assert.equal(result.failed, undefined, result.failed);
    assert.deepEqual(pageErrors, []);
    if (mode === 'sync') {
      assert.deepEqual(result, { before: false, text: 'counted', after: true });
      assert.equal(requests[0], 'xhr', `requests: ${requests}`); // the synchronous request
    } else {
      assert.deepEqual(result, { text: 'hi', afterRun: false, later: true, stateText: 'counted' });
      assert.deepEqual(requests, ['fetch'], 'fetched in the background, once');
    }
  }
});

test('a glue URL served as something other than JavaScript is an EngineLoadError that names the content type', async () => {
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(`${server.url}/glue-as-html`);
  const result = await tab.evaluate(() => window.lmthingChecks);
  await context.close();
  assert.equal(result.name, 'EngineLoadError');
  assert.equal(result.code, 'ENGINE_LOAD');
  assert.match(result.message, /the server answers it with text\/html.*; a module script must be served as text\/javascript/);
  assert.match(result.message, /Serve that file as JavaScript \(text\/javascript\)/);
});
