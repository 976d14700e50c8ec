/**
 * The server's frame CRC: the protocol's pure CRC for small frames, Node's native `zlib.crc32`
 * (Node ≥ 20.15, as the storage layer uses) for larger ones. The native call has a fixed cost
 * (a subarray and a crossing into C++) that the pure slicing-by-8 loop beats on short frames;
 * measured on this machine the native one wins from about 400 bytes (2× at 1 KB, 3.5× at 4 KB),
 * which is where batched dequeue and group-read replies and bigger appends are. Same values
 * either way (the protocol's golden frames and test/server/frame-crc.test.ts hold it to that).
 */
import * as zlib from 'node:zlib';
import { crc32Update, frameCrcAt, type FrameCrc } from '../protocol/index.js';

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/** Frames at least this long (header included) are hashed natively. */
export const NATIVE_CRC_MIN_FRAME = 512;

const nativeCrc32 = (zlib as { crc32?: NativeCrc32 }).crc32;

function nativeFrameCrc(native: NativeCrc32): FrameCrc {
  return (bytes, start, end) => {
    // The 16 bytes before the CRC field in JS (no subarray), the rest natively, chained.
    const head = (crc32Update(0xffffffff, bytes, start, start + 16) ^ 0xffffffff) >>> 0;
    return native(bytes.subarray(start + 20, end), head);
  };
}

function hybridFrameCrc(large: FrameCrc): FrameCrc {
  return (bytes, start, end) => (end - start < NATIVE_CRC_MIN_FRAME ? frameCrcAt(bytes, start, end) : large(bytes, start, end));
}

/** The native frame CRC whatever the size (the pure one without zlib.crc32); see `frameCrcFor`. */
export const largeFrameCrc: FrameCrc = nativeCrc32 ? nativeFrameCrc(nativeCrc32) : frameCrcAt;

/** The frame CRC the server uses for requests it checks: by size, pure or native. */
export const serverFrameCrc: FrameCrc = nativeCrc32 ? hybridFrameCrc(largeFrameCrc) : frameCrcAt;

/**
 * The CRC for a frame of `frameSize` bytes, chosen before the call (a reply writer knows its size):
 * small replies then call the pure CRC directly, without the size test of `serverFrameCrc`.
 */
export function frameCrcFor(frameSize: number): FrameCrc {
  return frameSize < NATIVE_CRC_MIN_FRAME ? frameCrcAt : largeFrameCrc;
}

/** For tests: the hybrid built on a given native CRC (or on none: the pure one). */
export function frameCrcWith(native: NativeCrc32 | undefined): FrameCrc {
  return native ? hybridFrameCrc(nativeFrameCrc(native)) : frameCrcAt;
}
