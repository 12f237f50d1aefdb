// Reading and rewriting the sections of a wasm binary, for scripts/split-wasm.mjs. Only what the
// split needs: the export, table and element sections, and custom sections appended at the end.

const SECTION = { import: 2, table: 4, export: 7, element: 9 };
const IMPORT_KIND = { function: 0, table: 1, memory: 2, global: 3 };
const EXPORT_KIND_FUNCTION = 0;
const LIMITS_HAS_MAX = 0x01;
const OP_I32_CONST = 0x41;
const OP_END = 0x0b;

/**
 * Takes the functions named `names` out of the module's exports and appends them to its function
 * table instead, at indices `base`, `base + 1`, ... (the table grows by their number). Returns the
 * new bytes and `base`.
 *
 * Why: V8 in Node 20 compiles a JS-to-wasm wrapper for every exported function's signature when it
 * compiles a module. wasm-split exports from the first module each function the deferred module
 * calls (218 here), which made compiling the 993 KB first module take ≈ 31 ms against ≈ 12 ms
 * without them. A function reached through the table costs nothing until someone takes it out
 * (`table.get`, js/split-code.ts), which happens once the deferred module is loaded.
 */
export function exportsToTable(module, names) {
  const wanted = new Set(names);
  const sections = readSections(module);
  const moved = new Map();
  const indexOf = (id) => {
    const index = sections.findIndex((section) => section.id === id);
    if (index < 0) throw new Error(`wasm-sections: the module has no section ${id}`);
    return index;
  };
  const exports = indexOf(SECTION.export);
  sections[exports] = rewriteExports(sections[exports], wanted, moved);
  const missing = names.filter((name) => !moved.has(name));
  if (missing.length) throw new Error(`wasm-sections: the module does not export the functions ${missing.slice(0, 5).join(', ')}`);
  const functions = names.map((name) => moved.get(name));
  const table = indexOf(SECTION.table);
  const { base, section } = growTable(sections[table], functions.length);
  sections[table] = section;
  const element = indexOf(SECTION.element);
  sections[element] = appendElementSegment(sections[element], base, functions);
  return { module: writeSections(module, sections), base };
}

/**
 * Raises the maximum size of the table the module imports by `by` (the other module's table grew
 * by that much in exportsToTable, and an import may not declare a smaller maximum than it gets).
 */
export function growImportedTable(module, by) {
  const sections = readSections(module);
  const index = sections.findIndex((section) => section.id === SECTION.import);
  if (index < 0) throw new Error('wasm-sections: the module imports nothing');
  const body = sections[index].body;
  const reader = new Reader(body);
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    reader.name();
    reader.name();
    const kind = reader.byte();
    if (kind === IMPORT_KIND.function) reader.u32();
    else if (kind === IMPORT_KIND.global) reader.at += 2; // value type, mutability
    else if (kind === IMPORT_KIND.memory) readLimits(reader);
    else if (kind === IMPORT_KIND.table) {
      const start = reader.at;
      const type = reader.byte();
      const limits = readLimits(reader);
      const grown = Buffer.concat([Buffer.from([type]), writeLimits({ ...limits, max: limits.max === undefined ? undefined : limits.max + by })]);
      sections[index] = { id: SECTION.import, body: Buffer.concat([body.subarray(0, start), grown, body.subarray(reader.at)]) };
      return writeSections(module, sections);
    } else throw new Error(`wasm-sections: unknown import kind ${kind}`);
  }
  throw new Error('wasm-sections: the module imports no table');
}

/** The module with a custom section `name` holding `text` appended (custom sections may come anywhere). */
export function withCustomSection(module, name, text) {
  const nameBytes = Buffer.from(name);
  const payload = Buffer.concat([leb128(nameBytes.length), nameBytes, Buffer.from(text)]);
  return Buffer.concat([module, Buffer.from([0]), leb128(payload.length), payload]);
}

function rewriteExports(section, wanted, moved) {
  const reader = new Reader(section.body);
  const count = reader.u32();
  const kept = [];
  for (let i = 0; i < count; i++) {
    const start = reader.at;
    const name = reader.name();
    const kind = reader.byte();
    const index = reader.u32();
    if (kind === EXPORT_KIND_FUNCTION && wanted.has(name)) moved.set(name, index);
    else kept.push(section.body.subarray(start, reader.at));
  }
  return { id: section.id, body: Buffer.concat([leb128(kept.length), ...kept]) };
}

function growTable(section, by) {
  const reader = new Reader(section.body);
  if (reader.u32() !== 1) throw new Error('wasm-sections: expected exactly one table');
  const type = reader.byte();
  const { flags, min, max } = readLimits(reader);
  // Both limits grow, so slots a program adds later (table.grow) still come after the new ones.
  const limits = writeLimits({ flags, min: min + by, max: max === undefined ? undefined : max + by });
  const body = Buffer.concat([leb128(1), Buffer.from([type]), limits]);
  return { base: min, section: { id: section.id, body } };
}

function readLimits(reader) {
  const flags = reader.byte();
  const min = reader.u32();
  const max = flags & LIMITS_HAS_MAX ? reader.u32() : undefined;
  return { flags, min, max };
}

function writeLimits({ flags, min, max }) {
  return Buffer.concat([Buffer.from([flags]), leb128(min), ...(max === undefined ? [] : [leb128(max)])]);
}

function appendElementSegment(section, offset, functions) {
  const reader = new Reader(section.body);
  const count = reader.u32();
  const segment = Buffer.concat([
    Buffer.from([0]), // active, table 0, funcref
    Buffer.from([OP_I32_CONST]), sleb128(offset), Buffer.from([OP_END]),
    leb128(functions.length), ...functions.map(leb128),
  ]);
  return { id: section.id, body: Buffer.concat([leb128(count + 1), section.body.subarray(reader.at), segment]) };
}

function readSections(module) {
  const reader = new Reader(module);
  reader.at = 8; // magic and version
  const sections = [];
  while (reader.at < module.length) {
    const id = reader.byte();
    const size = reader.u32();
    sections.push({ id, body: module.subarray(reader.at, reader.at + size) });
    reader.at += size;
  }
  return sections;
}

function writeSections(module, sections) {
  return Buffer.concat([module.subarray(0, 8), ...sections.flatMap(({ id, body }) => [Buffer.from([id]), leb128(body.length), body])]);
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }
  byte() {
    return this.bytes[this.at++];
  }
  u32() {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = this.byte();
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  }
  name() {
    const length = this.u32();
    const text = this.bytes.subarray(this.at, this.at + length).toString();
    this.at += length;
    return text;
  }
}

function leb128(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return Buffer.from(bytes);
}

function sleb128(value) {
  const bytes = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return Buffer.from(bytes);
  }
}
