/**
 * Changes to a state's JSON value, as a live object records them and the engine applies them
 * (src/state/json_changes.hpp has the same rules): `set` writes the value at a path (an empty path
 * replaces the whole value), `delete` removes it. Applying is lenient: missing or non-object parents
 * become objects, an index past an array's end pads it with nulls, `length` resizes an array, and
 * deleting what is not there does nothing.
 */
import { DEFAULT_JSON_DEPTH } from '../engine.js';
import type { JsonValue } from '../storage/types.js';

/** An object key or an array index. */
export type PathSegment = string | number;

/** One change: every change is an absolute write, so re-applying a list is harmless. */
export type StateChange = { op: 'set'; path: PathSegment[]; value: JsonValue } | { op: 'delete'; path: PathSegment[] };

/**
 * How deep a state's whole value may be: the engine's depth limit less the levels of the messages
 * that carry a state into it (the deepest, a run's start with the prompt function's changes, wraps
 * it in 6), so a value the host accepts always reaches the engine and storage.
 */
export function stateDepthLimit(engineDepth = DEFAULT_JSON_DEPTH): number {
  return engineDepth - 10;
}

/** Why a state write was refused, ending with the rule for state values. */
export function stateValueProblem(problem: string): string {
  return `${problem} (state values must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)`;
}

/** Arrays grow by at most this much in one change (the engine refuses more). */
export const MAX_PADDING = 1_000_000;

type Container = JsonValue[] | { [key: string]: JsonValue };

function isIndex(segment: PathSegment): segment is number {
  return typeof segment === 'number' && Number.isInteger(segment) && segment >= 0;
}

function keyOf(segment: PathSegment): string {
  return typeof segment === 'string' ? segment : String(segment);
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The container at `segment` of `parent`, made one (an object, unless an array is indexed). */
function childOf(parent: Container, segment: PathSegment): Container {
  let child = read(parent, segment);
  if (typeof child !== 'object' || child === null) {
    child = {};
    write(parent, segment, child);
  }
  return child;
}

function read(parent: Container, segment: PathSegment): JsonValue | undefined {
  if (Array.isArray(parent)) return isIndex(segment) ? parent[segment] : undefined;
  return Object.prototype.hasOwnProperty.call(parent, keyOf(segment)) ? parent[keyOf(segment)] : undefined;
}

function write(parent: Container, segment: PathSegment, value: JsonValue): void {
  if (Array.isArray(parent)) {
    const index = segment as number;
    while (parent.length < index) parent.push(null);
    parent[index] = value;
  } else {
    // Defined, not assigned: `__proto__` is a key like any other (as the engine and storage have it).
    Object.defineProperty(parent, keyOf(segment), { value, enumerable: true, writable: true, configurable: true });
  }
}

/** An array stays one only when `segment` indexes it (or, last, sets its `length`); else it becomes an object. */
function fit(container: Container, segment: PathSegment, last: boolean, value: JsonValue): Container {
  if (!Array.isArray(container) || isIndex(segment)) return container;
  return last && segment === 'length' && isIndex(value as PathSegment) ? container : {};
}

function setAt(root: JsonValue, path: PathSegment[], value: JsonValue): JsonValue {
  if (path.length === 0) return value;
  let top: Container = typeof root === 'object' && root !== null ? root : {};
  top = fit(top, path[0], path.length === 1, value);
  let node: Container = top;
  for (let i = 0; i + 1 < path.length; i++) {
    const segment = path[i];
    let child = childOf(node, segment);
    const fitted = fit(child, path[i + 1], i + 2 === path.length, value);
    if (fitted !== child) {
      write(node, segment, fitted);
      child = fitted;
    }
    node = child;
  }
  const last = path[path.length - 1];
  if (Array.isArray(node) && last === 'length' && isIndex(value as PathSegment)) {
    const length = value as number;
    if (length > node.length + MAX_PADDING) throw new RangeError(`a change sets an array's length to ${length}, more than ${MAX_PADDING} past its end`);
    while (node.length < length) node.push(null);
    node.length = length;
  } else {
    write(node, last, value);
  }
  return top;
}

function deleteAt(root: JsonValue, path: PathSegment[]): JsonValue {
  let node: JsonValue | undefined = root;
  for (let i = 0; i + 1 < path.length; i++) {
    if (typeof node !== 'object' || node === null) return root;
    node = read(node, path[i]);
  }
  const last = path[path.length - 1];
  if (Array.isArray(node)) {
    // As a JS `delete` does: a hole, which JSON writes as null.
    if (isIndex(last) && last < node.length) node[last] = null;
  } else if (isObject(node)) {
    delete node[keyOf(last)];
  }
  return root;
}

/** Applies `changes` in order; returns the new value (the old one, changed in place, unless replaced). */
export function applyChanges(value: JsonValue, changes: readonly StateChange[]): JsonValue {
  let root = value;
  for (const change of changes) root = change.op === 'set' ? setAt(root, change.path, change.value) : deleteAt(root, change.path);
  return root;
}
