/**
 * The warnings of a run's model calls (sub-agents' included), each kept once: every step of a run
 * that sets `topK` on OpenAI chat would otherwise report the same dropped setting again.
 *
 * @module
 */
import type { CallWarning } from '../providers/types.js';

export class CallWarnings {
  private readonly kept: CallWarning[] = [];

  /** Keeps those of `warnings` not kept yet. */
  add(warnings: readonly CallWarning[]): void {
    for (const warning of warnings) {
      const same = (w: CallWarning) => w.type === warning.type && w.setting === warning.setting && w.details === warning.details;
      if (!this.kept.some(same)) this.kept.push(warning);
    }
  }

  /** The warnings so far, in the order they came. */
  list(): CallWarning[] {
    return this.kept.slice();
  }
}
