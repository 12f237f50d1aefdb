/**
 * File parts (documents) as the providers need them: a URL, or base64 data with the part's media
 * type, checked against the types each API takes so a refused type fails before the request with
 * a clear `ValidationError`. An `image/*` file is sent as an image.
 */
import { ValidationError } from '../errors.js';
import { bytesToBase64, parseDataUrl } from './images.js';
import type { FilePart, ImagePart } from './types.js';

/** A file resolved for the wire. */
export type ResolvedFile = { kind: 'url'; url: string; mediaType: string } | { kind: 'base64'; data: string; mediaType: string };

/** Media types each API takes as a document (from the providers' file-input docs); Gemini takes any type. */
export const FILE_TYPES = {
  openai: ['application/pdf'],
  anthropic: ['application/pdf', 'text/plain'],
} as const;

/** The image part of an `image/*` file part, or `undefined` for a document. */
export function imageOfFile(p: FilePart): ImagePart | undefined {
  return typeof p.mediaType === 'string' && p.mediaType.toLowerCase().startsWith('image/') ? { type: 'image', data: p.data, mediaType: p.mediaType } : undefined;
}

/**
 * Resolves a file part: `http(s)` URLs stay URLs; bytes, `data:` URLs and base64 text become base64
 * data. The media type is the part's (a `data:` URL's own when it has one).
 * @throws ValidationError when the media type or the data is missing or of the wrong kind.
 */
export function resolveFile(p: FilePart, provider: string): ResolvedFile {
  const data: unknown = p.data;
  if (typeof p.mediaType !== 'string' || p.mediaType === '') throw new ValidationError(`${provider}: a file part needs its mediaType (e.g. application/pdf)`);
  if (data instanceof Uint8Array) return { kind: 'base64', data: bytesToBase64(data), mediaType: p.mediaType };
  if (typeof data !== 'string') throw new ValidationError(`${provider}: a file part needs data as a Uint8Array, base64 text, a data: URL or an http(s) URL`);
  if (/^https?:/i.test(data)) return { kind: 'url', url: data, mediaType: p.mediaType };
  const dataUrl = parseDataUrl(data);
  if (dataUrl) return { kind: 'base64', data: dataUrl.data, mediaType: dataUrl.mediaType ?? p.mediaType };
  return { kind: 'base64', data, mediaType: p.mediaType };
}

/**
 * Checks a file's media type against what a provider takes.
 * @throws ValidationError naming the provider, the refused type and the accepted ones.
 */
export function checkFileType(provider: string, mediaType: string, accepted: readonly string[]): void {
  if (accepted.includes(mediaType.toLowerCase())) return;
  throw new ValidationError(`${provider}: files of type ${mediaType} are not accepted; send one of ${accepted.join(', ')} (or the text itself)`);
}
