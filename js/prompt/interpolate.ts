/**
 * The text a value interpolated into a message template (`ctx.$`, `L.user` …) becomes: the value
 * as JS writes it (`String(value)`: a reference is `<name>`, a message its text). An object that
 * would be written `[object Object]` (or `[object Map]` …), alone or inside an array, is refused:
 * the model would get that instead of the value.
 */
import { ConfigError } from '../errors.js';
import { isTemplateReference } from './names.js';

/** `value` as text for the template of `where` (its `index`-th interpolation). */
export function interpolated(value: unknown, where: string, index: number): string {
  if (isTemplateReference(value))
    throw new ConfigError(
      `${where}: interpolated value #${index + 1} is the reference of template "${value.name}", which would be sent as "${String(value)}" and name nothing; render it first (\${await ctx.renderTemplate(ref)}) or add it with ctx.useTemplate(ref)`,
    );
  let text: string;
  try {
    text = String(value);
  } catch {
    throw refused(where, index, 'an object with no text form (no toString)');
  }
  if (writtenAsPlaceholder(value)) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw refused(where, index, `${Array.isArray(value) ? 'an array holding objects' : 'an object'}, which would be sent as "${shown}"`);
  }
  return text;
}

const DEFAULT_TEXT = /^\[object [A-Za-z]+\]$/;

/** Whether `value` (or an element of it, for an array) is an object with no text form of its own. */
function writtenAsPlaceholder(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(writtenAsPlaceholder);
  try {
    // Its text is what is being checked: whether it is the default one.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return DEFAULT_TEXT.test(String(value));
  } catch {
    return true;
  }
}

function refused(where: string, index: number, what: string): ConfigError {
  return new ConfigError(
    `${where}: interpolated value #${index + 1} is ${what}; interpolate JSON.stringify(value) or the fields you mean (or give the data with defData)`,
  );
}
