/**
 * The `ctx` a prompt function receives: it collects definitions (systems, variables, messages,
 * tools, agents, hooks, plugins, and every policy definition of {@link DefinitionContext}).
 * Nothing runs until the engine starts the run; bad input is a ConfigError (a TypeError) at the call
 * that made it, naming the bad value and what is expected.
 */
import type { SchemaLike } from '../schema.js';
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import { DefinitionContext, templateName } from '../definitions/context.js';
import type { TemplateRef, TemplateValue, TemplateValues, TemplateVariables } from '../definitions/template.js';
import type { WorkflowToolConfig } from '../definitions/workflow.js';
import type { Engine } from '../engine.js';
import { PluginSet, type PluginApi, type PluginMethod } from './plugins.js';
import type { Resources } from '../definitions/resource.js';
import { toolPolicyShape, type IdempotenceOption, type ToolPolicyOptions } from '../definitions/tool-options.js';
import type { LanguageModel, Message } from '../providers/types.js';
import type { StepCallSettings } from '../run/step-changes.js';
import { toJsonSchema } from '../schema.js';
import type { ArgsOf, Bivariant, JsonObject } from '../schema-types.js';
import { unserializable } from '../storage/checks.js';
import { interpolated } from './interpolate.js';
import { checkName, checkValue, reference, type Reference } from './names.js';
import type { ToolTrace } from '../observe/tracing.js';

/** The second argument of a tool's `execute`. */
export interface ToolContext {
  toolCallId: string;
  /** Aborted when the run is cancelled or the call times out. */
  abortSignal: AbortSignal;
  /** The conversation so far, including the assistant turn that made this call. */
  messages: Message[];
  /** Spans of your own under this call's span (`trace.startSpan(name)`); non-recording when the run has no `defTracing`. */
  trace: ToolTrace;
  /** The run's `defResource` values and `defResourcePool`s. */
  resources: Resources;
  /** This tool's value in the run's `toolsContext` (the AI SDK 7's), if any. */
  context: unknown;
  /** The run's `experimental_context` (the AI SDK 5/6's), if any. */
  experimental_context: unknown;
}

/**
 * A tool implementation: its return value (object → JSON, string → text) is what the model sees.
 * `Args` is inferred from the tool's schema ({@link ArgsOf}).
 */
export type ToolExecute<Args = JsonObject> = Bivariant<[args: Args, context: ToolContext], unknown>;

/** @deprecated Use {@link ToolPolicyOptions}. */
export type CallPolicyOptions = Pick<ToolPolicyOptions, 'retry' | 'fallback' | 'circuitBreaker' | 'timeout'>;

/**
 * Options of `defTool`: the call pipeline's options ({@link ToolPolicyOptions}: retry, fallback,
 * circuitBreaker, timeout, approval, guards, validator, retryOnFailure, maxRetries) and lmthing's
 * per-tool callbacks (a non-undefined return replaces the input, or the output).
 */
export interface ToolOptions<Args = JsonObject> extends ToolPolicyOptions, IdempotenceOption {
  beforeCall?: Bivariant<[input: Args, context: ToolContext], unknown>;
  onSuccess?: Bivariant<[input: Args, output: unknown], unknown>;
  onError?: Bivariant<[input: Args, error: unknown], unknown>;
}

/** Options of `defAgent`: the call pipeline's options plus the child's model and prompt. */
export interface AgentOptions extends ToolPolicyOptions {
  /** The child's model; the parent's by default. */
  model?: string | LanguageModel;
  /** A system prompt for the child (rendered as the system definition `system`). */
  system?: string;
  /** The child's final text is parsed as JSON and validated (asked again when it does not match); the parent gets the object. zod or JSON Schema. */
  responseSchema?: object | boolean;
  /** How many times a refused answer goes back to the child before the call fails (default 2); needs `responseSchema`. */
  responseSchemaRetries?: number;
}

const toolOptionsShape: c.Shape = { ...toolPolicyShape, beforeCall: c.func, onSuccess: c.func, onError: c.func, idempotent: c.boolean };
const agentOptionsShape: c.Shape = { ...toolPolicyShape, model: c.anything, system: c.string, responseSchema: c.anything, responseSchemaRetries: c.integer(0, 100) };

/** Checks an agent's options when it is defined, its response schema included (not first when the model calls it). */
function checkAgentOptions(where: string, name: string, options: AgentOptions | undefined): void {
  c.checkOptions(where, options, agentOptionsShape);
  if (options?.responseSchema !== undefined) toJsonSchema(options.responseSchema, `agent "${name}" responseSchema`);
  else if (options?.responseSchemaRetries !== undefined) throw new ConfigError(`${where}: "responseSchemaRetries" needs "responseSchema" (it counts the answers a response schema refuses)`);
}

/** A child agent's configuration function: it defines the child's prompt on `child`. */
export type AgentConfigure<Args = JsonObject> = Bivariant<[args: Args, child: PromptContext], unknown>;

/** One member of a composite tool, made with {@link tool}. */
export interface SubTool {
  kind: 'tool';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  execute: ToolExecute;
}

/** One member of a composite agent, made with {@link agent}. */
export interface SubAgent {
  kind: 'agent';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  configure: AgentConfigure;
  options: AgentOptions;
}

/** A tool as collected: a single implementation, a composite, or an agent. */
export type ToolDefinition =
  | { kind: 'tool'; name: string; description: string; parameters: Record<string, unknown>; execute: ToolExecute; options: ToolOptions }
  | { kind: 'agent'; name: string; description: string; parameters: Record<string, unknown>; configure: AgentConfigure; options: AgentOptions }
  | { kind: 'composite'; name: string; description: string; parameters: Record<string, unknown>; members: Array<SubTool | SubAgent>; options: ToolOptions }
  /** A config tool without `execute`: the run's caller executes its calls (the AI SDK's client-side tools). */
  | { kind: 'caller'; name: string; description: string; parameters: Record<string, unknown>; options: ToolOptions };

/** What a hook receives before every step (`stepNumber` counts from 0). */
export interface HookInput {
  stepNumber: number;
  messages: Message[];
  steps: unknown[];
  lastToolCall: { toolCallId: string; toolName: string; args: unknown } | null;
}

/**
 * What a hook may change, for that step only: the step's system prompt, messages, tools, tool
 * choice and model, and its call settings (`temperature`, `maxOutputTokens` ... over the run's;
 * `providerOptions` merged over the run's).
 */
export interface HookResult extends StepCallSettings {
  system?: string;
  /** The AI SDK 7's name of `system` (give one of the two). */
  instructions?: string;
  /** The order this step's tools are sent in, in place of the run's `toolOrder` (the AI SDK 7's). */
  toolOrder?: string[];
  messages?: Message[];
  activeTools?: string[];
  activeSystems?: string[];
  activeVariables?: string[];
  toolChoice?: unknown;
  model?: unknown;
}

/** A hook: called before every step; may return overrides for that step. */
export type Hook = (input: HookInput) => HookResult | void | undefined | Promise<HookResult | void | undefined>;

/**
 * A plugin object (`defPlugin`): `install(ctx, api)` adds definitions (and, through `api`, methods
 * and interceptors) before the prompt function's; `uninstall(ctx)` runs when the run ends (also when
 * it fails, or when an install failed).
 */
export interface PromptPluginObject {
  name: string;
  /** A semantic version (`1.2.3`); the same plugin name with another version is a conflict. */
  version: string;
  install: (ctx: PromptContext, api: PluginApi) => void | Promise<void>;
  uninstall?: (ctx: PromptContext) => void | Promise<void>;
}

/** @internal Everything a prompt function defined besides policy definitions. */
export interface CollectedPrompt {
  systems: Map<string, string>;
  variables: Map<string, { text: string } | { data: string }>;
  messages: Message[];
  tools: Map<string, ToolDefinition>;
  hooks: Hook[];
  plugins: PluginSet<PromptContext>;
  /** Plugin installs and template renders still running (awaited before the run starts). */
  installs: Promise<void>[];
  /** The role the run starts with (`assumeRole` before the run). */
  role?: string;
}

const collections = new WeakMap<PromptContext, CollectedPrompt>();
const engines = new WeakMap<PromptContext, Engine>();

/** @internal The engine the run of `ctx` will use (templates render there before the run starts). */
export function bindEngine(ctx: PromptContext, engine: Engine): void {
  engines.set(ctx, engine);
}

/** @internal What `ctx` collected. */
export function collectedOf(ctx: PromptContext): CollectedPrompt {
  return collections.get(ctx)!;
}

/**
 * A system part's or a variable's name is its tag in the prompt: not the one the renderer writes
 * around the variables, and one section per tag (tags match without case). The same name of the
 * same kind replaces that value in its place.
 */
function checkTag(ctx: PromptContext, name: string, method: string, kind: 'systems' | 'variables'): void {
  const tag = name.toLowerCase();
  if (tag === 'variables') throw new ConfigError(`${method}("${name}"): <variables> is the section the renderer writes around the variables; give the definition another name`);
  const collected = collectedOf(ctx);
  for (const [other, map] of [['system part', collected.systems], ['variable', collected.variables]] as const)
    for (const taken of map.keys())
      if (taken.toLowerCase() === tag && (taken !== name || map !== collected[kind]))
        throw new ConfigError(`${method}("${name}"): the ${other} "${taken}" has the tag <${taken}> already (tags match without case), and one tag is one section; give this one another name`);
}

interface PromptToolBase<S> {
  description?: string;
  /**
   * Gets the validated arguments (typed by the schema) and the call's context; returns the result.
   * Without it the run's caller executes the tool, as the AI SDK's client-side tools: a call of it
   * ends the run with the call pending (`finishReason` `'tool-calls'`), and the next run gets its
   * result in `messages` (docs/prompt-runs.md, "Tools the caller executes"). Such a tool takes no
   * `options` and no `needsApproval`.
   */
  execute?: ToolExecute<ArgsOf<S>>;
  /** The call options of `defTool` (approval, guards, validator, retry, fallback, timeout, idempotent ...). */
  options?: ToolOptions<ArgsOf<S>>;
  /** The AI SDK's approval switch ({@link NeedsApproval}). */
  needsApproval?: NeedsApproval<ArgsOf<S>>;
}

/**
 * The AI SDK's approval switch on a tool: `true`, or a function of the arguments that says whether
 * this call needs one. The call then waits for the run's `onApproval` handler (approve or deny), as
 * a tool with `options.approval` does.
 */
export type NeedsApproval<Args = JsonObject> = boolean | Bivariant<[input: Args, call: { toolCallId: string }], boolean | PromiseLike<boolean>>;

/** A tool's argument schema (zod or JSON Schema), given once: as `inputSchema`, the AI SDK's name, or as `parameters`, its older one. */
export type SchemaOnce<S> = { inputSchema: S; parameters?: never } | { parameters: S; inputSchema?: never };

/** A tool of `runPrompt`'s `tools`. */
export type PromptTool<S = unknown> = PromptToolBase<S> & SchemaOnce<S>;

/**
 * `tool({inputSchema, execute})` types a tool of `runPrompt`'s `tools` by its schema and returns it
 * as it is (the AI SDK's `tool()`; without `execute`, a tool the run's caller executes, for
 * `runPrompt` only); `tool(name, description, schema, execute)` makes a member of a composite tool:
 * `defTool(name, description, [tool(...), tool(...)])`.
 */
export function tool<S>(definition: PromptTool<S>): PromptTool<S>;
export function tool<S extends SchemaLike>(name: string, description: string, schema: S, execute: ToolExecute<ArgsOf<S>>): SubTool;
export function tool(...args: unknown[]): PromptTool | SubTool {
  if (args.length === 1 && c.isPlainObject(args[0])) return args[0] as unknown as PromptTool;
  const [name, description, schema, execute] = args as [string, string, unknown, ToolExecute];
  checkName(name, 'tool()');
  if (typeof execute !== 'function') throw new ConfigError(`tool("${name}"): execute must be a function, got ${c.describe(execute)}`);
  return { kind: 'tool', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `tool "${name}" parameters`), execute: execute };
}

/** Makes a member of a composite agent: `defAgent(name, description, [agent(...), agent(...)])`. */
export function agent<S extends SchemaLike>(name: string, description: string, schema: S, configure: AgentConfigure<ArgsOf<S>>, options: AgentOptions = {}): SubAgent {
  checkName(name, 'agent()');
  if (typeof configure !== 'function') throw new ConfigError(`agent("${name}"): the configure function must be a function, got ${c.describe(configure)}`);
  checkAgentOptions(`agent("${name}")`, name, options);
  return { kind: 'agent', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `agent "${name}" parameters`), configure: configure as AgentConfigure, options };
}

/** The `ctx` of `runPrompt(fn)`. */
export class PromptContext extends DefinitionContext {
  constructor() {
    super();
    collections.set(this, { systems: new Map(), variables: new Map(), messages: [], tools: new Map(), hooks: [], plugins: new PluginSet(), installs: [] });
  }

  /** Defines a system section `<name>\n{value}\n</name>`; redefining keeps its first position. */
  defSystem(name: string, value: string): Reference {
    checkName(name, 'defSystem');
    checkTag(this, name, 'defSystem', 'systems');
    this.checkCollecting(`defSystem("${name}")`);
    collectedOf(this).systems.set(name, checkValue(name, requireString(value, `defSystem("${name}")`), 'defSystem'));
    return reference(name);
  }

  /** Defines a text variable rendered as `<name>\n{value}\n</name>` inside `<variables>`. */
  def(name: string, value: string): Reference {
    checkName(name, 'def');
    checkTag(this, name, 'def', 'variables');
    this.checkCollecting(`def("${name}")`);
    collectedOf(this).variables.set(name, { text: checkValue(name, requireString(value, `def("${name}")`), 'def') });
    return reference(name);
  }

  /** Defines a data variable rendered as YAML (block style) inside `<variables>`. */
  defData(name: string, value: unknown): Reference {
    checkName(name, 'defData');
    checkTag(this, name, 'defData', 'variables');
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new ConfigError(`defData("${name}"): the value cannot be serialized: ${unserializable(value) || (err as Error).message}`, { cause: err });
    }
    if (text === undefined) throw new ConfigError(`defData("${name}"): expected JSON-like data, got ${c.describe(value)}`);
    // Its strings (keys too) appear in the JSON text as written: a tag among them is refused now, as def's.
    checkValue(name, text, 'defData');
    this.checkCollecting(`defData("${name}")`);
    collectedOf(this).variables.set(name, { data: text });
    return reference(name);
  }

  /** Appends a message (`user`, `assistant` or `system`) to the conversation. */
  defMessage(role: 'user' | 'assistant' | 'system', content: string): void {
    if (role !== 'user' && role !== 'assistant' && role !== 'system')
      throw new ConfigError(`defMessage: role must be "user", "assistant" or "system", got ${c.describe(role)}`);
    this.checkCollecting('defMessage', MESSAGE_HINT);
    collectedOf(this).messages.push({ role, content: requireString(content, `defMessage("${role}")`) });
  }

  /**
   * Appends a user message. A tagged template (references interpolate as `<name>`) or a plain
   * string: `` ctx.$`Weather in ${city}?` `` or `ctx.$('Weather in Paris?')`.
   */
  $(strings: TemplateStringsArray | string, ...values: unknown[]): void {
    let text: string;
    if (typeof strings === 'string') {
      if (values.length > 0) throw new ConfigError('ctx.$: called with a string and extra arguments; use a template (ctx.$`...${value}`) or one string');
      text = strings;
    } else if (isTemplate(strings) && strings.length === values.length + 1) {
      text = strings[0] ?? '';
      values.forEach((value, i) => {
        text += interpolated(value, 'ctx.$', i) + (strings[i + 1] ?? '');
      });
    } else {
      throw new ConfigError(`ctx.$: expected a tagged template (ctx.$\`...\`) or a string, got ${c.describe(strings)}`);
    }
    this.checkCollecting('ctx.$', MESSAGE_HINT);
    collectedOf(this).messages.push({ role: 'user', content: text });
  }

  /**
   * Renders template `template` (a `defTemplate` reference or name) with `values` in the engine and
   * appends the text as a user message, in the position of this call; resolves with the text. Bad
   * values reject with a `TemplateError` (so does the run, if the promise is not awaited). While the
   * run is live (inside tools and hooks) it only renders: the conversation belongs to the engine then.
   */
  useTemplate<V extends TemplateVariables>(template: TemplateRef<V>, values: TemplateValues<V>): Promise<string>;
  useTemplate(template: string, values?: Record<string, TemplateValue>): Promise<string>;
  useTemplate(template: string | TemplateRef, values: Record<string, TemplateValue> = {}): Promise<string> {
    const name = templateName(template, 'useTemplate');
    if (this.isLive()) return this.renderIn(name, values, 'useTemplate');
    this.checkCollecting('useTemplate', ' (ctx.renderTemplate renders without adding a message)');
    const rendered = this.renderIn(name, values, 'useTemplate');
    const message: Message = { role: 'user', content: '' };
    collectedOf(this).messages.push(message);
    const filled = rendered.then((text) => {
      message.content = text;
    });
    // Awaited before the run starts; handled here so an unawaited failure is the run's, not the process's.
    filled.catch(() => {});
    collectedOf(this).installs.push(filled);
    return rendered;
  }

  /** @internal A role assumed in the prompt function is the one the run starts with. */
  protected override startingRole(name: string): void {
    collectedOf(this).role = name;
  }

  /** @internal `def` and `defData` values, for `{{name}}` placeholders. */
  protected override templateReferences(): Record<string, unknown> {
    return Object.fromEntries(collectedOf(this).variables);
  }

  /** @internal The run's engine, once runPrompt knows it. */
  protected override templateEngine(): Promise<Engine> {
    const engine = engines.get(this);
    return engine ? Promise.resolve(engine) : super.templateEngine();
  }

  /** @internal A config tool without `execute` (config-tools.ts): the engine hands its calls to the run's caller. */
  defCallerTool(name: string, description: string, schema: unknown): void {
    checkName(name, 'tools');
    this.checkCollecting(`tools.${name}`);
    this.checkUnique(name);
    collectedOf(this).tools.set(name, { kind: 'caller', name, description, parameters: toJsonSchema(schema, `tool "${name}" parameters`), options: {} });
  }

  /** @internal A workflow with `tool` is a tool whose call runs it and answers its output. */
  protected override exposeWorkflow(name: string, tool: WorkflowToolConfig): void {
    const parameters = tool.parameters ?? { type: 'object', properties: {}, additionalProperties: true };
    this.defTool(name, tool.description ?? `Runs workflow "${name}"`, parameters, async (args: unknown) => (await this.runWorkflow(name, args)).output);
  }

  /**
   * Defines a tool. `schema` is zod or JSON Schema; `execute(args, {toolCallId, abortSignal, messages})`.
   * Composite form: `defTool(name, description, [tool(...), ...])` takes `{calls: [{name, args}]}` and
   * returns `{results: [{name, result} | {name, error}]}`.
   */
  defTool(name: string, description: string, members: readonly (SubTool | SubAgent)[], options?: ToolOptions): Reference;
  defTool<S extends SchemaLike>(name: string, description: string, schema: S, execute: ToolExecute<ArgsOf<S>>, options?: ToolOptions<ArgsOf<S>>): Reference;
  defTool(name: string, description: string, schema: unknown, execute?: ToolExecute | ToolOptions, options: ToolOptions = {}): Reference {
    checkName(name, 'defTool');
    this.checkCollecting(`defTool("${name}")`);
    this.checkUnique(name);
    if (Array.isArray(schema)) {
      const members = checkMembers(name, schema, 'tool');
      const compositeOptions = c.checkOptions(`defTool("${name}")`, (execute as ToolOptions | undefined) ?? {}, toolOptionsShape);
      collectedOf(this).tools.set(name, { kind: 'composite', name, description: String(description ?? ''), parameters: compositeSchema(members), members, options: compositeOptions });
      return reference(name);
    }
    if (typeof execute !== 'function') throw new ConfigError(`defTool("${name}"): execute must be a function, got ${c.describe(execute)}`);
    c.checkOptions(`defTool("${name}")`, options, toolOptionsShape);
    collectedOf(this).tools.set(name, { kind: 'tool', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `tool "${name}" parameters`), execute, options });
    return reference(name);
  }

  /**
   * Defines a sub-agent, offered to the model as a tool. `configure(args, child)` defines the child's
   * prompt; the child runs its own step loop. Composite form with `[agent(...), ...]`.
   */
  defAgent(name: string, description: string, members: readonly (SubTool | SubAgent)[]): Reference;
  defAgent<S extends SchemaLike>(name: string, description: string, schema: S, configure: AgentConfigure<ArgsOf<S>>, options?: AgentOptions): Reference;
  defAgent(name: string, description: string, schema: unknown, configure?: AgentConfigure | AgentOptions, options: AgentOptions = {}): Reference {
    checkName(name, 'defAgent');
    this.checkCollecting(`defAgent("${name}")`);
    this.checkUnique(name);
    if (Array.isArray(schema)) {
      const members = checkMembers(name, schema, 'agent');
      collectedOf(this).tools.set(name, { kind: 'composite', name, description: String(description ?? ''), parameters: compositeSchema(members), members, options: {} });
      return reference(name);
    }
    if (typeof configure !== 'function') throw new ConfigError(`defAgent("${name}"): the configure function must be a function, got ${c.describe(configure)}`);
    checkAgentOptions(`defAgent("${name}")`, name, options);
    collectedOf(this).tools.set(name, { kind: 'agent', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `agent "${name}" parameters`), configure, options });
    return reference(name);
  }

  /** Adds a hook called before every step. */
  defHook(hook: Hook): void {
    if (typeof hook !== 'function') throw new ConfigError(`defHook: expected a function, got ${c.describe(hook)}`);
    this.checkCollecting('defHook');
    collectedOf(this).hooks.push(hook);
  }

  /**
   * Installs a plugin: a function of `ctx`, or `{name, version, install(ctx, api), uninstall?(ctx)}`
   * (a {@link PromptPluginObject}). `install` runs now: it may call every def*, and add methods and
   * interceptors through `api` ({@link PluginApi}); its promise is awaited before the run starts.
   * `uninstall` runs when the run ends however it ends (also when an install failed), the last
   * installed first. A second plugin of the same name is a `ConfigError` (a version conflict when
   * its version differs).
   */
  defPlugin(name: string, plugin: PromptPluginObject | ((ctx: PromptContext, api: PluginApi) => void | Promise<void>)): Promise<void> {
    checkName(name, 'defPlugin');
    this.checkCollecting(`defPlugin("${name}")`);
    const object = typeof plugin === 'function' ? { name, version: '0.0.0', install: plugin } : plugin;
    const installed = collectedOf(this).plugins.install(this, name, object);
    installed.catch(() => {}); // awaited before the run starts: an unawaited failure is the run's, not the process's
    collectedOf(this).installs.push(installed);
    return installed;
  }

  /** The methods plugins added, by plugin: `ctx.plugins.<plugin>.<method>(...)`. */
  get plugins(): Readonly<Record<string, Readonly<Record<string, PluginMethod>>>> {
    return collectedOf(this).plugins.namespaces();
  }

  private checkUnique(name: string): void {
    if (collectedOf(this).tools.has(name)) throw new ConfigError(`a tool or agent named "${name}" is already defined`);
  }
}

/** Where a message belongs once the run is live. */
const MESSAGE_HINT = ' (while the run is live, a tool speaks to the model through its result)';

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${what}: expected a string value, got ${c.describe(value)}`);
  return value;
}

function checkMembers(name: string, members: unknown[], expected: 'tool' | 'agent'): Array<SubTool | SubAgent> {
  if (members.length === 0) throw new ConfigError(`def${expected === 'tool' ? 'Tool' : 'Agent'}("${name}"): a composite needs at least one ${expected}(...)`);
  const seen = new Set<string>();
  return members.map((member, i) => {
    const m = member as SubTool | SubAgent;
    if (!m || (m.kind !== 'tool' && m.kind !== 'agent')) throw new ConfigError(`"${name}"[${i}]: expected ${expected}(...), got ${c.describe(member)}`);
    if (seen.has(m.name)) throw new ConfigError(`"${name}": member "${m.name}" is defined twice`);
    seen.add(m.name);
    return m;
  });
}

/** `{calls: [{name, args}]}` where each item matches one member's name and argument schema. */
function compositeSchema(members: Array<SubTool | SubAgent>): Record<string, unknown> {
  const call = members.map((m) => ({
    type: 'object',
    description: m.description,
    properties: { name: { const: m.name }, args: m.parameters },
    required: ['name', 'args'],
    additionalProperties: false,
  }));
  return {
    type: 'object',
    properties: { calls: { type: 'array', minItems: 1, items: call.length === 1 ? call[0] : { anyOf: call } } },
    required: ['calls'],
    additionalProperties: false,
  };
}

/** A tagged template's strings (a frozen array with `raw`), as `ctx.$` gets them from any caller. */
function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && Array.isArray((value as { raw?: unknown }).raw);
}
