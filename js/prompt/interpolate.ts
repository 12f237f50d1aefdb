/**
 * The text a value interpolated into a message template (`ctx.$`, `L.user` …) becomes: the value
 * as JS writes it (`String(value)`: a reference is `<name>`, a message its text). An object that
 * would be written `[object Object]` is refused: the model would get that instead of the value.
 */
import { ConfigError } from '../errors.js';

/** `value` as text for the template of `where` (its `index`-th interpolation). */
export function interpolated(value: unknown, where: string, index: number): string {
  let text: string;
  try {
    text = String(value);
  } catch {
    throw refused(where, index, 'an object with no text form (no toString)');
  }
  if (text === '[object Object]' && typeof value === 'object') throw refused(where, index, 'an object, which would be sent as "[object Object]"');
  return text;
}

function refused(where: string, index: number, what: string): ConfigError {
  return new ConfigError(
    `${where}: interpolated value #${index + 1} is ${what}; interpolate JSON.stringify(value) or the fields you mean (or give the data with defData)`,
  );
}
