/**
 * The plugin API (`defPlugin`, docs/templates-roles-plugins.md): a plugin object's `install(ctx,
 * api)` runs before the prompt function's definitions are frozen and may call every `def*`;
 * through `api` it adds methods (under `ctx.plugins.<plugin>`, or on `ctx` itself where that name
 * is free) and interceptors of the run's tool and model calls. `uninstall(ctx)` runs when the run
 * ends, however it ends, in the reverse order of installation.
 */
import * as c from '../config/check.js';
import { ConfigError, ProviderError, ValidationError } from '../errors.js';
import type { Engine } from '../engine.js';
import { jsonProblem } from '../storage/checks.js';
import { validate } from '../validate.js';
import type { GenerateOptions, LanguageModel, ModelRequest, ModelResponse } from '../providers/types.js';
import type { JsonObject } from '../schema-types.js';
import { checkMessages } from '../run/message-checks.js';
import { responseProblem } from '../run/model-response.js';

/** A method a plugin adds. */
export type PluginMethod = (...args: unknown[]) => unknown;

/** One tool call as a tool interceptor sees it. */
export interface InterceptedToolCall {
  toolName: string;
  toolCallId: string;
  /** The arguments, already validated against the tool's schema (and approved, if it needed approval). */
  args: JsonObject;
}

/**
 * Wraps every tool call of the run (after the engine's policies: guards, approval, retry ...):
 * call `next(args)` to run the tool (any number of times, with changed arguments), or return a
 * result without calling it. What it returns is what the model sees; what it throws is the tool's error.
 */
export type ToolInterceptor = (call: InterceptedToolCall, next: (args: JsonObject) => Promise<unknown>) => unknown;

/**
 * Wraps every model call of the run at the host edge (each attempt of a retry passes through it):
 * call `next(request)` to send it (changed, if you like) and return the response (changed, if you like).
 */
export type ModelInterceptor = (
  call: { model: LanguageModel; request: Omit<ModelRequest, 'model'> },
  next: (request: Omit<ModelRequest, 'model'>) => Promise<ModelResponse>,
) => Promise<ModelResponse>;

/** What `install` gets besides `ctx`: how a plugin extends the run. */
export interface PluginApi {
  /** The plugin's name. */
  readonly name: string;
  /**
   * Adds `ctx.plugins.<plugin>.<method>`; with `{onContext: true}` also `ctx.<method>`, which is a
   * `ConfigError` when ctx already has that name (its own methods are never replaced).
   */
  method(method: string, fn: PluginMethod, options?: { onContext?: boolean }): void;
  /** Adds a tool interceptor; interceptors run in the order added, the first outermost. */
  interceptTool(interceptor: ToolInterceptor): void;
  /** Adds a model interceptor; interceptors run in the order added, the first outermost. */
  interceptModel(interceptor: ModelInterceptor): void;
}

/** @internal A plugin object for a context of type `Ctx` (the public one is `PromptPluginObject`). */
export interface PluginOf<Ctx> {
  name: string;
  version: string;
  install: (ctx: Ctx, api: PluginApi) => void | Promise<void>;
  uninstall?: (ctx: Ctx) => void | Promise<void>;
}

const semver = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** The plugins one prompt context installed, and what they added. */
export class PluginSet<Ctx extends object> {
  private readonly installed: Array<PluginOf<Ctx>> = [];
  private readonly methods = new Map<string, Record<string, PluginMethod>>();
  readonly toolInterceptors: ToolInterceptor[] = [];
  readonly modelInterceptors: ModelInterceptor[] = [];

  /** A sub-agent's context: its parent's interceptors wrap its calls too (outside its own). */
  inheritFrom(parent: PluginSet<Ctx>): void {
    this.toolInterceptors.push(...parent.toolInterceptors);
    this.modelInterceptors.push(...parent.modelInterceptors);
  }

  /** `ctx.plugins`: each plugin's methods by name. */
  namespaces(): Readonly<Record<string, Readonly<Record<string, PluginMethod>>>> {
    return Object.freeze(Object.fromEntries([...this.methods].map(([name, methods]) => [name, Object.freeze({ ...methods })])));
  }

  /** Checks `plugin` and runs its install; resolves when it is done. Throws ConfigError for a bad plugin or a conflict. */
  install(ctx: Ctx, name: string, plugin: unknown): Promise<void> {
    const where = `defPlugin("${name}")`;
    if (typeof plugin !== 'object' || plugin === null)
      throw new ConfigError(`${where}: expected a function or a plugin object {name, version, install(ctx, api), uninstall?(ctx)}, got ${c.describe(plugin)}`);
    const shape = { name: c.nonEmpty, version: c.string, install: c.func, uninstall: c.func };
    // A class's instance has its methods on the prototype: its fields are read, its methods bound to it.
    const fields = c.isPlainObject(plugin) ? plugin : pluginFields(plugin);
    c.checkOptions(where, fields, shape, 'field');
    const p = fields as Partial<PluginOf<Ctx>>;
    if (typeof p.install !== 'function') throw new ConfigError(`${where}: a plugin needs an install(ctx, api) function`);
    if (typeof p.version !== 'string' || !semver.test(p.version)) throw new ConfigError(`${where}: version must be a semantic version such as "1.0.0", got ${c.describe(p.version)}`);
    if (p.name !== undefined && p.name !== name) throw new ConfigError(`${where}: the plugin calls itself "${p.name}"; install it under that name`);
    const same = this.installed.find((other) => other.name === name);
    if (same) {
      throw new ConfigError(
        same.version === p.version
          ? `${where}: plugin "${name}" is already installed`
          : `${where}: version conflict: plugin "${name}" ${same.version} is installed, this is ${p.version}`,
      );
    }
    const object = { ...(p as PluginOf<Ctx>), name };
    this.installed.push(object);
    this.methods.set(name, {});
    // The plugin stays listed whatever install does, so a failed install is uninstalled too.
    const api = this.api(ctx, name);
    return new Promise<void>((resolve) => {
      resolve(object.install(ctx, api)); // runs now; a throw becomes the promise's rejection
    });
  }

  /** Uninstalls every plugin, the last installed first; a failing uninstall is reported and the rest still run. */
  async uninstallAll(ctx: Ctx): Promise<void> {
    const plugins = this.installed.splice(0).reverse();
    for (const plugin of plugins) {
      try {
        await plugin.uninstall?.(ctx);
      } catch (err) {
        console.warn(`lmthing: plugin "${plugin.name}" failed to uninstall: ${err instanceof Error ? err.message : c.describe(err)}`);
      }
    }
  }

  private api(ctx: Ctx, plugin: string): PluginApi {
    const methods = this.methods.get(plugin)!;
    return {
      name: plugin,
      method: (method, fn, options = {}) => {
        const where = `plugin "${plugin}": method("${String(method)}")`;
        if (typeof method !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(method)) throw new ConfigError(`${where}: the name must be an identifier`);
        // `__proto__` would set the prototype of the plugin's methods; a `then` on ctx would make every `await ctx` wait on it.
        if (method === '__proto__' || (method === 'then' && options?.onContext === true))
          throw new ConfigError(`${where}: "${method}" has a meaning of its own in JavaScript${method === 'then' ? ' (ctx would become a promise-like)' : ''}; pick another name`);
        if (typeof fn !== 'function') throw new ConfigError(`${where}: expected a function, got ${c.describe(fn)}`);
        c.checkOptions(where, options, { onContext: c.boolean });
        if (Object.hasOwn(methods, method)) throw new ConfigError(`${where}: the plugin already added a method of that name`);
        if (options.onContext) {
          if (method in ctx) throw new ConfigError(`${where}: ctx already has "${method}"; a plugin cannot replace it (it is at ctx.plugins.${plugin}.${method} instead)`);
          Object.defineProperty(ctx, method, { value: fn, enumerable: false, configurable: false, writable: false });
        }
        methods[method] = fn;
      },
      interceptTool: (interceptor) => {
        if (typeof interceptor !== 'function') throw new ConfigError(`plugin "${plugin}": interceptTool expects a function, got ${c.describe(interceptor)}`);
        this.toolInterceptors.push(interceptor);
      },
      interceptModel: (interceptor) => {
        if (typeof interceptor !== 'function') throw new ConfigError(`plugin "${plugin}": interceptModel expects a function, got ${c.describe(interceptor)}`);
        this.modelInterceptors.push(interceptor);
      },
    };
  }
}

/**
 * Runs `call` through `interceptors` (the first outermost) down to `run`; arguments an interceptor
 * changed go through `checkArgs` first (the tool's parameters), as a model's do in the engine.
 */
export function interceptToolCall(
  interceptors: readonly ToolInterceptor[],
  call: InterceptedToolCall,
  run: (args: JsonObject) => Promise<unknown>,
  checkArgs: (args: unknown) => Promise<void> = async () => {},
): Promise<unknown> {
  if (interceptors.length === 0) return run(call.args);
  // The model's arguments as text: arguments an interceptor changed in place are told apart by it.
  const checked = jsonTextOf(call.args);
  // Async, so an interceptor that throws is a rejection, as `next` callers expect.
  const at = (i: number) => async (args: JsonObject): Promise<unknown> => {
    const interceptor = interceptors[i];
    if (interceptor) return interceptor({ ...call, args }, at(i + 1));
    // The engine checked the model's arguments; arguments an interceptor changed are checked here.
    if (args !== call.args || jsonTextOf(args) !== checked) await checkArgs(args);
    return run(args);
  };
  return at(0)(call.args);
}

/**
 * The plugin fields of a class instance, as a plain object: its methods bound to it; the rest of
 * it (its own state) is the instance's business.
 */
function pluginFields(plugin: object): Record<string, unknown> {
  const source = plugin as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const field of ['name', 'version'] as const) if (source[field] !== undefined) fields[field] = source[field];
  for (const method of ['install', 'uninstall'] as const) {
    const fn = source[method];
    if (fn !== undefined) fields[method] = typeof fn === 'function' ? fn.bind(plugin) : fn;
  }
  return fields;
}

/** `value` as JSON text, or undefined when it has none (the check then names what is wrong). */
function jsonTextOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The `checkArgs` of {@link interceptToolCall} for `tool`: JSON its parameters accept, checked by the engine's validator. */
export function toolArgsCheck(engine: Engine, tool: { name: string; parameters: object }): (args: unknown) => Promise<void> {
  return async (args) => {
    const where = `a plugin's interceptTool passed tool "${tool.name}" arguments`;
    const problem = jsonProblem(args, 'args');
    if (problem) throw new ValidationError(`${where} that are not JSON: ${problem}`);
    const outcome = await validate(tool.parameters, args, { engine });
    if (!outcome.valid) throw new ValidationError(`${where} its parameters refuse: ${outcome.errors.map((e) => `${e.instancePath || '(root)'}: ${e.message}`).join('; ')}`, outcome.errors);
  };
}

/** `model` with its calls going through `interceptors` (the first outermost); `model` itself when there are none. */
export function interceptedModel(model: LanguageModel, interceptors: readonly ModelInterceptor[]): LanguageModel {
  if (interceptors.length === 0) return model;
  return {
    provider: model.provider,
    modelId: model.modelId,
    generate(request, options: GenerateOptions) {
      const at = (i: number) => async (req: Omit<ModelRequest, 'model'>): Promise<ModelResponse> => {
        const interceptor = interceptors[i];
        if (interceptor) {
          const answered: { response?: ModelResponse } = {};
          const response = await interceptor({ model, request: req }, async (r) => (answered.response = await at(i + 1)(r)));
          // A response the interceptor made (not the one it was given) is its own: say so, not the model's.
          const problem = 'response' in answered && response === answered.response ? undefined : responseProblem(response);
          if (problem) throw new ProviderError(`a plugin's interceptModel returned an invalid response for model "${model.provider}:${model.modelId}": ${problem}`);
          return response;
        }
        // What the interceptors pass on goes to the model as it is: a malformed request is theirs.
        const where = "a plugin's interceptModel passed on a request";
        if (!c.isPlainObject(req)) throw new ConfigError(`${where} that is not an object: ${c.describe(req)}`);
        if (!Array.isArray(req.messages)) throw new ConfigError(`${where} without a messages array: ${c.describe(req.messages)}`);
        checkMessages(where, req.messages);
        return model.generate(req, options);
      };
      return at(0)(request);
    },
  };
}
