/**
 * Tools given in `runPrompt`'s config, as the AI SDK takes them (`tools: { weather: tool({...}) }`,
 * each a {@link PromptTool}): each becomes a `defTool` of the run, defined before the prompt
 * function runs.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { PromptContext, ToolExecute, ToolOptions } from './context.js';

const toolShape: c.Shape = { description: c.string, inputSchema: c.anything, parameters: c.anything, execute: c.func, options: c.object };

/** Defines the config's `tools` on `ctx`, as `defTool` would, checking each first. */
export function defineConfigTools(ctx: PromptContext, tools: unknown, where: string): void {
  if (tools === undefined) return;
  if (!c.isPlainObject(tools)) throw new ConfigError(`${where}: 'tools' must be a record of tools ({name: {description?, inputSchema, execute, options?}}), got ${c.describe(tools)}`);
  for (const [name, definition] of Object.entries(tools)) {
    const at = `${where}: tools.${name}`;
    if (!c.isPlainObject(definition)) throw new ConfigError(`${at}: expected {description?, inputSchema, execute, options?}, got ${c.describe(definition)}`);
    const { description, inputSchema, parameters, execute, options } = c.checkOptions(at, definition, toolShape, 'field') as {
      description?: string;
      inputSchema?: unknown;
      parameters?: unknown;
      execute?: unknown;
      options?: ToolOptions;
    };
    const schema = schemaOnce(at, { inputSchema, parameters }, 'inputSchema');
    if (typeof execute !== 'function') throw new ConfigError(`${at}: 'execute' must be a function, got ${c.describe(execute)}`);
    try {
      ctx.defTool(name, description ?? '', schema, execute as ToolExecute, options);
    } catch (err) {
      // defTool's message, said of the config entry that caused it.
      if (err instanceof ConfigError) throw new ConfigError(`${at}: ${err.message}`);
      throw err;
    }
  }
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
