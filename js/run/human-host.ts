/**
 * The host half of human in the loop (docs/human-in-the-loop.md): performing the engine's
 * `approval.ask` / `interaction.ask` ops by handing each request to the run's handler (or the
 * terminal), and answering pending requests by id. State belongs to one engine.
 */
import type { Engine, OpRequest } from '../engine.js';
import type { ApprovalAction } from '../definitions/human.js';
import { AbortError } from '../errors.js';
import { signApproval } from '../prompt/approval-signature.js';

/** An approval request as the handler receives it. */
export interface ApprovalRequest {
  /** The request id; answer by id with `prompt.approvals.respond(id, decision)`. */
  id: string;
  name: string;
  message: string;
  options: ApprovalAction[];
  defaultAction: 'approve' | 'deny';
  /** The tool and its arguments when the approval guards a tool call (and `showPreview`). */
  preview: { toolName: string; args: unknown } | null;
  /** Epoch milliseconds after which the default action applies, or null. */
  deadline: number | null;
  /** What `requestApproval` was given, or `{toolName, args, toolCallId}` for a tool call. */
  context: unknown;
  toolCallId?: string;
  /** Where the request comes from in the run's branch tree, e.g. `['root']` or `['root', '0']`. */
  path: string[];
  /** Aborted when the request no longer needs an answer (timeout, answered by id, run cancelled). */
  signal: AbortSignal;
}

/**
 * A decision: the action, the edited data for `modify` (a tool's new arguments), and why. `defer`
 * (a root prompt run's tool calls only) ends the run after the step with the call pending, to be
 * decided in the messages of a later run (docs/human-in-the-loop.md, "Approvals across requests").
 */
export interface ApprovalDecision {
  action: ApprovalAction | 'defer';
  modifiedData?: unknown;
  reason?: string;
}

/** The decision the engine applied to `requestApproval`, with where it came from (it cannot be deferred). */
export interface ApprovalResult extends Omit<ApprovalDecision, 'action'> {
  action: ApprovalAction;
  /** The request id. */
  request: string;
  /** `handler`, `respond` (answered by id), `timeout`, `error` (the handler failed) or `invalid`. */
  source: 'handler' | 'respond' | 'timeout' | 'error' | 'invalid';
}

/**
 * Decides an approval request: a decision, just the action, or nothing to answer later by id
 * (`prompt.approvals.respond`). A throw or rejection counts as the default action.
 */
export type ApprovalHandler = (
  request: ApprovalRequest,
) => ApprovalDecision | ApprovalAction | 'defer' | void | Promise<ApprovalDecision | ApprovalAction | 'defer' | void>;

/** An interaction request as the handler receives it. */
export interface InteractionRequest {
  id: string;
  name: string;
  kind: 'question' | 'choice';
  message: string;
  choices: unknown[];
  multiple: boolean;
  allowSkip: boolean;
  default: unknown;
  deadline: number | null;
  /** 1 for the first ask; more when an earlier answer was invalid. */
  attempt: number;
  /** Why the previous answer was refused, or null. */
  error: string | null;
  context: unknown;
  path: string[];
  signal: AbortSignal;
}

/** Answers an interaction: the value, or `undefined` to skip. */
export type InteractionHandler = (request: InteractionRequest) => unknown;

/** What `ctx.interact` resolves to. */
export interface InteractionResult {
  value: unknown;
  skipped: boolean;
  attempts: number;
  /** Set when the default was used (timeout, handler failure). */
  reason?: string;
}

/** The handlers a run's requests go to (`runPrompt` / `run` config). */
export interface HumanHandlers {
  onApproval?: ApprovalHandler;
  onInteraction?: InteractionHandler;
  /** @internal runPrompt's `approvalSecret`: a deferred call's decision is signed with it (js/prompt/approval-signature.ts). */
  approvalSecret?: string;
  /** @internal runPrompt's `approvalTtlMs`: how long a deferred call's signature stays valid. */
  approvalTtlMs?: number;
  /**
   * @internal A durable run's way out when an approval has no handler and no terminal: the run is
   * suspended (saved) instead of applying the default action (docs/durable-runs.md).
   */
  suspend?: () => void;
  /** @internal The run has `approvals.respond` (a prompt run): an onApproval that returns nothing leaves the request to it. */
  answersById?: boolean;
}

/** Asks an approval on a terminal (installed on engines by the Node entry point). */
export interface TerminalApprover {
  /** True when stdin and stdout are terminals. */
  available(): boolean;
  ask(request: ApprovalRequest): Promise<ApprovalDecision>;
}

/** The approvals of a live run: what is pending and a way to answer by id. */
export interface ApprovalDesk {
  /** Requests asked and not yet decided. */
  pending(): ApprovalRequest[];
  /** Answers request `id`; rejects (ProtocolError) for an unknown id or a decision the request does not offer. */
  respond(id: string, decision: ApprovalDecision | ApprovalAction | 'defer'): Promise<void>;
}

/** The interactions of a live run: what is pending and a way to answer by id. */
export interface InteractionDesk {
  pending(): InteractionRequest[];
  /** Answers request `id` with a value (or `{skipped: true}`); rejects for an unknown id or an unacceptable answer. */
  respond(id: string, answer: { value: unknown } | { skipped: true }): Promise<void>;
}

interface Route {
  handlers: HumanHandlers;
  approvals: Map<string, ApprovalRequest>;
  interactions: Map<string, InteractionRequest>;
}

/** One engine's human-in-the-loop host: routes by the runs' `host` strings. */
export class HumanHost {
  terminal: TerminalApprover | null = null;
  private readonly routes = new Map<string, Route>();
  private nextRoute = 1;

  constructor(private readonly engine: Engine) {
    engine.registerOpHandler('approval.ask', (op, signal) => this.askApproval(op, signal));
    engine.registerOpHandler('interaction.ask', (op, signal) => this.askInteraction(op, signal));
  }

  /** A new route for a run tree's requests: its `host` string, its desks, and a way to drop it. */
  open(handlers: HumanHandlers): { host: string; approvals: ApprovalDesk; interactions: InteractionDesk; close(): void } {
    const host = `h${this.nextRoute++}`;
    const route: Route = { handlers, approvals: new Map(), interactions: new Map() };
    this.routes.set(host, route);
    return {
      host,
      approvals: {
        pending: () => [...route.approvals.values()],
        // A run's desk answers its own requests (`host`): another run's (another user's) are not its to decide.
        respond: async (id, decision) => {
          const request = route.approvals.get(id);
          const signed = request ? await signedIfDeferred(decision, request, route.handlers) : decision;
          await this.engine.request('approval.respond', { request: id, decision: signed, host });
        },
      },
      interactions: {
        pending: () => [...route.interactions.values()],
        respond: async (id, answer) => {
          await this.engine.request('interaction.respond', { request: id, answer, host });
        },
      },
      close: () => this.routes.delete(host),
    };
  }

  private route(op: OpRequest): Route {
    const route = this.routes.get(String(op.host));
    if (!route) throw new Error(`${op.op}: no run is listening for requests of host "${String(op.host)}"`);
    return route;
  }

  private async askApproval(op: OpRequest, signal: AbortSignal): Promise<unknown> {
    const route = this.route(op);
    const request: ApprovalRequest = {
      id: String(op.request),
      name: String(op.name),
      message: String(op.message),
      options: op.options as ApprovalAction[],
      defaultAction: op.defaultAction as 'approve' | 'deny',
      preview: (op.preview as ApprovalRequest['preview']) ?? null,
      deadline: (op.deadline as number | null) ?? null,
      context: op.context ?? null,
      ...(typeof op.toolCallId === 'string' ? { toolCallId: op.toolCallId } : {}),
      path: (op.path as string[] | undefined) ?? ['root'],
      signal,
    };
    return this.pendingWhile(route.approvals, request, signal, async () => {
      const { onApproval } = route.handlers;
      if (onApproval) {
        const decision = await onApproval(request);
        if (decision === undefined) {
          if (route.handlers.answersById) return await untilAborted(signal);
          if (route.handlers.suspend) {
            route.handlers.suspend(); // a durable run: answered later with durableApprovals.respond
            return await untilAborted(signal);
          }
          // Nothing could ever answer it: the approval's default action applies, with this reason.
          throw new Error('onApproval returned nothing ("I will answer by id"), and this run has no approvals.respond to answer with; return a decision');
        }
        return route.handlers.approvalSecret === undefined ? decision : await signedIfDeferred(decision, request, route.handlers);
      }
      if (this.terminal?.available()) return await this.terminal.ask(request);
      if (route.handlers.suspend) {
        route.handlers.suspend();
        return await untilAborted(signal);
      }
      throw new Error('no onApproval handler and no terminal to ask on');
    });
  }

  private async askInteraction(op: OpRequest, signal: AbortSignal): Promise<unknown> {
    const route = this.route(op);
    const request: InteractionRequest = {
      id: String(op.request),
      name: String(op.name),
      kind: op.kind as 'question' | 'choice',
      message: String(op.message),
      choices: (op.choices as unknown[]) ?? [],
      multiple: Boolean(op.multiple),
      allowSkip: Boolean(op.allowSkip),
      default: op.default ?? null,
      deadline: (op.deadline as number | null) ?? null,
      attempt: Number(op.attempt),
      error: (op.error as string | null) ?? null,
      context: op.context ?? null,
      path: (op.path as string[] | undefined) ?? ['root'],
      signal,
    };
    return this.pendingWhile(route.interactions, request, signal, async () => {
      const { onInteraction } = route.handlers;
      if (!onInteraction) throw new Error('no onInteraction handler');
      const value = await onInteraction(request);
      return value === undefined ? { skipped: true } : { value };
    });
  }

  /** Keeps `request` listed as pending while `ask` runs (and until the engine stops waiting). */
  private async pendingWhile<R extends { id: string }>(pending: Map<string, R>, request: R, signal: AbortSignal, ask: () => Promise<unknown>): Promise<unknown> {
    pending.set(request.id, request);
    const forget = () => pending.delete(request.id);
    signal.addEventListener('abort', forget, { once: true });
    try {
      return await ask();
    } finally {
      forget();
    }
  }
}

/** A `defer` decision with the signature of the call it leaves pending (what the client must send back); any other decision as it is. */
async function signedIfDeferred(
  decision: ApprovalDecision | ApprovalAction | 'defer',
  request: ApprovalRequest,
  { approvalSecret, approvalTtlMs }: HumanHandlers,
): Promise<unknown> {
  const action = typeof decision === 'string' ? decision : decision?.action;
  const call = request.context as { toolName?: unknown; args?: unknown } | null;
  if (action !== 'defer' || approvalSecret === undefined || request.toolCallId === undefined || typeof call?.toolName !== 'string') return decision;
  // Wall-clock time: the response comes back in another request, perhaps to another process.
  const expiresAt = approvalTtlMs === undefined ? undefined : Date.now() + approvalTtlMs;
  const signature = await signApproval(approvalSecret, { approvalId: request.id, toolCallId: request.toolCallId, toolName: call.toolName, args: call.args }, expiresAt);
  return { ...(typeof decision === 'string' ? { action: decision } : decision), signature };
}

/**
 * Never resolves; rejects when the engine stops waiting (answered by id, timeout, cancel) with the
 * signal's reason: the engine aborts op signals with an AbortError.
 */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(abortError(signal));
    if (signal.aborted) fail();
    signal.addEventListener('abort', fail, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new AbortError(typeof reason === 'string' ? reason : undefined, { cause: reason });
}
