#!/usr/bin/env node
// `npm run demo` runs this before the server: it serves the package as built, and builds only what
// is missing or older than its sources. The engine (C++ → wasm, minutes) is rebuilt only when dist/
// has no wasm or src/, bindings/ or CMakeLists.txt changed after it; TypeScript alone (seconds) when
// only js/ changed. The build uses scripts/build.sh --package (no native build, no test suites).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ENGINE_SOURCES = ['src', 'bindings', 'CMakeLists.txt'];
const TS_SOURCES = ['js', 'tsconfig.json'];
const ENGINE_OUTPUTS = ['dist/wasm/lmthing_core.wasm', 'dist/wasm/lmthing_core.deferred.wasm', 'dist/wasm/lmthing_core.mjs', 'dist/wasm/lmthing_core.node.mjs'];
const TS_OUTPUTS = ['dist/browser.js', 'dist/node.js'];

/**
 * The newest modification time of the files under `path` (a file or a folder, recursively); 0 when
 * missing. Folders' own times are left out: an editor's swap file must not trigger an engine build.
 */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), 0);
}

/** The oldest modification time of `files`; 0 when one is missing. */
function oldest(files) {
  let min = Infinity;
  for (const file of files) {
    if (!existsSync(file)) return 0;
    min = Math.min(min, statSync(file).mtimeMs);
  }
  return min;
}

/** What `root`'s dist/ needs: `'engine'` (wasm and TypeScript), `'typescript'`, or `'nothing'`. */
export function whatToBuild(root) {
  const at = (paths) => paths.map((p) => join(root, p));
  const engineBuilt = oldest(at(ENGINE_OUTPUTS));
  if (engineBuilt === 0 || Math.max(...at(ENGINE_SOURCES).map(newest)) > engineBuilt) return 'engine';
  const tsBuilt = oldest(at(TS_OUTPUTS));
  if (tsBuilt === 0 || Math.max(...at(TS_SOURCES).map(newest)) > tsBuilt) return 'typescript';
  return 'nothing';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(import.meta.dirname, '..');
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
  const need = whatToBuild(root);
  if (need === 'engine') {
    console.log('web-demo: dist/ has no engine or its sources changed: building the package (a few minutes)');
    run('bash', ['scripts/bootstrap.sh']);
    run('bash', ['scripts/build.sh', '--package']);
  } else if (need === 'typescript') {
    console.log('web-demo: js/ changed since dist/ was built: compiling TypeScript');
    run('bash', ['scripts/bootstrap.sh']);
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  } else {
    console.log('web-demo: dist/ is up to date');
  }
}
