/**
 * Gzipped storage values for caches with `compression: true` (the engine asks with
 * `compression: 'gzip'` on its storage ops): the value is stored as `{$gzip: base64}` of its JSON,
 * through the platform's CompressionStream (Node ≥ 18 and browsers), so every adapter can hold it.
 */
import { StorageError } from '../errors.js';
import type { JsonValue } from './types.js';

async function pipe(bytes: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The stored form of `value`, gzipped. */
export async function deflateValue(value: unknown): Promise<JsonValue> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { $gzip: toBase64(await pipe(bytes, new CompressionStream('gzip'))) };
}

/** The value a gzipped record holds; a record that is not one is a STORAGE_CORRUPT error naming `key`. */
export async function inflateValue(record: unknown, key: string): Promise<unknown> {
  const packed = typeof record === 'object' && record !== null ? (record as { $gzip?: unknown }).$gzip : undefined;
  if (typeof packed !== 'string') throw new StorageError('STORAGE_CORRUPT', `storage key "${key}": expected a gzipped record ({$gzip: base64}), found something else`, { key });
  try {
    return JSON.parse(new TextDecoder().decode(await pipe(fromBase64(packed), new DecompressionStream('gzip')))) as unknown;
  } catch (err) {
    throw new StorageError('STORAGE_CORRUPT', `storage key "${key}": the gzipped record does not inflate to JSON (${(err as Error).message})`, { key, cause: err });
  }
}
