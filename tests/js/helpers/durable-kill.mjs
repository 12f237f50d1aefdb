// Kills the durability scenario's process with SIGKILL at `points` seeded random moments, resuming
// it each time until it finishes, and checks every finished run against the uninterrupted one.
// Used by tests/js/durable.test.mjs (a few points) and bench/durable-kill.mjs (100 points).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryStorage, runPrompt } from '../../../dist/node.js';
import { seeded } from './cross-process.mjs';
import { durableScenario, readToolLog, repeatedCompletedCalls, transcriptOf } from './durable-scenario.mjs';

/** The scenario's tools that may run twice. */
const IDEMPOTENT = new Set(['lookup']);

const child = fileURLToPath(new URL('./durable-child.mjs', import.meta.url));

/**
 * Runs the child to its end, or (with `killAt`) kills it with SIGKILL once its journal holds
 * `killAt.records` records plus `killAt.extraMs`: kill points spread over the run on any machine.
 */
function runChild(args, killAt) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const records = join(args[0], 'records');
    const poll = killAt && setInterval(() => {
      if ((existsSync(records) ? readdirSync(records).length : 0) < killAt.records) return;
      clearInterval(poll);
      setTimeout(() => proc.kill('SIGKILL'), killAt.extraMs);
    }, 1);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      if (signal === 'SIGKILL' || code === 0) resolve(signal ?? 'exit');
      else reject(new Error(`durable child exited with ${code}: ${stderr}`));
    });
  });
}

/** Where two texts first differ, with a little of each from there. */
function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return { at: i, lengths: [a.length, b.length], got: a.slice(i, i + 80), expected: b.slice(i, i + 80) };
}

/** The uninterrupted run's transcript and journal length (in this process). */
export async function baseline() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-durable-base-'));
  try {
    const { fn, config } = durableScenario({ logPath: join(dir, 'log.jsonl') });
    const { result, prompt } = await runPrompt(fn, config(memoryStorage(), 'base'));
    return { transcript: await transcriptOf(result), records: prompt.journal.records.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `points` kill-and-resume trials; returns per trial whether the transcript matched, which
 * non-idempotent tool calls ran again after completing (must be none) and how many idempotent ones
 * did (allowed: they completed but the kill came before the journal recorded it).
 */
export async function killTrials({ points, seed = 20 }) {
  const base = await baseline();
  const next = seeded(seed); // the kill moments are the same on every run
  const trials = [];
  for (let i = 0; i < points; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'lmthing-durable-kill-'));
    const logPath = join(dir, 'log.jsonl');
    const outPath = join(dir, 'out.json');
    const args = [join(dir, 'journal'), logPath, outPath];
    try {
      const killAt = { records: 1 + Math.floor(next() * base.records), extraMs: Math.floor(next() * 4) };
      const first = await runChild(args, killAt);
      // Where the kill landed: how many loop turns the journal held (0: before the run started).
      const records = join(dir, 'journal', 'records');
      const recordsAtKill = existsSync(records) ? readdirSync(records).length : 0;
      let resumes = 0;
      while (!existsSync(outPath)) {
        await runChild(args);
        resumes++;
      }
      const transcript = readFileSync(outPath, 'utf8');
      const log = readToolLog(logPath);
      const repeated = repeatedCompletedCalls(log);
      trials.push({
        killAt, killed: first === 'SIGKILL', recordsAtKill, resumes, same: transcript === base.transcript,
        // What differs, for the failure message: the first position where the transcripts part.
        differsAt: transcript === base.transcript ? undefined : firstDifference(transcript, base.transcript),
        repeated: repeated.filter((key) => !IDEMPOTENT.has(log.find((e) => `${e.path}/${e.id}` === key).tool)),
        idempotentReruns: repeated.filter((key) => IDEMPOTENT.has(log.find((e) => `${e.path}/${e.id}` === key).tool)).length,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return trials;
}
