// Issue 20's durability figure: the scenario of tests/js/helpers/durable-scenario.mjs (20 steps,
// tools, parallel tool calls, a sub-agent, two approvals) is killed with SIGKILL at N seeded random
// points (after a random number of journal records, plus 0-3 ms) and resumed until it finishes.
// Each finished run must equal the uninterrupted run's transcript, and no non-idempotent tool call
// that completed may run again. Usage: node bench/durable-kill.mjs [points=100] [seed=20]
import { mkdirSync, writeFileSync } from 'node:fs';
import { killTrials } from '../tests/js/helpers/durable-kill.mjs';

const points = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? 20);
const started = performance.now();
const trials = await killTrials({ points, seed });
const same = trials.filter((t) => t.same && t.repeated.length === 0).length;
const summary = {
  points,
  seed,
  killedMidRun: trials.filter((t) => t.killed).length,
  sameTranscriptNoRepeat: same,
  idempotentReruns: trials.reduce((n, t) => n + t.idempotentReruns, 0),
  failures: trials.filter((t) => !t.same || t.repeated.length > 0),
  seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
};
console.log(`durable kill -9: ${same}/${points} resumed runs equal the uninterrupted one with no completed non-idempotent tool run twice`);
console.log(`  killed mid-run ${summary.killedMidRun}, idempotent tool calls run again ${summary.idempotentReruns}, ${summary.seconds} s`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/durable-kill.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), ...summary, trials }, null, 2) + '\n');
if (same !== points) process.exitCode = 1;
