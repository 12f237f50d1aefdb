// Driving the web demo (web-demo/) in Chromium: its server started as `npm run demo` starts it (on
// a free port), and the page's dialog, status and timeline read as data. Used by
// tests/js/demo.test.mjs and tests/js/demo-durable.test.mjs.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');

/** Starts web-demo/server.mjs on a free port: `{url, log(), stop()}` (log: everything it printed). */
export async function startDemoServer() {
  const server = spawn(process.execPath, [join(root, 'web-demo/server.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolveUrl, reject) => {
    server.stdout.on('data', (d) => {
      log += d;
      const match = log.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (match) resolveUrl(match[0]);
    });
    server.on('exit', (code) => reject(new Error(`the demo server exited (${code}): ${log}`)));
  });
  return { url, log: () => log, stop: () => server.kill('SIGTERM') };
}

/** Waits until the approval dialog is open on `tool`. */
export const dialogOn = (page, tool) =>
  page.waitForFunction((t) => {
    const dialog = document.querySelector('[data-testid="approval-dialog"]');
    return dialog.open && dialog.querySelector('[data-testid="approval-tool"]').textContent === t;
  }, tool, { timeout: 30_000 });

/** Waits for the approval dialog to be open on `tool`, runs `check`, and clicks `button`. */
export async function decide(page, tool, button, check = async () => {}) {
  await dialogOn(page, tool);
  await check();
  const shown = await page.getByTestId('approval-args').textContent();
  await page.getByTestId(button).click();
  // Closed, or already showing the next request: the dialog may close and reopen between two polls.
  await page.waitForFunction((before) => {
    const dialog = document.querySelector('[data-testid="approval-dialog"]');
    return !dialog.open || dialog.querySelector('[data-testid="approval-args"]').textContent !== before;
  }, shown);
}

export const waitForStatus = (page, status) => page.waitForFunction((s) => document.querySelector('[data-testid="status"]').textContent === s, status, { timeout: 30_000 });

/** The timeline as data: steps with their text and tool rows, and the closing line. */
export const timeline = (page) =>
  page.$eval('[data-testid="timeline"]', (list) => ({
    steps: [...list.querySelectorAll('.step')].map((step) => ({
      step: Number(step.dataset.step),
      text: step.querySelector('.narration').textContent,
      usage: step.querySelector('.step-usage').textContent,
      tools: [...step.querySelectorAll('.tool')].map((t) => ({
        tool: t.dataset.tool,
        callId: t.dataset.callId,
        status: t.dataset.status,
        decision: t.dataset.decision,
        meta: t.querySelector('.tool-meta').textContent,
        result: t.querySelector('.tool-detail').textContent,
      })),
    })),
    outcome: list.querySelector('.outcome')?.dataset.kind,
    text: list.textContent,
  }));
