/**
 * The server's frame CRC (native zlib.crc32 for larger frames, the protocol's pure CRC for small
 * ones) gives the same values and bytes as the pure one, over random frames of every size around
 * the switch-over, and a corrupted frame is still caught.
 */
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  checksumOkAt,
  encodeRequestFrame,
  encodeResponseFrame,
  encodeResponseHeaderAt,
  frameCrcAt,
  RequestFrameDecoder,
} from '../../src/protocol/index.js';
import { frameCrcFor, frameCrcWith, NATIVE_CRC_MIN_FRAME, serverFrameCrc } from '../../src/server/frame-crc.js';
import { rng } from '../support/rng.js';

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

describe('server frame CRC', () => {
  it('uses the native CRC on this Node', () => {
    expect(typeof native).toBe('function');
    expect(serverFrameCrc).not.toBe(frameCrcAt);
  });

  it('equals the pure frame CRC over random frames at random offsets, sizes around the switch-over', () => {
    const next = rng(15);
    const sizes = [32, 33, 40, 100, NATIVE_CRC_MIN_FRAME - 1, NATIVE_CRC_MIN_FRAME, NATIVE_CRC_MIN_FRAME + 1, 1024, 4099, 70_000];
    for (let i = 0; i < 200; i++) sizes.push(32 + ((next() * 3000) | 0));
    for (const size of sizes) {
      const pad = (next() * 50) | 0;
      const bytes = randomBytes(next, pad + size + 7);
      expect(serverFrameCrc(bytes, pad, pad + size)).toBe(frameCrcAt(bytes, pad, pad + size));
      expect(frameCrcWith(native)(bytes, pad, pad + size)).toBe(frameCrcAt(bytes, pad, pad + size));
    }
    expect(frameCrcWith(undefined)).toBe(frameCrcAt);
  });

  it('writes the same response bytes as encodeResponseFrame', () => {
    const next = rng(7);
    for (const size of [0, 5, 200, 479, 480, 481, 2000, 9000]) {
      const payload = randomBytes(next, size);
      const expected = encodeResponseFrame(0x0102030405060708n, 0, payload);
      const target = new Uint8Array(10 + expected.length).fill(0xaa);
      target.set(payload, 10 + 32);
      const view = new DataView(target.buffer);
      const end = encodeResponseHeaderAt(target, view, 10, 0x0102030405060708n, 0, size, 0, serverFrameCrc);
      expect(end).toBe(target.length);
      expect(target.subarray(10)).toEqual(expected);
    }
  });

  it('checks request CRCs like the pure decoder: good ones pass, any flipped byte fails', () => {
    const next = rng(99);
    for (const size of [10, 300, 600, 3000]) {
      const frame = encodeRequestFrame(42n, 0x7e0, randomBytes(next, size));
      const view = new DataView(frame.buffer);
      expect(checksumOkAt(frame, view, 0, frame.length, serverFrameCrc)).toBe(true);
      const [decoded] = new RequestFrameDecoder({ frameCrc: serverFrameCrc }).push(frame);
      expect(decoded.checksumOk).toBe(true);
      for (let k = 0; k < 20; k++) {
        // Any byte but the reserved/version/magic/length ones the header check would refuse first.
        const candidates = [8, 9, 16, 17, 18, 19, 20, 21, 23];
        for (let i = 32; i < frame.length; i++) candidates.push(i);
        const at = candidates[(next() * candidates.length) | 0];
        const bad = frame.slice();
        bad[at] ^= 1 << ((next() * 8) | 0);
        const badView = new DataView(bad.buffer);
        expect(checksumOkAt(bad, badView, 0, bad.length, serverFrameCrc)).toBe(false);
        expect(checksumOkAt(bad, badView, 0, bad.length)).toBe(false);
        const [d] = new RequestFrameDecoder({ frameCrc: serverFrameCrc }).push(bad);
        expect(d.checksumOk).toBe(false);
      }
    }
  });
});

describe('frameCrcFor', () => {
  it('picks the pure CRC below the switch-over and a native one (same values) from it', () => {
    expect(frameCrcFor(NATIVE_CRC_MIN_FRAME - 1)).toBe(frameCrcAt);
    const large = frameCrcFor(NATIVE_CRC_MIN_FRAME);
    expect(large).not.toBe(frameCrcAt);
    const next = rng(3);
    for (const size of [32, 100, NATIVE_CRC_MIN_FRAME, 5000]) {
      const bytes = randomBytes(next, size + 4);
      expect(large(bytes, 2, 2 + size)).toBe(frameCrcAt(bytes, 2, 2 + size));
    }
  });
});
