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

/** Whether `part` ends the root run's current step (its `step-finish`, or the run's end). */
function endsStep(part: StreamPart): boolean {
  return part.type === 'finish' || part.type === 'error' || (part.type === 'step-finish' && part.path.length === 1);
}

/**
 * The partial values of the answers in `parts` (a run's `fullStream`), each a fresh object, as
 * `view` shows them (an `output`'s: `complete` at a step's end); a value the view gives as
 * `undefined`, or as it gave last time, is left out.
 */
export async function* partialObjects(
  parts: AsyncIterable<StreamPart>,
  view: (value: unknown, complete: boolean) => unknown = (value) => value,
): AsyncGenerator<unknown, void, undefined> {
  let step: number | undefined;
  let text = '';
  let parsedLength = 0;
  let last: string | undefined;
  const next = (final: boolean): unknown => {
    parsedLength = text.length;
    // At a step's end, a trailing number or word is complete: a newline ends it as JSON would.
    const parsed = parsePartialJson(final ? `${text}\n` : text);
    if (parsed === undefined) return undefined;
    const shown = view(parsed.value, final);
    if (shown === undefined) return undefined;
    const key = JSON.stringify(shown);
    if (key === last) return undefined;
    last = key;
    return shown;
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
    } else if (text.length > 0 && endsStep(part)) {
      // The step's answer is complete: what was left unparsed is parsed, and its text let go.
      value = next(true);
      text = '';
      parsedLength = 0;
    }
    if (value !== undefined) yield value;
  }
}
