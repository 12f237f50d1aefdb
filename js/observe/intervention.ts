/**
 * `ctx.requestHumanIntervention(event)`: a run that needs a person asks the run's interaction
 * handler (`onInteraction`, the same machinery as `ctx.interact`) without a `defInteraction`. The
 * request is named `humanIntervention`; its `context` is the event; a skip is always an answer.
 */
import * as c from '../config/check.js';
import { checkChoiceList } from '../definitions/human.js';
import { jsonProblem } from '../storage/checks.js';
import type { JsonValue } from '../storage/types.js';

/** What `ctx.requestHumanIntervention` asks about. */
export interface HumanInterventionEvent {
  /** Why a person is needed; also the question unless `message` is given. */
  reason: string;
  /** The question shown to the person (default: `reason`). */
  message?: string;
  /** How urgent it is (default `warning`). */
  severity?: 'info' | 'warning' | 'critical';
  /** Offer these answers (the answer must be one of them). */
  choices?: string[];
  /** Anything the person needs to decide (JSON), passed on in the request's `context.data`. */
  data?: JsonValue;
  /** Ms to wait for an answer; then `default` is used, or the request is skipped. */
  timeout?: number;
  /** The answer when nobody answers in time or the handler fails. */
  default?: JsonValue;
}

/** Checks `event` and returns the engine's `intervention` and `context` fields. */
export function interventionRequest(event: unknown): { intervention: Record<string, unknown>; context: Record<string, unknown> } {
  const where = 'ctx.requestHumanIntervention';
  if (!c.isPlainObject(event)) c.fail(where, `expected an event {reason, message?, severity?, choices?, data?, timeout?, default?}, got ${c.describe(event)}`);
  c.checkOptions(where, event, {
    reason: c.nonEmpty,
    message: c.nonEmpty,
    severity: c.oneOf('info', 'warning', 'critical'),
    choices: (v) => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? undefined : 'a non-empty array of strings'),
    data: c.anything,
    timeout: c.ms(),
    default: c.anything,
  });
  const e = event as unknown as HumanInterventionEvent;
  if (typeof e.reason !== 'string' || e.reason.length === 0) c.fail(where, "'reason' is required: why a person is needed");
  if (e.choices) checkChoiceList(where, e.choices, { default: e.default });
  for (const key of ['data', 'default'] as const) {
    const problem = e[key] === undefined ? undefined : jsonProblem(e[key], key);
    if (problem) c.fail(where, `${problem} (must be JSON)`);
  }
  const intervention: Record<string, unknown> = { message: e.message ?? e.reason };
  if (e.choices) intervention.choices = e.choices;
  if (e.timeout !== undefined) intervention.timeoutMs = e.timeout;
  if (e.default !== undefined) intervention.default = e.default;
  const context = { reason: e.reason, severity: e.severity ?? 'warning', ...(e.data !== undefined ? { data: e.data } : {}) };
  return { intervention, context };
}
