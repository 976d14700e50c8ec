/**
 * The hot KV replies (put's version, get's version and value) as payload writers: written straight
 * into the connection's output buffer, with no payload buffer, `ByteWriter` or `DataView` per reply.
 * Each is its own reply object too (`payload` is itself): one allocation per reply.
 */
import { KV_PUT_REPLY_SIZE, kvGetReplySize, writeKvGetReplyAt, writeKvPutReplyAt } from '../../protocol/index.js';
import { OkWriter } from '../reply.js';

/** OK with `[version:u64]` (the bytes of `encodeKvPutReply`). */
export class KvPutOk extends OkWriter {
  readonly byteLength = KV_PUT_REPLY_SIZE;

  constructor(readonly version: bigint | number) {
    super();
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeKvPutReplyAt(target, view, offset, this.version);
  }
}

/**
 * OK with `[version:u64][value]` (the bytes of `encodeKvGetReply`). `value` is a stored value,
 * never changed in place (a write replaces it), so a reply held for a commit still writes it as read.
 */
export class KvGetOk extends OkWriter {
  readonly byteLength: number;

  constructor(
    readonly version: bigint | number,
    readonly value: Uint8Array,
  ) {
    super();
    this.byteLength = kvGetReplySize(value.length);
  }

  writeAt(target: Uint8Array, view: DataView, offset: number): void {
    writeKvGetReplyAt(target, view, offset, this.version, this.value);
  }
}
