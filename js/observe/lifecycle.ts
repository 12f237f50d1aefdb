/**
 * `defEvent(name, handler)`: handlers of lifecycle events (`onToolStart` ...) and custom events
 * (`ctx.emit(name, data)`, `L.event(name, data)`), fed from the run's one event path. Handlers of a
 * run tree run one at a time in event order, off the run's critical path; a run's result settles
 * once its handlers are done. A handler that throws is reported as an `error` event (severity
 * `warning`, source `handler`) and the run goes on.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { DefinitionSet } from '../definitions/set.js';
import type { ErrorEvent, RunEvent, RunEvents, RunEventType } from '../run/events.js';

/** Lifecycle event names and the run events each one receives. */
export const LIFECYCLE_EVENTS = {
  onRunStart: ['run-start'],
  onRunFinish: ['run-finish'],
  onStepStart: ['step-start'],
  onStepFinish: ['step-finish'],
  onModelCall: ['model-call'],
  onToolStart: ['tool-call'],
  onToolEnd: ['tool-result', 'tool-error'],
  onError: ['error'],
  onTokenThreshold: ['token-threshold'],
  onApproval: ['approval-request', 'approval-decision'],
  onStateChange: ['circuit-state'],
} as const satisfies Record<string, readonly RunEventType[]>;

/** A lifecycle event name: `onRunStart`, `onToolStart`, `onError` ... */
export type LifecycleEventName = keyof typeof LIFECYCLE_EVENTS;

/** The run event a handler of lifecycle event `N` receives. */
export type LifecycleEvent<N extends LifecycleEventName> = Extract<RunEvent, { type: (typeof LIFECYCLE_EVENTS)[N][number] }>;

/** What a handler of a custom event receives: the `emitted` event, its data in `value`. */
export type CustomEvent = Extract<RunEvent, { type: 'emitted' }>;

/** A handler: may be async; what it returns is ignored. */
export type EventHandler<E> = (event: E) => void | Promise<void>;

/** Options of `defEvent`. */
export interface EventOptions {
  /** `onTokenThreshold` only: token counts (input + output, the whole run tree) at which it fires, once each. */
  threshold?: number | number[];
}

interface Registered {
  name: string;
  types: readonly string[] | null; // null: a custom event matched by name
  handler: EventHandler<RunEvent>;
  thresholds: number[];
}

const handlers = new WeakMap<DefinitionSet, Registered[]>();

/** Checks and registers a handler on `set` (the definitions of a ctx). */
export function addEventHandler(set: DefinitionSet, name: unknown, handler: unknown, options: EventOptions | undefined): void {
  const where = `defEvent(${typeof name === 'string' ? JSON.stringify(name) : c.describe(name)})`;
  const eventName = checkEventName(name, 'defEvent');
  if (set.eventsOff !== undefined) throw new ConfigError(`${where}: ${set.eventsOff}`);
  if (typeof handler !== 'function') throw new ConfigError(`${where}: the handler must be a function, got ${c.describe(handler)}`);
  c.checkOptions(where, options, { threshold: c.either(c.number(0, Infinity, { positive: true }), c.arrayOf(c.number(0, Infinity, { positive: true }), 'an array of token counts > 0')) });
  if (options?.threshold !== undefined && eventName !== 'onTokenThreshold') c.fail(where, "'threshold' applies to onTokenThreshold only");
  // The engine watches the thresholds it got in the run's spec: one added later would never fire.
  if (options?.threshold !== undefined && set.sealed !== undefined) c.fail(where, `a threshold cannot be added now: ${set.sealed}`);
  const types = eventName in LIFECYCLE_EVENTS ? LIFECYCLE_EVENTS[eventName as LifecycleEventName] : null;
  const thresholds = options?.threshold === undefined ? [] : ([] as number[]).concat(options.threshold);
  const list = handlers.get(set) ?? [];
  list.push({ name: eventName, types, handler: handler as EventHandler<RunEvent>, thresholds });
  handlers.set(set, list);
}

/**
 * A valid event name: a lifecycle name, or a custom name that does not look like one (names
 * starting with `on` + a capital are reserved, so a typo like `onToolStrat` is caught).
 */
export function checkEventName(name: unknown, method: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(name))
    throw new ConfigError(`${method}: the event name must match [A-Za-z_][A-Za-z0-9_.:-]*, got ${c.describe(name)}`);
  if (name in LIFECYCLE_EVENTS) return name;
  // A run event's type as a custom name would wait for an emit that never comes, while the run's own events pass it by.
  const lifecycle = Object.entries(LIFECYCLE_EVENTS).find(([, types]) => (types as readonly string[]).includes(name))?.[0];
  if (lifecycle)
    throw new ConfigError(`${method}: '${name}' is the type of a run event, not an event name: its handlers are defEvent('${lifecycle}', …) (or onEvent for every run event); a custom event needs a name of its own`);
  if (/^on[A-Z]/.test(name)) {
    const known = Object.keys(LIFECYCLE_EVENTS);
    const guess = c.nearest(name, known);
    throw new ConfigError(
      `${method}: unknown lifecycle event '${name}' (${guess ? `did you mean '${guess}'? ` : ''}lifecycle events: ${known.join(', ')}; custom event names must not start with 'on' and a capital)`,
    );
  }
  return name;
}

/** A name custom events may be emitted under (`ctx.emit`, `L.event`): a valid name that is not a lifecycle event's. */
export function checkCustomEventName(name: unknown, method: string): string {
  const checked = checkEventName(name, method);
  if (checked in LIFECYCLE_EVENTS) throw new ConfigError(`${method}: '${checked}' is a lifecycle event, raised by the run itself; emit a custom event name`);
  return checked;
}

/** Token thresholds the handlers of `set` ask for. */
export function tokenThresholds(set: DefinitionSet): number[] {
  return (handlers.get(set) ?? []).flatMap((h) => h.thresholds);
}

/**
 * The run spec's `observe` field for `set`'s handlers and the queued custom events, or undefined
 * when empty. `tokenThresholdHandler`: an onTokenThreshold handler without thresholds of its own
 * listens, so the engine warns when the run has none for it to fire at.
 */
export function observeSpec(set: DefinitionSet, emits: Array<{ name: string; value: unknown }>): Record<string, unknown> | undefined {
  const thresholds = tokenThresholds(set);
  const waiting = (handlers.get(set) ?? []).some((h) => h.name === 'onTokenThreshold' && h.thresholds.length === 0);
  if (thresholds.length === 0 && emits.length === 0 && !waiting) return undefined;
  return {
    ...(thresholds.length > 0 ? { tokenThresholds: thresholds } : {}),
    ...(waiting ? { tokenThresholdHandler: true } : {}),
    ...(emits.length > 0 ? { emits } : {}),
  };
}

/** Whether `set` has any event handler. */
export function hasHandlers(set: DefinitionSet): boolean {
  return (handlers.get(set)?.length ?? 0) > 0;
}

function under(path: string[], scope: string[]): boolean {
  return scope.length <= path.length && scope.every((segment, i) => path[i] === segment);
}

/**
 * Runs the handlers of a run tree: each ctx (the root's, a sub-agent's) sees the events of its
 * place and below. Handlers run serially, in event order.
 */
export class EventDispatch {
  private queue: Promise<void> = Promise.resolve();
  /** Handlers queued and not finished. */
  private queued = 0;
  private readonly scopes: Array<{ set: DefinitionSet; path: string[] }> = [];

  /** @param report Receives the `error` event of a handler that threw. */
  constructor(private readonly report: (event: ErrorEvent) => void) {}

  /** Adds the handlers of `set` for events at `path` and below; returns the function that removes them. */
  add(set: DefinitionSet, path: string[]): () => void {
    const scope = { set, path };
    this.scopes.push(scope);
    return () => {
      const i = this.scopes.indexOf(scope);
      if (i >= 0) this.scopes.splice(i, 1);
    };
  }

  dispatch(event: RunEvent): void {
    // A failing onError handler is reported, but not to the onError handlers again.
    if (event.type === 'error' && event.source === 'handler' && (event.context as { handler?: string }).handler === 'onError') return;
    const path = Array.isArray(event.path) ? event.path : ['root'];
    for (const scope of this.scopes) {
      if (!under(path, scope.path)) continue;
      for (const registered of handlers.get(scope.set) ?? []) {
        const matches = registered.types ? registered.types.includes(event.type) : event.type === 'emitted' && event.name === registered.name;
        if (matches) this.enqueue(registered, event);
      }
    }
  }

  /** Resolves once every handler queued so far (and those they caused) has finished. */
  async drain(): Promise<void> {
    for (let current = this.queue; ; current = this.queue) {
      await current;
      if (current === this.queue) return;
    }
  }

  /** Whether a handler is queued or running. */
  get busy(): boolean {
    return this.queued > 0;
  }

  private enqueue(registered: Registered, event: RunEvent): void {
    this.queued++;
    this.queue = this.queue.then(async () => {
      try {
        await registered.handler(event);
      } catch (err) {
        this.report(handlerError(registered.name, event, err));
      } finally {
        this.queued--;
      }
    });
  }
}

/**
 * Resolves once a run's defEvent handlers and the promises its `onEvent` / `onProgress` returned
 * have settled, including what their failures caused (an `error` event reaches both again).
 */
export async function settleObservers(dispatch: EventDispatch, events: RunEvents): Promise<void> {
  do {
    await dispatch.drain();
    await events.drain();
  } while (dispatch.busy || events.busy);
}

/** The `error` event (severity `warning`, source `handler`) of event handler `name` that failed on `event`. */
export function handlerError(name: string, event: RunEvent, err: unknown): ErrorEvent {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return {
    type: 'error',
    severity: 'warning',
    source: 'handler',
    error: { message: `event handler ${name} failed on ${event.type}: ${message}`, kind: 'callback', severity: 'warning', ...(typeof code === 'string' ? { code } : {}) },
    context: { handler: name, event: event.type },
    path: Array.isArray(event.path) ? event.path : ['root'],
  };
}
