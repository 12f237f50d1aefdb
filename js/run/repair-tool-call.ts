/**
 * The AI SDK's `repairToolCall`: a chance to mend a tool call the model got wrong — a tool it was
 * not offered, or arguments that do not parse or do not fit the tool's schema — before the error
 * goes back to the model. The engine asks (src/agent/agent_loop.cpp, `repaired`); this module
 * gives the user's function the AI SDK's arguments and checks its answer.
 *
 * @module
 */
import * as c from '../config/check.js';
import type { Message } from '../providers/types.js';
import { InvalidToolInputError, NoSuchToolError } from '../errors.js';

/**
 * What went wrong with the call: an unknown tool, or input that is not JSON or does not fit the
 * schema. Its `message` is what the model would otherwise get as the call's result.
 */
export type ToolCallRepairError = NoSuchToolError | InvalidToolInputError;

/** What `repairToolCall` is given. */
export interface ToolCallRepairInput {
  /** The call as the model made it; `input` is its arguments as JSON text. */
  toolCall: { type: 'tool-call'; toolCallId: string; toolName: string; input: string };
  /** The tools offered at this step, by name. */
  tools: Record<string, { description: string; inputSchema: Record<string, unknown> }>;
  /** The JSON Schema of a tool offered at this step (the AI SDK's helper). */
  inputSchema: (tool: { toolName: string }) => Record<string, unknown> | undefined;
  error: ToolCallRepairError;
  /** The conversation the model answered (without the system prompt). */
  messages: Message[];
  /** The step's system prompt, if any. */
  system: string | undefined;
  stepNumber: number;
}

/** The mended call (`input` as JSON text or an object), or null to leave it (its error goes to the model). */
export type ToolCallRepair = { toolName: string; input: string | Record<string, unknown> } | null | undefined;

/** A `repairToolCall` function: may be async. */
export type RepairToolCall = (input: ToolCallRepairInput) => ToolCallRepair | Promise<ToolCallRepair>;

interface EngineRequest {
  stepNumber: number;
  toolCall: { toolCallId: string; toolName: string; input: string };
  error: { type: ToolCallRepairError['type']; message: string };
  tools: ToolCallRepairInput['tools'];
  system: string | null;
  messages: Message[];
}

/** The engine callback behind `repairToolCall`: the AI SDK's arguments in, `{toolName, input}` or null out. */
export function repairCallback(repair: RepairToolCall): (request: EngineRequest) => Promise<{ toolName: string; input: unknown } | null> {
  return async ({ stepNumber, toolCall, error, tools, system, messages }) => {
    const fixed = await repair({
      toolCall: { type: 'tool-call', ...toolCall },
      tools,
      inputSchema: ({ toolName }) => tools[toolName]?.inputSchema,
      error:
        error.type === 'no-such-tool'
          ? new NoSuchToolError(error.message, toolCall.toolName, Object.keys(tools))
          : new InvalidToolInputError(error.message, toolCall.toolName, toolCall.input),
      messages,
      system: system ?? undefined,
      stepNumber,
    });
    if (fixed === null || fixed === undefined) return null;
    const ok = c.isPlainObject(fixed) && typeof fixed.toolName === 'string' && (typeof fixed.input === 'string' || c.isPlainObject(fixed.input));
    if (!ok) c.fail('repairToolCall', `must return {toolName, input} (input: JSON text or an object) or null, got ${c.describe(fixed)}`);
    return { toolName: fixed.toolName, input: fixed.input };
  };
}
