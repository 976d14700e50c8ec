import { describe, expect, it } from 'vitest';
import { from, merge, mergeMap, timer } from 'rxjs';
import { SettleCoalescer } from '../src/client/core/coalescer.js';
import { createLease, type Lease } from '../src/client/core/lease.js';
import { ack } from '../src/operators/ack.js';
import { nack } from '../src/operators/nack.js';
import { ConnectionLostError } from '../src/protocol/errors.js';
import { newScheduler, recordingSettler } from './helpers.js';

interface Msg {
  id: number;
  lease: Lease;
}

describe('settle coalescing', () => {
  it('acks requested within one tick go out as ONE request; each caller completes with it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const settler = recordingSettler<number>(ts, () => cold('--|'));
      const coalescer = new SettleCoalescer();
      const acks = [1, 2, 3].map((id) => coalescer.ack(settler, id));
      expectObservable(acks[0]!).toBe('--(v|)', { v: undefined });
      expectObservable(acks[2]!).toBe('--(v|)', { v: undefined });
      expectObservable(coalescer.ack(settler, 4), '---^').toBe('-----(v|)', { v: undefined });
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'ack', ids: [1, 3], at: 0 },
        { op: 'ack', ids: [4], at: 3 },
      ]);
    });
  });

  it('keeps ops, options and settlers apart', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const a = recordingSettler<number>(ts, () => cold('-|'));
      const b = recordingSettler<number>(ts, () => cold('-|'));
      const c = new SettleCoalescer();
      merge(
        c.ack(a, 1),
        c.ack(b, 2),
        c.nack(a, 3),
        c.nack(a, 4, { toDlq: true }),
        c.nack(a, 5),
        c.nack(a, 6, { delayMs: 100 }),
        c.touch(a, 7),
        c.touch(a, 8, { extendMs: 60_000 }),
        c.touch(a, 9),
      ).subscribe();
      ts.flush();
      expect(a.calls).toEqual([
        { op: 'ack', ids: [1], at: 0 },
        { op: 'nack', ids: [3, 5], options: {}, at: 0 },
        { op: 'nack', ids: [4], options: { toDlq: true }, at: 0 },
        { op: 'nack', ids: [6], options: { delayMs: 100 }, at: 0 },
        { op: 'touch', ids: [7, 9], options: {}, at: 0 },
        { op: 'touch', ids: [8], options: { extendMs: 60_000 }, at: 0 },
      ]);
      expect(b.calls).toEqual([{ op: 'ack', ids: [2], at: 0 }]);
    });
  });

  it('a failed request errors every caller of its batch', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const lost = new ConnectionLostError('gone');
      const settler = recordingSettler<number>(ts, () => cold('-#', undefined, lost));
      const c = new SettleCoalescer();
      expectObservable(c.ack(settler, 1)).toBe('-#', undefined, lost);
      expectObservable(c.ack(settler, 2)).toBe('-#', undefined, lost);
    });
  });

  it('splits a batch at the settler\'s maxBatch', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const settler = recordingSettler<number>(ts, () => cold('-|'), 2);
      const c = new SettleCoalescer();
      merge(...[1, 2, 3, 4, 5].map((id) => c.ack(settler, id))).subscribe();
      ts.flush();
      expect(settler.calls.map((x) => x.ids)).toEqual([[1, 2], [3, 4], [5]]);
    });
  });

  it('sends an id once per batch: repeats of a primitive or of the same object, from callers and leases alike', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const settler = recordingSettler<unknown>(ts, () => cold('-|'), 3);
      const c = new SettleCoalescer();
      const x = { ms: 1n, seq: 0n };
      const y = { ms: 2n, seq: 0n };
      const leaseX = createLease(x, settler, { leaseMs: 1000, coalescer: c });
      const leaseY = createLease(y, settler, { leaseMs: 1000, coalescer: c });
      const done: unknown[] = [];
      const track = (name: string) => ({ complete: () => done.push(name) });
      // Tick 1: a lease's object id after the same object from a caller; 7n twice; maxBatch 3
      // counts distinct ids, so the batch [x, 7n, 8n] is full only at 8n.
      c.ack(settler, x).subscribe(track('x by caller'));
      leaseX.ack().subscribe(track('x by lease'));
      c.ack(settler, 7n).subscribe(track('7 first'));
      c.ack(settler, 7n).subscribe(track('7 again'));
      c.ack(settler, 8n).subscribe(track('8'));
      // The batch went out at maxBatch: y starts the next one, then a caller repeats it.
      leaseY.ack().subscribe(track('y by lease'));
      c.ack(settler, y).subscribe(track('y by caller'));
      ts.flush();
      expect(settler.calls.map((call) => call.ids)).toEqual([[x, 7n, 8n], [y]]);
      expect(done.sort()).toEqual(['7 again', '7 first', '8', 'x by caller', 'x by lease', 'y by caller', 'y by lease']);
    });
  });

  it('the ack() operator acks all the items of one tick with one request and passes them on once acked', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const settler = recordingSettler<number>(ts, () => cold('--|'));
      const coalescer = new SettleCoalescer();
      const mk = (id: number): Msg => ({ id, lease: createLease(id, settler, { leaseMs: 1000, coalescer }) });
      const m = { a: mk(1), b: mk(2), c: mk(3), d: mk(4) };
      const items = hot('-(abc)---d-', m);
      expectObservable(items.pipe(ack())).toBe('---(abc)---d-', m);
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'ack', ids: [1, 2, 3], at: 1 },
        { op: 'ack', ids: [4], at: 9 },
      ]);
    });
  });

  it('the nack() operator coalesces nacks with the same options', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const settler = recordingSettler<number>(ts, () => cold('-|'));
      const coalescer = new SettleCoalescer();
      const mk = (id: number): Msg => ({ id, lease: createLease(id, settler, { leaseMs: 1000, coalescer }) });
      const m = { a: mk(1), b: mk(2) };
      expectObservable(hot('-(ab)', m).pipe(nack({ toDlq: true }))).toBe('--(ab)', m);
      ts.flush();
      expect(settler.calls).toEqual([{ op: 'nack', ids: [1, 2], options: { toDlq: true }, at: 1 }]);
    });
  });
});

describe('lease', () => {
  it('settling twice is a no-op: the first settle wins, later calls mirror it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const settler = recordingSettler<number>(ts, () => cold('--|'));
      const lease = createLease(7, settler, { leaseMs: 500, coalescer: new SettleCoalescer() });
      expect(lease.settled).toBe(false);
      const outcomes: string[] = [];
      lease.settled$.subscribe((o) => outcomes.push(o));
      expectObservable(lease.ack()).toBe('--(v|)', { v: undefined });
      expectObservable(lease.nack(), '-^').toBe('--(v|)', { v: undefined }); // joins the ack in flight
      expectObservable(lease.ack(), '----^').toBe('----(v|)', { v: undefined }); // already acked: no request
      expectObservable(lease.touch(), '----^').toBe('----(v|)', { v: undefined });
      expectObservable(lease.settled$, '-----^').toBe('-----(a|)', { a: 'acked' }); // replayed
      ts.flush();
      expect(settler.calls).toEqual([{ op: 'ack', ids: [7], at: 0 }]);
      expect(lease.settled).toBe(true);
      expect(lease.outcome).toBe('acked');
      expect(outcomes).toEqual(['acked']);
    });
  });

  it('is released when the settle is requested; a failed request can be retried', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const lost = new ConnectionLostError('gone');
      let n = 0;
      const settler = recordingSettler<number>(ts, () => (n++ === 0 ? cold('-#', undefined, lost) : cold('-|')));
      const lease = createLease(9, settler, { leaseMs: 500, coalescer: new SettleCoalescer() });
      expectObservable(lease.nack({ delayMs: 5 })).toBe('-#', undefined, lost);
      expectObservable(lease.settled$).toBe('(n|)', { n: 'nacked' });
      expectObservable(lease.ack(), '---^').toBe('----(v|)', { v: undefined }); // resends the first op
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'nack', ids: [9], options: { delayMs: 5 }, at: 0 },
        { op: 'nack', ids: [9], options: { delayMs: 5 }, at: 3 },
      ]);
    });
  });

  it('a settle is not cancelled when its subscriber leaves before the tick ends', () => {
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const settler = recordingSettler<number>(ts, () => cold('-|'));
      const lease = createLease(1, settler, { leaseMs: 500, coalescer: new SettleCoalescer() });
      lease.ack().subscribe().unsubscribe();
      ts.flush();
      expect(settler.calls).toEqual([{ op: 'ack', ids: [1], at: 0 }]);
    });
  });

  it('a tick is one callback: acks from one callback coalesce, acks from two timer callbacks of the same frame do not', () => {
    // Like Node, where microtasks (the asap flush) run between two timer callbacks due at the same time.
    const ts = newScheduler();
    ts.run(({ cold }) => {
      const settler = recordingSettler<number>(ts, () => cold('-|'));
      const coalescer = new SettleCoalescer();
      const msgs = [1, 2, 3, 4].map((id) => ({ id, lease: createLease(id, settler, { leaseMs: 100, coalescer }) }));
      // 1 and 2 finish in one callback at frame 5; 3 and 4 in two separate callbacks at frame 8.
      timer(5).pipe(mergeMap(() => merge(msgs[0]!.lease.ack(), msgs[1]!.lease.ack()))).subscribe();
      from(msgs.slice(2)).pipe(mergeMap((m) => timer(8).pipe(mergeMap(() => m.lease.ack())))).subscribe();
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'ack', ids: [1, 2], at: 5 },
        { op: 'ack', ids: [3], at: 8 },
        { op: 'ack', ids: [4], at: 8 },
      ]);
    });
  });
});
