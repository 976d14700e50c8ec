import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { BadRequestError, InvalidArgumentError } from '../../../src/protocol/errors.js';
import { compareStreamIds, formatStreamId, streamId } from '../../../src/protocol/stream.js';
import { successorId } from '../../../src/client/stream-cursor.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ids, recordedClient, text } from './helpers.js';

let env: Embedded;
beforeEach(async () => {
  env = await startEmbedded();
});
afterEach(async () => {
  await env.close();
});

const all = <T>(o: import('rxjs').Observable<T>) => lastValueFrom(o.pipe(toArray()));

describe('stream.append / read: the seed snippets', () => {
  it('quick start: append a JSON event, read it back', async () => {
    const flo = env.client;
    // client.Stream.Append("events", []byte(`{"event":"login"}`), nil)
    const id = await firstValueFrom(flo.stream.append('events', { event: 'login' }));
    // records, _ := client.Stream.Read("events", nil)
    const records = await all(flo.stream.read('events'));
    expect(records).toHaveLength(1);
    expect(records[0]!.id).toEqual(id);
    expect(text(records[0]!.payload)).toBe('{"event":"login"}');
    expect(records[0]!.data<{ event: string }>()).toEqual({ event: 'login' });
  });

  it('append with headers; the record fields (Stream, Payload, Headers, ID)', async () => {
    const flo = env.client;
    await firstValueFrom(flo.stream.append('events', '{"event":"click"}'));
    await firstValueFrom(
      flo.stream.append('events', '{"event":"click"}', { headers: { 'content-type': 'application/json', source: 'web' } }),
    );
    const [plain, withHeaders] = await all(flo.stream.read('events'));
    expect(plain!.stream).toBe('events');
    expect(plain!.headers).toEqual({});
    expect(withHeaders!.stream).toBe('events');
    expect(text(withHeaders!.payload)).toBe('{"event":"click"}');
    expect(withHeaders!.headers).toEqual({ 'content-type': 'application/json', source: 'web' });
    expect(compareStreamIds(plain!.id, withHeaders!.id)).toBeLessThan(0);
    expect(withHeaders!.partition).toBe(0);
  });

  it('headers round trip in insertion order, over a batch frame (docs/protocol-decisions.md #2)', async () => {
    const r = recordedClient(env);
    const headers = { zeta: '1', alpha: '2', 'x-trace': 'abc', empty: '' };
    await firstValueFrom(r.client.stream.append('h', new Uint8Array([1, 2, 3]), { headers }));
    const [rec] = await all(r.client.stream.read('h'));
    expect(Object.keys(rec!.headers)).toEqual(['zeta', 'alpha', 'x-trace', 'empty']);
    expect(rec!.headers).toEqual(headers);
    expect([...rec!.payload]).toEqual([1, 2, 3]);
    // the value on the wire is a batch of one: [1:u32][3:u32][01 02 03][4:u16]...
    const append = r.requests().find((q) => q.opcode === 0x130)!;
    expect([...append.body.value.subarray(0, 4)]).toEqual([1, 0, 0, 0]);
    expect([...append.body.value.subarray(4, 11)]).toEqual([3, 0, 0, 0, 1, 2, 3]);
    expect([...append.body.value.subarray(11, 13)]).toEqual([4, 0]);
  });

  it('append ids increase; per-call namespace isolates', async () => {
    const flo = env.client;
    const a = await firstValueFrom(flo.stream.append('s', 'a'));
    const b = await firstValueFrom(flo.stream.append('s', 'b'));
    await firstValueFrom(flo.stream.append('s', 'other', { namespace: 'elsewhere' }));
    expect(compareStreamIds(a, b)).toBeLessThan(0);
    expect((await all(flo.stream.read('s'))).map((r) => text(r.payload))).toEqual(['a', 'b']);
    expect((await all(flo.stream.read('s', { namespace: 'elsewhere' }))).map((r) => text(r.payload))).toEqual(['other']);
  });

  it('is cold: nothing is appended until subscription, twice when subscribed twice', async () => {
    const flo = env.client;
    const append$ = flo.stream.append('cold', 'x');
    expect((await firstValueFrom(flo.stream.info('cold'))).count).toBe(0n);
    await firstValueFrom(append$);
    await firstValueFrom(append$);
    expect((await firstValueFrom(flo.stream.info('cold'))).count).toBe(2n);
  });
});

describe('stream.read paging', () => {
  async function seven(flo = env.client) {
    const out = [];
    for (let i = 1; i <= 7; i++) out.push(await firstValueFrom(flo.stream.append('p', `r${i}`)));
    return out;
  }

  it('pageSize 2 over 7 records: every record once, in order, resuming each page from the last id', async () => {
    const appended = await seven();
    const r = recordedClient(env);
    const records = await all(r.client.stream.read('p', { pageSize: 2 }));
    expect(records.map((x) => text(x.payload))).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    expect(ids(records)).toEqual(appended.map(formatStreamId));
    const reads = r.reads();
    // page 1 from the beginning; page 2 from r2 (inclusive: r2 comes back and is dropped), one slot
    // more for it; the server showed it reads start inclusively, so later pages start right after
    // the last id; the short page ends the read.
    expect(reads.map((q) => [q.start && formatStreamId(q.start), q.count])).toEqual([
      [undefined, 2],
      [formatStreamId(appended[1]!), 3],
      [formatStreamId(successorId(appended[3]!)), 2],
      [formatStreamId(successorId(appended[5]!)), 2],
    ]);
    expect(reads.every((q) => q.blockMs === undefined && !q.tail)).toBe(true);
  });

  it('take(n) fetches only the pages needed', async () => {
    await seven();
    const r = recordedClient(env);
    const first3 = await all(r.client.stream.read('p', { pageSize: 2 }).pipe(take(3)));
    expect(first3.map((x) => text(x.payload))).toEqual(['r1', 'r2', 'r3']);
    expect(r.reads()).toHaveLength(2);
    const first2 = await all(r.client.stream.read('p', { pageSize: 2 }).pipe(take(2)));
    expect(first2).toHaveLength(2);
    expect(r.reads()).toHaveLength(3);
  });

  it('from and to are inclusive; stops at to', async () => {
    const a = await seven();
    const r = recordedClient(env);
    const mid = await all(r.client.stream.read('p', { from: a[2], to: a[4], pageSize: 2 }));
    expect(mid.map((x) => text(x.payload))).toEqual(['r3', 'r4', 'r5']);
    expect(r.reads().every((q) => q.end && formatStreamId(q.end) === formatStreamId(a[4]!))).toBe(true);
    expect(await all(r.client.stream.read('p', { from: a[4], to: a[2] }))).toEqual([]);
    expect((await all(r.client.stream.read('p', { from: 'start', to: a[0] }))).map((x) => text(x.payload))).toEqual(['r1']);
  });

  it('a read resumes from its last id when the socket drops between pages', async () => {
    await seven();
    const r = recordedClient(env);
    let reconnects = 0;
    r.client.core.channel.reconnected$.subscribe(() => reconnects++);
    const records = await all(
      r.client.stream.read('p', { pageSize: 2 }).pipe(
        tap((x) => {
          if (text(x.payload) === 'r4') r.dropSocket();
        }),
      ),
    );
    expect(records.map((x) => text(x.payload))).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    expect(reconnects).toBe(1);
  });

  it('pageSize 1 still moves; an unknown stream reads empty; bad page sizes are refused', async () => {
    await seven();
    expect(await all(env.client.stream.read('p', { pageSize: 1 }))).toHaveLength(7);
    expect(await all(env.client.stream.read('nothing-here'))).toEqual([]);
    await expect(all(env.client.stream.read('p', { pageSize: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(all(env.client.stream.read('p', { pageSize: 1001 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('stream.info / trim', () => {
  it('info reports first and last ids and the count; an unknown stream is zeros', async () => {
    const flo = env.client;
    const a = await firstValueFrom(flo.stream.append('i', 'x'));
    const b = await firstValueFrom(flo.stream.append('i', 'yy'));
    const info = await firstValueFrom(flo.stream.info('i'));
    expect(info.firstId).toEqual(a);
    expect(info.lastId).toEqual(b);
    expect(info.count).toBe(2n);
    expect(info.bytes).toBe(3n);
    expect(info.partitionCount).toBe(1);
    const none = await firstValueFrom(flo.stream.info('unknown'));
    expect(none.count).toBe(0n);
    expect(none.lastId).toEqual(streamId(0, 0));
  });

  it('trim by maxLen (dry run first), and without a bound is a BadRequestError', async () => {
    const flo = env.client;
    for (let i = 0; i < 5; i++) await firstValueFrom(flo.stream.append('t', `r${i}`));
    const dry = await firstValueFrom(flo.stream.trim('t', { maxLen: 2, dryRun: true }));
    expect(dry.removed).toBe(3n);
    expect((await firstValueFrom(flo.stream.info('t'))).count).toBe(5n);
    const done = await firstValueFrom(flo.stream.trim('t', { maxLen: 2n }));
    expect(done.removed).toBe(3n);
    expect((await all(flo.stream.read('t'))).map((r) => text(r.payload))).toEqual(['r3', 'r4']);
    await expect(firstValueFrom(flo.stream.trim('t'))).rejects.toBeInstanceOf(BadRequestError);
    await expect(firstValueFrom(flo.stream.trim('t', { maxLen: -1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
