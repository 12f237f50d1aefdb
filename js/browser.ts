/**
 * Browser entry point (`exports["."].default`): loads the ES-module glue and the wasm next to this
 * file, or from a URL or bytes the page provides.
 */
import { setDefaultEngineFactory } from './default-engine.js';
import type { HostClock } from './clock.js';
import { Engine, type CoreFactory, type EngineLimits } from './engine.js';

export * from './common.js';

/** Options of {@link createEngine}. */
export interface CreateEngineOptions {
  /** The wasm bytes, or its URL; defaults to the copy shipped next to this module. */
  wasm?: Uint8Array | ArrayBuffer | URL | string;
  /** The engine's time; pass `new VirtualClock()` in tests so timers complete at once in virtual time. */
  clock?: HostClock;
  /** Limits on what crosses into the engine (docs/limits.md); the engine's defaults when left out. */
  limits?: EngineLimits;
}

/** Loads and starts an engine. Each engine is an independent wasm instance with its own loop. */
export async function createEngine(options: CreateEngineOptions = {}): Promise<Engine> {
  const glueUrl = new URL('./wasm/lmthing_core.mjs', import.meta.url).href;
  const [glue, bytes] = await Promise.all([import(/* @vite-ignore */ glueUrl), wasmBytes(options.wasm)]);
  return Engine.create(glue.default as CoreFactory, bytes, { clock: options.clock, limits: options.limits });
}

async function wasmBytes(source: CreateEngineOptions['wasm']): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const url = source ?? new URL('./wasm/lmthing_core.wasm', import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load the lmthing wasm from ${String(url)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

setDefaultEngineFactory(() => createEngine());
