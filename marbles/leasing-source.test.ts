import { describe, expect, it } from 'vitest';
import { concatMap, map, mergeMap, take, tap, timer, type Observable } from 'rxjs';
import { SettleCoalescer } from '../src/client/core/coalescer.js';
import { createLease, type Lease } from '../src/client/core/lease.js';
import { leasingSource } from '../src/client/core/leasing-source.js';
import { ConnectionLostError, InvalidArgumentError } from '../src/protocol/errors.js';
import { fakeChannel, newScheduler, recordingSettler } from './helpers.js';

interface Msg {
  id: number;
  lease: Lease;
}

function setup(ts: ReturnType<typeof newScheduler>, cold: (m: string) => Observable<unknown>) {
  const channel = fakeChannel(ts, () => ({}) as never);
  const settler = recordingSettler<number>(ts, () => cold('-|'));
  const coalescer = new SettleCoalescer();
  let next = 1;
  const msg = (): Msg => {
    const id = next++;
    return { id, lease: createLease(id, settler, { leaseMs: 30_000, coalescer }) };
  };
  return { channel, settler, msg };
}

describe('leasingSource', () => {
  it('asks for min(batch, maxInFlight - unsettled) and asks again only as items settle', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { channel, msg } = setup(ts, cold);
      const [a, b, c] = [msg(), msg(), msg()];
      const f1 = cold('-(x|)', { x: [a!, b!] });
      const f2 = cold('--(x|)', { x: [c!] });
      const f3 = cold('------');
      const replies = [f1, f2, f3] as Observable<Msg[]>[];
      const sizes: number[] = [];
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 2,
        maxInFlight: 2,
        fetch: (n) => {
          sizes.push(n);
          return replies[sizes.length - 1]!;
        },
      });
      // The consumer acks a at frame 5 and b at frame 10.
      hot('-----a----b', { a: a!, b: b! })
        .pipe(mergeMap((m) => m.lease.ack()))
        .subscribe();
      expectObservable(source.pipe(map((m) => m.id)), '^-----------!').toBe('-(ab)--c-----', { a: 1, b: 2, c: 3 });
      expectSubscriptions(f1.subscriptions).toBe('^!');
      expectSubscriptions(f2.subscriptions).toBe('-----^-!');
      expectSubscriptions(f3.subscriptions).toBe('----------^-!'); // the unsubscribe cancels the long-poll
      ts.flush();
      expect(sizes).toEqual([2, 1, 1]);
    });
  });

  it('with mergeMap(work, 5) downstream never holds more than maxInFlight unsettled items', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const { channel, msg } = setup(ts, cold);
      const maxInFlight = 5;
      const batch = 3;
      let unsettled = 0;
      let maxSeen = 0;
      let fetching = 0;
      const fetches: { n: number; at: number; unsettled: number }[] = [];
      let supplied = 0;
      const source = leasingSource<Msg>({
        signals: channel,
        batch,
        maxInFlight,
        fetch: (n) => {
          fetches.push({ n, at: ts.now(), unsettled });
          expect(fetching).toBe(0); // one request at a time
          fetching++;
          const give = Math.min(n, 20 - supplied);
          supplied += give;
          const items = Array.from({ length: give }, () => msg());
          const reply = (give > 0 ? cold('--(x|)', { x: items }) : cold('-'.repeat(200))) as Observable<Msg[]>;
          const end = () => fetching--;
          return reply.pipe(tap({ complete: end, error: end, unsubscribe: end }));
        },
      });
      const done: number[] = [];
      source
        .pipe(
          tap((m) => {
            unsettled++;
            maxSeen = Math.max(maxSeen, unsettled);
            m.lease.settled$.subscribe(() => unsettled--);
          }),
          mergeMap((m) => timer(m.id % 2 === 0 ? 7 : 10).pipe(concatMap(() => m.lease.ack()), map(() => m.id)), 5),
          take(20),
        )
        .subscribe((id) => done.push(id));
      ts.flush();
      expect(done.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(maxSeen).toBe(maxInFlight);
      for (const f of fetches) expect(f.n).toBe(Math.min(batch, maxInFlight - f.unsettled));
      // The exact schedule: 3 then 2 fill the window; afterwards each request asks for exactly the
      // slots freed while the previous one was out (work takes 7 frames for even ids, 10 for odd).
      expect(fetches.map((f) => [f.at, f.n])).toEqual([
        [0, 3], [2, 2], [9, 1], [11, 1], [13, 2], [15, 1], [18, 1], [22, 1],
        [24, 2], [26, 1], [30, 1], [32, 1], [34, 1], [36, 1], [38, 1], [40, 1],
      ]);
      expect(fetches.every((f) => f.n > 0)).toBe(true);
    });
  });

  it('polls again at once after an empty (expired) long-poll while there is room', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const { channel, msg } = setup(ts, cold);
      const a = msg();
      const f1 = cold('---(x|)', { x: [] as Msg[] });
      const f2 = cold('--(x|)', { x: [a] });
      const f3 = cold('-----');
      const replies = [f1, f2, f3] as Observable<Msg[]>[];
      let i = 0;
      const blocks: number[] = [];
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 4,
        blockMs: 6, // the empty reply comes at 3 of 6 ms: an expired long-poll, not an early one
        fetch: (_n, blockMs) => {
          blocks.push(blockMs);
          return replies[i++]!;
        },
      });
      expectObservable(source.pipe(map((m) => m.id)), '^-------!').toBe('-----a--', { a: 1 });
      expectSubscriptions(f2.subscriptions).toBe('---^-!');
      expectSubscriptions(f3.subscriptions).toBe('-----^--!');
      ts.flush();
      expect(blocks).toEqual([6, 6, 6]);
    });
  });

  it('backs off (growing, jittered) when long-polls come back empty early, instead of looping', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const { channel } = setup(ts, cold);
      let sent = 0;
      const source = leasingSource<Msg>({
        signals: channel,
        blockMs: 30_000,
        fetch: () => {
          sent++;
          return cold('-(x|)', { x: [] as Msg[] }); // a server answering "nothing" after 1 ms
        },
      });
      const sub = source.subscribe();
      ts.schedule(() => sub.unsubscribe(), 10_000);
      ts.flush();
      // Without backoff: ~10,000 requests in 10 s. With it: pauses of 25-50, 50-100, ... up to 5 s.
      expect(sent).toBeGreaterThan(3);
      expect(sent).toBeLessThan(20);
    });
  });

  it('hands back (nacks at once) the items of a batch the subscriber left before seeing', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { channel, settler, msg } = setup(ts, cold);
      const items = [msg(), msg(), msg()];
      const source = leasingSource<Msg>({ signals: channel, batch: 3, fetch: () => cold('-(x|)', { x: items }) });
      expectObservable(source.pipe(take(1), map((m) => m.id))).toBe('-(a|)', { a: 1 });
      ts.flush();
      expect(settler.calls).toEqual([{ op: 'nack', ids: [2, 3], options: {}, at: 1 }]);
      expect(items[0]!.lease.settled).toBe(false);
    });
  });

  it('after a lost connection waits for the reconnection, re-joins, and asks again', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { channel, msg } = setup(ts, cold);
      hot('-r---c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => channel.stateSubject.next(s));
      hot('-----x').subscribe(() => channel.reconnectedSubject.next());
      const a = msg();
      const f1 = cold('--#', undefined, new ConnectionLostError('gone'));
      const f2 = cold('-(x|)', { x: [a] });
      const f3 = cold('-----');
      const replies = [f1, f2, f3] as Observable<Msg[]>[];
      const sizes: number[] = [];
      const rejoin = cold('-|');
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 2,
        fetch: (n) => {
          sizes.push(n);
          return replies[sizes.length - 1]!;
        },
        onReconnect: () => rejoin,
      });
      expectObservable(source.pipe(map((m) => m.id)), '^--------!').toBe('-------a-', { a: 1 });
      expectSubscriptions(rejoin.subscriptions).toBe('-----^!');
      expectSubscriptions(f2.subscriptions).toBe('------^!');
      ts.flush();
      expect(sizes).toEqual([2, 2, 1]);
    });
  });

  it('refuses bad sizes and block times on subscribe', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const { channel } = setup(ts, cold);
      const fetch = () => cold('-') as Observable<Msg[]>;
      expectObservable(leasingSource<Msg>({ signals: channel, fetch, maxInFlight: 0 })).toBe(
        '#',
        undefined,
        new InvalidArgumentError('maxInFlight must be a positive integer, got 0'),
      );
      expectObservable(leasingSource<Msg>({ signals: channel, fetch, blockMs: 0 })).toBe(
        '#',
        undefined,
        new InvalidArgumentError(
          'blockMs must be an integer from 1 to 300000 ms, got 0 (0 is never sent to mean "wait forever": infinite reads loop over finite long-polls)',
        ),
      );
    });
  });
});
