// Small helpers every benchmark here uses.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The median of `xs` (mean of the middle two for an even count). */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `x` rounded to `d` decimals, as a number. */
export const round = (x, d = 4) => Number(x.toFixed(d));

/** Resolves after `ms`; rejects with the signal's reason when `signal` aborts first. */
export const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    }, { once: true });
  });

/** Throws when a run's result is not what the benchmark expects, so a wrong run is never timed. */
export function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

/**
 * Builds native benchmark targets in build/native (g++, Release; configured on first use). The
 * test suite builds the native engine under sanitizers instead, which would distort timings.
 */
export function buildNativeBench(root, targets) {
  const dir = `${root}/build/native`;
  if (!existsSync(`${dir}/CMakeCache.txt`)) {
    execFileSync('cmake', ['-S', root, '-B', dir, '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'ignore' });
  }
  execFileSync('cmake', ['--build', dir, '-j2', '--target', ...targets], { stdio: 'ignore' });
  return dir;
}

/** Prints `rows` (arrays of strings, the first a header) as aligned columns; `left` columns pad right. */
export function printTable(rows, left = [0]) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/**
 * The AI SDK's `generateText` and its mock model class (`MockLanguageModelV4`, or V3 in older
 * releases), with `answer(text)`: a `doGenerate` result of one text part, 1 token in and out.
 */
export async function aiSdkMock() {
  const { generateText } = await import('ai');
  const aiTest = await import('ai/test');
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  const answer = (text) => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });
  return { generateText, MockLanguageModel: aiTest.MockLanguageModelV4 ?? aiTest.MockLanguageModelV3, answer };
}
