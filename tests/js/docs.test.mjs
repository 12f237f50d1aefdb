// Docs that compile (scripts/doc-blocks.mjs): every JS/TS block of README.md and docs/*.md that is
// not marked `fragment` type-checks under strict tsc and runs offline; one test per block.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { allBlocks, extract, findBlocks, runBlock, typeCheck } from '../../scripts/doc-blocks.mjs';

const blocks = allBlocks();
let complete;
let typeErrors;

before(() => {
  complete = extract(blocks);
  typeErrors = typeCheck();
});

test('the block finder: languages, fences, indentation and the fragment marker', () => {
  const markdown = [
    '```js', 'a();', '```',
    '```ts fragment', 'b();', '```',
    '- item', '  ~~~typescript', '  c();', '  ~~~',
    '```sh', 'npm test', '```',
    '````js', '```', 'd();', '````',
  ].join('\n');
  assert.deepEqual(findBlocks(markdown).map(({ line, ext, fragment, code }) => ({ line, ext, fragment, code })), [
    { line: 1, ext: 'mjs', fragment: false, code: 'a();\n' },
    { line: 4, ext: 'ts', fragment: true, code: 'b();\n' },
    { line: 8, ext: 'ts', fragment: false, code: 'c();\n' },
    { line: 14, ext: 'mjs', fragment: false, code: '```\nd();\n' },
  ]);
});

test('the docs have complete blocks to check', () => {
  assert.ok(blocks.filter((b) => !b.fragment).length >= 5, 'README and docs keep runnable examples');
});

for (const block of blocks.filter((b) => !b.fragment)) {
  test(`${block.doc}:${block.line} type-checks (strict) and runs offline`, { timeout: 90_000 }, () => {
    assert.ok(complete.some((b) => b.file === block.file));
    const errors = typeErrors.get(block.file);
    assert.equal(errors, undefined, `tsc:\n${errors?.join('\n')}`);
    const run = runBlock(block);
    assert.equal(run.status, 0, `exit ${run.status} ${run.signal ?? ''}\n${run.stderr}`);
  });
}
