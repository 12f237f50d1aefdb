/**
 * Signed approvals across requests (docs/human-in-the-loop.md, "Approvals across requests"): with
 * runPrompt's `approvalSecret`, a deferred call's approval request carries an HMAC-SHA256 of the
 * call (request id, tool call id, tool name, arguments), and a run given `tool-approval-response`
 * parts runs only calls whose response carries the signature of the call it decides. So a client
 * can answer the requests the server made, and cannot make the server run a call it invented.
 * WebCrypto, so it works wherever the package does.
 */
import { ConfigError } from '../errors.js';
import type { Message, Part } from '../providers/types.js';
import type { StorageAdapter } from '../storage/types.js';

/** What a signature binds: the request and the exact call. */
export interface SignedCall {
  approvalId: string | undefined;
  toolCallId: string;
  toolName: string;
  args: unknown;
}

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])));
  return key;
}

function payload(call: SignedCall): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify([call.approvalId ?? null, call.toolCallId, call.toolName, call.args ?? null]));
}

/** The call's signature: base64url of its HMAC-SHA256 under `secret`. */
export async function signApproval(secret: string, call: SignedCall): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await keyOf(secret), payload(call)));
  return btoa(String.fromCharCode(...mac)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function verified(secret: string, call: SignedCall, signature: unknown): Promise<boolean> {
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
  const mac: Uint8Array<ArrayBuffer> = Uint8Array.from(atob(signature.replace(/-/g, '+').replace(/_/g, '/') + '='), (c) => c.charCodeAt(0));
  return crypto.subtle.verify('HMAC', await keyOf(secret), mac, payload(call));
}

/**
 * Checks every `tool-approval-response` of `messages` against the call it decides (in the last
 * assistant message before it).
 * @throws ConfigError naming the message and part whose signature is missing or does not match.
 */
export async function verifyApprovalResponses(messages: readonly Message[], secret: string): Promise<void> {
  const calls = new Map<string, Part & { type: 'tool-call' }>();
  for (const { part, where } of partsOf(messages)) {
    if (part.type === 'tool-call') calls.set(part.toolCallId, part);
    if (part.type !== 'tool-approval-response') continue;
    const call = calls.get(part.toolCallId);
    // No call: the engine names that mistake; a signature cannot be checked without it.
    if (!call) continue;
    if (!(await verified(secret, { approvalId: part.approvalId, toolCallId: call.toolCallId, toolName: call.toolName, args: call.args }, part.signature)))
      throw new ConfigError(
        `${where}: the approval response for tool call "${part.toolCallId}" is not signed by this server (approvalSecret): its signature is ${typeof part.signature === 'string' ? 'not the signature of that call' : 'missing'}`,
      );
  }
}

/** Every part of `messages` in order, with where it is (`runPrompt: messages[i].content[j]`). */
function* partsOf(messages: readonly Message[]): Generator<{ part: Part; where: string }> {
  for (const [i, message] of messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const [j, part] of message.content.entries()) yield { part, where: `runPrompt: messages[${i}].content[${j}]` };
  }
}

/**
 * Uses up the approval responses of `messages` in `store` (runPrompt's `approvalStore`): a signed
 * decision answers its call once, so a client cannot send the same approved call again to run it
 * again. Each response's signature (checked first: it names the request and the call) is written
 * with `compareAndSet` only if absent, which is atomic in every adapter, across processes too. When
 * one was used before, the ones this call wrote are released, so a refused request uses up nothing.
 * @throws ConfigError naming the message and part of the response used before.
 */
export async function useApprovalResponses(messages: readonly Message[], store: StorageAdapter): Promise<void> {
  const used: string[] = [];
  try {
    for (const { part, where } of partsOf(messages)) {
      if (part.type !== 'tool-approval-response' || typeof part.signature !== 'string') continue;
      const key = `lmthing:approval:${part.signature}`;
      const record = { toolCallId: part.toolCallId, approved: part.approved, usedAt: new Date().toISOString() };
      if ((await store.compareAndSet(key, null, record)) === false)
        throw new ConfigError(
          `${where}: the approval response for tool call "${part.toolCallId}" was used by an earlier request (approvalStore): a decision answers its call once; ask the user again`,
        );
      used.push(key);
    }
  } catch (err) {
    await Promise.all(used.map((key) => store.delete(key).catch(() => false)));
    throw err;
  }
}
