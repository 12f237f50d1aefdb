/**
 * `defPipeline` as a definition kind (docs/orchestration.md): stages in a line that the engine runs,
 * each getting the previous stage's output, with per-stage retries (the retry interceptor) and
 * timeouts. A stage's `fn` is an engine callback.
 */
import * as c from '../config/check.js';
import type { CallbackContext } from '../engine.js';
import type { DefinitionKind } from './kind.js';

/** What a stage's `fn` gets after its input. */
export interface PipelineStageContext {
  /** The pipeline's name, the stage's name and its place (from 0). */
  readonly pipeline: string;
  readonly stage: string;
  readonly index: number;
  /** 1 for the first attempt, then 2, 3 ... when the stage has `retries`. */
  readonly attempt: number;
  /** Aborted when this attempt is cancelled: its `timeout`, or the run's end. */
  readonly abortSignal: AbortSignal;
}

/** One stage of `defPipeline(name, stages)`. */
export interface PipelineStage {
  /** Unique within the pipeline; names the stage in events and errors. */
  stage: string;
  /** Transforms the previous stage's output (the first stage gets the input); returns JSON. */
  fn: (input: never, stage: PipelineStageContext) => unknown;
  /** Attempts after the first, with exponential backoff from 500 ms (through the retry interceptor: `retry` events). */
  retries?: number;
  /** A `defRetry` policy instead of `retries`. */
  retry?: string;
  /** Time limit of each attempt, ms (a timed-out attempt fails with kind `timeout` and is retried like any failure). */
  timeout?: number;
}

const stageShape: c.Shape = { stage: c.nonEmpty, fn: c.func, retries: c.integer(0, 100), retry: c.nonEmpty, timeout: c.ms() };

export const pipelineKind: DefinitionKind<PipelineStage[]> = {
  kind: 'pipeline',
  noun: 'pipeline',
  method: 'defPipeline',
  check(where, stages) {
    if (!Array.isArray(stages) || stages.length === 0) c.fail(where, `stages must be a non-empty array of {stage, fn}, got ${c.describe(stages)}`);
    const names: string[] = [];
    stages.forEach((stage, i) => {
      const at = `${where}: stages[${i}]`;
      if (!c.isPlainObject(stage)) c.fail(at, `expected a stage {stage, fn}, got ${c.describe(stage)}`);
      c.checkOptions(at, stage, stageShape, 'field');
      if (typeof stage.stage !== 'string') c.fail(at, "'stage' is required (a non-empty string)");
      if (typeof stage.fn !== 'function') c.fail(at, "'fn' is required (a function of the previous output)");
      const before = names.indexOf(stage.stage);
      if (before >= 0) c.fail(at, `stage "${stage.stage}" is already used by stages[${before}]`);
      if (stage.retries !== undefined && stage.retry !== undefined) c.fail(at, "give 'retries' (a count) or 'retry' (a defRetry name), not both");
      names.push(stage.stage);
    });
    return stages.map((s) => ({ ...s }));
  },
  wire(stages, marshal) {
    return {
      stages: stages.map((stage) => {
        const fn = stage.fn as (input: unknown, context: PipelineStageContext) => unknown;
        const wireStage: Record<string, unknown> = {
          stage: stage.stage,
          fn: marshal.callback(`pipeline stage "${stage.stage}"`, async (input: unknown, at: StageCall, call: CallbackContext) => {
            const value = await fn(input, { ...at, abortSignal: call.signal });
            return value === undefined ? null : value;
          }),
        };
        for (const key of ['retries', 'retry', 'timeout'] as const) if (stage[key] !== undefined) wireStage[key] = stage[key];
        return wireStage;
      }),
    };
  },
};

/** What the engine sends with a stage's input (src/flow/pipeline.cpp). */
interface StageCall {
  pipeline: string;
  stage: string;
  index: number;
  attempt: number;
}
