/**
 * The definitions a prompt function (or a directive run's `define`) collected, in definition order,
 * and their marshalling into the run spec's `definitions` list.
 */
import { ConfigError } from '../errors.js';
import { checkName } from '../prompt/names.js';
import type { Definition, DefinitionKind, Marshal } from './kind.js';

export class DefinitionSet {
  private readonly entries = new Map<string, Definition>();
  /** Counts the additions here: lookups by kind are memoized until this or a parent's changes. */
  private revision = 0;
  private readonly memo = new Map<DefinitionKind<unknown, unknown>, { stamp: number; names: readonly string[]; values: readonly unknown[] }>();
  /** A sub-agent's definitions see their parent's (the engine does the same). */
  parent: DefinitionSet | undefined;
  /**
   * Set for a run that keeps no events (`run(agent, {events: false})`): why definitions that read
   * them (`readsEvents` kinds, defEvent handlers) are refused, in `define` or while the run is live.
   */
  eventsOff: string | undefined;
  /** Set once the run has started: why a definition the engine would need is refused (host-only kinds still work). */
  sealed: string | undefined;

  /** Adds definition `name` of `kind` after checking its config; a second one of the same kind and name is refused. */
  add<C, S>(kind: DefinitionKind<C, S>, name: unknown, config: C, ...rest: unknown[]): string {
    const checked = checkName(name, kind.method);
    // Replacing would silently drop the first (a copied block, two plugins using one name).
    if (this.entries.has(`${kind.kind}\u0000${checked}`)) throw new ConfigError(`${kind.method}("${checked}"): a ${kind.noun} named "${checked}" is already defined in this run; give this one another name`);
    const sharing = kind.namespace === undefined ? undefined : [...this.entries.values()].find((d) => d.name === checked && d.kind !== kind && d.kind.namespace === kind.namespace);
    if (sharing) throw new ConfigError(`${kind.method}("${checked}"): a ${sharing.kind.noun} named "${checked}" is already defined in this run, and the two share their names; give this one another name`);
    if (kind.readsEvents && this.eventsOff !== undefined) throw new ConfigError(`${kind.method}("${checked}"): ${this.eventsOff}`);
    if (!kind.hostOnly && this.sealed !== undefined) throw new ConfigError(`${kind.method}("${checked}"): ${this.sealed}`);
    const stored = kind.check(`${kind.method}("${checked}")`, config, ...rest);
    this.entries.set(`${kind.kind}\u0000${checked}`, { kind, name: checked, stored });
    this.revision++;
    return checked;
  }

  /** The stored config of `name` of `kind` (here or in a parent), if defined. */
  get<S>(kind: DefinitionKind<unknown, S>, name: string): S | undefined {
    const own = this.entries.get(`${kind.kind}\u0000${name}`);
    return own ? (own.stored as S) : this.parent?.get(kind, name);
  }

  has(kind: DefinitionKind<unknown, unknown>, name: string): boolean {
    return this.entries.has(`${kind.kind}\u0000${name}`) || Boolean(this.parent?.has(kind, name));
  }

  /** Names defined of `kind` that a lookup here reaches, in definition order. */
  names(kind: DefinitionKind<unknown, unknown>): readonly string[] {
    return this.lookup(kind).names;
  }

  /** How many definitions the engine gets. */
  get size(): number {
    return [...this.entries.values()].filter((d) => !d.kind.hostOnly).length;
  }

  /** The stored values of every definition of `kind` a lookup here reaches (parents first). */
  values<S>(kind: DefinitionKind<never, S>): readonly S[] {
    return this.lookup(kind).values as readonly S[];
  }

  /** Grows with every addition here or in a parent (revisions only increase). */
  private get stamp(): number {
    return this.revision + (this.parent?.stamp ?? 0);
  }

  // Run events ask for the loggers on every event: answer from a memo while nothing was added.
  private lookup(kind: DefinitionKind<unknown, unknown>): { names: readonly string[]; values: readonly unknown[] } {
    const stamp = this.stamp;
    const memo = this.memo.get(kind);
    if (memo && memo.stamp === stamp) return memo;
    const own = [...this.entries.values()].filter((d) => d.kind === kind).map((d) => d.name);
    const names = [...new Set([...(this.parent?.names(kind) ?? []), ...own])];
    const fresh = { stamp, names, values: names.map((name) => this.get(kind, name)) };
    this.memo.set(kind, fresh);
    return fresh;
  }

  /** The spec's `definitions`: [{kind, name, config}]. */
  toWire(marshal: Marshal): Array<{ kind: string; name: string; config: Record<string, unknown> }> {
    return [...this.entries.values()].filter((d) => !d.kind.hostOnly).map((d) => wireOf(d, marshal));
  }

  /** The wire form of this set's own definition `name` of `kind` alone (for a run that needs only it), if defined. */
  oneToWire(kind: DefinitionKind<unknown, unknown>, name: string, marshal: Marshal): { kind: string; name: string; config: Record<string, unknown> } | undefined {
    const own = this.entries.get(`${kind.kind}\u0000${name}`);
    return own && wireOf(own, marshal);
  }
}

function wireOf(d: Definition, marshal: Marshal): { kind: string; name: string; config: Record<string, unknown> } {
  return { kind: d.kind.kind, name: d.name, config: d.kind.wire(d.stored, marshal, `${d.kind.method}("${d.name}")`) };
}
