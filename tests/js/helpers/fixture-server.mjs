// Loopback HTTP server replaying recorded provider exchanges (see tests/fixtures/providers/SOURCES.md).
// Each incoming request takes the next queued response; the request is recorded for assertions.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Root of the recorded fixtures, copied into the repo with their sources (tests/fixtures/providers/SOURCES.md). */
export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/providers');

/** Parses a `NAME.N.response.http` file: status line, headers, blank line, body bytes (kept exact). */
export function parseHttpFixture(buf) {
  const sep = buf.indexOf('\r\n\r\n');
  const headText = buf.subarray(0, sep).toString('latin1');
  const body = buf.subarray(sep + 4);
  const [statusLine, ...headerLines] = headText.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw new Error(`bad status line: ${statusLine}`);
  const headers = [];
  for (const line of headerLines) {
    const i = line.indexOf(':');
    headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return { status: Number(m[1]), statusText: m[2], headers, body };
}

/** Loads `folder/name.N.response.http`, plus the parsed `.request.json` when it exists. */
export function loadFixture(folder, name, n = 1) {
  const base = join(FIXTURES, folder, `${name}.${n}`);
  const response = parseHttpFixture(readFileSync(`${base}.response.http`));
  let request;
  try {
    request = JSON.parse(readFileSync(`${base}.request.json`, 'utf8'));
  } catch {
    request = undefined;
  }
  return { ...response, request };
}

/** Small deterministic PRNG (mulberry32) for reproducible chunking. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'content-encoding']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server. Queue responses with `enqueue(response, options)` where `response` is a
 * fixture from `loadFixture` or `{status, headers: [[k, v]...] | {k: v}, body: string | Buffer}`.
 * Options:
 *  - `seed`: write the body in random-sized chunks (1..maxChunk bytes) with small random delays.
 *  - `maxChunk` (default 64), `maxDelayMs` (default 2).
 *  - `cutAfter`: number of body bytes after which the connection is destroyed.
 *  - `hangAfter`: number of body bytes after which the server stops writing (never ends).
 *  - `hangBeforeHeaders`: never answer.
 */
export async function startFixtureServer() {
  const queue = [];
  const requests = [];
  const sockets = new Set();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let json;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    requests.push({ method: req.method, path: req.url, headers: req.headers, body: json, rawBody: raw });
    const next = queue.shift();
    if (!next) {
      res.writeHead(599, { 'content-type': 'text/plain' });
      res.end('fixture server: no response queued');
      return;
    }
    try {
      await serve(res, next.response, next.options);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue(response, options = {}) {
      queue.push({ response, options });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function serve(res, response, o) {
  if (o.hangBeforeHeaders) return;
  const body = Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body ?? '', 'utf8');
  const entries = Array.isArray(response.headers) ? response.headers : Object.entries(response.headers ?? {});
  const headers = {};
  for (const [k, v] of entries) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key)) continue;
    headers[key] = headers[key] === undefined ? v : [].concat(headers[key], v);
  }
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, response.statusText || undefined, headers);
  res.flushHeaders();
  const limit = o.cutAfter ?? o.hangAfter ?? body.length;
  const payload = body.subarray(0, Math.min(limit, body.length));
  if (o.seed === undefined) {
    await write(res, payload);
  } else {
    const rand = rng(o.seed);
    const maxChunk = o.maxChunk ?? 64;
    const maxDelay = o.maxDelayMs ?? 2;
    for (let i = 0; i < payload.length; ) {
      const n = 1 + Math.floor(rand() * maxChunk);
      await write(res, payload.subarray(i, i + n));
      i += n;
      const d = Math.floor(rand() * (maxDelay + 1));
      if (d > 0) await sleep(d);
    }
  }
  if (o.cutAfter !== undefined) {
    await sleep(20);
    res.socket?.destroy();
    return;
  }
  if (o.hangAfter !== undefined) return; // keep the connection open without ending the body
  res.end();
}

function write(res, chunk) {
  return new Promise((resolve, reject) => {
    if (chunk.length === 0) return resolve();
    res.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
