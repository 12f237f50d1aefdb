import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium } from '/work/main/tests/js/helpers/chromium.mjs';
import { decide, dialogOn, startDemoServer, timeline, waitForStatus } from '/work/main/tests/js/helpers/demo-page.mjs';
let server, browser;
before(async () => { server = await startDemoServer(); browser = await launchChromium(); });
after(async () => { await browser?.close(); server?.stop(); });
for (const mode of ['sync','sync','sync','sync','sync','sync','sync','sync']) test('reload right at the write ' + mode + Math.random(), { timeout: 60000 }, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  await page.getByTestId('run').click();
  await dialogOn(page, 'writeFile');
  await page.evaluate((mode) => {
    if (mode === 'sync') {
      const set = Storage.prototype.setItem;
      Storage.prototype.setItem = function (k, v) { set.call(this, k, v); if (k === 'lmthing-demo:project' && v.includes('"write"')) { location.reload(); throw new Error('page is going away'); } };
    } else {
      new MutationObserver(() => location.reload()).observe(document.querySelector('[data-testid="files"]'), { childList: true, subtree: true });
    }
  }, mode);
  const nav = page.waitForEvent('framenavigated');
  await page.getByTestId('approve').click();
  await nav;
  await page.waitForFunction(() => window.lmthingDemoReady === true);
  await page.waitForFunction(() => document.querySelector('[data-testid="approval-dialog"]').open || document.querySelector('[data-testid="status"]').textContent !== 'running', null, { timeout: 20000 });
  const t = await timeline(page);
  console.log(mode, JSON.stringify(t.steps.map((s) => s.tools)), await page.getByTestId('status').textContent(), await page.evaluate(() => localStorage.getItem('lmthing-demo:project')));
  console.log(errors);
  await page.close();
});
