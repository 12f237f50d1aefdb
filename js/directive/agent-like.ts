/**
 * What counts as an agent: an iterator, an iterable, an async iterable, or a nullary function
 * returning one, checked in that order. A generator object is an iterator, so it runs as one
 * agent and is never mistaken for a record of agents. Strings, arrays (lists of agents for
 * `L.branch`) and bytes are not agents. A generator object runs once: {@link toAgentIterator}
 * refuses one a run already drove (two runs, or one object twice in `L.branch`, would share it).
 */
import { ConfigError } from '../errors.js';
import { describe, isDirectiveSource } from './directives.js';

/** The iterator the driver pulls directives from. */
export type AgentIterator = Iterator<unknown, unknown, unknown> | AsyncIterator<unknown, unknown, unknown>;

function isObjectLike(v: unknown): v is Record<PropertyKey, unknown> {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

/** True when `v` can run as an agent (without calling anything). */
export function isAgentLike(v: unknown): boolean {
  // Bytes (a Buffer, a typed array) are iterable too, but never directives: a tool returning them returns data.
  if (!isObjectLike(v) || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  return typeof v.next === 'function' || typeof v[Symbol.iterator] === 'function' || typeof v[Symbol.asyncIterator] === 'function' || typeof v === 'function';
}

/** A plain object whose values are agents (a record for `L.branch`). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * An iterable's directives run as written in a generator with `yield*`: a collection of directives
 * (`new Set([L.user\`Hi\`, L.reply])`) holds them as they are, not as what `yield*` makes of them.
 */
function* delegating(iterator: Iterator<unknown, unknown, unknown>): Generator<unknown, unknown, unknown> {
  let input: unknown;
  for (;;) {
    const step = iterator.next(input);
    if (step.done) return step.value;
    input = isDirectiveSource(step.value) ? yield* step.value as Iterable<unknown> : yield step.value;
  }
}

/** The iterators runs have taken: each is driven once. */
const driven = new WeakSet<object>();

/** What {@link toAgentIterator} looks for on an agent-like value, in this order (else it is a function). */
interface AgentSource {
  next?: unknown;
  [Symbol.iterator]?: () => AgentIterator;
  [Symbol.asyncIterator]?: () => AgentIterator;
}

/**
 * The iterator of an agent-like value. Throws TypeError naming `where` and what was given when
 * `v` is not one (a function is called once, with no arguments, and must return one).
 */
export function toAgentIterator(v: unknown, where: string): AgentIterator {
  if (!isAgentLike(v)) throw new ConfigError(`${where}: expected an agent (a generator, an iterable or async iterable of directives, or a function returning one), got ${describe(v)}`);
  const o = v as AgentSource;
  if (typeof o.next === 'function') {
    if (driven.has(o)) throw new ConfigError(`${where}: this generator object was already run (an iterator runs once); pass the generator function, or call it again, for a second run`);
    driven.add(o);
    return o as AgentIterator;
  }
  const iterate = o[Symbol.iterator];
  if (typeof iterate === 'function') {
    const iterator = iterate.call(o) as Iterator<unknown, unknown, unknown>;
    // A generator's iterator takes errors thrown into it (its try/catch): it runs as it is.
    return typeof iterator.throw === 'function' ? iterator : delegating(iterator);
  }
  const iterateAsync = o[Symbol.asyncIterator];
  if (typeof iterateAsync === 'function') return iterateAsync.call(o);
  const made = (v as () => unknown)();
  if (typeof made === 'function' || !isAgentLike(made))
    throw new ConfigError(`${where}: the agent function returned ${describe(made)}, expected a generator or an (async) iterable of directives`);
  return toAgentIterator(made, where);
}
