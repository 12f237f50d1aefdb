/**
 * JSON Schema → Gemini's schema subset (an OpenAPI 3.0 Schema object: upper-case `type`,
 * `nullable`, string-only `enum`, `anyOf`, `properties`, `items`, ...). Keywords that only narrow
 * validation and that Gemini lacks are dropped (the engine still validates tool arguments against
 * the full schema); keywords that change the shape of the data and cannot be expressed (`$ref`,
 * `allOf`, `not`, tuples, maps, ...) are a `ValidationError` that names the place and what to change.
 */
import { ValidationError } from '../errors.js';
import { isObject } from './http.js';

/** A schema in Gemini's subset. */
export type GeminiSchema = Record<string, unknown>;

const TYPES: Record<string, string> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
};

/** Formats Gemini accepts per type; others are dropped. */
const FORMATS: Record<string, string[]> = {
  STRING: ['date-time', 'enum'],
  NUMBER: ['float', 'double'],
  INTEGER: ['int32', 'int64'],
};

/** Keywords that cannot be expressed, with what to do instead. */
const UNSUPPORTED: Record<string, string> = {
  $ref: 'inline the referenced definition',
  $dynamicRef: 'inline the referenced definition',
  allOf: 'merge the subschemas into one object schema',
  not: 'describe the allowed values positively (enum, anyOf)',
  if: 'drop the conditional or split the tool',
  then: 'drop the conditional or split the tool',
  else: 'drop the conditional or split the tool',
  patternProperties: 'list the properties explicitly',
  prefixItems: 'use one items schema for every element',
  additionalItems: 'use one items schema for every element',
  contains: 'drop the constraint',
  dependentSchemas: 'drop the dependency',
  dependencies: 'drop the dependency',
  propertyNames: 'drop the constraint',
  unevaluatedProperties: 'drop the constraint',
  unevaluatedItems: 'drop the constraint',
};

/** Deeper schemas are refused rather than risking the call stack. */
const MAX_DEPTH = 64;

/** Keywords copied as they are (after their values are checked). */
const COPIED_NUMBERS = ['minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties'];

/**
 * Converts a JSON Schema to Gemini's subset.
 * @param where names the schema in errors, e.g. `tool 'search' parameters` or `responseSchema`.
 * @throws ValidationError for what Gemini cannot express, naming `where` and the JSON pointer.
 */
export function toGeminiSchema(schema: unknown, where: string, provider = 'google'): GeminiSchema {
  return new Converter(where, provider).convert(schema, '');
}

class Converter {
  constructor(
    private readonly where: string,
    private readonly provider: string,
  ) {}

  private fail(path: string, what: string, fix: string): never {
    throw new ValidationError(`${this.provider}: ${this.where} at ${path || '/'}: ${what} cannot be expressed in Gemini's schema; ${fix}`);
  }

  convert(s: unknown, path: string, depth = 0): GeminiSchema {
    if (depth > MAX_DEPTH) this.fail(path, `a schema nested deeper than ${MAX_DEPTH} levels`, 'flatten it');
    if (s === true) this.fail(path, 'a schema that accepts any value', 'give it a type');
    if (!isObject(s)) this.fail(path, `a schema that is not an object (${s === null ? 'null' : typeof s})`, 'give an object schema');
    for (const [k, fix] of Object.entries(UNSUPPORTED)) if (Object.hasOwn(s, k)) this.fail(`${path}/${k}`, k, fix);
    if (Array.isArray(s.items)) this.fail(`${path}/items`, 'a tuple (items as an array)', 'use one items schema for every element');
    if (isObject(s.additionalProperties)) {
      this.fail(`${path}/additionalProperties`, 'a map (additionalProperties with a schema)', 'use an array of {key, value} objects or list the properties');
    }

    let types = this.typesOf(s, path);
    const nullable = types.includes('null') || (Array.isArray(s.enum) && s.enum.includes(null)) || s.nullable === true;
    types = types.filter((t) => t !== 'null');
    if (types.length > 1) {
      // Several types: one subschema per type, each keeping the keywords that apply.
      const anyOf = types.map((t, i) => this.convert({ ...s, type: t, nullable: undefined }, `${path}/type/${i}`, depth + 1));
      return nullable ? { anyOf, nullable: true } : { anyOf };
    }
    const out: GeminiSchema = {};
    const type = types[0];
    if (type !== undefined) {
      const mapped = TYPES[type];
      if (mapped === undefined) this.fail(`${path}/type`, `type ${JSON.stringify(type)}`, 'use string, number, integer, boolean, array or object');
      out.type = mapped;
    } else if (types.length === 0 && nullable && !Array.isArray(s.anyOf) && !Array.isArray(s.oneOf)) {
      this.fail(path, 'a value that can only be null', 'give it another type too');
    }
    if (nullable) out.nullable = true;
    this.copyAnnotations(s, out);
    this.copyEnum(s, out, path);
    const alternatives = Array.isArray(s.anyOf) ? ['anyOf', s.anyOf] : Array.isArray(s.oneOf) ? ['oneOf', s.oneOf] : undefined;
    if (alternatives) {
      const [key, list] = alternatives as [string, unknown[]];
      const subs = list.filter((sub) => !(isObject(sub) && sub.type === 'null'));
      if (subs.length < list.length) out.nullable = true;
      const converted = subs.map((sub, i) => this.convert(sub, `${path}/${key}/${i}`, depth + 1));
      if (converted.length === 1 && out.type === undefined) Object.assign(out, converted[0], out.nullable ? { nullable: true } : {});
      else out.anyOf = converted;
    }
    if (out.type === 'OBJECT') this.copyObject(s, out, path, depth);
    if (out.type === 'ARRAY' && s.items !== undefined) out.items = this.convert(s.items, `${path}/items`, depth + 1);
    if (out.type === undefined && out.anyOf === undefined) this.fail(path, 'a schema without a type', 'add a type (string, number, integer, boolean, array or object)');
    return out;
  }

  /** The JSON types a schema allows, from `type`, else guessed from `properties`, `items`, `enum` or `const`. */
  private typesOf(s: Record<string, unknown>, path: string): string[] {
    if (typeof s.type === 'string') return [s.type];
    if (Array.isArray(s.type)) {
      if (!s.type.every((t) => typeof t === 'string')) this.fail(`${path}/type`, 'a type list with non-strings', 'list type names');
      return [...new Set(s.type)];
    }
    if (s.type !== undefined) this.fail(`${path}/type`, `type ${JSON.stringify(s.type)}`, 'use a type name');
    if (isObject(s.properties)) return ['object'];
    if (s.items !== undefined) return ['array'];
    const values = Array.isArray(s.enum) ? s.enum : Object.hasOwn(s, 'const') ? [s.const] : undefined;
    if (values && values.every((v) => typeof v === 'string' || v === null)) return values.includes(null) ? ['string', 'null'] : ['string'];
    return [];
  }

  private copyAnnotations(s: Record<string, unknown>, out: GeminiSchema): void {
    if (typeof s.description === 'string') out.description = s.description;
    if (typeof s.title === 'string') out.title = s.title;
    if (typeof s.pattern === 'string') out.pattern = s.pattern;
    if (s.default !== undefined) out.default = s.default;
    if (s.example !== undefined) out.example = s.example;
    for (const k of COPIED_NUMBERS) if (typeof s[k] === 'number' && Number.isFinite(s[k])) out[k] = s[k];
    const type = typeof out.type === 'string' ? out.type : '';
    if (typeof s.format === 'string' && FORMATS[type]?.includes(s.format)) out.format = s.format;
  }

  private copyEnum(s: Record<string, unknown>, out: GeminiSchema, path: string): void {
    const values = Array.isArray(s.enum) ? s.enum : Object.hasOwn(s, 'const') ? [s.const] : undefined;
    if (values === undefined) return;
    const key = Array.isArray(s.enum) ? 'enum' : 'const';
    const nonNull = values.filter((v) => v !== null);
    if (!nonNull.every((v) => typeof v === 'string')) {
      this.fail(`${path}/${key}`, `an ${key} of non-string values`, 'use string values (Gemini enums are strings) or a type with minimum/maximum');
    }
    if (out.type !== undefined && out.type !== 'STRING') this.fail(`${path}/${key}`, `an ${key} on type ${typeof out.type === 'string' ? out.type.toLowerCase() : 'unknown'}`, 'use type string');
    out.type = 'STRING';
    out.enum = nonNull;
  }

  private copyObject(s: Record<string, unknown>, out: GeminiSchema, path: string, depth: number): void {
    // A null prototype keeps a property named __proto__ an ordinary property.
    const props = Object.create(null) as Record<string, GeminiSchema>;
    if (isObject(s.properties)) {
      for (const [name, sub] of Object.entries(s.properties)) props[name] = this.convert(sub, `${path}/properties/${escapePointer(name)}`, depth + 1);
      out.properties = props;
    }
    if (Array.isArray(s.required)) out.required = s.required.filter((r): r is string => typeof r === 'string' && Object.hasOwn(props, r));
    if (Array.isArray(s.propertyOrdering)) out.propertyOrdering = s.propertyOrdering;
  }
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
