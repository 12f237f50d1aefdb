// The published types: the API report matches the built d.ts (scripts/api-report.mjs), no `any`,
// no internals, and the type tests of tests/types compile (files that must compile, lines that
// must fail with `@ts-expect-error`) against the built d.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { anyTypes, apiReport, reportPath, root, updateCommand } from '../../scripts/api-report.mjs';

const tsc = join(root, 'node_modules/typescript/bin/tsc');
const dtsFiles = (dir = join(root, 'dist')) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? dtsFiles(join(dir, e.name)) : /\.d\.(ts|mts|cts)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

test('the public API matches the checked-in report api/lmthing.api.d.ts', () => {
  const built = apiReport();
  const checkedIn = readFileSync(reportPath, 'utf8');
  if (built !== checkedIn) {
    const a = built.split('\n');
    const b = checkedIn.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`the API changed (first difference at line ${i + 1}: built ${JSON.stringify(a[i])}, report ${JSON.stringify(b[i])}).\nIf intended, run: ${updateCommand}`);
  }
});

test('no `any` in the published d.ts files', () => {
  const files = dtsFiles();
  assert.ok(files.length > 20);
  assert.deepEqual(anyTypes(files), []);
});

test('anyTypes finds an `any` (so the check above can fail)', () => {
  const dir = join(root, 'build/api-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'sample.d.ts');
  writeFileSync(file, '/** any in a comment is fine */\nexport declare function f(x: any): void;\n');
  assert.equal(anyTypes([file]).length, 1);
});

test('internals are not in the published d.ts', () => {
  const report = readFileSync(reportPath, 'utf8');
  const all = dtsFiles().map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const name of ['bindRun', 'collectedOf', 'definitionsOf', 'waitOnEngine', 'CollectedPrompt', 'DynamicJson']) assert.doesNotMatch(all, new RegExp(`\\b${name}\\b`), name);
  const runResult = /\/\/ ---- RunResult [^\n]*\n([\s\S]*?)\n\n/.exec(report)?.[1];
  assert.ok(runResult, 'RunResult is in the report');
  assert.doesNotMatch(runResult, /\b(push|succeed|fail)\(/);
  assert.match(runResult, /get text\(\): Promise<string>/);
});

test('type tests (tests/types) compile against the built d.ts, @ts-expect-error lines included', () => {
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tests/types'), '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('a tool callback that reads a field its zod schema lacks does not compile', () => {
  const dir = join(root, 'build/type-fail');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bad.ts'), [
    "import { z } from 'zod';",
    "import { PromptContext } from 'lmthing';",
    'const ctx = new PromptContext();',
    "ctx.defTool('add', 'Adds', z.object({ a: z.number() }), async (args) => args.nonexistent.field);",
    '',
  ].join('\n'));
  const config = JSON.parse(readFileSync(join(root, 'tests/types/tsconfig.json'), 'utf8'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: config.compilerOptions, include: ['bad.ts'] }));
  const run = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stdout, /bad\.ts\(4,\d+\): error TS2339: Property 'nonexistent' does not exist on type '\{ a: number; \}'/);
});

test('the published d.ts type-checks in a Node-only project: no DOM lib, skipLibCheck off', () => {
  const dir = join(root, 'build/type-node');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.ts'), [
    "import { createEngine, mockModel, runPrompt, type PromptRun } from 'lmthing';",
    "const run: PromptRun = runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), prompt: 'Hello' });",
    "export const response = run.then(({ result }) => result.toTextStreamResponse({ headers: { 'x-run': '1' } }));",
    'export const engine = createEngine();',
    '',
  ].join('\n'));
  const compilerOptions = { target: 'ES2022', lib: ['ES2022'], types: ['node'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['app.ts'] }));
  const run = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
