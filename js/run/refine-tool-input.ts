/**
 * The AI SDK 7's `experimental_refineToolInput` as the host answers it, for prompt runs and
 * directive replies alike: the engine's `refine_tool_input` step seam sends a valid call of a named
 * tool (src/agent/refine_tool_input.cpp) and gets the arguments to run it with.
 *
 * @module
 */

/** `experimental_refineToolInput` as the host holds it: a refinement per tool name. */
export type RefineToolInput = Record<string, (input: never) => unknown>;

/** The engine callback behind it: `{toolName, input}` → the refined arguments (or their promise). */
export function refineCallback(refiners: RefineToolInput): (request: { toolName: string; input: unknown }) => unknown {
  return ({ toolName, input }) => (refiners[toolName] as (input: unknown) => unknown)(input);
}
