import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/protocol/bytes.js';
import { nameBytes } from '../../src/protocol/name-bytes.js';

describe('nameBytes', () => {
  it('is the UTF-8 of the name, the same bytes each time, and passes bytes through', () => {
    const first = nameBytes('orders-é');
    expect(first).toEqual(new TextEncoder().encode('orders-é'));
    expect(nameBytes('orders-é')).toBe(first);
    const raw = new Uint8Array([1, 2, 3]);
    expect(nameBytes(raw)).toBe(raw);
  });

  it('stays bounded: after many other names an early one is encoded afresh, still right', () => {
    const early = nameBytes('early-name');
    for (let i = 0; i < 1000; i++) nameBytes(`name-${i}`);
    const again = nameBytes('early-name');
    expect(again).not.toBe(early);
    expect(again).toEqual(early);
  });
});

describe('ByteWriter', () => {
  it('hands over an exactly full buffer, and later writes never change it', () => {
    const w = new ByteWriter(6).u16(0x0102).u32(0xa0b0c0d0);
    const out = w.finish();
    expect([...out]).toEqual([0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0]);
    w.u8(9);
    expect([...out]).toEqual([0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0]);
    expect([...w.finish()]).toEqual([0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0, 9]);
  });

  it('copies a partly filled buffer, and mixes 16/32/64-bit writes little-endian', () => {
    const w = new ByteWriter(64).u8(1).u64(0x0102030405060708n).u16(0xffff);
    const out = w.finish();
    expect(out.length).toBe(11);
    expect([...out]).toEqual([1, 8, 7, 6, 5, 4, 3, 2, 1, 0xff, 0xff]);
    w.u8(7);
    expect(out.length).toBe(11);
    expect(() => new ByteWriter().u16(0x10000)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
  });
});
