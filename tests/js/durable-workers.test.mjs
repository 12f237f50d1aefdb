// Durable runs across worker processes on a real redis-server (issue 20): a BullMQ queue hands
// runs to workers; a run paused on an approval in one worker is resumed by another once the
// decision is stored; two workers racing for a run: one wins; a killed worker's run is taken over
// when its lease expires.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { durableApprovals, JournalError, loadJournal, memoryStorage, redisStorage, resume, runPrompt } from '../../dist/node.js';
import { durableScenario, transcriptOf } from './helpers/durable-scenario.mjs';
import { startRedis } from './helpers/redis-server.mjs';

const workerScript = fileURLToPath(new URL('./helpers/durable-worker.mjs', import.meta.url));
const killChild = fileURLToPath(new URL('./helpers/durable-child-lease.mjs', import.meta.url));
let redis;
let dir;
before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'lmthing-durable-workers-'));
});
after(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts a worker process; resolves once it is listening on the queue. */
function startWorker(queue, logPath, name) {
  const child = spawn(process.execPath, [workerScript, redis.url, queue, logPath, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`worker ${name} exited with ${code}: ${stderr}`)));
  });
  return { child, ready, stop: () => (child.kill('SIGTERM'), exited) };
}

test('workers: a run paused on an approval in worker A is resumed by worker B when the decision arrives; no tool runs twice', { timeout: 60_000 }, async () => {
  const queueName = 'durable-runs';
  const logPath = join(dir, 'workers.jsonl');
  const connection = { host: '127.0.0.1', port: Number(new URL(redis.url).port) };
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  await events.waitUntilReady();
  const a = startWorker(queueName, logPath, 'A');
  await a.ready;
  try {
    const first = await (await queue.add('run', { runId: 'report-1' })).waitUntilFinished(events, 30_000);
    assert.equal(first.status, 'waiting-approval');
    assert.equal(first.worker, 'A');
    assert.deepEqual(first.pending, ['approval-1']);
    await a.stop(); // worker A goes away; the run is data in Redis
    const b = startWorker(queueName, logPath, 'B');
    await b.ready;
    try {
      const storage = redisStorage({ url: redis.url, keyPrefix: 'durable-workers:' });
      await durableApprovals(storage).respond('report-1', 'approval-1', 'approve');
      const second = await (await queue.add('resume', { runId: 'report-1' })).waitUntilFinished(events, 30_000);
      assert.equal(second.status, 'finished');
      assert.equal(second.worker, 'B');
      assert.equal(second.text, 'Read and deleted report.txt.');
      const ran = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(ran, [{ tool: 'read', worker: 'A' }, { tool: 'remove', worker: 'B' }], 'read ran once (in A), remove once (in B, after the approval)');
      assert.deepEqual(await durableApprovals(storage).pending('report-1'), []);
      await storage.close();
    } finally {
      await b.stop();
    }
  } finally {
    a.child.kill('SIGKILL');
    await queue.close();
    await events.close();
  }
});

test('workers: two workers racing for one run: exactly one gets it, the other fails with JOURNAL_LEASED', async () => {
  const storage = redisStorage({ url: redis.url, keyPrefix: 'durable-race:' });
  const { fn, config, logPath } = scenarioIn('race');
  const first = await runPrompt(fn, { ...config(storage, 'race'), onApproval: () => undefined });
  for (let i = 0; i < 1000 && first.prompt.approvals.pending().length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  await first.prompt.suspend();
  const lease = (owner) => ({ ...config(storage, 'race'), durable: { ...config(storage, 'race').durable, lease: { ttlMs: 5_000, owner } } });
  const outcomes = await Promise.allSettled([resume('race', fn, lease('one')), resume('race', fn, lease('two'))]);
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  const lost = outcomes.filter((o) => o.status === 'rejected');
  assert.equal(won.length, 1, 'one worker owns the run');
  assert.equal(lost.length, 1);
  assert.ok(lost[0].reason instanceof JournalError);
  assert.equal(lost[0].reason.code, 'JOURNAL_LEASED');
  assert.match(lost[0].reason.message, /owned by "(one|two)"/);
  assert.equal(await transcriptOf(won[0].value.result), await baselineTranscript());
  void logPath;
  await storage.close();
});

test('workers: a worker killed with SIGKILL keeps its run until the lease expires; then another worker takes it over and finishes it', { timeout: 60_000 }, async () => {
  const logPath = join(dir, 'lease.jsonl');
  const child = spawn(process.execPath, [killChild, redis.url, logPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const storage = redisStorage({ url: redis.url, keyPrefix: 'durable-lease:' });
  // Kill the worker once its run is well under way.
  for (let i = 0; i < 3000; i++) {
    const records = await loadJournal('leased', storage).then((j) => j.records.length, () => 0);
    if (records >= 15) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(stderr, '');
  const { fn, config } = durableScenario({ logPath });
  const leased = { ...config(storage, 'leased'), durable: { ...config(storage, 'leased').durable, lease: { ttlMs: 1_000, owner: 'second' } } };
  const early = await resume('leased', fn, leased).then(() => null, (e) => e);
  assert.equal(early?.code, 'JOURNAL_LEASED', 'the dead worker still holds the lease');
  assert.match(early.message, /owned by "first"/);
  await new Promise((r) => setTimeout(r, 1_100));
  const { result } = await resume('leased', fn, leased);
  assert.equal(await transcriptOf(result), await baselineTranscript());
  await storage.close();
});

let baseline;
async function baselineTranscript() {
  if (baseline) return baseline;
  const { fn, config } = scenarioIn('baseline');
  const { result } = await runPrompt(fn, config(memoryStorage(), 'baseline'));
  return (baseline = await transcriptOf(result));
}

function scenarioIn(name) {
  const logPath = join(dir, `${name}.jsonl`);
  return { ...durableScenario({ logPath }), logPath };
}
