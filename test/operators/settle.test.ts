// settle(): the handler's signal is made on demand and still reports every abort (unsubscribe,
// timeout, lease handed back), with leases of a real coalescer and a recording settler.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, NEVER, of, Subject, toArray, VirtualTimeScheduler, type Observable } from 'rxjs';
import { SettleCoalescer } from '../../src/client/core/coalescer.js';
import { createLease, type Lease } from '../../src/client/core/lease.js';
import type { Settler } from '../../src/client/core/settler.js';
import { settle } from '../../src/operators/settle.js';
import { HandlerAbandonedError, HandlerTimeoutError, type HandlerContext } from '../../src/operators/types.js';

interface Item {
  readonly id: number;
  readonly lease: Lease;
}

function setup() {
  const scheduler = new VirtualTimeScheduler();
  const sent: Array<[string, readonly number[]]> = [];
  const answer = (op: string) => (ids: readonly number[]): Observable<void> => {
    sent.push([op, ids]);
    return of(undefined);
  };
  const settler: Settler<number> = { ack: answer('ack'), nack: answer('nack'), touch: answer('touch') };
  const coalescer = new SettleCoalescer({ scheduler });
  const item = (id: number): Item => ({ id, lease: createLease(id, settler, { leaseMs: 1000, coalescer }) });
  return { scheduler, sent, item };
}

describe('settle', () => {
  it('a handler reading its signal after the pipeline was unsubscribed finds it aborted (unsubscribed)', () => {
    const { item } = setup();
    let context: HandlerContext | undefined;
    const sub = of(item(1))
      .pipe(
        settle((_item, ctx) => {
          context = ctx;
          return NEVER;
        }),
      )
      .subscribe();
    sub.unsubscribe();
    expect(context!.signal.aborted).toBe(true);
    expect(context!.signal.reason).toBeInstanceOf(HandlerAbandonedError);
    expect((context!.signal.reason as HandlerAbandonedError).reason).toBe('unsubscribed');
  });

  it('a handler listening to its signal sees the timeout abort it; the item is nacked once', () => {
    const { scheduler, sent, item } = setup();
    const aborts: unknown[] = [];
    const results: string[] = [];
    of(item(2))
      .pipe(
        settle(
          (_item, { signal }) => {
            signal.addEventListener('abort', () => aborts.push(signal.reason));
            return new Promise<never>(() => undefined);
          },
          { timeoutMs: 50, scheduler },
        ),
      )
      .subscribe((r) => results.push(`${r.outcome}:${(r.error as Error).name}`));
    scheduler.flush();
    expect(aborts).toHaveLength(1);
    expect(aborts[0]).toBeInstanceOf(HandlerTimeoutError);
    expect(results).toEqual(['nacked:HandlerTimeoutError']);
    expect(sent).toEqual([['nack', [2]]]);
  });

  it('a lease settled elsewhere while its handler runs aborts the handler (handed back); no second request', () => {
    const { scheduler, sent, item } = setup();
    const it3 = item(3);
    const results: string[] = [];
    const release = new Subject<void>();
    of(it3)
      .pipe(settle(() => release, { scheduler }))
      .subscribe((r) => results.push(`${r.outcome}:${(r.error as HandlerAbandonedError).reason}`));
    it3.lease.nack().subscribe(); // e.g. the source handing it back at its drain deadline
    scheduler.flush();
    expect(results).toEqual(['nacked:handed-back']);
    expect(sent).toEqual([['nack', [3]]]);
  });

  it('plain values, Promises and Observables: acked with their (last) value, in one request per tick', async () => {
    const { scheduler, sent, item } = setup();
    const handlers: Array<(x: Item) => unknown> = [(x) => x.id * 10, async (x) => x.id * 10, (x) => of(1, 2, x.id * 10)];
    const out = lastValueFrom(
      of(item(0), item(1), item(2)).pipe(
        settle((x) => handlers[x.id]!(x) as number, { concurrency: 3 }),
        toArray(),
      ),
    );
    await Promise.resolve();
    scheduler.flush();
    await new Promise((r) => setTimeout(r, 0));
    scheduler.flush();
    const results = await out;
    expect(results.map((r) => [r.item.id, r.outcome, r.result]).sort()).toEqual([
      [0, 'acked', 0],
      [1, 'acked', 10],
      [2, 'acked', 20],
    ]);
    expect(sent.flatMap(([, ids]) => ids).sort()).toEqual([0, 1, 2]);
  });
});
