// Builds the app in tests/bundlers/app/ with each bundler, the way its docs say to, into
// `<project>/out/<name>/`. `project` is a temp project where the packed lmthing is installed, so
// every bundler resolves `lmthing` through the package's "exports", as for a user.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const appSource = resolve(import.meta.dirname, 'app');
const repoRoot = resolve(import.meta.dirname, '../..');

/** Copies the app into `project/app` (once) and returns its folder. */
export function placeApp(project) {
  const appDir = join(project, 'app');
  cpSync(appSource, appDir, { recursive: true });
  return appDir;
}

/** Vite: `vite build` with no configuration (index.html is the entry). */
export async function buildVite(project) {
  const { build } = await import('vite');
  const outDir = join(project, 'out/vite');
  await build({ root: join(project, 'app'), logLevel: 'error', configFile: false, build: { outDir, emptyOutDir: true, minify: false } });
  return outDir;
}

/**
 * esbuild: `esbuild --bundle --format=esm`. `configured: false` is the build without any option
 * (the wasm is not emitted: the page must fail with a typed error); `true` is the documented fix.
 */
export async function buildEsbuild(project, { configured }) {
  const esbuild = await import('esbuild');
  const outDir = join(project, configured ? 'out/esbuild' : 'out/esbuild-plain');
  const appDir = join(project, 'app');
  const result = await esbuild.build({
    entryPoints: { main: join(appDir, configured ? 'main-esbuild.js' : 'main.js') },
    bundle: true,
    format: 'esm',
    outdir: outDir,
    loader: configured ? { '.wasm': 'file' } : {},
    logLevel: 'silent',
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'index.html'), readFileSync(join(appDir, 'index.html'), 'utf8'));
  return { outDir, warnings: result.warnings };
}

/** esbuild for Node (`--platform=node`), with the documented `import.meta.url` recipe; returns the bundle's path. */
export async function buildEsbuildNode(project) {
  const esbuild = await import('esbuild');
  const outDir = join(project, 'out/esbuild-node');
  const result = await esbuild.build({
    entryPoints: { server: join(project, 'app/node-esbuild.js') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    loader: { '.wasm': 'file' },
    logLevel: 'silent',
  });
  return { bundle: join(outDir, 'server.mjs'), warnings: result.warnings };
}

async function runWebpack(config) {
  const { default: webpack } = await import('webpack');
  const stats = await new Promise((resolveStats, reject) => webpack(config, (err, s) => (err ? reject(err) : resolveStats(s))));
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  return stats.toJson({ all: false, warnings: true }).warnings ?? [];
}

/** webpack 5 through webpack-cli (`webpack --config webpack.config.mjs`); the page loads the classic-script bundle. */
export function buildWebpack(project) {
  const outDir = join(project, 'out/webpack');
  const cli = join(repoRoot, 'node_modules/webpack-cli/bin/cli.js');
  const output = execFileSync(process.execPath, [cli, '--config', join(import.meta.dirname, 'webpack.config.mjs'), '--env', `project=${project}`, '--no-color'], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
  const appDir = join(project, 'app');
  writeFileSync(join(outDir, 'index.html'), readFileSync(join(appDir, 'index.html'), 'utf8').replace('<script type="module" src="./main.js">', '<script src="./main.js">'));
  return { outDir, output };
}

/**
 * A Next.js-style split: one webpack build for the server (target node, the package's "node"
 * condition) and one for the client (the "browser"/"default" condition), from the same agent
 * module. The server bundle then runs under Node to prerender the page.
 */
export async function buildServerClient(project) {
  const outDir = join(project, 'out/server-client');
  const appDir = join(project, 'app');
  const warnings = await runWebpack([
    {
      name: 'server',
      mode: 'production',
      target: 'node20',
      context: appDir,
      entry: './server.js',
      output: { path: join(outDir, 'server'), filename: 'server.cjs', clean: true },
      optimization: { minimize: false },
      performance: { hints: false },
    },
    {
      name: 'client',
      mode: 'production',
      target: 'web',
      context: appDir,
      entry: './main.js',
      output: { path: outDir, filename: 'client.js' },
      optimization: { minimize: false },
      performance: { hints: false },
    },
  ]);
  // Prerender: the server bundle runs from its own folder, away from node_modules.
  execFileSync(process.execPath, [join(outDir, 'server/server.cjs'), join(outDir, 'index.html')], { cwd: outDir, stdio: 'pipe' });
  return { outDir, warnings };
}

/**
 * No bundler: static files served as they are. `importmap` maps the bare name `lmthing` to the
 * package's browser entry and loads the app's own sources unchanged; `relative` imports the entry
 * by a relative URL. Both pages are written under `project/out/` and served from `project/`.
 */
export function placeStaticPages(project) {
  const pages = { importmap: join(project, 'out/importmap'), relative: join(project, 'out/relative') };
  for (const dir of Object.values(pages)) mkdirSync(dir, { recursive: true });
  const importMap = JSON.stringify({ imports: { lmthing: '/node_modules/lmthing/dist/browser.js' } });
  writeFileSync(
    join(pages.importmap, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>lmthing with an import map</title>
<script type="importmap">${importMap}</script>
<pre id="result">running</pre>
<script type="module" src="/app/main.js"></script>
`,
  );
  writeFileSync(
    join(pages.relative, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>lmthing by a relative import</title>
<pre id="result">running</pre>
<script type="module">
  import { createEngine, mockModel, runPrompt } from '../../node_modules/lmthing/dist/browser.js';
  const box = document.getElementById('result');
  const model = mockModel([{ type: 'tool-call', toolName: 'add', args: { a: 2, b: 3 } }, { type: 'text', text: 'done' }]);
  try {
    const engine = await createEngine();
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('add', 'Adds', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }, ({ a, b }) => a + b);
      ctx.$\`2 + 3?\`;
    }, { model, engine });
    const steps = await result.steps;
    box.textContent = JSON.stringify({ ok: true, text: await result.text, toolResult: steps[0].toolResults[0].result });
    box.dataset.state = 'done';
  } catch (err) {
    box.textContent = JSON.stringify({ ok: false, code: err.code, message: err.message });
    box.dataset.state = 'failed';
  }
</script>
`,
  );
  return pages;
}
