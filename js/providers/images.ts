/**
 * Image parts as the providers need them: a URL, or base64 data with a media type (given, taken
 * from a `data:` URL, or detected from the first bytes), checked against the media types each
 * provider accepts so a refused type fails before the request with a clear `ValidationError`.
 */
import { ValidationError } from '../errors.js';
import type { ImagePart } from './types.js';

/** An image resolved for the wire. */
export type ResolvedImage =
  | { kind: 'url'; url: string; mediaType?: string }
  | { kind: 'base64'; data: string; mediaType: string };

/** Media types each API accepts for inline images (from the providers' vision docs). */
export const IMAGE_TYPES = {
  openai: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
  anthropic: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
  google: ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif'],
} as const;

/** Encodes bytes as base64 without Node's `Buffer` (works in browsers too). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** Decodes base64 text to bytes without Node's `Buffer`. */
export function base64ToBytes(data: string): Uint8Array {
  return Uint8Array.from(atob(data.replace(/\s+/g, '')), (c) => c.charCodeAt(0));
}

/** Decodes the first bytes of base64 text (enough to recognise an image format); `undefined` when it is not base64. */
function base64Head(data: string): Uint8Array | undefined {
  const head = data.slice(0, 24).replace(/\s+/g, '');
  const usable = head.slice(0, head.length - (head.length % 4));
  if (usable === '') return undefined;
  try {
    const bin = atob(usable);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Recognises PNG, JPEG, GIF, WebP, BMP and TIFF from their magic bytes. */
export function detectImageType(bytes: Uint8Array | undefined): string | undefined {
  if (!bytes || bytes.length < 4) return undefined;
  const at = (i: number, ...v: number[]): boolean => v.every((b, k) => bytes[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  if (at(0, 0x42, 0x4d)) return 'image/bmp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'image/tiff';
  return undefined;
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
};

function typeFromUrl(url: string): string | undefined {
  const path = /^[^?#]*/.exec(url)?.[0] ?? url;
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext ? EXTENSION_TYPES[ext] : undefined;
}

/**
 * Resolves an image part: `http(s)` URLs stay URLs; bytes, `data:` URLs and base64 text become
 * base64 data with a media type (the part's, the data URL's, or detected; `image/png` when nothing
 * says otherwise).
 * @throws ValidationError when `data` is neither bytes nor a string.
 */
export function resolveImage(p: ImagePart, provider: string): ResolvedImage {
  const data: unknown = p.data;
  if (data instanceof Uint8Array) {
    return { kind: 'base64', data: bytesToBase64(data), mediaType: p.mediaType ?? detectImageType(data) ?? 'image/png' };
  }
  if (typeof data !== 'string') {
    throw new ValidationError(`${provider}: an image part needs data as a Uint8Array, base64 text, a data: URL or an http(s) URL`);
  }
  if (/^https?:/i.test(data)) return { kind: 'url', url: data, mediaType: p.mediaType ?? typeFromUrl(data) };
  const dataUrl = parseDataUrl(data);
  if (dataUrl) return { kind: 'base64', data: dataUrl.data, mediaType: dataUrl.mediaType ?? p.mediaType ?? detectImageType(base64Head(dataUrl.data)) ?? 'image/png' };
  return { kind: 'base64', data, mediaType: p.mediaType ?? detectImageType(base64Head(data)) ?? 'image/png' };
}

/** A `data:` URL's payload as base64 (a percent-encoded one is encoded) and its media type; `undefined` for any other string. */
export function parseDataUrl(text: string): { data: string; mediaType?: string } | undefined {
  const dataUrl = /^data:([^;,]+)?((?:;[^;,]*)*?)(;base64)?,(.*)$/is.exec(text);
  if (!dataUrl) return undefined;
  const data = dataUrl[3] ? dataUrl[4] : bytesToBase64(new TextEncoder().encode(decodeURIComponent(dataUrl[4])));
  return dataUrl[1] === undefined ? { data } : { data, mediaType: dataUrl[1] };
}

/**
 * Checks a media type against what a provider accepts.
 * @throws ValidationError naming the provider, the refused type and the accepted ones.
 */
export function checkImageType(provider: string, mediaType: string | undefined, accepted: readonly string[]): void {
  if (mediaType === undefined) return;
  const mt = mediaType.toLowerCase();
  if (accepted.includes(mt)) return;
  throw new ValidationError(
    `${provider}: image type ${mediaType} is not accepted; convert the image to one of ${accepted.join(', ')}`,
  );
}

/** The `data:` URL of a resolved base64 image. */
export function dataUrlOf(img: { data: string; mediaType: string }): string {
  return `data:${img.mediaType};base64,${img.data}`;
}
