import { describe, expect, it } from 'vitest';
import { SettleCoalescer } from '../src/client/core/coalescer.js';
import { createLease, type Lease } from '../src/client/core/lease.js';
import { renewLease } from '../src/operators/renewLease.js';
import { InvalidArgumentError } from '../src/protocol/errors.js';
import { newScheduler, recordingSettler } from './helpers.js';

interface Msg {
  id: string;
  lease: Lease;
}

describe('renewLease', () => {
  it('passes items on at once and touches each lease every fraction × leaseMs until it is settled', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot, expectObservable }) => {
      const settler = recordingSettler<string>(ts, () => cold('-|'));
      const coalescer = new SettleCoalescer();
      const a: Msg = { id: 'a', lease: createLease('a', settler, { leaseMs: 10, coalescer }) };
      const b: Msg = { id: 'b', lease: createLease('b', settler, { leaseMs: 20, coalescer }) };
      const src = hot('a-b|', { a, b });
      hot('-------------x').subscribe(() => a.lease.ack().subscribe()); // a acked at 13
      hot('-----------------------------y').subscribe(() => b.lease.nack().subscribe()); // b nacked at 29
      //                                        a at 0, b at 2; completes when both are settled (29)
      expectObservable(src.pipe(renewLease())).toBe('a-b--------------------------|', { a, b });
      ts.flush();
      expect(settler.calls.map((c) => `${c.op}:${c.ids.join()}@${c.at}`)).toEqual([
        'touch:a@5',
        'touch:a@10',
        'touch:b@12',
        'ack:a@13',
        'touch:b@22',
        'nack:b@29',
      ]);
    });
  });

  it('honours fraction and extendMs (each lease has its own timer: touches due in separate callbacks are separate requests)', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot }) => {
      const settler = recordingSettler<string>(ts, () => cold('-|'));
      const coalescer = new SettleCoalescer();
      const mk = (id: string): Msg => ({ id, lease: createLease(id, settler, { leaseMs: 100, coalescer }) });
      const sub = hot('(ab)', { a: mk('a'), b: mk('b') })
        .pipe(renewLease({ fraction: 0.25, extendMs: 40 }))
        .subscribe();
      hot('----------------------------------------x').subscribe(() => sub.unsubscribe()); // at 40
      ts.flush();
      // first touch after 25 (0.25 × 100), then every 10 (0.25 × 40)
      expect(settler.calls.map((c) => `${c.op}:${c.ids.join()}@${c.at}:${JSON.stringify(c.options)}`)).toEqual([
        'touch:a@25:{"extendMs":40}',
        'touch:b@25:{"extendMs":40}',
        'touch:a@35:{"extendMs":40}',
        'touch:b@35:{"extendMs":40}',
      ]);
    });
  });

  it('does not touch an item settled before its first renewal, and refuses a bad fraction', () => {
    const ts = newScheduler();
    ts.run(({ cold, hot }) => {
      const settler = recordingSettler<string>(ts, () => cold('-|'));
      const a: Msg = { id: 'a', lease: createLease('a', settler, { leaseMs: 10, coalescer: new SettleCoalescer() }) };
      void hot('a', { a }).pipe(renewLease()).subscribe();
      hot('--x').subscribe(() => a.lease.ack().subscribe());
      ts.flush();
      expect(settler.calls.map((c) => c.op)).toEqual(['ack']);
    });
    expect(() => renewLease({ fraction: 1 })).toThrow(InvalidArgumentError);
    expect(() => renewLease({ fraction: 0 })).toThrow(InvalidArgumentError);
  });
});
