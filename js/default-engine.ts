/**
 * The engine that `runPrompt` uses when none is given: one per process (or page), created on first
 * use by the platform's loader, which each entry point (node.ts, browser.ts) installs. A default
 * engine that faulted is replaced: its own runs fail with the fault, later calls get a fresh one.
 */
import type { Engine } from './engine.js';

let factory: (() => Promise<Engine>) | undefined;
let shared: Promise<Engine> | undefined;
let current: Engine | undefined;

/** Called by the entry points with their `createEngine`. */
export function setDefaultEngineFactory(create: () => Promise<Engine>): void {
  factory = create;
}

/** The shared engine, created once, and again after a fault. */
export function defaultEngine(): Promise<Engine> {
  if (!factory) throw new Error('lmthing: no engine loader installed; import from "lmthing" rather than a private path');
  if (current?.fault) {
    shared = undefined;
    current = undefined;
  }
  shared ??= factory().then(
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
