/**
 * `defTemplate` as a definition kind (docs/templates-roles-plugins.md): the text and its typed
 * variables are checked at the call; the engine parses and renders (`template.render`), so a
 * template renders the same whether the prompt function or a tool of the live run asks.
 */
import * as c from '../config/check.js';
import type { Reference } from '../prompt/names.js';
import type { DefinitionKind } from './kind.js';

/** One declared variable of a template: its type, and a default (without one it is required). */
export type TemplateVariable =
  | { readonly type: 'string'; readonly default?: string; readonly description?: string }
  | { readonly type: 'number'; readonly default?: number; readonly description?: string }
  | { readonly type: 'boolean'; readonly default?: boolean; readonly description?: string }
  | { readonly type: 'enum'; readonly values: readonly (string | number)[]; readonly default?: string | number; readonly description?: string };

/** The declared variables of a template, by name. */
export type TemplateVariables = Readonly<Record<string, TemplateVariable>>;

/** A value for a template variable (placeholders no variable declares take any of these, as text). */
export type TemplateValue = string | number | boolean;

/** The TypeScript type of one declared variable's value. */
export type TemplateValueOf<V> = V extends { type: 'string' }
  ? string
  : V extends { type: 'number' }
    ? number
    : V extends { type: 'boolean' }
      ? boolean
      : V extends { type: 'enum'; values: readonly (infer E)[] }
        ? E
        : TemplateValue;

/**
 * The values `useTemplate` takes for a template declared with variables `V`: each declared variable
 * without a default is required, every value has its declared type (enum: one of its values), and
 * placeholders the template does not declare take any {@link TemplateValue}.
 */
export type TemplateValues<V extends TemplateVariables> = { [K in keyof V as V[K] extends { default: unknown } ? never : K]: TemplateValueOf<V[K]> } & {
  [K in keyof V as V[K] extends { default: unknown } ? K : never]?: TemplateValueOf<V[K]>;
} & Record<string, TemplateValue>;

/** What `defTemplate` returns: a reference that also carries the variables' types for `useTemplate`. */
export interface TemplateRef<V extends TemplateVariables = TemplateVariables> extends Reference {
  /** Type-level only: the declared variables. */
  readonly variables?: V;
}

/** What `defTemplate` keeps. */
export interface StoredTemplate {
  text: string;
  variables: Record<string, TemplateVariable>;
}

const variableShape: c.Shape = {
  type: c.oneOf('string', 'number', 'boolean', 'enum'),
  values: c.anything,
  default: c.anything,
  description: c.string,
};

const valueChecks: Record<TemplateVariable['type'], (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  enum: () => true,
};

function checkVariable(where: string, declaration: unknown): TemplateVariable {
  if (!c.isPlainObject(declaration)) c.fail(where, `expected {type, default?, values?}, got ${c.describe(declaration)}`);
  const v: Record<string, unknown> = c.checkOptions(where, declaration, variableShape, 'field');
  const type = (v.type ?? 'string') as TemplateVariable['type'];
  if (type === 'enum') {
    const values = v.values;
    if (!Array.isArray(values) || values.length === 0 || !values.every((x) => typeof x === 'string' || typeof x === 'number'))
      c.fail(where, 'an enum needs "values": a non-empty array of strings or numbers');
    const twice = values.findIndex((x, i) => values.indexOf(x) !== i);
    if (twice >= 0) c.fail(where, `values[${twice}] (${JSON.stringify(values[twice])}) is listed twice; each value must be distinct`);
    if (v.default !== undefined && !values.includes(v.default as string | number))
      c.fail(where, `the default must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${c.describe(v.default)}`);
  } else {
    if (v.values !== undefined) c.fail(where, '"values" applies to type "enum" only');
    if (v.default !== undefined && !valueChecks[type](v.default)) c.fail(where, `the default must be a ${type}, got ${c.describe(v.default)}`);
  }
  return { ...v, type } as TemplateVariable;
}

export const templateKind: DefinitionKind<unknown, StoredTemplate> = {
  kind: 'template',
  noun: 'template',
  method: 'defTemplate',
  check(where, text, variables) {
    if (typeof text !== 'string') c.fail(where, `the template must be a string, got ${c.describe(text)}`);
    if (variables !== undefined && !c.isPlainObject(variables)) c.fail(where, `variables must be an object ({name: {type, default?, values?}}), got ${c.describe(variables)}`);
    const checked: Record<string, TemplateVariable> = {};
    for (const [name, declaration] of Object.entries(variables ?? {})) {
      // A name no placeholder can spell would make every render fail as "required".
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) c.fail(where, `variable ${JSON.stringify(name)}: a placeholder name must match [A-Za-z_][A-Za-z0-9_.-]*`);
      checked[name] = checkVariable(`${where} variable "${name}"`, declaration);
    }
    return { text, variables: checked };
  },
  wire({ text, variables }) {
    return { text, variables };
  },
};
