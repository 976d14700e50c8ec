import { describe, expect, it } from 'vitest';
import { StreamStore } from '../../../src/server/streams/store.js';
import { Packr } from 'msgpackr';
import { PlainPacker } from '../../../src/server/storage/plain-packer.js';
import { ABSENT, entityKeyWithId, type IdKeyForm, type PersistedTable, type Persistence } from '../../../src/server/storage/types.js';

describe('StreamStore records', () => {
  it('copies each payload once: the receive buffer can be reused and no record refers to it', () => {
    const store = new StreamStore({ now: () => 1_000 });
    const received = new Uint8Array(64 * 1024).fill(1);
    received.set([1, 2, 3], 100);
    received.set([4, 5], 200);
    store.append('ns', 's', [
      { payload: received.subarray(100, 103), headers: [] },
      { payload: received.subarray(200, 202), headers: [['k', 'v']] },
    ], 0);
    received.fill(0);
    const [a, b] = store.read('ns', 's', { from: 0n, count: 10 });
    expect([...a!.payload]).toEqual([1, 2, 3]);
    expect([...b!.payload]).toEqual([4, 5]);
    expect(a!.payload.buffer).not.toBe(received.buffer);
    expect(a!.size).toBe(3);
    expect(a!.headers).toEqual([]);
    expect(b!.headers).toEqual([['k', 'v']]);
  });

  it('keeps many records byte-exact across arena chunks, and retention counts their sizes', () => {
    const store = new StreamStore({ now: () => 1_000 });
    for (let i = 0; i < 3000; i++) store.append('ns', 's', [{ payload: new Uint8Array(100 + (i % 7)).fill(i & 0xff), headers: [] }], 0);
    const all = store.read('ns', 's', { from: 0n, count: 5000 });
    expect(all).toHaveLength(3000);
    expect(all.every((r, i) => r.payload.length === 100 + (i % 7) && r.payload.every((b) => b === (i & 0xff)))).toBe(true);
    let bytes = 0n;
    for (let i = 2000; i < 3000; i++) bytes += BigInt(100 + (i % 7));
    store.trim('ns', 's', { maxBytes: bytes }, false);
    const kept = store.read('ns', 's', { from: 0n, count: 5000 });
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.payload[0]).toBe(2000 & 0xff);
  });

  it('announces an appended record with its key in parts and a form that packs as the bytes of [partition, payload, headers]', () => {
    const announced: Array<[string, unknown, unknown, bigint | number | undefined]> = [];
    let form: IdKeyForm | undefined;
    const persistence: Persistence = {
      table: (t) => {
        if (t.name === 'stream.rec') form = t.idKey;
        return (key, before, created, id) => void (t.name === 'stream.rec' && announced.push([key, before, created, id]));
      },
    };
    const store = new StreamStore({ now: () => 1_000 }, persistence);
    const payloads = [0, 5, 100, 300, 70_000].map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff));
    const headers: Array<Array<[string, string]>> = [[], [['h', 'x']], [], [['a', 'é'], ['b', '']], []];
    for (let i = 0; i < payloads.length; i++) store.append('ns', 's', [{ payload: payloads[i]!, headers: headers[i]! }], i % 2);
    store.append('ns', 's', payloads.slice(0, 3).map((payload) => ({ payload, headers: [] })), 1);
    const records = store.read('ns', 's', { from: 0n, count: 100 });
    expect(records).toHaveLength(8);
    // In parts: the stream key and the millisecond as the prefix, the sequence as a number; whole, the record's entity key.
    expect(announced.map(([key, before, , id]) => [key, before, id])).toEqual(records.map((r) => ['ns\u0000s\u00003e8', ABSENT, Number(r.id.sequence)]));
    expect(announced.map(([key, , , id]) => entityKeyWithId(key, id!, form))).toEqual(records.map((r) => `ns\u0000s\u0000${r.key.toString(16)}`));
    const packr = new Packr({ useRecords: false, mapsAsObjects: true, useBigIntExtension: true });
    const out = new PlainPacker(packr);
    const bytesOf = (v: unknown) => {
      out.reset();
      out.value(v);
      return Buffer.from(out.bytes());
    };
    for (const [i, r] of records.entries()) {
      const plain = [r.partition, new Uint8Array(r.payload), r.headers.map(([k, v]) => [k, v])];
      expect(bytesOf(announced[i]![2]).equals(bytesOf(plain))).toBe(true);
      expect(packr.unpack(bytesOf(announced[i]![2]))).toEqual(packr.unpack(packr.pack(plain)));
    }
  });

  it('announces the whole key of a record whose id is not of the clock\'s millisecond or whose millisecond is 0', () => {
    const announced: Array<[string, bigint | number | undefined]> = [];
    const persistence: Persistence = { table: (t) => (key, _before, _created, id) => void (t.name === 'stream.rec' && announced.push([key, id])) };
    let now = 0;
    const store = new StreamStore({ now: () => now }, persistence);
    store.append('ns', 's', [{ payload: new Uint8Array(1), headers: [] }], 0); // millisecond 0: id 0
    now = 5_000;
    store.append('ns', 's', [{ payload: new Uint8Array(1), headers: [] }], 0); // in parts
    now = 4_000; // the clock went back: ids go on from the last one (millisecond 5,000)
    store.append('ns', 's', [{ payload: new Uint8Array(1), headers: [] }, { payload: new Uint8Array(1), headers: [] }], 0);
    const keys = store.read('ns', 's', { from: 0n, count: 10 }).map((r) => `ns\u0000s\u0000${r.key.toString(16)}`);
    expect(keys).toEqual(['ns\u0000s\u00000', 'ns\u0000s\u000013880000000000000000', 'ns\u0000s\u000013880000000000000001', 'ns\u0000s\u000013880000000000000002']);
    expect(announced).toEqual([
      [keys[0], undefined],
      ['ns\u0000s\u00001388', 0],
      [keys[2], undefined],
      [keys[3], undefined],
    ]);
  });

  it('persists records as [partition, payload, headers] and loads them back into its arena', () => {
    const tables = new Map<string, PersistedTable>();
    const persistence: Persistence = { table: (t) => (tables.set(t.name, t), () => {}) };
    const store = new StreamStore({ now: () => 1_000 }, persistence);
    const id = store.append('ns', 's', [{ payload: new Uint8Array([9, 8]), headers: [['h', 'x']] }], 0);
    const [rec] = store.read('ns', 's', { from: 0n, count: 1 });
    const entity = `ns\u0000s\u0000${rec!.key.toString(16)}`;
    const saved = tables.get('stream.rec')!.save(entity);
    expect(saved).toEqual([0, new Uint8Array([9, 8]), [['h', 'x']]]);

    const copyTables = new Map<string, PersistedTable>();
    const copy = new StreamStore({ now: () => 1_000 }, { table: (t) => (copyTables.set(t.name, t), () => {}) });
    const fromDisk = new Uint8Array([0, 9, 8, 0]);
    copyTables.get('stream.meta')!.load('ns\u0000s', tables.get('stream.meta')!.save('ns\u0000s'));
    copyTables.get('stream.rec')!.load(entity, [0, fromDisk.subarray(1, 3), [['h', 'x']]]);
    for (const t of copyTables.values()) t.loaded?.();
    fromDisk.fill(0);
    const [back] = copy.read('ns', 's', { from: 0n, count: 1 });
    expect(back!.id).toEqual(id);
    expect([...back!.payload]).toEqual([9, 8]);
    expect(back!.payload.buffer).not.toBe(fromDisk.buffer);
  });
});

describe('StreamStore stream keys', () => {
  it('keeps streams apart when requests alternate namespaces and names (the reused key follows both)', () => {
    const store = new StreamStore({ now: () => 1_000 });
    const rec = (b: number) => [{ payload: new Uint8Array([b]), headers: [] as [string, string][] }];
    const pairs: Array<[string, string]> = [['a', 's'], ['b', 's'], ['a', 't'], ['a', 's'], ['a', 's'], ['b', 't'], ['b', 's']];
    pairs.forEach(([ns, stream], i) => store.append(ns, stream, rec(i), 0));
    const payloads = (ns: string, stream: string) => store.read(ns, stream, { from: 0n, count: 10 }).map((r) => r.payload[0]);
    expect(payloads('a', 's')).toEqual([0, 3, 4]);
    expect(payloads('b', 's')).toEqual([1, 6]);
    expect(payloads('a', 't')).toEqual([2]);
    expect(payloads('b', 't')).toEqual([5]);
    expect(store.exists('c', 's')).toBe(false);
    expect(store.exists('a', 's')).toBe(true);
  });
});
