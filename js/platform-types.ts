/**
 * The host APIs this package's declarations name (WebAssembly, fetch's headers, IndexedDB), written
 * so the published d.ts type-checks in a Node-only project compiled without the DOM lib: each
 * resolves to the real type where the project's libs declare it, and to a plain object where they
 * do not.
 *
 * @module
 */

/** The global `WebAssembly` namespace's type, where a lib declares it. */
type WasmApi = typeof globalThis extends { WebAssembly: infer W } ? W : undefined;

/** `WebAssembly.Module`. */
export type WasmModule = WasmApi extends { Module: abstract new (...args: never[]) => infer M } ? M : object;

/** `WebAssembly.Instance`. */
export type WasmInstance = WasmApi extends { Instance: abstract new (...args: never[]) => infer I } ? I : object;

/** `WebAssembly.Imports`. */
export type WasmImports = WasmApi extends { Instance: abstract new (module: never, imports?: infer I) => unknown } ? NonNullable<I> : object;

/** `HeadersInit` of the DOM lib or of Node's `fetch` types. */
export type HeadersLike = typeof globalThis extends { Headers: abstract new (init?: infer I) => unknown } ? NonNullable<I> : Record<string, string>;

/** What the IndexedDB storage uses of an `IDBFactory` (the global `indexedDB`, or a polyfill such as fake-indexeddb's). */
export interface IndexedDBFactoryLike {
  open(name: string, version?: number): object;
}
