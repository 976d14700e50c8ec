import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { QueueStore } from '../../../src/server/queues/store.js';
import { entityKeyWithId, type PersistedTable, type Persistence } from '../../../src/server/storage/types.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Records the registered tables and the announced entity keys. */
function recorder(): { persistence: Persistence; tables: Map<string, PersistedTable>; changed: Set<string> } {
  const tables = new Map<string, PersistedTable>();
  const changed = new Set<string>();
  return {
    tables,
    changed,
    persistence: {
      table(t) {
        tables.set(t.name, t);
        // A key given in parts (an enqueue) is recorded whole, as the storage reads it.
        return (key, _before, _created, id) => changed.add(`${t.name} ${id === undefined ? key : entityKeyWithId(key, id, t.idKey)}`);
      },
    },
  };
}

const msgKey = (seq: bigint | number | string) => JSON.stringify(['ns', 'q', String(seq)]);

describe('QueueStore seqs (kept as exact numbers up to 2^53 - 1)', () => {
  it('hands out seqs up to 2^53 - 1 exactly, then refuses to enqueue with a BadRequest', () => {
    const { persistence, tables } = recorder();
    const store = new QueueStore(new ManualClock(), {}, undefined, persistence);
    tables.get('queue.meta')!.load(JSON.stringify(['ns', 'q']), { nextSeq: MAX - 1n, counters: { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0 } });
    tables.get('queue.meta')!.loaded!();
    expect(store.enqueue('ns', 'q', new Uint8Array([1])).seq).toBe(MAX - 1n);
    expect(store.enqueue('ns', 'q', new Uint8Array([2])).seq).toBe(MAX);
    expect(() => store.enqueue('ns', 'q', new Uint8Array([3]))).toThrow(/no sequence numbers left/);
    expect(() => store.enqueueBatch('ns', 'q', [new Uint8Array([3])])).toThrow(/no sequence numbers left/);
    const got = store.dequeue('ns', 'q', 10);
    expect(got.map((m) => m.seq)).toEqual([MAX - 1n, MAX]);
    // 2^53 + 1 would round to 2^53 as a double: it must not touch any message.
    expect(store.ack('ns', 'q', [MAX + 2n, MAX + 1n, 0n, -1n])).toBe(0);
    expect(store.stateOf('ns', 'q', MAX)).toBe('leased');
    expect(store.ack('ns', 'q', [MAX])).toBe(1);
    expect(store.stateOf('ns', 'q', MAX)).toBeUndefined();
  });

  it('a batch that would cross the bound stores nothing', () => {
    const { persistence, tables } = recorder();
    const store = new QueueStore(new ManualClock(), {}, undefined, persistence);
    tables.get('queue.meta')!.load(JSON.stringify(['ns', 'q']), { nextSeq: MAX, counters: { enqueued: 0, dequeued: 0, acked: 0, nacked: 0, dlqTotal: 0, leasesExpired: 0 } });
    expect(() => store.enqueueBatch('ns', 'q', [new Uint8Array([1]), new Uint8Array([2])])).toThrow(/no sequence numbers left/);
    expect(store.stats('ns', 'q').ready).toBe(0);
  });
});

describe('QueueStore payloads', () => {
  it('copies the payload once: the receive buffer it came in can be reused, and nothing refers to it', () => {
    const store = new QueueStore(new ManualClock());
    const received = new Uint8Array(64 * 1024).fill(1);
    received.set([10, 20, 30], 500);
    store.enqueue('ns', 'q', received.subarray(500, 503));
    store.enqueueBatch('ns', 'q', [received.subarray(500, 502)]);
    received.fill(0);
    const [a, b] = store.dequeue('ns', 'q', 2);
    expect([...a!.payload]).toEqual([10, 20, 30]);
    expect([...b!.payload]).toEqual([10, 20]);
    expect(a!.payload.buffer).not.toBe(received.buffer);
  });

  it('keeps payloads of every size byte-exact: empty, small, larger than a chunk, beyond a quarter megabyte', () => {
    const store = new QueueStore(new ManualClock());
    const sizes = [0, 1, 100, 5_000, 200_000, 300_000, 7];
    sizes.forEach((n, i) => store.enqueue('ns', 'q', new Uint8Array(n).fill(i + 1)));
    const got = store.dequeue('ns', 'q', sizes.length);
    expect(got.map((m) => m.payload.length)).toEqual(sizes);
    expect(got.every((m, i) => m.payload.every((b) => b === i + 1))).toBe(true);
  });

  it('dead-lettered messages keep their bytes after the slab space is reused', () => {
    const store = new QueueStore(new ManualClock());
    const { seq } = store.enqueue('ns', 'q', new Uint8Array([7, 7, 7]));
    store.dequeue('ns', 'q', 1);
    store.nack('ns', 'q', [seq], true);
    for (let i = 0; i < 1000; i++) store.enqueue('ns', 'q', new Uint8Array([i & 0xff]));
    expect([...store.dlqList('ns', 'q', 10)[0]!.payload]).toEqual([7, 7, 7]);
  });

  it('refuses a priority outside 0-255 (a u8 on the wire)', () => {
    const store = new QueueStore(new ManualClock());
    for (const priority of [256, -1, 1.5]) expect(() => store.enqueue('ns', 'q', new Uint8Array(1), { priority })).toThrow(/priority/);
    expect(store.enqueue('ns', 'q', new Uint8Array(1), { priority: 255 }).seq).toBe(1n);
  });
});

describe('QueueStore persisted forms', () => {
  it('save() returns messages as tuples (short for a never-delivered ready one), and load() of those forms rebuilds the same queue', () => {
    const clock = new ManualClock();
    const { persistence, tables } = recorder();
    const store = new QueueStore(clock, { maxAttempts: 5 }, undefined, persistence);
    const t0 = clock.now();
    store.enqueue('ns', 'q', new Uint8Array([1]), { priority: 2 });
    store.enqueue('ns', 'q', new Uint8Array([2]), { delayMs: 60_000 });
    store.enqueue('ns', 'q', new Uint8Array([3]), { dedupKey: new Uint8Array([0xab]) });
    clock.advance(10);
    const [first] = store.dequeue('ns', 'q', 1, 5_000);
    expect(first!.seq).toBe(3n);
    const dead = store.enqueue('ns', 'q', new Uint8Array([4])).seq;
    store.dequeue('ns', 'q', 1);
    store.nack('ns', 'q', [dead], true);

    const msg = tables.get('queue.msg')!;
    // [payload, priority, enqueuedAt, state (0 ready, 1 delayed, 2 leased, 3 dlq), attempts, visibleAt, leaseMs, leaseEnd, dlqOrder]
    expect(msg.save(msgKey(3))).toEqual([new Uint8Array([3]), 0, t0, 2, 1, t0, 5_000, t0 + 5_010, 0]);
    expect(msg.save(msgKey(1))).toEqual([new Uint8Array([1]), 2, t0]);
    expect(msg.save(msgKey(2))).toEqual([new Uint8Array([2]), 0, t0, 1, 0, t0 + 60_000, 0, 0, 0]);
    const deadForm = msg.save(msgKey(dead)) as unknown[];
    expect([...deadForm.slice(0, 5), deadForm[8]]).toEqual([new Uint8Array([4]), 0, t0 + 10, 3, 1, 1]);
    expect(msg.save(msgKey(99))).toBeUndefined();
    expect(tables.get('queue.meta')!.save(JSON.stringify(['ns', 'q']))).toEqual({
      nextSeq: 5n,
      counters: { enqueued: 4, dequeued: 2, acked: 0, nacked: 1, dlqTotal: 1, leasesExpired: 0 },
    });
    expect(tables.get('queue.dedup')!.save(msgKey('ab'))).toEqual({ seq: 3n, until: t0 + 300_000 });

    // A fresh store fed the saved forms (as a restart would) answers the same.
    const again = recorder();
    const copy = new QueueStore(clock, { maxAttempts: 5 }, undefined, again.persistence);
    for (const [name, table] of tables) {
      const keys = name === 'queue.meta' ? [JSON.stringify(['ns', 'q'])] : name === 'queue.dedup' ? [msgKey('ab')] : [1, 2, 3, 4].map(msgKey);
      for (const k of keys) {
        const v = table.save(k);
        if (v !== undefined) again.tables.get(name)!.load(k, v);
      }
    }
    for (const t of again.tables.values()) t.loaded?.();
    for (const seq of [1n, 2n, 3n, 4n]) expect(copy.stateOf('ns', 'q', seq)).toBe(store.stateOf('ns', 'q', seq));
    expect(copy.stats('ns', 'q')).toEqual(store.stats('ns', 'q'));
    expect(copy.enqueue('ns', 'q', new Uint8Array([9]), { dedupKey: new Uint8Array([0xab]) })).toEqual({ seq: 3n, duplicate: true });
    expect(copy.peek('ns', 'q', 10).map((m) => [m.seq, [...m.payload]])).toEqual([[1n, [1]]]);
    clock.advance(5_000);
    expect(copy.dequeue('ns', 'q', 10).map((m) => [m.seq, m.deliveryCount])).toEqual([
      [3n, 2],
      [1n, 1],
    ]);
  });

  it('announces the entity keys it saves by (JSON arrays), across queues and after a queue is removed and made again', () => {
    const { persistence, tables, changed } = recorder();
    const store = new QueueStore(new ManualClock(), {}, undefined, persistence);
    const msg = tables.get('queue.msg')!;
    store.enqueue('ns', 'q', new Uint8Array([1]));
    store.enqueue('ns', 'a"b', new Uint8Array([2]));
    store.enqueue('ns', 'q', new Uint8Array([3]), { dedupKey: new Uint8Array([0x0f]) });
    expect([...changed]).toEqual(
      expect.arrayContaining([`queue.msg ${msgKey(1)}`, `queue.msg ${msgKey(2)}`, `queue.msg ${JSON.stringify(['ns', 'a"b', '1'])}`, `queue.dedup ${JSON.stringify(['ns', 'q', '0f'])}`, `queue.meta ${JSON.stringify(['ns', 'a"b'])}`]),
    );
    expect((msg.save(JSON.stringify(['ns', 'a"b', '1'])) as unknown[])[0]).toEqual(new Uint8Array([2]));
    expect((msg.save(msgKey(2)) as unknown[])[0]).toEqual(new Uint8Array([3]));
    expect(msg.save(msgKey('x'))).toBeUndefined();
    expect(tables.get('queue.dedup')!.save(JSON.stringify(['ns', 'q', '0f']))).toMatchObject({ seq: 2n });
    // A rolled-back creation removes the queue: a queue made again under the name is the one saved.
    const other = JSON.stringify(['ns', 'a"b', '1']);
    expect((msg.save(other) as unknown[])[0]).toEqual(new Uint8Array([2])); // the last queue saved from
    msg.load(other, undefined);
    tables.get('queue.meta')!.load(JSON.stringify(['ns', 'a"b']), undefined);
    expect(msg.save(other)).toBeUndefined();
    store.enqueue('ns', 'a"b', new Uint8Array([9]));
    expect((msg.save(other) as unknown[])[0]).toEqual(new Uint8Array([9]));
  });

  it('load() takes the object form earlier versions saved (field names, bigint seq)', () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const { persistence, tables } = recorder();
    const store = new QueueStore(clock, { maxAttempts: 5 }, undefined, persistence);
    const msg = tables.get('queue.msg')!;
    const legacy = (seq: number, state: string, more: object) => ({
      seq: BigInt(seq), payload: new Uint8Array([seq]), priority: 0, enqueuedAt: t0, state, attempts: 0, visibleAt: t0, leaseMs: 0, leaseEnd: 0, dlqOrder: 0, ...more,
    });
    msg.load(msgKey(1), legacy(1, 'ready', { priority: 4 }));
    msg.load(msgKey(2), legacy(2, 'delayed', { visibleAt: t0 + 1_000 }));
    msg.load(msgKey(3), legacy(3, 'leased', { attempts: 2, leaseMs: 500, leaseEnd: t0 + 500 }));
    msg.load(msgKey(4), legacy(4, 'dlq', { attempts: 5, dlqOrder: 1 }));
    tables.get('queue.meta')!.load(JSON.stringify(['ns', 'q']), { nextSeq: 5n, counters: { enqueued: 4, dequeued: 7, acked: 0, nacked: 0, dlqTotal: 1, leasesExpired: 4 } });
    for (const t of tables.values()) t.loaded?.();
    expect([1n, 2n, 3n, 4n].map((s) => store.stateOf('ns', 'q', s))).toEqual(['ready', 'delayed', 'leased', 'dlq']);
    expect(msg.save(msgKey(3))).toEqual([new Uint8Array([3]), 0, t0, 2, 2, t0, 500, t0 + 500, 0]);
    expect(msg.save(msgKey(1))).toEqual([new Uint8Array([1]), 4, t0]);
    clock.advance(1_000);
    expect(store.dequeue('ns', 'q', 10).map((m) => [m.seq, m.deliveryCount])).toEqual([
      [2n, 1],
      [3n, 3],
      [1n, 1],
    ]);
    expect(store.enqueue('ns', 'q', new Uint8Array([5])).seq).toBe(5n);
  });
});
