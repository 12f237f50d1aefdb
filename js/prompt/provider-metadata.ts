/**
 * A provider's signature of a reasoning block or a tool call, as the AI SDK's UI messages keep it
 * (`providerMetadata` of a reasoning part, `callProviderMetadata` of a tool part, under the keys
 * and names its providers use), and back. A chat that goes through a browser between requests
 * keeps what the provider needs to verify its own output: Anthropic's thinking signatures (without
 * them a turn that called a tool with thinking on is refused), Gemini's thought signatures of
 * function calls, OpenAI's reasoning items.
 *
 * @module
 */
import * as c from '../config/check.js';
import type { ReasoningPart } from '../providers/types.js';

/** What `providerMetadata` holds: one object per provider. */
export type ProviderMetadata = Record<string, Record<string, string | null>>;

/** The signature fields of a part (this package's shape). */
export type SignatureFields = Pick<ReasoningPart, 'signature' | 'signedBy' | 'redacted' | 'itemId'>;

/** `fields` as the AI SDK's `providerMetadata`, or undefined when the part carries no signature. */
export function providerMetadataOf(fields: SignatureFields): ProviderMetadata | undefined {
  const { signature, signedBy, redacted, itemId } = fields;
  if (signedBy === 'anthropic' && signature !== undefined) return { anthropic: redacted ? { redactedData: signature } : { signature } };
  if (signedBy === 'google' && signature !== undefined) return { google: { thoughtSignature: signature } };
  if (signedBy === 'openai-responses' && itemId !== undefined) return { openai: { itemId, reasoningEncryptedContent: signature ?? null } };
  return undefined;
}

/** The signature fields in a UI part's `providerMetadata`; none when it holds no signature this package reads. */
export function signatureFieldsOf(metadata: unknown): SignatureFields {
  if (!c.isPlainObject(metadata)) return {};
  const { anthropic, google, openai } = metadata;
  if (c.isPlainObject(anthropic)) {
    if (typeof anthropic.redactedData === 'string') return { signature: anthropic.redactedData, signedBy: 'anthropic', redacted: true };
    if (typeof anthropic.signature === 'string') return { signature: anthropic.signature, signedBy: 'anthropic' };
  }
  if (c.isPlainObject(google) && typeof google.thoughtSignature === 'string') return { signature: google.thoughtSignature, signedBy: 'google' };
  if (c.isPlainObject(openai) && typeof openai.itemId === 'string') {
    const encrypted = openai.reasoningEncryptedContent;
    return { itemId: openai.itemId, signedBy: 'openai-responses', ...(typeof encrypted === 'string' ? { signature: encrypted } : {}) };
  }
  return {};
}

/** The signature in a text part's or a tool call's metadata (Gemini signs those): `signature` and `signedBy`, or nothing. */
export function signatureOf(metadata: unknown): Pick<SignatureFields, 'signature' | 'signedBy'> {
  const { signature, signedBy } = signatureFieldsOf(metadata);
  return signature !== undefined && signedBy !== undefined ? { signature, signedBy } : {};
}
