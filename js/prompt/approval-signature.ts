/**
 * Signed approvals across requests (docs/human-in-the-loop.md, "Approvals across requests"): with
 * runPrompt's `approvalSecret`, a deferred call's approval request carries an HMAC-SHA256 of the
 * call (request id, tool call id, tool name, arguments, and with `approvalTtlMs` the time it
 * expires), and a run given `tool-approval-response` parts runs only calls whose response carries
 * the signature of the call it decides, before it expires. So a client can answer the requests the
 * server made, and cannot make the server run a call it invented. WebCrypto, so it works wherever
 * the package does.
 *
 * A signature is the MAC in base64url (43 characters), then, when it expires, `.` and the expiry in
 * milliseconds since the epoch in base 36: the client keeps it as it is, and the server reads the
 * expiry back from it (covered by the MAC, so it cannot be moved).
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

/** How a run checks the responses in its messages (runPrompt's config). */
export interface ApprovalCheck {
  secret: string;
  /** `approvalTtlMs`: signatures must expire; one without an expiry is refused. */
  ttlMs?: number;
  /** Whether expiries are checked: a resumed durable run goes on with decisions its first start took. */
  checkExpiry: boolean;
}

/** A record of a used decision outlives its signature by this much, so clocks a little apart cannot let it run twice. */
const RECORD_MARGIN_MS = 5 * 60_000;
const SIGNATURE = /^([A-Za-z0-9_-]{43})(?:\.([0-9a-z]{1,9}))?$/;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])));
  return key;
}

function payload(call: SignedCall, expiresAt: number | undefined): Uint8Array<ArrayBuffer> {
  const fields = [call.approvalId ?? null, call.toolCallId, call.toolName, call.args ?? null];
  return encoder.encode(JSON.stringify(expiresAt === undefined ? fields : [...fields, expiresAt]));
}

/** The call's signature: base64url of its HMAC-SHA256 under `secret`, then `.` and the expiry (base 36) when it has one. */
export async function signApproval(secret: string, call: SignedCall, expiresAt?: number): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await keyOf(secret), payload(call, expiresAt)));
  const text = btoa(String.fromCharCode(...mac)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return expiresAt === undefined ? text : `${text}.${expiresAt.toString(36)}`;
}

/** A signature taken apart: its MAC (base64url) and when it expires (ms since the epoch), if it does. */
interface Signature {
  mac: string;
  expiresAt: number | undefined;
}

/** `signature` taken apart, or undefined for anything that is not a signature. */
function parseSignature(signature: unknown): Signature | undefined {
  const parts = typeof signature === 'string' ? SIGNATURE.exec(signature) : null;
  return parts ? { mac: parts[1], expiresAt: parts[2] === undefined ? undefined : parseInt(parts[2], 36) } : undefined;
}

async function verified(secret: string, call: SignedCall, signature: Signature): Promise<boolean> {
  const mac: Uint8Array<ArrayBuffer> = Uint8Array.from(atob(signature.mac.replace(/-/g, '+').replace(/_/g, '/') + '='), (c) => c.charCodeAt(0));
  return crypto.subtle.verify('HMAC', await keyOf(secret), mac, payload(call, signature.expiresAt));
}

/**
 * Checks every `tool-approval-response` of `messages` against the call it decides (in the last
 * assistant message before it), and, unless `check.checkExpiry` is false, that it has not expired.
 * @throws ConfigError naming the message and part whose signature is missing, does not match, has
 * expired, or has no expiry where `approvalTtlMs` wants one.
 */
export async function verifyApprovalResponses(messages: readonly Message[], check: ApprovalCheck): Promise<void> {
  const now = Date.now();
  const calls = new Map<string, Part & { type: 'tool-call' }>();
  for (const { part, where } of partsOf(messages)) {
    if (part.type === 'tool-call') calls.set(part.toolCallId, part);
    if (part.type !== 'tool-approval-response') continue;
    const call = calls.get(part.toolCallId);
    // No call: the engine names that mistake; a signature cannot be checked without it.
    if (!call) continue;
    const response = `${where}: the approval response for tool call "${part.toolCallId}"`;
    const signature = parseSignature(part.signature);
    if (!signature || !(await verified(check.secret, { approvalId: part.approvalId, toolCallId: call.toolCallId, toolName: call.toolName, args: call.args }, signature)))
      throw new ConfigError(`${response} is not signed by this server (approvalSecret): its signature is ${typeof part.signature === 'string' ? 'not the signature of that call' : 'missing'}`);
    if (!check.checkExpiry) continue;
    const { expiresAt } = signature;
    if (expiresAt !== undefined && now > expiresAt)
      throw new ConfigError(`${response} expired at ${new Date(expiresAt).toISOString()} (approvalTtlMs): ask the user again`);
    if (expiresAt === undefined && check.ttlMs !== undefined)
      throw new ConfigError(`${response} was signed without an expiry, and this server's approvals expire (approvalTtlMs): ask the user again`);
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
 * A record of a decision that expires is kept until a few minutes after it expires; one without an
 * expiry, for good.
 * @throws ConfigError naming the message and part of the response used before.
 */
export async function useApprovalResponses(messages: readonly Message[], store: StorageAdapter): Promise<void> {
  const used: string[] = [];
  try {
    for (const { part, where } of partsOf(messages)) {
      if (part.type !== 'tool-approval-response' || typeof part.signature !== 'string') continue;
      const key = `lmthing:approval:${part.signature}`;
      const record = { toolCallId: part.toolCallId, approved: part.approved, usedAt: new Date().toISOString() };
      // A decision that expires needs its record only until then (checked before: it has not expired yet).
      const expiresAt = parseSignature(part.signature)?.expiresAt;
      const options = expiresAt === undefined ? undefined : { ttl: Math.max(1, expiresAt - Date.now()) + RECORD_MARGIN_MS };
      if ((await store.compareAndSet(key, null, record, options)) === false)
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
