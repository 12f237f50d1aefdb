/**
 * The one deliberate `any` of the public API.
 *
 * @module
 */

/**
 * A value the engine hands to user code as decoded JSON whose shape only the user's schema or call
 * knows: tool arguments, guard and validator inputs, approval and interaction contexts, the
 * arguments of a raw engine callback.
 *
 * It is `any` on purpose. TypeScript cannot derive a type from a JSON Schema given at run time, and
 * `unknown` would make every unannotated callback a type error (`({ path }) => path.startsWith('.env')`,
 * `(c) => c.args.path`). Annotate the parameter (`(args: { path: string }) => …`) to have it checked.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- runtime-shaped JSON: unannotated callbacks must be able to destructure it (see above)
export type DynamicJson = any;
