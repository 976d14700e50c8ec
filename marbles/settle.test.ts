import { describe, expect, it } from 'vitest';
import { map, type Observable } from 'rxjs';
import { SettleCoalescer } from '../src/client/core/coalescer.js';
import { createLease, type Lease } from '../src/client/core/lease.js';
import { settle, type SettleResult } from '../src/operators/settle.js';
import { HandlerTimeoutError } from '../src/operators/types.js';
import { ConnectionLostError } from '../src/protocol/errors.js';
import { newScheduler, recordingSettler } from './helpers.js';

interface Msg {
  id: string;
  lease: Lease;
}

type Ts = ReturnType<typeof newScheduler>;
function items(ts: Ts, answer: () => Observable<unknown>, ids: string[], deliveryCount?: number) {
  const settler = recordingSettler<string>(ts, answer);
  const coalescer = new SettleCoalescer();
  const m: Record<string, Msg> = {};
  for (const id of ids) {
    m[id] = { id, lease: createLease(id, settler, { leaseMs: 10, coalescer, ...(deliveryCount !== undefined ? { deliveryCount } : {}) }) };
  }
  return { settler, m };
}

const brief = (r: SettleResult<Msg, unknown>) =>
  `${r.item.id}:${r.outcome}${r.result !== undefined ? `=${String(r.result)}` : ''}${r.error !== undefined ? `!${(r.error as Error).message}` : ''}`;

describe('settle', () => {
  it('acks on success, nacks on error, and keeps going', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { settler, m } = items(ts, () => cold('-|'), ['a', 'b', 'c', 'd']);
      const handlers: Record<string, () => unknown> = {
        a: () => cold('--y-(x|)', { y: 'first', x: 'A' }), // Observable: its last value is the result
        b: () => {
          throw new Error('bad b');
        },
        c: () => cold('-#', undefined, new Error('bad c')),
        d: () => 'D', // a plain value
      };
      const src = hot('-a-b-c---d', m);
      const out = src.pipe(settle((msg: Msg) => handlers[msg.id]!(), { concurrency: 4 }), map(brief));
      expectObservable(out).toBe('----b-ac--d', {
        a: 'a:acked=A',
        b: 'b:nacked!bad b',
        c: 'c:nacked!bad c',
        d: 'd:acked=D',
      });
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'nack', ids: ['b'], options: {}, at: 3 },
        { op: 'ack', ids: ['a'], at: 5 },
        { op: 'nack', ids: ['c'], options: {}, at: 6 },
        { op: 'ack', ids: ['d'], at: 9 },
      ]);
    });
  });

  it('runs at most `concurrency` handlers at once', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { m } = items(ts, () => cold('|'), ['a', 'b', 'c']);
      const work = { a: cold('---(x|)'), b: cold('-----(x|)'), c: cold('-(x|)') };
      const out = hot('(abc)', m).pipe(
        settle((msg: Msg) => work[msg.id as 'a' | 'b' | 'c'], { concurrency: 2 }),
        map((r) => r.item.id),
      );
      expectObservable(out).toBe('---acb', { a: 'a', b: 'b', c: 'c' });
      expectSubscriptions(work.a.subscriptions).toBe('^--!');
      expectSubscriptions(work.b.subscriptions).toBe('^----!');
      expectSubscriptions(work.c.subscriptions).toBe('---^!'); // starts when a is done
    });
  });

  it('frees a handler slot when the handler ends, not when its ack reply comes back', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { settler, m } = items(ts, () => cold('-----|'), ['a', 'b']); // each ack answered 5 frames later
      const work = { a: cold('--(x|)'), b: cold('--(x|)') };
      const out = hot('(ab)', m).pipe(
        settle((msg: Msg) => work[msg.id as 'a' | 'b'], { concurrency: 1 }),
        map((r) => r.item.id),
      );
      expectObservable(out).toBe('-------a-b', { a: 'a', b: 'b' });
      expectSubscriptions(work.b.subscriptions).toBe('--^-!'); // starts as a's handler ends, its ack in flight
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'ack', ids: ['a'], at: 2 },
        { op: 'ack', ids: ['b'], at: 4 },
      ]);
    });
  });

  it('nacks a handler that outlives timeoutMs, and unsubscribes it', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { settler, m } = items(ts, () => cold('|'), ['a']);
      const slow = cold('------(x|)');
      const out = hot('a', m).pipe(settle(() => slow, { timeoutMs: 4, nackDelayMs: 250 }));
      expectObservable(out).toBe('----r', {
        r: { item: m.a, outcome: 'nacked', error: new HandlerTimeoutError(4) },
      });
      expectSubscriptions(slow.subscriptions).toBe('^---!');
      ts.flush();
      expect(settler.calls).toEqual([{ op: 'nack', ids: ['a'], options: { delayMs: 250 }, at: 4 }]);
    });
  });

  it('nacks to the DLQ once the delivery count reaches toDlqAfter', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot }) => {
      const early = items(ts, () => cold('|'), ['a'], 4);
      const last = items(ts, () => cold('|'), ['b'], 5);
      const unknown = items(ts, () => cold('|'), ['c']);
      const fail = () => {
        throw new Error('nope');
      };
      hot('a', early.m).pipe(settle(fail, { toDlqAfter: 5 })).subscribe();
      hot('b', last.m).pipe(settle(fail, { toDlqAfter: 5 })).subscribe();
      hot('c', unknown.m).pipe(settle(fail, { toDlqAfter: 1 })).subscribe();
      ts.flush();
      expect(early.settler.calls).toEqual([{ op: 'nack', ids: ['a'], options: {}, at: 0 }]);
      expect(last.settler.calls).toEqual([{ op: 'nack', ids: ['b'], options: { toDlq: true }, at: 0 }]);
      expect(unknown.settler.calls).toEqual([{ op: 'nack', ids: ['c'], options: {}, at: 0 }]);
    });
  });

  it('reports a failed ack as settleError and keeps the pipeline alive', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const lost = new ConnectionLostError('gone');
      let n = 0;
      const { m } = items(ts, () => (n++ === 0 ? cold('-#', undefined, lost) : cold('-|')), ['a', 'b']);
      const out = hot('a--b', m).pipe(settle((x: Msg) => x.id.toUpperCase()));
      expectObservable(out).toBe('-a--b', {
        a: { item: m.a, outcome: 'acked', result: 'A', settleError: lost },
        b: { item: m.b, outcome: 'acked', result: 'B' },
      });
    });
  });

  it('with renewLease touches the lease while the handler runs and stops at the settle', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const { settler, m } = items(ts, () => cold('|'), ['a']); // leaseMs 10
      const work = cold('-------------(x|)'); // 13 frames
      const out = hot('a', m).pipe(settle(() => work, { renewLease: true }), map((r) => r.outcome));
      expectObservable(out).toBe('-------------a', { a: 'acked' });
      ts.flush();
      expect(settler.calls).toEqual([
        { op: 'touch', ids: ['a'], options: {}, at: 5 },
        { op: 'touch', ids: ['a'], options: {}, at: 10 },
        { op: 'ack', ids: ['a'], at: 13 },
      ]);
    });
  });

  it('stops handlers and touches on unsubscribe', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const { settler, m } = items(ts, () => cold('|'), ['a']);
      const work = cold('-' + '-'.repeat(40));
      expectObservable(hot('a', m).pipe(settle(() => work, { renewLease: { fraction: 0.3 } })), '^------!').toBe('-');
      expectSubscriptions(work.subscriptions).toBe('^------!');
      ts.flush();
      expect(settler.calls.map((c) => [c.op, c.at])).toEqual([['touch', 3], ['touch', 6]]);
    });
  });
});
