/**
 * A queue message list (the dequeue reply) written straight into a caller's buffer (the embedded
 * server's per-connection output slab): byte for byte `encodeQueueDequeueReply`'s payload,
 * `[count:u32]` then per message `[seq:u64][len:u32][payload]`, plus
 * `[enqueued_at_ms:i64][delivery_count:u32][priority:u8]` in the 'flo' profile; little-endian.
 */
import { checkU64 } from './bytes.js';
import type { QueueMessage, QueueReplyProfile } from './queue.js';

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/**
 * The payload size of `messages` in `profile`, after checking every field fits its wire type
 * (so that `writeQueueMessagesAt` cannot fail half-way). Throws `RangeError` like the encoder.
 */
export function queueMessagesSize(messages: readonly QueueMessage[], profile: QueueReplyProfile): number {
  const extended = profile === 'flo';
  let size = 4;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    checkU64(m.seq);
    size += 12 + m.payload.length;
    if (extended) {
      const at = m.enqueuedAtMs ?? 0n;
      if (at < I64_MIN || at > I64_MAX) throw new RangeError(`i64 out of range: ${at}`);
      const dc = m.deliveryCount ?? 0;
      if (!Number.isInteger(dc) || dc < 0 || dc > 0xffffffff) throw new RangeError(`u32 out of range: ${dc}`);
      size += 13;
    }
  }
  if (messages.length > 0xffffffff) throw new RangeError(`u32 out of range: ${messages.length}`);
  return size;
}

/**
 * Writes `messages` (checked by `queueMessagesSize`) at `offset` of `target`; `view` is a DataView
 * over exactly `target`. Returns the end offset.
 */
export function writeQueueMessagesAt(
  target: Uint8Array,
  view: DataView,
  offset: number,
  messages: readonly QueueMessage[],
  profile: QueueReplyProfile,
): number {
  const extended = profile === 'flo';
  let at = offset;
  view.setUint32(at, messages.length, true);
  at += 4;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    view.setBigUint64(at, m.seq, true);
    view.setUint32(at + 8, m.payload.length, true);
    target.set(m.payload, at + 12);
    at += 12 + m.payload.length;
    if (extended) {
      view.setBigInt64(at, m.enqueuedAtMs ?? 0n, true);
      view.setUint32(at + 8, m.deliveryCount ?? 0, true);
      target[at + 12] = (m.priority ?? 0) & 0xff;
      at += 13;
    }
  }
  return at;
}
