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

/** A fetch that answers the n-th request with `replies[n]` and records when each was asked for and how many. */
function scriptedFetch(ts: ReturnType<typeof newScheduler>, replies: readonly Observable<Msg[]>[]) {
  const asked: [at: number, n: number][] = [];
  const fetch = (n: number): Observable<Msg[]> => {
    asked.push([ts.now(), n]);
    return replies[asked.length - 1]!;
  };
  return { asked, fetch };
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

  it('reads ahead: a second request beside the first after a full reply, when the window holds a whole second batch', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectSubscriptions }) => {
      const { channel, msg } = setup(ts, cold);
      const [a, b, c, d, e] = [msg(), msg(), msg(), msg(), msg()];
      const f1 = cold('--(x|)', { x: [a!, b!] });
      const f2 = cold('--(x|)', { x: [c!, d!] });
      const f3 = cold('--(x|)', { x: [e!] });
      const f4 = cold('------');
      const replies = [f1, f2, f3, f4] as Observable<Msg[]>[];
      const { asked, fetch } = scriptedFetch(ts, replies);
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 2,
        maxInFlight: 6,
        fetch,
      });
      const seen: [at: number, id: number][] = [];
      const sub = source.subscribe((m) => seen.push([ts.now(), m.id]));
      ts.schedule(() => sub.unsubscribe(), 8);
      expectSubscriptions(f2.subscriptions).toBe('--^-!');
      expectSubscriptions(f3.subscriptions).toBe('--^-!');
      expectSubscriptions(f4.subscriptions).toBe('----^---!'); // cancelled by the unsubscribe
      ts.flush();
      expect(seen).toEqual([[2, 1], [2, 2], [4, 3], [4, 4], [4, 5]]);
      expect(asked).toEqual([
        [0, 2], // one request: no reply yet says there is a backlog
        [2, 2], // f1 came back full: the next batch...
        [2, 2], // ...and one more beside it (2 unsettled + 4 asked = 6)
        [4, 1], // f3 came back short: one request, for the one free slot
      ]);
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
      let askedOut = 0;
      const fetches: { n: number; at: number; unsettled: number; free: number; alone: boolean }[] = [];
      let supplied = 0;
      const source = leasingSource<Msg>({
        signals: channel,
        batch,
        maxInFlight,
        fetch: (n) => {
          fetches.push({ n, at: ts.now(), unsettled, free: maxInFlight - unsettled - askedOut, alone: fetching === 0 });
          expect(fetching).toBeLessThan(2); // at most two requests at a time
          fetching++;
          askedOut += n;
          const give = Math.min(n, 20 - supplied);
          supplied += give;
          const items = Array.from({ length: give }, () => msg());
          const reply = (give > 0 ? cold('--(x|)', { x: items }) : cold('-'.repeat(200))) as Observable<Msg[]>;
          let open = true;
          const unask = () => {
            if (open) askedOut -= n;
            open = false;
          };
          const end = () => {
            unask();
            fetching--;
          };
          return reply.pipe(tap({ next: unask, complete: end, error: end, unsubscribe: end }));
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
      // Never more than the free slots (unsettled and already asked for count as taken); alone, a
      // request asks for min(batch, free); beside another one only for a whole batch.
      for (const f of fetches) {
        expect(f.n).toBeLessThanOrEqual(f.free);
        expect(f.n).toBe(f.alone ? Math.min(3, f.free) : 3);
      }
      // The exact schedule (work takes 7 frames for even ids, 10 for odd): 3, then 2 once the
      // first answers (beside it only 2 slots were free, not a whole batch); afterwards each request
      // asks for the slots freed while the previous one was out, until a whole batch is free beside
      // a request in flight (frame 47, the last items being worked on).
      expect(fetches.map((f) => [f.at, f.n, f.alone])).toEqual([
        [0, 3, true], [2, 2, true], [9, 1, true], [11, 1, true], [13, 2, true], [15, 1, true], [18, 1, true], [22, 1, true],
        [24, 2, true], [26, 1, true], [30, 1, true], [32, 1, true], [34, 1, true], [36, 1, true], [38, 1, true], [40, 1, true],
        [47, 3, false],
      ]);
      expect(fetches.every((f) => f.n > 0)).toBe(true);
    });
  });

  it('polls again at once after an empty (expired) long-poll while there is room; one poll while replies come back short', () => {
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
      const sizes: number[] = [];
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 4,
        maxInFlight: 8, // room for a second batch, but no reply comes back full
        blockMs: 6, // the empty reply comes at 3 of 6 ms: an expired long-poll, not an early one
        fetch: (n, blockMs) => {
          sizes.push(n);
          blocks.push(blockMs);
          return replies[i++]!;
        },
      });
      expectObservable(source.pipe(map((m) => m.id)), '^-------!').toBe('-----a--', { a: 1 });
      expectSubscriptions(f2.subscriptions).toBe('---^-!');
      expectSubscriptions(f3.subscriptions).toBe('-----^--!');
      ts.flush();
      expect(sizes).toEqual([4, 4, 4]); // [a] came back short: no second request beside f3, though 4 more would fit
      expect(blocks).toEqual([6, 6, 6]);
    });
  });

  it('sends one request at a time while `exclusive` says so', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot }) => {
      const { channel, msg } = setup(ts, cold);
      const [a, b] = [msg(), msg()];
      const replies = [cold('--(x|)', { x: [a, b] }), cold('------'), cold('----')] as Observable<Msg[]>[];
      const { asked, fetch } = scriptedFetch(ts, replies);
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 2,
        maxInFlight: 8,
        exclusive: () => ts.now() < 3, // e.g. until the group is joined
        fetch,
      });
      hot('----a', { a }).pipe(mergeMap((m) => m.lease.ack())).subscribe();
      const sub = source.subscribe();
      ts.schedule(() => sub.unsubscribe(), 6);
      ts.flush();
      // 2: a full reply, room for two more requests, but exclusive: one; 4: a settles, no longer
      // exclusive: the second.
      expect(asked).toEqual([[0, 2], [2, 2], [4, 2]]);
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

  it('a subscriber walking away hands back only the items it has not settled, across batches', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const { channel, settler, msg } = setup(ts, cold);
      const batches = [
        [msg(), msg(), msg()],
        [msg(), msg(), msg()],
      ];
      let fetched = 0;
      const source = leasingSource<Msg>({ signals: channel, batch: 3, maxInFlight: 6, fetch: () => cold('-(x|)', { x: batches[fetched++] ?? [] }) });
      const sub = source.subscribe((m) => {
        if (m.id % 2 === 1) m.lease.ack().subscribe(); // 1, 3, 5 acked; 2, 4, 6 still held
      });
      ts.schedule(() => sub.unsubscribe(), 5);
      ts.flush();
      expect(fetched).toBeGreaterThanOrEqual(2);
      expect(settler.calls.map((c) => [c.op, c.ids])).toEqual([
        ['ack', [1, 3]],
        ['ack', [5]],
        ['nack', [2, 4, 6]],
      ]);
    });
  });

  it('after a lost connection waits for the reconnection, re-joins once, and asks again', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectSubscriptions }) => {
      const { channel, msg } = setup(ts, cold);
      hot('--r--c', { r: 'reconnecting', c: 'connected' } as const).subscribe((s) => channel.stateSubject.next(s));
      hot('-----x').subscribe(() => channel.reconnectedSubject.next());
      const [a, b, c] = [msg(), msg(), msg()];
      const lost = new ConnectionLostError('gone');
      // f1 comes back full, so two requests go out at 1; both are lost with the connection.
      const f1 = cold('-(x|)', { x: [a!, b!] });
      const f2 = cold('--#', undefined, lost);
      const f3 = cold('--#', undefined, lost);
      const f4 = cold('-(x|)', { x: [c!] });
      const f5 = cold('-----');
      const replies = [f1, f2, f3, f4, f5] as Observable<Msg[]>[];
      const { asked, fetch } = scriptedFetch(ts, replies);
      const rejoin = cold('-|');
      const source = leasingSource<Msg>({
        signals: channel,
        batch: 2,
        maxInFlight: 6,
        fetch,
        onReconnect: () => rejoin,
      });
      const seen: [at: number, id: number][] = [];
      const sub = source.subscribe((m) => seen.push([ts.now(), m.id]));
      ts.schedule(() => sub.unsubscribe(), 9);
      expectSubscriptions(rejoin.subscriptions).toBe('-----^!'); // one re-join for both requests
      expectSubscriptions(f4.subscriptions).toBe('------^!');
      expectSubscriptions(f5.subscriptions).toBe('------^--!');
      ts.flush();
      expect(seen).toEqual([[1, 1], [1, 2], [7, 3]]);
      expect(asked).toEqual([[0, 2], [1, 2], [1, 2], [6, 2], [6, 2]]);
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
