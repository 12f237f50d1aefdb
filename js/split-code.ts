/**
 * The engine's code comes as two wasm modules (scripts/split-wasm.mjs): `lmthing_core.wasm` holds
 * the functions a first request runs, `lmthing_core.deferred.wasm` the rest (workflows, memory,
 * state stores, most policies ...). The first imports every function of the second as a
 * `placeholder`; the first call of any of them loads the deferred module into the same table and
 * memory, and the call goes on to the real function. The call comes from inside an engine turn,
 * which cannot wait, so the module must be at hand synchronously: compiled before (the browser
 * fetches it in the background once the engine is up; `preload()` waits for it), or read and
 * compiled on the spot (Node; a synchronous request in a browser).
 */
import type { WasmInstance, WasmModule } from './platform-types.js';
import { EngineLoadError } from './errors.js';

/** The package file, as errors and docs name it. */
export const DEFERRED_WASM_FILE = 'dist/wasm/lmthing_core.deferred.wasm';

/** The custom section scripts/split-wasm.mjs writes into both modules. */
const BUILD_ID_SECTION = 'lmthing.build';
/** The primary module's custom section naming the functions it hands the deferred one through its table. */
const SHARED_SECTION = 'lmthing.shared';

/** Where an engine's deferred module comes from (one per platform: js/node.ts, js/browser.ts). */
export interface DeferredSource {
  /** The compiled module, now: compiled before, or loaded and compiled synchronously. Throws EngineLoadError. */
  moduleNow(): WasmModule;
  /** Compiles it ahead of its first use (without blocking); rejects with an EngineLoadError. */
  prepare(): Promise<WasmModule>;
  /** Where it is read from, for errors. */
  readonly where: string;
}

/**
 * One engine instance's deferred code: the `placeholder` imports its primary module is
 * instantiated with, and the instantiation of the deferred module beside it.
 */
export class SplitCode {
  private instance: WebAssembly.Instance | undefined;
  private table: WebAssembly.Table | undefined;
  private split: boolean | undefined;

  constructor(private readonly primary: WasmModule, private readonly source: DeferredSource | undefined) {}

  /** The import object's `placeholder` namespace: a function per table index, made on demand. */
  placeholders(): Record<string, (...args: unknown[]) => unknown> {
    return new Proxy({}, {
      get: (_target, name) => {
        const index = Number(name);
        let real: ((...args: unknown[]) => unknown) | undefined;
        // Later calls through a cached placeholder (the glue keeps table entries it read) go straight on.
        return (...args: unknown[]) => {
          real ??= this.loadNow().get(index) as (...args: unknown[]) => unknown;
          return real(...args);
        };
      },
    });
  }

  /** Called with the primary instance once it exists. */
  attach(instance: WasmInstance): void {
    this.instance = instance;
  }

  /** Whether the primary module has functions elsewhere (a module that was not split has none). */
  get isSplit(): boolean {
    return (this.split ??= WebAssembly.Module.imports(this.primary).some((entry) => entry.module === 'placeholder'));
  }

  /** Whether the deferred module is instantiated in this engine. */
  get loaded(): boolean {
    return this.table !== undefined;
  }

  /** Compiles and instantiates the deferred module ahead of its first call (e.g. `preload()`). */
  async prepare(): Promise<void> {
    if (this.table || !this.source || !this.isSplit) return;
    await this.source.prepare();
    this.loadNow();
  }

  /** The shared table after the deferred module filled in its functions. */
  private loadNow(): WebAssembly.Table {
    if (this.table) return this.table;
    const instance = this.instance;
    if (!instance) throw new Error('lmthing: the engine called deferred code before its instantiation finished');
    if (!this.source) {
      throw new EngineLoadError(`lmthing needs ${DEFERRED_WASM_FILE} for this call, and the engine was given the bytes of lmthing_core.wasm without it. Pass its bytes or URL as createEngine({ deferredWasm }) (see docs/bundlers.md)`, DEFERRED_WASM_FILE, []);
    }
    const deferred = this.source.moduleNow();
    if (!isDeferredHalf(deferred))
      throw new EngineLoadError(`lmthing could not use ${DEFERRED_WASM_FILE} from ${this.source.where}: it is not that file (it looks like lmthing_core.wasm, the engine's first half). Pass the two files of one build, each as its own option (see docs/bundlers.md)`, DEFERRED_WASM_FILE, [this.source.where]);
    const [want, got] = [buildId(this.primary), buildId(deferred)];
    if (want !== got) {
      throw new EngineLoadError(`lmthing could not use ${DEFERRED_WASM_FILE} from ${this.source.where}: it belongs to another build (build ${got ?? 'unknown'}, lmthing_core.wasm is build ${want ?? 'unknown'}). Serve the two files of one build together (see docs/bundlers.md)`, DEFERRED_WASM_FILE, [this.source.where]);
    }
    const table = tableOf(instance);
    new WebAssembly.Instance(deferred, { primary: { ...instance.exports, ...sharedFunctions(this.primary, table) } });
    this.table = table;
    return table;
  }
}

/** @internal Whether `module` is the engine's deferred half: it imports the first half's functions (as `primary`). */
export function isDeferredHalf(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((entry) => entry.module === 'primary');
}

/** The build id scripts/split-wasm.mjs wrote into a module, if any. */
function buildId(module: WebAssembly.Module): string | undefined {
  const [section] = WebAssembly.Module.customSections(module, BUILD_ID_SECTION);
  return section ? new TextDecoder().decode(section) : undefined;
}

/**
 * The primary module's functions the deferred one calls, by the names it imports them as. They
 * are in the table rather than exported: V8 compiles a wrapper per exported signature when it
 * compiles a module, which cost Node ≈ 19 ms of the first module's compile (scripts/wasm-sections.mjs).
 */
function sharedFunctions(primary: WebAssembly.Module, table: WebAssembly.Table): WebAssembly.ModuleImports {
  const [section] = WebAssembly.Module.customSections(primary, SHARED_SECTION);
  if (!section) return {};
  const { base, names } = JSON.parse(new TextDecoder().decode(section)) as { base: number; names: string[] };
  return Object.fromEntries(names.map((name, i) => [name, table.get(base + i) as WebAssembly.ImportValue]));
}

/** The instance's function table (the only table the engine exports). */
function tableOf(instance: WebAssembly.Instance): WebAssembly.Table {
  const table = Object.values(instance.exports).find((value): value is WebAssembly.Table => value instanceof WebAssembly.Table);
  if (!table) throw new Error('lmthing: the engine module exports no table');
  return table;
}

/** `lmthing_core.deferred.wasm` next to a primary module's URL or path (`x/y.wasm` → `x/y.deferred.wasm`). */
export function deferredBeside(primary: string): string {
  return primary.replace(/(\.wasm)?([?#].*)?$/, (_all, _ext, rest: string | undefined) => `.deferred.wasm${rest ?? ''}`);
}
