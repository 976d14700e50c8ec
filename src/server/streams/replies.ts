/**
 * The stream append reply (the id of the first record appended) and the record-list replies as
 * payload writers: written straight into the connection's output buffer, no payload buffer or
 * `ByteWriter` per reply.
 */
import {
  nameBytes,
  STREAM_APPEND_REPLY_SIZE,
  streamRecordsSize,
  writeStreamAppendReplyAt,
  writeStreamRecordsAt,
  type StreamId,
  type StreamRecordSource,
} from '../../protocol/index.js';
import { OkWriter } from '../reply.js';

/** OK with `[sequence:u64][timestamp_ms:i64]` (the bytes of `encodeStreamAppendReply`). Its own reply object. */
export class StreamAppendOk extends OkWriter {
  readonly byteLength = STREAM_APPEND_REPLY_SIZE;

  /** `id` is a fresh object from the store, never changed afterwards. */
  constructor(readonly id: StreamId) {
    super();
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeStreamAppendReplyAt(target, view, offset, this.id);
  }
}

/**
 * OK with a record list of one stream (the read and group-read replies, `encodeStreamRecords`'s
 * bytes), written into the output buffer: no wire record object per record, the stream name
 * encoded once, no growing `ByteWriter`. Stored records are immutable and their payload bytes are
 * never overwritten, so writing later (after a group commit) writes what was read.
 */
export class StreamRecordsOk extends OkWriter {
  readonly byteLength: number;
  private readonly stream: Uint8Array;

  constructor(
    stream: string,
    readonly records: readonly StreamRecordSource[],
  ) {
    super();
    this.stream = nameBytes(stream); // cached: the same few streams are read over and over
    this.byteLength = streamRecordsSize(records, this.stream);
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeStreamRecordsAt(target, view, offset, this.records, this.stream);
  }
}
