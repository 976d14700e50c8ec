import { describe, expect, it } from 'vitest';
import { formatStreamId } from '../../src/protocol/stream.js';
import { SeenIds } from '../../src/client/stream-seen-ids.js';

const id = (timestampMs: bigint, sequence: bigint) => ({ timestampMs, sequence });

describe('SeenIds', () => {
  it('holds the ids added, as formatStreamId text, across its growth', () => {
    const seen = new SeenIds(10_000);
    const ids = Array.from({ length: 1_000 }, (_, i) => id(1_733_480_000_000n + BigInt(i >> 3), BigInt(i)));
    for (const x of ids) seen.add(x);
    expect(seen.size).toBe(1_000);
    expect(seen.formatted()).toEqual(new Set(ids.map(formatStreamId)));
  });

  it('keeps only the last `capacity` ids, forgetting the oldest first', () => {
    const seen = new SeenIds(300);
    for (let i = 0; i < 1_000; i++) seen.add(id(7n, BigInt(i)));
    expect(seen.size).toBe(300);
    const held = seen.formatted();
    expect(held).toEqual(new Set(Array.from({ length: 300 }, (_, k) => `7-${700 + k}`)));
    seen.add(id(8n, 0n));
    expect(seen.formatted().has('7-700')).toBe(false);
    expect(seen.formatted().has('8-0')).toBe(true);
    expect(seen.size).toBe(300);
  });

  it('keeps every bit of 64-bit parts (timestamps past 2^63 included)', () => {
    const seen = new SeenIds(4);
    const max = 0xffff_ffff_ffff_ffffn;
    seen.add(id(max, max));
    seen.add(id(1n << 63n, 0n));
    expect(seen.formatted()).toEqual(new Set([`${max}-${max}`, `${1n << 63n}-0`]));
  });

  it('does not keep the id objects it was given', () => {
    const seen = new SeenIds(2);
    const x = { timestampMs: 5n, sequence: 6n };
    seen.add(x);
    x.sequence = 99n; // a changed object does not change what was remembered
    expect(seen.formatted()).toEqual(new Set(['5-6']));
  });
});
