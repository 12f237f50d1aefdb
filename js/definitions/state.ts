/**
 * `defState` as a definition kind (docs/state-and-caches.md). The engine owns a state's value while
 * the run is live; before that (in the prompt function), the live object records its changes in the
 * definition's draft, and the engine applies them to the value it loads (the stored one, or the
 * initial value), saving right away when the prompt function called `saveState`.
 */
import * as c from '../config/check.js';
import { StateError } from '../errors.js';
import { jsonProblem } from '../storage/checks.js';
import type { JsonValue } from '../storage/types.js';
import { applyChanges, stateDepthLimit, stateValueProblem, type StateChange } from '../state/changes.js';
import { plainCopy } from '../state/live.js';
import type { DefinitionKind } from './kind.js';

/** Options of `defState(name, initialValue, options)`. */
export interface StateOptions<T = unknown> {
  /** Keep the value in a storage adapter: loaded before the first step, saved at the end of the run and on `saveState` (default false: the value lives as long as the run tree). */
  persist?: boolean;
  /**
   * Who shares the value (default `'session'`): `'session'` — runs with the same `sessionId` (run
   * config; required for persisted session state); `'global'` — every run on the storage; `'agent'`
   * — every run of the same agent (a `defAgent` name; `'root'` for the top-level run).
   */
  scope?: 'session' | 'global' | 'agent';
  /** Time to live of the stored entry, ms; every save renews it. Persisted state only. */
  ttl?: number;
  /** A storage registered on the engine (`registerStorage`) instead of the run's. Persisted state only. */
  storage?: string;
  /** Turns the value into the string that is stored (e.g. to encrypt or version it). Needs `deserialize`. */
  serialize?: (value: T) => string;
  /** Turns a stored string back into the value. Needs `serialize`. */
  deserialize?: (text: string) => T;
}

/** What `defState` keeps: the config and, before the run, the prompt function's changes. */
export interface StoredState {
  initial: JsonValue;
  options: StateOptions;
  draft: { value: JsonValue; changes: StateChange[]; save: boolean };
}

export const stateKind: DefinitionKind<unknown, StoredState> = {
  kind: 'state',
  noun: 'state',
  method: 'defState',
  check(where, initialValue, options) {
    const problem = jsonProblem(initialValue, 'initialValue', stateDepthLimit());
    if (problem)
      throw new StateError('STORAGE_UNSERIALIZABLE', `${where}: ${stateValueProblem(problem)}`, {
        state: where.slice(where.indexOf('"') + 1, where.lastIndexOf('"')),
      });
    const o = c.checkOptions<StateOptions>(where, options ?? {}, {
      persist: c.boolean,
      scope: c.oneOf('session', 'global', 'agent'),
      ttl: c.ms(),
      storage: c.nonEmpty,
      serialize: c.func,
      deserialize: c.func,
    });
    if (!o.persist) for (const key of ['ttl', 'storage', 'serialize', 'deserialize'] as const) if (o[key] !== undefined) c.fail(where, `'${key}' applies to persisted state only (add persist: true)`);
    if ((o.serialize === undefined) !== (o.deserialize === undefined)) c.fail(where, "'serialize' and 'deserialize' go together: what one writes, the other must read back");
    const initial = plainCopy(initialValue ?? null) as JsonValue;
    return { initial, options: { ...o }, draft: { value: plainCopy(initial), changes: [], save: false } };
  },
  wire({ initial, options, draft }, marshal, where) {
    if (options.storage !== undefined) marshal.storage?.(options.storage, where);
    const out: Record<string, unknown> = { initial, persist: options.persist ?? false, scope: options.scope ?? 'session' };
    if (options.ttl !== undefined) out.ttl = options.ttl;
    if (options.storage !== undefined) out.storage = options.storage;
    const { serialize, deserialize } = options;
    if (serialize && deserialize) {
      out.serialize = marshal.callback(
        'the serialize function of a state',
        async (value: unknown) => {
          const text: unknown = await Promise.resolve(serialize(value));
          if (typeof text !== 'string') throw new TypeError(`serialize must return a string, got ${c.describe(text)}`);
          return text;
        },
        { plain: true },
      );
      out.deserialize = marshal.callback(
        'the deserialize function of a state',
        async (text: string) => {
          const value: unknown = await deserialize(text);
          const problem = jsonProblem(value, '$');
          if (problem) throw new TypeError(`deserialize returned a value that is not JSON (${problem})`);
          return plainCopy(value) ?? null;
        },
        { plain: true },
      );
    }
    if (draft.changes.length > 0) out.changes = draft.changes;
    if (draft.save) out.save = true;
    return out;
  },
};

/** @internal Records a change the prompt function made before the run. */
export function draftWrite(stored: StoredState, change: StateChange): void {
  stored.draft.value = applyChanges(stored.draft.value, [change]);
  stored.draft.changes.push(change);
}
