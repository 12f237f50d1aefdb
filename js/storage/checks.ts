/**
 * Argument checks and JSON encoding shared by every adapter, so each refuses bad input the same
 * way: a StorageError naming the adapter, the key and what was expected.
 */
import { isPlainObject, unknownKey, type Check, type Shape } from '../config/check.js';
import { DEFAULT_JSON_DEPTH } from '../engine.js';
import { ConfigError, StorageError } from '../errors.js';
import type { JsonValue, StorageWriteOptions } from './types.js';

/** Who is asking, for error messages: the adapter's kind and a label such as `file storage "/data"`. */
export interface AdapterIdentity {
  name: string;
  label: string;
}

/**
 * An adapter's options: an object whose keys are all in `shape` (a misspelled one is named, with the
 * nearest) and whose values pass their checks. A value is not shown when `secret` names its key
 * (a Redis URL may hold a password).
 */
export function checkAdapterOptions(who: AdapterIdentity, options: unknown, shape: Shape, secret?: string): void {
  if (options === undefined) return;
  const known = Object.keys(shape);
  if (!isPlainObject(options)) throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: the options must be an object {${known.join(', ')}}`, { adapter: who.name });
  for (const [key, value] of Object.entries(options)) {
    const check = shape[key];
    if (!check) throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: ${unknownKey('option', key, known)}`, { adapter: who.name });
    const expected = value === undefined ? undefined : check(value);
    if (expected === undefined) continue;
    const got = key === secret && typeof value === 'string' && value !== '' ? 'a string (not shown)' : describe(value);
    throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: option '${key}' must be ${expected}, got ${got}`, { adapter: who.name });
  }
}

/** A storage clock option: an object with `now()`. */
export const clockOption: Check = (v) => (typeof (v as { now?: unknown } | null)?.now === 'function' ? undefined : 'a clock, an object with now() returning ms');

export function checkKey(who: AdapterIdentity, key: unknown): string {
  if (typeof key === 'string' && key.length > 0) return key;
  throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: a key must be a non-empty string, got ${describe(key)}`, { adapter: who.name });
}

export function checkPrefix(who: AdapterIdentity, prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix === 'string') return prefix;
  throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: a list prefix must be a string, got ${describe(prefix)}`, { adapter: who.name });
}

/** The TTL in ms, or undefined for "never expires". */
/** About 31,700 years: Redis refuses an expiry past its 64-bit clock, and every adapter takes the same TTLs. */
const MAX_TTL_MS = 1e15;

export function checkTtl(who: AdapterIdentity, key: string, options: StorageWriteOptions | undefined): number | undefined {
  if (options !== undefined && options !== null) {
    // A misspelt {tll} would quietly write an entry that never expires.
    const extra = isPlainObject(options) ? Object.keys(options).find((k) => k !== 'ttl') : undefined;
    if (!isPlainObject(options) || extra !== undefined)
      throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: key "${key}": ${extra !== undefined ? unknownKey('write option', extra, ['ttl']) : `the write options must be {ttl?}, got ${describe(options)}`}`, { adapter: who.name, key });
  }
  const ttl: unknown = options?.ttl;
  if (ttl === undefined) return undefined;
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 && ttl <= MAX_TTL_MS) return ttl;
  throw new StorageError('STORAGE_BAD_ARGUMENT', `${who.label}: key "${key}": ttl must be a number of ms > 0 and at most 1e15 (or left out for no expiry), got ${describe(ttl)}`, {
    adapter: who.name,
    key,
  });
}

/** The expected version, or null for "must not exist". */
export function checkExpectedVersion(who: AdapterIdentity, key: string, version: unknown): string | null {
  if (version === undefined || version === null) return null;
  if (typeof version === 'string' && version.length > 0) return version;
  throw new StorageError(
    'STORAGE_BAD_ARGUMENT',
    `${who.label}: key "${key}": expectedVersion must be a version string from get/set, or null/undefined for "must not exist", got ${describe(version)}`,
    { adapter: who.name, key },
  );
}

/**
 * The JSON text of `value`, or a STORAGE_UNSERIALIZABLE error naming where the value stops being
 * JSON. Stricter than JSON.stringify, which would silently turn NaN into null or a Map into {}.
 * Object properties that are `undefined` are left out, as JSON.stringify does.
 */
export function encodeValue(who: AdapterIdentity, key: string, value: unknown): string {
  const problem = jsonProblem(value);
  if (problem)
    throw new StorageError(
      'STORAGE_UNSERIALIZABLE',
      `${who.label}: cannot store key "${key}": ${problem} (a value must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)`,
      { adapter: who.name, key },
    );
  return JSON.stringify(value);
}

/** Parses stored JSON text; text that is not JSON is a corrupted record. */
export function decodeValue(who: AdapterIdentity, key: string, text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw corrupt(who, key, `the stored value is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

export function corrupt(who: AdapterIdentity, key: string, why: string): StorageError {
  return new StorageError('STORAGE_CORRUPT', `${who.label}: the record of key "${key}" is corrupted: ${why}`, { adapter: who.name, key });
}

/**
 * Where `value` stops being JSON (a path like `$.a[2]` and what is there), or '' when it is JSON.
 * A value nested deeper than `maxDepth` levels (an array or object is one level; `depthAbove` are
 * the levels of whatever holds `value`) is refused too: no engine takes it (docs/limits.md), and
 * checking it further would run out of stack.
 */
export function jsonProblem(value: unknown, path = '$', maxDepth = DEFAULT_JSON_DEPTH, depthAbove = 0): string {
  return nonJson(value, path, [], maxDepth - depthAbove, maxDepth);
}

/**
 * Throws a ConfigError when `value` (an argument the engine gets, such as a pipeline's input) is not
 * JSON: JSON.stringify would drop a function or turn NaN into null on the way, without a word.
 * `undefined` is accepted (the argument was left out).
 */
export function checkJsonArgument(where: string, what: string, value: unknown): void {
  const problem = value === undefined ? '' : jsonProblem(value, what);
  if (problem) throw new ConfigError(`${where}: ${problem} (${what} must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)`);
}

/**
 * The option check (config/check.ts) of a value that must be a JSON object, such as metadata: a
 * function or a Date in it would be dropped or changed on the way to the engine. `label` starts
 * the path in the message (`metadata.f is a function`).
 */
export function jsonObject(label: string): Check {
  return (v) => {
    if (!isPlainObject(v)) return 'a JSON object';
    const problem = jsonProblem(v, label);
    return problem ? `a JSON object (${problem})` : undefined;
  };
}

/**
 * Why `JSON.stringify(value)` throws, located as it would meet it (a path like `$.input.n` and what
 * is there: a BigInt or a cycle), or '' when it does not. Unlike {@link jsonProblem} it accepts
 * what JSON.stringify accepts (a `Date` through its `toJSON`, a function left out).
 */
export function unserializable(value: unknown, path = '$', ancestors: object[] = []): string {
  if (typeof value === 'bigint') return `${path} is a BigInt`;
  if (typeof value !== 'object' || value === null) return '';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    try {
      return unserializable((toJSON as () => unknown).call(value), path, ancestors);
    } catch (err) {
      return `${path}.toJSON() throws (${err instanceof Error ? err.message : String(err)})`;
    }
  }
  if (ancestors.includes(value)) return `${path} refers back to one of its parents (a cycle)`;
  if (ancestors.length >= DEFAULT_JSON_DEPTH) return `${shortPath(path)} is nested deeper than the limit of ${DEFAULT_JSON_DEPTH} levels`;
  ancestors.push(value);
  try {
    const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [`${path}[${i}]`, v]) : Object.entries(value).map(([k, v]) => [memberPath(path, k), v]);
    for (const [at, member] of entries) {
      const problem = unserializable(member, at, ancestors);
      if (problem) return problem;
    }
    return '';
  } finally {
    ancestors.pop();
  }
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A path that is thousands of segments long is shown by its start. */
function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 80)}…`;
}

function nonJson(value: unknown, path: string, ancestors: object[], levelsLeft: number, maxDepth: number): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return '';
    case 'number':
      return Number.isFinite(value) ? '' : `${path} is ${String(value)}`;
    case 'undefined':
      return `${path} is undefined`;
    case 'bigint':
      return `${path} is a BigInt`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
  }
  if (value === null) return '';
  const object = value as object;
  if (ancestors.includes(object)) return `${path} refers back to one of its parents (a cycle)`;
  if (ancestors.length >= levelsLeft) return `${shortPath(path)} is nested deeper than the limit of ${maxDepth} levels`;
  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const problem = nonJson(object[i], `${path}[${i}]`, ancestors, levelsLeft, maxDepth);
        if (problem) return problem;
      }
      return '';
    }
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) return `${path} is a ${constructorName(object)}, not a plain object`;
    for (const [k, v] of Object.entries(object)) {
      if (v === undefined) continue;
      const problem = nonJson(v, memberPath(path, k), ancestors, levelsLeft, maxDepth);
      if (problem) return problem;
    }
    return '';
  } finally {
    ancestors.pop();
  }
}

function constructorName(object: object): string {
  const ctor = (object as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name ? ctor.name : 'object with a custom prototype';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length === 0 ? 'an empty string' : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

/** Sorted the same way by every adapter: by UTF-16 code units. */
export function sortKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
