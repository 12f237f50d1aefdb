/**
 * What the OpenAI-family models of one provider share: where the API is, its key and headers.
 */
import { secretsOf, withHeaders } from './http.js';
import type { ProviderSettings } from './types.js';

/** Connection settings shared by the chat, responses and embedding models of one provider. */
export interface OpenAIConnection {
  provider: string;
  baseURL: string;
  apiKey?: string;
  headers: Record<string, string>;
  fetch?: ProviderSettings['fetch'];
  /** The provider-wide idle timeout (a model's own option wins). */
  idleTimeoutMs?: number;
}

/**
 * Headers of one request: the provider's extra headers, `Authorization: Bearer` when there is a
 * key, and `Accept: text/event-stream` for streams; plus the values to keep out of errors.
 */
export function openAIHeaders(c: OpenAIConnection, stream: boolean): { headers: Record<string, string>; secrets: string[] } {
  // The provider's headers replace the key's and the stream's (a gateway's own authorization).
  const headers = withHeaders({ ...(c.apiKey ? { authorization: `Bearer ${c.apiKey}` } : {}), ...(stream ? { accept: 'text/event-stream' } : {}) }, c.headers);
  const secrets = secretsOf(c.apiKey, headers);
  return { headers, secrets };
}
