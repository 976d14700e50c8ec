/**
 * Server-side KV reply payloads written straight into a caller's buffer (the embedded server's
 * per-connection output slab) instead of a new buffer per reply. Byte for byte the payloads of
 * `encodeKvPutReply` and `encodeKvGetReply` (`kv.ts`): put `[version:u64]`, get
 * `[version:u64][value]`, little-endian.
 *
 * Each writer takes the target, a DataView over exactly that target (callers keep one per buffer:
 * no DataView per reply) and the offset to write at; it returns the end offset. A version may be
 * given as a bigint or as a non-negative safe integer (same bytes).
 */

import { checkU64 } from './bytes.js';

/** Payload size of a put reply. */
export const KV_PUT_REPLY_SIZE = 8;

/** Payload size of a get reply carrying `valueLength` bytes. */
export function kvGetReplySize(valueLength: number): number {
  return 8 + valueLength;
}

/**
 * Writes a version as u64 little-endian. A number (a non-negative safe integer: the server keeps
 * versions as numbers) is written as two u32 halves, the same bytes with no BigInt made.
 */
function writeVersionAt(view: DataView, offset: number, version: bigint | number): void {
  if (typeof version === 'number') {
    if (!(version >= 0 && Number.isSafeInteger(version))) throw new RangeError(`u64 out of range: ${version}`);
    view.setUint32(offset, version >>> 0, true);
    view.setUint32(offset + 4, Math.floor(version / 0x1_0000_0000), true);
    return;
  }
  view.setBigUint64(offset, checkU64(version), true);
}

/** Writes a put reply payload (`encodeKvPutReply`'s bytes) at `offset`; returns its end. */
export function writeKvPutReplyAt(target: Uint8Array, view: DataView, offset: number, version: bigint | number): number {
  const end = offset + KV_PUT_REPLY_SIZE;
  if (offset < 0 || end > target.length) throw new RangeError('writeKvPutReplyAt: target too small');
  writeVersionAt(view, offset, version);
  return end;
}

/** Writes a get reply payload (`encodeKvGetReply`'s bytes) at `offset`; returns its end. */
export function writeKvGetReplyAt(target: Uint8Array, view: DataView, offset: number, version: bigint | number, value: Uint8Array): number {
  const end = offset + 8 + value.length;
  if (offset < 0 || end > target.length) throw new RangeError('writeKvGetReplyAt: target too small');
  writeVersionAt(view, offset, version);
  target.set(value, offset + 8);
  return end;
}
