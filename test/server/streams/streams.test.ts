import { describe, expect, it } from 'vitest';
import * as P from '../../../src/protocol/index.js';
import { Op, streamId, utf8 } from '../../../src/protocol/index.js';
import { StreamStore } from '../../../src/server/streams/index.js';
import { append, flush, harness, ids, read, text } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);

describe('append and ids', () => {
  it('auto-creates the stream and answers the first id as [seq][ts]', () => {
    const h = harness(T0);
    expect(append(h, 's', 'a')).toEqual(streamId(T0, 0));
    expect(append(h, 's', 'b')).toEqual(streamId(T0, 1));
    h.clock.advance(5);
    expect(append(h, 's', 'c')).toEqual(streamId(T0 + 5, 0));
    expect(read(h, { stream: 's' }).map(text)).toEqual(['a', 'b', 'c']);
  });

  it('stays strictly increasing when the clock goes backwards', () => {
    // ManualClock only moves forward: drive the store with a clock we can step back.
    const clock = { t: T0 + 1000 };
    const store = new StreamStore({ now: () => clock.t });
    const a = store.append('ns', 's', [{ payload: utf8('a'), headers: [] }], 0);
    clock.t -= 500;
    const b = store.append('ns', 's', [{ payload: utf8('b'), headers: [] }], 0);
    clock.t += 200;
    const c = store.append('ns', 's', [{ payload: utf8('c'), headers: [] }], 0);
    expect([a, b, c]).toEqual([streamId(T0 + 1000, 0), streamId(T0 + 1000, 1), streamId(T0 + 1000, 2)]);
    clock.t = T0 + 2000;
    expect(store.append('ns', 's', [{ payload: utf8('d'), headers: [] }], 0)).toEqual(streamId(T0 + 2000, 0));
  });

  it('gives a batch n consecutive ids, stores its headers in order, and the next append continues after it', () => {
    const h = harness(T0);
    const op = P.encodeStreamAppendBatch({
      stream: 's',
      records: [
        { payload: utf8('x'), headers: [['k', '1'], ['a', '2']] },
        { payload: utf8('y') },
        { payload: utf8('z'), headers: { h: 'v' } },
      ],
    });
    expect(P.decodeStreamAppendReply(h.now(Op.StreamAppend, op).payload!)).toEqual(streamId(T0, 0));
    expect(append(h, 's', 'w')).toEqual(streamId(T0, 3));
    const recs = read(h, { stream: 's' });
    expect(ids(recs)).toEqual([`${T0}-0`, `${T0}-1`, `${T0}-2`, `${T0}-3`]);
    expect(recs[0].headers).toEqual([['k', '1'], ['a', '2']]);
    expect(recs[2].headers).toEqual([['h', 'v']]);
    expect(recs.every((r) => r.stream === 's' && r.tier === 0)).toBe(true);
  });

  it('stores a raw value (the Go SDK append) as one record without headers', () => {
    const h = harness(T0);
    h.now(Op.StreamAppend, { key: utf8('s'), value: utf8('{"event":"login"}') });
    const [r] = read(h, { stream: 's' });
    expect(text(r)).toBe('{"event":"login"}');
    expect(r.headers).toEqual([]);
  });

  it('refuses an empty key, an empty batch, a too-large batch and a partition out of range', () => {
    const h = harness(T0);
    expect(h.fail(Op.StreamAppend, { value: utf8('x') }).serverMessage).toBe('stream name is required');
    expect(h.fail(Op.StreamAppend, { key: utf8('s'), value: new Uint8Array(4) }).status).toBe(3);
    const big = P.encodeStreamAppendBatch({ stream: 's', records: Array.from({ length: 1001 }, () => ({ payload: utf8('x') })) });
    expect(h.fail(Op.StreamAppend, big).status).toBe(3);
    expect(h.fail(Op.StreamAppend, P.encodeStreamAppend({ stream: 's', payload: utf8('x'), partition: 1 })).status).toBe(3);
  });

  it('places records by explicit partition or a stable partition-key hash', () => {
    const h = harness(T0);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 4 }));
    append(h, 's', 'p3', { partition: 3 });
    append(h, 's', 'k1', { partitionKey: 'user-1' });
    append(h, 's', 'k2', { partitionKey: 'user-1' });
    const recs = read(h, { stream: 's' });
    expect(recs[0].partition).toBe(3);
    expect(recs[1].partition).toBe(recs[2].partition);
    expect(read(h, { stream: 's', partition: 3 }).map(text)).toEqual(['p3']);
    expect(read(h, { stream: 's', partitionKey: 'user-1' }).map(text)).toEqual(['k1', 'k2']);
  });

  it('keeps streams apart per namespace', () => {
    const h = harness(T0);
    append(h, 's', 'in-a', {}, 'a');
    append(h, 's', 'in-b', {}, 'b');
    expect(read(h, { stream: 's' }, 'a').map(text)).toEqual(['in-a']);
    expect(read(h, { stream: 's' }, 'b').map(text)).toEqual(['in-b']);
  });
});

describe('read', () => {
  function fill() {
    const h = harness(T0);
    for (let i = 0; i < 5; i++) {
      append(h, 's', `r${i}`);
      h.clock.advance(10);
    }
    return h;
  }

  it('start and end are inclusive (docs/protocol-decisions.md #13); count limits; default 100, cap 1000', () => {
    const h = fill();
    expect(read(h, { stream: 's', start: streamId(T0 + 10, 0) }).map(text)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(read(h, { stream: 's', start: streamId(T0 + 10, 0), end: streamId(T0 + 30, 0) }).map(text)).toEqual(['r1', 'r2', 'r3']);
    expect(read(h, { stream: 's', start: streamId(T0 + 10, 1), count: 2 }).map(text)).toEqual(['r2', 'r3']);
    for (let i = 0; i < 1200; i++) append(h, 'big', 'x');
    expect(read(h, { stream: 'big' })).toHaveLength(100);
    expect(read(h, { stream: 'big', count: 5000 })).toHaveLength(1000);
    expect(read(h, { stream: 'big', count: 0 })).toHaveLength(100);
  });

  it('reads limit (0x05) when count is absent', () => {
    const h = fill();
    const r = h.now(Op.StreamRead, { key: utf8('s'), options: new P.OptionsBuilder().u32(P.Opt.Limit, 2).build() });
    expect(P.decodeStreamRecords(r.payload!).map(text)).toEqual(['r0', 'r1']);
  });

  it('a non-blocking tail read is empty; an unknown stream answers [0:u32]', () => {
    const h = fill();
    expect(P.toHex(h.now(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true })).payload!)).toBe('00000000');
    expect(P.toHex(h.now(Op.StreamRead, P.encodeStreamRead({ stream: 'nope' })).payload!)).toBe('00000000');
    expect(P.toHex(h.now(Op.StreamRead, P.encodeStreamRead({ stream: 'nope', blockMs: 0 })).payload!)).toBe('00000000');
  });

  it('refuses block_ms above 300000 and an empty stream name', () => {
    const h = fill();
    expect(h.fail(Op.StreamRead, P.encodeStreamRead({ stream: 's', blockMs: 300_001 })).status).toBe(3);
    expect(h.fail(Op.StreamRead, P.encodeStreamRead({ stream: '' })).status).toBe(3);
  });
});

describe('blocking read', () => {
  it('answers at once when data exists', async () => {
    const h = harness(T0);
    append(h, 's', 'a');
    const r = await h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', blockMs: 1000 }));
    expect(P.decodeStreamRecords(r.payload!).map(text)).toEqual(['a']);
  });

  it('a parked tail read is woken by an append and gets only the new records', async () => {
    const h = harness(T0);
    append(h, 's', 'old');
    const pending = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }));
    expect(h.sub.waiters.count()).toBe(1);
    h.clock.advance(100);
    append(h, 's', 'new');
    const r = await pending;
    expect(P.decodeStreamRecords(r.payload!).map(text)).toEqual(['new']);
    expect(h.sub.waiters.count()).toBe(0);
  });

  it('times out with OK and 0 bytes', async () => {
    const h = harness(T0);
    const pending = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }));
    h.clock.advance(4999);
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    h.clock.advance(1);
    const r = await pending;
    expect(r.status).toBe(0);
    expect(r.payload!.length).toBe(0);
  });

  it('stays parked when an append does not match its filters (other partition, other stream, past end)', async () => {
    const h = harness(T0);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 2 }));
    const pending = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, partition: 1, blockMs: 5000 }));
    append(h, 's', 'p0', { partition: 0 });
    append(h, 'other', 'x');
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    append(h, 's', 'p1', { partition: 1 });
    expect(P.decodeStreamRecords((await pending).payload!).map(text)).toEqual(['p1']);
  });

  it('a woken start read answers from the position captured when it parked', async () => {
    const h = harness(T0);
    const pending = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', start: streamId(T0 + 50, 0), blockMs: 5000 }));
    append(h, 's', 'early');
    await flush();
    expect(h.sub.waiters.count()).toBe(1);
    h.clock.advance(60);
    append(h, 's', 'late');
    expect(P.decodeStreamRecords((await pending).payload!).map(text)).toEqual(['late']);
  });

  it('several parked readers are all woken by one append', async () => {
    const h = harness(T0);
    const a = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }));
    const b = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', blockMs: 5000 }));
    append(h, 's', 'x');
    expect(P.decodeStreamRecords((await a).payload!).map(text)).toEqual(['x']);
    expect(P.decodeStreamRecords((await b).payload!).map(text)).toEqual(['x']);
  });

  it('gives up when the connection closes', async () => {
    const h = harness(T0);
    const ac = new AbortController();
    const pending = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }), { signal: ac.signal });
    ac.abort();
    expect((await pending).payload!.length).toBe(0);
    expect(h.sub.waiters.count()).toBe(0);
  });

  it('answers OVERLOADED (never an early empty answer) when the waiter cap is reached', async () => {
    const h = harness(T0, { maxWaiters: 1 });
    const first = h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }));
    await expect(h.call(Op.StreamRead, P.encodeStreamRead({ stream: 's', tail: true, blockMs: 5000 }))).rejects.toMatchObject({ status: 10 });
    h.clock.advance(5000);
    await first;
  });
});

describe('info', () => {
  it('reports first/last id, count, bytes, partitions and retention in 76 bytes', () => {
    const h = harness(T0);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 2, retentionCount: 100n, retentionAgeSeconds: 3600n }));
    append(h, 's', 'abc');
    h.clock.advance(1);
    append(h, 's', 'de');
    const r = h.now(Op.StreamInfo, P.encodeStreamInfo({ stream: 's' })).payload!;
    expect(r.length).toBe(76);
    expect(P.decodeStreamInfoReply(r)).toEqual({
      firstId: streamId(T0, 0),
      lastId: streamId(T0 + 1, 0),
      count: 2n,
      bytes: 5n,
      partitionCount: 2,
      retentionAgeSeconds: 3600n,
      retentionCount: 100n,
      retentionBytes: 0n,
    });
  });

  it('an unknown stream (even an empty key) is zeros with partition_count 1, never NOT_FOUND', () => {
    const h = harness(T0);
    for (const stream of ['nope', '']) {
      const info = P.decodeStreamInfoReply(h.now(Op.StreamInfo, P.encodeStreamInfo({ stream })).payload!);
      expect(info).toMatchObject({ count: 0n, bytes: 0n, partitionCount: 1, firstId: P.MIN_STREAM_ID, lastId: P.MIN_STREAM_ID });
    }
  });
});

describe('trim', () => {
  function fill(n = 10) {
    const h = harness(T0);
    for (let i = 0; i < n; i++) {
      append(h, 's', 'x'.repeat(i + 1));
      h.clock.advance(1000);
    }
    return h;
  }
  const trim = (h: ReturnType<typeof harness>, req: Omit<P.StreamTrimRequest, 'stream'>) =>
    P.decodeStreamTrimReply(h.now(Op.StreamTrim, P.encodeStreamTrim({ stream: 's', ...req })).payload!);
  const left = (h: ReturnType<typeof harness>) => read(h, { stream: 's' }).map((r) => r.payload.length);

  it('by count keeps the newest N', () => {
    const h = fill();
    expect(trim(h, { maxLen: 3n })).toEqual({ removed: 7n, firstSeq: 0n });
    expect(left(h)).toEqual([8, 9, 10]);
    expect(trim(h, { maxLen: 5n })).toEqual({ removed: 0n, firstSeq: 0n });
  });

  it('by age removes records older than now - age', () => {
    const h = fill(); // ids at T0 .. T0+9000, now = T0+10000
    expect(trim(h, { maxAgeSeconds: 4n }).removed).toBe(6n);
    expect(left(h)).toEqual([7, 8, 9, 10]);
  });

  it('by bytes removes the oldest until the total fits', () => {
    const h = fill(); // sizes 1..10, total 55
    expect(trim(h, { maxBytes: 20n }).removed).toBe(8n); // 9 + 10 = 19 ≤ 20
    expect(left(h)).toEqual([9, 10]);
  });

  it('before (0x21, exclusive), up to (0x22, inclusive) and a decimal value', () => {
    const h = fill();
    expect(trim(h, { before: streamId(T0 + 2000, 0) }).removed).toBe(2n);
    expect(trim(h, { upTo: streamId(T0 + 4000, 0) }).removed).toBe(3n);
    expect(trim(h, { firstN: 2n }).removed).toBe(2n);
    expect(left(h)).toEqual([8, 9, 10]);
  });

  it('combined bounds remove their union; a dry run removes nothing and reports the count', () => {
    const h = fill();
    // max-len 8 removes 2; max-bytes 40 removes 5 (55 - 15 = 40): the union is 5.
    expect(trim(h, { maxLen: 8n, maxBytes: 40n, dryRun: true })).toEqual({ removed: 5n, firstSeq: 0n });
    expect(left(h)).toHaveLength(10);
    expect(trim(h, { maxLen: 8n, maxBytes: 40n }).removed).toBe(5n);
    expect(left(h)).toEqual([6, 7, 8, 9, 10]);
  });

  it('reports the first remaining sequence', () => {
    const h = harness(T0);
    for (let i = 0; i < 4; i++) append(h, 's', 'x');
    expect(trim(h, { maxLen: 2n })).toEqual({ removed: 2n, firstSeq: 2n });
  });

  it('no bound (even a lone dry run) → BAD_REQUEST "trim offset is required"; an unknown stream → zeros', () => {
    const h = fill();
    expect(h.fail(Op.StreamTrim, P.encodeStreamTrim({ stream: 's' })).serverMessage).toBe('trim offset is required');
    expect(h.fail(Op.StreamTrim, P.encodeStreamTrim({ stream: 's', dryRun: true })).serverMessage).toBe('trim offset is required');
    expect(P.decodeStreamTrimReply(h.now(Op.StreamTrim, P.encodeStreamTrim({ stream: 'nope', maxLen: 1n })).payload!)).toEqual({ removed: 0n, firstSeq: 0n });
  });

  it('does not reset the id generator', () => {
    const h = harness(T0);
    append(h, 's', 'a');
    append(h, 's', 'b');
    trim(h, { maxLen: 0n });
    expect(append(h, 's', 'c')).toEqual(streamId(T0, 2));
  });
});

describe('retention, create, alter, list, delete', () => {
  it('retention count and bytes apply after each append, age before reads', () => {
    const h = harness(T0);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', retentionCount: 3n }));
    for (let i = 0; i < 5; i++) append(h, 's', `r${i}`);
    expect(read(h, { stream: 's' }).map(text)).toEqual(['r2', 'r3', 'r4']);
    h.now(Op.StreamAlter, P.encodeStreamAlter({ stream: 's', retentionAgeSeconds: 10n }));
    h.clock.advance(5000);
    append(h, 's', 'r5');
    h.clock.advance(6000);
    expect(read(h, { stream: 's' }).map(text)).toEqual(['r5']);
    h.now(Op.StreamAlter, P.encodeStreamAlter({ stream: 's', retentionBytes: 4n }));
    append(h, 's', 'abcd');
    expect(read(h, { stream: 's' }).map(text)).toEqual(['abcd']);
  });

  it('create is idempotent and overwrites metadata; it refuses to shrink below a used partition', () => {
    const h = harness(T0);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 3 }));
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 3 }));
    append(h, 's', 'x', { partition: 2 });
    expect(h.fail(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 2 })).status).toBe(3);
    h.now(Op.StreamCreate, P.encodeStreamCreate({ stream: 's', partitionCount: 5 }));
    expect(P.decodeStreamInfoReply(h.now(Op.StreamInfo, P.encodeStreamInfo({ stream: 's' })).payload!).partitionCount).toBe(5);
  });

  it('alter: NOT_FOUND only for a missing stream; zero or absent keeps the old value', () => {
    const h = harness(T0);
    expect(h.fail(Op.StreamAlter, P.encodeStreamAlter({ stream: 's', retentionCount: 1n })).status).toBe(2);
    append(h, 's', 'x');
    h.now(Op.StreamAlter, P.encodeStreamAlter({ stream: 's', retentionCount: 7n }));
    h.now(Op.StreamAlter, P.encodeStreamAlter({ stream: 's', retentionCount: 0n, retentionBytes: 100n }));
    expect(P.decodeStreamInfoReply(h.now(Op.StreamInfo, P.encodeStreamInfo({ stream: 's' })).payload!)).toMatchObject({
      retentionCount: 7n,
      retentionBytes: 100n,
    });
  });

  it('list: names of the namespace sorted, with limit and cursor', () => {
    const h = harness(T0);
    for (const s of ['c', 'a', 'b', 'd']) append(h, s, 'x');
    append(h, 'zz', 'x', {}, 'other');
    const page1 = P.decodeStreamListReply(h.now(Op.StreamList, P.encodeStreamList({ limit: 3 })).payload!);
    expect(page1.streams.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(page1.hasMore).toBe(true);
    const page2 = P.decodeStreamListReply(h.now(Op.StreamList, P.encodeStreamList({ limit: 3, cursor: page1.cursor })).payload!);
    expect(page2).toEqual({ streams: [{ name: 'd', partitionCount: 1 }], hasMore: false, cursor: new Uint8Array(0) });
    expect(P.decodeStreamListReply(h.now(Op.StreamList, P.encodeStreamList()).payload!).streams).toHaveLength(4);
  });

  it('delete (#24): missing is OK, non-empty needs force (else CONFLICT), groups go too', () => {
    const h = harness(T0);
    h.now(Op.StreamDelete, P.encodeStreamDelete({ stream: 'nope' }));
    append(h, 's', 'x');
    h.now(Op.StreamGroupCreate, P.encodeStreamGroupCreate({ stream: 's', group: 'g' }));
    expect(h.fail(Op.StreamDelete, P.encodeStreamDelete({ stream: 's' })).status).toBe(8);
    h.now(Op.StreamDelete, P.encodeStreamDelete({ stream: 's', force: true }));
    expect(read(h, { stream: 's' })).toEqual([]);
    expect(P.decodeStreamListReply(h.now(Op.StreamList, P.encodeStreamList()).payload!).streams).toEqual([]);
    expect(h.fail(Op.StreamGroupInfo, P.encodeStreamGroupInfo({ stream: 's', group: 'g' })).status).toBe(2);
    // A stream trimmed to empty can be deleted without force.
    append(h, 't', 'x');
    h.now(Op.StreamTrim, P.encodeStreamTrim({ stream: 't', maxLen: 0n }));
    h.now(Op.StreamDelete, P.encodeStreamDelete({ stream: 't' }));
  });
});
