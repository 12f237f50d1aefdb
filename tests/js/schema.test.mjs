// Tests for js/schema.ts (dist/schema.js): zod v4, zod v3 and plain JSON Schema → draft-07.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import * as z3 from 'zod/v3';
import * as zm from 'zod/mini';
import { toJsonSchema, isZodSchema } from '../../dist/schema.js';

const WHERE = 'tool "x" parameters';
const convert = (schema) => toJsonSchema(schema, WHERE);
const cases = (list) => {
  for (const [name, schema, expected] of list) {
    test(name, () => assert.deepEqual(convert(schema), expected));
  }
};
/** Asserts that converting `schema` throws a TypeError whose message matches `pattern`. */
const rejects = (schema, pattern) =>
  assert.throws(() => convert(schema), (err) => {
    assert.ok(err instanceof TypeError, `expected TypeError, got ${err?.constructor?.name}`);
    assert.match(err.message, pattern);
    return true;
  });

// ---------------------------------------------------------------------------------------------
// zod v4 (converted by zod itself)

const V4Tree = z.object({ name: z.string(), get children() { return z.array(V4Tree); } });

cases([
  ['v4 object: required, optional, describe, nullable enum', z.object({
    a: z.string().describe('A'),
    b: z.number().optional(),
    c: z.enum(['x', 'y']).nullable(),
  }), {
    type: 'object',
    properties: {
      a: { type: 'string', description: 'A' },
      b: { type: 'number' },
      c: { anyOf: [{ type: 'string', enum: ['x', 'y'] }, { type: 'null' }] },
    },
    required: ['a', 'c'],
    additionalProperties: false,
  }],
  ['v4 strict and loose objects', z.object({
    s: z.strictObject({ a: z.string() }),
    l: z.looseObject({ a: z.string() }),
  }), {
    type: 'object',
    properties: {
      s: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
      l: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: {} },
    },
    required: ['s', 'l'],
    additionalProperties: false,
  }],
  ['v4 string min/max/regex', z.string().min(1).max(5).regex(/^a/),
    { type: 'string', minLength: 1, maxLength: 5, pattern: '^a' }],
  ['v4 number gt/lte/multipleOf', z.number().gt(0).lte(10).multipleOf(2),
    { type: 'number', exclusiveMinimum: 0, maximum: 10, multipleOf: 2 }],
  ['v4 int', z.int(), { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 }],
  ['v4 boolean', z.boolean(), { type: 'boolean' }],
  ['v4 literal', z.literal('a'), { type: 'string', const: 'a' }],
  ['v4 union (zod merges plain primitive types)', z.union([z.string(), z.number()]), { type: ['string', 'number'] }],
  ['v4 union of object and string', z.union([z.string().min(1), z.object({ a: z.string() })]), {
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
    ],
  }],
  ['v4 discriminated union (zod emits oneOf)', z.discriminatedUnion('k', [
    z.object({ k: z.literal('a') }),
    z.object({ k: z.literal('b'), n: z.number() }),
  ]), {
    oneOf: [
      { type: 'object', properties: { k: { type: 'string', const: 'a' } }, required: ['k'], additionalProperties: false },
      {
        type: 'object',
        properties: { k: { type: 'string', const: 'b' }, n: { type: 'number' } },
        required: ['k', 'n'],
        additionalProperties: false,
      },
    ],
  }],
  ['v4 array min/max', z.array(z.string()).min(1).max(3),
    { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 }],
  ['v4 tuple', z.tuple([z.string(), z.number()]), {
    type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false, minItems: 2, maxItems: 2,
  }],
  ['v4 record', z.record(z.string(), z.number()),
    { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'number' } }],
  ['v4 nullable number', z.number().nullable(), { type: ['number', 'null'] }],
  // What zod accepts (its input): zod parses the value afterwards, filling defaults and running refinements.
  ['v4 default (optional) and refine', z.object({ n: z.number().default(3), s: z.string().refine((s) => s.length > 1) }), {
    type: 'object',
    properties: { n: { type: 'number', default: 3 }, s: { type: 'string' } },
    required: ['s'],
    additionalProperties: false,
  }],
  ['v4 coerced date becomes a date-time string', z.object({ d: z.coerce.date() }), {
    type: 'object', properties: { d: { type: 'string', format: 'date-time' } }, required: ['d'], additionalProperties: false,
  }],
  ['v4 transform and pipe: their input', z.object({ t: z.string().transform(Number), p: z.string().pipe(z.coerce.number()) }), {
    type: 'object', properties: { t: { type: 'string' }, p: { type: 'string' } }, required: ['t', 'p'], additionalProperties: false,
  }],
  ['v4 open and strict objects keep their own additionalProperties', z.object({ l: z.looseObject({}), s: z.strictObject({}) }), {
    type: 'object',
    properties: { l: { type: 'object', properties: {}, additionalProperties: {} }, s: { type: 'object', properties: {}, additionalProperties: false } },
    required: ['l', 's'],
    additionalProperties: false,
  }],
  ['v4 recursion via getter becomes $ref', V4Tree, {
    type: 'object',
    properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
    required: ['name', 'children'],
    additionalProperties: false,
  }],
  ['v4 null and any (any is required)', z.object({ n: z.null(), a: z.any() }), {
    type: 'object', properties: { n: { type: 'null' }, a: {} }, required: ['n', 'a'], additionalProperties: false,
  }],
]);

test('v4 string formats and $schema removal', () => {
  const json = convert(z.object({ e: z.email(), u: z.url(), id: z.uuid(), t: z.iso.datetime() }));
  assert.equal(json.$schema, undefined);
  assert.deepEqual(
    Object.fromEntries(Object.entries(json.properties).map(([k, v]) => [k, [v.type, v.format]])),
    { e: ['string', 'email'], u: ['string', 'uri'], id: ['string', 'uuid'], t: ['string', 'date-time'] },
  );
});

test('v4 unrepresentable types throw with the path', () => {
  rejects(z.object({ n: z.array(z.bigint()) }),
    /^tool "x" parameters: cannot convert zod schema at #\/properties\/n\/items: BigInt cannot be represented in JSON Schema$/);
  rejects(z.object({ at: z.date() }), /^tool "x" parameters: z\.date\(\) cannot be answered in JSON, which has no dates .*use z\.coerce\.date\(\) .* at #\/properties\/at$/);
});

test('zod/mini schemas (no converter method) get a hint', () => {
  rejects(zm.object({ a: zm.string() }), /^tool "x" parameters: this zod v4 schema has no JSON Schema converter .*z\.toJSONSchema\(schema, \{ target: "draft-07", io: "input" \}\)/);
});

// ---------------------------------------------------------------------------------------------
// zod v3 (converted by schema.ts)

const V3Tree = z3.object({ name: z3.string(), children: z3.lazy(() => z3.array(V3Tree)) });
const V3SelfLink = z3.object({ self: z3.lazy(() => V3SelfLink).optional() });
const Colour = { Red: 'red', Green: 'green' };
const Level = { Low: 0, High: 1, 0: 'Low', 1: 'High' }; // what `enum Level { Low, High }` compiles to

cases([
  ['v3 object: required, optional, default, describe, strip', z3.object({
    a: z3.string().describe('A'),
    b: z3.number().optional(),
    c: z3.boolean().default(true),
  }).describe('top'), {
    type: 'object',
    properties: { a: { type: 'string', description: 'A' }, b: { type: 'number' }, c: { type: 'boolean', default: true } },
    required: ['a'],
    additionalProperties: false,
    description: 'top',
  }],
  ['v3 strict / passthrough / catchall objects', z3.object({
    s: z3.object({ a: z3.string() }).strict(),
    p: z3.object({ a: z3.string() }).passthrough(),
    c: z3.object({}).catchall(z3.number()),
  }), {
    type: 'object',
    properties: {
      s: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
      p: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: true },
      c: { type: 'object', properties: {}, additionalProperties: { type: 'number' } },
    },
    required: ['s', 'p', 'c'],
    additionalProperties: false,
  }],
  ['v3 string min/max/regex/startsWith', z3.string().min(1).max(9).regex(/^a/).startsWith('a.b'),
    { type: 'string', minLength: 1, maxLength: 9, pattern: '^a', allOf: [{ pattern: '^a\\.b' }] }],
  ['v3 string length', z3.string().length(4), { type: 'string', minLength: 4, maxLength: 4 }],
  ['v3 string formats', z3.object({
    e: z3.string().email(), u: z3.string().url(), id: z3.string().uuid(), dt: z3.string().datetime(),
    d: z3.string().date(), ip: z3.string().ip({ version: 'v6' }),
  }), {
    type: 'object',
    properties: {
      e: { type: 'string', format: 'email' },
      u: { type: 'string', format: 'uri' },
      id: { type: 'string', format: 'uuid' },
      dt: { type: 'string', format: 'date-time' },
      d: { type: 'string', format: 'date' },
      ip: { type: 'string', format: 'ipv6' },
    },
    required: ['e', 'u', 'id', 'dt', 'd', 'ip'],
    additionalProperties: false,
  }],
  ['v3 number gt/lte/multipleOf', z3.number().gt(0).lte(10).multipleOf(2),
    { type: 'number', exclusiveMinimum: 0, maximum: 10, multipleOf: 2 }],
  ['v3 int gte/lt', z3.number().int().gte(1).lt(5), { type: 'integer', minimum: 1, exclusiveMaximum: 5 }],
  ['v3 boolean', z3.boolean(), { type: 'boolean' }],
  ['v3 literals', z3.tuple([z3.literal('a'), z3.literal(2), z3.literal(false), z3.literal(null)]), {
    type: 'array',
    items: [{ type: 'string', const: 'a' }, { type: 'number', const: 2 }, { type: 'boolean', const: false }, { type: 'null' }],
    minItems: 4,
    additionalItems: false,
    maxItems: 4,
  }],
  ['v3 enum', z3.enum(['a', 'b']), { type: 'string', enum: ['a', 'b'] }],
  ['v3 native string enum', z3.nativeEnum(Colour), { type: 'string', enum: ['red', 'green'] }],
  ['v3 native numeric enum (reverse mappings skipped)', z3.nativeEnum(Level), { type: 'number', enum: [0, 1] }],
  ['v3 union', z3.union([z3.string(), z3.number()]), { anyOf: [{ type: 'string' }, { type: 'number' }] }],
  ['v3 discriminated union → anyOf', z3.discriminatedUnion('k', [
    z3.object({ k: z3.literal('a') }),
    z3.object({ k: z3.literal('b'), n: z3.number() }),
  ]), {
    anyOf: [
      { type: 'object', properties: { k: { type: 'string', const: 'a' } }, required: ['k'], additionalProperties: false },
      {
        type: 'object',
        properties: { k: { type: 'string', const: 'b' }, n: { type: 'number' } },
        required: ['k', 'n'],
        additionalProperties: false,
      },
    ],
  }],
  ['v3 intersection', z3.intersection(z3.object({ a: z3.string() }), z3.object({ b: z3.number() })), {
    allOf: [
      { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
      { type: 'object', properties: { b: { type: 'number' } }, required: ['b'], additionalProperties: false },
    ],
  }],
  ['v3 array min/max', z3.array(z3.string()).min(1).max(3), { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 }],
  ['v3 array length', z3.array(z3.number()).length(2), { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }],
  ['v3 set', z3.set(z3.string()).max(2), { type: 'array', uniqueItems: true, items: { type: 'string' }, maxItems: 2 }],
  ['v3 tuple', z3.tuple([z3.string(), z3.number()]), {
    type: 'array', items: [{ type: 'string' }, { type: 'number' }], minItems: 2, additionalItems: false, maxItems: 2,
  }],
  ['v3 tuple with rest', z3.tuple([z3.string()]).rest(z3.number()),
    { type: 'array', items: [{ type: 'string' }], minItems: 1, additionalItems: { type: 'number' } }],
  ['v3 record', z3.record(z3.number()), { type: 'object', additionalProperties: { type: 'number' } }],
  ['v3 record with enum keys', z3.record(z3.enum(['a', 'b']), z3.boolean()), {
    type: 'object', additionalProperties: { type: 'boolean' }, propertyNames: { type: 'string', enum: ['a', 'b'] },
  }],
  ['v3 nullable: type array for simple types, anyOf otherwise', z3.object({
    s: z3.string().nullable(),
    e: z3.enum(['a']).nullable(),
    o: z3.object({}).nullable().optional(),
  }), {
    type: 'object',
    properties: {
      s: { type: ['string', 'null'] },
      e: { anyOf: [{ type: 'string', enum: ['a'] }, { type: 'null' }] },
      o: { type: ['object', 'null'], properties: {}, additionalProperties: false },
    },
    required: ['s', 'e'],
    additionalProperties: false,
  }],
  ['v3 optional and default outside objects', z3.array(z3.string().optional().default('x')),
    { type: 'array', items: { type: 'string', default: 'x' } }],
  ['v3 effects: refine, transform, preprocess, pipeline → input schema', z3.object({
    r: z3.string().refine((s) => s.length > 1),
    t: z3.string().transform(Number),
    p: z3.preprocess(String, z3.string().min(1)),
    pi: z3.string().pipe(z3.coerce.number()),
  }), {
    type: 'object',
    properties: { r: { type: 'string' }, t: { type: 'string' }, p: { type: 'string', minLength: 1 }, pi: { type: 'string' } },
    required: ['r', 't', 'p', 'pi'],
    additionalProperties: false,
  }],
  ['v3 branded, readonly, catch → inner (catch is optional)', z3.object({
    b: z3.string().brand('Id'), ro: z3.array(z3.number()).readonly(), c: z3.number().catch(0),
  }), {
    type: 'object',
    properties: { b: { type: 'string' }, ro: { type: 'array', items: { type: 'number' } }, c: { type: 'number' } },
    required: ['b', 'ro'],
    additionalProperties: false,
  }],
  ['v3 lazy recursion → $ref to the root', V3Tree, {
    type: 'object',
    properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } },
    required: ['name', 'children'],
    additionalProperties: false,
  }],
  ['v3 nested recursion → $ref to the nested location', z3.object({ x: V3SelfLink.nullable() }), {
    type: 'object',
    properties: {
      x: {
        anyOf: [
          { type: 'object', properties: { self: { $ref: '#/properties/x/anyOf/0' } }, additionalProperties: false },
          { type: 'null' },
        ],
      },
    },
    required: ['x'],
    additionalProperties: false,
  }],
  ['v3 lazy without recursion', z3.lazy(() => z3.string()), { type: 'string' }],
  ['v3 coerced date, any, unknown, null, never', z3.object({
    d: z3.coerce.date(), a: z3.any(), u: z3.unknown(), n: z3.null(), nv: z3.never(),
  }), {
    type: 'object',
    properties: { d: { type: 'string', format: 'date-time' }, a: {}, u: {}, n: { type: 'null' }, nv: { not: {} } },
    required: ['d', 'n', 'nv'],
    additionalProperties: false,
  }],
]);

test('v3 types without a JSON Schema equivalent throw with the path', () => {
  rejects(z3.object({ n: z3.array(z3.bigint()) }),
    /^tool "x" parameters: cannot convert zod schema at #\/properties\/n\/items: ZodBigInt has no JSON Schema equivalent$/);
  rejects(z3.object({ u: z3.literal(undefined) }),
    /^tool "x" parameters: cannot convert zod schema at #\/properties\/u: the literal undefined has no JSON Schema equivalent$/);
  rejects(z3.function(), /cannot convert zod schema at #: ZodFunction has no JSON Schema equivalent/);
  rejects(z3.object({ at: z3.date() }), /^tool "x" parameters: z\.date\(\) cannot be answered in JSON.*use z\.coerce\.date\(\) .*z\.string\(\)\.datetime\(\) for the string at #\/properties\/at$/);
});

// ---------------------------------------------------------------------------------------------
// plain JSON Schema

test('plain schemas pass through as copies without $schema', () => {
  const input = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      q: { type: 'string', description: 'query', $schema: 'http://json-schema.org/draft-07/schema#' },
      n: { type: ['integer', 'null'], minimum: 0 },
      tags: { type: 'array', items: { enum: ['a', 'b'] }, uniqueItems: true },
      $schema: { type: 'string' }, // a property called "$schema" is data, not the keyword
    },
    required: ['q'],
    additionalProperties: false,
    'x-custom': { anything: 1 },
  };
  const out = convert(input);
  assert.deepEqual(out, {
    type: 'object',
    properties: {
      q: { type: 'string', description: 'query' },
      n: { type: ['integer', 'null'], minimum: 0 },
      tags: { type: 'array', items: { enum: ['a', 'b'] }, uniqueItems: true },
      $schema: { type: 'string' },
    },
    required: ['q'],
    additionalProperties: false,
    'x-custom': { anything: 1 },
  });
  out.properties.q.type = 'number';
  out.required.push('n');
  assert.equal(input.properties.q.type, 'string');
  assert.deepEqual(input.required, ['q']);
});

test('more plain keywords pass through', () => {
  const schema = {
    definitions: { id: { type: 'string', pattern: '^[a-z]+$' } },
    anyOf: [{ $ref: '#/definitions/id' }, { type: 'array', items: [{ type: 'number' }], additionalItems: false }],
    if: { type: 'string' }, then: { minLength: 1 }, else: true,
    dependencies: { a: ['b'], c: { required: ['d'] } },
    not: false,
  };
  assert.deepEqual(convert(schema), schema);
});

test('boolean schemas', () => {
  assert.deepEqual(convert(true), {});
  assert.deepEqual(convert(false), { not: {} });
  assert.deepEqual(convert({ properties: { a: false } }), { properties: { a: false } });
});

test('empty object is the accept-everything schema', () => {
  assert.deepEqual(convert({}), {});
});

// ---------------------------------------------------------------------------------------------
// bad inputs

test('non-schemas are rejected, naming what was passed', () => {
  const expected = /^tool "x" parameters: expected a zod schema or a JSON Schema object, got /;
  rejects('string', /expected a zod schema or a JSON Schema object, got string "string"$/);
  rejects(5, /got number 5$/);
  rejects(['a'], /got an array$/);
  rejects(null, /got null$/);
  rejects(undefined, /got undefined$/);
  rejects(() => ({}), /got a function$/);
  rejects(new Date(0), /got a Date instance$/);
  rejects(new Map(), /got a Map instance$/);
  rejects(10n, /got bigint 10n$/);
  for (const value of ['s', 5, [], null, undefined, () => 1, new Date()]) rejects(value, expected);
});

test('wrong keyword types are rejected with the location', () => {
  const at = (where) => `^tool "x" parameters: invalid JSON Schema at ${where.replace(/\//g, '\\/')}: `;
  rejects({ type: 5 }, new RegExp(`${at('#')}"type" must be one of string, number, integer, boolean, object, array, null or a non-empty array of them, got number 5$`));
  rejects({ type: 'strin' }, /invalid JSON Schema at #: "type" must be one of .*, got string "strin" \(did you mean "string"\?\)$/);
  rejects({ type: [] }, /"type" must be .*, got an array$/);
  rejects({ type: ['string', 'text'] }, /"type" must be .*, got an array \(item 1 is string "text"\)$/);
  rejects({ type: ['string', 'nul'] }, /"type" must be .*, got an array \(item 1 is string "nul", did you mean "null"\?\)$/);
  rejects({ properties: [] }, new RegExp(`${at('#')}"properties" must be an object mapping names to schemas, got an array$`));
  rejects({ properties: { a: 5 } }, new RegExp(`${at('#/properties/a')}expected a schema \\(an object or a boolean\\), got number 5$`));
  rejects({ properties: { a: { type: 'number', properties: { b: { type: 'x' } } } } },
    new RegExp(`${at('#/properties/a/properties/b')}"type" must be`));
  rejects({ required: 'a' }, /at #: "required" must be an array of property names, got string "a"$/);
  rejects({ required: [1] }, /"required" must be an array of property names, got an array$/);
  rejects({ items: 5 }, new RegExp(`${at('#/items')}expected a schema \\(an object or a boolean\\), got number 5$`));
  rejects({ items: [{ type: 'x' }] }, new RegExp(`${at('#/items/0')}"type" must be`));
  rejects({ enum: 'a' }, /at #: "enum" must be an array of allowed values, got string "a"$/);
  rejects({ anyOf: [] }, /"anyOf" must be a non-empty array of schemas, got an array$/);
  rejects({ oneOf: {} }, /"oneOf" must be a non-empty array of schemas, got an object$/);
  rejects({ additionalProperties: 'no' }, new RegExp(`${at('#/additionalProperties')}expected a schema`));
  rejects({ minLength: -1 }, /"minLength" must be a non-negative integer, got number -1$/);
  rejects({ maximum: '5' }, /"maximum" must be a number, got string "5"$/);
  rejects({ pattern: '(' }, /"pattern" must be a valid regular expression, got string "\("$/);
  rejects({ description: 3 }, /"description" must be a string, got number 3$/);
  rejects({ properties: { 'a/b': { type: 1 } } }, /invalid JSON Schema at #\/properties\/a~1b: /);
});

test('a near miss of a keyword is refused: validators would ignore it and check nothing', () => {
  const refused = (schema, at, key, meant) =>
    rejects(schema, new RegExp(`at ${at}: unknown keyword "${key}" \\(did you mean "${meant}"\\?\\); validators ignore a keyword they do not know`));
  refused({ type: 'object', requried: ['a'] }, '#', 'requried', 'required');
  refused({ type: 'object', propertes: { a: {} } }, '#', 'propertes', 'properties');
  refused({ properties: { a: { type: 'string', minlength: 1 } } }, '#/properties/a', 'minlength', 'minLength');
  refused({ properties: { a: { type: 'array', item: { type: 'string' } } } }, '#/properties/a', 'item', 'items');
  refused({ anyOf: [{ Type: 'string' }] }, '#/anyOf/0', 'Type', 'type');
  refused({ additionalPropertes: false }, '#', 'additionalPropertes', 'additionalProperties');
  // Annotations, vendor keywords and the common keywords of OpenAPI and later drafts stay.
  const kept = { type: 'string', note: 'n', example: 'e', nullable: true, 'x-order': 1, tooltip: 't', id: 'i', prefixItems: [], unevaluatedProperties: false, deprecated: true };
  assert.deepEqual(toJsonSchema(kept, 'tool "x" parameters'), kept);
});

test('default label is "schema"', () => {
  assert.throws(() => toJsonSchema(42), { name: 'ConfigError', message: 'schema: expected a zod schema or a JSON Schema object, got number 42' });
});

// ---------------------------------------------------------------------------------------------
// detection

test('isZodSchema detects zod v4, zod/mini and zod v3 by shape', () => {
  assert.equal(isZodSchema(z.string()), true);
  assert.equal(isZodSchema(zm.string()), true);
  assert.equal(isZodSchema(z3.string()), true);
  for (const value of [{ type: 'string' }, {}, null, 'z', 3, [], { _def: {} }, { _zod: 1 }, () => 1]) {
    assert.equal(isZodSchema(value), false, String(value));
  }
});
