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

  describe('its concurrency stage (one subscriber for every handler)', () => {
    it('never runs more than `concurrency` handlers; the waiting ones start in arrival order as slots free', () => {
      const ts = newScheduler();
      ts.run(({ cold, hot, expectObservable }) => {
        const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
        const { m } = items(ts, () => cold('|'), ids);
        let running = 0;
        let most = 0;
        const started: string[] = [];
        const lengths: Record<string, string> = { a: '----', b: '--', c: '---', d: '---', e: '-', f: '--' };
        const handler = (msg: Msg) => {
          started.push(msg.id);
          running++;
          most = Math.max(most, running);
          return cold(lengths[msg.id]! + '(x|)').pipe(
            map((x) => {
              running--;
              return x;
            }),
          );
        };
        const out = hot('(abcdef)', m).pipe(settle(handler, { concurrency: 2 }), map((r) => r.item.id));
        // a runs 0→4, b 0→2; then c 2→5, d 4→7, e 5→6, f 6→8
        expectObservable(out).toBe('--b-acedf', Object.fromEntries(ids.map((id) => [id, id])));
        ts.flush();
        expect(most).toBe(2);
        expect(started).toEqual(ids);
      });
    });

    it('completes only after the source has and every settle has been answered', () => {
      const ts = newScheduler();
      ts.run(({ cold, hot, expectObservable }) => {
        const { m } = items(ts, () => cold('---|'), ['a', 'b']); // each settle answered 3 frames later
        const out = hot('ab|', m).pipe(
          settle((msg: Msg) => (msg.id === 'a' ? cold('--(x|)') : 'B'), { concurrency: 1 }),
          map((r) => r.item.id),
        );
        // a's handler ends at 2 and its ack is answered at 5; b waits for a's slot (2), ends at once
        // (its ack joins a's request of the same tick)
        expectObservable(out).toBe('-----(ab|)', { a: 'a', b: 'b' });
      });
    });

    it('unsubscribing aborts the running handlers and drops the waiting items unrun', () => {
      const ts = newScheduler();
      ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const { settler, m } = items(ts, () => cold('|'), ['a', 'b', 'c']);
        const work = { a: cold('-----(x|)'), b: cold('-----(x|)'), c: cold('-(x|)') };
        const signals: AbortSignal[] = [];
        const out = hot('(abc)', m).pipe(
          settle(
            (msg: Msg, context) => {
              signals.push(context.signal);
              return work[msg.id as 'a' | 'b' | 'c'];
            },
            { concurrency: 2 },
          ),
        );
        expectObservable(out, '^--!').toBe('---');
        expectSubscriptions(work.a.subscriptions).toBe('^--!');
        expectSubscriptions(work.b.subscriptions).toBe('^--!');
        expectSubscriptions(work.c.subscriptions).toBe([]);
        ts.flush();
        expect(signals.map((s) => s.aborted)).toEqual([true, true]);
        expect(settler.calls).toEqual([]);
      });
    });

    it('a source error ends the output and cuts the running handlers short; handler errors do not', () => {
      const ts = newScheduler();
      ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const { m } = items(ts, () => cold('|'), ['a', 'b']);
        const work = cold('------(x|)');
        const out = hot('ab--#', m, new Error('source broke')).pipe(
          settle(
            (msg: Msg) => {
              if (msg.id === 'b') throw new Error('bad b');
              return work;
            },
            { concurrency: 4 },
          ),
          map(brief),
        );
        expectObservable(out).toBe('-b--#', { b: 'b:nacked!bad b' }, new Error('source broke'));
        expectSubscriptions(work.subscriptions).toBe('^---!');
      });
    });

    it('with concurrency: Infinity starts every item at once', () => {
      const ts = newScheduler();
      ts.run(({ cold, hot, expectObservable }) => {
        const { m } = items(ts, () => cold('|'), ['a', 'b', 'c']);
        const out = hot('(abc)', m).pipe(settle(() => cold('--(x|)'), { concurrency: Infinity }), map((r) => r.item.id));
        expectObservable(out).toBe('--(abc)', { a: 'a', b: 'b', c: 'c' });
      });
    });
  });
});
