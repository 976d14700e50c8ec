/**
 * The server's frame CRC: the protocol's pure CRC for small frames, Node's native `zlib.crc32`
 * (Node ≥ 20.15, as the storage layer uses) for larger ones (`src/protocol/native-frame-crc.ts`
 * has the why and the switch-over size). Same values either way (the protocol's golden frames and
 * test/server/frame-crc.test.ts hold it to that).
 */
import * as zlib from 'node:zlib';
import { frameCrcAt, hybridFrameCrc, NATIVE_CRC_MIN_FRAME, nativeFrameCrc, type FrameCrc, type NativeCrc32 } from '../protocol/index.js';

export { NATIVE_CRC_MIN_FRAME };

const nativeCrc32 = (zlib as { crc32?: NativeCrc32 }).crc32;

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
