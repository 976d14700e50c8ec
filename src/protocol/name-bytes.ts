/**
 * The cached UTF-8 of queue, stream and group names, and the text of recently seen name bytes.
 * Apart from `bytes.ts` because only the queue and stream codecs (loaded on demand in a browser
 * app) use it.
 */
import { bytesEqual, fromUtf8, utf8 } from './bytes.js';

/** Names whose UTF-8 bytes `nameBytes` remembers; cleared when full, so it stays small. */
const NAME_CACHE_SIZE = 256;
const nameCache = new Map<string, Uint8Array>();

/**
 * UTF-8 of a queue, stream or group name (or the bytes as given). The same few names are encoded
 * on every request, so their bytes are cached: the result is shared and must not be modified
 * (request encoders only copy it into frames).
 */
export function nameBytes(value: string | Uint8Array): Uint8Array {
  if (typeof value !== 'string') return value;
  let bytes = nameCache.get(value);
  if (bytes === undefined) {
    bytes = utf8(value);
    if (value.length <= 256) {
      if (nameCache.size >= NAME_CACHE_SIZE) nameCache.clear();
      nameCache.set(value, bytes);
    }
  }
  return bytes;
}

/** How many recent names `nameText` remembers, and the longest it remembers (in bytes). */
const RECENT_TEXTS = 8;
const RECENT_TEXT_MAX_BYTES = 64;
const recentBytes: Uint8Array[] = [];
const recentTexts: string[] = [];
let nextSlot = 0;

/**
 * The text of a name's UTF-8 bytes (a server decoding the stream name of every append): the last
 * few names are remembered as copies of their bytes, so a name sent again is compared, not decoded.
 * The same string as `fromUtf8(bytes)`.
 */
export function nameText(bytes: Uint8Array): string {
  if (bytes.length > RECENT_TEXT_MAX_BYTES) return fromUtf8(bytes);
  for (let i = 0; i < recentBytes.length; i++) if (bytesEqual(recentBytes[i]!, bytes)) return recentTexts[i]!;
  const text = fromUtf8(bytes);
  // A copy: the bytes given are usually a view into a read buffer.
  recentBytes[nextSlot] = bytes.slice();
  recentTexts[nextSlot] = text;
  nextSlot = (nextSlot + 1) % RECENT_TEXTS;
  return text;
}
