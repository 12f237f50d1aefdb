// scripts/wasm-sections.mjs, the build's rewrite of the split's first module: exports moved into the
// function table (where V8 makes no wrapper for them up front) and the other module's table import
// grown to match. Checked on small modules assembled here, by instantiating what it writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportsToTable, growImportedTable, withCustomSection } from '../../scripts/wasm-sections.mjs';

const u32 = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const vec = (items) => [...u32(items.length), ...items.flat()];
const name = (text) => vec([...Buffer.from(text)].map((b) => [b]));
const section = (id, body) => [id, ...u32(body.length), ...body];
const I32 = 0x7f;
const FUNCREF = 0x70;

/** A module with an exported table of `slots` slots (slot 0 holding `keep`) and three functions returning 7, 8, 9. */
function firstModule(slots) {
  const code = [7, 8, 9].map((value) => {
    const fn = [0, 0x41, value, 0x0b]; // no locals, i32.const value, end
    return [...u32(fn.length), ...fn];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0, 1, I32]])), // type 0: [] -> [i32]
    ...section(3, vec([[0], [0], [0]])), // three functions of type 0
    ...section(4, vec([[FUNCREF, 0x01, ...u32(slots), ...u32(slots)]])), // table min = max = slots
    ...section(7, vec([
      [...name('table'), 0x01, 0],
      [...name('keep'), 0x00, 0],
      [...name('a'), 0x00, 1],
      [...name('b'), 0x00, 2],
    ])),
    ...section(9, vec([[0x00, 0x41, 0, 0x0b, ...vec([[0]])]])), // slot 0 = function 0
    ...section(10, vec(code)),
  ]);
}

/** A module that imports a table of at least `min`, at most `max` slots (and nothing else). */
function tableImporter(min, max) {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(2, vec([[...name('primary'), ...name('table'), 0x01, FUNCREF, 0x01, ...u32(min), ...u32(max)]])),
  ]);
}

test('exportsToTable: the named exports leave, their functions sit in new slots after the table\'s last, the rest stays', () => {
  const { module, base } = exportsToTable(Buffer.from(firstModule(3)), ['b', 'a']);
  assert.equal(base, 3);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(module));
  assert.deepEqual(Object.keys(instance.exports).sort(), ['keep', 'table']);
  const { table } = instance.exports;
  assert.equal(table.length, 5);
  assert.equal(table.get(0)(), 7, 'the existing segment is kept');
  assert.equal(table.get(base)(), 9, 'names in the order given: b first');
  assert.equal(table.get(base + 1)(), 8);
});

test('exportsToTable refuses a name the module does not export', () => {
  assert.throws(() => exportsToTable(Buffer.from(firstModule(1)), ['a', 'nope']), /does not export the functions nope/);
});

test('growImportedTable raises the imported table\'s maximum, so the grown table links', () => {
  const { module } = exportsToTable(Buffer.from(firstModule(3)), ['a', 'b']);
  const { table } = new WebAssembly.Instance(new WebAssembly.Module(module)).exports;
  const before = new WebAssembly.Module(tableImporter(3, 3));
  assert.throws(() => new WebAssembly.Instance(before, { primary: { table } }), WebAssembly.LinkError);
  const after = new WebAssembly.Module(growImportedTable(Buffer.from(tableImporter(3, 3)), 2));
  assert.doesNotThrow(() => new WebAssembly.Instance(after, { primary: { table } }));
});

test('withCustomSection appends a section the module reports', () => {
  const module = new WebAssembly.Module(withCustomSection(Buffer.from(firstModule(1)), 'lmthing.test', '{"x":1}'));
  assert.equal(Buffer.from(WebAssembly.Module.customSections(module, 'lmthing.test')[0]).toString(), '{"x":1}');
});
