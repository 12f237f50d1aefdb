#!/usr/bin/env node
// Serves the in-browser demo (web-demo/) on 127.0.0.1: the page, its scripts, and the built
// package under /pkg/ (only what package.json publishes). The page imports `lmthing` through an
// import map that points at the package's exports["."].default entry, as a bundler would resolve
// it. No dependencies. PORT picks the port (default 8080; 0 = any free port); the URL is printed,
// then one access-log line per request (method, URL, status). The page never sends the endpoint's
// API key here: it calls the endpoint itself (tests/js/demo.test.mjs checks this log for it).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const demoDir = resolve(import.meta.dirname);
const packageDir = resolve(demoDir, '..');
const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
const browserEntry = manifest.exports['.'].default.replace(/^\.\//, '');
const published = [...manifest.files, 'package.json'];

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** The file under `root` that `relative` names, or null when it would leave `root`. */
function inside(root, relative) {
  const file = normalize(join(root, relative));
  return file === root || file.startsWith(root + sep) ? file : null;
}

/** Where a request path is served from, or null (404). */
function locate(path) {
  if (path === '/' || path === '/index.html') return join(demoDir, 'index.html');
  if (path.startsWith('/pkg/')) {
    const relative = path.slice('/pkg/'.length);
    if (!published.some((entry) => relative === entry || relative.startsWith(entry + '/'))) return null;
    return inside(packageDir, relative);
  }
  if (path === '/server.mjs' || path === '/prepare.mjs') return null;
  return inside(demoDir, path.slice(1));
}

const server = createServer(async (req, res) => {
  res.on('finish', () => console.log(`${req.method} ${req.url} ${res.statusCode}`));
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end('bad request');
    return;
  }
  const file = locate(path);
  if (!file) {
    res.writeHead(404).end('not found');
    return;
  }
  try {
    let body = await readFile(file);
    if (file.endsWith('index.html')) {
      const importMap = JSON.stringify({ imports: { lmthing: `/pkg/${browserEntry}` } });
      body = body.toString('utf8').replace('<!-- IMPORT_MAP -->', `<script type="importmap">${importMap}</script>`);
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});

const requested = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
  console.error(`web-demo: PORT must be an integer from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
server.on('error', (err) => {
  console.error(`web-demo: cannot listen on 127.0.0.1:${requested}: ${err.message}`);
  process.exit(1);
});
server.listen(requested, '127.0.0.1', () => {
  console.log(`lmthing web demo: http://127.0.0.1:${server.address().port}/`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
