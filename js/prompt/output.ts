/**
 * The AI SDK's `Output` helpers for `runPrompt({ output })`: what the final answer is — text, an
 * object, an array of elements, one of a few choices, or any JSON. Each becomes the run's response
 * schema (checked by the engine, refused answers sent back to the model, zod's parse included), and
 * says what `result.output` (also `result.object`) and `result.partialOutputStream` give.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { DeepPartial, Infer, InferInput, JsonValue } from '../schema-types.js';
import { toJsonSchema } from '../schema.js';
import { parsedByZod, parseValue, rememberParser, type ParseIssue, type ParseOutcome } from '../zod-parse.js';

/** @internal How a run carries out an {@link OutputSpec}. */
export interface OutputPlan {
  /** The response schema, or none for text. */
  schema?: Record<string, unknown>;
  name?: string;
  description?: string;
  /** The output from the validated (and zod-parsed) answer. */
  extract: (value: unknown) => unknown;
  /** The partial output from the answer's partial JSON (`complete` at a step's end); undefined shows nothing. */
  partial: (value: unknown, complete: boolean) => unknown;
  /** An array's element parse (`elementStream`): zod's for a zod element, the JSON as it is otherwise. */
  element?: (value: unknown) => Promise<ParseOutcome>;
}

/**
 * What `runPrompt({ output })` asks for: made by {@link Output}'s helpers. `OUTPUT` is the type of
 * `result.output`, `PARTIAL` that of `result.partialOutputStream`'s values.
 */
export interface OutputSpec<OUTPUT = unknown, PARTIAL = unknown> {
  readonly type: 'text' | 'object' | 'array' | 'choice' | 'json';
  /** @internal */
  readonly plan: OutputPlan;
  /** Carries the types only; never set. */
  readonly '~types'?: { output: OUTPUT; partial: PARTIAL };
}

/** The name and description some providers pass on with the schema (OpenAI's `json_schema`). */
export interface OutputNaming {
  /** `[A-Za-z0-9_-]`, at most 64 characters. */
  name?: string;
  description?: string;
}

const namingShape: c.Shape = {
  name: (v) => (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? undefined : 'a name of 1 to 64 letters, digits, _ or -'),
  description: c.string,
};

/** The answer is text (the default): `result.output` is the text; the run has no object. */
function text(): OutputSpec<never, never> {
  return { type: 'text', plan: { extract: (value) => value, partial: () => undefined } };
}

/** The answer is an object of `schema` (zod or JSON Schema): `result.output` is it, zod's output for a zod schema. */
function object<S>(options: { schema: S } & OutputNaming): OutputSpec<Infer<S>, DeepPartial<InferInput<S>>> {
  const { schema, name, description } = checked('Output.object()', options, { schema: c.anything, ...namingShape }, 'schema');
  const jsonSchema = toJsonSchema(schema, 'Output.object(): schema');
  return { type: 'object', plan: { schema: jsonSchema, name, description, extract: (value) => value, partial: (value) => value } };
}

/**
 * The answer is a list of `element`s (zod or JSON Schema): `result.output` is the array. The model
 * answers `{"elements": [...]}`; while it streams, `partialOutputStream` gives the elements that are
 * complete so far.
 */
function array<S>(options: { element: S; minItems?: number; maxItems?: number } & OutputNaming): OutputSpec<Array<Infer<S>>, Array<InferInput<S>>> {
  const where = 'Output.array()';
  const { element, minItems, maxItems, name, description } = checked(where, options, { element: c.anything, minItems: c.integer(0, 1e9), maxItems: c.integer(0, 1e9), ...namingShape }, 'element');
  if (minItems !== undefined && maxItems !== undefined && minItems > maxItems) throw new ConfigError(`${where}: minItems (${minItems}) is above maxItems (${maxItems})`);
  const elements = (value: unknown): unknown[] | undefined => (c.isPlainObject(value) && Array.isArray(value.elements) ? value.elements : undefined);
  const items = toJsonSchema(element, `${where}: element`);
  const list = { type: 'array', items, ...(minItems === undefined ? {} : { minItems }), ...(maxItems === undefined ? {} : { maxItems }) };
  const wrapper = { type: 'object', properties: { elements: list }, required: ['elements'], additionalProperties: false };
  // zod parses each element, its issues placed under /elements/i.
  if (parsedByZod(items)) rememberParser(wrapper, (value) => parseEach(items, elements(value) ?? []));
  return {
    type: 'array',
    plan: {
      schema: wrapper,
      name,
      description,
      extract: (value) => elements(value),
      partial: (value, complete) => {
        const list = elements(value);
        return list === undefined ? undefined : complete ? list : list.slice(0, -1);
      },
      element: (value) => parseValue(items, value),
    },
  };
}

/** The answer is one of `options`: `result.output` is the chosen string. */
function choice<CHOICE extends string>(options: { options: readonly CHOICE[] } & OutputNaming): OutputSpec<CHOICE, CHOICE> {
  const where = 'Output.choice()';
  const { options: choices, name, description } = checked(where, options, { options: c.arrayOf(c.string, 'an array of strings'), ...namingShape }, 'options');
  if (choices.length === 0) throw new ConfigError(`${where}: options must hold at least one choice`);
  const distinct = [...new Set(choices)];
  const chosen = (value: unknown): unknown => (c.isPlainObject(value) ? value.result : undefined);
  return {
    type: 'choice',
    plan: {
      schema: { type: 'object', properties: { result: { type: 'string', enum: distinct } }, required: ['result'], additionalProperties: false },
      name,
      description,
      extract: chosen,
      // While it streams: the one choice the text so far can still become.
      partial: (value, complete) => {
        const soFar = chosen(value);
        if (typeof soFar !== 'string') return undefined;
        const matching = distinct.filter((option) => (complete ? option === soFar : option.startsWith(soFar)));
        return matching.length === 1 ? matching[0] : undefined;
      },
    },
  };
}

/** The answer is any JSON value (the provider's JSON mode, no schema): `result.output` is it. */
function json(options: OutputNaming = {}): OutputSpec<JsonValue, JsonValue> {
  const { name, description } = c.checkOptions('Output.json()', options, namingShape);
  return { type: 'json', plan: { schema: {}, name, description, extract: (value) => value, partial: (value) => value } };
}

/** The AI SDK's output helpers for `runPrompt({ output })`: `Output.object({ schema })`, `Output.array({ element })`, `Output.choice({ options })`, `Output.json()`, `Output.text()`. */
export const Output = { text, object, array, choice, json };

/**
 * `elementStream`: each element of an array output once, as soon as it is complete (and, for a zod
 * element, zod accepts it), from the lists `partialOutputStream` gives. An element zod refuses
 * holds the stream there: the whole answer is refused and the model's next answer continues it
 * from that index (elements already given are not taken back).
 */
export async function* completeElements(lists: AsyncIterable<unknown>, parse: (value: unknown) => Promise<ParseOutcome>): AsyncGenerator<unknown, void, undefined> {
  let given = 0;
  for await (const list of lists) {
    if (!Array.isArray(list)) continue;
    while (given < list.length) {
      const outcome = await parse(list[given]);
      if (!outcome.ok) break;
      yield outcome.value;
      given++;
    }
  }
}

/** `options` checked against `shape`, with `required` given. */
function checked<T extends object>(where: string, options: T, shape: c.Shape, required: keyof T & string): T {
  if (options === undefined) throw new ConfigError(`${where}: expected an options object with '${required}', got undefined`);
  c.checkOptions(where, options, shape);
  if ((options as Record<string, unknown>)[required] === undefined) throw new ConfigError(`${where}: '${required}' is required`);
  return options;
}

async function parseEach(items: object, list: unknown[]): Promise<ParseOutcome> {
  const issues: ParseIssue[] = [];
  const parsed: unknown[] = [];
  for (const [i, item] of list.entries()) {
    const outcome = await parseValue(items, item);
    if (outcome.ok) parsed.push(outcome.value);
    else issues.push(...outcome.issues.map((issue) => ({ ...issue, instancePath: `/elements/${i}${issue.instancePath}` })));
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { elements: parsed } };
}

/** Whether `value` was made by one of {@link Output}'s helpers. */
export function isOutputSpec(value: unknown): value is OutputSpec {
  return c.isPlainObject(value) && typeof value.type === 'string' && c.isPlainObject(value.plan) && typeof value.plan.extract === 'function';
}
