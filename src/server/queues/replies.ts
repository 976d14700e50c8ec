/**
 * The queue enqueue reply (the message's seq) as a payload writer: written straight into the
 * connection's output buffer, no payload buffer or `ByteWriter` per enqueue.
 */
import { QUEUE_ENQUEUE_REPLY_SIZE, Status, writeQueueEnqueueReplyAt } from '../../protocol/index.js';
import type { PayloadWriter, Reply } from '../types.js';

/** OK with `[seq:u64]` (the bytes of `encodeQueueEnqueueReply`). Its own reply object. */
export class QueueEnqueueOk implements Reply, PayloadWriter {
  readonly status = Status.OK;
  readonly payload: PayloadWriter = this;
  readonly byteLength = QUEUE_ENQUEUE_REPLY_SIZE;

  constructor(readonly seq: bigint) {}

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeQueueEnqueueReplyAt(target, view, offset, this.seq);
  }
}
