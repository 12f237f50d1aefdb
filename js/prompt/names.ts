/** Definition names and the references `def*` return (DESIGN.md §5). */

const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
import { ConfigError } from '../errors.js';

/** Throws a TypeError naming the bad value unless `name` is a valid definition name. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !namePattern.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : `${typeof name} ${String(name)}`;
    throw new ConfigError(`${what}: invalid name ${shown}; names must match [A-Za-z_][A-Za-z0-9_.-]*`);
  }
  return name;
}

/** Throws a TypeError when `value` would close its own tag early. */
export function checkValue(name: string, value: string, what: string): string {
  if (value.includes(`</${name}>`)) throw new ConfigError(`${what}: the value of "${name}" contains "</${name}>", which would close its tag early`);
  return value;
}

/** What `def`, `defData`, `defSystem`, `defTool` and `defAgent` return: stringifies to `<name>`. */
export interface Reference {
  readonly name: string;
  toString(): string;
}

/** Makes a reference to definition `name`. */
export function reference(name: string): Reference {
  const tag = `<${name}>`;
  return Object.freeze({ name, toString: () => tag, [Symbol.toPrimitive]: () => tag });
}
