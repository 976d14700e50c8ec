import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VersionRing, type Version } from '../../../src/server/kv/version-ring.js';

const v = (n: number): Version => ({ version: BigInt(n), value: new Uint8Array([n & 0xff]), timestampNs: BigInt(n) * 10n });

describe('VersionRing', () => {
  it('keeps the newest `capacity` versions newest first, dropping the oldest, as the array it replaces did', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.nat(30), fc.array(fc.nat(5), { maxLength: 6 }), (capacity, writes, start) => {
        const initial = [...new Set(start)].sort((a, b) => b - a).map(v);
        const ring = VersionRing.from(initial, capacity);
        let model = initial.slice(0, capacity);
        expect(ring.toArray()).toEqual(model);
        for (let i = 0; i < writes; i++) {
          const next = v(10 + i);
          const expectedDrop = capacity === 0 ? next : model.length === capacity ? model[model.length - 1] : undefined;
          expect(ring.oldestIfFull).toEqual(capacity === 0 ? undefined : expectedDrop);
          expect(ring.push(next)).toEqual(expectedDrop);
          model = [next, ...model].slice(0, capacity);
          expect(ring.length).toBe(model.length);
          expect(ring.toArray()).toEqual(model);
          model.forEach((m, j) => expect(ring.at(j)).toEqual(m));
        }
        for (let n = 0; n < 10 + writes + 1; n++) expect(ring.find(BigInt(n))).toEqual(model.find((m) => m.version === BigInt(n)));
      }),
    );
  });

  it('keeps a deep history (the server default, 64) through its growth and after it wraps', () => {
    const ring = new VersionRing(64);
    for (let n = 1; n <= 200; n++) {
      ring.add(BigInt(n), new Uint8Array([n & 0xff]), BigInt(n) * 10n);
      const kept = Math.min(n, 64);
      expect(ring.length).toBe(kept);
      expect(ring.at(0)).toEqual(v(n));
      expect(ring.at(kept - 1)).toEqual(v(n - kept + 1));
    }
    expect(ring.toArray().map((x) => Number(x.version))).toEqual(Array.from({ length: 64 }, (_, i) => 200 - i));
    expect(ring.find(137n)).toEqual(v(137));
    expect(ring.find(136n - 64n)).toBeUndefined();
  });
});
