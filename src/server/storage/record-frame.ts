/**
 * The on-disk record framing shared by log segments and snapshots:
 *
 *   [length u32 LE][~length u32 LE][crc32(payload) u32 LE][payload: length bytes]
 *
 * The inverted length makes a damaged header detectable without trusting the length; the CRC
 * covers the payload. `scanRecords` tells a torn tail (the last write cut short, or zeros after
 * it) from corruption before the tail, which recovery must never silently drop.
 */
import * as zlib from 'node:zlib';
import { crc32 as crc32Js } from '../../protocol/crc32.js';

// zlib's native crc32 (Node ≥ 20.15) is several times faster than ours on large records: it is
// half of the start-up of a big log otherwise. Same polynomial, same values.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
const crc32: (data: Uint8Array) => number = nativeCrc32 ? (data) => nativeCrc32(data) : crc32Js;

export const FRAME_HEADER = 12;

export function frameRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.set(payload, FRAME_HEADER);
  writeFrameHeader(out);
  return out;
}

/** Writes the header of a record whose payload already follows it: `record` is header room plus payload. */
export function writeFrameHeader(record: Buffer): void {
  const length = record.length - FRAME_HEADER;
  record.writeUInt32LE(length, 0);
  record.writeUInt32LE(~length >>> 0, 4);
  record.writeUInt32LE(crc32(record.subarray(FRAME_HEADER)), 8);
}

export type ScanEnd =
  /** Every byte belongs to a whole, valid record. */
  | { readonly kind: 'clean'; readonly end: number }
  /** The bytes from `end` on are a torn last record (or zeros): safe to cut. */
  | { readonly kind: 'torn'; readonly end: number; readonly dropped: number; readonly reason: string }
  /** A record before the tail is damaged: data would be lost by cutting. */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Walks the records of `buf`, handing each payload (a view) to `onRecord`, and says how the bytes end. */
export function scanRecords(buf: Uint8Array, onRecord: (payload: Uint8Array, offset: number) => void): ScanEnd {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at < buf.length) {
    const torn = (reason: string): ScanEnd => ({ kind: 'torn', end: at, dropped: buf.length - at, reason });
    if (allZero(buf, at)) return torn('zeros after the last record');
    if (buf.length - at < FRAME_HEADER) return torn('partial record header');
    const length = view.getUint32(at, true);
    if ((~length >>> 0) !== view.getUint32(at + 4, true)) return { kind: 'corrupt', offset: at, reason: 'damaged record header' };
    const end = at + FRAME_HEADER + length;
    if (end > buf.length) return torn(`record of ${length} bytes cut short`);
    const payload = buf.subarray(at + FRAME_HEADER, end);
    if (crc32(payload) !== view.getUint32(at + 8, true)) {
      if (end === buf.length) return torn('checksum mismatch in the last record');
      return { kind: 'corrupt', offset: at, reason: 'checksum mismatch' };
    }
    onRecord(payload, at);
    at = end;
  }
  return { kind: 'clean', end: at };
}
