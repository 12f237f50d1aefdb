// The in-browser demo (web-demo/) in headless Chromium, with the server started as `npm run demo`
// starts it (on a free port). Offline scripted model: approve a write, deny a delete; then a fresh
// run: modify the write and stop mid-way; reset; run again. The timeline must show each step's
// text before its tools and each tool once. Then the OpenAI-compatible endpoint (a loopback server
// replaying a recorded stream) with an API key that must never reach the demo server.
// Screenshots go to tests/js/artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { launchChromium } from './helpers/chromium.mjs';
import { decide, startDemoServer, timeline, waitForStatus } from './helpers/demo-page.mjs';
import { loadFixture } from './helpers/fixture-server.mjs';

const root = resolve(import.meta.dirname, '../..');
const artifacts = join(root, 'tests/js/artifacts');
const INITIAL_GREET = "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n";
const TODO = '- [x] write greet()\n- [ ] decide on a license\n';
let server;
let browser;
let url;
const serverLog = () => server.log();

before(async () => {
  server = await startDemoServer();
  url = server.url;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const fileText = (page, path) => page.locator(`[data-testid="files"] [data-file="${path}"]`).textContent();
const fileState = (page, path) => page.locator(`[data-testid="files"] [data-path="${path}"]`).getAttribute('data-state');

/** Records, in the page, the order in which step texts and tool rows first appear. */
const watchArrivals = (page) =>
  page.evaluate(() => {
    window.arrivals = [];
    window.arrivalObserver?.disconnect();
    const seen = new Set();
    window.arrivalObserver = new MutationObserver((mutations) => {
      for (const m of mutations) {
        const step = m.target.closest?.('.step')?.dataset.step;
        if (m.target.matches?.('.narration') && m.target.textContent && !seen.has(`text:${step}`)) seen.add(`text:${step}`) && window.arrivals.push(`text:${step}`);
        for (const node of m.addedNodes) if (node.matches?.('li.tool')) window.arrivals.push(`tool:${node.closest('.step').dataset.step}:${node.dataset.tool}`);
      }
    });
    window.arrivalObserver.observe(document.querySelector('[data-testid="timeline"]'), { childList: true, subtree: true });
  });

test('the demo: approve, deny, modify, stop mid-way, reset, run again; timeline and files follow', { timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  // preload(): the engine's deferred file (approvals, tracing) comes while the page renders, not
  // with a synchronous request in the middle of the first Run.
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((entry) => entry.name.includes('lmthing_core.deferred.wasm')), null, { timeout: 10_000 });
  assert.equal(await page.locator('[data-testid="files"] [data-file]').count(), 4);
  assert.equal(await page.getByTestId('stop').isDisabled(), true, 'Stop is only enabled while a run goes');
  // The code panel shows the agent's own source: its defApproval and defTool lines.
  const code = await page.getByTestId('code').textContent();
  assert.match(code, /ctx\.defApproval\('write'/);
  assert.match(code, /ctx\.defTool\('deleteFile'[\s\S]*\{ approval: 'delete' \}/);
  assert.ok(code.split('\n').length >= 12 && code.split('\n').length <= 28, `about 25 lines, got ${code.split('\n').length}`);

  // ---- Run 1: approve the write (long arguments wrap, the diff is clean), deny the delete.
  await watchArrivals(page);
  await page.getByTestId('run').click();
  // The run starts once its Web Lock is granted, a task after the click: Stop is enabled then.
  await page.waitForFunction(() => document.querySelector('[data-testid="stop"]').disabled === false, null, { timeout: 10_000 });
  await decide(page, 'writeFile', 'approve', async () => {
    assert.equal(await page.getByTestId('approval-message').textContent(), 'Write src/greet.js?');
    assert.match(await page.getByTestId('approval-args').textContent(), /pathsrc\/greet\.jscontent7 lines/);
    const diff = await page.$$eval('[data-testid="approval-diff"] .diff-line', (rows) => rows.map((r) => [r.classList[1], r.querySelector('.sign').textContent, r.querySelector('.text').textContent]));
    assert.deepEqual(diff.filter(([kind]) => kind === 'add').map(([, , text]) => text), ['', 'export function farewell(name) {', '  return `Goodbye, ${name}!`;', '}']);
    assert.deepEqual(diff.filter(([kind]) => kind === 'same').map(([, sign]) => sign), [' ', ' ', ' ']);
    const { scrollWidth, clientWidth } = await page.$eval('[data-testid="approval-dialog"]', (d) => ({ scrollWidth: d.scrollWidth, clientWidth: d.clientWidth }));
    assert.ok(scrollWidth <= clientWidth, 'nothing overflows the dialog sideways');
    assert.equal(await fileText(page, 'src/greet.js'), INITIAL_GREET, 'nothing is written before the approval');
  });
  await decide(page, 'deleteFile', 'deny', async () => {
    assert.equal(await page.getByTestId('modify').isVisible(), false, 'a delete offers approve and deny only');
    assert.match(await page.getByTestId('approval-diff').textContent(), /-- \[x\] write greet\(\)/);
  });
  await waitForStatus(page, 'done');
  assert.match(await fileText(page, 'src/greet.js'), /^export function greet[\s\S]*export function farewell\(name\) \{\n {2}return `Goodbye, \$\{name\}!`;\n\}\n$/);
  assert.equal(await fileState(page, 'src/greet.js'), 'modified');
  assert.equal(await page.locator('[data-path="src/greet.js"] .added-line').count(), 4, 'the added lines are highlighted');
  assert.equal(await fileText(page, 'notes/old-todo.md'), TODO, 'the denied delete never ran');
  let t = await timeline(page);
  assert.deepEqual(t.steps.map((s) => s.tools.map((x) => [x.tool, x.status, x.decision ?? null])), [
    [['listFiles', 'done', null]], [['readFile', 'done', null]], [['writeFile', 'done', 'approve']], [['deleteFile', 'denied', 'deny']], [],
  ], 'each tool once, in its step, with its status and decision');
  for (const step of t.steps) assert.match(step.usage, /^\d+ in · \d+ out tokens$/);
  for (const tool of t.steps.flatMap((s) => s.tools).filter((x) => x.status === 'done')) assert.match(tool.meta, /\d+ ms · ≈\d+ tok$/);
  assert.match(t.steps[2].text, /^I will add a farewell\(\) next to greet\(\)/);
  assert.equal(t.text.split('Summary:').length - 1, 1, 'the summary is shown once');
  assert.match(t.steps.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: denied by you\./);
  assert.equal(t.outcome, 'finish');
  const arrivals = await page.evaluate(() => window.arrivals);
  assert.deepEqual(arrivals, ['text:0', 'tool:0:listFiles', 'text:1', 'tool:1:readFile', 'text:2', 'tool:2:writeFile', 'text:3', 'tool:3:deleteFile', 'text:4'], "each step's text streams before the tool it calls");

  // The trace view: the run's spans on a time axis, nested, each closed with its duration; model
  // calls and the run with their tokens; each approval wait inside its tool call.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="trace"] .trace-row')];
    return rows.length > 0 && rows.every((r) => r.dataset.status !== 'open');
  });
  const trace = await page.$$eval('[data-testid="trace"] .trace-row', (rows) =>
    rows.map((r) => ({
      name: r.dataset.name,
      kind: r.dataset.kind,
      depth: parseFloat(r.querySelector('.trace-label').style.paddingLeft),
      meta: r.querySelector('.trace-meta').textContent,
      left: parseFloat(r.querySelector('.trace-bar').style.left),
      durationMs: Number(r.dataset.durationMs),
    })),
  );
  assert.equal(trace[0].name, 'invoke_agent root');
  assert.equal(trace[0].depth, 0);
  assert.match(trace[0].meta, /^[\d.]+ m?s · \d+ in · \d+ out$/);
  assert.equal(trace.filter((r) => r.kind === 'step').length, 5);
  const chats = trace.filter((r) => r.kind === 'model');
  assert.equal(chats.length, 5);
  for (const chat of chats) assert.match(chat.meta, /^[\d.]+ m?s · \d+ in · \d+ out$/);
  assert.deepEqual(trace.filter((r) => r.kind === 'tool').map((r) => r.name), ['execute_tool listFiles', 'execute_tool readFile', 'execute_tool writeFile', 'execute_tool deleteFile']);
  for (const [tool, approval] of [['execute_tool writeFile', 'approval write'], ['execute_tool deleteFile', 'approval delete']]) {
    const at = trace.findIndex((r) => r.name === tool);
    assert.equal(trace[at + 1].name, approval, `${approval} is drawn right under ${tool}`);
    assert.ok(trace[at + 1].depth > trace[at].depth);
    assert.ok(trace[at].durationMs >= trace[at + 1].durationMs, 'the tool call lasts at least its approval wait');
  }
  assert.ok(trace.every((r) => r.left >= 0 && r.left <= 100));

  // ---- Run 2 starts fresh: modify the write, then stop at the delete.
  const edited = "export function greet(name) {\n  return `Hi, ${name}.`;\n}\n";
  await page.getByTestId('run').click();
  await decide(page, 'writeFile', 'modify', async () => {
    assert.equal(await fileText(page, 'src/greet.js'), INITIAL_GREET, 'the second run starts from the initial files');
    t = await timeline(page);
    assert.deepEqual(t.steps.map((s) => s.tools.map((x) => x.tool)), [['listFiles'], ['readFile'], ['writeFile']], 'and from an empty timeline');
    await page.getByTestId('approval-content').fill(edited);
    const diff = await page.getByTestId('approval-diff').textContent();
    assert.match(diff, /2-\s+return `Hello, \$\{name\}!`;/);
    assert.match(diff, /2\+\s+return `Hi, \$\{name\}\.`;/);
  });
  await decide(page, 'deleteFile', 'dialog-stop');
  await waitForStatus(page, 'stopped');
  assert.equal(await fileText(page, 'src/greet.js'), edited, 'the edited content is what was written');
  assert.equal(await fileText(page, 'notes/old-todo.md'), TODO, 'nothing runs after Stop');
  t = await timeline(page);
  assert.deepEqual(t.steps.flatMap((s) => s.tools.map((x) => [x.tool, x.status, x.decision ?? null])), [
    ['listFiles', 'done', null], ['readFile', 'done', null], ['writeFile', 'done', 'modify'], ['deleteFile', 'stopped', null],
  ]);
  assert.equal(t.outcome, 'stopped');
  assert.equal(await page.getByTestId('stop').isDisabled(), true);

  // ---- Reset: the initial files and an empty timeline.
  await page.getByTestId('reset').click();
  assert.equal(await fileText(page, 'src/greet.js'), INITIAL_GREET);
  assert.equal(await page.locator('[data-testid="timeline"] > li').count(), 0);
  assert.equal(await page.locator('[data-testid="trace"] .trace-row').count(), 0, 'and an empty trace');
  assert.equal(await page.getByTestId('status').textContent(), 'idle');
  assert.equal(await page.getByTestId('changes').textContent(), 'no changes');

  // ---- Run again: approve both.
  await page.getByTestId('run').click();
  await decide(page, 'writeFile', 'approve');
  await decide(page, 'deleteFile', 'approve');
  await waitForStatus(page, 'done');
  assert.equal(await page.locator('[data-file="notes/old-todo.md"]').count(), 0);
  assert.equal(await fileState(page, 'notes/old-todo.md'), 'deleted');
  t = await timeline(page);
  assert.deepEqual(t.steps.flatMap((s) => s.tools.map((x) => [x.tool, x.status])), [['listFiles', 'done'], ['readFile', 'done'], ['writeFile', 'done'], ['deleteFile', 'done']]);
  assert.match(t.steps.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: done\./);
  assert.deepEqual(pageErrors, []);

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'demo.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page fits a phone's width (overflow ${overflow}px)`);
  await page.screenshot({ path: join(artifacts, 'demo-phone.png'), fullPage: true });
  await page.close();
});

test('the OpenAI-compatible endpoint: the key goes to the endpoint only, never to the demo server', { timeout: 60_000 }, async () => {
  const KEY = 'sk-demo-key-5f1c2a9e';
  const fixture = loadFixture('openai-chat', 'text-stream-include-usage');
  const received = [];
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type, accept', 'access-control-allow-methods': 'POST' };
  const endpoint = createServer((req, res) => {
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ path: req.url, authorization: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(200, { ...cors, 'content-type': 'text/event-stream' }).end(fixture.body);
    });
  });
  await new Promise((r) => endpoint.listen(0, '127.0.0.1', r));
  const page = await browser.newPage();
  const toDemoServer = [];
  page.on('request', (r) => r.url().startsWith(url) && toDemoServer.push({ url: r.url(), headers: JSON.stringify(r.headers()), body: r.postData() ?? '' }));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.lmthingDemoReady === true);
    await page.getByTestId('model-openai').check();
    await page.getByTestId('base-url').fill(`http://127.0.0.1:${endpoint.address().port}/v1`);
    await page.getByTestId('model-id').fill('gpt-3.5-turbo');
    await page.getByTestId('api-key').fill(KEY);
    await page.getByTestId('run').click();
    await waitForStatus(page, 'done');
    const t = await timeline(page);
    assert.match(t.steps[0].text, /1, 2, 3, 4, 5|1\s*2\s*3\s*4\s*5/);
    assert.equal(received.length, 1);
    assert.equal(received[0].path, '/v1/chat/completions');
    assert.equal(received[0].authorization, `Bearer ${KEY}`, 'the endpoint receives the key');
    assert.deepEqual(received[0].body.tools.map((x) => x.function.name), ['listFiles', 'readFile', 'writeFile', 'deleteFile']);
    assert.ok(toDemoServer.length > 0);
    for (const r of toDemoServer) assert.ok(!`${r.url} ${r.headers} ${r.body}`.includes(KEY), `no request to the demo server carries the key: ${r.url}`);
    assert.ok(!serverLog().includes(KEY), 'the key is not in the demo server log');
    assert.match(serverLog(), /GET \/app\.mjs 200/, 'the log does record the requests');
    assert.equal(await page.evaluate((key) => JSON.stringify({ ...localStorage, ...sessionStorage }).includes(key), KEY), false, 'the key is not stored');
  } finally {
    await page.close();
    await new Promise((r) => endpoint.close(r));
  }
});

test('the demo server serves only the page, its scripts and the published package', async () => {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<script type="importmap">\{"imports":\{"lmthing":"\/pkg\/dist\/browser\.js"\}\}<\/script>/);
  assert.equal((await fetch(url + 'agent.mjs')).status, 200);
  assert.equal((await fetch(url + 'pkg/dist/browser.js')).status, 200);
  assert.equal((await fetch(url + 'pkg/dist/wasm/lmthing_core.wasm')).headers.get('content-type'), 'application/wasm');
  for (const path of ['pkg/src/engine/engine.cpp', 'pkg/tests/js/demo.test.mjs', 'server.mjs', 'prepare.mjs', 'pkg/../package.json', '..%2fpackage.json'])
    assert.equal((await fetch(url + path)).status, 404, path);
});
