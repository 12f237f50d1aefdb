/**
 * Observers with effects and the events a durable run's replay emits again (docs/durable-runs.md):
 * those events reach the run's streams, `prompt.events` and `onEvent`, but not defEvent handlers,
 * defLogger outputs, tracing or metric exporters, which saw them the first time.
 */
import { isReplayedEvent } from '../engine.js';

/** `listener`, skipping replayed events. */
export function liveEventsOnly<E extends object>(listener: ((event: E) => void) | undefined): ((event: E) => void) | undefined {
  return listener && ((event: E) => {
    if (!isReplayedEvent(event)) listener(event);
  });
}
