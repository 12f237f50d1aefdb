/**
 * Human in the loop for prompt runs (docs/human-in-the-loop.md): `defApproval`, `defGuard`,
 * `defValidator`, `defInteraction`, `ctx.requestApproval`, `ctx.interact`, and the host half of the
 * `approval.ask` / `interaction.ask` ops. The engine owns the policy (timeouts, default actions,
 * re-asking, retries); this module only collects definitions, registers their functions as
 * callbacks and hands requests to the user's handlers.
 */
import type { Engine, OpRequest } from '../engine.js';
import { toJsonSchema } from '../schema.js';
import { checkName } from './names.js';

/** What a human can decide about an approval request. */
export type ApprovalAction = 'approve' | 'deny' | 'modify';

/** Configuration of {@link HumanDefinitions.defApproval}. */
export interface ApprovalConfig {
  /** What the human is asked; a function gets the request's context (for a tool: `{toolName, args, toolCallId}`). */
  message?: string | ((context: any) => string | Promise<string>);
  /** The actions offered (default `['approve', 'deny']`). */
  options?: ApprovalAction[];
  /** Milliseconds to wait for a decision; then the default action applies (default: no limit). */
  timeout?: number;
  /** What happens on timeout, handler failure, invalid decision or no handler (default `'deny'`). */
  defaultAction?: 'approve' | 'deny';
  /** Whether the request shows the tool and its arguments (default true). */
  showPreview?: boolean;
}

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
  /** Aborted when the request no longer needs an answer (timeout, answered by id, run cancelled). */
  signal: AbortSignal;
}

/** A decision: the action, the edited data for `modify` (a tool's new arguments), and why. */
export interface ApprovalDecision {
  action: ApprovalAction;
  modifiedData?: unknown;
  reason?: string;
}

/** The decision the engine applied, with where it came from. */
export interface ApprovalResult extends ApprovalDecision {
  /** The request id. */
  request: string;
  /** `handler`, `respond` (answered by id), `timeout`, `error` (the handler failed) or `invalid`. */
  source: 'handler' | 'respond' | 'timeout' | 'error' | 'invalid';
}

/**
 * Decides an approval request: a decision, just the action, or nothing to answer later by id
 * (`prompt.approvals.respond`). A throw or rejection counts as the default action.
 */
export type ApprovalHandler = (request: ApprovalRequest) => ApprovalDecision | ApprovalAction | void | Promise<ApprovalDecision | ApprovalAction | void>;

/** What a guard's condition returns: pass or not, optionally with the message. */
export type GuardVerdict = boolean | { pass: boolean; message?: string };

/** A guard's condition: called with a tool call's arguments before the tool runs. */
export type GuardCondition = (args: any, call: { toolName: string; toolCallId: string; stepNumber: number }) => GuardVerdict | Promise<GuardVerdict>;

/** Configuration of {@link HumanDefinitions.defGuard}. */
export interface GuardConfig {
  /** `throw` fails the run (GuardError), `skip` answers the model without running the tool, `redirect` runs `redirectTo` instead, `prompt-user` asks for approval. */
  onFail?: 'throw' | 'skip' | 'redirect' | 'prompt-user';
  message?: string;
  /** Tools checked on every call, besides those that name this guard in their `guards`. */
  tools?: string[];
  /** For `redirect`: the tool that runs instead, with the same arguments. */
  redirectTo?: string;
  /** For `prompt-user`: an approval by name (default: approve/deny, deny by default, with `message`). */
  approval?: string;
}

/** What a validator function returns (or just a boolean). */
export interface ValidatorResult {
  valid: boolean;
  errors?: Array<string | { message: string }>;
  /** A hint shown to the model with the errors. */
  fix?: unknown;
  /** `warning` is reported but does not fail (default `error`). */
  severity?: 'error' | 'warning';
}

/** A validator function: gets the value (a tool's output or the final answer) and its context. */
export type ValidatorFn = (value: any, context: any) => ValidatorResult | boolean | Promise<ValidatorResult | boolean>;

/** Configuration of {@link HumanDefinitions.defInteraction}. */
export interface InteractionConfig {
  message?: string | ((context: any) => string | Promise<string>);
  /** For `choice`: the values to choose from. */
  choices?: unknown[];
  /** For `choice`: the answer is a list of distinct choices. */
  multiple?: boolean;
  /** zod or JSON Schema the answer must match; an invalid answer is asked again. */
  validation?: unknown;
  /** Milliseconds to wait; then `default` (or a skip when allowed). */
  timeout?: number;
  allowSkip?: boolean;
  default?: unknown;
  /** How many times to ask before failing with a ValidationError (default 3). */
  maxAttempts?: number;
}

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

/** Human-in-the-loop options of a tool (third argument of `defTool`'s options). */
export interface HumanToolOptions {
  /** The call waits for this approval (see {@link HumanDefinitions.defApproval}). */
  approval?: string;
  /** Guards checked before every call. */
  guards?: string[];
  /** A validator checking the tool's output. */
  validator?: string;
  /** An invalid output goes back to the model instead of failing the run ... */
  retryOnFailure?: boolean;
  /** ... at most this many times (default 2), then a ValidationError. */
  maxRetries?: number;
}

/** Checks the run's final answer with a validator (`runPrompt` config `validateResponse`). */
export interface ResponseValidation {
  validator: string;
  retryOnFailure?: boolean;
  maxRetries?: number;
}

/** The handlers a run's requests go to (`runPrompt` config). */
export interface HumanHandlers {
  onApproval?: ApprovalHandler;
  onInteraction?: InteractionHandler;
}

/** Asks an approval on a terminal (installed by the Node entry point). */
export interface TerminalApprover {
  /** True when stdin and stdout are terminals. */
  available(): boolean;
  ask(request: ApprovalRequest): Promise<ApprovalDecision>;
}

let terminal: TerminalApprover | null = null;

/** Installs the terminal approver (Node only; the browser entry never imports it). */
export function setTerminalApprover(approver: TerminalApprover | null): void {
  terminal = approver;
}

/** The approvals of a live run: what is pending and a way to answer by id. */
export interface ApprovalDesk {
  /** Requests asked and not yet decided. */
  pending(): ApprovalRequest[];
  /** Answers request `id`; rejects (ProtocolError) for an unknown id or a decision the request does not offer. */
  respond(id: string, decision: ApprovalDecision | ApprovalAction): Promise<void>;
}

/** The human-in-the-loop definitions of one prompt, and its binding to the run once it starts. */
export class HumanDefinitions {
  readonly approvals = new Map<string, ApprovalConfig>();
  readonly guards = new Map<string, { condition: GuardCondition; config: GuardConfig }>();
  readonly validators = new Map<string, { schema: Record<string, unknown> | null; fn?: ValidatorFn }>();
  readonly interactions = new Map<string, { kind: 'question' | 'choice'; config: InteractionConfig }>();
  handlers: HumanHandlers = {};
  responseValidation: ResponseValidation | undefined;
  /** Set when the run starts: where requestApproval / interact send their commands. */
  runtime: { engine: Engine; runId: number } | null = null;

  defApproval(name: string, config: ApprovalConfig = {}): void {
    checkName(name, 'defApproval');
    const where = `defApproval("${name}")`;
    checkObject(config, where);
    checkMessage(config.message, where);
    if (config.options !== undefined) {
      if (!Array.isArray(config.options) || config.options.length === 0) throw new TypeError(`${where}: options must be a non-empty array of 'approve' | 'deny' | 'modify'`);
      for (const o of config.options) if (o !== 'approve' && o !== 'deny' && o !== 'modify') throw new TypeError(`${where}: unknown option ${JSON.stringify(o)} (expected approve, deny or modify)`);
    }
    checkTimeout(config.timeout, where);
    if (config.defaultAction !== undefined && config.defaultAction !== 'approve' && config.defaultAction !== 'deny')
      throw new TypeError(`${where}: defaultAction must be 'approve' or 'deny', got ${JSON.stringify(config.defaultAction)}`);
    this.approvals.set(name, config);
  }

  defGuard(name: string, condition: GuardCondition, config: GuardConfig = {}): void {
    checkName(name, 'defGuard');
    const where = `defGuard("${name}")`;
    if (typeof condition !== 'function') throw new TypeError(`${where}: the condition must be a function, got ${typeof condition}`);
    checkObject(config, where);
    const modes = ['throw', 'skip', 'redirect', 'prompt-user'];
    if (config.onFail !== undefined && !modes.includes(config.onFail)) throw new TypeError(`${where}: onFail must be one of ${modes.join(', ')}, got ${JSON.stringify(config.onFail)}`);
    if (config.onFail === 'redirect' && typeof config.redirectTo !== 'string') throw new TypeError(`${where}: onFail 'redirect' needs redirectTo (the tool that runs instead)`);
    if (config.tools !== undefined && (!Array.isArray(config.tools) || config.tools.some((t) => typeof t !== 'string'))) throw new TypeError(`${where}: tools must be an array of tool names`);
    this.guards.set(name, { condition, config });
  }

  defValidator(name: string, schema: unknown, fn?: ValidatorFn): void {
    checkName(name, 'defValidator');
    const where = `defValidator("${name}")`;
    if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`${where}: the validator function must be a function, got ${typeof fn}`);
    if ((schema === undefined || schema === null) && !fn) throw new TypeError(`${where}: give a schema, a function, or both`);
    this.validators.set(name, { schema: schema === undefined || schema === null ? null : toJsonSchema(schema, `validator "${name}" schema`), fn });
  }

  defInteraction(name: string, kind: 'question' | 'choice', config: InteractionConfig = {}): void {
    checkName(name, 'defInteraction');
    const where = `defInteraction("${name}")`;
    if (kind !== 'question' && kind !== 'choice') throw new TypeError(`${where}: kind must be 'question' or 'choice', got ${JSON.stringify(kind)}`);
    checkObject(config, where);
    checkMessage(config.message, where);
    if (kind === 'choice' && (!Array.isArray(config.choices) || config.choices.length === 0)) throw new TypeError(`${where}: a choice needs a non-empty choices array`);
    checkTimeout(config.timeout, where);
    if (config.maxAttempts !== undefined && !(Number.isInteger(config.maxAttempts) && config.maxAttempts >= 1 && config.maxAttempts <= 100))
      throw new TypeError(`${where}: maxAttempts must be an integer from 1 to 100, got ${String(config.maxAttempts)}`);
    this.interactions.set(name, { kind, config });
  }

  /** Asks approval `name` about `context` while the run is live; resolves with the applied decision. */
  async requestApproval(name: string, context: unknown = null): Promise<ApprovalResult> {
    if (!this.approvals.has(name)) throw new TypeError(`requestApproval: unknown approval "${name}" (defined approvals: ${list(this.approvals)})`);
    const { engine, runId } = this.live('requestApproval');
    return (await engine.request('approval.request', { run: runId, name, context: context ?? null })) as ApprovalResult;
  }

  /** Asks interaction `name` while the run is live; resolves with the (validated) answer. */
  async interact(name: string, context: unknown = null): Promise<InteractionResult> {
    if (!this.interactions.has(name)) throw new TypeError(`interact: unknown interaction "${name}" (defined interactions: ${list(this.interactions)})`);
    const { engine, runId } = this.live('interact');
    const { request: _request, ...answer } = (await engine.request('interaction.request', { run: runId, name, context: context ?? null })) as InteractionResult & { request: string };
    return answer;
  }

  /** Checks that every name the tools refer to is defined (a TypeError lists the defined ones). */
  checkTools(tools: Iterable<{ name: string; options: HumanToolOptions }>): void {
    for (const { name, options } of tools) {
      if (options.approval !== undefined && !this.approvals.has(options.approval))
        throw new TypeError(`tool "${name}": unknown approval "${options.approval}" (defined approvals: ${list(this.approvals)})`);
      if (options.validator !== undefined && !this.validators.has(options.validator))
        throw new TypeError(`tool "${name}": unknown validator "${options.validator}" (defined validators: ${list(this.validators)})`);
      for (const guard of options.guards ?? [])
        if (!this.guards.has(guard)) throw new TypeError(`tool "${name}": unknown guard "${guard}" (defined guards: ${list(this.guards)})`);
    }
  }

  private live(what: string): { engine: Engine; runId: number } {
    if (!this.runtime) throw new Error(`${what}: the run is not live (call it from a tool, hook or callback while the run goes on)`);
    return this.runtime;
  }
}

/** The human-in-the-loop fields of a tool in the run spec. */
export function toolSpecFields(options: HumanToolOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!options) return out;
  for (const key of ['approval', 'guards', 'validator', 'retryOnFailure', 'maxRetries'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

// ------------------------------------------------------------------ the host half

/** What the approval.ask / interaction.ask handlers need of one run. */
interface RunDesk {
  handlers: HumanHandlers;
  approvals: Map<string, ApprovalRequest>;
}

const desks = new Map<string, RunDesk>();
const enginesWithHumanHost = new WeakSet<Engine>();

/** One run's human-in-the-loop binding, made by {@link attachHuman}. */
export interface HumanBinding {
  /** Called with the engine run id when the run starts. */
  started(runId: number): void;
  /** Forgets the run's handlers. */
  detach(): void;
  /** Pending approvals and answering by id. */
  approvals: ApprovalDesk;
}

/**
 * Binds `human` to a run about to start on `engine`: registers its functions as callbacks (through
 * `register`), adds its fields to `spec`, and routes the run's asks to its handlers.
 */
export function attachHuman(
  engine: Engine,
  human: HumanDefinitions,
  hostRef: string,
  register: (name: string, fn: (...args: any[]) => unknown) => string,
  spec: Record<string, unknown>,
): HumanBinding {
  installHumanHost(engine);
  const desk: RunDesk = { handlers: human.handlers, approvals: new Map() };
  desks.set(hostRef, desk);
  spec.host = hostRef;
  spec.approvals = [...human.approvals].map(([name, c]) => ({
    name,
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
    ...(typeof c.message === 'function' ? { messageFn: register(`approval:${name}:message`, messageFn(c.message)) } : {}),
    ...(c.options ? { options: c.options } : {}),
    ...(c.timeout !== undefined ? { timeoutMs: c.timeout } : {}),
    ...(c.defaultAction ? { defaultAction: c.defaultAction } : {}),
    ...(c.showPreview !== undefined ? { showPreview: c.showPreview } : {}),
  }));
  spec.guards = [...human.guards].map(([name, { condition, config }]) => ({
    name,
    condition: register(`guard:${name}`, async (args: unknown, call: any) => normalizeVerdict(await condition(args, call))),
    onFail: config.onFail ?? 'throw',
    ...(config.message !== undefined ? { message: config.message } : {}),
    ...(config.tools ? { tools: config.tools } : {}),
    ...(config.redirectTo ? { redirectTo: config.redirectTo } : {}),
    ...(config.approval ? { approval: config.approval } : {}),
  }));
  spec.validators = [...human.validators].map(([name, { schema, fn }]) => ({
    name,
    ...(schema ? { schema } : {}),
    ...(fn ? { fn: register(`validator:${name}`, async (value: unknown, context: unknown) => normalizeValidation(await fn(value, context))) } : {}),
  }));
  spec.interactions = [...human.interactions].map(([name, { kind, config: c }]) => ({
    name,
    kind,
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
    ...(typeof c.message === 'function' ? { messageFn: register(`interaction:${name}:message`, messageFn(c.message)) } : {}),
    ...(c.choices ? { choices: c.choices } : {}),
    ...(c.multiple !== undefined ? { multiple: c.multiple } : {}),
    ...(c.validation !== undefined ? { validation: toJsonSchema(c.validation, `interaction "${name}" validation`) } : {}),
    ...(c.timeout !== undefined ? { timeoutMs: c.timeout } : {}),
    ...(c.allowSkip !== undefined ? { allowSkip: c.allowSkip } : {}),
    ...('default' in c ? { default: c.default ?? null } : {}),
    ...(c.maxAttempts !== undefined ? { maxAttempts: c.maxAttempts } : {}),
  }));
  if (human.responseValidation) spec.responseValidator = human.responseValidation;
  return {
    started: (runId) => {
      human.runtime = { engine, runId };
    },
    detach: () => {
      desks.delete(hostRef);
      human.runtime = null;
    },
    approvals: {
      pending: () => [...desk.approvals.values()],
      respond: async (id, decision) => {
        await engine.request('approval.respond', { request: id, decision });
      },
    },
  };
}

/** Installs, once per engine, the handlers of `approval.ask` and `interaction.ask` ops. */
function installHumanHost(engine: Engine): void {
  if (enginesWithHumanHost.has(engine)) return;
  enginesWithHumanHost.add(engine);
  engine.registerOpHandler('approval.ask', (op, signal) => askApproval(deskOf(op), op, signal));
  engine.registerOpHandler('interaction.ask', (op, signal) => askInteraction(deskOf(op), op, signal));
}

function deskOf(op: OpRequest): RunDesk {
  const desk = desks.get(String(op.host));
  if (!desk) throw new Error(`${op.op}: no run is listening for requests of host "${String(op.host)}"`);
  return desk;
}

async function askApproval(desk: RunDesk, op: OpRequest, signal: AbortSignal): Promise<unknown> {
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
    signal,
  };
  desk.approvals.set(request.id, request);
  const forget = () => desk.approvals.delete(request.id);
  signal.addEventListener('abort', forget, { once: true });
  try {
    const { onApproval } = desk.handlers;
    if (onApproval) {
      const decision = await onApproval(request);
      return decision === undefined ? await untilAborted(signal) : decision;
    }
    if (terminal?.available()) return await terminal.ask(request);
    throw new Error('no onApproval handler and no terminal to ask on');
  } finally {
    forget();
  }
}

async function askInteraction(desk: RunDesk, op: OpRequest, signal: AbortSignal): Promise<unknown> {
  const { onInteraction } = desk.handlers;
  if (!onInteraction) throw new Error('no onInteraction handler');
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
    signal,
  };
  const value = await onInteraction(request);
  return value === undefined ? { skipped: true } : { value };
}

/** Never resolves; rejects when the engine stops waiting (answered by id, timeout, cancel). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function messageFn(fn: (context: any) => string | Promise<string>) {
  return async (context: unknown) => String(await fn(context));
}

function normalizeVerdict(verdict: GuardVerdict): GuardVerdict {
  if (typeof verdict === 'boolean') return verdict;
  if (verdict && typeof verdict === 'object' && typeof verdict.pass === 'boolean') return verdict;
  return Boolean(verdict);
}

function normalizeValidation(result: ValidatorResult | boolean): ValidatorResult | boolean {
  if (typeof result === 'boolean') return result;
  if (!result || typeof result !== 'object') throw new TypeError(`a validator must return {valid, errors?, fix?, severity?} or a boolean, got ${typeof result}`);
  return result;
}

function checkObject(config: unknown, where: string): void {
  if (config === null || typeof config !== 'object') throw new TypeError(`${where}: config must be an object, got ${config === null ? 'null' : typeof config}`);
}

function checkMessage(message: unknown, where: string): void {
  if (message !== undefined && typeof message !== 'string' && typeof message !== 'function') throw new TypeError(`${where}: message must be a string or a function of the context, got ${typeof message}`);
}

function checkTimeout(timeout: unknown, where: string): void {
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && timeout <= 1e12)) throw new TypeError(`${where}: timeout must be a number of milliseconds >= 0, got ${String(timeout)}`);
}

function list(map: Map<string, unknown>): string {
  return [...map.keys()].join(', ') || 'none';
}
