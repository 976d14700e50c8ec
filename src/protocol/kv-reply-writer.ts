/**
 * Server-side KV reply payloads written straight into a caller's buffer (the embedded server's
 * per-connection output slab) instead of a new buffer per reply. Byte for byte the payloads of
 * `encodeKvPutReply` and `encodeKvGetReply` (`kv.ts`): put `[version:u64]`, get
 * `[version:u64][value]`, little-endian.
 *
 * Each writer takes the target, a DataView over exactly that target (callers keep one per buffer:
 * no DataView per reply) and the offset to write at; it returns the end offset.
 */

const U64_MAX = 0xffffffffffffffffn;

/** Payload size of a put reply. */
export const KV_PUT_REPLY_SIZE = 8;

/** Payload size of a get reply carrying `valueLength` bytes. */
export function kvGetReplySize(valueLength: number): number {
  return 8 + valueLength;
}

/** Writes a put reply payload (`encodeKvPutReply`'s bytes) at `offset`; returns its end. */
export function writeKvPutReplyAt(target: Uint8Array, view: DataView, offset: number, version: bigint): number {
  const end = offset + KV_PUT_REPLY_SIZE;
  if (offset < 0 || end > target.length) throw new RangeError('writeKvPutReplyAt: target too small');
  if (version < 0n || version > U64_MAX) throw new RangeError(`u64 out of range: ${version}`);
  view.setBigUint64(offset, version, true);
  return end;
}

/** Writes a get reply payload (`encodeKvGetReply`'s bytes) at `offset`; returns its end. */
export function writeKvGetReplyAt(target: Uint8Array, view: DataView, offset: number, version: bigint, value: Uint8Array): number {
  const end = offset + 8 + value.length;
  if (offset < 0 || end > target.length) throw new RangeError('writeKvGetReplyAt: target too small');
  if (version < 0n || version > U64_MAX) throw new RangeError(`u64 out of range: ${version}`);
  view.setBigUint64(offset, version, true);
  target.set(value, offset + 8);
  return end;
}
