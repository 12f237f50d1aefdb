/**
 * The JS half of the definition registry (DESIGN.md §12): a definition kind is checked at its
 * `def*` call and turned into its wire form `{kind, name, config}` when a run starts. Functions in a
 * config become engine callbacks and models become model references through the {@link Marshal}.
 */
import type { CallbackTraits, Engine } from '../engine.js';
import type { LanguageModel } from '../providers/types.js';

/** Registers what a definition's wire form refers to, while a run's spec is being built. */
export interface Marshal {
  /**
   * Registers `fn` as an engine callback of the run and returns its name. `label` names it in
   * messages. User code called back gets the run's states loaded first, except `plain` callbacks
   * (those the engine calls while it loads or saves a state).
   */
  callback(label: string, fn: (...args: never[]) => unknown, options?: { plain?: boolean; traits?: CallbackTraits }): string;
  /** Registers a model with the run and returns its reference. */
  model(model: string | LanguageModel): string;
  /** The run's states by name, as the `state` of guard and tool contexts (live objects). */
  state?(): Record<string, unknown>;
  /** The engine of the run, for callbacks that send commands back while the run is live (workflow steps). */
  engine?: Engine;
  /** Checks the name of a storage a definition keeps entries in (throws when none is registered under it). */
  storage?(name: string, where: string): void;
}

/** A kind of definition: how its config is checked and marshalled. */
export interface DefinitionKind<Config, Stored = Config> {
  /** The wire kind: `retry`, `approval` ... */
  readonly kind: string;
  /** The method that defines it, for messages: `defRetry`. */
  readonly method: string;
  /** What one is called in messages: `retry policy` (the engine says the same). */
  readonly noun: string;
  /** Checks `config` at the def* call (throws ConfigError) and returns what to keep. */
  check(where: string, config: Config, ...rest: unknown[]): Stored;
  /** Kinds with one namespace take distinct names (a resource and a pool are both found by name). */
  readonly namespace?: string;
  /** Kept in the host only (loggers): not sent to the engine. */
  readonly hostOnly?: boolean;
  /** Works from the run's events (loggers, tracing): refused in a run that keeps none (`run(agent, {events: false})`). */
  readonly readsEvents?: boolean;
  /** The wire config of a stored definition; `where` names it in messages (`defCache("c")`). */
  wire(stored: Stored, marshal: Marshal, where: string): Record<string, unknown>;
}

/** One collected definition. */
export interface Definition {
  readonly kind: DefinitionKind<unknown, unknown>;
  readonly name: string;
  readonly stored: unknown;
}
