/**
 * The engine that `runPrompt` uses when none is given: one per process (or page), created on first
 * use by the platform's loader, which each entry point (node.ts, browser.ts) installs.
 */
import type { Engine } from './engine.js';

let factory: (() => Promise<Engine>) | undefined;
let shared: Promise<Engine> | undefined;

/** Called by the entry points with their `createEngine`. */
export function setDefaultEngineFactory(create: () => Promise<Engine>): void {
  factory = create;
}

/** The shared engine, created once. */
export function defaultEngine(): Promise<Engine> {
  if (!factory) throw new Error('lmthing: no engine loader installed; import from "lmthing" rather than a private path');
  shared ??= factory().catch((err) => {
    shared = undefined; // a failed load may be retried
    throw err;
  });
  return shared;
}
