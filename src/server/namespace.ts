/**
 * Request namespaces. Flo treats an empty namespace and `default` as the same one; names longer
 * than 255 bytes are refused (the Go SDK's client-side limit, which the embedded server enforces).
 */
import { fromUtf8 } from '../protocol/index.js';
import { badRequest } from './reply.js';

export const DEFAULT_NAMESPACE = 'default';
export const MAX_NAMESPACE_BYTES = 255;

/** The namespace a handler sees: `''` becomes `'default'`. Throws `BadRequestError` when too long. */
export function normaliseNamespace(bytes: Uint8Array): string {
  if (bytes.length > MAX_NAMESPACE_BYTES) {
    throw badRequest(`namespace too long: ${bytes.length} bytes (max ${MAX_NAMESPACE_BYTES})`);
  }
  return bytes.length === 0 ? DEFAULT_NAMESPACE : fromUtf8(bytes);
}
