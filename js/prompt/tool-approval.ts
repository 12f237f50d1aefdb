/**
 * The AI SDK 7's `toolApproval` on `runPrompt`: one place that decides, per call of the config's
 * `tools`, whether it runs (`'approved'`), is refused without asking (`'denied'`, the model reads
 * the reason), or waits for a human (`'user-approval'`: the run's `onApproval`, or a deferral to
 * the chat client). `'not-applicable'` (or nothing) leaves the call to the tool's own
 * `needsApproval`. It takes precedence over `needsApproval`, as in the AI SDK.
 *
 * Each decision becomes two guards of the tool, asked in order with the call's arguments: a `skip`
 * guard that fails when the call is denied and a `prompt-user` guard that fails when it needs a
 * human (the tool's `needsApproval.NAME` approval). Both read one decision per call.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { DefinitionContext } from '../definitions/context.js';
import type { ArgsOf, JsonObject } from '../schema-types.js';

/** A decision about one call (the AI SDK's `ToolApprovalStatus`). */
export type ToolApprovalStatus =
  | undefined
  | 'not-applicable'
  | 'approved'
  | 'denied'
  | 'user-approval'
  | { type: 'not-applicable' }
  | { type: 'approved' | 'denied' | 'user-approval'; reason?: string };

/** The call a decision is about. */
export interface ToolApprovalRequestCall {
  type: 'tool-call';
  toolCallId: string;
  toolName: string;
  input: unknown;
}

/** One tool's entry of a per-tool `toolApproval`: a status, or a function of the call's arguments. */
export type SingleToolApproval<Args = JsonObject> = ToolApprovalStatus | ((input: Args, call: { toolCallId: string }) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>);

/**
 * `toolApproval`: a function of any call (`{toolCall}`), or `{[toolName]: status | (input, {toolCallId}) => status}`,
 * the input typed by that tool's schema.
 */
export type ToolApprovalConfiguration<TOOLS = Record<string, unknown>> =
  | ((request: { toolCall: ToolApprovalRequestCall }) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)
  | NoInfer<{ [NAME in keyof TOOLS]?: SingleToolApproval<ArgsOf<TOOLS[NAME]>> }>;

type Decision = { type: 'approved' | 'denied' | 'user-approval'; reason?: string };

const STATUSES = ['not-applicable', 'approved', 'denied', 'user-approval'];

/** `status` as a decision, or undefined when it leaves the call to the tool's `needsApproval`. */
function decisionOf(status: unknown, who: string): Decision | undefined {
  const type = typeof status === 'object' && status !== null ? (status as { type?: unknown }).type : status;
  if (status === undefined || type === 'not-applicable') return undefined;
  if (typeof type !== 'string' || !STATUSES.includes(type)) {
    const near = typeof type === 'string' ? c.nearest(type, STATUSES) : undefined;
    const hint = near !== undefined ? ` (did you mean '${near}'?)` : '';
    throw new ConfigError(`${who} must return 'approved', 'denied', 'user-approval', 'not-applicable' (or {type, reason}) or nothing, got ${c.describe(status)}${hint}`);
  }
  const reason = typeof status === 'object' ? (status as { reason?: unknown }).reason : undefined;
  if (reason !== undefined && typeof reason !== 'string') throw new ConfigError(`${who}: 'reason' must be a string, got ${c.describe(reason)}`);
  return { type: type as Decision['type'], ...(reason !== undefined ? { reason } : {}) };
}

/** Checks a `toolApproval` config against the config's tools (a per-tool entry must name one of them). */
export function checkToolApproval(config: unknown, toolNames: readonly string[], where: string): void {
  if (config === undefined || typeof config === 'function') return;
  if (!c.isPlainObject(config)) throw new ConfigError(`${where}: 'toolApproval' must be a function or {toolName: status or function}, got ${c.describe(config)}`);
  for (const [name, entry] of Object.entries(config)) {
    if (!toolNames.includes(name)) throw new ConfigError(`${where}: toolApproval: ${c.unknownName('tool', name, toolNames, "the config's tools")}`);
    if (typeof entry !== 'function') decisionOf(entry, `${where}: toolApproval.${name}`);
  }
}

/**
 * The guards of tool `name` under `toolApproval` (see the module comment). `tool.needsApproval` is
 * the tool's own switch, asked when the decision leaves the call to it; `tool.parse` gives the
 * arguments as `execute` gets them (a call whose arguments its schema refuses passes: it will not
 * run, its error goes to the model). Returns the guards' names.
 */
export function toolApprovalGuards(
  ctx: DefinitionContext,
  name: string,
  toolApproval: ToolApprovalConfiguration,
  tool: { needsApproval(input: unknown, call: { toolCallId: string }): Promise<boolean>; parse(args: unknown): Promise<{ ok: true; value: unknown } | { ok: false }> },
): string[] {
  // One decision per call, shared by the two guards (the second takes it out).
  const decided = new Map<string, Promise<Decision>>();
  const decide = (input: unknown, toolCallId: string): Promise<Decision> => {
    let decision = decided.get(toolCallId);
    if (!decision) {
      decision = (async () => {
        const entry: SingleToolApproval<unknown> = typeof toolApproval === 'function' ? undefined : (toolApproval as Record<string, SingleToolApproval<unknown>>)[name];
        const status =
          typeof toolApproval === 'function'
            ? await toolApproval({ toolCall: { type: 'tool-call', toolCallId, toolName: name, input } })
            : typeof entry === 'function'
              ? await entry(input, { toolCallId })
              : entry;
        return decisionOf(status, `toolApproval (tool "${name}")`) ?? { type: (await tool.needsApproval(input, { toolCallId })) ? 'user-approval' : 'approved' };
      })();
      decided.set(toolCallId, decision);
    }
    return decision;
  };
  // A guard's view: the call's decision, or none for arguments the schema refuses.
  const decisionOfCall = async ({ args, toolCallId }: { args: unknown; toolCallId: string }): Promise<Decision | undefined> => {
    const input = await tool.parse(args);
    return input.ok ? decide(input.value, toolCallId) : undefined;
  };
  const denied = `toolApproval.${name}`;
  const approval = `needsApproval.${name}`;
  ctx.defGuard(
    denied,
    async (call: { args: unknown; toolCallId: string }) => {
      const decision = await decisionOfCall(call);
      if (decision?.type !== 'denied') return true;
      decided.delete(call.toolCallId);
      return { pass: false, message: decision.reason ?? `the call of tool "${name}" was denied` };
    },
    { onFail: 'skip' },
  );
  ctx.defApproval(approval, {});
  ctx.defGuard(
    approval,
    async (call: { args: unknown; toolCallId: string }) => {
      const decision = await decisionOfCall(call);
      decided.delete(call.toolCallId);
      return decision?.type !== 'user-approval';
    },
    { onFail: 'prompt-user', approval },
  );
  return [denied, approval];
}
