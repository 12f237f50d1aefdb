/**
 * The value the beginning of a JSON text holds so far, for structured answers that are still
 * streaming (`result.partialObjectStream`). A string cut short counts with the characters it has;
 * a number, `true`, `false` or `null` cut short, an object key without its value and an escape
 * cut short are left out until they are complete, so a partial value never holds a digit or a
 * word the answer will not have. A leading Markdown fence (```` ```json ````) is skipped, as the
 * engine's own parse of the answer skips it.
 *
 * @module
 */

/** What a value parsed so far holds: `value` is `undefined` while nothing of it can be shown. */
interface Parsed {
  value: unknown;
  complete: boolean;
}

/** The text is not the beginning of a JSON value. */
const INVALID = Symbol('invalid');

/**
 * Objects and arrays nested deeper than this are not shown (the parser recurses per level): the
 * engine's own limit on values (docs/limits.md) refuses such an answer anyway.
 */
const MAX_DEPTH = 1000;

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NUMBER_CHARS = /[-+.eE0-9]/;
const NUMBER_PREFIX = /^-?(?:0|[1-9]\d*)?(?:\.\d*)?(?:[eE][+-]?\d*)?$/;
const STRING_STOP = /["\\]/g;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const FENCE = /^\s*```[A-Za-z]*[ \t]*\r?\n/;

/**
 * Parses as much of `text` as makes a value: `{value}` with what the prefix holds (objects and
 * arrays with their complete members and the member in progress), or `undefined` when the text
 * does not start a JSON value or holds nothing showable yet. Text after a complete value is ignored.
 */
export function parsePartialJson(text: string): { value: unknown } | undefined {
  const parser = new PartialParser(text, FENCE.exec(text)?.[0].length ?? 0);
  const parsed = parser.value();
  return parsed === INVALID || parsed.value === undefined ? undefined : { value: parsed.value };
}

/** A string cut short without the first half of a surrogate pair whose second half is still to come. */
function withoutHalfPair(value: string): string {
  const last = value.charCodeAt(value.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? value.slice(0, -1) : value;
}

class PartialParser {
  private depth = 0;

  constructor(
    private readonly text: string,
    private at: number,
  ) {}

  value(): Parsed | typeof INVALID {
    this.skipSpace();
    if (this.atEnd) return { value: undefined, complete: false };
    const c = this.text[this.at];
    if (c === '{' || c === '[') {
      if (this.depth >= MAX_DEPTH) return INVALID;
      this.depth++;
      const parsed = c === '{' ? this.object() : this.array();
      this.depth--;
      return parsed;
    }
    if (c === '"') return this.string();
    if (c === 't') return this.word('true', true);
    if (c === 'f') return this.word('false', false);
    if (c === 'n') return this.word('null', null);
    return this.number();
  }

  private get atEnd(): boolean {
    return this.at >= this.text.length;
  }

  private skipSpace(): void {
    while (!this.atEnd && ' \t\r\n'.includes(this.text[this.at])) this.at++;
  }

  private object(): Parsed | typeof INVALID {
    this.at++; // {
    const object: Record<string, unknown> = {};
    const partial = { value: object, complete: false };
    for (let first = true; ; first = false) {
      this.skipSpace();
      if (this.atEnd) return partial;
      if (this.text[this.at] === '}' && first) {
        this.at++;
        return { value: object, complete: true };
      }
      if (this.text[this.at] !== '"') return INVALID;
      const key = this.string();
      if (key === INVALID) return INVALID;
      if (!key.complete) return partial;
      this.skipSpace();
      if (this.atEnd) return partial;
      if (this.text[this.at] !== ':') return INVALID;
      this.at++;
      const member = this.value();
      if (member === INVALID) return INVALID;
      // defineProperty: a "__proto__" key is a member, as JSON.parse makes it, not the prototype.
      if (member.value !== undefined) Object.defineProperty(object, key.value as string, { value: member.value, enumerable: true, writable: true, configurable: true });
      if (!member.complete) return partial;
      this.skipSpace();
      if (this.atEnd) return partial;
      const next = this.text[this.at++];
      if (next === '}') return { value: object, complete: true };
      if (next !== ',') return INVALID;
    }
  }

  private array(): Parsed | typeof INVALID {
    this.at++; // [
    const array: unknown[] = [];
    const partial = { value: array, complete: false };
    for (let first = true; ; first = false) {
      this.skipSpace();
      if (this.atEnd) return partial;
      if (this.text[this.at] === ']' && first) {
        this.at++;
        return { value: array, complete: true };
      }
      const item = this.value();
      if (item === INVALID) return INVALID;
      if (item.value !== undefined) array.push(item.value);
      if (!item.complete) return partial;
      this.skipSpace();
      if (this.atEnd) return partial;
      const next = this.text[this.at++];
      if (next === ']') return { value: array, complete: true };
      if (next !== ',') return INVALID;
    }
  }

  private string(): Parsed | typeof INVALID {
    this.at++; // "
    let value = '';
    for (;;) {
      STRING_STOP.lastIndex = this.at;
      const stop = STRING_STOP.exec(this.text);
      if (!stop) {
        value += this.text.slice(this.at);
        this.at = this.text.length;
        return { value: withoutHalfPair(value), complete: false };
      }
      value += this.text.slice(this.at, stop.index);
      this.at = stop.index + 1;
      if (stop[0] === '"') return { value, complete: true };
      // An escape; one cut short is left out until the rest arrives.
      if (this.atEnd) return { value: withoutHalfPair(value), complete: false };
      const kind = this.text[this.at];
      if (kind === 'u') {
        const hex = this.text.slice(this.at + 1, this.at + 5);
        if (!/^[0-9a-fA-F]*$/.test(hex)) return INVALID;
        if (hex.length < 4) {
          this.at = this.text.length;
          return { value: withoutHalfPair(value), complete: false };
        }
        value += String.fromCharCode(parseInt(hex, 16));
        this.at += 5;
        continue;
      }
      const escaped = ESCAPES[kind];
      if (escaped === undefined) return INVALID;
      value += escaped;
      this.at++;
    }
  }

  private word(word: string, value: boolean | null): Parsed | typeof INVALID {
    if (this.text.startsWith(word, this.at)) {
      this.at += word.length;
      return { value, complete: true };
    }
    const rest = this.text.slice(this.at);
    if (rest.length < word.length && word.startsWith(rest)) {
      this.at = this.text.length;
      return { value: undefined, complete: false };
    }
    return INVALID;
  }

  private number(): Parsed | typeof INVALID {
    let end = this.at;
    while (end < this.text.length && NUMBER_CHARS.test(this.text[end])) end++;
    const digits = this.text.slice(this.at, end);
    // A number that reaches the end of the text may have more digits to come.
    if (end >= this.text.length) {
      if (!NUMBER_PREFIX.test(digits)) return INVALID;
      this.at = end;
      return { value: undefined, complete: false };
    }
    if (!NUMBER.test(digits)) return INVALID;
    this.at = end;
    return { value: Number(digits), complete: true };
  }

}
