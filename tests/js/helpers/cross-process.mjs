// Cross-process checks shared by the file and Redis storage tests: child processes
// (storage-child.mjs) writing, incrementing, and being killed with SIGKILL mid-save.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./storage-child.mjs', import.meta.url));

/** Runs a child to completion; resolves with its stdout, rejects with its stderr on failure. */
export function runChild(adapter, ...args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, JSON.stringify(adapter), ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child ${args[0]} exited with ${code}: ${err}`))));
  });
}

/**
 * Starts a hammering writer, lets it save for `ms` after it is ready, then kills it with SIGKILL;
 * resolves once it is gone.
 */
export function killMidSave(adapter, key, seed, ms) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, JSON.stringify(adapter), 'hammer', key, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    proc.stdout.once('data', () => setTimeout(() => proc.kill('SIGKILL'), ms));
    proc.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the writer ended by itself (${code}): ${err}`))));
  });
}

/** A seeded generator of numbers in [0, 1) (mulberry32), so a failing run can be repeated. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
