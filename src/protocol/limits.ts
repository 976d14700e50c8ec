/**
 * The size limits Flo enforces, checked by the client before a request leaves (an
 * `InvalidArgumentError` instead of a server refusal after the bytes were sent). The embedded server
 * enforces the KV ones too.
 */

/** Namespace: at most 255 bytes of UTF-8 (the official SDKs refuse longer ones). */
export const MAX_NAMESPACE_BYTES = 255;
/** Key section of any request (key, queue, stream or action name): at most 65 535 bytes (a u16 length). */
export const MAX_KEY_BYTES = 0xffff;
/** Value section of any request (a value, message, record or input): at most 16 MiB, as the Go SDK checks. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;
/** KV key qualified by its namespace (`namespace ‖ 0x00 ‖ key`; the bare key in `default`): at most 4096 bytes. */
export const KV_MAX_QUALIFIED_KEY = 4096;
/** KV entry: qualified key + value + 10 bytes of overhead at most 256 KiB + 64 (Flo's `MAX_ENTRY_PAYLOAD`). */
export const KV_MAX_ENTRY_PAYLOAD = 256 * 1024 + 64;
/** Bytes an entry adds to its qualified key and value. */
export const KV_ENTRY_OVERHEAD = 10;
/** Largest value a KV put can carry beside a qualified key of `qualifiedKeyBytes`. */
export const kvMaxValueBytes = (qualifiedKeyBytes: number): number => KV_MAX_ENTRY_PAYLOAD - KV_ENTRY_OVERHEAD - qualifiedKeyBytes;

/** The namespace whose keys are stored unqualified. */
const isDefaultNamespace = (ns: string) => ns === '' || ns === 'default';

/** Length of `namespace ‖ 0x00 ‖ key` (just the key in the default namespace). */
export function kvQualifiedKeyLength(namespaceBytes: number, namespace: string, keyBytes: number): number {
  return isDefaultNamespace(namespace) ? keyBytes : namespaceBytes + 1 + keyBytes;
}
