import { describe, expect, it } from 'vitest';
import { crc32, crc32Update, crc32UpdateView, frameCrcAt, utf8 } from '../../src/protocol/index.js';

/** Bit by bit, straight from the polynomial: the reference the table-driven forms must match. */
function referenceCrc(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= bytes[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** 300 pseudo-random bytes inside a larger buffer, so views start at odd offsets of their ArrayBuffer. */
function sample(): Uint8Array {
  const backing = new Uint8Array(311);
  let x = 0x12345678;
  for (let i = 0; i < backing.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    backing[i] = x >>> 24;
  }
  return backing.subarray(5, 305);
}

describe('crc32UpdateView', () => {
  const bytes = sample();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  it('matches the bytewise CRC at every start offset and length up to 70 bytes', () => {
    for (let start = 0; start < 9; start++) {
      for (let length = 0; length <= 70; length++) {
        const end = start + length;
        const expected = referenceCrc(bytes, start, end);
        expect((crc32UpdateView(0xffffffff, bytes, view, start, end) ^ 0xffffffff) >>> 0).toBe(expected);
        expect((crc32Update(0xffffffff, bytes, start, end) ^ 0xffffffff) >>> 0).toBe(expected);
      }
    }
  });

  it('continues a running state as crc32Update does', () => {
    const state = crc32Update(0xffffffff, bytes, 0, 13);
    expect(crc32UpdateView(state, bytes, view, 13, 250)).toBe(crc32Update(state, bytes, 13, 250));
  });

  it('matches the IEEE check value', () => {
    const check = utf8('123456789');
    expect((crc32UpdateView(0xffffffff, check, new DataView(check.buffer), 0, 9) ^ 0xffffffff) >>> 0).toBe(crc32(check));
    expect(crc32(check)).toBe(0xcbf43926);
  });
});

describe('frameCrcAt', () => {
  it('gives the same value with and without a DataView', () => {
    const bytes = sample();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const [start, end] of [[0, 32], [3, 60], [7, 207], [1, 299]] as const) {
      const withView = frameCrcAt(bytes, start, end, view);
      expect(withView).toBe(frameCrcAt(bytes, start, end));
      const skipped = new Uint8Array([...bytes.subarray(start, start + 16), ...bytes.subarray(start + 20, end)]);
      expect(withView).toBe(referenceCrc(skipped, 0, skipped.length));
    }
  });
});
