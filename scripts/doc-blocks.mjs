#!/usr/bin/env node
// Docs that compile: finds every JavaScript/TypeScript code block in README.md and docs/*.md,
// extracts each complete block into its own module, type-checks them all with tsc (strict) and runs
// each under Node, offline. A block whose info string says `fragment` (```ts fragment) is an
// excerpt and is only listed. See docs/DEVELOPING.md ("Code blocks in the docs").
//
//   node scripts/doc-blocks.mjs            extract, type-check and run; exit 1 on any failure
//   node scripts/doc-blocks.mjs --list     list the blocks and whether each is a fragment
//
// tests/js/docs.test.mjs imports the functions below and reports each block as its own test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const root = resolve(import.meta.dirname, '..');
/** Where blocks are extracted: inside the package, so `import 'lmthing'` resolves to this package. */
export const outDir = join(root, 'build/doc-blocks');

const LANGUAGES = new Map([['js', 'mjs'], ['javascript', 'mjs'], ['mjs', 'mjs'], ['ts', 'ts'], ['typescript', 'ts']]);

/** The Markdown files whose blocks must compile. */
export function docFiles() {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join('docs', f));
  return ['README.md', ...docs];
}

/**
 * The JS/TS blocks of one Markdown text: `{ line, lang, ext, fragment, code }`, `line` being the
 * 1-based line of the opening fence. Fences may be indented (in lists) and use ``` or ~~~.
 */
export function findBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[j]); j++)
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    const ext = LANGUAGES.get(lang.toLowerCase());
    if (ext) blocks.push({ line: i + 1, lang, ext, fragment: /\bfragment\b/.test(rest), code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

/** Every block of every doc, each with its `doc` path and the `file` it is extracted to. */
export function allBlocks() {
  return docFiles().flatMap((doc) =>
    findBlocks(readFileSync(join(root, doc), 'utf8')).map((block) => ({
      ...block,
      doc,
      file: `${basename(doc, '.md').toLowerCase()}-L${block.line}.${block.ext}`,
    })),
  );
}

/** Writes the complete blocks and a strict tsconfig over them into `outDir` (emptied first). */
export function extract(blocks = allBlocks()) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const complete = blocks.filter((b) => !b.fragment);
  for (const block of complete) writeFileSync(join(outDir, block.file), `// ${block.doc}:${block.line}\n${block.code}`);
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'],
      strict: true, allowJs: true, checkJs: true, skipLibCheck: true, outDir: 'out', rootDir: '.', noEmitOnError: false,
    },
    files: complete.map((b) => b.file),
  };
  writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  return complete;
}

/** Type-checks (and compiles) the extracted blocks; returns tsc's diagnostics per block file. */
export function typeCheck() {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: outDir, encoding: 'utf8' });
  const byFile = new Map();
  for (const line of run.stdout.split('\n')) {
    const m = /^([^(]+)\(\d+,\d+\): error/.exec(line);
    if (!m) continue;
    const file = basename(m[1]);
    byFile.set(file, [...(byFile.get(file) ?? []), line]);
  }
  if (run.status !== 0 && byFile.size === 0) throw new Error(`tsc failed: ${run.stdout}${run.stderr}`);
  return byFile;
}

/**
 * Runs one compiled block under Node, offline: no provider API keys in its environment, so a block
 * that needs a real model fails instead of calling one. Resolves `{status, stdout, stderr}`.
 */
export function runBlock(block, timeoutMs = 60_000) {
  const compiled = join(outDir, 'out', block.file.replace(/\.ts$/, '.js'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_API_KEY$|_API_BASE$|^LM_MODEL_/.test(k)));
  return spawnSync(process.execPath, [compiled], { cwd: outDir, env, encoding: 'utf8', timeout: timeoutMs, input: '' });
}

// ------------------------------------------------------------------ command line

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const blocks = allBlocks();
  if (process.argv.includes('--list')) {
    for (const b of blocks) console.log(`${b.fragment ? 'fragment' : 'complete'}  ${b.doc}:${b.line}  (${b.lang})`);
    process.exit(0);
  }
  const complete = extract(blocks);
  const errors = typeCheck();
  let failed = 0;
  for (const block of complete) {
    const where = `${block.doc}:${block.line}`;
    const typeErrors = errors.get(block.file);
    const run = typeErrors ? undefined : runBlock(block);
    const ok = !typeErrors && run.status === 0;
    failed += ok ? 0 : 1;
    console.log(`${ok ? 'ok  ' : 'FAIL'}  ${where}`);
    if (typeErrors) console.log(typeErrors.map((l) => '      ' + l).join('\n'));
    else if (!ok) console.log(`      exit ${run.status}${run.signal ? ` (${run.signal})` : ''}\n${(run.stderr || run.stdout).replace(/^/gm, '      ')}`);
  }
  console.log(`${complete.length - failed} passed, ${failed} failed (${blocks.length - complete.length} fragments)`);
  process.exit(failed ? 1 : 0);
}
