// Durable runs when something around them goes wrong: a resume refused because the code changed,
// a torn journal record, a misspelt onInterrupted decision.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ConfigError, deleteJournal, durableApprovals, fileStorage, JournalError, loadJournal, memoryStorage, ReplayDivergenceError, resume, runPrompt } from '../../dist/node.js';
import { tempDir } from './helpers/temp-dir.mjs';

const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Answers from the conversation it is sent: read, then remove, then the text. */
const stepModel = {
  provider: 'test',
  modelId: 'steps',
  async generate(request) {
    const step = request.messages.filter((m) => m.role === 'assistant').length;
    const steps = [
      [{ type: 'tool-call', toolCallId: 'r', toolName: 'read', args: {}, argsText: '{}' }],
      [{ type: 'tool-call', toolCallId: 'd', toolName: 'remove', args: {}, argsText: '{}' }],
      [{ type: 'text', text: 'Read it, then deleted it.' }],
    ];
    return { content: steps[step], finishReason: step < 2 ? 'tool-calls' : 'stop', usage };
  },
};

const agent = (ran, readName = 'read') => (ctx) => {
  ctx.defTool(readName, 'Reads report.txt', { type: 'object', properties: {} }, () => (ran.push('read'), 'contents'), { idempotent: true });
  ctx.defApproval('destructive', { message: 'Delete report.txt?' });
  ctx.defTool('remove', 'Deletes report.txt', { type: 'object', properties: {} }, () => (ran.push('remove'), 'deleted'), { approval: 'destructive' });
  ctx.$`Read report.txt, then delete it.`;
};

async function suspendedAtApproval(storage, id) {
  const first = await runPrompt(agent([]), { model: stepModel, onApproval: () => undefined, durable: { id, storage } });
  first.result.text.catch(() => {});
  while (first.prompt.approvals.pending().length === 0) await sleep(5);
  await first.prompt.suspend();
}

test('a resume refused because the code changed leaves the run as it was: its approval is still pending and can be answered', async () => {
  const storage = memoryStorage();
  await suspendedAtApproval(storage, 'changed-code');
  const approvals = durableApprovals(storage);
  assert.deepEqual((await approvals.pending('changed-code')).map((p) => p.request), ['approval-1']);
  const refused = await resume('changed-code', agent([], 'readFile'), { model: stepModel, durable: { storage } });
  await assert.rejects(refused.result.text, ReplayDivergenceError);
  assert.deepEqual((await approvals.pending('changed-code')).map((p) => p.request), ['approval-1'], 'still pending');
  await approvals.respond('changed-code', 'approval-1', 'approve');
  const ran = [];
  const resumed = await resume('changed-code', agent(ran), { model: stepModel, durable: { storage } });
  assert.equal(await resumed.result.text, 'Read it, then deleted it.');
  assert.deepEqual(ran, ['remove']);
});

test('a torn journal record is JOURNAL_CORRUPT naming its key, and deleteJournal clears it for a new run', async () => {
  const dir = tempDir('lmthing-torn-journal-');
  const storage = fileStorage(dir);
  await suspendedAtApproval(storage, 'torn');
  const file = join(dir, 'records', readdirSync(join(dir, 'records')).sort()[2]);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
  const isCorrupt = (e) => e instanceof JournalError && e.code === 'JOURNAL_CORRUPT' && /corrupt at "lmthing:journal:torn:0000000003": it is unreadable; nothing was run/.test(e.message);
  await assert.rejects(loadJournal('torn', storage), isCorrupt);
  await assert.rejects(resume('torn', agent([]), { model: stepModel, onApproval: () => 'approve', durable: { storage } }).then((r) => r.result.text), isCorrupt);
  assert.ok((await deleteJournal('torn', storage)) > 0);
  const ran = [];
  const fresh = await runPrompt(agent(ran), { model: stepModel, onApproval: () => 'approve', durable: { id: 'torn', storage } });
  assert.equal(await fresh.result.text, 'Read it, then deleted it.');
  assert.deepEqual(ran, ['read', 'remove']);
});

test("an onInterrupted decision that is not 'rerun', 'fail' or {result} fails the run with a did-you-mean, not a quiet 'fail'", async () => {
  const storage = memoryStorage();
  let started = false;
  const slowAgent = (ctx) => {
    ctx.defTool('slow', 'Takes a while', { type: 'object', properties: {} }, async () => {
      started = true;
      await sleep(200);
      return 'done';
    });
    ctx.$`x`;
  };
  const model = {
    provider: 'test',
    modelId: 'm',
    async generate(request) {
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      if (step === 0) return { content: [{ type: 'tool-call', toolCallId: 's1', toolName: 'slow', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage };
      return { content: [{ type: 'text', text: 'finished' }], finishReason: 'stop', usage };
    },
  };
  const first = await runPrompt(slowAgent, { model, durable: { id: 'typo', storage } });
  first.result.text.catch(() => {});
  while (!started) await sleep(2);
  await first.prompt.suspend();
  const resumed = await resume('typo', slowAgent, { model, durable: { storage, onInterrupted: () => 'retry' } });
  await assert.rejects(resumed.result.text, (e) => e instanceof ConfigError && /durable\.onInterrupted returned the string "retry" for tool "slow" \(journal record \d+\) \(did you mean 'rerun'\?\); expected 'rerun', 'fail' or \{result\}/.test(e.message));
});
