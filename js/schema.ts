/**
 * Schema normalisation: users describe tool parameters and structured responses with zod v4, zod v3
 * or a plain JSON Schema object; the engine only understands draft-07 JSON Schema. This module
 * turns each of the three into a draft-07 object (without `$schema`) and rejects anything else with a
 * `TypeError` that names the offending value.
 *
 * zod is never imported: schemas are recognised by shape, so users bring their own zod version.
 * - zod v4 converts itself (`schema.toJSONSchema({ target: 'draft-07', io: 'input' })`, the same
 *   converter as `z.toJSONSchema`), describing what zod accepts: the values are JSON that zod then
 *   parses (js/zod-parse.ts), so refinements, transforms, defaults and coercion run as in the AI SDK.
 *   `z.coerce.date()` becomes a `date-time` string; `z.date()` is refused (JSON has no dates).
 * - zod v3 has no converter, so the common types are converted here (see {@link V3Converter}).
 * - plain JSON Schema objects are checked for obviously wrong keywords and copied.
 *
 * @module
 */

/** A schema users may pass: zod v3/v4 object or a plain JSON Schema object. */
export type SchemaLike = object;
import { nearest, editDistance } from './config/check.js';
import { ConfigError } from './errors.js';
import { rememberZodSchema } from './zod-parse.js';

type Json = Record<string, unknown>;

/** The draft-07 primitive type names accepted in `type`. */
const TYPE_NAMES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

/**
 * Converts to a draft-07 JSON Schema object. Throws TypeError naming what was passed and what is
 * expected when the value is not a schema (e.g. a string, a number, an array, null, a function, an
 * object whose keywords have wrong types such as `{type: 5}` or `{properties: []}`).
 *
 * @param schema A zod v4 or v3 schema, a JSON Schema object, or `true`/`false`.
 * @param where Label that starts every error message, e.g. `tool "search" parameters`.
 * @returns A fresh draft-07 schema object; `true` becomes `{}` and `false` becomes `{not: {}}`.
 */
export function toJsonSchema(schema: unknown, where = 'schema'): Record<string, unknown> {
  schema = unwrappedAiSdkSchema(schema, where);
  let json: unknown;
  if (isZodV4(schema)) json = fromZodV4(schema, where);
  else if (isZodV3(schema)) json = new V3Converter(where).convert(schema, '#');
  else if (typeof schema === 'boolean' || isPlainObject(schema)) json = schema;
  else throw new ConfigError(`${where}: expected a zod schema or a JSON Schema object, got ${describe(schema)}`);

  const checked = checkSchema(json, where, '#');
  if (checked === true) return {};
  if (checked === false) return { not: {} };
  if (isZodSchema(schema)) rememberZodSchema(checked, schema as object);
  return checked;
}

/** The AI SDK's schema wrapper (`jsonSchema({...})`, `zodSchema(z)` from 'ai') holds the JSON Schema it sends. */
const AI_SDK_SCHEMA = Symbol.for('vercel.ai.schema');

/** `schema`, or the JSON Schema inside the AI SDK's wrapper of one (sent as is, not as `{jsonSchema: ...}`). */
function unwrappedAiSdkSchema(schema: unknown, where: string): unknown {
  if (!isObject(schema) || (schema as Record<symbol, unknown>)[AI_SDK_SCHEMA] !== true) return schema;
  const inner = (schema as { jsonSchema?: unknown }).jsonSchema;
  if (isObject(inner) && typeof (inner as { then?: unknown }).then !== 'function') return inner;
  throw new ConfigError(`${where}: this AI SDK schema wrapper does not hold its JSON Schema yet (a lazy one); pass the zod schema or the JSON Schema object itself`);
}

/** Detects zod: v4 has `_zod` on instances; v3 has `_def` with `typeName`. */
export function isZodSchema(value: unknown): boolean {
  return isZodV4(value) || isZodV3(value);
}

function isZodV4(value: unknown): value is V4Schema {
  return isObject(value) && isObject(field(value, '_zod')) && isObject(field(field(value, '_zod'), 'def'));
}

function isZodV3(value: unknown): value is V3Schema {
  return isObject(value) && isObject(field(value, '_def')) && typeof field(field(value, '_def'), 'typeName') === 'string';
}

// ---------------------------------------------------------------------------------------------
// zod v4

type V4Def = { type?: string; coerce?: boolean };

/** The options zod v4's converters take (`toJSONSchema(params)`, `~standard.jsonSchema.input(options)`). */
interface V4ConvertParams {
  target: 'draft-07';
  io: 'input';
  unrepresentable: (ctx: { zodSchema: { _zod?: { def?: V4Def } }; path: (string | number)[]; message: string }) => Json;
  override: (ctx: { zodSchema: { _zod?: { def?: V4Def } }; jsonSchema: Json }) => void;
}

/** What this module reads of a zod v4 schema: `_zod.def` to recognise it, and its converters. */
interface V4Schema {
  _zod: { def: V4Def };
  toJSONSchema?: (params: V4ConvertParams) => unknown;
  '~standard'?: { jsonSchema?: { input?: (options: { target: 'draft-07'; libraryOptions: Omit<V4ConvertParams, 'target'> }) => unknown } };
}

/**
 * Runs zod v4's own converter on what the schema accepts (its input: zod parses the value after the
 * engine's check, so a transform's input, a default's optional field, a coerced date's string), with
 * objects closed as zod's default (strip) output is, and failures turned into ConfigErrors.
 */
function fromZodV4(schema: V4Schema, where: string): unknown {
  const unrepresentable: V4ConvertParams['unrepresentable'] = (ctx) => {
    const def = ctx.zodSchema._zod?.def;
    if (def?.type === 'date' && def.coerce === true) return { type: 'string', format: 'date-time' };
    if (def?.type === 'date') throw new ConfigError(`${where}: ${NO_DATES} at ${pointer(ctx.path)}`);
    throw new ConfigError(`${where}: cannot convert zod schema at ${pointer(ctx.path)}: ${ctx.message}`);
  };
  const override: V4ConvertParams['override'] = (ctx) => {
    if (ctx.zodSchema._zod?.def?.type === 'object' && ctx.jsonSchema.additionalProperties === undefined) ctx.jsonSchema.additionalProperties = false;
  };
  const params: V4ConvertParams = { target: 'draft-07', io: 'input', unrepresentable, override };
  try {
    if (typeof schema.toJSONSchema === 'function') return schema.toJSONSchema(params);
    const standard = schema['~standard']?.jsonSchema;
    if (typeof standard?.input === 'function') {
      return standard.input({ target: 'draft-07', libraryOptions: { io: 'input', unrepresentable, override } });
    }
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith(`${where}: `)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${where}: cannot convert zod schema: ${message}`, { cause: err });
  }
  throw new ConfigError(
    `${where}: this zod v4 schema has no JSON Schema converter (zod/mini or an old zod 4 release?); ` +
      `pass z.toJSONSchema(schema, { target: "draft-07", io: "input" }) instead`,
  );
}

/** Why `z.date()` is refused: the value is JSON, and zod's parse would refuse every string. */
const NO_DATES =
  'z.date() cannot be answered in JSON, which has no dates (zod would refuse every string); use z.coerce.date() ' +
  'for a Date parsed from an ISO date-time string, or z.iso.datetime() for the string';

// ---------------------------------------------------------------------------------------------
// zod v3

/** A zod v3 schema: its `_def` describes it. */
type V3Schema = { _def: V3Def };

type V3Limit = { value: number } | null;

/**
 * The `_def` fields this converter reads, per zod v3 type (trimmed from zod v3's own declarations;
 * `typeName` is one of zod v3's `ZodFirstPartyTypeKind` names). Every def may carry `description`.
 */
type V3Def = { description?: string } & (
  | { typeName: 'ZodString'; checks: V3StringCheck[] }
  | { typeName: 'ZodNumber'; checks: V3NumberCheck[] }
  | { typeName: 'ZodBoolean' | 'ZodNull' | 'ZodAny' | 'ZodUnknown' | 'ZodNever' }
  | { typeName: 'ZodDate'; coerce?: boolean }
  | { typeName: 'ZodLiteral'; value: unknown }
  | { typeName: 'ZodEnum'; values: string[] }
  | { typeName: 'ZodNativeEnum'; values: Record<string, string | number> }
  | { typeName: 'ZodObject'; shape: () => Record<string, V3Schema>; catchall: V3Schema; unknownKeys: string }
  | { typeName: 'ZodArray'; type: V3Schema; exactLength: V3Limit; minLength: V3Limit; maxLength: V3Limit }
  | { typeName: 'ZodSet'; valueType: V3Schema; minSize: V3Limit; maxSize: V3Limit }
  | { typeName: 'ZodTuple'; items: V3Schema[]; rest: V3Schema | null }
  | { typeName: 'ZodRecord'; keyType: V3Schema; valueType: V3Schema }
  // Older zod v3 releases keep a discriminated union's options in a Map.
  | { typeName: 'ZodUnion' | 'ZodDiscriminatedUnion'; options: V3Schema[] | Map<unknown, V3Schema> }
  | { typeName: 'ZodIntersection'; left: V3Schema; right: V3Schema }
  | { typeName: 'ZodNullable' | 'ZodOptional' | 'ZodCatch' | 'ZodReadonly'; innerType: V3Schema }
  | { typeName: 'ZodDefault'; innerType: V3Schema; defaultValue: () => unknown }
  | { typeName: 'ZodBranded'; type: V3Schema }
  | { typeName: 'ZodEffects'; schema: V3Schema }
  | { typeName: 'ZodPipeline'; in: V3Schema }
  | { typeName: 'ZodLazy'; getter: () => V3Schema }
  | { typeName: 'ZodNaN' | 'ZodBigInt' | 'ZodSymbol' | 'ZodUndefined' | 'ZodVoid' | 'ZodMap' | 'ZodFunction' | 'ZodPromise' }
);

type V3StringCheck =
  | { kind: 'min' | 'max' | 'length'; value: number }
  | { kind: 'regex'; regex: RegExp }
  | { kind: 'startsWith' | 'endsWith' | 'includes'; value: string }
  | { kind: 'ip' | 'cidr'; version?: 'v4' | 'v6' }
  | { kind: 'email' | 'url' | 'emoji' | 'uuid' | 'nanoid' | 'cuid' | 'cuid2' | 'ulid' | 'trim' | 'toLowerCase' | 'toUpperCase' | 'jwt' | 'datetime' | 'date' | 'time' | 'duration' | 'base64' | 'base64url' };

type V3NumberCheck =
  | { kind: 'min' | 'max'; value: number; inclusive: boolean }
  | { kind: 'multipleOf'; value: number }
  | { kind: 'int' | 'finite' };

/**
 * Converts zod v3 schemas by walking their `_def`s. Supported: object, string, number, boolean,
 * null, literal, enum, nativeEnum, union, discriminatedUnion, intersection, array, set, tuple,
 * record, optional, nullable, default, catch, effects (refine/transform/preprocess: the input
 * schema), pipeline (its input), branded, readonly, lazy, date, any, unknown, never.
 *
 * Object fields are required unless zod accepts them missing (optional, default, catch, any,
 * unknown). Recursion through `z.lazy` becomes a `$ref` to the enclosing schema's location.
 */
class V3Converter {
  /** Schemas currently being converted, with the JSON pointer of their output. */
  private readonly active = new Map<V3Schema, string>();
  /** Pointers some `$ref` points at, so wrappers know not to move those schemas. */
  private readonly referenced = new Set<string>();

  constructor(private readonly where: string) {}

  convert(schema: V3Schema, at: string): Json {
    const target = this.active.get(schema);
    if (target !== undefined) {
      this.referenced.add(target);
      return { $ref: target };
    }
    this.active.set(schema, at);
    try {
      const json = this.body(schema._def, at);
      const description = schema._def.description;
      return typeof description === 'string' ? { ...json, description } : json;
    } finally {
      this.active.delete(schema);
    }
  }

  private body(def: V3Def, at: string): Json {
    switch (def.typeName) {
      case 'ZodString': return stringSchema(def.checks);
      case 'ZodNumber': return numberSchema(def.checks);
      case 'ZodBoolean': return { type: 'boolean' };
      case 'ZodNull': return { type: 'null' };
      case 'ZodDate':
        if (def.coerce === true) return { type: 'string', format: 'date-time' };
        throw new ConfigError(`${this.where}: ${NO_DATES.replace('z.iso.datetime()', 'z.string().datetime()')} at ${at}`);
      case 'ZodAny':
      case 'ZodUnknown': return {};
      case 'ZodNever': return { not: {} };
      case 'ZodLiteral': return this.literal(def.value, at);
      case 'ZodEnum': return { type: 'string', enum: [...def.values] };
      case 'ZodNativeEnum': return nativeEnumSchema(def.values);
      case 'ZodObject': return this.object(def, at);
      case 'ZodArray': return {
        type: 'array',
        items: this.convert(def.type, `${at}/items`),
        ...lengthLimits(def.exactLength ?? def.minLength, def.exactLength ?? def.maxLength, 'Items'),
      };
      case 'ZodSet': return {
        type: 'array',
        uniqueItems: true,
        items: this.convert(def.valueType, `${at}/items`),
        ...lengthLimits(def.minSize, def.maxSize, 'Items'),
      };
      case 'ZodTuple': return this.tuple(def, at);
      case 'ZodRecord': return this.record(def, at);
      case 'ZodUnion':
      case 'ZodDiscriminatedUnion': {
        const options = Array.isArray(def.options) ? def.options : [...def.options.values()];
        return { anyOf: options.map((option, i) => this.convert(option, `${at}/anyOf/${i}`)) };
      }
      case 'ZodIntersection': return {
        allOf: [this.convert(def.left, `${at}/allOf/0`), this.convert(def.right, `${at}/allOf/1`)],
      };
      case 'ZodNullable': return this.nullable(def.innerType, at);
      case 'ZodDefault': return { ...this.convert(def.innerType, at), default: def.defaultValue() };
      case 'ZodOptional':
      case 'ZodCatch':
      case 'ZodReadonly': return this.convert(def.innerType, at);
      case 'ZodBranded': return this.convert(def.type, at);
      case 'ZodEffects': return this.convert(def.schema, at);
      case 'ZodPipeline': return this.convert(def.in, at);
      case 'ZodLazy': return this.convert(def.getter(), at);
      default: return this.fail(at, `${def.typeName} has no JSON Schema equivalent`);
    }
  }

  private object(def: Extract<V3Def, { typeName: 'ZodObject' }>, at: string): Json {
    const shape = def.shape();
    const properties: Json = {};
    const required: string[] = [];
    for (const [key, value] of Object.entries(shape)) {
      setOwn(properties, key, this.convert(value, `${at}/properties/${escapePointer(key)}`));
      if (!acceptsMissing(value)) required.push(key);
    }
    const json: Json = { type: 'object', properties };
    if (required.length > 0) json.required = required;
    if (def.catchall?._def?.typeName !== 'ZodNever') {
      json.additionalProperties = this.convert(def.catchall, `${at}/additionalProperties`);
    } else {
      json.additionalProperties = def.unknownKeys === 'passthrough';
    }
    return json;
  }

  private tuple(def: Extract<V3Def, { typeName: 'ZodTuple' }>, at: string): Json {
    const items = def.items.map((item, i) => this.convert(item, `${at}/items/${i}`));
    const json: Json = { type: 'array', items, minItems: items.length };
    if (def.rest) json.additionalItems = this.convert(def.rest, `${at}/additionalItems`);
    else Object.assign(json, { additionalItems: false, maxItems: items.length });
    return json;
  }

  private record(def: Extract<V3Def, { typeName: 'ZodRecord' }>, at: string): Json {
    const json: Json = { type: 'object', additionalProperties: this.convert(def.valueType, `${at}/additionalProperties`) };
    const keys = this.convert(def.keyType, `${at}/propertyNames`);
    // Property names are always strings: only string-like key schemas with constraints say anything.
    if (keys.type === 'string' && Object.keys(keys).length > 1) json.propertyNames = keys;
    return json;
  }

  private nullable(inner: V3Schema, at: string): Json {
    const innerAt = `${at}/anyOf/0`;
    const json = this.convert(inner, innerAt);
    const simple = typeof json.type === 'string' && !('enum' in json) && !('const' in json);
    if (simple && !this.referenced.has(innerAt)) return { ...json, type: [json.type, 'null'] };
    return { anyOf: [json, { type: 'null' }] };
  }

  private literal(value: unknown, at: string): Json {
    if (value === null) return { type: 'null' };
    const type = typeof value;
    if (type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value))) {
      return { type, const: value };
    }
    return this.fail(at, `the literal ${describe(value)} has no JSON Schema equivalent`);
  }

  private fail(at: string, message: string): never {
    throw new ConfigError(`${this.where}: cannot convert zod schema at ${at}: ${message}`);
  }
}

/** Whether a zod v3 object field may be left out (zod accepts `undefined` for it). */
function acceptsMissing(schema: V3Schema): boolean {
  const def = schema._def;
  switch (def.typeName) {
    case 'ZodOptional':
    case 'ZodDefault':
    case 'ZodCatch':
    case 'ZodAny':
    case 'ZodUnknown': return true;
    case 'ZodNullable':
    case 'ZodReadonly': return acceptsMissing(def.innerType);
    case 'ZodBranded': return acceptsMissing(def.type);
    case 'ZodEffects': return acceptsMissing(def.schema);
    case 'ZodPipeline': return acceptsMissing(def.in);
    case 'ZodLazy': return false; // evaluating the getter here could recurse forever
    default: return false;
  }
}

const STRING_FORMATS: Record<string, string> = {
  email: 'email', url: 'uri', uuid: 'uuid', datetime: 'date-time', date: 'date', time: 'time', duration: 'duration',
};

function stringSchema(checks: V3StringCheck[]): Json {
  const json: Json = { type: 'string' };
  const patterns: string[] = [];
  for (const check of checks) {
    switch (check.kind) {
      case 'min': json.minLength = check.value; break;
      case 'max': json.maxLength = check.value; break;
      case 'length': json.minLength = json.maxLength = check.value; break;
      case 'regex': patterns.push(check.regex.source); break;
      case 'startsWith': patterns.push(`^${escapeRegex(check.value)}`); break;
      case 'endsWith': patterns.push(`${escapeRegex(check.value)}$`); break;
      case 'includes': patterns.push(escapeRegex(check.value)); break;
      case 'ip': if (check.version) json.format = check.version === 'v4' ? 'ipv4' : 'ipv6'; break;
      default: if (check.kind in STRING_FORMATS) json.format = STRING_FORMATS[check.kind];
    }
  }
  if (patterns.length > 0) json.pattern = patterns[0];
  if (patterns.length > 1) json.allOf = patterns.slice(1).map((pattern) => ({ pattern }));
  return json;
}

function numberSchema(checks: V3NumberCheck[]): Json {
  const json: Json = { type: 'number' };
  for (const check of checks) {
    switch (check.kind) {
      case 'int': json.type = 'integer'; break;
      case 'min': json[check.inclusive ? 'minimum' : 'exclusiveMinimum'] = check.value; break;
      case 'max': json[check.inclusive ? 'maximum' : 'exclusiveMaximum'] = check.value; break;
      case 'multipleOf': json.multipleOf = check.value; break;
    }
  }
  return json;
}

/** TypeScript enums: numeric members also map value → name, and those reverse entries are skipped. */
function nativeEnumSchema(values: Record<string, string | number>): Json {
  const members = Object.keys(values)
    .filter((key) => typeof values[values[key]] !== 'number')
    .map((key) => values[key]);
  const unique = [...new Set(members)];
  const types = [...new Set(unique.map((value) => typeof value))];
  return { type: types.length === 1 ? types[0] : types, enum: unique };
}

function lengthLimits(min: V3Limit, max: V3Limit, what: string): Json {
  const json: Json = {};
  if (min) json[`min${what}`] = min.value;
  if (max) json[`max${what}`] = max.value;
  return json;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// plain JSON Schema

const SCHEMA_KEYWORDS = ['additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else'];
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'definitions', '$defs'];
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf'];
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'];
const STRING_KEYWORDS = ['$ref', '$id', 'title', 'description', 'format', 'pattern'];

/**
 * Every keyword of JSON Schema (draft-07 to 2020-12) and the common ones of OpenAPI and draft-04:
 * an unknown keyword is ignored by validators, so one that is a near miss of these (`minlength`,
 * `requried`, `propertes`) would silently check nothing and is refused instead.
 */
const KNOWN_KEYWORDS = [
  ...SCHEMA_KEYWORDS, ...SCHEMA_MAP_KEYWORDS, ...SCHEMA_LIST_KEYWORDS, ...NUMBER_KEYWORDS, ...COUNT_KEYWORDS, ...STRING_KEYWORDS,
  'type', 'items', 'required', 'enum', 'dependencies', 'uniqueItems', 'const', 'default', 'examples', 'readOnly', 'writeOnly',
  '$schema', '$comment', '$anchor', '$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor', '$vocabulary',
  'prefixItems', 'minContains', 'maxContains', 'dependentRequired', 'dependentSchemas', 'unevaluatedItems',
  'unevaluatedProperties', 'contentMediaType', 'contentEncoding', 'contentSchema', 'deprecated',
  'id', 'example', 'nullable', 'discriminator', 'xml', 'externalDocs',
];

/**
 * The known keyword `key` misspells, if it is one: the same but for case, one edit away for keywords
 * of 5 to 7 characters, two for longer ones. Short words stay free for annotations (`note`, `of`).
 */
function misspelledKeyword(key: string): string | undefined {
  if (KNOWN_KEYWORDS.includes(key)) return undefined;
  const guess = nearest(key, KNOWN_KEYWORDS);
  if (guess === undefined) return undefined;
  const allowed = guess.length <= 4 ? 0 : guess.length <= 7 ? 1 : 2;
  return editDistance(key, guess) <= allowed ? guess : undefined;
}

/**
 * Checks the keywords that are easy to get wrong and returns a copy of the schema with every
 * `$schema` removed. Data keywords (`const`, `default`, ...) and unknown keywords are kept as is,
 * but for a near miss of a known one, which is refused.
 */
function checkSchema(schema: unknown, where: string, at: string): Json | boolean {
  if (typeof schema === 'boolean') return schema;
  const bad = (keyword: string, expected: string, value: unknown, hint = ''): never => {
    throw new ConfigError(`${where}: invalid JSON Schema at ${at}: "${keyword}" must be ${expected}, got ${describe(value)}${hint}`);
  };
  if (!isPlainObject(schema)) {
    throw new ConfigError(`${where}: invalid JSON Schema at ${at}: expected a schema (an object or a boolean), got ${describe(schema)}`);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    const here = `${at}/${escapePointer(key)}`;
    if (key === '$schema') continue;
    if (key === 'type') {
      const names = isArray(value) ? value : [value];
      const wrong = names.findIndex((name) => !TYPE_NAMES.includes(name as string));
      if (names.length === 0 || wrong >= 0) {
        const name = names[wrong];
        const guess = typeof name === 'string' ? nearest(name, TYPE_NAMES) : undefined;
        const notes = [isArray(value) && wrong >= 0 ? `item ${wrong} is ${describe(name)}` : '', guess ? `did you mean "${guess}"?` : ''].filter(Boolean);
        bad(key, `one of ${TYPE_NAMES.join(', ')} or a non-empty array of them`, value, notes.length > 0 ? ` (${notes.join(', ')})` : '');
      }
      setOwn(out, key, isArray(value) ? [...value] : value);
    } else if (SCHEMA_KEYWORDS.includes(key)) {
      setOwn(out, key, checkSchema(value, where, here));
    } else if (SCHEMA_MAP_KEYWORDS.includes(key)) {
      if (!isPlainObject(value)) bad(key, 'an object mapping names to schemas', value);
      setOwn(out, key, mapValues(value as Json, (sub, name) => checkSchema(sub, where, `${here}/${escapePointer(name)}`)));
    } else if (SCHEMA_LIST_KEYWORDS.includes(key)) {
      if (!Array.isArray(value) || value.length === 0) bad(key, 'a non-empty array of schemas', value);
      setOwn(out, key, (value as unknown[]).map((sub, i) => checkSchema(sub, where, `${here}/${i}`)));
    } else if (key === 'items') {
      out[key] = isArray(value)
        ? value.map((sub, i) => checkSchema(sub, where, `${here}/${i}`))
        : checkSchema(value, where, here);
    } else if (key === 'required') {
      if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) bad(key, 'an array of property names', value);
      setOwn(out, key, [...(value as string[])]);
    } else if (key === 'enum') {
      if (!Array.isArray(value)) bad(key, 'an array of allowed values', value);
      setOwn(out, key, [...(value as unknown[])]);
    } else if (key === 'dependencies') {
      if (!isPlainObject(value)) bad(key, 'an object mapping names to schemas or name arrays', value);
      setOwn(out, key, mapValues(value as Json, (sub, name) => (isArray(sub) ? [...sub] : checkSchema(sub, where, `${here}/${escapePointer(name)}`))));
    } else if (NUMBER_KEYWORDS.includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) bad(key, 'a number', value);
      setOwn(out, key, value);
    } else if (COUNT_KEYWORDS.includes(key)) {
      if (!Number.isInteger(value) || (value as number) < 0) bad(key, 'a non-negative integer', value);
      setOwn(out, key, value);
    } else if (STRING_KEYWORDS.includes(key)) {
      if (typeof value !== 'string') bad(key, 'a string', value);
      if (key === 'pattern' && !isRegex(value as string)) bad(key, 'a valid regular expression', value);
      setOwn(out, key, value);
    } else if (key === 'uniqueItems') {
      if (typeof value !== 'boolean') bad(key, 'a boolean', value);
      setOwn(out, key, value);
    } else {
      const meant = misspelledKeyword(key);
      if (meant !== undefined) {
        throw new ConfigError(
          `${where}: invalid JSON Schema at ${at}: unknown keyword "${key}" (did you mean "${meant}"?); validators ignore a keyword they do not know, so it would check nothing`,
        );
      }
      setOwn(out, key, value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// helpers

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** `Array.isArray` whose elements stay `unknown` (the built-in narrows to `any[]`). */
function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** `value?.[key]` for a value of any type: `undefined` unless `value` is an object or a function. */
function field(value: unknown, key: string): unknown {
  return isObject(value) || typeof value === 'function' ? (value as Record<string, unknown>)[key] : undefined;
}

function isPlainObject(value: unknown): value is Json {
  if (!isObject(value) || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `target[key] = value` as an own data property, even for `__proto__` (whose assignment would set
 * the prototype instead) and `constructor`: schema property names are data, never object structure.
 */
function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function mapValues(object: Json, fn: (value: unknown, key: string) => unknown): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) setOwn(out, key, fn(value, key));
  return out;
}

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function escapePointer(segment: string | number): string {
  return encodeURIComponent(String(segment).replace(/~/g, '~0').replace(/\//g, '~1'));
}

function pointer(path: (string | number)[]): string {
  return ['#', ...path.map(escapePointer)].join('/');
}

/** A short description of a value for error messages: `string "abc"`, `number 5`, `an array`, ... */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean': return `${typeof value} ${value}`;
    case 'bigint': return `bigint ${value}n`;
    case 'function': return 'a function';
    case 'object': {
      const name = field(field(Object.getPrototypeOf(value), 'constructor'), 'name');
      return typeof name === 'string' && name !== 'Object' && name !== '' ? `a ${name} instance` : 'an object';
    }
    default: return typeof value;
  }
}
