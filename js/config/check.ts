/**
 * Checking what users pass to `def*` methods, tool options and run configs, at the call that
 * received it: an unknown key is a {@link ConfigError} naming the key and the nearest valid one
 * ("unknown option 'retries' (did you mean 'retry'? known: ...)"); a wrong type names what is
 * expected and what arrived. One checker for every option bag of the package.
 */
import { ConfigError } from '../errors.js';

/** Checks one value: returns nothing when it is acceptable, else what was expected ("a number > 0"). */
export type Check = (value: unknown) => string | undefined;

/** The accepted keys of an option bag and how each value is checked. */
export type Shape = Record<string, Check>;

/** How a value looks in a message: `a string "x"`, `the number 5`, `null`, `an array` ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)}`;
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return String(value);
    case 'function':
      return 'a function';
    case 'bigint':
      return `the bigint ${String(value)}`;
    case 'symbol':
      return 'a symbol';
    default:
      return value instanceof Date ? 'a Date' : 'an object';
  }
}

/** Edit distance between two words, ignoring case (a near miss of a name is usually a typo or a case slip). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      const same = a[i - 1].toLowerCase() === b[j - 1].toLowerCase();
      row[j] = Math.min(above + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n].toLowerCase() === b[n].toLowerCase()) n++;
  return n;
}

/**
 * Option names of older AI SDK versions and the names that took their place: the nearest spelling
 * would point elsewhere (`maxTokens` is nearest to `maxSteps`, a different limit).
 */
const OLDER_AI_SDK_NAMES: Readonly<Record<string, string>> = {
  maxTokens: 'maxOutputTokens',
  experimental_activeTools: 'activeTools',
  experimental_prepareStep: 'prepareStep',
  maxToolRoundtrips: 'stopWhen',
  maxAutomaticRoundtrips: 'stopWhen',
};

/** The known word closest to `word` when it is close enough to be a typo (the engine uses the same rule). */
export function nearest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(word, candidate);
    if (d < bestDistance || (d === bestDistance && best !== undefined && commonPrefix(word, candidate) > commonPrefix(word, best))) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const longest = Math.max(word.length, best.length);
  const contains = word.length > 0 && (best.includes(word) || word.includes(best));
  return bestDistance <= Math.max(2, Math.floor((longest + 1) / 2)) || contains ? best : undefined;
}

/** `unknown option 'x' (did you mean 'y'? known: a, b)`: the message for a key that is not accepted. */
export function unknownKey(noun: string, key: string, known: readonly string[]): string {
  const renamed = OLDER_AI_SDK_NAMES[key];
  const guess = renamed !== undefined && known.includes(renamed) ? renamed : nearest(key, known);
  return `unknown ${noun} '${key}' (${guess ? `did you mean '${guess}'? ` : ''}known: ${known.join(', ') || 'none'})`;
}

/**
 * `unknown state "x" (did you mean "y"? defined with ctx.defState: a, b)`: the message for a
 * reference to a definition that does not exist; `definedWith` says where the known ones come from.
 */
export function unknownName(noun: string, name: string, known: readonly string[], definedWith = 'defined'): string {
  const guess = nearest(name, known);
  return `unknown ${noun} ${JSON.stringify(name)} (${guess ? `did you mean "${guess}"? ` : ''}${definedWith}: ${known.join(', ') || 'none'})`;
}

/** True for a promise or anything else with a `then` method (what `await` waits for). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** True for `{...}` objects (not arrays, class instances like Date, or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an option bag: `undefined` is an empty bag; anything else must be a plain object whose
 * keys are all in `shape` and whose values pass their checks. Returns the bag (typed as given).
 */
export function checkOptions<T>(where: string, value: T, shape: Shape, noun = 'option'): T {
  if (value === undefined) return value;
  if (!isPlainObject(value)) throw new ConfigError(`${where}: expected an options object, got ${describe(value)}`);
  const known = Object.keys(shape);
  for (const [key, v] of Object.entries(value)) {
    const check = shape[key];
    if (!check) throw new ConfigError(`${where}: ${unknownKey(noun, key, known)}`);
    if (v === undefined) continue;
    const expected = check(v);
    if (expected !== undefined) throw new ConfigError(`${where}: '${key}' must be ${expected}, got ${describe(v)}${choiceHint(check, v)}`);
  }
  return value;
}

/** Refuses a config that gives one setting under both of its names (one would be dropped silently). */
export function oneNameOf(where: string, config: object | undefined, name: string, alias: string): void {
  if (config && (config as Record<string, unknown>)[name] !== undefined && (config as Record<string, unknown>)[alias] !== undefined)
    fail(where, `give '${name}' or '${alias}' (two names of one setting), not both`);
}

/** Throws a ConfigError `${where}: ${message}`. */
export function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

// ------------------------------------------------------------------ checks

export const anything: Check = () => undefined;
export const string: Check = (v) => (typeof v === 'string' ? undefined : 'a string');
export const nonEmpty: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string');
export const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
export const func: Check = (v) => (typeof v === 'function' ? undefined : 'a function');
export const object: Check = (v) => (isPlainObject(v) ? undefined : 'an object');
export const stringList: Check = (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0) ? undefined : 'an array of non-empty strings');

/** A finite number in [min, max] (exclusive of 0 when `min` is 0 and `positive`). */
export function number(min: number, max: number, { positive = false } = {}): Check {
  const upTo = max === Infinity ? '' : ` and <= ${max}`;
  const expected = positive ? `a number > 0${upTo}` : max === Infinity ? `a number >= ${min}` : `a number from ${min} to ${max}`;
  return (v) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && !(positive && v === 0) ? undefined : expected);
}

/** An integer in [min, max]. */
export function integer(min: number, max: number): Check {
  return (v) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `an integer from ${min} to ${max}`);
}

/** Milliseconds: a number > 0 (or >= 0) up to 1e12; larger would not be exact on the engine's clock. */
export function ms({ zero = false } = {}): Check {
  return (v) => (typeof v === 'number' && Number.isFinite(v) && (zero ? v >= 0 : v > 0) && v <= 1e12 ? undefined : `a number of milliseconds ${zero ? '>= 0' : '> 0'} (at most 1e12)`);
}

/** One of `choices`. */
export function oneOf(...choices: readonly (string | number | boolean)[]): Check {
  const check: Check = (v) => (choices.includes(v as string) ? undefined : `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  return Object.assign(check, { choices });
}

/** ` (did you mean 'x'?)` when `value` is a near miss of one of `check`'s choices ({@link oneOf}), else ''. */
function choiceHint(check: Check, value: unknown): string {
  const choices = (check as { choices?: readonly unknown[] }).choices;
  if (!choices || typeof value !== 'string') return '';
  const guess = nearest(value, choices.filter((choice): choice is string => typeof choice === 'string'));
  return guess ? ` (did you mean '${guess}'?)` : '';
}

/**
 * Checks the positional choice of a `def*` kind — its strategy, type or kind, as in
 * `defCache(name, 'lru', …)` — against `choices`; `what` names it in the error.
 */
export function checkChoice<C extends string>(where: string, what: string, value: unknown, ...choices: readonly C[]): asserts value is C {
  const check = oneOf(...choices);
  const expected = check(value);
  if (expected !== undefined) fail(where, `the ${what} must be ${expected}, got ${describe(value)}${choiceHint(check, value)}`);
}

/** Any of the checks. */
export function either(...checks: Check[]): Check {
  return (v) => {
    const misses = checks.map((check) => check(v));
    return misses.includes(undefined) ? undefined : misses.join(' or ');
  };
}

/** An array whose items pass `item`; a miss names the first item that does not (and a near choice). */
export function arrayOf(item: Check, what: string): Check {
  return (v) => {
    if (!Array.isArray(v)) return what;
    const at = v.findIndex((x) => item(x) !== undefined);
    return at < 0 ? undefined : `${what} (item ${at} is ${describe(v[at])}${choiceHint(item, v[at])})`;
  };
}

/** `check` with the strings it accepts, for the did-you-mean of a near miss ({@link oneOf}'s are there already). */
export function withChoices(check: Check, choices: readonly string[]): Check {
  return Object.assign(check, { choices });
}

/**
 * HTTP headers as a record: names that are HTTP tokens, values that are Latin-1 strings without CR,
 * LF or NUL (fetch refuses the others only when the request is sent, as a network error). The
 * message names the header, never its value: it may be a key.
 */
export const httpHeaders: Check = (v) => {
  const expected = 'an object of header names to string values';
  if (!isPlainObject(v)) return expected;
  for (const [name, value] of Object.entries(v)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `${expected} (${JSON.stringify(name.slice(0, 60))} is not a header name)`;
    if (typeof value !== 'string') return `${expected} (header '${name}' is not a string)`;
    // fetch drops whitespace around a value, so only a line break or NUL inside one is refused.
    if (/[\r\n\0]/.test(value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''))) return `${expected} (header '${name}' has a line break or NUL in its value, not shown)`;
    if (beyondLatin1(value)) return `${expected} (header '${name}' has a character beyond Latin-1 in its value, not shown: encode it)`;
  }
  return undefined;
};

function beyondLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return true;
  return false;
}

/** A plain object whose every value passes `item` (`what` names the whole, for the error). */
export function recordOf(item: Check, what: string): Check {
  return (v) => (isPlainObject(v) && Object.values(v).every((x) => item(x) === undefined) ? undefined : what);
}
