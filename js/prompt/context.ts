/**
 * The `ctx` a prompt function receives: it only collects definitions (systems, variables, messages,
 * tools, agents, hooks). Nothing runs until the engine starts the run; bad input is a TypeError at
 * the call that made it, naming the bad value.
 */
import type { Engine } from '../engine.js';
import type { Message } from '../providers/types.js';
import { toJsonSchema } from '../schema.js';
import { HumanDefinitions, type ApprovalConfig, type ApprovalResult, type GuardCondition, type GuardConfig, type HumanToolOptions, type InteractionConfig, type InteractionResult, type ValidatorFn } from './human.js';
import { checkName, checkValue, reference, type Reference } from './names.js';
import {
  CircuitBreakerHandle,
  PolicyDefinitions,
  type AlternativeConfig,
  type CascadeConfig,
  type CircuitBreakerConfig,
  type ConstraintTotals,
  type CostConstraintConfig,
  type DefaultValueConfig,
  type DurationConstraintConfig,
  type RateConstraintConfig,
  type RetryConfig,
  type TokenConstraintConfig,
} from './resilience.js';

/** The second argument of a tool's `execute`. */
export interface ToolContext {
  toolCallId: string;
  /** Aborted when the run is cancelled or the call times out. */
  abortSignal: AbortSignal;
  /** The conversation so far, including the assistant turn that made this call. */
  messages: Message[];
}

/** A tool implementation: its return value (object → JSON, string → text) is what the model sees. */
export type ToolExecute = (args: any, context: ToolContext) => unknown;

/** Resilience options of a tool or agent call (docs/resilience.md); names refer to `def*` policies. */
export interface CallPolicyOptions {
  /** A `defRetry` policy for this call. */
  retry?: string;
  /** A `defFallback` policy: `alternative` or `default` (tools), or `cascade` (agents: the child's models). */
  fallback?: string;
  /** A `defCircuitBreaker` that guards this call. */
  circuitBreaker?: string;
  /** Time limit of one call, in ms (the call is aborted and the model gets a timeout error). */
  timeout?: number;
}

/**
 * lmthing's per-tool callbacks (a non-undefined return replaces the input, or output), the call
 * policies (retry, fallback, circuitBreaker, timeout) and the human-in-the-loop options (approval,
 * guards, validator, retryOnFailure, maxRetries).
 */
export interface ToolOptions extends CallPolicyOptions, HumanToolOptions {
  beforeCall?: (input: any, context: ToolContext) => unknown;
  onSuccess?: (input: any, output: unknown) => unknown;
  onError?: (input: any, error: unknown) => unknown;
}

/** Options of {@link PromptContext.defAgent}. */
export interface AgentOptions extends CallPolicyOptions {
  /** The child's model; the parent's by default. */
  model?: unknown;
  /** A system prompt for the child (rendered as the system definition `system`). */
  system?: string;
  /** The child's final text is parsed as JSON and validated; the parent gets the object. */
  responseSchema?: unknown;
}

/** A child agent's configuration function: it defines the child's prompt on `child`. */
export type AgentConfigure = (args: any, child: PromptContext) => unknown;

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
  | { kind: 'composite'; name: string; description: string; parameters: Record<string, unknown>; members: Array<SubTool | SubAgent>; options: ToolOptions };

/** What a hook receives before every step (`stepNumber` counts from 0). */
export interface HookInput {
  stepNumber: number;
  messages: Message[];
  steps: unknown[];
  lastToolCall: { toolCallId: string; toolName: string; args: unknown } | null;
}

/** What a hook may change, for that step only. */
export interface HookResult {
  system?: string;
  messages?: Message[];
  activeTools?: string[];
  activeSystems?: string[];
  activeVariables?: string[];
  toolChoice?: unknown;
  model?: unknown;
}

/** A hook: called before every step; may return overrides for that step. */
export type Hook = (input: HookInput) => HookResult | void | undefined | Promise<HookResult | void | undefined>;

/** Everything a prompt function defined. */
export interface CollectedPrompt {
  systems: Map<string, string>;
  variables: Map<string, { text: string } | { data: string }>;
  messages: Message[];
  tools: Map<string, ToolDefinition>;
  hooks: Hook[];
  policies: PolicyDefinitions;
  /** Approvals, guards, validators and interactions (js/prompt/human.ts). */
  human: HumanDefinitions;
}

/** Makes a member of a composite tool: `defTool(name, description, [tool(...), tool(...)])`. */
export function tool(name: string, description: string, schema: unknown, execute: ToolExecute): SubTool {
  checkName(name, 'tool()');
  if (typeof execute !== 'function') throw new TypeError(`tool("${name}"): execute must be a function, got ${typeof execute}`);
  return { kind: 'tool', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `tool "${name}" parameters`), execute };
}

/** Makes a member of a composite agent: `defAgent(name, description, [agent(...), agent(...)])`. */
export function agent(name: string, description: string, schema: unknown, configure: AgentConfigure, options: AgentOptions = {}): SubAgent {
  checkName(name, 'agent()');
  if (typeof configure !== 'function') throw new TypeError(`agent("${name}"): the configure function must be a function, got ${typeof configure}`);
  return { kind: 'agent', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `agent "${name}" parameters`), configure, options };
}

/** The `ctx` of `runPrompt(fn)`. */
export class PromptContext {
  /** What has been defined so far (read by runPrompt). */
  readonly collected: CollectedPrompt = {
    systems: new Map(), variables: new Map(), messages: [], tools: new Map(), hooks: [],
    policies: new PolicyDefinitions(), human: new HumanDefinitions(),
  };
  private run: { engine: Engine; runId: number } | undefined;

  /** Defines a system section `<name>\n{value}\n</name>`; redefining keeps its first position. */
  defSystem(name: string, value: string): Reference {
    checkName(name, 'defSystem');
    this.collected.systems.set(name, checkValue(name, requireString(value, `defSystem("${name}")`), 'defSystem'));
    return reference(name);
  }

  /** Defines a text variable rendered as `<name>\n{value}\n</name>` inside `<variables>`. */
  def(name: string, value: string): Reference {
    checkName(name, 'def');
    this.collected.variables.set(name, { text: checkValue(name, requireString(value, `def("${name}")`), 'def') });
    return reference(name);
  }

  /** Defines a data variable rendered as YAML (block style) inside `<variables>`. */
  defData(name: string, value: unknown): Reference {
    checkName(name, 'defData');
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new TypeError(`defData("${name}"): the value cannot be serialized: ${(err as Error).message}`);
    }
    if (text === undefined) throw new TypeError(`defData("${name}"): expected JSON-like data, got ${typeof value}`);
    this.collected.variables.set(name, { data: text });
    return reference(name);
  }

  /** Appends a message (`user` or `assistant`) to the conversation. */
  defMessage(role: 'user' | 'assistant', content: string): void {
    if (role !== 'user' && role !== 'assistant') throw new TypeError(`defMessage: role must be "user" or "assistant", got ${JSON.stringify(role)}`);
    this.collected.messages.push({ role, content: requireString(content, `defMessage("${role}")`) });
  }

  /** Tagged template: appends a user message; references interpolate as `<name>`. */
  $(strings: TemplateStringsArray, ...values: unknown[]): void {
    let text = strings[0] ?? '';
    values.forEach((value, i) => {
      text += String(value) + (strings[i + 1] ?? '');
    });
    this.collected.messages.push({ role: 'user', content: text });
  }

  /**
   * Defines a tool. `schema` is zod or JSON Schema; `execute(args, {toolCallId, abortSignal, messages})`.
   * Composite form: `defTool(name, description, [tool(...), ...])` takes `{calls: [{name, args}]}` and
   * returns `{results: [{name, result} | {name, error}]}`.
   */
  defTool(name: string, description: string, schema: unknown, execute?: ToolExecute | ToolOptions, options: ToolOptions = {}): Reference {
    checkName(name, 'defTool');
    this.checkUnique(name);
    if (Array.isArray(schema)) {
      const members = checkMembers(name, schema, 'tool');
      this.collected.tools.set(name, { kind: 'composite', name, description: String(description ?? ''), parameters: compositeSchema(members), members, options: (execute as ToolOptions) ?? {} });
      return reference(name);
    }
    if (typeof execute !== 'function') throw new TypeError(`defTool("${name}"): execute must be a function, got ${typeof execute}`);
    this.collected.tools.set(name, { kind: 'tool', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `tool "${name}" parameters`), execute, options });
    return reference(name);
  }

  /**
   * Defines a sub-agent, offered to the model as a tool. `configure(args, child)` defines the child's
   * prompt; the child runs its own step loop. Composite form with `[agent(...), ...]`.
   */
  defAgent(name: string, description: string, schema: unknown, configure?: AgentConfigure | AgentOptions, options: AgentOptions = {}): Reference {
    checkName(name, 'defAgent');
    this.checkUnique(name);
    if (Array.isArray(schema)) {
      const members = checkMembers(name, schema, 'agent');
      this.collected.tools.set(name, { kind: 'composite', name, description: String(description ?? ''), parameters: compositeSchema(members), members, options: {} });
      return reference(name);
    }
    if (typeof configure !== 'function') throw new TypeError(`defAgent("${name}"): the configure function must be a function, got ${typeof configure}`);
    this.collected.tools.set(name, { kind: 'agent', name, description: String(description ?? ''), parameters: toJsonSchema(schema, `agent "${name}" parameters`), configure, options });
    return reference(name);
  }

  /** Adds a hook called before every step. */
  defHook(hook: Hook): void {
    if (typeof hook !== 'function') throw new TypeError(`defHook: expected a function, got ${typeof hook}`);
    this.collected.hooks.push(hook);
  }

  // ---------------------------------------------------------------- resilience (docs/resilience.md)

  /** Defines a retry policy, applied with `retry: name` on tools, agents and the run. */
  defRetry(name: string, config: RetryConfig = {}): Reference {
    this.collected.policies.defRetry(name, config);
    return reference(name);
  }

  /** Defines a fallback: a model `cascade`, `alternative` tools, or a `default` value. */
  defFallback(name: string, strategy: 'cascade', config: CascadeConfig): Reference;
  defFallback(name: string, strategy: 'alternative', config: AlternativeConfig): Reference;
  defFallback(name: string, strategy: 'default', config: DefaultValueConfig): Reference;
  defFallback(name: string, strategy: any, config: any): Reference {
    this.collected.policies.defFallback(name, strategy, config);
    return reference(name);
  }

  /** Defines a circuit breaker, applied with `circuitBreaker: name` or used with `ctx.circuitBreaker(name)`. */
  defCircuitBreaker(name: string, config: CircuitBreakerConfig = {}): Reference {
    this.collected.policies.defCircuitBreaker(name, config);
    return reference(name);
  }

  /** Defines a budget of the run and its sub-agents: tokens, duration, rate or cost. */
  defConstraint(name: string, type: 'tokens', config: TokenConstraintConfig): Reference;
  defConstraint(name: string, type: 'duration', config: DurationConstraintConfig): Reference;
  defConstraint(name: string, type: 'rate', config: RateConstraintConfig): Reference;
  defConstraint(name: string, type: 'cost', config: CostConstraintConfig): Reference;
  defConstraint(name: string, type: any, config: any): Reference {
    this.collected.policies.defConstraint(name, type, config);
    return reference(name);
  }

  /** A defined breaker, for your own calls while the run is running (inside tools and hooks). */
  circuitBreaker(name: string): CircuitBreakerHandle {
    if (!this.collected.policies.breakers.has(name)) {
      const defined = [...this.collected.policies.breakers.keys()].map((n) => `"${n}"`).join(', ') || 'none';
      throw new TypeError(`ctx.circuitBreaker: unknown circuit breaker ${JSON.stringify(name)} (defined: ${defined})`);
    }
    const run = this.requireRun('ctx.circuitBreaker()');
    return new CircuitBreakerHandle(run.engine, run.runId, name);
  }

  /** Rejects with `BudgetExceededError` naming the first exceeded constraint; resolves with the totals otherwise. */
  checkConstraints(): Promise<ConstraintTotals> {
    const run = this.requireRun('ctx.checkConstraints()');
    return run.engine.request('constraints.check', { run: run.runId }) as Promise<ConstraintTotals>;
  }

  /** @internal Called by runPrompt when the run starts. */
  bindRun(engine: Engine, runId: number): void {
    this.run = { engine, runId };
  }

  private requireRun(what: string): { engine: Engine; runId: number } {
    if (!this.run) throw new Error(`${what} works only while the run is running (inside tools, hooks and agents)`);
    return this.run;
  }

  // ---- human in the loop (docs/human-in-the-loop.md); implemented in human.ts

  /** Defines an approval; tools use it with `{approval: name}`, code with {@link requestApproval}. */
  defApproval(name: string, config: ApprovalConfig = {}): void {
    this.collected.human.defApproval(name, config);
  }

  /** Defines a guard checked before the tools that name it (`{guards: [name]}`) or that it lists (`tools`). */
  defGuard(name: string, condition: GuardCondition, config: GuardConfig = {}): void {
    this.collected.human.defGuard(name, condition, config);
  }

  /** Defines a validator (schema, then `fn`) for tool outputs (`{validator: name}`) or the final answer. */
  defValidator(name: string, schema: unknown, fn?: ValidatorFn): void {
    this.collected.human.defValidator(name, schema, fn);
  }

  /** Defines a question or choice to ask the user with {@link interact}. */
  defInteraction(name: string, kind: 'question' | 'choice', config: InteractionConfig = {}): void {
    this.collected.human.defInteraction(name, kind, config);
  }

  /** While the run is live: asks approval `name` about `context`; resolves with the decision applied. */
  requestApproval(name: string, context?: unknown): Promise<ApprovalResult> {
    return this.collected.human.requestApproval(name, context);
  }

  /** While the run is live: asks interaction `name`; resolves with the validated answer. */
  interact(name: string, context?: unknown): Promise<InteractionResult> {
    return this.collected.human.interact(name, context);
  }

  private checkUnique(name: string): void {
    if (this.collected.tools.has(name)) throw new TypeError(`a tool or agent named "${name}" is already defined`);
  }
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what}: expected a string value, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function checkMembers(name: string, members: unknown[], expected: 'tool' | 'agent'): Array<SubTool | SubAgent> {
  if (members.length === 0) throw new TypeError(`def${expected === 'tool' ? 'Tool' : 'Agent'}("${name}"): a composite needs at least one ${expected}(...)`);
  const seen = new Set<string>();
  return members.map((member, i) => {
    const m = member as SubTool | SubAgent;
    if (!m || (m.kind !== 'tool' && m.kind !== 'agent')) throw new TypeError(`"${name}"[${i}]: expected ${expected}(...), got ${typeof member}`);
    if (seen.has(m.name)) throw new TypeError(`"${name}": member "${m.name}" is defined twice`);
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
