/**
 * The stream append reply (the id of the first record appended) as a payload writer: written
 * straight into the connection's output buffer, no payload buffer or `ByteWriter` per append.
 */
import { STREAM_APPEND_REPLY_SIZE, Status, writeStreamAppendReplyAt, type StreamId } from '../../protocol/index.js';
import type { PayloadWriter, Reply } from '../types.js';

/** OK with `[sequence:u64][timestamp_ms:i64]` (the bytes of `encodeStreamAppendReply`). Its own reply object. */
export class StreamAppendOk implements Reply, PayloadWriter {
  readonly status = Status.OK;
  readonly payload: PayloadWriter = this;
  readonly byteLength = STREAM_APPEND_REPLY_SIZE;

  /** `id` is a fresh object from the store, never changed afterwards. */
  constructor(readonly id: StreamId) {}

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeStreamAppendReplyAt(target, view, offset, this.id);
  }
}
