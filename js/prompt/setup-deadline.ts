/**
 * The part of a run before the engine has it (plugin installs and the prompt function of
 * `runPrompt`, an agent's configure function, `run(agent, {define})`) under the run's abort signal
 * and `timeout`, so a setup that never settles
 * cannot hold the caller: its await rejects with the `AbortError` or `TimeoutError` the run would
 * have ended with. The user code itself cannot be stopped; what it does later is not awaited.
 *
 * @module
 */
import { AbortError, TimeoutError } from '../errors.js';
import { abortReason } from '../engine.js';

/** `setTimeout` takes at most 2^31-1 ms; a longer timeout cannot pass during a setup anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SetupDeadline {
  /** Rejects once the signal aborts or the timeout passes; never resolves. */
  private readonly stopped: Promise<never>;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private detach: (() => void) | undefined;
  private readonly startedAt = performance.now();
  /** How long the setup took, once {@link end} was called: the engine counts it against the run's timeout. */
  spentMs = 0;

  /** `what`: the setup, as the timeout's message names it ("the define function"). */
  constructor(where: string, what: string, signal: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.stopped = new Promise<never>((_, reject) => {
      if (signal?.aborted) return reject(new AbortError(abortReason(signal)));
      const onAbort = (): void => reject(new AbortError(abortReason(signal!)));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.detach = () => signal?.removeEventListener('abort', onAbort);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
        this.timer = setTimeout(
          () => reject(new TimeoutError(`${where}: ${what} had not finished when the run's timeout of ${timeoutMs} ms passed`)),
          timeoutMs,
        );
      }
    });
    // Nobody may be awaiting when it rejects (between two bound steps).
    this.stopped.catch(() => undefined);
  }

  /** `work`, unless the run is aborted or times out first. */
  bound<T>(work: T | PromiseLike<T>): Promise<T> {
    return Promise.race([Promise.resolve(work), this.stopped]);
  }

  /** The setup is over (either way): the engine's own timeout and abort take over. */
  end(): void {
    this.spentMs ||= performance.now() - this.startedAt;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.detach?.();
  }
}
