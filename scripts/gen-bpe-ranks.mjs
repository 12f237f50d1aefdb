#!/usr/bin/env node
// Writes the BPE rank files the engine's token counter loads (src/state/bpe.hpp) from the
// js-tiktoken devDependency: OUT_DIR/o200k_base.bpe and OUT_DIR/cl100k_base.bpe.
// They are not compiled into the .wasm (size); the package ships them in dist/tokenizers/ and
// loads one only when a count needs it. Skips files that are newer than js-tiktoken.
//
// Format (little-endian): "LMTBPE\0\1" | u32 name length, name | u32 pattern length, pattern (the
// encoding's pre-tokenization regex, checked by the engine) | u32 N (ranks 0..N-1) | N × u8 token
// length (0 = no token with that rank) | the tokens' bytes in rank order | u32 S special tokens |
// S × (u32 rank, u32 length, text).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const outDir = process.argv[2] ?? 'dist/tokenizers';
const encodings = ['o200k_base', 'cl100k_base'];

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
const str = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u32(b.length), b]); };

mkdirSync(outDir, { recursive: true });
for (const name of encodings) {
  const out = join(outDir, `${name}.bpe`);
  const source = require.resolve(`js-tiktoken/ranks/${name}`);
  try {
    const written = statSync(out).mtimeMs;
    if (written > statSync(source).mtimeMs && written > statSync(new URL(import.meta.url)).mtimeMs) continue;
  } catch { /* missing: generate */ }
  const ranks = require(source);
  const tokens = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...encoded] = line.split(' ');
    encoded.forEach((b64, i) => { tokens[Number(offset) + i] = Buffer.from(b64, 'base64'); });
  }
  const lengths = Buffer.alloc(tokens.length);
  tokens.forEach((t, rank) => {
    if (t && (t.length === 0 || t.length > 255)) throw new Error(`${name}: token ${rank} has ${t.length} bytes (the format allows 1..255)`);
    lengths[rank] = t ? t.length : 0;
  });
  const specials = Object.entries(ranks.special_tokens);
  const file = Buffer.concat([
    Buffer.from('LMTBPE\0\x01', 'latin1'),
    str(name),
    str(ranks.pat_str),
    u32(tokens.length),
    lengths,
    ...tokens.filter(Boolean),
    u32(specials.length),
    ...specials.flatMap(([text, rank]) => [u32(rank), str(text)]),
  ]);
  writeFileSync(out, file);
  console.log(`wrote ${out} (${tokens.length} ranks, ${(file.length / 1024).toFixed(0)} KiB)`);
}
