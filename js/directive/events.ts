/**
 * The buffered async iterables of a directive run: its events (see run/events.ts for their types)
 * and the text deltas of a streamed reply.
 */

import { ConfigError } from '../errors.js';
import type { RunEvent } from '../run/events.js';
import { JsonLog } from './json-log.js';

export type { RunEvent, RunEventType } from '../run/events.js';

/**
 * An unbounded queue of events read by `for await`; ends when the run ends. An event may come as
 * its JSON bytes (`keep`, then `push` of the number it returned): they are parsed when read, so a
 * run whose events nobody reads never decodes them (bench/README.md, "Parallel fan-out").
 */
export class EventQueue implements AsyncIterable<RunEvent> {
  private readonly buffered: Array<RunEvent | number> = [];
  private log: JsonLog | undefined;
  private readonly waiting: Array<(r: IteratorResult<RunEvent>) => void> = [];
  private closed = false;

  /** `refusal`: the queue of a run that keeps no events; reading it throws a ConfigError saying so. */
  constructor(private readonly refusal?: string) {}

  /** Copies an event's JSON bytes (a view that may be valid only now); `push` the result to queue it. */
  keep(json: Uint8Array): number {
    if (this.refusal !== undefined) return -1; // push ignores it too
    return (this.log ??= new JsonLog()).append(json);
  }

  /** Queues an event, or the number `keep` gave for one. */
  push(event: RunEvent | number): void {
    if (this.refusal !== undefined) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter({ value: this.parsed(event), done: false });
    else this.buffered.push(event);
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  private parsed(event: RunEvent | number): RunEvent {
    return typeof event === 'number' ? (this.log!.parse(event) as RunEvent) : event;
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    if (this.refusal !== undefined) throw new ConfigError(this.refusal);
    return {
      next: () => {
        const event = this.buffered.shift();
        if (event !== undefined) return Promise.resolve({ value: this.parsed(event), done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiting.push(resolve));
      },
    };
  }
}

/**
 * Text deltas of one streamed reply, read by `for await`; ends (or throws) when the reply does.
 * Every reader gets every delta from the start (a printer and a logger may both read it, and a
 * reader that comes late still gets the whole text).
 */
export class DeltaQueue implements AsyncIterable<string> {
  private readonly deltas: string[] = [];
  private readonly waiting = new Set<() => void>();
  private end: { error?: unknown } | null = null;
  /** Whether a reader saw the outcome (so a failure is not reported twice). */
  observed = false;

  push(text: string): void {
    this.deltas.push(text);
    this.wake();
  }

  finish(error?: unknown): void {
    this.end = error === undefined ? {} : { error };
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiting];
    this.waiting.clear();
    for (const waiter of waiters) waiter();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    let next = 0;
    const read = (): Promise<IteratorResult<string>> => {
      if (next < this.deltas.length) return Promise.resolve({ value: this.deltas[next++], done: false });
      if (this.end) {
        this.observed = true;
        if (this.end.error === undefined) return Promise.resolve({ value: undefined, done: true });
        // The reply's own failure, as the engine reported it (a typed error).
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(this.end.error);
      }
      return new Promise((resolve) => this.waiting.add(() => resolve(read())));
    };
    return { next: read };
  }
}
