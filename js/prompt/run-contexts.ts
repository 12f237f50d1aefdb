/**
 * The AI SDK's contexts of a `runPrompt` run: `experimental_context` (the AI SDK 5/6's, handed to
 * every tool), `toolsContext` (the AI SDK 7's, one value per tool name) and `runtimeContext` (the
 * AI SDK 7's, for the run's callbacks). They are the host's: the engine never sees them, tools
 * read them when they run, and `prepareStep` may replace them for the steps after it.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { HookInput, HookResult } from './context.js';

/** The run config's contexts. */
export interface RunContextOptions {
  /**
   * The AI SDK 5/6's `experimental_context`: every tool's `execute` (the run's and its sub-agents')
   * gets it as `experimental_context`, and `prepareStep` too, which may return a new one for the
   * steps after it.
   */
  experimental_context?: unknown;
  /**
   * The AI SDK 7's `toolsContext`: `{[toolName]: value}`; that tool's `execute` gets its value as
   * `context` (the run's own tools; a sub-agent's tools get none). `prepareStep` may return a new `toolsContext` for the steps after it.
   */
  toolsContext?: Record<string, unknown>;
  /**
   * The AI SDK 7's `runtimeContext`: `prepareStep`, `onStart` and `onStepStart` get it; `prepareStep`
   * may return a new one for the steps after it. Treat it as immutable (replace it, do not change it).
   */
  runtimeContext?: unknown;
}

/** `runPrompt`'s `prepareStep`: a hook that also gets the run's contexts and may return new ones. */
export type PrepareStep = (input: HookInput & RunContextOptions) => (HookResult & RunContextOptions) | void | undefined | Promise<(HookResult & RunContextOptions) | void | undefined>;

/** The shape of {@link RunContextOptions}. */
export const runContextShape: c.Shape = {
  experimental_context: c.anything,
  toolsContext: c.object,
  runtimeContext: c.anything,
};

const FIELDS = ['experimental_context', 'toolsContext', 'runtimeContext'] as const;

/** The contexts of one run tree, as they are now. */
export class RunContexts {
  private current: RunContextOptions;

  /** `toolNames`: the run's tools, which `toolsContext` may name. */
  constructor(
    options: RunContextOptions,
    private readonly toolNames: readonly string[],
    private readonly durable: boolean,
  ) {
    this.current = this.checked(options, 'runPrompt config');
  }

  /** What a tool's `execute` gets; `ownTool`: one of the root run's (a sub-agent's tools get no `toolsContext`). */
  forTool(name: string, ownTool: boolean): { context: unknown; experimental_context: unknown } {
    return { context: ownTool ? this.current.toolsContext?.[name] : undefined, experimental_context: this.current.experimental_context };
  }

  /** The contexts as `prepareStep` and the start callbacks see them (the fields set only). */
  view(): RunContextOptions {
    const out: RunContextOptions = {};
    for (const field of FIELDS) if (this.current[field] !== undefined) out[field] = this.current[field] as never;
    return out;
  }

  /** Takes the contexts `prepareStep` returned out of its changes (the rest is the step's). */
  take(changes: unknown, label: string): unknown {
    if (!c.isPlainObject(changes) || !FIELDS.some((field) => field in changes)) return changes;
    // A durable run's replay answers prepareStep from its journal: a context it set would be lost.
    if (this.durable) throw new ConfigError(`${label} returned a context: a durable run's contexts cannot change (its replay answers ${label} from the journal without calling it)`);
    const rest = { ...changes };
    const next: RunContextOptions = { ...this.current };
    for (const field of FIELDS) {
      if (!(field in rest)) continue;
      next[field] = rest[field] as never;
      delete rest[field];
    }
    this.current = this.checked(next, `${label} returned`);
    return rest;
  }

  private checked(options: RunContextOptions, where: string): RunContextOptions {
    const tools = options.toolsContext;
    if (tools !== undefined) {
      if (!c.isPlainObject(tools)) throw new ConfigError(`${where}: toolsContext must be an object ({toolName: context}), got ${c.describe(tools)}`);
      for (const name of Object.keys(tools))
        if (!this.toolNames.includes(name)) throw new ConfigError(`${where}: toolsContext: ${c.unknownName('tool', name, this.toolNames, 'defined tools')}`);
    }
    return options;
  }
}
