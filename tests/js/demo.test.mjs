// The in-browser demo (web-demo/) in headless Chromium: the server started as `npm run demo` would
// (on a free port), the scripted model, approvals answered in the <dialog>: approve a write, deny a
// delete (which must never run), then modify a write. Saves a screenshot in tests/js/artifacts/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './helpers/chromium.mjs';

const root = resolve(import.meta.dirname, '../..');
const artifacts = join(root, 'tests/js/artifacts');
let server;
let browser;
let url;

before(async () => {
  server = spawn(process.execPath, [join(root, 'web-demo/server.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise((resolveUrl, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const match = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (match) resolveUrl(match[0]);
    });
    server.on('exit', (code) => reject(new Error(`the demo server exited (${code}): ${out}`)));
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

/** Waits for the approval dialog to be open on `tool`, checks it, and clicks `button`. */
async function decide(page, tool, button, check = async () => {}) {
  await page.waitForFunction((t) => {
    const dialog = document.querySelector('[data-testid="approval-dialog"]');
    return dialog.open && dialog.querySelector('[data-testid="approval-tool"]').textContent === t;
  }, tool);
  await check();
  const shown = await page.getByTestId('approval-args').textContent();
  await page.getByTestId(button).click();
  // Closed, or already showing the next request: the dialog may close and reopen between two polls.
  await page.waitForFunction((before) => {
    const dialog = document.querySelector('[data-testid="approval-dialog"]');
    return !dialog.open || dialog.querySelector('[data-testid="approval-args"]').textContent !== before;
  }, shown);
}

const fileText = (page, path) => page.locator(`[data-testid="files"] [data-file="${path}"]`).textContent();
const timeline = (page) => page.$$eval('[data-testid="timeline"] li', (items) => items.map((li) => ({ kind: li.dataset.kind, tool: li.dataset.tool, action: li.dataset.action, text: li.textContent })));

test('the demo: approve a write, deny a delete (never run), modify a write; files and timeline follow', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  assert.match(await page.locator('label:has([data-testid="model-demo"])').textContent(), /Offline demo model \(scripted/);
  const before = await fileText(page, 'src/greet.js');
  assert.equal(await page.locator('[data-testid="files"] [data-file]').count(), 4);

  // Run 1: approve the write, deny the delete.
  await page.getByTestId('run').click();
  await decide(page, 'writeFile', 'approve', async () => {
    assert.match(await page.getByTestId('approval-args').textContent(), /"path": "src\/greet.js"/);
    const diff = await page.getByTestId('approval-diff').textContent();
    assert.match(diff, /\+ export function farewell\(name\) \{/);
    assert.match(diff, / {2}export function greet\(name\) \{/);
    assert.equal(await fileText(page, 'src/greet.js'), before, 'nothing is written before the approval');
  });
  await decide(page, 'deleteFile', 'deny', async () => {
    assert.match(await page.getByTestId('approval-diff').textContent(), /- - \[x\] write greet\(\)/);
    assert.equal(await page.getByTestId('modify').isVisible(), false, 'delete offers approve and deny only');
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === 'done');
  const afterFirst = await fileText(page, 'src/greet.js');
  assert.match(afterFirst, /export function farewell\(name\) \{\n {2}return `Goodbye, \$\{name\}!`;\n\}/);
  assert.ok(afterFirst.startsWith(before));
  assert.equal(await fileText(page, 'notes/old-todo.md'), '- [x] write greet()\n- [ ] decide on a license\n');
  let events = await timeline(page);
  assert.deepEqual(events.filter((e) => e.kind === 'approval-decision').map((e) => [e.tool, e.action]), [['writeFile', 'approve'], ['deleteFile', 'deny']]);
  assert.deepEqual(events.filter((e) => e.kind === 'tool-executed').map((e) => e.tool), ['listFiles', 'readFile', 'writeFile'], 'the denied delete never ran');
  assert.ok(events.some((e) => e.kind === 'tool-error' && e.tool === 'deleteFile' && e.text.includes('was denied')));
  assert.match(events.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: denied by you\./);

  // Run 2: modify the write (edited content is what lands), approve the delete.
  const edited = "export function greet(name) {\n  return `Hi, ${name}.`;\n}\n";
  await page.getByTestId('run').click();
  await decide(page, 'writeFile', 'modify', async () => {
    await page.getByTestId('approval-content').fill(edited);
    assert.match(await page.getByTestId('approval-diff').textContent(), /\+ {3}return `Hi, \$\{name\}\.`;/);
  });
  await decide(page, 'deleteFile', 'approve');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === 'done');
  assert.equal(await fileText(page, 'src/greet.js'), edited);
  assert.equal(await page.locator('[data-file="notes/old-todo.md"]').count(), 0);
  events = await timeline(page);
  assert.deepEqual(events.filter((e) => e.kind === 'approval-decision').map((e) => e.action), ['approve', 'deny', 'modify', 'approve']);
  assert.deepEqual(events.filter((e) => e.kind === 'tool-executed' && e.tool === 'deleteFile').length, 1);
  assert.match(events.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: done\./);
  assert.deepEqual(pageErrors, []);

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'demo.png'), fullPage: true });
  await page.close();
});

test('the demo server serves only the page and the published package', async () => {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<script type="importmap">\{"imports":\{"lmthing":"\/pkg\/dist\/browser\.js"\}\}<\/script>/);
  assert.equal((await fetch(url + 'pkg/dist/browser.js')).status, 200);
  assert.equal((await fetch(url + 'pkg/dist/wasm/lmthing_core.wasm')).headers.get('content-type'), 'application/wasm');
  for (const path of ['pkg/src/engine/engine.cpp', 'pkg/tests/js/demo.test.mjs', 'server.mjs', 'pkg/../package.json', '..%2fpackage.json'])
    assert.equal((await fetch(url + path)).status, 404, path);
});
