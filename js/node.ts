/**
 * Node entry point (`exports["."].node`): loads the wasm from disk through the CommonJS glue
 * (Emscripten 3.1.6's ES-module glue does not run under Node, and `fetch` of a file path fails,
 * so the bytes are read here and passed as `wasmBinary`).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { setDefaultEngineFactory } from './default-engine.js';
import type { HostClock } from './clock.js';
import { Engine, type CoreFactory, type EngineLimits } from './engine.js';
import { setTerminalApprover } from './prompt/human.js';
import { terminalApprover } from './prompt/terminal.js';

export * from './common.js';

/** Options of {@link createEngine}. */
export interface CreateEngineOptions {
  /** The wasm bytes, or where to read them from; defaults to the copy shipped in the package. */
  wasm?: Uint8Array | ArrayBuffer | URL | string;
  /** The engine's time; pass `new VirtualClock()` in tests so timers complete at once in virtual time. */
  clock?: HostClock;
  /** Limits on what crosses into the engine (docs/limits.md); the engine's defaults when left out. */
  limits?: EngineLimits;
}

const require = createRequire(import.meta.url);

/** Loads and starts an engine. Each engine is an independent wasm instance with its own loop. */
export async function createEngine(options: CreateEngineOptions = {}): Promise<Engine> {
  const factory = require('./wasm/lmthing_core.cjs') as CoreFactory;
  return Engine.create(factory, await wasmBytes(options.wasm), { clock: options.clock, limits: options.limits });
}

async function wasmBytes(source: CreateEngineOptions['wasm']): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return readFile(source ?? new URL('./wasm/lmthing_core.wasm', import.meta.url));
}

setDefaultEngineFactory(() => createEngine());
// Approvals without an onApproval handler are asked on the terminal when there is one (Node only).
setTerminalApprover(terminalApprover());
