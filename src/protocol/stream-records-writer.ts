/**
 * A stream record list (the read and group-read reply) written straight into a caller's buffer
 * (the embedded server's per-connection output slab): byte for byte `encodeStreamRecords`'s
 * payload for records of one stream, tier 0, each carrying the stream name:
 * `[count:u32]` then per record `[sequence:u64][timestamp_ms:i64][tier:u8][partition:u32]
 * [key_present:u8 = 1][len:u32][stream][len:u32][payload][header_count:u32]([len:u32][k][len:u32][v])*`.
 * The stream name is encoded once per reply, not once per record.
 */
import { utf8 } from './bytes.js';
import type { StreamHeaders } from './stream.js';

/** What a record contributes: its 128-bit id (`timestamp_ms << 64 | sequence`), partition, payload, headers. */
export interface StreamRecordSource {
  readonly key: bigint;
  readonly partition: number;
  readonly payload: Uint8Array;
  readonly headers: StreamHeaders;
  /**
   * The payload's length, when the source knows it without building `payload` (a stored record's
   * payload is a view made on each read): sizing a reply then makes no view per record.
   */
  readonly size?: number;
}

/** Fixed bytes of one record besides the stream name, payload and headers. */
const RECORD_FIXED = 8 + 8 + 1 + 4 + 1 + 4 + 4 + 4;

/**
 * The payload size of `records` of the stream whose UTF-8 name is `stream`, after checking every
 * field fits its wire type (so that `writeStreamRecordsAt` cannot fail half-way).
 */
export function streamRecordsSize(records: readonly StreamRecordSource[], stream: Uint8Array): number {
  let size = 4;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition > 0xffffffff) {
      throw new RangeError(`u32 out of range: ${r.partition}`);
    }
    size += RECORD_FIXED + stream.length + (r.size ?? r.payload.length);
    const h = r.headers;
    for (let j = 0; j < h.length; j++) size += 8 + utf8(h[j][0]).length + utf8(h[j][1]).length;
  }
  return size;
}

function bytes32At(target: Uint8Array, view: DataView, at: number, bytes: Uint8Array): number {
  view.setUint32(at, bytes.length, true);
  target.set(bytes, at + 4);
  return at + 4 + bytes.length;
}

/**
 * Writes `records` (checked by `streamRecordsSize`) at `offset` of `target`; `view` is a DataView
 * over exactly `target`. Returns the end offset.
 */
export function writeStreamRecordsAt(
  target: Uint8Array,
  view: DataView,
  offset: number,
  records: readonly StreamRecordSource[],
  stream: Uint8Array,
): number {
  let at = offset;
  view.setUint32(at, records.length, true);
  at += 4;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const key = r.key;
    // `setBigUint64` stores its value modulo 2^64 (ToBigUint64): the low half (the sequence) needs
    // no mask, and a 128-bit key shifted right is the timestamp's 64 bits (read back as an i64 by
    // the decoder, Flo's layout). Two bigints fewer per record than masking each half.
    view.setBigUint64(at, key, true);
    view.setBigUint64(at + 8, key >> 64n, true);
    target[at + 16] = 0;
    view.setUint32(at + 17, r.partition, true);
    target[at + 21] = 1;
    at = bytes32At(target, view, at + 22, stream);
    at = bytes32At(target, view, at, r.payload);
    const h = r.headers;
    view.setUint32(at, h.length, true);
    at += 4;
    for (let j = 0; j < h.length; j++) {
      at = bytes32At(target, view, at, utf8(h[j][0]));
      at = bytes32At(target, view, at, utf8(h[j][1]));
    }
  }
  return at;
}
