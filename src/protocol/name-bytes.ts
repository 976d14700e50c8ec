/**
 * The cached UTF-8 of queue, stream and group names. Apart from `bytes.ts` because only the queue
 * and stream codecs (loaded on demand in a browser app) use it.
 */
import { utf8 } from './bytes.js';

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
