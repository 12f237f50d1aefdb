/**
 * The `def*` methods every run can use (resilience and human in the loop), and the run-time helpers
 * that consult the engine while the run is live (`requestApproval`, `interact`, `circuitBreaker`,
 * `checkConstraints`). `PromptContext` (runPrompt's `ctx`) extends it; a directive run gets one in
 * `run(agent, {define: (ctx) => ...})`. Each method is a thin typed wrapper over the one marshaller.
 */
import type { SchemaLike } from '../schema.js';
import * as c from '../config/check.js';
import { ConfigError, NotRunningError, ProtocolError, RoleError, StateError, TemplateError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { Infer, JsonObject } from '../schema-types.js';
import { reference, templateReference, type Reference } from '../prompt/names.js';
import { approvalKind, guardKind, interactionKind, validatorKind } from './human.js';
import type { ApprovalConfig, GuardCondition, GuardConfig, InteractionConfig, ValidatorFn } from './human.js';
import { circuitBreakerKind, constraintKind, fallbackKind, retryKind } from './resilience.js';
import type {
  AlternativeConfig, CascadeConfig, CircuitBreakerConfig, CostConstraintConfig, DefaultValueConfig, DurationConstraintConfig,
  RateConstraintConfig, RetryConfig, TokenConstraintConfig,
} from './resilience.js';
import { DefinitionSet } from './set.js';
import type { ApprovalResult, InteractionResult } from '../run/human-host.js';
import { CircuitBreakerHandle, type ConstraintTotals } from '../run/policy-handles.js';
import { checkJsonArgument, jsonProblem } from '../storage/checks.js';
import { parsedByZod, parsedOrThrow } from '../zod-parse.js';
import type { JsonValue } from '../storage/types.js';
import { stateDepthLimit, stateValueProblem } from '../state/changes.js';
import { liveValue, plainCopy, type StateSlot } from '../state/live.js';
import type { RunStates } from '../state/run-states.js';
import { cacheKind, type CacheConfig, type CacheStrategy } from './cache.js';
import { draftWrite, stateKind, type StateOptions, type StoredState } from './state.js';
import { roleKind, type RoleConfig } from './role.js';
import { templateKind, type TemplateRef, type TemplateValue, type TemplateValues, type TemplateVariables } from './template.js';
import { defaultEngine } from '../default-engine.js';
import { checkName } from '../prompt/names.js';
import { resourceKind, resourcePoolKind, type ResourceConfig, type ResourcePoolConfig } from './resource.js';
import { agentAnswer, workflowKind, type WorkflowConfig, type WorkflowResult, type WorkflowStep, type WorkflowToolConfig } from './workflow.js';
import { pipelineKind, type PipelineStage } from './pipeline.js';
import { parallelKind, type ParallelOptions, type ParallelTask } from './parallel.js';
import { batcherKind, type BatcherConfig } from './batcher.js';
import { contextKind, type ContextConfig, type ContextStrategy } from './context-window.js';
import { GraphMemoryHandle, MemoryHandle, memoryKind, type MemoryConfig, type MemoryMarshal, type MemoryType } from './memory.js';
import { addModel, EngineHost, type RunModels } from '../run/host.js';
import { resolveEmbeddingModel, resolveModel } from '../providers/registry.js';
import type { EmbeddingModel, EmbedResult, LanguageModel } from '../providers/types.js';
import { checkRecording, metricKind, type MetricConfig, type MetricType } from '../observe/metrics.js';
import { LoggerGroup, loggerKind, type Logger, type LoggerConfig } from '../observe/logger.js';
import { tracingKind, type TracingConfig } from '../observe/tracing.js';
import { scopeField } from '../run/op-scope.js';
import { newCallId } from '../run/call-id.js';
import { checkStorageName } from '../storage/host.js';
import { interventionRequest, type HumanInterventionEvent } from '../observe/intervention.js';
import { addEventHandler, checkCustomEventName, type CustomEvent, type EventHandler, type EventOptions, type LifecycleEvent, type LifecycleEventName } from '../observe/lifecycle.js';

interface LiveRun {
  engine: Engine;
  runId: number;
  /** The run's model reference: the default model of its memories' summaries and extractions. */
  model?: string;
  /** The run's states (when it defines any), mirrored from the engine. */
  states?: RunStates;
}

const definitionSets = new WeakMap<DefinitionContext, DefinitionSet>();
const liveRuns = new WeakMap<DefinitionContext, LiveRun>();

/** Where a prompt function's memory calls go before its run starts: the run's engine, storage and session. */
export interface PreRun {
  engine: () => Promise<Engine>;
  /** The run's storage name on that engine (registered for the call, released after). */
  storage?: (engine: Engine) => { name: string; release: () => void };
  sessionId?: string;
  /** The run's model: the default model of the memories' summaries and extractions. */
  model?: LanguageModel;
}
const preRuns = new WeakMap<DefinitionContext, PreRun>();

/** A sub-agent's context while its configure function runs: the parent's live run (the child's own has not started). */
const configuring = new WeakMap<DefinitionContext, LiveRun>();

/**
 * @internal While a sub-agent's configure function runs (`defAgent(name, …, (args, ctx) => …)`), its
 * `ctx.interact`, `ctx.requestHumanIntervention`, `ctx.memory` and `ctx.embed` go through the
 * parent's live run; `parent` undefined ends that.
 */
export function bindConfiguring(child: DefinitionContext, parent: DefinitionContext | undefined): void {
  const run = parent && liveRuns.get(parent);
  if (run) configuring.set(child, run);
  else configuring.delete(child);
}

/** @internal Lets `ctx`'s memory calls reach `pre`'s engine while the prompt function runs (before its run starts). */
export function bindPreRun(ctx: DefinitionContext, pre: PreRun | undefined): void {
  if (pre) preRuns.set(ctx, pre);
  else preRuns.delete(ctx);
}

/** @internal Marshal for the definitions of a `memory` run started before the prompt run; its models go to `models` (the memory run's). */
function memoryMarshal(engine: Engine, models: RunModels): MemoryMarshal {
  const refuse = (): never => {
    throw new ConfigError('a memory run before the prompt run carries only memory definitions');
  };
  return {
    callback: refuse,
    model: (m) => addModel(models, typeof m === 'string' ? resolveModel(m) : m),
    embeddingModel: (m) => EngineHost.of(engine).addEmbeddingModel(m),
    storage: (name, where) => checkStorageName(engine, name, where),
  };
}

/** @internal The definitions collected by `ctx`. */
export function definitionsOf(ctx: DefinitionContext): DefinitionSet {
  return definitionSets.get(ctx)!;
}

/** @internal The run's states by name, as live values (the `state` of guard contexts). */
export function stateView(ctx: DefinitionContext): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const name of definitionsOf(ctx).names(stateKind))
    Object.defineProperty(view, name, { enumerable: true, get: () => ctx.getState<unknown>(name), set: (value: unknown) => ctx.setState(name, value) });
  return view;
}

/** @internal The name of a template given as a reference or a name. */
export function templateName(template: unknown, what: string): string {
  if (typeof template === 'string') return checkName(template, what);
  if (typeof template !== 'object' || template === null || typeof (template as { name?: unknown }).name !== 'string')
    throw new ConfigError(`${what}: expected a template's name or the reference defTemplate returned, got ${c.describe(template)}`);
  return checkName((template as { name: string }).name, what);
}

const noMarshal = {
  callback: (): string => {
    throw new TypeError('a template has no functions');
  },
  model: (): string => {
    throw new TypeError('a template has no models');
  },
};

/** Custom events emitted before the run was live (sent in the run spec), and ctxs whose run ended. */
const pendingEmits = new WeakMap<DefinitionContext, Array<{ name: string; value: JsonValue }>>();
const endedRuns = new WeakSet<DefinitionContext>();
const loggerGroups = new WeakMap<DefinitionContext, LoggerGroup>();

/** @internal Takes the custom events `ctx.emit` queued before the run started. */
export function takePendingEmits(ctx: DefinitionContext): Array<{ name: string; value: JsonValue }> {
  const list = pendingEmits.get(ctx) ?? [];
  pendingEmits.delete(ctx);
  return list;
}

/** The states of a run that ended, still readable through the ctx that defined it. */
const endedStates = new WeakMap<DefinitionContext, RunStates>();

/** @internal Binds `ctx` to the run it defined, so its run-time helpers can reach the engine. */
export function bindRun(ctx: DefinitionContext, run: LiveRun | undefined): void {
  // The engine has the run's definitions from its spec: one added from now on would not reach it.
  definitionsOf(ctx).sealed = `the run ${run ? 'is live' : 'ended'}; definitions go to the engine when the run starts, so define it in the prompt function (or run(agent, {define}))`;
  if (run) {
    liveRuns.set(ctx, run);
    endedStates.delete(ctx);
    endedRuns.delete(ctx);
    return;
  }
  if (liveRuns.has(ctx)) endedRuns.add(ctx);
  const states = liveRuns.get(ctx)?.states;
  states?.end();
  if (states?.loaded) endedStates.set(ctx, states);
  liveRuns.delete(ctx);
}

export class DefinitionContext {
  constructor() {
    definitionSets.set(this, new DefinitionSet());
  }

  // ---- resilience (docs/resilience.md)

  /** Defines a retry policy, applied with `retry: name` on tools, agents and the run. */
  defRetry(name: string, config: RetryConfig = {}): Reference {
    return reference(definitionsOf(this).add(retryKind, name, config));
  }

  /** Defines a fallback: a model `cascade`, `alternative` tools, or a `default` value. */
  defFallback(name: string, strategy: 'cascade', config: CascadeConfig): Reference;
  defFallback(name: string, strategy: 'alternative', config: AlternativeConfig): Reference;
  defFallback(name: string, strategy: 'default', config: DefaultValueConfig): Reference;
  defFallback(name: string, strategy: 'cascade' | 'alternative' | 'default', config: CascadeConfig | AlternativeConfig | DefaultValueConfig): Reference {
    return reference(definitionsOf(this).add(fallbackKind, name, strategy, config));
  }

  /** Defines a circuit breaker, applied with `circuitBreaker: name` or used with `ctx.circuitBreaker(name)`. */
  defCircuitBreaker(name: string, config: CircuitBreakerConfig = {}): Reference {
    return reference(definitionsOf(this).add(circuitBreakerKind, name, config));
  }

  /** Defines a budget of the run and everything it starts (sub-agents, branches): tokens, duration, rate or cost. */
  defConstraint(name: string, type: 'tokens', config: TokenConstraintConfig): Reference;
  defConstraint(name: string, type: 'duration', config: DurationConstraintConfig): Reference;
  defConstraint(name: string, type: 'rate', config: RateConstraintConfig): Reference;
  defConstraint(name: string, type: 'cost', config: CostConstraintConfig): Reference;
  defConstraint(
    name: string,
    type: 'tokens' | 'duration' | 'rate' | 'cost',
    config: TokenConstraintConfig | DurationConstraintConfig | RateConstraintConfig | CostConstraintConfig,
  ): Reference {
    return reference(definitionsOf(this).add(constraintKind, name, type, config));
  }

  // ---- human in the loop (docs/human-in-the-loop.md)

  /** Defines an approval; tools use it with `{approval: name}`, code with {@link requestApproval}. */
  defApproval<Context = JsonObject>(name: string, config: ApprovalConfig<Context> = {}): Reference {
    return reference(definitionsOf(this).add(approvalKind, name, config as ApprovalConfig));
  }

  /** Defines a guard checked before the tools that name it (`{guards: [name]}`) or that it lists (`tools`). */
  defGuard<Args = JsonObject>(name: string, condition: GuardCondition<Args>, config: GuardConfig = {}): Reference {
    return reference(definitionsOf(this).add(guardKind, name, condition, config));
  }

  /**
   * Defines a validator (schema, then `fn`) for tool outputs (`{validator: name}`) or the final
   * answer; `fn` gets the value typed by the schema ({@link Infer}).
   */
  defValidator<S extends SchemaLike | null>(name: string, schema: S, fn?: ValidatorFn<Infer<S>>): Reference {
    return reference(definitionsOf(this).add(validatorKind, name, schema, fn));
  }

  /** Defines a question or choice to ask the user with {@link interact}. */
  defInteraction<Context = JsonObject>(name: string, kind: 'question' | 'choice', config: InteractionConfig<Context> = {}): Reference {
    return reference(definitionsOf(this).add(interactionKind, name, kind, config));
  }

  // ---- state and caches (docs/state-and-caches.md)

  /**
   * Defines state `name`: a JSON value tools, hooks, guards and sub-agents read and change with
   * {@link getState}. With `persist: true` it is loaded from the run's storage before the first step
   * and saved (compare-and-set) at the end of the run and on {@link saveState}.
   */
  defState<T = unknown>(name: string, initialValue: T, options: StateOptions<T> = {}): Reference {
    return reference(definitionsOf(this).add(stateKind, name, initialValue, options));
  }

  /** Defines a cache that tools and agents use with `{cache: name}`, and a run's model with `runPrompt(fn, {cache: name})`. */
  defCache(name: string, strategy: CacheStrategy, config: CacheConfig = {}): Reference {
    return reference(definitionsOf(this).add(cacheKind, name, strategy, config));
  }

  // ---- templates (docs/templates-roles-plugins.md)

  /**
   * Defines template `name`: text with `{{variable}}` placeholders and `{{> otherTemplate}}` includes,
   * and typed `variables` (string, number, boolean, enum with `values`; required unless they have a
   * `default`). Placeholders no variable declares are required text, or a `def` value of that name.
   * The reference it returns types the values of `useTemplate(ref, values)`.
   */
  defTemplate<const V extends TemplateVariables = Record<never, never>>(name: string, template: string, variables?: V): TemplateRef<V> {
    return templateReference(definitionsOf(this).add(templateKind, name, template, variables ?? {}));
  }

  /**
   * Renders template `template` (a `defTemplate` reference or name) with `values` in the engine and
   * resolves with the text; bad values reject with a `TemplateError` naming the template and the
   * variable. While the run is live it uses the run's templates (a sub-agent sees its parent's).
   */
  renderTemplate<V extends TemplateVariables>(template: TemplateRef<V>, values: TemplateValues<V>): Promise<string>;
  renderTemplate(template: string, values?: Record<string, TemplateValue>): Promise<string>;
  renderTemplate(template: string | TemplateRef, values: Record<string, TemplateValue> = {}): Promise<string> {
    return this.renderIn(templateName(template, 'renderTemplate'), values, 'renderTemplate');
  }

  /** @internal True while the run this context defined is live. */
  protected isLive(): boolean {
    return liveRuns.has(this);
  }

  /**
   * @internal Throws once the run has started: what the prompt function collects (messages, tools,
   * definitions) went to the engine in the run's spec then, and a later addition would be lost.
   */
  protected checkCollecting(what: string, hint = ''): void {
    if (liveRuns.has(this) || endedRuns.has(this))
      throw new ConfigError(`${what}: the run ${liveRuns.has(this) ? 'is live' : 'ended'}; what the prompt function adds goes to the engine when the run starts, so call it there${hint}`);
  }

  /** @internal A write after the run ended would go nowhere: no run saves it any more. */
  private notEnded(what: string): void {
    if (endedRuns.has(this) && !liveRuns.has(this))
      throw new NotRunningError(`${what}: the run has ended, so nothing would write the state any more (getState still reads its last value)`);
  }

  /** @internal The def values `{{name}}` may refer to (PromptContext has them). */
  protected templateReferences(): Record<string, unknown> {
    return {};
  }

  /** @internal The engine a render before the run uses (the run's, once known). */
  protected templateEngine(): Promise<Engine> {
    return defaultEngine();
  }

  /** @internal Renders in the live run's engine, or with this context's templates before the run. */
  protected renderIn(name: string, values: unknown, what: string): Promise<string> {
    if (!c.isPlainObject(values)) throw new ConfigError(`${what}("${name}"): values must be an object ({variable: value}), got ${c.describe(values)}`);
    const references = this.templateReferences();
    const live = liveRuns.get(this);
    let reply: Promise<unknown>;
    // JSON would send NaN and Infinity as null, which the engine could only call a missing value.
    const notFinite = Object.entries(values).find(([, value]) => typeof value === 'number' && !Number.isFinite(value));
    if (notFinite) {
      const [variable, value] = notFinite;
      reply = Promise.reject(new TemplateError('TEMPLATE_WRONG_TYPE', `template "${name}": variable "${variable}" must be a finite number, got ${String(value)}`, { template: name, variable }));
    } else if (live) {
      reply = live.engine.request('template.render', { run: live.runId, name, values, references });
    } else {
      const definitions = definitionsOf(this);
      const templates = definitions.names(templateKind).map((n) => ({ kind: 'template', name: n, config: templateKind.wire(definitions.get(templateKind, n)!, noMarshal, `defTemplate("${n}")`) }));
      // Before the run: the prompt function sends this again when a durable run is replayed.
      reply = this.templateEngine().then((engine) => engine.request('template.render', { definitions: templates, name, values, references }, { replayed: true }));
    }
    const text = reply.then((value) => (value as { text: string }).text);
    text.catch(() => {}); // a caller that does not await still sees the failure where it awaits (the run)
    return text;
  }

  // ---- roles (docs/templates-roles-plugins.md)

  /**
   * Defines role `name`: its `systemPrompt`, `capabilities` and `personality` render into the system
   * prompt of a run that assumes it (a `<role name="...">` section after the `defSystem` sections),
   * and its `constraints` apply to that run: only `allowedTools` are offered and run,
   * `requiresApproval` tools ask for approval first, and its model calls stop at `maxTokens`.
   */
  defRole(name: string, config: RoleConfig = {}): Reference {
    return reference(definitionsOf(this).add(roleKind, name, config));
  }

  /**
   * Makes the run assume role `name` (a `defRole` name or reference). Before the run starts it is
   * the role the run starts with; while the run is live (in a hook or a tool) it takes effect from
   * the next step, and an unknown role throws a `RoleError` now (with the nearest defined name).
   * The promise settles when the engine has switched (a role whose tool lists name tools the run
   * does not have rejects it with a `RoleError`).
   */
  assumeRole(name: string | Reference): Promise<void> {
    if (typeof name !== 'string' && typeof (name as { name?: unknown } | null)?.name !== 'string')
      throw new ConfigError(`assumeRole: expected a role's name (a string) or the reference defRole returned, got ${c.describe(name)}`);
    const role = checkName(typeof name === 'string' ? name : (name as { name?: unknown }).name, 'assumeRole');
    const live = liveRuns.get(this);
    if (!live) {
      this.startingRole(role);
      return Promise.resolve();
    }
    const defined = definitionsOf(this).names(roleKind);
    if (!defined.includes(role)) {
      const guess = c.nearest(role, defined);
      throw new RoleError('ROLE_UNKNOWN', `assumeRole: unknown role "${role}" (${guess ? `did you mean "${guess}"? ` : ''}defined: ${defined.join(', ') || 'none'})`, role);
    }
    const switched = live.engine.request('role.assume', { run: live.runId, name: role }).then(() => undefined);
    switched.catch(() => {}); // an unawaited failure must not end the process; awaiting it still sees it
    return switched;
  }

  /** @internal Where a role assumed before the run goes (a prompt run's spec; directive runs use run(agent, {role})). */
  protected startingRole(name: string): void {
    throw new ConfigError(`assumeRole("${name}"): a directive run's role is the "role" option of run(agent, {role}) or L.role(name) in the agent`);
  }

  /**
   * The live value of state `name`: an object or array whose property writes are tracked (and sent
   * to the engine while the run is live), or the plain value for a primitive. In the prompt function
   * (before the run starts) changes go on top of the value the run loads. After the run, a plain copy.
   */
  getState<T = JsonObject>(name: string): T {
    const run = liveRuns.get(this)?.states;
    if (run) {
      if (!run.loaded) throw new NotRunningError(`ctx.getState("${name}"): the run's states are not loaded yet; call it inside tools, hooks and agents (or await ctx.loadStates())`);
      return liveValue(this.liveSlot(run, name)) as T;
    }
    const ended = endedStates.get(this);
    if (ended) return plainCopy(ended.mirror(name).value) as T;
    return liveValue(this.draftSlot(name)) as T;
  }

  /** Replaces the value of state `name` (JSON only). */
  setState<T = unknown>(name: string, value: T): void {
    this.notEnded(`ctx.setState("${name}")`);
    const run = liveRuns.get(this)?.states;
    const slot = run ? this.liveSlot(run, name) : this.draftSlot(name);
    const problem = jsonProblem(value, name, slot.maxDepth);
    if (problem) throw new StateError('STORAGE_UNSERIALIZABLE', `ctx.setState("${name}"): ${stateValueProblem(problem)}`, { state: name });
    slot.write({ op: 'set', path: [], value: plainCopy(value) as JsonValue });
  }

  /**
   * Writes persisted state `name` now (compare-and-set). In the prompt function, it is written as
   * soon as the run has loaded it. Rejects with a StateError (`STORAGE_CONFLICT` when another writer
   * saved it first: the live value then holds the stored one).
   */
  async saveState(name: string): Promise<void> {
    this.notEnded(`ctx.saveState("${name}")`);
    const run = liveRuns.get(this)?.states;
    if (run) {
      await run.ensure();
      return run.save(name);
    }
    this.draftOf(name).draft.save = true;
  }

  /** Read-modify-write of state `name` in storage, retried on conflict (`fn` may run more than once); resolves to the new value. */
  async updateState<T = JsonObject>(name: string, fn: (value: T) => T): Promise<T> {
    if (typeof fn !== 'function') throw new ConfigError(`ctx.updateState("${name}"): expects a function from the stored value to the new one, got ${c.describe(fn)}`);
    const run = this.live('updateState', stateKind, name).states;
    if (!run) throw new NotRunningError(`ctx.updateState("${name}"): the run has no states`);
    await run.ensure();
    return (await run.update(name, (value) => fn(value as T))) as T;
  }

  /** Loads the run's states (inside tools, hooks and agents they are loaded already). */
  async loadStates(): Promise<void> {
    await this.live('loadStates').states?.ensure();
  }

  private draftOf(name: string): StoredState {
    const stored = definitionsOf(this).get(stateKind, name);
    if (!stored) {
      throw new ConfigError(c.unknownName('state', name, definitionsOf(this).names(stateKind), 'defined with ctx.defState'));
    }
    return stored;
  }

  private draftSlot(name: string): StateSlot {
    const stored = this.draftOf(name);
    return {
      name,
      maxDepth: stateDepthLimit(),
      root: () => stored.draft.value,
      write: (change) => draftWrite(stored, change),
      refuse: (message) => new StateError('STORAGE_UNSERIALIZABLE', message, { state: name }),
    };
  }

  private liveSlot(run: RunStates, name: string): StateSlot {
    run.mirror(name);
    return {
      name,
      maxDepth: run.maxDepth,
      root: () => run.mirror(name).value,
      write: (change) => {
        if (run.ended) throw new NotRunningError(`state "${name}": the run ended; its states can be read, not changed`);
        run.write(name, change);
      },
      refuse: (message) => new StateError('STORAGE_UNSERIALIZABLE', message, { state: name }),
    };
  }

  // ---- orchestration (docs/orchestration.md)

  /**
   * Defines a workflow: steps the engine runs in order (or as a `dependsOn` DAG), with conditions,
   * onSuccess/onError routing, loops bounded by `maxIterations`, per-step retries and timeouts and
   * a `maxDuration`. Run it with {@link runWorkflow} while the run is live.
   */
  defWorkflow<State extends object = Record<string, unknown>>(name: string, steps: WorkflowStep<State>[], config: WorkflowConfig = {}): Reference {
    const ref = reference(definitionsOf(this).add(workflowKind, name, steps as unknown as WorkflowStep[], config));
    if (config.tool) this.exposeWorkflow(name, config.tool === true ? {} : config.tool);
    return ref;
  }

  /** @internal Offers workflow `name` to the model as a tool (PromptContext can; a directive run's ctx cannot). */
  protected exposeWorkflow(name: string, _tool: WorkflowToolConfig): void {
    throw new ConfigError(`defWorkflow("${name}"): 'tool' offers a workflow to the model of a runPrompt run; this ctx has no model tools (call ctx.runWorkflow instead)`);
  }

  /**
   * Runs workflow `name` with `input` (inside tools, hooks, agents and workflow steps) and resolves
   * with its output, every step's result and the final state. Rejects with `WorkflowError` (a step
   * failed with no onError route, or a loop passed maxIterations) or `TimeoutError` (maxDuration).
   * `options.state` sets the initial state (default: a copy of an object input, else `{}`).
   */
  async runWorkflow<Output = unknown>(name: string, input?: unknown, options: { state?: Record<string, unknown> } = {}): Promise<WorkflowResult<Output>> {
    const run = this.live('runWorkflow', workflowKind, name);
    c.checkOptions(`ctx.runWorkflow("${name}")`, options, { state: c.object });
    checkJsonArgument(`ctx.runWorkflow("${name}")`, 'input', input);
    checkJsonArgument(`ctx.runWorkflow("${name}")`, 'state', options.state);
    const fields: Record<string, unknown> = { run: run.runId, name, input: input ?? null };
    if (options.state !== undefined) fields.state = options.state;
    return (await run.engine.request('workflow.run', { ...fields, ...scopeField(run.engine) })) as WorkflowResult<Output>;
  }

  // ---- resources (docs/orchestration.md)

  /**
   * Defines resource `name` of `type` (a label: 'filesystem', 'postgres' ...): a value the run's
   * tools and workflow steps share through `resources.get(name)`. The engine initializes it on the
   * first get (once for concurrent first gets), health-checks it before later gets (re-initializing
   * an unhealthy one, with `retryPolicy`), and cleans it up when this run ends, however it ends,
   * newest resource first.
   */
  defResource<T>(name: string, type: string, config: ResourceConfig<T> = {}): Reference {
    return reference(definitionsOf(this).add(resourceKind, name, type, config));
  }

  /**
   * Defines resource pool `name`: values made by `factory`, at most `max`, lent to one caller at a
   * time (`resources.acquire` / `release`, or `resources.use(name, fn)`). Acquirers wait in line
   * first come, first served, at most `acquireTimeout` ms; the pool is drained when this run ends.
   */
  defResourcePool<T>(name: string, factory: () => T | Promise<T>, config: ResourcePoolConfig<T> = {}): Reference {
    return reference(definitionsOf(this).add(resourcePoolKind, name, factory, config));
  }

  // ---- pipelines, parallel groups, batchers (docs/orchestration.md)

  /**
   * Defines a pipeline: stages the engine runs in a line, each `fn` getting the previous stage's
   * output (the first gets the input), with per-stage `retries`/`retry` and `timeout`. Run it with
   * {@link executePipeline}.
   */
  defPipeline(name: string, stages: PipelineStage[]): Reference {
    // A pipeline has no options of its own: a third argument would be silently lost.
    if (arguments.length > 2)
      throw new ConfigError(`defPipeline("${String(name)}"): takes (name, stages) only, got ${arguments.length} arguments; a stage's options (retries, retry, timeout) go on the stage ({stage, fn, timeout})`);
    return reference(definitionsOf(this).add(pipelineKind, name, stages));
  }

  /**
   * Runs pipeline `name` with `input` (inside tools, hooks, agents and flow callbacks) and resolves
   * with the last stage's output. Rejects with `PipelineError` naming the stage that failed.
   */
  async executePipeline<Output = unknown>(name: string, input?: unknown): Promise<Output> {
    const run = this.live('executePipeline', pipelineKind, name);
    checkJsonArgument(`ctx.executePipeline("${name}")`, 'input', input);
    return (await run.engine.request('pipeline.run', { run: run.runId, ...scopeField(run.engine), name, input: input ?? null })) as Output;
  }

  /**
   * Defines a parallel group: named tasks the engine runs concurrently, aggregated as
   * `options.aggregation` says (`all`, `first`, `majority`, `consensus`), within `timeout`, with
   * `minSuccess`. Run it with {@link executeParallel}.
   */
  defParallel(name: string, tasks: Record<string, ParallelTask>, options: ParallelOptions = {}): Reference {
    return reference(definitionsOf(this).add(parallelKind, name, tasks, options));
  }

  /**
   * Runs parallel group `name` with `input` (each task gets it) and resolves with the aggregate:
   * `all` — the results by task name; `first`, `majority`, `consensus` — the one result. Rejects with
   * `ParallelError` (too few successes, no majority, no consensus) listing each task's error.
   */
  async executeParallel<Output = unknown>(name: string, input?: unknown): Promise<Output> {
    const run = this.live('executeParallel', parallelKind, name);
    checkJsonArgument(`ctx.executeParallel("${name}")`, 'input', input);
    return (await run.engine.request('parallel.run', { run: run.runId, ...scopeField(run.engine), name, input: input ?? null })) as Output;
  }

  /** Defines a batcher: {@link batch} items are grouped up to `maxSize` or `maxWait` ms and processed together. */
  defBatcher<Item = unknown, Result = unknown>(name: string, config: BatcherConfig<Item, Result>): Reference {
    return reference(definitionsOf(this).add(batcherKind, name, config as unknown as BatcherConfig));
  }

  /**
   * Adds `item` (JSON) to batcher `name`'s open batch and resolves with its own result once the batch
   * is processed. Rejects with `BatchError` when the processor fails or returns the wrong number of results.
   */
  async batch<Result = unknown>(name: string, item: unknown): Promise<Result> {
    const run = this.live('batch', batcherKind, name);
    checkJsonArgument(`ctx.batch("${name}")`, 'item', item);
    return (await run.engine.request('batch.add', { run: run.runId, ...scopeField(run.engine), name, item: item ?? null })) as Result;
  }

  /**
   * Calls tool `name` of the run through its whole call pipeline (guards, approval, retry, cache ...)
   * while the run is live, and resolves with its result.
   */
  async runTool<Result = unknown>(name: string, args?: unknown): Promise<Result> {
    const run = this.live('runTool');
    checkJsonArgument(`ctx.runTool("${name}")`, 'args', args);
    return (await run.engine.request('workflow.tool', { run: run.runId, ...scopeField(run.engine), name, args: args ?? {}, caller: 'runTool' })) as Result;
  }

  /** Calls `defAgent` `name` of the run (a sub-run of the tree, as when the model calls it) and resolves with its answer. */
  async runAgent<Result = unknown>(name: string, args?: unknown): Promise<Result> {
    const run = this.live('runAgent');
    checkJsonArgument(`ctx.runAgent("${name}")`, 'args', args);
    return agentAnswer(await run.engine.request('workflow.tool', { run: run.runId, ...scopeField(run.engine), name, args: args ?? {}, caller: 'runAgent' })) as Result;
  }

  // ---- memory (docs/memory.md)

  /**
   * Defines memory `name`: texts stored with `ctx.memory(name).store(...)` are embedded with
   * `embeddingModel` into an HNSW index the engine keeps, and found again by meaning with `search`.
   */
  defMemory(name: string, type: MemoryType, config: MemoryConfig): Reference {
    return reference(definitionsOf(this).add(memoryKind, name, type, config));
  }

  /**
   * Defines a context window: before every model call of the run the engine keeps the messages that
   * fit `maxTokens − reserveTokens` (by `prioritize`), never a tool result without its call, and
   * reports what it left out with a `context-trimmed` event.
   */
  defContext(name: string, strategy: ContextStrategy, config: ContextConfig): Reference {
    return reference(definitionsOf(this).add(contextKind, name, strategy, config));
  }

  /** The handle of `vector` or `temporal` memory `name` (in the prompt function, tools, hooks and agents). */
  memory(name: string): MemoryHandle {
    if (this.memoryType('ctx.memory', name) === 'graph')
      throw new ConfigError(`ctx.memory: memory ${JSON.stringify(name)} is a graph memory; use ctx.graphMemory(${JSON.stringify(name)}) (entities and relations)`);
    return new MemoryHandle(name, (fields) => this.memoryRun(fields, name), this.memoryType('ctx.memory', name), this.memoryMetric(name));
  }

  /** The handle of `graph` memory `name`: entities, relations and neighbourhood queries (docs/memory.md). */
  graphMemory(name: string): GraphMemoryHandle {
    const type = this.memoryType('ctx.graphMemory', name);
    if (type !== 'graph') throw new ConfigError(`ctx.graphMemory: memory ${JSON.stringify(name)} is a ${type} memory; use ctx.memory(${JSON.stringify(name)})`);
    return new GraphMemoryHandle(name, (fields) => this.memoryRun(fields, name), this.memoryMetric(name));
  }

  /** @internal Memory `name`'s handle for a directive conversation at `path`: its memory events carry that path. */
  memoryAt(name: string, graph: boolean, path: readonly string[]): MemoryHandle | GraphMemoryHandle {
    const run = (fields: Record<string, unknown>) => this.memoryRun({ ...fields, path }, name);
    return graph ? new GraphMemoryHandle(name, run, this.memoryMetric(name)) : new MemoryHandle(name, run, this.memoryType('ctx.memory', name), this.memoryMetric(name));
  }

  private memoryMetric(name: string): string | undefined {
    return definitionsOf(this).get(memoryKind, name)?.config.metric;
  }

  /** The type of defined memory `name`; a ConfigError naming the defined ones when there is none. */
  private memoryType(where: string, name: string): MemoryType {
    const stored = definitionsOf(this).get(memoryKind, name);
    if (!stored) {
      throw new ConfigError(`${where}: ${c.unknownName('memory', name, definitionsOf(this).names(memoryKind), 'defined with ctx.defMemory')}`);
    }
    return stored.type;
  }

  /**
   * Embeds `values` with `model` through the engine (one batch; usage counted in the run's token
   * budgets that track `'embeddings'`).
   */
  async embed(values: string[], model: string | EmbeddingModel): Promise<EmbedResult> {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new ConfigError(`ctx.embed: expected an array of strings, got ${c.describe(values)}`);
    const resolved = resolveEmbeddingModel(model);
    return (await this.memoryRun({ action: 'embed', values }, undefined, resolved)) as EmbedResult;
  }

  /** One `memory` run: in the live run's tree, or before the run with the memory's definition. */
  private async memoryRun(fields: Record<string, unknown>, memory: string | undefined, model?: EmbeddingModel): Promise<unknown> {
    const live = liveRuns.get(this) ?? configuring.get(this);
    const pre = preRuns.get(this);
    if (!live && !pre)
      throw new NotRunningError(
        'ctx.memory() and ctx.embed() work in a prompt function and while its run is live (a directive run\'s define only defines: use yield* L.memory(name) in the agent, or ctx.memory in its tools)',
      );
    const engine = live ? live.engine : await pre!.engine();
    const host = EngineHost.of(engine);
    const spec: Record<string, unknown> = { kind: 'memory', ...fields };
    if (model) spec.model = host.addEmbeddingModel(model);
    // The memory's own model calls (summaries, extraction) reach the run's models and the memory's `model`.
    const models: RunModels = { models: new Map(), onText: () => {}, conversation: [], callId: newCallId(), parent: live ? host.run(live.runId) : undefined };
    let detach = () => {};
    const options = { onStarted: (id: number) => (detach = host.attach(id, models)) };
    if (live) {
      if (live.model !== undefined) spec.runModel = live.model;
      return engine.startRun({ ...spec, parentRun: live.runId }, options).finally(() => detach());
    }
    const storage = pre!.storage?.(engine);
    try {
      if (storage) spec.storage = storage.name;
      if (pre!.sessionId !== undefined) spec.sessionId = pre!.sessionId;
      if (pre!.model !== undefined) spec.runModel = addModel(models, pre!.model);
      if (memory !== undefined) {
        const marshal = memoryMarshal(engine, models);
        // Only the memory's own definition: the others' callbacks (a guard's condition, a cache's
        // keyGenerator) cannot be registered before the prompt run, and this run does not need them.
        const wire = definitionsOf(this).oneToWire(memoryKind, memory, marshal);
        spec.definitions = wire ? [wire] : [];
      }
      // The prompt function runs again when a durable run is replayed: it sends this run again.
      return await engine.startRun(spec, { ...options, replayed: true });
    } finally {
      detach();
      storage?.release();
    }
  }

  // ---- metrics (docs/observability.md)

  /**
   * Defines a metric kept in the engine: a `counter` (adds up), a `histogram` (counts into
   * `buckets`) or a `gauge` (keeps the last value, or `aggregation` sum/max/min), recorded with
   * {@link recordMetric} under the given `labels`. A name keeps one definition per engine.
   */
  defMetric(name: string, type: MetricType, config: MetricConfig = {}): Reference {
    return reference(definitionsOf(this).add(metricKind, name, type, config));
  }

  /**
   * Records `value` for metric `name` with `labels` (exactly the defined ones) while the run is live.
   * Throws MetricError at once for an unknown metric, a bad label or value; the promise settles
   * when the engine has it (awaiting it is optional).
   */
  recordMetric(name: string, value: number, labels?: Record<string, string | number | boolean>): Promise<void> {
    const set = definitionsOf(this);
    const checked = checkRecording(name, value, labels, (n) => set.get(metricKind, n), set.names(metricKind));
    const run = this.live('recordMetric');
    const sent = run.engine.request('metric.record', { run: run.runId, name, value, labels: checked }).then(() => undefined);
    sent.catch(() => {});
    return sent;
  }

  // ---- logging (docs/observability.md)

  /**
   * Defines a structured logger: records at `level` and above, as JSON lines or pretty text, to the
   * console, a file (Node, appended) or your function, with `fields` on every record and `redact`
   * keys masked at any depth (secret headers and API keys always). `ctx.logger` writes to every
   * logger defined here and in the parent runs.
   */
  defLogger(name: string, config: LoggerConfig = {}): Reference {
    return reference(definitionsOf(this).add(loggerKind, name, config));
  }

  /**
   * The run's logger (`debug|info|warn|error(msg, fields)`, `child(fields)`), usable in the prompt
   * function, tools, hooks and event handlers. Without a `defLogger`, warnings and errors still
   * reach the console.
   */
  get logger(): Logger {
    let group = loggerGroups.get(this);
    if (!group) {
      const set = definitionsOf(this);
      group = new LoggerGroup(() => set.values(loggerKind));
      loggerGroups.set(this, group);
    }
    return group;
  }

  // ---- tracing (docs/observability.md)

  /**
   * Traces the run tree with OpenTelemetry: a span per run, step, model call (GenAI semantic
   * conventions), tool call, approval wait, retry and fallback, sub-agents and branches under their
   * parents. Spans go to `exporters` (`'console'`, `'otlp'`, `'jaeger'` or SDK exporters), to
   * `tracerProvider`, or to the globally registered provider. Define it on the root run.
   */
  defTracing(name: string, config: TracingConfig = {}): Reference {
    return reference(definitionsOf(this).add(tracingKind, name, config));
  }

  // ---- events (docs/observability.md)

  /**
   * Handles lifecycle event `name` (`onRunStart`, `onStepStart`, `onStepFinish`, `onModelCall`,
   * `onToolStart`, `onToolEnd`, `onError`, `onTokenThreshold`, `onApproval`, `onStateChange`,
   * `onRunFinish`) or custom event `name` (raised with {@link emit} or `L.event(name, data)`), for this
   * run and the sub-agents and branches below it. Handlers run one at a time in event order, off the
   * run's critical path; the run's result settles once they are done. A handler that throws becomes an
   * `error` event (severity `warning`, source `handler`) and the run goes on.
   */
  defEvent<N extends LifecycleEventName>(name: N, handler: EventHandler<LifecycleEvent<N>>, options?: EventOptions): void;
  defEvent(name: string, handler: EventHandler<CustomEvent>, options?: EventOptions): void;
  defEvent(name: string, handler: EventHandler<never>, options?: EventOptions): void {
    addEventHandler(definitionsOf(this), name, handler, options);
  }

  /**
   * Raises custom event `name` with JSON `data`: an `emitted` event `{name, value}` on the run's event
   * path (`onEvent`, `fullStream`) that `defEvent(name, handler)` handlers receive. Before the run
   * starts it is queued and raised right after `run-start`. The promise settles once the engine has it
   * (awaiting it is optional).
   */
  emit(name: string, data?: unknown): Promise<void> {
    const eventName = checkCustomEventName(name, 'ctx.emit');
    const problem = data === undefined ? undefined : jsonProblem(data, 'data');
    if (problem) throw new ConfigError(`ctx.emit("${eventName}"): ${problem} (event data must be JSON)`);
    const value = (data === undefined ? null : plainCopy(data)) as JsonValue;
    const run = liveRuns.get(this);
    if (!run) {
      if (endedRuns.has(this)) throw new NotRunningError(`ctx.emit("${eventName}"): the run ended; custom events are raised before or while it runs`);
      pendingEmits.set(this, [...(pendingEmits.get(this) ?? []), { name: eventName, value }]);
      return Promise.resolve();
    }
    const sent = run.engine.request('event.emit', { run: run.runId, name: eventName, value }).then(() => undefined);
    sent.catch(() => {}); // not awaiting it is fine; an awaiting caller still sees the rejection
    return sent;
  }

  // ---- while the run is live

  /** Asks approval `name` about `context`; resolves with the decision the engine applied. */
  async requestApproval(name: string, context?: unknown): Promise<ApprovalResult> {
    const run = this.live('requestApproval', approvalKind, name);
    return (await run.engine.request('approval.request', { run: run.runId, name, context: context ?? null })) as ApprovalResult;
  }

  /** Asks interaction `name`; resolves with the (validated) answer, zod's output for a zod `validation`. */
  async interact(name: string, context?: unknown): Promise<InteractionResult> {
    const run = this.live('interact', interactionKind, name, true);
    const { request: _request, ...answer } = (await run.engine.request('interaction.request', { run: run.runId, name, context: context ?? null })) as InteractionResult & { request: string };
    const validation = definitionsOf(this).get(interactionKind, name)?.validation;
    if (!answer.skipped && answer.reason === undefined && parsedByZod(validation)) answer.value = await parsedOrThrow(validation, answer.value, `interaction "${name}": the answer does not match its validation`);
    return answer;
  }

  /**
   * Asks a person for help while the run is live: the run's `onInteraction` handler gets a request
   * named `humanIntervention` whose `context` is `{reason, severity, data}` and whose `message` is
   * `event.message ?? event.reason` (with `choices` when given). Resolves with the answer, or
   * `{skipped: true}` when the handler skips (returns undefined) or, after `timeout`, with `default`.
   */
  async requestHumanIntervention(event: HumanInterventionEvent): Promise<InteractionResult> {
    const fields = interventionRequest(event);
    const run = this.live('requestHumanIntervention', undefined, undefined, true);
    const { request: _request, ...answer } = (await run.engine.request('interaction.request', { run: run.runId, ...fields })) as InteractionResult & { request: string };
    return answer;
  }

  /** A defined breaker, for your own calls while the run is live (inside tools, hooks and agents). */
  circuitBreaker(name: string): CircuitBreakerHandle {
    const run = this.live('circuitBreaker', circuitBreakerKind, name);
    return new CircuitBreakerHandle(run.engine, run.runId, name);
  }

  /**
   * Asks every context (`defContext`) of the run to fold the conversation so far — all but the
   * newest turn and its `keepMinimum` messages — into its summary before the next model call,
   * whatever its `summarization.trigger` (docs/memory.md, "Summarization"). Resolves with the
   * names of the contexts asked; rejects with `ConfigError` when the run defines none.
   */
  async summarizeContext(): Promise<{ contexts: string[] }> {
    const run = this.live('summarizeContext');
    try {
      return (await run.engine.request('context.summarize', { run: run.runId })) as { contexts: string[] };
    } catch (err) {
      if (err instanceof ProtocolError && /defines no context/.test(err.message)) throw new ConfigError(`ctx.summarizeContext(): the run defines no context to summarize (defContext)`);
      throw err;
    }
  }

  /** Rejects with `BudgetExceededError` naming the first exceeded constraint; resolves with the totals otherwise. */
  async checkConstraints(): Promise<ConstraintTotals> {
    const run = this.live('checkConstraints');
    return (await run.engine.request('constraints.check', { run: run.runId })) as ConstraintTotals;
  }

  /** The live run (`whileConfiguring`: also a sub-agent's parent run while its configure function runs). */
  private live(what: string, kind?: Parameters<DefinitionSet['has']>[0], name?: string, whileConfiguring = false): LiveRun {
    if (kind && name !== undefined && !definitionsOf(this).has(kind, name)) {
      const defined = definitionsOf(this).names(kind).join(', ') || 'none';
      throw new ConfigError(`ctx.${what}: unknown ${kind.noun} ${JSON.stringify(name)} (defined: ${defined})`);
    }
    const run = liveRuns.get(this) ?? (whileConfiguring ? configuring.get(this) : undefined);
    if (!run) throw new NotRunningError(`ctx.${what}() works only while the run is live (inside tools, hooks, agents and workflow steps)`);
    return run;
  }
}
