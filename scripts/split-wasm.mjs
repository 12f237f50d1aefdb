// Splits the linked engine into the two files the package ships (docs/bundlers.md, "Two wasm files"):
//
//   dist/wasm/lmthing_core.wasm           the functions a first request runs (≈ 30 % of the code)
//   dist/wasm/lmthing_core.deferred.wasm  the rest, loaded on its first use (js/split-code.ts)
//
//   node scripts/split-wasm.mjs build/wasm/lmthing_core_node.wasm dist/wasm
//
// Which functions a first request runs is measured, not listed: binaryen's wasm-split instruments a
// copy of the module, scripts/wasm-profile-run.mjs runs the same runs as preload()'s warm-up on it
// (a prompt with a tool call, a directive reply, two branches), then those kinds of run at scale
// and on their error paths, and writes the profile, and wasm-split keeps the functions that ran. Both outputs get a custom section with the same build id (a hash of the
// two halves), so the host never pairs one build's primary module with another's deferred module.
// The functions of the first module that the deferred one calls are handed over through the
// function table, not as exports (why: scripts/wasm-sections.mjs, exportsToTable); the first module
// lists them in a custom section.
// Why: a browser downloads and compiles 340 KB of gzipped wasm before its first result instead of
// 1 MB (bench/README.md, "Browser cold start and shipped size").
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportsToTable, growImportedTable, withCustomSection } from './wasm-sections.mjs';

const [linked, outDir] = process.argv.slice(2);
if (!linked || !outDir) throw new Error('usage: node scripts/split-wasm.mjs <linked .wasm> <output folder>');

// The features Emscripten 3.1.6 emits for this module; wasm-split refuses instructions it was not told of.
const FEATURES = ['--enable-simd', '--enable-bulk-memory', '--enable-sign-ext', '--enable-mutable-globals', '--enable-nontrapping-float-to-int'];
/** The custom section both outputs carry; js/split-code.ts compares them. */
const BUILD_ID_SECTION = 'lmthing.build';
/** The first module's custom section naming the functions it shares through its table (js/split-code.ts). */
const SHARED_SECTION = 'lmthing.shared';

const work = mkdtempSync(join(tmpdir(), 'lmthing-split-'));
try {
  const instrumented = join(work, 'instrumented.wasm');
  const profile = join(work, 'profile.bin');
  execFileSync('wasm-split', ['--instrument', ...FEATURES, linked, '-o', instrumented], { stdio: 'inherit' });
  const runner = join(dirname(fileURLToPath(import.meta.url)), 'wasm-profile-run.mjs');
  execFileSync(process.execPath, [runner, instrumented, profile], { stdio: 'inherit' });

  const primary = join(outDir, 'lmthing_core.wasm');
  const deferred = join(outDir, 'lmthing_core.deferred.wasm');
  execFileSync('wasm-split', ['--split', ...FEATURES, `--profile=${profile}`, linked, '-o1', primary, '-o2', deferred], { stdio: 'inherit' });
  shareThroughTable(primary, deferred, linked);

  // The id of this split, not of the linked module alone: another profile (a change to the package's
  // JavaScript) splits the same module differently, and such halves must not be mixed either.
  const buildId = createHash('sha256').update(readFileSync(primary)).update(readFileSync(deferred)).digest('hex').slice(0, 32);
  for (const file of [primary, deferred]) writeFileSync(file, withCustomSection(readFileSync(file), BUILD_ID_SECTION, buildId));
  const kb = (file) => `${Math.round(readFileSync(file).length / 1024)} KB`;
  console.log(`split: ${primary} ${kb(primary)}, ${deferred} ${kb(deferred)} (build ${buildId})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * Moves the functions the deferred module imports from the first one out of the first one's exports
 * and into its table, and records their names and where they start as JSON `{ base, names }`.
 * The exports the linked module had (the glue's) stay as they are.
 */
function shareThroughTable(primary, deferred, linked) {
  const glueExports = new Set(WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(linked))).map((entry) => entry.name));
  const names = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(deferred)))
    .filter((entry) => entry.module === 'primary' && entry.kind === 'function' && !glueExports.has(entry.name))
    .map((entry) => entry.name);
  const { module, base } = exportsToTable(readFileSync(primary), names);
  writeFileSync(primary, withCustomSection(module, SHARED_SECTION, JSON.stringify({ base, names })));
  writeFileSync(deferred, growImportedTable(readFileSync(deferred), names.length));
}
