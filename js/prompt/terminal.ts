/**
 * Node only: asks an approval request on the terminal when `runPrompt` has no `onApproval` and
 * stdin/stdout are TTYs. Installed by the Node entry point (`node.ts`); the browser entry never
 * imports this module, so `node:readline` stays out of browser bundles. `node:readline` is loaded
 * when a request is asked, not when the package loads (it cost every cold start).
 */
import type { Readable, Writable } from 'node:stream';

import type { ApprovalAction } from '../definitions/human.js';
import type { ApprovalDecision, ApprovalRequest, TerminalApprover } from '../run/human-host.js';

/** The streams to talk on (the process's by default; tests pass their own). */
export interface TerminalStreams {
  input: Readable & { isTTY?: boolean };
  output: Writable & { isTTY?: boolean };
}

/** Makes an approver on `streams`; `available()` is true only when both are TTYs. */
export function terminalApprover(streams: TerminalStreams = { input: process.stdin, output: process.stdout }): TerminalApprover {
  return {
    available: () => Boolean(streams.input.isTTY && streams.output.isTTY),
    ask: (request) => askOnTerminal(request, streams),
  };
}

const keys: Record<string, ApprovalAction> = { a: 'approve', approve: 'approve', d: 'deny', deny: 'deny', m: 'modify', modify: 'modify' };

/**
 * Prints the request (message, preview, deadline) and reads the action; for `modify`, reads the
 * edited data as one line of JSON. Asks again on an answer it cannot use. The request's signal
 * (timeout, answered elsewhere) closes the prompt.
 */
export async function askOnTerminal(request: ApprovalRequest, streams: TerminalStreams): Promise<ApprovalDecision> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: streams.input, output: streams.output, terminal: Boolean(streams.output.isTTY) });
  const onAbort = () => rl.close();
  request.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const out = (line: string) => streams.output.write(line + '\n');
    out(`\n[approval ${request.id}] ${request.message}`);
    if (request.preview) out(`  ${request.preview.toolName} ${JSON.stringify(request.preview.args)}`);
    if (request.deadline !== null) out(`  (${request.defaultAction} at ${new Date(request.deadline).toISOString()} without an answer)`);
    const choices = request.options.map((o) => `[${o[0]}]${o.slice(1)}`).join(' / ');
    for (;;) {
      const answer = (await rl.question(`${choices}? `, { signal: request.signal })).trim().toLowerCase();
      const action = keys[answer];
      if (!action || !request.options.includes(action)) {
        out(`Please answer ${request.options.join(', ')}.`);
        continue;
      }
      if (action !== 'modify') return { action, reason: 'answered on the terminal' };
      const current = JSON.stringify(request.preview?.args ?? request.context);
      const edited = await rl.question(`new data as JSON (was ${current}): `, { signal: request.signal });
      try {
        return { action, modifiedData: JSON.parse(edited), reason: 'edited on the terminal' };
      } catch (err) {
        out(`That is not JSON (${(err as Error).message}).`);
      }
    }
  } finally {
    request.signal.removeEventListener('abort', onAbort);
    rl.close();
  }
}
