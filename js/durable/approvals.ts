/**
 * Approvals of durable runs that wait in storage (docs/durable-runs.md, "Paused runs as data"): a
 * suspended run's pending approval requests are read from its journal, and a decision can be
 * stored from any process; the run's `resume` then uses it instead of asking again.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { ApprovalAction } from '../definitions/human.js';
import type { ApprovalDecision } from '../run/human-host.js';
import { checkedAdapter } from '../storage/host.js';
import type { StorageAdapter } from '../storage/types.js';
import { checkRunId, checkStorage, loadJournal, type RecordedAsk } from './journal.js';

/** An approval request a durable run was waiting for when it stopped. */
export interface PendingDurableApproval extends RecordedAsk {
  /** The durable run's id. */
  runId: string;
  /** The journal record where it was asked. */
  seq: number;
}

/** The pending approvals of durable runs in one storage, and answering them. */
export interface DurableApprovals {
  /** The approval requests run `runId` waits for (none once it finished). */
  pending(runId: string): Promise<PendingDurableApproval[]>;
  /**
   * Stores the decision for request `requestId` of run `runId`; `resume(runId, ...)` applies it
   * instead of asking. The action must be one the request offers.
   */
  respond(runId: string, requestId: string, decision: (ApprovalDecision & { action: ApprovalAction }) | ApprovalAction): Promise<void>;
}

/** The storage key of the decision for a durable run's approval request. */
export function answerKey(runId: string, requestId: string): string {
  return `lmthing:journal:${runId}:answer:${requestId}`;
}

/** The storage key of a durable run's end state (`finished`, `failed` or `suspended`). */
export function statusKey(runId: string): string {
  return `lmthing:journal:${runId}:status`;
}

/** The approvals of the durable runs in `storage`. */
export function durableApprovals(storage: StorageAdapter): DurableApprovals {
  const checked = checkedAdapter(checkStorage(storage, 'durableApprovals'));
  const pending = async (runId: string): Promise<PendingDurableApproval[]> => {
    checkRunId(runId, 'durableApprovals.pending');
    const status = (await checked.get(statusKey(runId)))?.value as { state?: string } | undefined;
    if (status?.state === 'finished' || status?.state === 'failed') return [];
    const { records } = await loadJournal(runId, storage);
    const completed = new Set<number>();
    const answeredInRun = new Set<string>();
    for (const record of records) {
      for (const line of record.lines) {
        const message = JSON.parse(line) as { type?: string; id?: unknown; request?: unknown };
        if (message.type === 'op.done' && typeof message.id === 'number') completed.add(message.id);
        if (message.type === 'approval.respond' && typeof message.request === 'string') answeredInRun.add(message.request);
      }
    }
    const out: PendingDurableApproval[] = [];
    for (const record of records)
      for (const op of record.ops)
        if (op.op === 'approval.ask' && op.ask && !completed.has(op.id) && !answeredInRun.has(op.ask.request)) out.push({ runId, seq: record.seq, ...op.ask });
    return out;
  };
  return {
    pending,
    async respond(runId, requestId, decision) {
      const open = await pending(runId);
      const request = open.find((p) => p.request === requestId);
      if (!request) throw new ConfigError(`durableApprovals.respond: run "${runId}" has no pending approval request "${requestId}" (pending: ${open.map((p) => p.request).join(', ') || 'none'})`);
      const normalized: ApprovalDecision & { action: ApprovalAction } = typeof decision === 'string' ? { action: decision } : decision;
      if (!c.isPlainObject(normalized) || !request.options.includes(normalized.action))
        throw new ConfigError(`durableApprovals.respond: the decision must be one of ${request.options.map((o) => `'${o}'`).join(', ')} (or {action, modifiedData?, reason?}), got ${c.describe(decision)}`);
      c.checkOptions(`durableApprovals.respond "${requestId}": the decision`, normalized, { action: c.anything, modifiedData: c.anything, reason: c.anything }, 'field');
      if (normalized.action === 'modify' && normalized.modifiedData === undefined)
        throw new ConfigError(`durableApprovals.respond "${requestId}": action "modify" needs "modifiedData" (the arguments the tool runs with instead)`);
      // Written only if nobody answered first (two approvers: the first answer stands, as on the live desk).
      if ((await checked.compareAndSet(answerKey(runId, requestId), undefined, normalized)) === false)
        throw new ConfigError(`durableApprovals.respond: approval request "${requestId}" of run "${runId}" already has an answer`);
    },
  };
}
