// `npm run demo` builds only what is missing or stale (web-demo/prepare.mjs), and build folders
// that belong to another checkout are started afresh (scripts/drop-foreign-build.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';

import { whatToBuild } from '../../web-demo/prepare.mjs';
import { tempDir } from './helpers/temp-dir.mjs';

const root = resolve(import.meta.dirname, '../..');

/** A fake checkout: each file written with the given age in seconds. */
function checkout(files) {
  const dir = tempDir('lmthing-prepare-');
  const now = Date.now() / 1000;
  for (const [path, age] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), 'x');
    utimesSync(join(dir, path), now - age, now - age);
  }
  return dir;
}

const built = { 'dist/wasm/lmthing_core.wasm': 50, 'dist/wasm/lmthing_core.deferred.wasm': 50, 'dist/wasm/lmthing_core.mjs': 50, 'dist/wasm/lmthing_core.node.mjs': 50, 'dist/browser.js': 40, 'dist/node.js': 40 };

test('whatToBuild: nothing when dist/ is newer than every source', () => {
  assert.equal(whatToBuild(checkout({ 'src/a.cpp': 100, 'bindings/host.js': 100, 'CMakeLists.txt': 100, 'js/a.ts': 90, ...built })), 'nothing');
});

test('whatToBuild: TypeScript only when only js/ changed', () => {
  assert.equal(whatToBuild(checkout({ 'src/a.cpp': 100, 'CMakeLists.txt': 100, 'js/a.ts': 10, ...built })), 'typescript');

});

test('whatToBuild: the engine when dist/ has no wasm or the C++ changed', () => {
  assert.equal(whatToBuild(checkout({ 'src/a.cpp': 100, 'js/a.ts': 90 })), 'engine');
  assert.equal(whatToBuild(checkout({ 'src/engine/a.cpp': 5, 'js/a.ts': 90, ...built })), 'engine');
  assert.equal(whatToBuild(checkout({ 'src/a.cpp': 100, 'CMakeLists.txt': 5, ...built })), 'engine');
  const { 'dist/wasm/lmthing_core.mjs': _, ...withoutGlue } = built;
  assert.equal(whatToBuild(checkout({ 'src/a.cpp': 100, ...withoutGlue })), 'engine');
});

test('drop-foreign-build.sh removes a build folder configured for another checkout, keeps its own', () => {
  const dir = realpathSync(tempDir('lmthing-copy-'));
  mkdirSync(join(dir, 'build/native'), { recursive: true });
  mkdirSync(join(dir, 'build/wasm'), { recursive: true });
  writeFileSync(join(dir, 'build/native/CMakeCache.txt'), 'CMAKE_HOME_DIRECTORY:INTERNAL=/somewhere/else\n');
  writeFileSync(join(dir, 'build/wasm/CMakeCache.txt'), `CMAKE_HOME_DIRECTORY:INTERNAL=${dir}\n`);
  const out = execFileSync('bash', [join(root, 'scripts/drop-foreign-build.sh'), 'build/native', 'build/wasm', 'build/missing'], { cwd: dir, encoding: 'utf8' });
  assert.match(out, /build\/native was configured for \/somewhere\/else; starting it afresh/);
  assert.equal(existsSync(join(dir, 'build/native')), false);
  assert.equal(existsSync(join(dir, 'build/wasm/CMakeCache.txt')), true);
});
