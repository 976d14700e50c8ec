import { describe, expect, it } from 'vitest';
import { smallCopy, smallCopyOf, wholeViewsOf } from '../../src/protocol/small-bytes.js';

describe('smallCopy', () => {
  it('copies the first n bytes of a reused read buffer, each copy kept intact when the buffer is read into again', () => {
    const readBuffer = new Uint8Array(64 * 1024);
    const copies: Array<{ copy: Uint8Array; fill: number }> = [];
    // Sizes up to and beyond the slab limit (1 KiB), and enough reads to fill several slabs.
    const sizes = [1, 40, 64, 65, 150, 1024, 1025, 4000];
    for (let i = 0; i < 600; i++) {
      const n = sizes[i % sizes.length]!;
      const fill = (i % 250) + 1;
      readBuffer.fill(fill, 0, n);
      readBuffer[n] = 0xff; // a byte past the read must not be copied
      const copy = smallCopy(readBuffer, 0, n);
      expect(copy.length).toBe(n);
      copies.push({ copy, fill });
    }
    readBuffer.fill(0);
    for (const { copy, fill } of copies) expect(copy.every((b) => b === fill)).toBe(true);
    // Slab copies share buffers (several slabs were used), the rest do not.
    const slabbed = copies.filter(({ copy }) => copy.length <= 1024);
    expect(new Set(slabbed.map(({ copy }) => copy.buffer)).size).toBeGreaterThan(1);
    expect(new Set(slabbed.map(({ copy }) => copy.buffer)).size).toBeLessThan(slabbed.length);
    const own = copies.filter(({ copy }) => copy.length > 1024);
    for (const { copy } of own) expect(copy.buffer.byteLength).toBe(copy.length);
  });

  it('copies a whole buffer too, 8-byte aligned in its slab', () => {
    const bytes = new Uint8Array(100).map((_, i) => i);
    const copy = smallCopy(bytes, 0, 100);
    expect([...copy]).toEqual([...bytes]);
    expect(copy.buffer).not.toBe(bytes.buffer);
    expect(copy.byteOffset % 8).toBe(0);
  });

  it('copies a range from the middle of a buffer', () => {
    const bytes = new Uint8Array(300).map((_, i) => i % 256);
    for (const [start, end] of [[8, 40], [8, 300], [100, 200], [0, 0]] as const) {
      const copy = smallCopy(bytes, start, end);
      expect([...copy]).toEqual([...bytes.subarray(start, end)]);
      if (end > start) expect(copy.buffer).not.toBe(bytes.buffer);
    }
  });

  it('copies from the right source when sources alternate, views at an offset and large buffers among them', () => {
    const backing = new Uint8Array(1000).map((_, i) => i % 251);
    const a = backing.subarray(100, 600); // a view at an offset into a shared buffer
    const b = new Uint8Array(200).map((_, i) => 255 - i);
    const big = new Uint8Array(200 * 1024).map((_, i) => i % 7); // larger than any source remembered
    for (let round = 0; round < 3; round++) {
      for (const [source, start, end] of [[a, 5, 60], [b, 1, 150], [a, 300, 310], [big, 150_000, 150_900], [a, 0, 40], [b, 10, 20]] as const) {
        expect([...smallCopy(source, start, end)]).toEqual([...source.subarray(start, end)]);
      }
      a[5] = (a[5]! + 1) % 256; // a source's later bytes are what the next copy takes
    }
  });
});

describe('smallCopyOf', () => {
  it('copies n bytes at an offset of a reused read buffer, each copy kept intact when the buffer is read into again', () => {
    const read = new Uint8Array(64 * 1024);
    const copies: Array<{ copy: Uint8Array; fill: number; n: number }> = [];
    for (let i = 0; i < 400; i++) {
      const n = [1, 49, 140, 1024, 1025, 5000][i % 6]!;
      const at = i % 3 === 0 ? 0 : 17;
      const fill = (i % 250) + 1;
      read.fill(fill, at, at + n);
      read[at + n] = 0xff; // a byte past the read must not be copied
      copies.push({ copy: smallCopyOf(read.buffer, at, n), fill, n });
    }
    read.fill(0);
    for (const { copy, fill, n } of copies) {
      expect(copy.length).toBe(n);
      expect(copy.every((b) => b === fill)).toBe(true);
      if (n > 1024) expect(copy.buffer.byteLength).toBe(n); // a buffer of its own above 1 KiB
      else expect(copy.buffer.byteLength).toBe(8 * 1024); // a slab's view
    }
  });
});

describe('wholeViewsOf', () => {
  it('views the whole buffer of a chunk, so that its bytes read at byteOffset + i', () => {
    const read = new Uint8Array(64).map((_, i) => i);
    const chunk = smallCopy(read, 10, 30);
    const { bytes, view } = wholeViewsOf(chunk);
    expect(bytes.buffer).toBe(chunk.buffer);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.length).toBe(chunk.buffer.byteLength);
    expect(view.byteLength).toBe(chunk.buffer.byteLength);
    expect(bytes[chunk.byteOffset]).toBe(10);
    expect(view.getUint8(chunk.byteOffset + 19)).toBe(29);
  });

  it('hands out the same views again for chunks of the same small buffer, new ones for another', () => {
    const slab = new Uint8Array(8 * 1024);
    const first = wholeViewsOf(slab.subarray(0, 100));
    expect(wholeViewsOf(slab.subarray(200, 300))).toBe(first);
    const other = wholeViewsOf(new Uint8Array(100));
    expect(other).not.toBe(first);
    expect(wholeViewsOf(slab.subarray(400, 500))).not.toBe(first); // only the last one is kept
  });

  it('keeps no views of a large buffer (it would stay alive for them)', () => {
    const big = new Uint8Array(64 * 1024);
    big[40_000] = 7;
    const a = wholeViewsOf(big.subarray(40_000));
    const b = wholeViewsOf(big.subarray(40_000));
    expect(a).not.toBe(b);
    expect(a.bytes[40_000]).toBe(7);
    expect(b.view.getUint8(40_000)).toBe(7);
  });
});
