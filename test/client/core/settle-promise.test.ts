import { describe, expect, it } from 'vitest';
import { firstValueFrom, of, Subject, toArray, take } from 'rxjs';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createLease, type Lease } from '../../../src/client/core/lease.js';
import type { Settler } from '../../../src/client/core/settler.js';
import { settle } from '../../../src/operators/settle.js';

// Promises cannot be marble-tested: the Promise forms of handlers are covered here.
describe('settle with Promise handlers', () => {
  it('acks resolved promises and nacks rejected ones, with the result and the error', async () => {
    const calls: string[] = [];
    const settler: Settler<string> = {
      ack: (ids) => (calls.push(`ack ${ids.join()}`), of(undefined)),
      nack: (ids, o) => (calls.push(`nack ${ids.join()} ${JSON.stringify(o)}`), of(undefined)),
      touch: () => of(undefined),
    };
    const coalescer = new SettleCoalescer();
    const items = new Subject<{ id: string; lease: Lease }>();
    const results = firstValueFrom(
      items.pipe(
        settle(async (m) => {
          if (m.id === 'bad') throw new Error('rejected');
          return m.id.length;
        }, { concurrency: 2 }),
        take(2),
        toArray(),
      ),
    );
    for (const id of ['good', 'bad']) items.next({ id, lease: createLease(id, settler, { leaseMs: 1000, coalescer }) });
    const out = await results;
    expect(out.map((r) => [r.item.id, r.outcome, r.result, (r.error as Error | undefined)?.message])).toEqual([
      ['good', 'acked', 4, undefined],
      ['bad', 'nacked', undefined, 'rejected'],
    ]);
    expect(calls.sort()).toEqual(['ack good', 'nack bad {}']);
  });

  it('treats a thrown non-Error and an array result as values, not iterables', async () => {
    const settler: Settler<number> = { ack: () => of(undefined), nack: () => of(undefined), touch: () => of(undefined) };
    const lease = createLease(1, settler, { leaseMs: 1000, coalescer: new SettleCoalescer() });
    const r = await firstValueFrom(of({ lease }).pipe(settle(() => [1, 2, 3])));
    expect(r.result).toEqual([1, 2, 3]);
    const lease2 = createLease(2, settler, { leaseMs: 1000, coalescer: new SettleCoalescer() });
    const r2 = await firstValueFrom(
      of({ lease: lease2 }).pipe(
        settle(() => {
          throw 'panic';
        }),
      ),
    );
    expect([r2.outcome, r2.error]).toEqual(['nacked', 'panic']);
  });
});
