/**
 * Frame CRCs on top of a host's native CRC-32 (Node's `zlib.crc32`), for the hosts that have one:
 * this file only composes a function it is handed, so `src/protocol` stays pure and the browser
 * never loads a `node:` module. The native call has a fixed cost (a subarray and a crossing into
 * C++) that the pure slicing-by-8 loop beats on short frames; measured on a 2-core box the native
 * one wins from about 400 bytes (2× at 1 KB, 3.5× at 4 KB): batched dequeue and group-read replies,
 * bigger appends. Same values either way.
 */
import { crc32Update, crc32UpdateView } from './crc32.js';
import { frameCrcAt, type FrameCrc } from './frame.js';

/** A native CRC-32 of `data`, continuing from `value` (the shape of Node's `zlib.crc32`). */
export type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/** Frames at least this long (header included) are hashed natively by `hybridFrameCrc`. */
export const NATIVE_CRC_MIN_FRAME = 512;

/** The frame CRC through `native` whatever the size. */
export function nativeFrameCrc(native: NativeCrc32): FrameCrc {
  return (bytes, start, end, view) => {
    // The 16 bytes before the CRC field in JS (no subarray), the rest natively, chained.
    const state = view === undefined ? crc32Update(0xffffffff, bytes, start, start + 16) : crc32UpdateView(0xffffffff, bytes, view, start, start + 16);
    const head = (state ^ 0xffffffff) >>> 0;
    return native(bytes.subarray(start + 20, end), head);
  };
}

/** By size: the pure `frameCrcAt` below `NATIVE_CRC_MIN_FRAME`, `large` from there on. */
export function hybridFrameCrc(large: FrameCrc): FrameCrc {
  return (bytes, start, end, view) => (end - start < NATIVE_CRC_MIN_FRAME ? frameCrcAt(bytes, start, end, view) : large(bytes, start, end, view));
}
