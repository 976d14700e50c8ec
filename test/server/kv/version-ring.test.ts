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
          model.forEach((m, j) => {
            expect(ring.at(j)).toEqual(m);
            expect({ version: ring.versionAt(j), value: ring.valueAt(j), timestampNs: ring.timestampAt(j) }).toEqual(m);
          });
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

  it('keeps each version\'s state when it was current (tombstone, deadline, none) next to it, and finds a version\'s place', () => {
    const ring = new VersionRing(3);
    const states = [true, 1_700_000_060_000, undefined, true, 42] as const;
    states.forEach((state, i) => ring.add(BigInt(i + 1), new Uint8Array([i]), BigInt(i), state));
    expect([0, 1, 2].map((i) => ring.stateAt(i))).toEqual([42, true, undefined]);
    expect([5n, 4n, 3n, 2n, 6n].map((version) => ring.indexOf(version))).toEqual([0, 1, 2, -1, -1]);
    const copy = VersionRing.from([...ring.toArray().map((v, i) => ({ ...v, state: ring.stateAt(i) }))], 2);
    expect([copy.stateAt(0), copy.stateAt(1), copy.length]).toEqual([42, true, 2]);
  });

  it('keeps a value given as where its bytes are (buffer, offset, length) or as a view, and reads it back', () => {
    const pool = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
    const ring = new VersionRing(4);
    ring.addParts(1, pool.buffer, 2, 3, 10n, undefined);
    const own = new Uint8Array([42, 43]);
    ring.addParts(2, own, 0, 2, 20n, 99);
    ring.addParts(3, pool.buffer, 8, 0, 30n, true);
    expect(ring.toArray()).toEqual([
      { version: 3n, value: new Uint8Array(0), timestampNs: 30n },
      { version: 2n, value: own, timestampNs: 20n },
      { version: 1n, value: new Uint8Array([7, 6, 5]), timestampNs: 10n },
    ]);
    expect(ring.valueAt(1)).toBe(own);
    expect([ring.numberAt(0), ring.numberAt(2), ring.versionAt(2)]).toEqual([3, 1, 1n]);
    expect([ring.indexOf(2), ring.indexOf(2n), ring.indexOf(2 ** 60), ring.indexOf(1n << 70n)]).toEqual([1, 1, -1, -1]);
  });
});
