/**
 * @internal
 * Long strings cross the engine boundary beside the JSON of a message, as raw UTF-8 ("blobs"), so
 * that a 10 MB answer is transcoded once instead of being escaped, parsed and decoded on every
 * crossing. The wire format and its reasons: src/protocol/blobs.hpp and src/protocol/PROTOCOL.md.
 */

/** Strings at least this long (UTF-16 units, so at least as many UTF-8 bytes) travel as blobs. */
export const BLOB_MIN_CHARS = 16 * 1024;
/** Every string that starts with this travels as a blob, so no user string can pass for a marker. */
const MARKER = '\u0000lmthing:';
const IN_MARKER = '\u0000lmthing:in:';
const OUT_MARKER = '\u0000lmthing:out:';

function travelsAsBlob(text: string): boolean {
  return text.length >= BLOB_MIN_CHARS || text.startsWith(MARKER);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Not `target[key] = value`: for "__proto__" that would call the prototype setter.
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `value` with every string that travels as a blob replaced by `marker(text)`. Copies only the
 * arrays and plain objects on the way to a replaced string; leaves other objects (with `toJSON`,
 * class instances) to JSON.stringify. Stops descending `maxDepth` levels down, where
 * JSON.stringify reports a value too deep (or circular) as it always did.
 */
export function externalizeBlobs(value: unknown, marker: (text: string) => string, maxDepth: number): unknown {
  if (typeof value === 'string') return travelsAsBlob(value) ? marker(value) : value;
  if (typeof value !== 'object' || value === null || maxDepth <= 0) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = externalizeBlobs(item, marker, maxDepth - 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const next = externalizeBlobs(item, marker, maxDepth - 1);
    if (next !== item) setOwn((copy ??= { ...value }), key, next);
  }
  return copy ?? value;
}

/**
 * Replaces, in a freshly parsed outbound message, every blob marker with its text: from `cache`
 * when the host already holds the text under the marker's key, else decoded from `blobs` (the
 * message's blobs in offset order, views of wasm memory valid only during this call) and cached.
 */
export function resolveBlobs(value: unknown, blobs: readonly Uint8Array[], cache: BlobCache, decoder: TextDecoder): unknown {
  // A marker's offset counts from the first blob's start, as if the blobs were one run of bytes.
  const byOffset = new Map<number, Uint8Array>();
  let offset = 0;
  for (const blob of blobs) {
    byOffset.set(offset, blob);
    offset += blob.length;
  }
  return resolveMarkers(value, (at, length) => byOffset.get(at)?.subarray(0, length), cache, decoder);
}

function resolveMarkers(value: unknown, bytesAt: (offset: number, length: number) => Uint8Array | undefined, cache: BlobCache, decoder: TextDecoder): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(OUT_MARKER)) return value;
    const [offset, length] = value.slice(OUT_MARKER.length).split(':', 2).map(Number);
    const key = value.slice(OUT_MARKER.length + `${offset}:${length}:`.length);
    let text = cache.get(key);
    if (text === undefined) {
      const bytes = bytesAt(offset, length);
      if (bytes?.length !== length) throw new Error(`engine message names blob bytes ${offset}+${length}, which it does not carry`);
      text = decoder.decode(bytes);
      cache.set(key, text);
    }
    return text;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = resolveMarkers(value[i], bytesAt, cache, decoder);
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const next = resolveMarkers(item, bytesAt, cache, decoder);
      if (next !== item) setOwn(record, key, next);
    }
  }
  return value;
}

/**
 * The long strings the host holds under the keys the engine names them by ("in:<id>" for one the
 * host sent, "h:<hash>:<bytes>" for one it decoded), most recently used last. Bounded by count and
 * total length; a key that fell out is simply decoded again. The engine host empties it whenever
 * the engine has no run left, so a long answer does not outlive its run in the heap.
 */
export class BlobCache {
  private readonly entries = new Map<string, string>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 64,
    private readonly maxChars = 64 * 1024 * 1024,
  ) {}

  get(key: string): string | undefined {
    const text = this.entries.get(key);
    if (text !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, text);
    }
    return text;
  }

  set(key: string, text: string): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.chars -= old.length;
    }
    if (text.length > this.maxChars) return;
    this.entries.set(key, text);
    this.chars += text.length;
    for (const [oldest, value] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= value.length;
    }
  }

  /** Forgets every text. */
  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }

  /** How many texts it holds (tests). */
  get size(): number {
    return this.entries.size;
  }
}

/** The marker a message carries for inbound blob `id`. */
export function inboundMarker(id: string): string {
  return IN_MARKER + id;
}

/** Node's Buffer, whose native byteLength counts UTF-8 bytes as TextEncoder writes them. */
type NativeByteLength = { byteLength(text: string, encoding: 'utf8'): number };
const nodeBuffer = (globalThis as { Buffer?: NativeByteLength }).Buffer;
const NOT_ASCII = /[^\u0000-\u007f]/; // eslint-disable-line no-control-regex -- ASCII is every code unit below 0x80

/**
 * The length of `text` in UTF-8 as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes),
 * without encoding it: the batch's header names it, and the bytes are then encoded in place.
 * Natively in Node (8 ms for 50 MB); in browsers, a regular expression for ASCII text (15 ms for
 * 50 MB), else a count in JS (≈ 100 ms for 50 MB once optimised). `native`: tests pass null to
 * check the browsers' way in Node.
 */
export function utf8Length(text: string, native: NativeByteLength | null = nodeBuffer ?? null): number {
  if (native) return native.byteLength(text, 'utf8');
  if (!NOT_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else bytes += 2; // 3 bytes, lone surrogates (U+FFFD) included
  }
  return bytes;
}
