/**
 * The per-call options a tool (or agent) accepts for its call pipeline, the same for `defTool`,
 * `defAgent`, composite tools and `L.tool`: resilience (`retry`, `fallback`, `circuitBreaker`,
 * `timeout`) and human in the loop (`approval`, `guards`, `validator`, `retryOnFailure`, `maxRetries`).
 * Names refer to definitions of the run; the engine checks them when the run starts.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { DefinitionKind } from './kind.js';
import type { DefinitionSet } from './set.js';

/** Options of a tool's calls. */
export interface ToolPolicyOptions {
  /** A `defRetry` policy for this tool's calls. */
  retry?: string;
  /** A `defFallback` (alternative tools or a default value; for an agent, a model cascade). */
  fallback?: string;
  /** A `defCircuitBreaker` guarding this tool. */
  circuitBreaker?: string;
  /** Time limit of each call, ms. */
  timeout?: number;
  /** The call waits for this approval (`defApproval`). */
  approval?: string;
  /** Guards (`defGuard`) checked before every call. */
  guards?: string[];
  /** A validator (`defValidator`) checking the tool's output. */
  validator?: string;
  /** An invalid output goes back to the model instead of failing the run ... */
  retryOnFailure?: boolean;
  /** ... at most this many times (default 2), then a ValidationError. */
  maxRetries?: number;
  /** A cache (`defCache`): an identical call is answered from it, and identical concurrent calls run once. */
  cache?: string;
}

/** The shape of {@link ToolPolicyOptions}, for checking option bags that include them. */
/** Whether a tool may run twice: what a resumed durable run does with its interrupted calls (docs/durable-runs.md). */
export interface IdempotenceOption {
  /**
   * Running the tool twice with the same arguments does no harm. A durable run that is resumed
   * after a crash runs an interrupted call of an idempotent tool again; any other interrupted call
   * goes to `durable.onInterrupted` or fails with `InterruptedError`. Default false.
   */
  idempotent?: boolean;
}

export const toolPolicyShape: c.Shape = {
  retry: c.nonEmpty,
  fallback: c.nonEmpty,
  circuitBreaker: c.nonEmpty,
  timeout: c.ms(),
  approval: c.nonEmpty,
  guards: c.stringList,
  validator: c.nonEmpty,
  retryOnFailure: c.boolean,
  maxRetries: c.integer(0, 100),
  cache: c.nonEmpty,
};

/** The wire `options` of a tool spec. */
export function toolPolicyWire(options: ToolPolicyOptions, skip: ReadonlyArray<keyof ToolPolicyOptions> = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(toolPolicyShape) as Array<keyof ToolPolicyOptions>) {
    if (options[key] === undefined || skip.includes(key)) continue;
    out[key === 'timeout' ? 'timeoutMs' : key] = options[key];
  }
  return out;
}

/** Which definition kind each named option refers to. */
export type ReferenceKinds = Partial<Record<'retry' | 'fallback' | 'circuitBreaker' | 'approval' | 'guards' | 'validator' | 'cache', DefinitionKind<unknown, unknown>>>;

/**
 * Checks that every definition `options` names exists (here or in a parent); `where` names the
 * owner in the message: `tool "search": unknown retry policy "net" (did you mean "nett"? defined: nett)`.
 */
export function checkReferences(where: string, options: Pick<ToolPolicyOptions, keyof ReferenceKinds>, definitions: DefinitionSet, kinds: ReferenceKinds): void {
  for (const [key, kind] of Object.entries(kinds) as Array<[keyof ReferenceKinds, DefinitionKind<unknown, unknown>]>) {
    const value = options[key];
    if (value === undefined) continue;
    for (const name of Array.isArray(value) ? value : [value]) {
      if (definitions.has(kind, name)) continue;
      throw new ConfigError(`${where}: ${c.unknownName(kind.noun, name, definitions.names(kind))}`);
    }
  }
}
