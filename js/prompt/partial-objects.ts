/**
 * `result.partialObjectStream`: a run's structured answer as it streams. Each step's text is parsed
 * as partial JSON (js/prompt/partial-json.ts) and a value is given out whenever it differs from
 * the last one; a new step starts over, since its answer replaces the last (a tool round, or an
 * answer the response schema refused and the model gives again).
 *
 * @module
 */
import { parsePartialJson } from './partial-json.js';
import type { StreamPart } from './result.js';

/**
 * The text is parsed again once it has grown by this fraction since the last parse: every delta
 * of a short answer, and a bounded total (about 17 times the text) for a long one, which parsing
 * after each delta would make quadratic.
 */
const REPARSE_GROWTH = 1 / 16;

/** The partial values of the answers in `parts` (a run's `fullStream`), each a fresh object. */
export async function* partialObjects(parts: AsyncIterable<StreamPart>): AsyncGenerator<unknown, void, undefined> {
  let step: number | undefined;
  let text = '';
  let parsedLength = 0;
  let last: string | undefined;
  const next = (final: boolean): unknown => {
    parsedLength = text.length;
    // At a step's end, a trailing number or word is complete: a newline ends it as JSON would.
    const parsed = parsePartialJson(final ? `${text}\n` : text);
    if (parsed === undefined) return undefined;
    const key = JSON.stringify(parsed.value);
    if (key === last) return undefined;
    last = key;
    return parsed.value;
  };
  for await (const part of parts) {
    let value: unknown;
    if (part.type === 'text-delta') {
      if (part.stepNumber !== step) {
        step = part.stepNumber;
        text = '';
        parsedLength = 0;
        last = undefined;
      }
      text += part.text;
      if (text.length - parsedLength < parsedLength * REPARSE_GROWTH) continue;
      value = next(false);
    } else if (part.type !== 'reasoning-delta' && text.length > 0) {
      // Any other part ends a run of deltas (a step's end, the run's): what was left unparsed is parsed.
      value = next(true);
    }
    if (value !== undefined) yield value;
  }
}
