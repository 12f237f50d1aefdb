/**
 * The public calls of durable runs (docs/durable-runs.md): `resume` and `replay` of a prompt run or
 * a directive run, and `loadJournal`. A durable run is started with `runPrompt(fn, {..., durable:
 * {id, storage}})` or `run(agent, {..., durable: {id, storage}})`.
 */
import * as c from '../config/check.js';
import { startDirective, type DirectiveRunPromise, type RunConfig } from '../directive/driver.js';
import type { AgentLike } from '../directive/directives.js';
import { ConfigError } from '../errors.js';
import type { PromptContext } from '../prompt/context.js';
import type { OutputSpec } from '../prompt/output.js';
import { promptRun, startRunPrompt, type ObjectOf, type PartialOf, type PromptConfig, type PromptRun } from '../prompt/run-prompt.js';
import type { DurableStart, ResumeDurableOptions } from './durable.js';
import type { Journal } from './journal.js';

export { deleteJournal, loadJournal } from './journal.js';

/** The config of {@link resume} for a prompt run: the original run's config, with the same `durable.storage`. */
export type ResumeConfig<SCHEMA = unknown, OUTPUT extends OutputSpec | undefined = OutputSpec | undefined> = Omit<PromptConfig<SCHEMA, Record<string, unknown>, OUTPUT>, 'durable'> & { durable: ResumeDurableOptions };

/** The config of {@link resume} for a directive run: the original run's config, with the same `durable.storage`. */
export type ResumeRunConfig<Tools = Record<string, unknown>> = Omit<RunConfig<Tools>, 'durable'> & { durable: ResumeDurableOptions };

/**
 * Continues durable run `id` from its journal in `config.durable.storage`, after a crash, a
 * `kill -9`, a page reload or `prompt.suspend()`. `fn` (or the directive `agent`) and `config`
 * are the original run's: the code runs again, everything the journal holds is answered from it
 * (no model call, tool call or approval is repeated), and the run goes on live from where it
 * stopped. A tool call that had started but not completed runs again only if the tool is
 * `idempotent` (else `durable.onInterrupted` decides, or it fails with `InterruptedError`); a
 * pending approval is asked again. A corrupt journal is a `JournalError` and nothing runs.
 */
export function resume<SCHEMA = undefined, OUTPUT extends OutputSpec | undefined = undefined>(id: string, fn: (ctx: PromptContext) => unknown, config: ResumeConfig<SCHEMA, OUTPUT>): PromptRun<ObjectOf<SCHEMA, OUTPUT>, PartialOf<SCHEMA, OUTPUT>>;
export function resume<T, Tools = Record<string, unknown>>(id: string, agent: AgentLike<T>, config: ResumeRunConfig<Tools>): DirectiveRunPromise<T>;
export function resume(id: string, code: unknown, config: ResumeConfig | ResumeRunConfig): PromptRun<unknown> | DirectiveRunPromise<unknown> {
  return start(code, config, { kind: 'resume', id }, 'resume');
}

/**
 * Re-runs a recorded run from its journal (`prompt.journal` or `loadJournal(id, storage)`) with
 * no model, tool, approval or network: the result, steps and events are those of the recorded
 * run. The code and config must be the recorded run's; a run that asks for something else than
 * the journal holds fails with `ReplayDivergenceError` naming the journal record.
 */
export function replay<SCHEMA = undefined, OUTPUT extends OutputSpec | undefined = undefined>(journal: Journal, fn: (ctx: PromptContext) => unknown, config: Omit<PromptConfig<SCHEMA, Record<string, unknown>, OUTPUT>, 'durable'>): PromptRun<ObjectOf<SCHEMA, OUTPUT>, PartialOf<SCHEMA, OUTPUT>>;
export function replay<T, Tools = Record<string, unknown>>(journal: Journal, agent: AgentLike<T>, config: Omit<RunConfig<Tools>, 'durable'>): DirectiveRunPromise<T>;
export function replay(journal: Journal, code: unknown, config: Omit<PromptConfig, 'durable'> | Omit<RunConfig, 'durable'>): PromptRun<unknown> | DirectiveRunPromise<unknown> {
  return start(code, config, { kind: 'replay', journal }, 'replay');
}

/** A directive run's config has `models`; a prompt run's has `model`. */
function start(code: unknown, config: unknown, durable: DurableStart, where: string): PromptRun<unknown> | DirectiveRunPromise<unknown> {
  if (!c.isPlainObject(config)) return promptRun(Promise.reject(new ConfigError(`${where}: expected the run's config as the third argument, got ${c.describe(config)}`)));
  if ('models' in config) return startDirective(code, config as unknown as RunConfig, durable, where);
  return promptRun(startRunPrompt(code as (ctx: PromptContext) => unknown, config as unknown as PromptConfig, false, durable, where));
}
