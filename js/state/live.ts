/**
 * The live object `ctx.getState(name)` returns: a Proxy for a *path* into the state's current
 * value, not for one JS object. Reads resolve the path against the value as it is now (so a proxy
 * kept across a reload or a `setState` sees the new value); every write is checked (JSON only),
 * recorded as a {@link StateChange} and applied through the {@link StateSlot}, which sends it to the
 * engine. What is read out is a live object again (for objects and arrays) or a plain value.
 */
import { jsonProblem } from '../storage/checks.js';
import type { JsonValue } from '../storage/types.js';
import { MAX_PADDING, stateValueProblem, type PathSegment, type StateChange } from './changes.js';

/** Where a live object reads the state's value and sends its changes. */
export interface StateSlot {
  /** The state's name, for messages. */
  readonly name: string;
  /** How deep the state's whole value may be (`stateDepthLimit` of the run's engine). */
  readonly maxDepth: number;
  /** The value as it is now. */
  root(): JsonValue;
  /** Checks nothing more: applies `change` to the value and records it. Throws when the state cannot change now. */
  write(change: StateChange): void;
  /** A write the live object refuses (not JSON, not a valid array index ...): the error to throw. */
  refuse(message: string): Error;
}

/** Node's `util.inspect` looks at a proxy's target, so the target carries a method that shows the live value. */
const inspect = Symbol.for('nodejs.util.inspect.custom');
const proxies = new WeakMap<StateSlot, Map<string, object>>();
const MAX_CACHED = 1000;

/** The live view of `slot`'s value at `path`: a proxy for an object or array, the value itself otherwise. */
export function liveValue(slot: StateSlot, path: PathSegment[] = []): unknown {
  const value = resolve(slot.root(), path);
  if (typeof value !== 'object' || value === null) return value;
  return proxyFor(slot, path, Array.isArray(value));
}

/** A plain copy of a live object (or any JSON value). */
export function plainCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function resolve(root: JsonValue, path: PathSegment[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    if (Array.isArray(node)) node = typeof segment === 'number' ? node[segment] : undefined;
    else node = Object.prototype.hasOwnProperty.call(node, segment) ? node[String(segment)] : undefined;
  }
  return node;
}

/** Proxies are kept per path and kind, so `state.a === state.a` (a bounded cache). */
function proxyFor(slot: StateSlot, path: PathSegment[], array: boolean): object {
  let cache = proxies.get(slot);
  if (!cache) proxies.set(slot, (cache = new Map<string, object>()));
  const id = `${array ? 'a' : 'o'}${JSON.stringify(path)}`;
  let proxy = cache.get(id);
  if (!proxy) {
    if (cache.size >= MAX_CACHED) cache.clear();
    const target: object = array ? [] : {};
    Object.defineProperty(target, inspect, { value: () => plainCopy(resolve(slot.root(), path)), configurable: true });
    proxy = new Proxy(target, handler(slot, path));
    cache.set(id, proxy);
  }
  return proxy;
}

function segmentOf(node: JsonValue | undefined, prop: string): PathSegment {
  return Array.isArray(node) && /^(0|[1-9]\d*)$/.test(prop) ? Number(prop) : prop;
}

function describePath(name: string, path: PathSegment[]): string {
  let out = name;
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return out;
}

function handler(slot: StateSlot, path: PathSegment[]): ProxyHandler<object> {
  const current = () => resolve(slot.root(), path);
  const container = (): JsonValue[] | { [key: string]: JsonValue } | undefined => {
    const node = current();
    return typeof node === 'object' && node !== null ? node : undefined;
  };

  const set = (prop: string | symbol, value: unknown): boolean => {
    if (typeof prop === 'symbol') throw slot.refuse(`state "${slot.name}": ${describePath(slot.name, path)}: symbol keys are not JSON`);
    const node = current();
    const segment = segmentOf(node, prop);
    const where = describePath(slot.name, [...path, segment]);
    if (Array.isArray(node) && typeof segment === 'string' && segment !== 'length')
      throw slot.refuse(`state "${slot.name}": ${where}: an array's named property would be lost (JSON keeps only its elements)`);
    if (typeof segment === 'number' && segment > MAX_PADDING) throw slot.refuse(`state "${slot.name}": ${where}: index past ${MAX_PADDING}`);
    // A member set to `undefined` is left out, as JSON and setState leave it out (an array element is refused below).
    if (value === undefined && node !== null && typeof node === 'object' && !Array.isArray(node)) {
      slot.write({ op: 'delete', path: [...path, segment] });
      return true;
    }
    const problem = jsonProblem(value, where, slot.maxDepth, path.length + 1);
    if (problem) throw slot.refuse(`state "${slot.name}": ${stateValueProblem(problem)}`);
    slot.write({ op: 'set', path: [...path, segment], value: plainCopy(value) as JsonValue });
    return true;
  };

  return {
    get(target, prop, receiver) {
      if (prop === inspect) return Reflect.get(target, prop) as unknown;
      const node = container();
      if (!node) return undefined;
      if (typeof prop === 'symbol') return Reflect.get(node, prop, receiver) as unknown;
      if (Object.prototype.hasOwnProperty.call(node, prop) && !(Array.isArray(node) && prop === 'length')) return liveValue(slot, [...path, segmentOf(node, prop)]);
      return Reflect.get(node, prop, receiver) as unknown;
    },
    set: (_target, prop, value) => set(prop, value),
    defineProperty(_target, prop, descriptor) {
      if (!('value' in descriptor) || descriptor.get || descriptor.set || descriptor.configurable === false)
        throw slot.refuse(`state "${slot.name}": ${describePath(slot.name, path)}: only plain data properties can be defined on a state`);
      return set(prop, descriptor.value);
    },
    deleteProperty(_target, prop) {
      if (typeof prop === 'symbol') return true;
      slot.write({ op: 'delete', path: [...path, segmentOf(current(), prop)] });
      return true;
    },
    has(_target, prop) {
      const node = container();
      return node ? Reflect.has(node, prop) : false;
    },
    ownKeys(target) {
      const node = container();
      const keys = node ? Reflect.ownKeys(node).filter((k) => typeof k === 'string') : [];
      if (Array.isArray(target) && !keys.includes('length')) keys.push('length');
      return keys;
    },
    getOwnPropertyDescriptor(target, prop) {
      const node = container();
      if (Array.isArray(target) && prop === 'length') return { value: Array.isArray(node) ? node.length : 0, writable: true, enumerable: false, configurable: false };
      if (!node || typeof prop === 'symbol' || !Object.prototype.hasOwnProperty.call(node, prop)) return undefined;
      return { value: liveValue(slot, [...path, segmentOf(node, prop)]), writable: true, enumerable: true, configurable: true };
    },
    preventExtensions() {
      throw slot.refuse(`state "${slot.name}": a state cannot be frozen or sealed (use ctx.setState to replace it)`);
    },
  };
}
