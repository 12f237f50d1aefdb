/**
 * `validate(schema, value)`: the engine's draft-07 validator from JS. Asynchronous because it runs
 * inside the engine (the JS side never calls into the wasm module directly while its loop runs).
 */
import { defaultEngine } from './default-engine.js';
import type { Engine } from './engine.js';
import * as c from './config/check.js';
import { ConfigError, ProtocolError } from './errors.js';
import { toJsonSchema } from './schema.js';
import { parseValue } from './zod-parse.js';

/** One validation failure: where in the value, where in the schema, and what is wrong. */
export interface ValidationIssue {
  instancePath: string;
  schemaPath: string;
  message: string;
}

/** The validator's verdict. */
export interface ValidationOutcome {
  valid: boolean;
  errors: ValidationIssue[];
}

/**
 * Validates `value` against `schema` (zod or JSON Schema): the schema's JSON Schema, then, for zod,
 * zod's own parse (refinements). Resolves with `{valid, errors}`; rejects with a TypeError when
 * `schema` is not a schema.
 */
export async function validate(schema: unknown, value: unknown, options: { engine?: Engine } = {}): Promise<ValidationOutcome> {
  c.checkOptions('validate()', options, { engine: c.anything });
  const jsonSchema = toJsonSchema(schema, 'validate()');
  const engine = options.engine ?? (await defaultEngine());
  try {
    const outcome = (await engine.request('schema.validate', { schema: jsonSchema, value: value === undefined ? null : value })) as ValidationOutcome;
    if (!outcome.valid) return outcome;
    // A zod schema's own checks (refinements) after its JSON Schema's, as everywhere else.
    const parsed = await parseValue(jsonSchema, value);
    return parsed.ok ? outcome : { valid: false, errors: parsed.issues.map((issue) => ({ ...issue, schemaPath: '' })) };
  } catch (err) {
    if (err instanceof ProtocolError) throw new ConfigError(err.message.replace(/^schema\.validate: /, 'validate(): '));
    throw err;
  }
}
