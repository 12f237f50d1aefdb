// The BPE rank files the engine's token counter loads lazily (docs/memory.md) ship in the packed
// package, outside the .wasm, and carry the encoding and pattern the engine checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { installPackedPackage } from './helpers/packed.mjs';

test('dist/tokenizers/{o200k_base,cl100k_base}.bpe are packed, with their encoding name and pattern', () => {
  const { packageDir } = installPackedPackage();
  for (const [name, ranks] of [['o200k_base', 199998], ['cl100k_base', 100256]]) {
    const file = readFileSync(join(packageDir, 'dist/tokenizers', `${name}.bpe`));
    assert.equal(file.subarray(0, 8).toString('latin1'), 'LMTBPE\0\x01');
    const nameLength = file.readUInt32LE(8);
    assert.equal(file.subarray(12, 12 + nameLength).toString('utf8'), name);
    const patternLength = file.readUInt32LE(12 + nameLength);
    const pattern = file.subarray(16 + nameLength, 16 + nameLength + patternLength).toString('utf8');
    assert.match(pattern, /\\p\{N\}\{1,3\}/);
    assert.equal(file.readUInt32LE(16 + nameLength + patternLength), ranks);
  }
  // Not compiled into the engine: the .wasm holds neither file's header nor any of their rank data
  // (a 256-byte slice from the middle of each).
  const wasm = readFileSync(join(packageDir, 'dist/wasm/lmthing_core.wasm'));
  assert.equal(wasm.indexOf('LMTBPE'), -1);
  for (const name of ['o200k_base', 'cl100k_base']) {
    const file = readFileSync(join(packageDir, 'dist/tokenizers', `${name}.bpe`));
    const middle = Math.floor(file.length / 2);
    assert.equal(wasm.indexOf(file.subarray(middle, middle + 256)), -1, `${name} rank data is not in the .wasm`);
  }
});
