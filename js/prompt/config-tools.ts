/**
 * Tools given in `runPrompt`'s config, as the AI SDK takes them (`tools: { weather: tool({...}) }`,
 * each a {@link PromptTool}): each becomes a `defTool` of the run, defined before the prompt
 * function runs.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import { toJsonSchema } from '../schema.js';
import { parseValue } from '../zod-parse.js';
import type { DefinitionContext } from '../definitions/context.js';
import type { ToolPolicyOptions } from '../definitions/tool-options.js';
import type { NeedsApproval, PromptContext, ToolExecute, ToolOptions } from './context.js';
import { checkToolApproval, toolApprovalGuards, type ToolApprovalConfiguration } from './tool-approval.js';

const toolShape: c.Shape = {
  description: c.string,
  inputSchema: c.anything,
  parameters: c.anything,
  execute: c.func,
  options: c.object,
  needsApproval: c.either(c.boolean, c.func),
};

/** Defines the config's `tools` on `ctx`, as `defTool` would, checking each first; `toolApproval` decides their approvals (tool-approval.ts). */
export function defineConfigTools(ctx: PromptContext, tools: unknown, where: string, toolApproval?: ToolApprovalConfiguration): void {
  if (tools === undefined) {
    if (toolApproval !== undefined) throw new ConfigError(`${where}: 'toolApproval' decides about the config's 'tools', and it has none`);
    return;
  }
  if (!c.isPlainObject(tools)) throw new ConfigError(`${where}: 'tools' must be a record of tools ({name: {description?, inputSchema, execute, options?}}), got ${c.describe(tools)}`);
  checkToolApproval(toolApproval, Object.keys(tools), where);
  for (const [name, definition] of Object.entries(tools)) {
    const at = `${where}: tools.${name}`;
    if (!c.isPlainObject(definition)) throw new ConfigError(`${at}: expected {description?, inputSchema, execute, options?}, got ${c.describe(definition)}`);
    const { description, inputSchema, parameters, execute, options, needsApproval } = c.checkOptions(at, definition, toolShape, 'field') as {
      description?: string;
      inputSchema?: unknown;
      parameters?: unknown;
      execute?: unknown;
      options?: ToolOptions;
      needsApproval?: NeedsApproval<unknown>;
    };
    const schema = schemaOnce(at, { inputSchema, parameters }, 'inputSchema');
    if (execute === undefined) {
      defineCallerTool(ctx, name, description, schema, { options, needsApproval, toolApproval }, at);
      continue;
    }
    if (typeof execute !== 'function') throw new ConfigError(`${at}: 'execute' must be a function, got ${c.describe(execute)}`);
    try {
      const approved =
        toolApproval !== undefined
          ? { ...options, ...decidedApprovalOptions(ctx, name, schema, needsApproval, toolApproval, options, at) }
          : needsApproval === undefined || needsApproval === false
            ? options
            : { ...options, ...approvalOptions(ctx, name, schema, needsApproval, options, at) };
      ctx.defTool(name, description ?? '', schema as object, execute as ToolExecute, approved); // defTool checks it is a schema
    } catch (err) {
      // defTool's message, said of the config entry that caused it.
      if (err instanceof ConfigError) throw new ConfigError(`${at}: ${err.message}`);
      throw err;
    }
  }
}

/**
 * A tool without `execute`: the engine runs nothing of it (no call options, no approval), so its
 * calls end the run pending and the caller answers them in the next run's messages.
 */
function defineCallerTool(
  ctx: PromptContext,
  name: string,
  description: string | undefined,
  schema: unknown,
  policies: { options?: ToolOptions; needsApproval?: unknown; toolApproval?: ToolApprovalConfiguration },
  at: string,
): void {
  const without = "has no 'execute', so the run's caller executes it and the run applies no";
  if (policies.options !== undefined) throw new ConfigError(`${at}: ${without} call options; remove 'options' or give 'execute'`);
  if (policies.needsApproval !== undefined) throw new ConfigError(`${at}: ${without} approval; remove 'needsApproval' or give 'execute'`);
  const approval = policies.toolApproval;
  if (c.isPlainObject(approval) && Object.hasOwn(approval, name))
    throw new ConfigError(`${at}: ${without} approval; remove its 'toolApproval' entry or give 'execute'`);
  ctx.defCallerTool(name, description ?? '', schema);
}

/**
 * The AI SDK's `needsApproval` as lmthing's call options: an approval (`needsApproval.NAME`) the
 * call waits for, every time (`true`) or when a guard of the function says so (`prompt-user`). The
 * function gets the arguments as `execute` does (zod's output for a zod schema).
 */
export function approvalOptions(ctx: DefinitionContext, name: string, schema: unknown, needsApproval: NeedsApproval<unknown>, options: ToolPolicyOptions | undefined, at: string): ToolPolicyOptions {
  if (options?.approval !== undefined) throw new ConfigError(`${at}: give 'needsApproval' or 'options.approval', not both`);
  const approval = `needsApproval.${name}`;
  ctx.defApproval(approval, {});
  if (typeof needsApproval !== 'function') return { approval };
  const decide = needsApproval;
  const jsonSchema = toJsonSchema(schema, `${at}: inputSchema`);
  ctx.defGuard(
    approval,
    async (context: { args: unknown; toolCallId: string }) => {
      const parsed = await parseValue(jsonSchema, context.args);
      // Arguments zod refuses are the tool's error: no approval is asked for a call that will not run.
      if (!parsed.ok) return true;
      return !(await decide(parsed.value, { toolCallId: context.toolCallId }));
    },
    { onFail: 'prompt-user', approval },
  );
  return { guards: [...(options?.guards ?? []), approval] };
}

/** A tool's call options under `toolApproval`: its two guards (tool-approval.ts), after the tool's own. */
function decidedApprovalOptions(
  ctx: DefinitionContext,
  name: string,
  schema: unknown,
  needsApproval: NeedsApproval<unknown> | undefined,
  toolApproval: ToolApprovalConfiguration,
  options: ToolPolicyOptions | undefined,
  at: string,
): ToolPolicyOptions {
  if (options?.approval !== undefined) throw new ConfigError(`${at}: 'toolApproval' decides its approvals, so it cannot have 'options.approval' too`);
  const jsonSchema = toJsonSchema(schema, `${at}: inputSchema`);
  const guards = toolApprovalGuards(ctx, name, toolApproval, {
    needsApproval: async (input, call) => (typeof needsApproval === 'function' ? Boolean(await needsApproval(input, call)) : needsApproval === true),
    parse: (args) => parseValue(jsonSchema, args),
  });
  return { guards: [...(options?.guards ?? []), ...guards] };
}

/**
 * The schema of a tool definition that gives it as `inputSchema` or `parameters`, exactly once;
 * `named` is the name the message suggests first (each kind of run names its own first).
 */
export function schemaOnce(at: string, tool: { inputSchema?: unknown; parameters?: unknown }, named: 'inputSchema' | 'parameters'): unknown {
  if ((tool.inputSchema === undefined) === (tool.parameters === undefined)) {
    const other = named === 'inputSchema' ? 'parameters' : 'inputSchema';
    throw new ConfigError(`${at}: give the arguments' schema once, as '${named}' (or '${other}')`);
  }
  return tool.inputSchema ?? tool.parameters;
}
