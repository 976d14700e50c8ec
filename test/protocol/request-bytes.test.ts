import { describe, expect, it } from 'vitest';
import { smallBytes } from '../../src/protocol/request-bytes.js';

describe('smallBytes', () => {
  it('hands out zeroed views of the asked length that never overlap, across slabs', () => {
    const views: Uint8Array[] = [];
    // 110-byte views: enough of them to fill several 64 KiB slabs.
    for (let i = 0; i < 2000; i++) {
      const v = smallBytes(110);
      expect(v.length).toBe(110);
      expect(v.every((b) => b === 0)).toBe(true);
      v.fill(i % 255 + 1);
      views.push(v);
    }
    // Each view still holds what was written into it: no later view shared its bytes.
    views.forEach((v, i) => expect(v.every((b) => b === i % 255 + 1)).toBe(true));
    expect(new Set(views.map((v) => v.buffer)).size).toBeGreaterThan(1);
  });

  it('gives large requests a buffer of their own', () => {
    const big = smallBytes(100_000);
    expect(big.length).toBe(100_000);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(100_000);
  });

  it('keeps views 8-byte aligned', () => {
    smallBytes(3);
    expect(smallBytes(10).byteOffset % 8).toBe(0);
  });
});
