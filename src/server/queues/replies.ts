/**
 * The queue enqueue and dequeue replies as payload writers: written straight into the
 * connection's output buffer, no payload buffer or `ByteWriter` per reply.
 */
import {
  QUEUE_ENQUEUE_REPLY_SIZE,
  queueMessagesSize,
  writeQueueEnqueueReplyAt,
  writeQueueMessagesAt,
  type QueueMessage,
  type QueueReplyProfile,
} from '../../protocol/index.js';
import { OkWriter } from '../reply.js';

/** OK with `[seq:u64]` (the bytes of `encodeQueueEnqueueReply`). Its own reply object. */
export class QueueEnqueueOk extends OkWriter {
  readonly byteLength = QUEUE_ENQUEUE_REPLY_SIZE;

  constructor(readonly seq: bigint) {
    super();
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeQueueEnqueueReplyAt(target, view, offset, this.seq);
  }
}

/**
 * OK with a message list (the dequeue reply, `encodeQueueDequeueReply`'s bytes), written into the
 * output buffer: no payload buffer and no second copy of the payloads per reply. The list and its
 * payload views are fixed at dequeue (payload bytes are never overwritten while referenced).
 */
export class QueueMessagesOk extends OkWriter {
  readonly byteLength: number;

  constructor(
    readonly messages: readonly QueueMessage[],
    readonly profile: QueueReplyProfile,
  ) {
    super();
    this.byteLength = queueMessagesSize(messages, profile);
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeQueueMessagesAt(target, view, offset, this.messages, this.profile);
  }
}
