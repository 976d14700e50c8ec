// The log's batch encoding: format 4 (one flat array, packed once; formats 2 and 3 the same layout) round-trips every kind of value a
// table saves, removals stay apart from null values, and format 1 (what earlier versions wrote) reads.
import { describe, expect, it } from 'vitest';
import { BatchWriter, packTableName, packValue, readBatch, unpackValue } from '../../../src/server/storage/codec.js';

type Entry = [table: string, key: string, value: unknown];
const entriesOf = (payload: Uint8Array): Entry[] => {
  const out: Entry[] = [];
  readBatch(payload, (table, key, value) => out.push([table, key, value]));
  return out;
};

const bytes = (...b: number[]) => new Uint8Array(b);
const SAMPLES: Entry[] = [
  ['kv', 'default\u0000a', [bytes(1, 2, 3), 7n, false, null, 1_700_000_000_000_000_000n]],
  ['kv.old', 'default\u0000a\u00006', [bytes(), 2n ** 70n]],
  ['kv.version', 'default\u0000a\u00007', [bytes(4), 1_700_000_000_000_000_000n, false, 1_700_000_060_000]],
  ['kv.index', '', 123n],
  ['queue.msg', '["ns","q",1]', { payload: bytes(0, 255), attempts: 2, leaseUntil: 1234.5, headers: [['k', 'v']] }],
  ['stream.rec', 'ns\u0000s\u00001a', [bytes(9), []]],
  ['action.meta', '', 0],
  ['x', 'null value', null],
  ['x', 'removed', undefined],
  ['x', 'text', 'é ✓'],
];

describe('log batch encoding', () => {
  it('a batch packed once decodes to the same entries, in order, removals as undefined and null kept', () => {
    const w = new BatchWriter();
    for (const [t, k, v] of SAMPLES) w.add(t, k, v);
    expect(w.size).toBe(SAMPLES.length);
    const packed = w.pack().slice();
    expect(w.size).toBe(0);
    const back = entriesOf(packed);
    expect(back).toEqual(SAMPLES);
    expect(back[7][2]).toBeNull();
    expect(back[8][2]).toBeUndefined();
    expect((back[0][2] as unknown[])[0]).toBeInstanceOf(Uint8Array);
  });

  it('writes a table name packed once (packTableName) as the same bytes as the name itself, also when an entry copies it from the last of its table', () => {
    const names = ['kv.version', 'q', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(40), 'é ✓ table', 'ab', 'abcd'];
    const packed = new Map(names.map((name) => [name, packTableName(name)]));
    // Each table's entries in a row, then the tables again interleaved (a copy from further back).
    const order = [...names.flatMap((n) => [n, n, n]), ...names, ...[...names].reverse()];
    const asText = new BatchWriter();
    const asPacked = new BatchWriter();
    for (const round of [0, 1]) {
      for (const [i, name] of order.entries()) {
        asText.add(name, 'default\u0000a', [bytes(i), 5n], 0x41n);
        asPacked.add(packed.get(name)!, 'default\u0000a', [bytes(i), 5n], 0x41n);
        asText.add(name, 'gone', undefined);
        asPacked.add(packed.get(name)!, 'gone', undefined);
      }
      // A new batch starts with no table name written (round 1 writes them whole again).
      const text = asText.pack().slice();
      expect(Buffer.from(asPacked.pack()), `batch ${round}`).toEqual(Buffer.from(text));
      expect(entriesOf(text).map(([t]) => t)).toEqual(order.flatMap((n) => [n, n]));
    }
  });

  it('is one MessagePack array starting with the format number, each value not packed apart', () => {
    const w = new BatchWriter();
    w.add('kv', 'k', [bytes(1, 2), 1n]);
    const items = unpackValue(w.pack().slice()) as unknown[];
    expect(items).toEqual([4, 'kv', 'k', [bytes(1, 2), 1n]]);
  });

  it('reads formats 2 and 3 (the same layout), and refuses a format it does not know', () => {
    expect(entriesOf(packValue([2, 'kv', 'k', [bytes(1, 2), 1n]]))).toEqual([['kv', 'k', [bytes(1, 2), 1n]]]);
    expect(entriesOf(packValue([3, 'kv.old', 'k\u00001', [bytes(1, 2), 1n]]))).toEqual([['kv.old', 'k\u00001', [bytes(1, 2), 1n]]]);
    expect(() => entriesOf(packValue([5, 'kv', 'k', 1]))).toThrow(/not a batch/);
  });

  it('reads format 1: [table, key, separately packed value | null] tuples', () => {
    const legacy = packValue(SAMPLES.map(([t, k, v]) => [t, k, v === undefined ? null : packValue(v)]));
    expect(entriesOf(legacy)).toEqual(SAMPLES);
  });

  it('refuses a record that is not a batch', () => {
    expect(() => entriesOf(packValue({ end: 3 }))).toThrow(/not a batch/);
    expect(() => entriesOf(packValue([2, 'kv', 'k']))).toThrow(/partial entry/);
    expect(() => entriesOf(packValue([2, 5, 'k', 1]))).toThrow(/without table or key/);
    expect(() => entriesOf(packValue([[1, 'k', null]]))).toThrow(/not a batch/);
  });
});
