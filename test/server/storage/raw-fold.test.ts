// Compaction's fold keeps values as their packed bytes: for logs of every format, the snapshot it
// writes holds the same entities and values as a fold of the unpacked values would.
import { describe, expect, it } from 'vitest';
import { BatchWriter, packValue, readBatch, unpackValue } from '../../../src/server/storage/codec.js';
import { Fold } from '../../../src/server/storage/fold.js';
import { RawFold } from '../../../src/server/storage/raw-fold.js';

type Entry = [table: string, key: string, value: unknown];
const bytes = (...b: number[]) => new Uint8Array(b);

/** Values of every kind a table saves, nested, big and small (lengths across every MessagePack header size). */
function valueOf(i: number): unknown {
  switch (i % 12) {
    case 0: return [bytes(1, 2, 3), BigInt(i) * 1_000_000_007n, false, null, -5n];
    case 1: return { payload: new Uint8Array(300).fill(i & 0xff), attempts: i, leaseEnd: i + 0.5, headers: [['k', 'v'], ['é', '✓']] };
    case 2: return new Uint8Array(70_000).fill(7);
    case 3: return 'x'.repeat(40) + i;
    case 4: return 'ü'.repeat(20_000);
    case 5: return Array.from({ length: 20 }, (_, j) => j * -1000);
    case 6: return { nested: { deeper: [1, [2, [3, { four: 4n }]]] }, big: 2n ** 70n, neg: -(2 ** 40), f: 1.25, t: true };
    case 7: return Object.fromEntries(Array.from({ length: 20 }, (_, j) => [`f${j}`, j]));
    case 8: return [0xff, 0x100, 0xffff, 0x10000, 0xffffffff, -0x21, -0x81, -0x8001, -0x80000001];
    case 9: return undefined; // a removal
    case 10: return null;
    default: return [new Uint8Array(0), '', [], {}];
  }
}

/** A log: batches in format 3 (and, with `format1`, as earlier versions wrote them), keys often repeated. */
function batches(n: number, format1: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = 0; b < n; b++) {
    const entries: Entry[] = [];
    for (let i = 0; i < 30; i++) {
      const k = (b * 31 + i * 7) % 50;
      entries.push([`t${k % 3}`, `key ${k} ü`, valueOf(b + i + k)]);
    }
    if (format1 && b % 2 === 0) out.push(packValue(entries.map(([t, k, v]) => [t, k, v === undefined ? null : packValue(v)])));
    else {
      const w = new BatchWriter();
      for (const [t, k, v] of entries) w.add(t, k, v);
      out.push(w.pack().slice());
    }
  }
  return out;
}

function snapshotOf(fold: RawFold): Entry[] {
  const w = new BatchWriter();
  for (const [t, k, raw] of fold.entities()) w.addRaw(t, k, raw);
  const out: Entry[] = [];
  readBatch(w.pack().slice(), (t, k, v) => out.push([t, k, v]));
  return out;
}

const sorted = (entries: Entry[]) => [...entries].sort((a, b) => (a[0] + '\0' + a[1] < b[0] + '\0' + b[1] ? -1 : 1));

describe('RawFold (compaction)', () => {
  for (const format1 of [false, true]) {
    it(`folds a log${format1 ? ' with format-1 batches' : ''} to the same entities and values as the unpacking fold`, () => {
      const log = batches(40, format1);
      const raw = new RawFold();
      const plain = new Fold();
      for (const b of log) {
        raw.applyBatch(b);
        plain.applyBatch(b);
      }
      expect(raw.size).toBe(plain.size);
      expect(raw.size).toBeGreaterThan(10);
      expect(sorted(snapshotOf(raw))).toEqual(sorted([...plain.entities()]));
    });
  }

  it('reads a snapshot back (chunks and footer), then the log after it', () => {
    const first = new RawFold();
    for (const b of batches(10, false)) first.applyBatch(b);
    const w = new BatchWriter();
    for (const [t, k, r] of first.entities()) w.addRaw(t, k, r);
    const chunk = w.pack().slice();
    const again = new RawFold();
    expect(again.applySnapshotRecord(chunk)).toBe(false);
    expect(again.applySnapshotRecord(packValue({ end: first.size }))).toBe(true);
    expect(again.size).toBe(first.size);
    again.applyBatch(packValue([3, 't0', 'key 0 ü', undefined, 't9', 'new', 1]));
    const entries = snapshotOf(again);
    expect(entries.find(([t, k]) => t === 't0' && k === 'key 0 ü')).toBeUndefined();
    expect(entries.find(([t, k]) => t === 't9' && k === 'new')).toEqual(['t9', 'new', 1]);
  });

  it('refuses what is not a batch, a partial entry, a key that is not a string, and bytes cut short', () => {
    const fold = new RawFold();
    expect(() => fold.applyBatch(packValue({ end: 1 }))).toThrow(/not a batch/);
    expect(() => fold.applyBatch(packValue([3, 't', 'k']))).toThrow(/partial entry/);
    expect(() => fold.applyBatch(packValue([3, 't', 5, 1]))).toThrow(/without table or key/);
    const whole = packValue([3, 't', 'k', new Uint8Array(100)]);
    expect(() => fold.applyBatch(whole.subarray(0, whole.length - 10))).toThrow(/cut short/);
    expect(() => fold.applyBatch(new Uint8Array([...packValue([3, 't', 'k', 1]), 0x01]))).toThrow(/bytes after/);
    expect(unpackValue(whole)).toEqual([3, 't', 'k', new Uint8Array(100)]);
  });
});
