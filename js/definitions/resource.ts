/**
 * `defResource` and `defResourcePool` as definition kinds (docs/orchestration.md). The engine owns
 * the lifecycle — lazy initialization shared by concurrent first uses, health checks and
 * re-initialization, pool limits and the FIFO line of acquirers, clean-up when the run ends. The
 * values themselves never leave JavaScript: this file keeps them by the numeric handle the engine
 * knows them by, and gives tools and workflow steps their `resources`.
 */
import * as c from '../config/check.js';
import type { CallbackContext, Engine } from '../engine.js';
import { ConfigError, NotRunningError, ResourceError } from '../errors.js';
import type { DefinitionKind, Marshal } from './kind.js';
import { retryKind, type RetryConfig } from './resilience.js';

/** Options of `defResource(name, type, config)`. `T` is what `initialize` resolves with. */
export interface ResourceConfig<T = unknown> {
  /** Makes the value, on the first `resources.get(name)` of the run (concurrent first gets share one call). Without it the value is `undefined`. */
  initialize?: () => T | Promise<T>;
  /** Called with the value when the run that defined the resource ends (also on error or abort), newest resource first; and before an unhealthy value is replaced. */
  cleanup?: (value: T) => unknown;
  /** Called with the value before each later `get`; a falsy answer or a throw cleans the value up and initializes it again. */
  healthCheck?: (value: T) => unknown;
  /** Retries of `initialize`: a `defRetry` name or a retry config. Without it a failed initialize fails the `get` at once. */
  retryPolicy?: string | RetryConfig;
}

/** Options of `defResourcePool(name, factory, config)`. `T` is what the factory resolves with. */
export interface ResourcePoolConfig<T = unknown> {
  /** Values made on the first acquire, and kept when idle ones expire (default 0). */
  min?: number;
  /** Values at most, in use or idle (default 10); acquirers beyond wait in line, first come first served. */
  max?: number;
  /** How long, ms, an acquirer waits for a free value before `ResourceError` POOL_ACQUIRE_TIMEOUT (default 30000). */
  acquireTimeout?: number;
  /** An idle value unused this long, ms, is destroyed (never below `min`). Default: kept until the run ends. */
  idleTimeout?: number;
  /** Checks an idle value before it is handed out again; a falsy answer or a throw destroys it (and the next one is tried). */
  validate?: (value: T) => unknown;
  /** Called with each value the pool drops: expired, failed `validate`, or drained when the run ends. */
  destroy?: (value: T) => unknown;
}

/**
 * What `resources.get` returns: the promise of the value, which also takes the value's method calls
 * at once (`resources.get('fs').writeFile(...)` waits for the value, then calls its method).
 */
export type PendingResource<T> = Promise<T> & {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/** What tools (`execute(args, { resources })`) and workflow steps (`wctx.resources`) use. */
export interface Resources {
  /**
   * The value of `defResource(name)`, initialized on first use (health-checked on later ones). Await
   * it for the value, or call the value's methods on it directly, as the proposal's examples do.
   */
  get<T = unknown>(name: string): PendingResource<T>;
  /** A value of `defResourcePool(name)` for this caller alone until {@link Resources.release}. */
  acquire<T = unknown>(name: string): Promise<T>;
  /** Gives `value` back to pool `name` (the longest waiting acquirer gets it next). */
  release(name: string, value: unknown): Promise<void>;
  /** Acquires a value of pool `name`, calls `fn` with it and releases it however `fn` ends. */
  use<T = unknown, R = unknown>(name: string, fn: (value: T) => R | Promise<R>): Promise<R>;
}

// ---- the values, by handle

const values = new Map<number, unknown>();
let nextHandle = 1;
/** Pool values out on loan: released by value, so the handle is found here. */
const leases: Array<{ pool: string; handle: number; value: unknown }> = [];

function keep(value: unknown): number {
  const handle = nextHandle++;
  values.set(handle, value);
  return handle;
}

function drop(handle: unknown): unknown {
  const value = values.get(handle as number);
  values.delete(handle as number);
  const lease = leases.findIndex((l) => l.handle === handle);
  if (lease >= 0) leases.splice(lease, 1);
  return value;
}

/** @internal How many values are kept (tests check that runs leave none behind). */
export function keptResourceValues(): number {
  return values.size;
}

// ---- the definition kinds

interface StoredResource {
  /** `defResource("name")`, naming its callbacks in messages. */
  where: string;
  type: string;
  config: ResourceConfig;
}

const retryPolicyCheck: c.Check = (v) => (typeof v === 'string' ? c.nonEmpty(v) : c.isPlainObject(v) ? undefined : 'a defRetry name or a retry config');

export const resourceKind: DefinitionKind<string, StoredResource> = {
  kind: 'resource',
  noun: 'resource',
  method: 'defResource',
  namespace: 'resource',
  check(where, type, config) {
    if (typeof type !== 'string') c.fail(where, `type must be a string naming the kind of resource ('filesystem', 'postgres' ...), got ${c.describe(type)}`);
    const o = c.checkOptions<ResourceConfig>(where, (config ?? {}), {
      initialize: c.func,
      cleanup: c.func,
      healthCheck: c.func,
      retryPolicy: retryPolicyCheck,
    });
    if (c.isPlainObject(o.retryPolicy)) retryKind.check(`${where}: retryPolicy`, o.retryPolicy);
    return { where, type, config: { ...o } };
  },
  wire({ where, type, config }, marshal: Marshal) {
    const { initialize, cleanup, healthCheck, retryPolicy } = config;
    const out: Record<string, unknown> = {
      type,
      initialize: marshal.callback(`${where} initialize`, async () => keep(initialize ? await initialize() : undefined)),
      // Always: the value must leave this map even when the user has nothing to clean up.
      cleanup: marshal.callback(`${where} cleanup`, async (handle: number) => {
        const value = drop(handle);
        if (cleanup) await cleanup(value);
        return null;
      }, { plain: true }), // runs after the run's body: no state loading then
    };
    if (healthCheck) out.healthCheck = marshal.callback(`${where} healthCheck`, async (handle: number) => Boolean(await healthCheck(values.get(handle))));
    if (retryPolicy !== undefined) out.retryPolicy = typeof retryPolicy === 'string' ? retryPolicy : retryKind.wire(retryPolicy, marshal, `${where} retryPolicy`);
    return out;
  },
};

interface StoredPool {
  where: string;
  factory: () => unknown;
  config: ResourcePoolConfig;
}

export const resourcePoolKind: DefinitionKind<unknown, StoredPool> = {
  kind: 'resourcePool',
  noun: 'resource pool',
  method: 'defResourcePool',
  namespace: 'resource',
  check(where, factory, config) {
    if (typeof factory !== 'function') c.fail(where, `factory must be a function that makes one value, got ${c.describe(factory)}`);
    const o = c.checkOptions<ResourcePoolConfig>(where, (config ?? {}), {
      min: c.integer(0, 100000),
      max: c.integer(1, 100000),
      acquireTimeout: c.ms(),
      idleTimeout: c.ms(),
      validate: c.func,
      destroy: c.func,
    });
    const min = o.min ?? 0;
    const max = o.max ?? 10;
    if (min > max) c.fail(where, `min (${min}) must not exceed max (${max})`);
    return { where, factory: factory as () => unknown, config: { ...o } };
  },
  wire({ where, factory, config }, marshal: Marshal) {
    const { validate, destroy, ...limits } = config;
    const out: Record<string, unknown> = {
      ...limits,
      factory: marshal.callback(`${where} factory`, async () => keep(await factory())),
      destroy: marshal.callback(`${where} destroy`, async (handle: number) => {
        const value = drop(handle);
        if (destroy) await destroy(value);
        return null;
      }, { plain: true }),
    };
    if (validate) out.validate = marshal.callback(`${where} validate`, async (handle: number) => Boolean(await validate(values.get(handle))));
    return out;
  },
};

// ---- the run-time helper

/**
 * `pending` with the value's methods callable before it resolves: the proposal writes `const fs =
 * resources.get('fileSystem'); await fs.writeFile(...)` without awaiting the get, and initialization
 * is lazy and asynchronous, so the call has to wait for the value.
 */
function forwardingCalls<T>(pending: Promise<T>, name: string): PendingResource<T> {
  pending.catch(() => {}); // a rejection reaches whoever awaits the value or calls a method
  return new Proxy(pending, {
    get(target, key) {
      if (key in target || typeof key === 'symbol') {
        const member: unknown = Reflect.get(target, key, target);
        return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(target) : member;
      }
      return async (...args: unknown[]) => {
        const value = (await target) as Record<string, unknown> | null | undefined;
        const method = value?.[key];
        if (typeof method !== 'function')
          throw new TypeError(`resources.get(${JSON.stringify(name)}).${key}(...): the resource's value has no method "${key}" (it is ${c.describe(value)})`);
        return await (method as (...a: unknown[]) => unknown).apply(value, args);
      };
    },
  }) as PendingResource<T>;
}

/** @internal The `resources` of a callback the engine invoked (a tool or a workflow step) of `call.runId`. */
export function resourcesFor(engine: Engine | undefined, call: CallbackContext): Resources {
  const request = (what: string, type: string, fields: Record<string, unknown>): Promise<unknown> => {
    if (!engine) return Promise.reject(new TypeError(`resources.${what}: this run cannot reach the engine`));
    if (!engine.isRunLive(call.runId))
      return Promise.reject(new NotRunningError(`resources.${what}() works only while the run that called this tool or step is live; that run has ended (its pools and resources with it)`));
    // `scope`: a wait for a value ends when this callback's op is given up on (its timeout, a lost race).
    const scope = type === 'resource.release' ? {} : { scope: call.opId };
    return engine.waitOnEngine(call.opId, engine.request(type, { run: call.runId, ...scope, ...fields }));
  };
  const checked = (what: string, name: unknown): string => {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`resources.${what}: name must be a non-empty string, got ${c.describe(name)}`);
    return name;
  };
  const resources: Resources = {
    get<T>(name: string) {
      const value = (async () => values.get((await request('get', 'resource.get', { name: checked('get', name) })) as number) as T)();
      return forwardingCalls(value, name);
    },
    async acquire<T>(name: string) {
      const handle = (await request('acquire', 'resource.acquire', { name: checked('acquire', name) })) as number;
      const value = values.get(handle);
      leases.push({ pool: name, handle, value });
      return value as T;
    },
    async release(name: string, value: unknown) {
      checked('release', name);
      const lease = leases.find((l) => l.pool === name && Object.is(l.value, value));
      if (!lease) {
        // Say where the value (or this call's values) came from: a misspelt pool name reads as a wrong value otherwise.
        const from = leases.find((l) => Object.is(l.value, value))?.pool;
        const held = [...new Set(leases.map((l) => l.pool))];
        const near = c.nearest(name, held);
        const why =
          from !== undefined
            ? `it was acquired from resource pool "${from}"`
            : held.length > 0
              ? `${near !== undefined ? `did you mean "${near}"? ` : ''}this call holds values of: ${held.map((pool) => `"${pool}"`).join(', ')}`
              : 'this call holds no pool value';
        throw new ResourceError('RESOURCE_NOT_ACQUIRED', `resources.release: the value is not acquired from resource pool "${name}" (${why})`, { resource: name });
      }
      await request('release', 'resource.release', { name, handle: lease.handle });
      const at = leases.indexOf(lease);
      if (at >= 0) leases.splice(at, 1);
    },
    async use<T, R>(name: string, fn: (value: T) => R | Promise<R>) {
      if (typeof fn !== 'function') throw new ConfigError(`resources.use("${name}"): fn must be a function of the value, got ${c.describe(fn)}`);
      const value = await resources.acquire<T>(name);
      try {
        return await fn(value);
      } finally {
        await resources.release(name, value);
      }
    },
  };
  return resources;
}
