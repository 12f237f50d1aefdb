/**
 * The engine's compiled wasm module, compiled once per source and shared by every engine made from
 * it: a second `createEngine` (or the default engine replaced after a fault) only instantiates.
 */

type Pending = Promise<WebAssembly.Module>;

/** What compiledModule needs of either map (method parameters are bivariant, so both fit). */
interface ModuleCache {
  get(key: string | object): Pending | undefined;
  set(key: string | object, value: Pending): unknown;
  delete(key: string | object): boolean;
}

/** By resolved URL or path, and by the caller's bytes object (held weakly: the caller owns it). */
const bySource = new Map<string, Pending>();
const byBytes = new WeakMap<object, Pending>();

/**
 * The module compiled by `compile` for `source` (a resolved URL or path, or the caller's bytes
 * object), compiled on first use (`compile` may work synchronously; what it throws rejects). A
 * failed compilation is not kept, so it can be tried again.
 */
export function compiledModule(source: string | object, compile: () => WebAssembly.Module | Pending): Pending {
  const cache: ModuleCache = typeof source === 'string' ? bySource : byBytes;
  const cached = cache.get(source);
  if (cached) return cached;
  const pending = new Promise<WebAssembly.Module>((resolve) => resolve(compile()));
  cache.set(source, pending);
  pending.catch(() => cache.delete(source));
  return pending;
}
