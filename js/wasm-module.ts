/**
 * The engine's compiled wasm module, compiled once per source and shared by every engine made from
 * it: a second `createEngine` (or the default engine replaced after a fault) only instantiates.
 */

const bySource = new Map<string, Promise<WebAssembly.Module>>();
const byBytes = new WeakMap<object, Promise<WebAssembly.Module>>();

/**
 * The module compiled by `compile` for `source` (a resolved URL or path, or the caller's bytes
 * object), compiled on first use. A failed compilation is not kept, so it can be tried again.
 */
export function compiledModule(source: string | object, compile: () => Promise<WebAssembly.Module>): Promise<WebAssembly.Module> {
  const cached = typeof source === 'string' ? bySource.get(source) : byBytes.get(source);
  if (cached) return cached;
  const pending = compile();
  if (typeof source === 'string') bySource.set(source, pending);
  else byBytes.set(source, pending);
  pending.catch(() => {
    if (typeof source === 'string') bySource.delete(source);
    else byBytes.delete(source);
  });
  return pending;
}
