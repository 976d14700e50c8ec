/**
 * Client-side checks of Flo's size limits (`src/protocol/limits.ts`): a request over a limit fails
 * with `InvalidArgumentError` before any byte is sent.
 */
import {
  InvalidArgumentError,
  KV_MAX_QUALIFIED_KEY,
  kvMaxValueBytes,
  kvQualifiedKeyLength,
  MAX_KEY_BYTES,
  MAX_NAMESPACE_BYTES,
  MAX_VALUE_BYTES,
  utf8,
  type OpPayload,
} from '../../protocol/index.js';


/** Checks the namespace and the key and value sections of every request. */
export function checkRequestSizes(namespace: string, body: OpPayload): void {
  if (namespace.length * 3 > MAX_NAMESPACE_BYTES && utf8(namespace).length > MAX_NAMESPACE_BYTES) {
    throw new InvalidArgumentError(`namespace too long: ${utf8(namespace).length} bytes (max ${MAX_NAMESPACE_BYTES})`);
  }
  if (body.key !== undefined && body.key.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`key or name too long: ${body.key.length} bytes (max ${MAX_KEY_BYTES})`);
  }
  if (body.value !== undefined && body.value.length > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(`value too large: ${body.value.length} bytes (max ${MAX_VALUE_BYTES}, 16 MiB)`);
  }
}

/** Checks a KV key (and the value of a put) against Flo's KV limits. */
export function checkKvEntry(namespace: string, key: Uint8Array, value?: Uint8Array): void {
  if (key.includes(0)) throw new InvalidArgumentError('key must not contain a NUL byte');
  // Fast path (every put): with the namespace at its largest UTF-8 size (3 bytes per UTF-16 unit),
  // the entry still fits, so its exact size need not be computed.
  const upper = namespace.length * 3 + 1 + key.length;
  if (upper <= KV_MAX_QUALIFIED_KEY && (value === undefined || value.length <= kvMaxValueBytes(upper))) return;
  const qualified = kvQualifiedKeyLength(utf8(namespace).length, namespace, key.length);
  if (qualified > KV_MAX_QUALIFIED_KEY) {
    throw new InvalidArgumentError(`key too long: ${key.length} bytes (namespace + key at most ${KV_MAX_QUALIFIED_KEY} bytes)`);
  }
  if (value !== undefined && value.length > kvMaxValueBytes(qualified)) {
    throw new InvalidArgumentError(`value too large for a KV entry: ${value.length} bytes (max ${kvMaxValueBytes(qualified)} with this key; Flo stores at most 256 KiB per entry)`);
  }
}
