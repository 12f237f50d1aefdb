/**
 * `defParallel` as a definition kind (docs/orchestration.md): named tasks the engine runs
 * concurrently and aggregates (`all`, `first`, `majority`, `consensus`, with `minSuccess`), cancelling
 * the tasks it no longer needs. Tasks, `compare` and a `judge` function are engine callbacks; a judge
 * model is a model of the run that the engine calls once through the run's model chain.
 */
import * as c from '../config/check.js';
import type { CallbackContext } from '../engine.js';
import type { LanguageModel } from '../providers/types.js';
import type { DefinitionKind, Marshal } from './kind.js';

/** How a group's results become one. */
export type ParallelAggregation = 'all' | 'first' | 'majority' | 'consensus';

/** What a task gets after the input. */
export interface ParallelTaskContext {
  /** The group's name and this task's. */
  readonly parallel: string;
  readonly task: string;
  /** Aborted when the task is no longer needed (`first` won, a majority was reached), the group's `timeout` passed, or the run ended. */
  readonly abortSignal: AbortSignal;
}

/** A task of `defParallel`: gets the input of `ctx.executeParallel` and returns JSON. */
export type ParallelTask = (input: never, task: ParallelTaskContext) => unknown;

/**
 * A judge model for `majority` / `consensus` (docs/orchestration.md): when the results do not agree
 * by `compare` or deep equality, the engine asks this model once — through the run's model chain, so
 * retries, fallbacks, budgets and tracing apply — which candidate's answer the majority (or every
 * task) supports, and takes that candidate's result.
 */
export interface JudgeModel {
  /** The judge: `'provider:model'` or a model object. Default: the run's own model. */
  model?: string | LanguageModel;
  /** Added to the judge's system prompt, e.g. what makes two answers the same. */
  instructions?: string;
}

/** A judge: a function of the results by task that returns the answer (throw: no agreement), or a {@link JudgeModel}. */
export type Judge<Result = never> = ((results: Record<string, Result>) => unknown) | JudgeModel;

/** Options of `defParallel`. */
export interface ParallelOptions {
  /**
   * `all` (default): an object of every successful task's result by name. `first`: the first success;
   * the other tasks are cancelled. `majority`: the result more than half of the tasks gave (decided as
   * soon as it has them; the rest are cancelled). `consensus`: the result every successful task gave.
   */
  aggregation?: ParallelAggregation;
  /** Time limit of the whole group, ms: tasks still running then are cancelled and count as failed. */
  timeout?: number;
  /** Tasks that must succeed (default: all of them for `all` and `consensus`, more than half for `majority`); not for `first`. */
  minSuccess?: number;
  /** Tasks running at once, at most (default: all). */
  concurrency?: number;
  /** `majority`/`consensus`: whether two results agree (default: deep equality of the JSON). */
  compare?: (a: never, b: never) => unknown;
  /**
   * `majority`/`consensus`: decides when the results do not agree. A function gets the results by
   * task and returns the answer (throw: no agreement); `{model, instructions?}` asks a judge model
   * which task's result the majority/consensus supports ({@link JudgeModel}).
   */
  judge?: Judge;
}

/** What `defParallel` keeps. */
export interface StoredParallel {
  tasks: Record<string, ParallelTask>;
  options: ParallelOptions;
}

const optionShape: c.Shape = {
  aggregation: c.oneOf('all', 'first', 'majority', 'consensus'),
  timeout: c.ms(),
  minSuccess: c.integer(1, 1000000),
  concurrency: c.integer(1, 1000000),
  compare: c.func,
  judge: c.either(c.func, c.object),
};

const modelLike: c.Check = (v) => (typeof v === 'string' ? c.nonEmpty(v) : typeof v === 'object' && v !== null ? undefined : "'provider:model' or a model object");

/** Checks a `judge` option (a function, or `{model?, instructions?}`); shared with `L.branch`. */
export function checkJudge(where: string, judge: unknown): void {
  if (c.isPlainObject(judge)) c.checkOptions(`${where}: judge`, judge, { model: modelLike, instructions: c.string }, 'field');
}

/** The wire form of `compare` and `judge` (engine callbacks, a model reference); shared with `L.branch`. */
export function wireJudging(options: { compare?: unknown; judge?: unknown }, marshal: Pick<Marshal, 'callback' | 'model'>, label: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { compare, judge } = options as { compare?: (a: unknown, b: unknown) => unknown; judge?: ((results: unknown) => unknown) | JudgeModel };
  if (compare) out.compare = marshal.callback(`${label} compare`, async (a: unknown, b: unknown) => Boolean(await compare(a, b)));
  if (typeof judge === 'function') out.judge = marshal.callback(`${label} judge`, async (results: unknown) => (await judge(results)) ?? null);
  else if (judge) out.judge = { ...(judge.model === undefined ? {} : { model: marshal.model(judge.model) }), ...(judge.instructions === undefined ? {} : { instructions: judge.instructions }) };
  return out;
}

export const parallelKind: DefinitionKind<Record<string, ParallelTask>, StoredParallel> = {
  kind: 'parallel',
  noun: 'parallel group',
  method: 'defParallel',
  check(where, tasks, options) {
    if (!c.isPlainObject(tasks) || Object.keys(tasks).length === 0) c.fail(where, `tasks must be an object of named functions {name: (input) => ...}, got ${c.describe(tasks)}`);
    for (const [name, task] of Object.entries(tasks)) {
      if (name === '') c.fail(where, 'a task needs a non-empty name (its result is reported under it)');
      if (typeof task !== 'function') c.fail(where, `task "${name}" must be a function, got ${c.describe(task)}`);
    }
    const o = c.checkOptions<ParallelOptions>(where, (options ?? {}), optionShape);
    checkJudge(where, o.judge);
    const count = Object.keys(tasks).length;
    if (o.minSuccess !== undefined && o.minSuccess > count) c.fail(where, `'minSuccess' is ${o.minSuccess} but there are only ${count} tasks`);
    if (o.minSuccess !== undefined && o.aggregation === 'first') c.fail(where, "'minSuccess' does not apply to aggregation 'first' (it takes the first success)");
    if ((o.compare ?? o.judge) && o.aggregation !== 'majority' && o.aggregation !== 'consensus') {
      c.fail(where, `'compare' and 'judge' apply to aggregation 'majority' and 'consensus', not to '${o.aggregation ?? 'all'}'`);
    }
    return { tasks: { ...tasks }, options: { ...o } };
  },
  wire({ tasks, options }, marshal) {
    const out: Record<string, unknown> = {
      tasks: Object.entries(tasks).map(([name, task]) => {
        const fn = task as (input: unknown, context: ParallelTaskContext) => unknown;
        return {
          name,
          fn: marshal.callback(`parallel task "${name}"`, async (input: unknown, at: TaskCall, call: CallbackContext) => {
            const value = await fn(input, { parallel: at.parallel, task: at.task, abortSignal: call.signal });
            return value === undefined ? null : value;
          }),
        };
      }),
    };
    for (const key of ['aggregation', 'timeout', 'minSuccess', 'concurrency'] as const) if (options[key] !== undefined) out[key] = options[key];
    return { ...out, ...wireJudging(options, marshal, 'parallel') };
  },
};

/** What the engine sends with a task's input (src/flow/parallel.cpp). */
interface TaskCall {
  parallel: string;
  task: string;
}
