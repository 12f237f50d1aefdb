/**
 * Which engine callback the running code belongs to, so that what it starts through `ctx` (runTool,
 * runAgent, executeParallel ...) is cancelled with that callback's op: the engine commands carry the
 * op's id as their `scope` (src/runtime/loop.hpp, cancellation scopes). Following a callback across
 * `await`s needs the host's async context (Node's AsyncLocalStorage, installed by the Node entry);
 * without one, only the contexts the engine hands a callback (`wctx`) know their op.
 */

/** Runs a function with an op as its async context, and reads that context back. */
export interface OpScopeStorage {
  run<T>(scope: OpScope, fn: () => T): T;
  current(): OpScope | undefined;
}

/** A callback op of one engine. */
export interface OpScope {
  engine: object;
  opId: number;
}

let storage: OpScopeStorage | undefined;

/** Installs the host's async context (the Node entry does, with AsyncLocalStorage). */
export function setOpScopeStorage(next: OpScopeStorage): void {
  storage = next;
}

/** Runs `fn` (a callback of op `opId` of `engine`) in that op's scope. */
export function inOpScope<T>(engine: object, opId: number, fn: () => T): T {
  return storage ? storage.run({ engine, opId }, fn) : fn();
}

/** The op of `engine` whose callback is running (in hosts with an async context), or undefined. */
export function currentOp(engine: object): number | undefined {
  const current = storage?.current();
  return current && current.engine === engine ? current.opId : undefined;
}

/** `{scope: opId}` for a command `engine` is sent from inside one of its callbacks, else `{}`. */
export function scopeField(engine: object): { scope?: number } {
  const current = storage?.current();
  return current && current.engine === engine ? { scope: current.opId } : {};
}
