/**
 * The engine that `runPrompt` uses when none is given: one per process (or page), created on first
 * use by the platform's loader, which each entry point (node.ts, browser.ts) installs. A default
 * engine that faulted is replaced: its own runs fail with the fault, later calls get a fresh one.
 */
import type { Engine } from './engine.js';
import { checkEngineOptions, type CreateEngineOptions } from './engine-options.js';

let factory: ((options: CreateEngineOptions) => Promise<Engine>) | undefined;
let options: CreateEngineOptions = {};
let shared: Promise<Engine> | undefined;
let current: Engine | undefined;

/** Called by the entry points with their `createEngine`. */
export function setDefaultEngineFactory(create: (options: CreateEngineOptions) => Promise<Engine>): void {
  factory = create;
}

/**
 * Sets the `createEngine` options of the shared engine that `runPrompt`, `run` and `validate`
 * use when they are given no `engine`, e.g. `configureDefaultEngine({ wasmUrl: '/assets/lmthing_core.wasm' })`
 * where a bundler does not emit the wasm by itself (docs/bundlers.md). Runs started later use an
 * engine created with these options; runs already going keep theirs.
 */
export function configureDefaultEngine(newOptions: CreateEngineOptions): void {
  checkEngineOptions(newOptions, 'configureDefaultEngine');
  options = { ...newOptions };
  shared = undefined;
  current = undefined;
}

/** @internal The shared engine's options: a new object after each configureDefaultEngine. */
export function defaultEngineOptions(): Readonly<CreateEngineOptions> {
  return options;
}

/** @internal A new engine of this platform with the shared engine's options (a durable run's own engine). */
export function newEngine(): Promise<Engine> {
  if (!factory) throw new Error('lmthing: no engine loader installed; import from "lmthing" rather than a private path');
  return factory(options);
}

/** The shared engine, created once, and again after a fault. */
export function defaultEngine(): Promise<Engine> {
  if (!factory) throw new Error('lmthing: no engine loader installed; import from "lmthing" rather than a private path');
  if (current?.fault) {
    shared = undefined;
    current = undefined;
  }
  shared ??= factory(options).then(
    (engine) => {
      current = engine;
      return engine;
    },
    (err: unknown) => {
      shared = undefined; // a failed load may be retried
      throw err;
    },
  );
  return shared;
}
