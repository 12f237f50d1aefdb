// The packed package loads in Node through its "exports" from an unrelated project.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { installPackedPackage } from './helpers/packed.mjs';

test('import("lmthing") from a project where the packed tarball is installed runs the engine', () => {
  const { dir, packageDir } = installPackedPackage();
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  for (const target of Object.values(manifest.exports['.'])) assert.ok(existsSync(join(packageDir, target)), `${target} is packed`);
  assert.ok(existsSync(join(packageDir, 'dist/wasm/lmthing_core.wasm')));
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
