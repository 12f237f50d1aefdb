// How a streamed answer's delta lengths are written for a durable run's journal (js/run/chunk-lengths.ts):
// compact, and read back exactly; journals written before (arrays of numbers) still read.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ChunkLengthRecorder, decodeChunkLengths, encodeChunkLengths } from '../../dist/run/chunk-lengths.js';

test('runs of equal lengths are written once and read back exactly', () => {
  assert.equal(encodeChunkLengths([64, 64, 64, 12, 3, 3, 1]), '64*3,12,3*2,1');
  assert.equal(encodeChunkLengths([]), '');
  assert.deepEqual(decodeChunkLengths('64*3,12,3*2,1'), [64, 64, 64, 12, 3, 3, 1]);
  // A long stream of one-token deltas: the text is what crosses into the engine, not 100,000 numbers.
  const lengths = Array.from({ length: 100_000 }, (_, i) => 1 + ((i * 7) % 5) * (i % 3 === 0 ? 1 : 0));
  const text = encodeChunkLengths(lengths);
  assert.deepEqual(decodeChunkLengths(text), lengths);
  assert.equal(encodeChunkLengths(Array(1_000_000).fill(4)), '4*1000000');
});

test('a journal written before keeps its arrays; anything malformed streams the text whole', () => {
  assert.deepEqual(decodeChunkLengths([5, 1, 2]), [5, 1, 2]);
  for (const bad of [undefined, null, '', 'x', '3,', '3*0', '-1', '2*x', '1.5', [1, 0], [1, 'a'], {}, 7]) {
    assert.equal(decodeChunkLengths(bad), undefined, `${JSON.stringify(bad)} is not read`);
  }
});

test('the recorder encodes as the lengths arrive, and reads back the same however often it is asked', () => {
  const lengths = Array.from({ length: 50_000 }, (_, i) => (i % 3000 < 2000 ? 4 : 1 + (i % 5)));
  const recorder = new ChunkLengthRecorder();
  lengths.slice(0, 25_000).forEach((n) => recorder.add(n));
  assert.deepEqual(decodeChunkLengths(recorder.encoded()), lengths.slice(0, 25_000)); // a failure mid-stream reads this far
  lengths.slice(25_000).forEach((n) => recorder.add(n));
  assert.equal(recorder.size, lengths.length);
  assert.deepEqual(decodeChunkLengths(recorder.encoded()), lengths);
  assert.ok(recorder.encoded().length < 60_000, 'runs of equal lengths are written once');
});

test('lengths that pass the text they cut are refused at once, however large the count', () => {
  assert.deepEqual(decodeChunkLengths('4*3,2', 14), [4, 4, 4, 2]);
  assert.equal(decodeChunkLengths('4*3,2', 13), undefined, 'more than the text');
  assert.equal(decodeChunkLengths('4*3,2', 15), undefined, 'less than the text');
  assert.equal(decodeChunkLengths([4, 4], 9), undefined);
  const started = performance.now();
  assert.equal(decodeChunkLengths('1*9007199254740991', 1_000), undefined);
  assert.ok(performance.now() - started < 1_000, 'a huge count is not expanded');
});
