/**
 * Server-side replies of the hot append paths written straight into a caller's buffer (the
 * embedded server's per-connection output slab): byte for byte the payloads of
 * `encodeStreamAppendReply` (`[sequence:u64][timestamp_ms:i64]`, stream.ts) and
 * `encodeQueueEnqueueReply` (`[seq:u64]`, queue.ts), little-endian.
 *
 * Each writer takes the target, a DataView over exactly that target and the offset to write at;
 * it returns the end offset.
 */
import { checkU64 } from './bytes.js';
import type { StreamId } from './options.js';

/** Payload size of a stream append reply. */
export const STREAM_APPEND_REPLY_SIZE = 16;
/** Payload size of a queue enqueue reply. */
export const QUEUE_ENQUEUE_REPLY_SIZE = 8;

function u64At(view: DataView, offset: number, v: bigint): void {
  view.setBigUint64(offset, checkU64(v), true);
}

function room(target: Uint8Array, offset: number, size: number, what: string): number {
  const end = offset + size;
  if (offset < 0 || end > target.length) throw new RangeError(`${what}: target too small`);
  return end;
}

/** Writes a stream append reply payload (`encodeStreamAppendReply`'s bytes) at `offset`; returns its end. */
export function writeStreamAppendReplyAt(target: Uint8Array, view: DataView, offset: number, id: StreamId): number {
  const end = room(target, offset, STREAM_APPEND_REPLY_SIZE, 'writeStreamAppendReplyAt');
  u64At(view, offset, id.sequence);
  // The timestamp goes out as an i64 holding the same 64 bits (Flo's layout).
  view.setBigInt64(offset + 8, BigInt.asIntN(64, id.timestampMs), true);
  return end;
}

/** Writes a queue enqueue reply payload (`encodeQueueEnqueueReply`'s bytes) at `offset`; returns its end. */
export function writeQueueEnqueueReplyAt(target: Uint8Array, view: DataView, offset: number, seq: bigint): number {
  const end = room(target, offset, QUEUE_ENQUEUE_REPLY_SIZE, 'writeQueueEnqueueReplyAt');
  u64At(view, offset, seq);
  return end;
}
