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

/** A renderer tag found in a value: as written (`</City >`) and its name in lower case. */
export interface TagMention {
  written: string;
  tag: string;
  closing: boolean;
}

const tagPattern = /<(\/?)([A-Za-z_][A-Za-z0-9_.-]*)([ \t]*>)?/g;

/**
 * The first `<name` or `</name` in `value` whose name, compared without case, is in `tags` (lower
 * case), whatever follows the name: the same rule as the engine's renderer (docs/prompt-runs.md).
 */
export function findTag(value: string, tags: ReadonlySet<string>): TagMention | undefined {
  for (const match of value.matchAll(tagPattern)) {
    const tag = (match[2] ?? '').toLowerCase();
    if (tags.has(tag)) return { written: match[0], tag, closing: match[1] === '/' };
  }
  return undefined;
}

/**
 * Throws a ConfigError when `value` contains its own tag, the `<variables>` tag or the `<role>` tag
 * (an assumed role's section), opened or closed in any spelling: it would end its section early or
 * start a fake one. (The engine also checks every value against every other definition's tag when
 * the run starts.)
 */
export function checkValue(name: string, value: string, what: string): string {
  const mention = findTag(value, new Set([name.toLowerCase(), 'variables', 'role']));
  if (!mention) return value;
  if (mention.closing && mention.tag === name.toLowerCase())
    throw new ConfigError(`${what}: the value of "${name}" contains "${mention.written}", which would close its tag early`);
  throw new ConfigError(`${what}: the value of "${name}" contains "${mention.written}", a tag of the system prompt (a value cannot open or close the prompt's sections)`);
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

/** References `defTemplate` returned: a message interpolating one gets a tag that names nothing. */
const templateReferences = new WeakSet<Reference>();

/** Makes the reference of template `name` (a {@link reference} that interpolation refuses). */
export function templateReference(name: string): Reference {
  const ref = reference(name);
  templateReferences.add(ref);
  return ref;
}

/** Whether `value` is a reference `defTemplate` returned. */
export function isTemplateReference(value: unknown): value is Reference {
  return typeof value === 'object' && value !== null && templateReferences.has(value as Reference);
}
