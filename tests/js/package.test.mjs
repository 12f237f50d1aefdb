// The packed package loads in Node through its "exports" from an unrelated project.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { installPackedPackage } from './helpers/packed.mjs';

test('import("lmthing") from a project where the packed tarball is installed runs the engine', () => {
  const { dir, packageDir } = installPackedPackage();
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  // Every file the exports name is packed: the entries, both wasm files and their URL declarations.
  for (const entry of Object.values(manifest.exports)) {
    for (const target of typeof entry === 'string' ? [entry] : Object.values(entry)) assert.ok(existsSync(join(packageDir, target)), `${target} is packed`);
  }
  const script = join(dir, 'consumer.mjs');
  writeFileSync(
    script,
    `import { createEngine, AbortError } from 'lmthing';
     const engine = await createEngine();
     engine.registerCallback('inc', (x) => x + 1);
     const out = await engine.startRun({ kind: 'map', fn: 'inc', items: [1, 2, 3] });
     console.log(JSON.stringify({ out, abortCode: new AbortError().code }));`,
  );
  const printed = execFileSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(printed), { out: [2, 3, 4], abortCode: 'ABORTED' });
});

test('the package ships type declarations for its entry', () => {
  const { packageDir } = installPackedPackage();
  const types = readFileSync(join(packageDir, 'dist/index.d.ts'), 'utf8');
  assert.match(types, /node\.js/);
  const node = readFileSync(join(packageDir, 'dist/node.d.ts'), 'utf8');
  assert.match(node, /export declare function createEngine/);
});

test('the shipped examples run through the installed bin, offline: npx lmthing run examples/…', () => {
  const { dir, packageDir } = installPackedPackage();
  for (const example of ['weather.lmt.mjs', 'research.lmt.mjs', 'data-report.lmt.mjs']) assert.ok(existsSync(join(packageDir, 'examples', example)), `examples/${example} is packed`);
  // No API keys: the CLI falls back to each file's mock; no network is needed.
  const env = { ...process.env, npm_config_offline: 'true' };
  delete env.OPENAI_API_KEY;
  delete env.ANTHROPIC_API_KEY;
  const run = (example) =>
    spawnSync('npx', ['--no-install', 'lmthing', 'run', `examples/${example}`], { cwd: dir, env, encoding: 'utf8' });
  const research = run('research.lmt.mjs');
  assert.equal(research.status, 0, research.stderr);
  assert.match(research.stderr, /using the offline mock model/);
  assert.match(research.stdout, /WebAssembly now runs well beyond the browser/);
  const weather = run('weather.lmt.mjs');
  assert.equal(weather.status, 0, weather.stderr);
  assert.ok(weather.stdout.trim().length > 0);
  // A path that is neither in the project nor shipped is still a usage error.
  const missing = run('nope.lmt.mjs');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /file not found: examples\/nope\.lmt\.mjs/);
});
