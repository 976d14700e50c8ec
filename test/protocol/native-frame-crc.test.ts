/**
 * Frame CRCs composed on a host's native CRC-32: same values as the pure `frameCrcAt` at every
 * size and offset, the pure one below the switch-over and the native one from it. The native CRC
 * here is a stand-in built on the pure table (so this file needs no `node:` module) that counts
 * its calls.
 */
import { describe, expect, it } from 'vitest';
import { crc32Update, frameCrcAt, hybridFrameCrc, NATIVE_CRC_MIN_FRAME, nativeFrameCrc } from '../../src/protocol/index.js';
import { rng } from '../support/rng.js';

function counted(): { crc32: (data: Uint8Array, value?: number) => number; calls: number[] } {
  const calls: number[] = [];
  const crc32 = (data: Uint8Array, value = 0): number => {
    calls.push(data.length);
    return (crc32Update((value ^ 0xffffffff) >>> 0, data, 0, data.length) ^ 0xffffffff) >>> 0;
  };
  return { crc32, calls };
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

describe('native frame CRC', () => {
  it('equals frameCrcAt at any offset, chaining the 16 header bytes into the native call', () => {
    const native = counted();
    const crc = nativeFrameCrc(native.crc32);
    const next = rng(3);
    for (const size of [32, 33, 100, 511, 512, 4096]) {
      const pad = (next() * 20) | 0;
      const bytes = randomBytes(next, pad + size + 5);
      expect(crc(bytes, pad, pad + size)).toBe(frameCrcAt(bytes, pad, pad + size));
    }
    // One native call per frame, over everything after the CRC field.
    expect(native.calls).toEqual([12, 13, 80, 491, 492, 4076]);
  });

  it('hybrid: pure below NATIVE_CRC_MIN_FRAME bytes, native from there, same values', () => {
    const native = counted();
    const crc = hybridFrameCrc(nativeFrameCrc(native.crc32));
    const next = rng(11);
    for (const size of [32, NATIVE_CRC_MIN_FRAME - 1, NATIVE_CRC_MIN_FRAME, 10_000]) {
      const bytes = randomBytes(next, size + 3);
      expect(crc(bytes, 3, size + 3)).toBe(frameCrcAt(bytes, 3, size + 3));
    }
    expect(native.calls).toEqual([NATIVE_CRC_MIN_FRAME - 20, 10_000 - 20]);
  });
});
