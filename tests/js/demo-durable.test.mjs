// The web demo's runs survive a reload (issue 20): each run is durable, journaled in IndexedDB, and
// a reload resumes it. Offline model: reload while the write's dialog is open, and again at the
// delete's; each time the same dialog comes back, and after the approvals the run finishes with
// every tool run once (the project's own log of operations, kept in localStorage, says so) and
// the write in the files. A second tab does not resume the run the first one is running; Stop and
// Reset end it. A reload right after a write landed, before the journal has its end: the write
// counts as done (it is in the files) and is not repeated. Then the OpenAI-compatible endpoint:
// the resumed run waits for the API key (never stored: not in localStorage, sessionStorage or
// IndexedDB) and makes no model call the journal already answers.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { launchChromium } from './helpers/chromium.mjs';
import { decide, dialogOn, startDemoServer, timeline, waitForStatus } from './helpers/demo-page.mjs';

const GREET_WITH_FAREWELL = "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n\nexport function farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n";
let server;
let browser;

before(async () => {
  server = await startDemoServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** Opens the demo in a fresh browser context (its own localStorage and IndexedDB; close the context when done). */
async function openDemo() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  return { page, errors };
}

async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => window.lmthingDemoReady === true);
}

/** The open dialog as data: what it asks, about which tool, with which arguments. */
const dialogShown = (page) =>
  page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`).textContent;
    return { message: text('approval-message'), tool: text('approval-tool'), args: text('approval-args'), json: text('approval-json'), diff: text('approval-diff') };
  });

const stored = (page, key) => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), key);
const projectLog = async (page) => (await stored(page, 'lmthing-demo:project'))?.log.map((e) => (e.path ? `${e.op} ${e.path}` : e.op));

/** Every key of the demo's IndexedDB journal store. */
const journalKeys = (page) =>
  page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'lmthing-demo')) return [];
    const db = await new Promise((resolve, reject) => Object.assign(indexedDB.open('lmthing-demo'), { onsuccess: (e) => resolve(e.target.result), onerror: (e) => reject(e.target.error) }));
    try {
      return await new Promise((resolve, reject) => Object.assign(db.transaction('records').objectStore('records').getAllKeys(), { onsuccess: (e) => resolve(e.target.result), onerror: (e) => reject(e.target.error) }));
    } finally {
      db.close();
    }
  });

/** Waits until the journal store holds no key of run `id` (none at all without an id): an ended run is forgotten. */
async function journalForgotten(page, id) {
  for (let i = 0; i < 100; i++) {
    if (!(await journalKeys(page)).some((key) => id === undefined || key.includes(id))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the journal of ${id ?? 'every run'} is still in IndexedDB`);
}

/** Everything the page keeps: localStorage, sessionStorage and every IndexedDB record, as one text. */
const everythingStored = (page) =>
  page.evaluate(async () => {
    const texts = [JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })];
    const ask = (req) => new Promise((resolve, reject) => Object.assign(req, { onsuccess: () => resolve(req.result), onerror: () => reject(req.error) }));
    for (const { name } of await indexedDB.databases()) {
      const db = await ask(indexedDB.open(name));
      for (const store of db.objectStoreNames) texts.push(JSON.stringify(await ask(db.transaction(store).objectStore(store).getAll())));
      db.close();
    }
    return texts.join('\n');
  });

/** Each tool call of the timeline once (by its call id), every one with its result. */
function assertEachCallOnce(t) {
  const calls = t.steps.flatMap((s) => s.tools);
  assert.deepEqual(calls.map((c) => c.callId), [...new Set(calls.map((c) => c.callId))], 'no tool call id appears twice');
  for (const call of calls) assert.notEqual(call.result, '', `${call.tool} (${call.callId}) has its result`);
}

test('the demo: a reload during an approval resumes the run; the dialog comes back and nothing runs twice', { timeout: 120_000 }, async () => {
  const { page, errors } = await openDemo();
  assert.equal(await stored(page, 'lmthing-demo:run'), null, 'no unfinished run at first');
  await page.getByTestId('run').click();

  // ---- Reload 1: while the write waits for its approval.
  await dialogOn(page, 'writeFile');
  const writeDialog = await dialogShown(page);
  assert.equal(writeDialog.message, 'Write src/greet.js?');
  const run = await stored(page, 'lmthing-demo:run');
  assert.match(run.id, /^demo-\d+-[a-z0-9]+$/);
  assert.deepEqual({ ...run, id: undefined }, { id: undefined, task: await page.getByTestId('task').inputValue(), model: { kind: 'demo' } });
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js']);
  assert.ok((await journalKeys(page)).some((k) => k.includes(run.id)), 'the run is journaled in IndexedDB');
  await reload(page);
  await dialogOn(page, 'writeFile');
  assert.deepEqual(await dialogShown(page), writeDialog, 'the same dialog comes back: message, tool, arguments, diff');
  assert.equal(await page.getByTestId('status').textContent(), 'running');
  assert.match(await page.getByTestId('status-note').textContent(), /^resumed after a reload/);
  let t = await timeline(page);
  assert.deepEqual(t.steps.map((s) => s.tools.map((x) => [x.tool, x.status])), [[['listFiles', 'done']], [['readFile', 'done']], [['writeFile', 'awaiting']]], 'the timeline is rebuilt from the replayed stream');
  assert.match(t.steps[2].text, /^I will add a farewell\(\) next to greet\(\)/);
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js'], 'the resumed run did not list or read again');
  await decide(page, 'writeFile', 'approve');

  // ---- Reload 2: the write is done, the delete waits.
  await dialogOn(page, 'deleteFile');
  const deleteDialog = await dialogShown(page);
  assert.equal(deleteDialog.message, 'Delete notes/old-todo.md?');
  assert.equal(await page.locator('[data-file="src/greet.js"]').textContent(), GREET_WITH_FAREWELL);
  await reload(page);
  await dialogOn(page, 'deleteFile');
  assert.deepEqual(await dialogShown(page), deleteDialog);
  assert.equal(await page.locator('[data-file="src/greet.js"]').textContent(), GREET_WITH_FAREWELL, 'the completed write is in the files after the reload');
  assert.equal(await page.locator('[data-path="src/greet.js"]').getAttribute('data-state'), 'modified');
  await decide(page, 'deleteFile', 'approve');

  await waitForStatus(page, 'done');
  assert.match(await page.getByTestId('status-note').textContent(), /^resumed after a reload/);
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js', 'write src/greet.js', 'delete notes/old-todo.md'], 'every tool ran exactly once over the three pages');
  t = await timeline(page);
  assert.deepEqual(t.steps.map((s) => s.tools.map((x) => [x.tool, x.callId, x.status, x.decision ?? null])), [
    [['listFiles', 'demo_1', 'done', null]], [['readFile', 'demo_2', 'done', null]], [['writeFile', 'demo_3', 'done', 'approve']], [['deleteFile', 'demo_4', 'done', 'approve']], [],
  ]);
  assertEachCallOnce(t);
  assert.equal(t.outcome, 'finish');
  assert.match(t.steps.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: done\./);
  assert.equal(t.text.split('Summary:').length - 1, 1, 'the summary is shown once');
  assert.equal(await page.locator('[data-file="notes/old-todo.md"]').count(), 0);

  // ---- Finished: nothing left to resume; a reload shows the files, idle, and clears the journal.
  assert.equal(await stored(page, 'lmthing-demo:run'), null);
  await reload(page);
  await journalForgotten(page, run.id);
  assert.equal(await page.getByTestId('status').textContent(), 'idle');
  assert.equal(await page.getByTestId('status-note').isVisible(), false);
  assert.equal(await page.locator('[data-testid="timeline"] > li').count(), 0);
  assert.equal(await page.locator('[data-file="src/greet.js"]').textContent(), GREET_WITH_FAREWELL, 'the files are kept');
  await page.getByTestId('reset').click();
  assert.equal(await page.getByTestId('changes').textContent(), 'no changes');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the demo: a second tab does not resume a run that goes on; Stop and Reset end the unfinished run', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  await page.getByTestId('run').click();
  await dialogOn(page, 'writeFile');
  // The same origin in a second tab: same localStorage, but the run is this tab's (a Web Lock).
  const other = await page.context().newPage();
  await other.goto(server.url);
  await other.waitForFunction(() => window.lmthingDemoReady === true);
  await other.waitForFunction(() => document.querySelector('[data-testid="status-note"]').textContent !== '');
  assert.match(await other.getByTestId('status-note').textContent(), /goes on in another tab/);
  assert.equal(await other.evaluate(() => document.querySelector('[data-testid="approval-dialog"]').open), false);
  assert.equal(await other.getByTestId('status').textContent(), 'idle');
  await other.close();
  await decide(page, 'writeFile', 'dialog-stop');
  await waitForStatus(page, 'stopped');
  assert.equal(await stored(page, 'lmthing-demo:run'), null, 'a stopped run is not resumed');
  // Reset while the run goes (clicked in the same task as Run: before its first dialog covers the page).
  const [whileRunning, afterReset] = await page.evaluate(() => {
    document.querySelector('[data-testid="run"]').click();
    const saved = localStorage.getItem('lmthing-demo:run');
    document.querySelector('[data-testid="reset"]').click();
    return [saved, localStorage.getItem('lmthing-demo:run')];
  });
  assert.notEqual(whileRunning, null);
  assert.equal(afterReset, null, 'nor is a reset one');
  await reload(page);
  assert.equal(await page.getByTestId('status').textContent(), 'idle');
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid="approval-dialog"]').open), false);
  await journalForgotten(page); // a load with no unfinished run clears leftovers
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the demo: Run clicked twice starts one run; a reload before its first journal write starts it afresh', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  // Two clicks in one task (a double click): the second finds Run disabled.
  await page.evaluate(() => {
    document.querySelector('[data-testid="run"]').click();
    document.querySelector('[data-testid="run"]').click();
  });
  await decide(page, 'writeFile', 'approve');
  await decide(page, 'deleteFile', 'approve');
  await waitForStatus(page, 'done');
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js', 'write src/greet.js', 'delete notes/old-todo.md'], 'one run: each tool once');
  assert.equal(await page.evaluate(() => document.querySelector('[data-testid="approval-dialog"]').open), false, 'no dialog of a second run');
  // Reset, then Run and a reload in the same task: the run is saved, its journal not yet written.
  await page.getByTestId('reset').click();
  const reloaded = page.waitForEvent('load');
  await page.evaluate(() => {
    document.querySelector('[data-testid="run"]').click();
    location.reload();
  });
  await reloaded;
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  await decide(page, 'writeFile', 'deny');
  await decide(page, 'deleteFile', 'deny');
  await waitForStatus(page, 'done');
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js'], 'the fresh run asked again and ran nothing it was denied');
  assertEachCallOnce(await timeline(page));
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the demo: a reload after a write landed but before the journal recorded its end: the write counts as done and is not repeated', { timeout: 60_000 }, async () => {
  const { page, errors } = await openDemo();
  await page.getByTestId('run').click();
  await dialogOn(page, 'writeFile');
  // Fault injection: once the project has saved the write, IndexedDB writes never complete (the
  // tool's end is not journaled) and the page reloads, as if it went away at that very moment.
  await page.evaluate(() => {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      setItem.call(this, key, value);
      if (key !== 'lmthing-demo:project' || !value.includes('"op":"write"')) return;
      IDBObjectStore.prototype.put = () => ({}); // a request that never succeeds nor fails
      location.reload();
    };
  });
  const reloaded = page.waitForEvent('load');
  await page.getByTestId('approve').click();
  await reloaded;
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  await decide(page, 'deleteFile', 'deny');
  await waitForStatus(page, 'done');
  const t = await timeline(page);
  const write = t.steps.flatMap((s) => s.tools).find((x) => x.tool === 'writeFile');
  assert.deepEqual([write.status, write.result], ['done', 'wrote src/greet.js'], "the interrupted write's result comes from the files (Project.landed), not from running it again");
  assert.deepEqual(await projectLog(page), ['list', 'read src/greet.js', 'write src/greet.js'], 'written once');
  assert.equal(await page.locator('[data-file="src/greet.js"]').textContent(), GREET_WITH_FAREWELL);
  assert.match(t.steps.at(-1).text, /Write to src\/greet\.js: done\. Delete of notes\/old-todo\.md: denied by you\./);
  assertEachCallOnce(t);
  assert.deepEqual(errors, []);
  await page.context().close();
});

/** An OpenAI-compatible chat completions stream: `parts` as chunks, then the finish reason. */
function chatStream(delta, finishReason) {
  const chunk = (choice) => `data: ${JSON.stringify({ id: 'chatcmpl-demo', object: 'chat.completion.chunk', created: 1, model: 'demo-endpoint', choices: [{ index: 0, ...choice }] })}\n\n`;
  return chunk({ delta: { role: 'assistant', ...delta }, finish_reason: null }) + chunk({ delta: {}, finish_reason: finishReason }) + 'data: [DONE]\n\n';
}

test('the demo with an endpoint: the resumed run waits for the key, asks no answered model call again, and the key is never stored', { timeout: 60_000 }, async () => {
  const KEY = 'sk-durable-demo-7c41d0e2';
  const content = "export function greet(name) {\n  return `Hey, ${name}!`;\n}\n";
  const answers = [
    chatStream({ content: 'I will rewrite the greeting.', tool_calls: [{ index: 0, id: 'call_w1', type: 'function', function: { name: 'writeFile', arguments: JSON.stringify({ path: 'src/greet.js', content }) } }] }, 'tool_calls'),
    chatStream({ content: 'Rewrote src/greet.js.' }, 'stop'),
  ];
  const received = [];
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type, accept', 'access-control-allow-methods': 'POST' };
  const endpoint = createServer((req, res) => {
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(200, { ...cors, 'content-type': 'text/event-stream' }).end(answers[received.length - 1] ?? chatStream({ content: 'no more answers' }, 'stop'));
    });
  });
  await new Promise((r) => endpoint.listen(0, '127.0.0.1', r));
  const baseURL = `http://127.0.0.1:${endpoint.address().port}/v1`;
  const { page, errors } = await openDemo();
  try {
    await page.getByTestId('model-openai').check();
    await page.getByTestId('base-url').fill(baseURL);
    await page.getByTestId('model-id').fill('demo-endpoint');
    await page.getByTestId('api-key').fill(KEY);
    await page.getByTestId('run').click();
    await dialogOn(page, 'writeFile');
    const shown = await dialogShown(page);
    assert.equal(received.length, 1);
    assert.deepEqual((await stored(page, 'lmthing-demo:run')).model, { kind: 'openai', baseURL, modelId: 'demo-endpoint' }, 'the endpoint and model are kept, not the key');
    assert.equal((await everythingStored(page)).includes(KEY), false, 'the key is not stored (localStorage, sessionStorage, IndexedDB)');

    await reload(page);
    assert.equal(await page.getByTestId('api-key').inputValue(), '', 'the key is gone with the page');
    assert.equal(await page.getByTestId('base-url').inputValue(), baseURL);
    assert.equal(await page.getByTestId('model-id').inputValue(), 'demo-endpoint');
    assert.equal(await page.getByTestId('resume').isVisible(), true);
    assert.match(await page.getByTestId('status-note').textContent(), /enter the API key .* press Resume/);
    await page.getByTestId('api-key').fill(KEY);
    await page.getByTestId('resume').click();
    await dialogOn(page, 'writeFile');
    assert.deepEqual(await dialogShown(page), shown);
    assert.equal(received.length, 1, 'the answered model call came from the journal');
    await decide(page, 'writeFile', 'approve');
    await waitForStatus(page, 'done');
    assert.equal(received.length, 2);
    assert.equal(received[1].authorization, `Bearer ${KEY}`, 'the live call after the resume carries the key');
    assert.equal(await page.locator('[data-file="src/greet.js"]').textContent(), content);
    assert.deepEqual(await projectLog(page), ['write src/greet.js']);
    const t = await timeline(page);
    assertEachCallOnce(t);
    assert.match(t.steps.at(-1).text, /Rewrote src\/greet\.js\./);
    assert.equal((await everythingStored(page)).includes(KEY), false, 'nor after the run');
    assert.ok(!server.log().includes(KEY), 'the key is not in the demo server log');
    assert.deepEqual(errors, []);
  } finally {
    await page.context().close();
    await new Promise((r) => endpoint.close(r));
  }
});
