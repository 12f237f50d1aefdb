// A BullMQ worker process running durable runs (the pattern of docs/durable-runs.md, "Across
// workers"): `node durable-worker.mjs <redisUrl> <queue> <logPath> <name>`. Each job names a run;
// the worker starts it or resumes it from its journal in Redis, under the run's lease. A run that
// needs an approval nobody answers here is suspended, and the job ends "waiting-approval": the
// decision is stored with durableApprovals(storage).respond and a new job resumes the run, in
// whichever worker takes it. SIGTERM closes the worker gracefully.
import { appendFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { durableApprovals, JournalError, redisStorage, resume, runPrompt } from '../../../dist/node.js';

const [redisUrl, queueName, logPath, name] = process.argv.slice(2);
const storage = redisStorage({ url: redisUrl, keyPrefix: 'durable-workers:' });
const { hostname, port } = new URL(redisUrl);

/** The agent: read a file, then delete it (the delete needs an approval). Tools log who ran them. */
function agent(ctx) {
  const logged = (tool, result) => () => {
    appendFileSync(logPath, JSON.stringify({ tool, worker: name }) + '\n');
    return result;
  };
  ctx.defTool('read', 'Reads the file', { type: 'object', properties: {} }, logged('read', 'contents'), { idempotent: true });
  ctx.defApproval('destructive', { message: 'Delete report.txt?' });
  ctx.defTool('remove', 'Deletes the file', { type: 'object', properties: {} }, logged('remove', 'deleted'), { approval: 'destructive' });
  ctx.$`Read report.txt, then delete it.`;
}

/** Answers by the conversation so far, so a resumed run asks the same questions. */
const model = {
  provider: 'test',
  modelId: 'worker',
  async generate(request) {
    const step = request.messages.filter((m) => m.role === 'assistant').length;
    const content = [
      [{ type: 'tool-call', toolCallId: 'r', toolName: 'read', args: {} }],
      [{ type: 'tool-call', toolCallId: 'd', toolName: 'remove', args: {} }],
      [{ type: 'text', text: 'Read and deleted report.txt.' }],
    ][step];
    return { content, finishReason: step < 2 ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
  },
};

async function handle(runId) {
  const config = { model, onApproval: () => undefined, durable: { id: runId, storage, lease: { ttlMs: 2_000, owner: name } } };
  let started;
  try {
    started = await resume(runId, agent, config);
  } catch (err) {
    if (!(err instanceof JournalError && err.code === 'JOURNAL_MISSING')) throw err;
    started = await runPrompt(agent, config);
  }
  const { result, prompt } = started;
  // Nobody answers approvals in a worker: once one is pending, the run is saved and the job ends.
  const waiting = new Promise((resolve) => {
    const poll = setInterval(() => {
      if (prompt.approvals.pending().length === 0) return;
      clearInterval(poll);
      resolve('waiting');
    }, 5);
    result.text.finally(() => clearInterval(poll)).catch(() => {});
  });
  const outcome = await Promise.race([result.text.then((text) => ({ text })), waiting]);
  if (outcome !== 'waiting') return { status: 'finished', text: outcome.text, worker: name };
  await prompt.suspend();
  return { status: 'waiting-approval', worker: name, pending: (await durableApprovals(storage).pending(runId)).map((p) => p.request) };
}

const worker = new Worker(queueName, (job) => handle(job.data.runId), { connection: { host: hostname, port: Number(port) }, concurrency: 1 });
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => storage.close()).then(() => process.exit(0));
});
