/**
 * The AI SDK 7's steering: user messages sent to a running `runPrompt` (`experimental_steering`),
 * e.g. what a chat user types while the agent works. `steer` adds a message at the next step
 * boundary (after the current step and its tool calls; a run whose model had finished goes on for
 * another step); `queue` adds one once the model gives a final answer. Each promise says which step
 * received the message, or why none did. The engine's `steering` step seam asks for them after
 * every step (src/agent/steering.cpp); a durable run's journal answers that on replay.
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import { anything, checkOptions, describe } from '../config/check.js';
import type { Message } from '../providers/types.js';

/** A user message, as steering takes it. */
export interface SteeringMessage extends Message {
  role: 'user';
}

/** Why a steering message reached no step. */
export type SteeringNotDeliveredReason = 'finished' | 'stop-condition' | 'waiting-for-tool-results' | 'aborted' | 'error';

/** What became of a steering message. */
export type SteeringOutcome =
  | { readonly type: 'delivered'; readonly id: string; readonly message: SteeringMessage; readonly stepNumber: number }
  | { readonly type: 'not-delivered'; readonly id: string; readonly message: SteeringMessage; readonly reason: SteeringNotDeliveredReason };

/** Sends user messages to one running `runPrompt` (pass it as `experimental_steering`). */
export interface Steering {
  /**
   * Adds a user message at the next step boundary: after the current step and its tool calls;
   * if the model had given its final answer, the run goes on for another step (unless a stop
   * condition or the step limit ends it). Sent before the run starts, it joins the first step.
   * The same `id` twice gives the first message's outcome. Never rejects.
   */
  steer(message: string | SteeringMessage, options?: { id?: string }): Promise<SteeringOutcome>;
  /** Adds a user message once the model gives a final answer (one per answer, in order, after any steered ones). */
  queue(message: string | SteeringMessage, options?: { id?: string }): Promise<SteeringOutcome>;
}

interface Entry {
  id: string;
  message: SteeringMessage;
  resolve: (outcome: SteeringOutcome) => void;
}

/** @internal The run's side of a steering object. */
export interface SteeringRun {
  /** The messages sent before the run started: they join its first step. */
  initial(): SteeringMessage[];
  /** The engine's question after step `stepNumber`: the messages for the next step. */
  after(step: { stepNumber: number; final: boolean }): SteeringMessage[];
  /** Step `stepNumber` started: its messages were delivered; returns them, for the stream. */
  started(stepNumber: number): Array<{ id: string; message: SteeringMessage }>;
  /** The run ended: what was not delivered, with why. */
  end(reason: 'finished' | 'waiting-for-tool-results' | 'aborted' | 'error'): void;
}

class SteeringChannel implements Steering {
  private waiting: Entry[] = [];
  private queued: Entry[] = [];
  private readonly taken = new Map<number, Entry[]>();
  private readonly outcomes = new Map<string, Promise<SteeringOutcome>>();
  private nextId = 1;
  private state: 'idle' | 'running' | 'ended' = 'idle';

  steer(message: string | SteeringMessage, options?: { id?: string }): Promise<SteeringOutcome> {
    return this.add(this.waiting, 'steer', message, options);
  }

  queue(message: string | SteeringMessage, options?: { id?: string }): Promise<SteeringOutcome> {
    return this.add(this.queued, 'queue', message, options);
  }

  attach(): SteeringRun {
    if (this.state !== 'idle') throw new ConfigError('runPrompt config.experimental_steering: a steering object serves one run; make another with createSteering()');
    this.state = 'running';
    return {
      initial: () => this.take(0, this.waiting.splice(0)),
      after: ({ stepNumber, final }) => {
        const next = this.waiting.splice(0);
        if (final && next.length === 0 && this.queued.length > 0) next.push(this.queued.shift()!);
        return this.take(stepNumber + 1, next);
      },
      started: (stepNumber) => {
        const delivered = this.taken.get(stepNumber) ?? [];
        this.taken.delete(stepNumber);
        for (const { id, message, resolve } of delivered) resolve({ type: 'delivered', id, message, stepNumber });
        return delivered.map(({ id, message }) => ({ id, message }));
      },
      end: (reason) => {
        this.state = 'ended';
        // Taken for a step that never came: the run stopped before it (a stop condition, the step limit).
        for (const entries of this.taken.values()) this.notDelivered(entries, reason === 'finished' ? 'stop-condition' : reason);
        this.taken.clear();
        this.notDelivered(this.waiting.splice(0), reason);
        this.notDelivered(this.queued.splice(0), reason);
      },
    };
  }

  private take(stepNumber: number, entries: Entry[]): SteeringMessage[] {
    if (entries.length > 0) this.taken.set(stepNumber, entries);
    return entries.map((entry) => entry.message);
  }

  private notDelivered(entries: Entry[], reason: SteeringNotDeliveredReason): void {
    for (const { id, message, resolve } of entries) resolve({ type: 'not-delivered', id, message, reason });
  }

  private add(list: Entry[], method: string, message: string | SteeringMessage, options: { id?: string } | undefined): Promise<SteeringOutcome> {
    const user = userMessage(message, method);
    if (options !== undefined && (typeof options !== 'object' || options === null || (options.id !== undefined && (typeof options.id !== 'string' || options.id === ''))))
      throw new ConfigError(`steering.${method}: options must be {id?: a non-empty string}, got ${describe(options)}`);
    checkOptions(`steering.${method}`, options, { id: anything });
    const id = options?.id ?? `steering-${this.nextId++}`;
    const known = this.outcomes.get(id);
    if (known) return known;
    const outcome = new Promise<SteeringOutcome>((resolve) => {
      if (this.state === 'ended') resolve({ type: 'not-delivered', id, message: user, reason: 'finished' });
      else list.push({ id, message: user, resolve });
    });
    this.outcomes.set(id, outcome);
    return outcome;
  }
}

function userMessage(message: string | SteeringMessage, method: string): SteeringMessage {
  if (typeof message === 'string') {
    if (message === '') throw new ConfigError(`steering.${method}: the message is empty`);
    return { role: 'user', content: message };
  }
  const shape = message as { role?: unknown; content?: unknown } | null;
  if (typeof shape !== 'object' || shape === null || shape.role !== 'user' || !(typeof shape.content === 'string' || Array.isArray(shape.content)))
    throw new ConfigError(`steering.${method}: expected a text or a user message {role: 'user', content}, got ${describe(message)}`);
  return { ...message };
}

/**
 * Makes a steering object for one run: pass it as `runPrompt`'s `experimental_steering`, then
 * `steer(text)` or `queue(text)` while it runs.
 *
 * @example
 * ```ts
 * const steering = createSteering();
 * const run = runPrompt({ model, tools, prompt: 'Weather in Paris?', experimental_steering: steering });
 * const outcome = await steering.steer('I mean Paris, Texas.'); // {type: 'delivered', stepNumber: 1, ...}
 * ```
 */
export function createSteering(): Steering {
  return new SteeringChannel();
}

/** @internal The run side of `steering`, or a ConfigError for something that is not a steering object. */
export function attachSteering(steering: unknown): SteeringRun {
  if (!(steering instanceof SteeringChannel)) throw new ConfigError(`runPrompt config.experimental_steering: expected an object made by createSteering(), got ${describe(steering)}`);
  return steering.attach();
}
