// The lease of one item (createLease) with a real SettleCoalescer and a scripted settler: first
// settle wins, a failed request errors its callers and the next settle resends, settled$ replays,
// and the settles of one tick join one request.
import { describe, expect, it } from 'vitest';
import { lastValueFrom, of, Subject, VirtualTimeScheduler, type Observable } from 'rxjs';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createLease, type LeaseOutcome } from '../../../src/client/core/lease.js';
import { settleLease } from '../../../src/client/core/lease-settle.js';
import type { Settler } from '../../../src/client/core/settler.js';

/** A settler whose requests the test answers by hand, in order. */
function scriptedSettler() {
  const calls: Array<{ op: string; ids: readonly number[]; reply: Subject<void> }> = [];
  const request = (op: string) => (ids: readonly number[]): Observable<void> => {
    const reply = new Subject<void>();
    calls.push({ op, ids, reply });
    return reply;
  };
  const settler: Settler<number> = { ack: request('ack'), nack: request('nack'), touch: request('touch') };
  const answer = (i: number, error?: unknown) => (error === undefined ? calls[i]!.reply.complete() : calls[i]!.reply.error(error));
  return { settler, calls, answer };
}

function setup() {
  const scheduler = new VirtualTimeScheduler();
  const coalescer = new SettleCoalescer({ scheduler });
  const s = scriptedSettler();
  const lease = (id: number) => createLease(id, s.settler, { leaseMs: 1000, coalescer });
  return { ...s, scheduler, lease };
}

describe('createLease', () => {
  it('joins the settles of one tick into one request per op, sent when the tick ends', () => {
    const { calls, scheduler, lease } = setup();
    const done: number[] = [];
    for (let id = 1; id <= 5; id++) settleLease(lease(id), 'acked', {}, (e) => e === undefined && done.push(id));
    settleLease(lease(6), 'nacked', {}, () => undefined);
    expect(calls).toHaveLength(0);
    scheduler.flush();
    expect(calls.map((c) => [c.op, c.ids])).toEqual([
      ['ack', [1, 2, 3, 4, 5]],
      ['nack', [6]],
    ]);
    calls[0]!.reply.complete();
    expect(done).toEqual([1, 2, 3, 4, 5]);
  });

  it('settleLease hands its argument back to the callback, so one callback serves many items', () => {
    const { calls, scheduler, lease } = setup();
    const seen: Array<[unknown, string]> = [];
    const done = (error: unknown, name: string) => seen.push([error, name]);
    settleLease(lease(1), 'acked', {}, done, 'first');
    settleLease(lease(2), 'acked', {}, done, 'second');
    scheduler.flush();
    calls[0]!.reply.error(new Error('lost'));
    expect(seen).toEqual([
      [new Error('lost'), 'first'],
      [new Error('lost'), 'second'],
    ]);
  });

  it('the first settle wins: a later nack sends nothing and completes with the ack request', () => {
    const { calls, scheduler, lease, answer } = setup();
    const l = lease(1);
    const seen: string[] = [];
    l.ack().subscribe({ complete: () => seen.push('ack done') });
    l.nack({ toDlq: true }).subscribe({ complete: () => seen.push('nack done') });
    expect(l.outcome).toBe('acked');
    scheduler.flush();
    expect(calls.map((c) => c.op)).toEqual(['ack']);
    answer(0);
    expect(seen).toEqual(['ack done', 'nack done']);
    // Settled and answered: another settle completes at once, without a request.
    l.nack().subscribe({ complete: () => seen.push('late nack done') });
    scheduler.flush();
    expect(seen).toEqual(['ack done', 'nack done', 'late nack done']);
    expect(calls).toHaveLength(1);
  });

  it('a failed request errors its callers; the next settle sends the first one again', () => {
    const { calls, scheduler, lease, answer } = setup();
    const l = lease(7);
    const outcomes: LeaseOutcome[] = [];
    l.settled$.subscribe((o) => outcomes.push(o));
    const errors: unknown[] = [];
    l.nack({ delayMs: 5 }).subscribe({ error: (e) => errors.push(e) });
    scheduler.flush();
    answer(0, new Error('lost'));
    expect(errors).toEqual([new Error('lost')]);
    expect(l.settled).toBe(true); // released locally all the same
    let acked = false;
    l.ack().subscribe({ complete: () => (acked = true) }); // resends the first settle: the nack
    scheduler.flush();
    expect(calls.map((c) => [c.op, c.ids])).toEqual([
      ['nack', [7]],
      ['nack', [7]],
    ]);
    answer(1);
    expect(acked).toBe(true);
    expect(outcomes).toEqual(['nacked']);
  });

  it('settled$ replays the outcome to late subscribers and tells early ones once', async () => {
    const { scheduler, lease, answer } = setup();
    const l = lease(3);
    const early: LeaseOutcome[] = [];
    const sub = l.settled$.subscribe((o) => early.push(o));
    const gone: LeaseOutcome[] = [];
    l.settled$.subscribe((o) => gone.push(o)).unsubscribe();
    l.ack().subscribe();
    l.nack().subscribe();
    expect(early).toEqual(['acked']);
    expect(gone).toEqual([]);
    expect(sub.closed).toBe(true);
    scheduler.flush();
    answer(0);
    await expect(lastValueFrom(l.settled$)).resolves.toBe('acked');
  });

  it('a settler answering at once (maxBatch 1) sees the lease settled, and the settle completes', () => {
    const scheduler = new VirtualTimeScheduler();
    const coalescer = new SettleCoalescer({ scheduler });
    const seenSettled: boolean[] = [];
    let lease: ReturnType<typeof createLease> | undefined;
    const settler: Settler<number> = {
      maxBatch: 1,
      ack: () => {
        seenSettled.push(lease!.settled);
        return of(undefined);
      },
      nack: () => of(undefined),
      touch: () => of(undefined),
    };
    lease = createLease(1, settler, { leaseMs: 1000, coalescer });
    let done = false;
    lease.ack().subscribe({ complete: () => (done = true) });
    expect(seenSettled).toEqual([true]);
    expect(done).toBe(true);
  });
});
