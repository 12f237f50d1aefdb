#!/usr/bin/env node
// Writes tests/fixtures/tokens/expected.json: the reference token ids of every text of
// tests/fixtures/tokens/corpus.json under o200k_base and cl100k_base, computed by js-tiktoken
// (special tokens encoded as ordinary text), plus the estimate's error for docs/memory.md.
// The native test tests/native/state_tokens_test.cpp compares the engine's encoder with them.
// Run: node scripts/gen-token-expected.mjs  (after changing the corpus or upgrading js-tiktoken)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';

const require = createRequire(import.meta.url);
const dir = new URL('../tests/fixtures/tokens/', import.meta.url);
const { texts } = JSON.parse(readFileSync(new URL('corpus.json', dir), 'utf8'));
const { version } = JSON.parse(readFileSync(new URL('../node_modules/js-tiktoken/package.json', import.meta.url), 'utf8'));
const expected = { generator: `js-tiktoken ${version}`, encodings: {} };
for (const name of ['o200k_base', 'cl100k_base']) {
  const encoder = new Tiktoken(require(`js-tiktoken/ranks/${name}`));
  const tokens = texts.map((t) => encoder.encode(t, [], []));
  expected.encodings[name] = { counts: tokens.map((t) => t.length), tokens };
}
writeFileSync(new URL('expected.json', dir), JSON.stringify(expected) + '\n');
console.log(`wrote expected.json for ${texts.length} texts`);
