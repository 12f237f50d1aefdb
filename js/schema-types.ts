/**
 * Types derived from schemas at compile time: what a tool's `execute` receives, what
 * `L.reply(schema).value` holds, what a validator checks. zod (v3 and v4) carries its type in
 * `_output`; a JSON Schema written `as const` is read by {@link FromJsonSchema}. A schema whose
 * shape TypeScript cannot see (a JSON Schema object that is not `as const`, a value typed
 * `unknown`) gives the JSON types below, which allow property access but not unchecked calls.
 *
 * @module
 */

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;

/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;

/** A JSON object: `args.path` is a {@link JsonValue}; narrow it (or give a typed schema) before use. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * The TypeScript type of the values a JSON Schema written `as const` accepts. Reads `const`,
 * `enum`, `anyOf`/`oneOf`, `type` (one name or an array of names: string, number, integer, boolean,
 * null, array with `items`, object with `properties` and `required`). Anything else is `unknown`;
 * a schema whose `type` was widened to `string` (not `as const`) gives {@link JsonValue}.
 */
export type FromJsonSchema<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly anyOf: readonly (infer A)[] }
      ? FromJsonSchema<A>
      : S extends { readonly oneOf: readonly (infer A)[] }
        ? FromJsonSchema<A>
        : S extends { readonly type: infer T }
          ? T extends readonly (infer U)[]
            ? FromTypeName<S, U>
            : FromTypeName<S, T>
          : S extends { readonly properties: object }
            ? FromObject<S>
            : unknown;

/** One `type` name of schema `S`; a widened `string` (schema not `as const`) is a JsonValue. */
type FromTypeName<S, T> = string extends T
  ? JsonValue
  : T extends 'string'
    ? string
    : T extends 'number' | 'integer'
      ? number
      : T extends 'boolean'
        ? boolean
        : T extends 'null'
          ? null
          : T extends 'array'
            ? FromArray<S>
            : T extends 'object'
              ? FromObject<S>
              : unknown;

type FromArray<S> = S extends { readonly items: infer I }
  ? I extends readonly unknown[]
    ? { -readonly [K in keyof I]: FromJsonSchema<I[K]> }
    : FromJsonSchema<I>[]
  : JsonValue[];

type RequiredKeys<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type FromObject<S> = S extends { readonly properties: infer P }
  ? string extends keyof P
    ? JsonObject
    : Simplify<
        { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromJsonSchema<P[K]> } & {
          -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromJsonSchema<P[K]>;
        }
      >
  : JsonObject;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The type of the values schema `S` gives user code: a zod schema's output type (v3 and v4,
 * including zod/mini: zod parses the value, so transforms, defaults and `z.coerce.date()` show as
 * zod makes them), the type of the AI SDK's `jsonSchema<T>()` wrapper, a JSON Schema's type by {@link FromJsonSchema}, and {@link JsonValue} when
 * neither says anything (a JSON Schema that is not `as const`, a schema typed `unknown`).
 */
export type Infer<S> = S extends { readonly _output: infer O }
  ? O
  : S extends { readonly _zod: { readonly output: infer O } }
    ? O
    : S extends AiSdkSchema<infer T>
      ? T
      : OrJson<FromJsonSchema<S>>;

/** The AI SDK's schema wrapper (`jsonSchema<T>({...})`, `zodSchema(z)` from 'ai'): its `_type` is the value's type. */
type AiSdkSchema<T> = { readonly _type: T; readonly jsonSchema: unknown };

/**
 * The type of the JSON schema `S` accepts before zod parses it: a zod schema's input type (what a
 * structured answer still streaming is made of), otherwise {@link Infer}.
 */
export type InferInput<S> = S extends { readonly _input: infer I }
  ? I
  : S extends { readonly _zod: { readonly input: infer I } }
    ? I
    : S extends AiSdkSchema<infer T>
      ? T
      : OrJson<FromJsonSchema<S>>;

type OrJson<T> = unknown extends T ? JsonValue : T;

/**
 * The arguments a tool or agent defined with schema `S` receives: {@link Infer}, or a
 * {@link JsonObject} when the schema's type is not known (tool arguments are always an object).
 */
export type ArgsOf<S> = JsonValue extends Infer<S> ? JsonObject : Infer<S>;

/**
 * The arguments of a call of a tool defined with schema `S` as the model wrote them, before zod
 * parsed them ({@link InferInput}): what a run's `toolCalls` hold and `experimental_refineToolInput` gets.
 */
export type InputArgsOf<S> = JsonValue extends InferInput<S> ? JsonObject : InferInput<S>;

/**
 * What a structured answer still streaming may hold (`result.partialObjectStream`): every member of
 * every object optional, at any depth; arrays hold the items so far.
 */
export type DeepPartial<T> = T extends readonly (infer E)[] ? Array<DeepPartial<E>> : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A callback type whose parameters are checked both ways (like a method's), so a callback may
 * annotate its parameter with a narrower type than the schema gives (`(args: {path: string}) => …`
 * where the schema is an untyped JSON Schema), while an annotation that cannot match is an error.
 */
export type Bivariant<Args extends unknown[], R> = { bivarianceHack(...args: Args): R }['bivarianceHack'];
