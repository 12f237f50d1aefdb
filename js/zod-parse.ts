/**
 * zod's own parse of a value the engine has checked against the schema's JSON Schema: what JSON
 * Schema cannot say — refinements, transforms, defaults, coercion — runs as zod runs it, as in the
 * AI SDK. Tool arguments, structured answers and validated values of a schema written with zod
 * reach user code as zod's output.
 *
 * {@link toJsonSchema} remembers which zod schema each JSON Schema it made came from, so the places
 * that hand values to user code need only the JSON Schema they already hold.
 *
 * @module
 */
import { isPlainObject } from './config/check.js';
import { ValidationError } from './errors.js';

/** One refusal of zod's, in the engine's shape (a JSON Pointer to the value, and zod's message). */
export interface ParseIssue {
  instancePath: string;
  message: string;
}

/** zod's verdict on one value: its output, or why it was refused. */
export type ParseOutcome = { ok: true; value: unknown } | { ok: false; issues: ParseIssue[] };

/** The parts of a zod schema (v3.24+, v4, zod/mini: the Standard Schema interface; older v3: `safeParseAsync`) used here. */
interface Parsable {
  '~standard'?: { validate?: (value: unknown) => StandardResult | PromiseLike<StandardResult> };
  safeParseAsync?: (value: unknown) => Promise<{ success: boolean; data?: unknown; error?: { issues: StandardIssue[] } }>;
}
type StandardIssue = { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> };
type StandardResult = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<StandardIssue> };

/** The parse of each JSON Schema made from a zod schema (or given one by {@link rememberParser}). */
const parsers = new WeakMap<object, (value: unknown) => Promise<ParseOutcome>>();

/** @internal Records that `jsonSchema` was made from the zod schema `zod` (called by toJsonSchema). */
export function rememberZodSchema(jsonSchema: object, zod: Parsable): void {
  parsers.set(jsonSchema, (value) => parseWithZod(zod, value));
}

/** @internal Gives `jsonSchema`, made here from zod schemas it contains, its own parse (Output.array's elements). */
export function rememberParser(jsonSchema: object, parse: (value: unknown) => Promise<ParseOutcome>): void {
  parsers.set(jsonSchema, parse);
}

/** Whether values of `jsonSchema` are parsed by zod (it was made from a zod schema). */
export function parsedByZod(jsonSchema: unknown): boolean {
  return typeof jsonSchema === 'object' && jsonSchema !== null && parsers.has(jsonSchema);
}

/** Parses `value` with the zod schema `jsonSchema` was made from; a plain JSON Schema's values come back as they are. */
export function parseValue(jsonSchema: unknown, value: unknown): Promise<ParseOutcome> {
  const parse = typeof jsonSchema === 'object' && jsonSchema !== null ? parsers.get(jsonSchema) : undefined;
  return parse ? parse(value) : Promise.resolve({ ok: true, value });
}

async function parseWithZod(zod: Parsable, value: unknown): Promise<ParseOutcome> {
  const validate = zod['~standard']?.validate;
  if (typeof validate === 'function') {
    const result = await validate(value);
    return result.issues ? { ok: false, issues: result.issues.map(toIssue) } : { ok: true, value: inJsonOrder(result.value, value) };
  }
  const result = await zod.safeParseAsync!(value);
  return result.success ? { ok: true, value: inJsonOrder(result.data, value) } : { ok: false, issues: (result.error?.issues ?? []).map(toIssue) };
}

/**
 * zod's output with the members in the JSON's order (zod builds objects in the schema's order;
 * lmthing keeps the model's), and a `__proto__` member put back where zod's assignment dropped it.
 * Only plain objects are rebuilt; what a transform made of another kind is left as it is.
 */
function inJsonOrder(output: unknown, json: unknown): unknown {
  if (Array.isArray(output)) return Array.isArray(json) && json.length === output.length ? output.map((item, i) => inJsonOrder(item, json[i])) : output;
  if (!isPlainObject(output) || !isPlainObject(json)) return output;
  const ordered: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => Object.defineProperty(ordered, key, { value, enumerable: true, writable: true, configurable: true });
  for (const key of Object.keys(json)) {
    if (Object.hasOwn(output, key)) put(key, inJsonOrder(output[key], json[key]));
    else if (key === '__proto__') put(key, json[key]);
  }
  for (const key of Object.keys(output)) if (!Object.hasOwn(ordered, key)) put(key, output[key]);
  return ordered;
}

/**
 * {@link parseValue}, throwing a `ValidationError` when zod refuses the value: its message is
 * `refused` (e.g. `tool "search": the arguments do not match the schema`), then zod's issues.
 */
export async function parsedOrThrow(jsonSchema: unknown, value: unknown, refused: string): Promise<unknown> {
  const outcome = await parseValue(jsonSchema, value);
  if (outcome.ok) return outcome.value;
  throw new ValidationError(`${refused}: ${describeIssues(outcome.issues)}`, outcome.issues.map((i) => ({ ...i, schemaPath: '' })));
}

/** The engine's wording of a list of issues: `/a/0: message; (root): message`. */
export function describeIssues(issues: ParseIssue[]): string {
  return issues.map((i) => `${i.instancePath === '' ? '(root)' : i.instancePath}: ${i.message}`).join('; ');
}

function toIssue(issue: StandardIssue): ParseIssue {
  const segments = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p));
  return { instancePath: segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''), message: issue.message };
}

/**
 * The engine callback behind a response schema's `responseCheck` (a reply's `check`): the engine
 * calls it with an answer its JSON Schema accepted, and it answers `null` or zod's refusals, which
 * go back to the model as the schema's own do.
 */
export function answerCheck(jsonSchema: object): (value: unknown) => Promise<{ errors: ParseIssue[] } | null> {
  return async (value) => {
    const outcome = await parseValue(jsonSchema, value);
    return outcome.ok ? null : { errors: outcome.issues };
  };
}
