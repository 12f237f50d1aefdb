/**
 * `defWorkflow` as a definition kind (docs/orchestration.md). The engine owns the graph: step order,
 * conditions, onSuccess/onError routing, loops bounded by maxIterations, per-step retries (the retry
 * interceptor) and timeouts, maxDuration, and a `dependsOn` DAG. A step's `action` and `condition`
 * are engine callbacks; this file keeps, per execution, what the steps share on the JS side (the
 * input, the mutable `state`, the `results` the engine has sent) and builds each step's `wctx`.
 */
import * as c from '../config/check.js';
import type { CallbackContext, Engine } from '../engine.js';
import type { ApprovalResult } from '../run/human-host.js';
import { checkJsonArgument } from '../storage/checks.js';
import type { JsonValue } from '../storage/types.js';
import type { DefinitionKind } from './kind.js';
import { resourcesFor, type Resources } from './resource.js';

/** The error an `onError` handler step receives as `wctx.error`. */
export interface WorkflowStepError {
  /** The step that failed. */
  step: string;
  /** The wire kind of the failure: `callback` (the action threw), `timeout`, `guard` ... */
  kind: string;
  message: string;
  code?: string;
}

/** What a step's `action` and `condition` get. */
export interface WorkflowContext<State extends object = Record<string, unknown>> {
  /** The workflow's name and the step running. */
  readonly workflow: string;
  readonly step: string;
  /** What `ctx.runWorkflow(name, input)` was given. */
  readonly input: unknown;
  /** Shared by every step of this execution; read and write it (it must stay JSON). Starts as a copy of an object input, else `{}`. */
  state: State;
  /** The result of each step that has succeeded so far, by step id. */
  readonly results: Readonly<Record<string, unknown>>;
  /** The failure an `onError` handler step was routed for (absent otherwise). */
  readonly error?: WorkflowStepError;
  /** 1 for the first attempt, then 2, 3 ... when the step has `retries`. */
  readonly attempt: number;
  /** Aborted when this attempt is cancelled: its `timeout`, the workflow's `maxDuration`, or the run's end. */
  readonly abortSignal: AbortSignal;
  /** Calls a tool of the run through its whole call pipeline (guards, approval, retry, cache ...) and resolves with its result. */
  runTool(name: string, args?: unknown): Promise<unknown>;
  /** Calls a `defAgent` of the run (a sub-run of the tree, as when the model calls it) and resolves with its answer. */
  runAgent(name: string, args?: unknown): Promise<unknown>;
  /** Asks a `defApproval`; resolves with the decision (`action`: approve, deny or modify; a denial resolves too). */
  requestApproval(name: string, data?: unknown): Promise<ApprovalResult>;
  /** Emits a `workflow-event` run event with `data` (a JSON value). */
  emit(data: unknown): Promise<void>;
  /** The run's `defResource` values and `defResourcePool`s. */
  readonly resources: Resources;
}

/** One step of `defWorkflow(name, steps, config)`. */
export interface WorkflowStep<State extends object = Record<string, unknown>> {
  /** Unique within the workflow; `results[id]` holds the step's result. */
  id: string;
  /** The step's work; its (JSON) return value is `results[id]`. */
  action: (wctx: WorkflowContext<State>) => unknown;
  /** When it returns false, the step is skipped (its `onSuccess` route is not taken). */
  condition?: (wctx: WorkflowContext<State>) => unknown;
  /** The step to go to after this one succeeds (default: the next in the list). Routing back to an earlier step makes a loop. */
  onSuccess?: string;
  /** The step to go to when this one fails (it gets `wctx.error`); without it the workflow fails with `WorkflowError`. */
  onError?: string;
  /** Attempts after the first, with exponential backoff from 500 ms (through the retry interceptor: `retry` events). */
  retries?: number;
  /** A `defRetry` policy instead of `retries`. */
  retry?: string;
  /** Time limit of each attempt, ms (a timed-out attempt fails with kind `timeout` and is retried like any failure). */
  timeout?: number;
  /** Steps that must succeed first. A workflow with `dependsOn` runs as a DAG: each step starts as soon as its dependencies are done, concurrently with the others. */
  dependsOn?: string[];
  /**
   * Runs this step concurrently with the adjacent steps that also say `parallel: true` (a group); the
   * step after the group starts once every member has finished. A member that fails fails the
   * workflow (after the others finish); parallel steps cannot route (`onSuccess`/`onError`).
   */
  parallel?: boolean;
}

/** Options of `defWorkflow`. */
export interface WorkflowConfig {
  /** The whole execution's time limit, ms: past it the workflow fails with `TimeoutError` (code on the wire: WORKFLOW_TIMEOUT). */
  maxDuration?: number;
  /** How many times one step may run in a loop of routing (default 10); past it: `WorkflowError` WORKFLOW_LOOP_LIMIT. */
  maxIterations?: number;
  /** DAG workflows: steps in flight at most (default: no limit). */
  concurrency?: number;
  /**
   * Offers the workflow to the model as a tool of the same name (runPrompt only): its arguments are
   * the workflow's input and its result is the workflow's `output`. `true` for the defaults, or the
   * tool's `description` and `parameters` (a JSON Schema or zod schema; default: any object).
   */
  tool?: boolean | WorkflowToolConfig;
}

/** How a workflow looks to the model as a tool. */
export interface WorkflowToolConfig {
  /** What the model reads (default: `Runs workflow "<name>"`). */
  description?: string;
  /** The tool's parameters (default: any object). */
  parameters?: unknown;
}

/** What `ctx.runWorkflow` resolves with. */
export interface WorkflowResult<Output = unknown> {
  /** The result of the last step that succeeded (in run order; for a DAG, the last in list order). */
  output: Output;
  /** Every step's result by id. */
  results: Record<string, unknown>;
  /** The shared state at the end. */
  state: Record<string, unknown>;
  /** What happened to each step, in order: `success`, `skipped` or `error` (an error that was routed to a handler). */
  steps: Array<{ id: string; status: 'success' | 'skipped' | 'error'; error?: { kind: string; message: string } }>;
  /** The execution's number (per run, from 1), as in the workflow events. */
  execution: number;
}

/** What `defWorkflow` keeps. */
export interface StoredWorkflow {
  steps: WorkflowStep[];
  config: WorkflowConfig;
}

const stepShape: c.Shape = {
  id: c.nonEmpty,
  action: c.func,
  condition: c.func,
  onSuccess: c.nonEmpty,
  onError: c.nonEmpty,
  retries: c.integer(0, 100),
  retry: c.nonEmpty,
  timeout: c.ms(),
  dependsOn: c.stringList,
  parallel: c.boolean,
};

export const workflowKind: DefinitionKind<WorkflowStep[], StoredWorkflow> = {
  kind: 'workflow',
  noun: 'workflow',
  method: 'defWorkflow',
  check(where, steps, config) {
    if (!Array.isArray(steps) || steps.length === 0) c.fail(where, `steps must be a non-empty array of {id, action, ...}, got ${c.describe(steps)}`);
    const ids: string[] = [];
    steps.forEach((step, i) => {
      const at = `${where}: steps[${i}]`;
      if (!c.isPlainObject(step)) c.fail(at, `expected a step {id, action, ...}, got ${c.describe(step)}`);
      c.checkOptions(at, step, stepShape, 'field');
      if (typeof step.id !== 'string') c.fail(at, "'id' is required (a non-empty string)");
      if (typeof step.action !== 'function') c.fail(at, "'action' is required (a function of wctx)");
      const before = ids.indexOf(step.id);
      if (before >= 0) c.fail(at, `id "${step.id}" is already used by steps[${before}]`);
      if (step.retries !== undefined && step.retry !== undefined) c.fail(at, "give 'retries' (a count) or 'retry' (a defRetry name), not both");
      if (step.parallel === true && (step.onSuccess ?? step.onError) !== undefined) {
        c.fail(at, `a parallel step cannot route (${step.onSuccess !== undefined ? 'onSuccess' : 'onError'}); after its group the workflow goes on with the next step`);
      }
      ids.push(step.id);
    });
    const known = (step: WorkflowStep, field: 'onSuccess' | 'onError' | 'dependsOn', target: string | undefined) => {
      if (target === undefined || ids.includes(target)) return;
      const guess = c.nearest(target, ids);
      c.fail(`${where}: step "${step.id}"`, `${field} names unknown step "${target}" (${guess ? `did you mean "${guess}"? ` : ''}steps: ${ids.join(', ')})`);
    };
    for (const step of steps) {
      known(step, 'onSuccess', step.onSuccess);
      known(step, 'onError', step.onError);
      for (const dep of step.dependsOn ?? []) {
        known(step, 'dependsOn', dep);
        if (dep === step.id) c.fail(`${where}: step "${step.id}"`, 'dependsOn names the step itself, so it could never start');
      }
    }
    const dag = steps.some((step) => (step.dependsOn ?? []).length > 0);
    const handlers = new Set(steps.map((step) => step.onError).filter((id) => id !== undefined));
    for (const step of steps) {
      const at = `${where}: step "${step.id}"`;
      if (dag && step.parallel === true) c.fail(at, 'parallel cannot be combined with dependsOn in one workflow (a DAG already runs independent steps concurrently)');
      const route = step.onSuccess !== undefined ? 'onSuccess' : step.onError !== undefined ? 'onError' : undefined;
      if (dag && route) c.fail(at, `${route} cannot be combined with dependsOn in one workflow (a DAG runs each step once its dependencies are done)`);
      if (handlers.has(step.id) && step.parallel === true) c.fail(at, 'an onError handler cannot be a parallel step (it runs only when routed to)');
    }
    const cycle = dependencyCycle(steps);
    if (cycle) c.fail(where, `dependsOn forms a cycle, so none of its steps could start: ${cycle.join(' → ')}`);
    const o = c.checkOptions<WorkflowConfig>(where, (config ?? {}), {
      maxDuration: c.ms(),
      maxIterations: c.integer(1, 100000),
      concurrency: c.integer(1, 100000),
      tool: c.either(c.boolean, c.object),
    });
    if (c.isPlainObject(o.tool)) c.checkOptions(`${where}: tool`, o.tool, { description: c.string, parameters: c.anything });
    return { steps: steps.map((s) => ({ ...s })), config: { ...o } };
  },
  wire({ steps, config }, marshal) {
    const executions = new Map<number, Execution>();
    const out: Record<string, unknown> = {
      steps: steps.map((step) => {
        const wireStep: Record<string, unknown> = { id: step.id };
        // A durable run's replay answers steps from its journal: the execution's input and state are rebuilt from them.
        const observe = (args: unknown[], done: { ok: boolean; value?: unknown }) => {
          const execution = executionOf(executions, args[0] as StepCall);
          const state = (done.value as { state?: unknown } | null | undefined)?.state;
          if (done.ok && c.isPlainObject(state)) execution.state = state;
        };
        wireStep.action = marshal.callback(`workflow step "${step.id}"`, async (w: StepCall, call: CallbackContext) => {
          const exec = executionOf(executions, w);
          const stepState = new StepState(exec, call.signal);
          const wctx = contextOf(exec, w, call, marshal.engine, stepState);
          let value: unknown;
          try {
            value = await step.action(wctx);
          } finally {
            stepState.done = true;
          }
          // As for a tool, what JSON cannot hold (undefined, a function) is null, not a missing value.
          const json = value === undefined || typeof value === 'function' || typeof value === 'symbol' ? null : value;
          return { value: json, state: stepState.value as JsonValue };
        }, { traits: { observe } });
        if (step.condition) {
          const condition = step.condition;
          wireStep.condition = marshal.callback(
            `the condition of workflow step "${step.id}"`,
            async (w: StepCall, call: CallbackContext) => Boolean(await condition(contextOf(executionOf(executions, w), w, call, marshal.engine))),
            { traits: { observe: (args: unknown[]) => void executionOf(executions, args[0] as StepCall) } },
          );
        }
        for (const key of ['onSuccess', 'onError', 'retries', 'retry', 'timeout', 'dependsOn', 'parallel'] as const) if (step[key] !== undefined) wireStep[key] = step[key];
        return wireStep;
      }),
    };
    if (config.maxDuration !== undefined) out.maxDuration = config.maxDuration;
    if (config.maxIterations !== undefined) out.maxIterations = config.maxIterations;
    if (config.concurrency !== undefined) out.concurrency = config.concurrency;
    return out;
  },
};

/** A cycle of `dependsOn` (its step ids, the first repeated at the end), or undefined. */
function dependencyCycle(steps: WorkflowStep[]): string[] | undefined {
  const dependsOn = new Map(steps.map((step) => [step.id, step.dependsOn ?? []]));
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const at = path.indexOf(id);
    if (at >= 0) return [...path.slice(at), id];
    if (done.has(id)) return undefined;
    path.push(id);
    for (const dep of dependsOn.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(id);
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** What the engine sends a step's callback (src/flow/workflow.hpp). */
interface StepCall {
  workflow: string;
  execution: number;
  step: string;
  kind: 'action' | 'condition';
  attempt: number;
  results: Array<[string, JsonValue]>;
  start?: { input: JsonValue; state: JsonValue };
  error?: WorkflowStepError;
}

/** What the steps of one execution share on the JS side. */
interface Execution {
  input: unknown;
  state: Record<string, unknown>;
  results: Record<string, unknown>;
}

/** The execution a step call belongs to (started by its first step's call), with the results so far. */
function executionOf(executions: Map<number, Execution>, w: StepCall): Execution {
  let execution = executions.get(w.execution);
  if (!execution || w.start) {
    const state = w.start?.state;
    execution = { input: w.start?.input ?? null, state: c.isPlainObject(state) ? state : {}, results: {} };
    executions.set(w.execution, execution);
  }
  for (const [id, value] of w.results) execution.results[id] = value;
  return execution;
}

/**
 * The state one action call sees: the execution's, shared with its other steps, until the call is
 * cancelled (its timeout, a lost race) while it still runs. Then it keeps the object it had and the
 * execution goes on with a copy, so what the cancelled call writes later is never taken.
 */
class StepState {
  private own: Record<string, unknown> | undefined;
  /** The call returned: a later abort (the run's end) changes nothing. */
  done = false;

  constructor(
    private readonly exec: Execution,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.detach(), { once: true });
  }

  get value(): Record<string, unknown> {
    return this.own ?? this.exec.state;
  }

  set value(value: Record<string, unknown>) {
    if (this.own) this.own = value;
    else this.exec.state = value;
  }

  private detach(): void {
    if (this.done) return;
    try {
      const copy = JSON.parse(JSON.stringify(this.exec.state)) as Record<string, unknown>;
      this.own = this.exec.state;
      this.exec.state = copy;
    } catch {
      // Not JSON (a cycle): the execution cannot go on with it anyway.
    }
  }
}

function contextOf(exec: Execution, w: StepCall, call: CallbackContext, engine: Engine | undefined, stepState?: StepState): WorkflowContext {
  const live = (what: string): Engine => {
    if (!engine) throw new TypeError(`wctx.${what}: this run cannot reach the engine`);
    return engine;
  };
  const request = (what: string, type: string, fields: Record<string, unknown>) => {
    const e = live(what);
    // `scope`: the tools and agents the step starts are cancelled with its op (a timeout, a lost race).
    const scope = type.startsWith('workflow.') ? { scope: call.opId } : {};
    return e.waitOnEngine(call.opId, e.request(type, { run: call.runId, ...scope, ...fields }));
  };
  return {
    workflow: w.workflow,
    step: w.step,
    input: exec.input,
    get state() {
      return stepState ? stepState.value : exec.state;
    },
    set state(value: Record<string, unknown>) {
      if (stepState) stepState.value = value;
      else exec.state = value;
    },
    results: exec.results,
    ...(w.error ? { error: w.error } : {}),
    attempt: w.attempt,
    abortSignal: call.signal,
    runTool: async (name, args) => {
      checkJsonArgument(`wctx.runTool("${name}")`, 'args', args);
      return request('runTool', 'workflow.tool', { name, args: args ?? {}, caller: 'runTool' });
    },
    runAgent: async (name, args) => {
      checkJsonArgument(`wctx.runAgent("${name}")`, 'args', args);
      return agentAnswer(await request('runAgent', 'workflow.tool', { name, args: args ?? {}, caller: 'runAgent' }));
    },
    requestApproval: async (name, data) => {
      checkJsonArgument(`wctx.requestApproval("${name}")`, 'data', data);
      return (await request('requestApproval', 'approval.request', { name, context: data ?? null })) as ApprovalResult;
    },
    resources: resourcesFor(engine, call),
    emit: async (data) => {
      checkJsonArgument('wctx.emit', 'data', data);
      await request('emit', 'workflow.emit', { workflow: w.workflow, execution: w.execution, step: w.step, data: data ?? null });
    },
  };
}

/**
 * What `runAgent` resolves with: an agent's answer that is one JSON object is parsed (the proposal's
 * workflows read fields of an agent's result, e.g. `wctx.results.analyze.changesNeeded`, without a
 * responseSchema); any other text stays text.
 */
export function agentAnswer(answer: unknown): unknown {
  if (typeof answer !== 'string' || !/^\s*\{[\s\S]*\}\s*$/.test(answer)) return answer;
  try {
    const parsed: unknown = JSON.parse(answer);
    return c.isPlainObject(parsed) ? parsed : answer;
  } catch {
    return answer;
  }
}
