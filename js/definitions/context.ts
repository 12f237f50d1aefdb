/**
 * The `def*` methods every run can use (resilience and human in the loop), and the run-time helpers
 * that consult the engine while the run is live (`requestApproval`, `interact`, `circuitBreaker`,
 * `checkConstraints`). `PromptContext` (runPrompt's `ctx`) extends it; a directive run gets one in
 * `run(agent, {define: (ctx) => ...})`. Each method is a thin typed wrapper over the one marshaller.
 */
import { ConfigError, NotRunningError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { Infer, JsonObject } from '../schema-types.js';
import { reference, type Reference } from '../prompt/names.js';
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

interface LiveRun {
  engine: Engine;
  runId: number;
}

const definitionSets = new WeakMap<DefinitionContext, DefinitionSet>();
const liveRuns = new WeakMap<DefinitionContext, LiveRun>();

/** @internal The definitions collected by `ctx`. */
export function definitionsOf(ctx: DefinitionContext): DefinitionSet {
  return definitionSets.get(ctx)!;
}

/** @internal Binds `ctx` to the run it defined, so its run-time helpers can reach the engine. */
export function bindRun(ctx: DefinitionContext, run: LiveRun | undefined): void {
  if (run) liveRuns.set(ctx, run);
  else liveRuns.delete(ctx);
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
  defValidator<S>(name: string, schema: S, fn?: ValidatorFn<Infer<S>>): Reference {
    return reference(definitionsOf(this).add(validatorKind, name, schema, fn));
  }

  /** Defines a question or choice to ask the user with {@link interact}. */
  defInteraction<Context = JsonObject>(name: string, kind: 'question' | 'choice', config: InteractionConfig<Context> = {}): Reference {
    return reference(definitionsOf(this).add(interactionKind, name, kind, config));
  }

  // ---- while the run is live

  /** Asks approval `name` about `context`; resolves with the decision the engine applied. */
  async requestApproval(name: string, context?: unknown): Promise<ApprovalResult> {
    const run = this.live('requestApproval', approvalKind, name);
    return (await run.engine.request('approval.request', { run: run.runId, name, context: context ?? null })) as ApprovalResult;
  }

  /** Asks interaction `name`; resolves with the (validated) answer. */
  async interact(name: string, context?: unknown): Promise<InteractionResult> {
    const run = this.live('interact', interactionKind, name);
    const { request: _request, ...answer } = (await run.engine.request('interaction.request', { run: run.runId, name, context: context ?? null })) as InteractionResult & { request: string };
    return answer;
  }

  /** A defined breaker, for your own calls while the run is live (inside tools, hooks and agents). */
  circuitBreaker(name: string): CircuitBreakerHandle {
    const run = this.live('circuitBreaker', circuitBreakerKind, name);
    return new CircuitBreakerHandle(run.engine, run.runId, name);
  }

  /** Rejects with `BudgetExceededError` naming the first exceeded constraint; resolves with the totals otherwise. */
  async checkConstraints(): Promise<ConstraintTotals> {
    const run = this.live('checkConstraints');
    return (await run.engine.request('constraints.check', { run: run.runId })) as ConstraintTotals;
  }

  private live(what: string, kind?: Parameters<DefinitionSet['has']>[0], name?: string): LiveRun {
    if (kind && name !== undefined && !definitionsOf(this).has(kind, name)) {
      const defined = definitionsOf(this).names(kind).join(', ') || 'none';
      throw new ConfigError(`ctx.${what}: unknown ${kind.noun} ${JSON.stringify(name)} (defined: ${defined})`);
    }
    const run = liveRuns.get(this);
    if (!run) throw new NotRunningError(`ctx.${what}() works only while the run is live (inside tools, hooks, agents and workflow steps)`);
    return run;
  }
}
