// settleLease / onLeaseSettled (what ack(), nack() and settle() call per item): the client's leases
// through their symbol-keyed callback methods (no Observable, no subscription), any other Lease
// (hand-made) through its public ack()/nack() and settled$.
import { describe, expect, it } from 'vitest';
import { Observable, ReplaySubject, Subject, VirtualTimeScheduler } from 'rxjs';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createLease, type Lease, type LeaseOutcome } from '../../../src/client/core/lease.js';
import { onLeaseSettled, requestSettle, settleLease, whenSettled } from '../../../src/client/core/lease-settle.js';
import type { NackOptions, Settler } from '../../../src/client/core/settler.js';

/** A lease written by hand against the public interface; counts the Observables subscribed. */
function handMadeLease(answer: () => Observable<void>) {
  const settled = new ReplaySubject<LeaseOutcome>(1);
  const calls: Array<{ op: LeaseOutcome; options?: NackOptions }> = [];
  let outcome: LeaseOutcome | undefined;
  const decide = (op: LeaseOutcome) => {
    if (outcome === undefined) {
      outcome = op;
      settled.next(op);
      settled.complete();
    }
  };
  const lease: Lease = {
    leaseMs: 1000,
    get settled() {
      return outcome !== undefined;
    },
    get outcome() {
      return outcome;
    },
    settled$: settled,
    ack: () => new Observable<void>((s) => (calls.push({ op: 'acked' }), decide('acked'), answer().subscribe(s))),
    nack: (options?: NackOptions) => new Observable<void>((s) => (calls.push({ op: 'nacked', options }), decide('nacked'), answer().subscribe(s))),
    touch: () => answer(),
  };
  return { lease, calls };
}

describe('settleLease / onLeaseSettled', () => {
  it("reach the client's leases through their keyed methods: one coalesced request, listeners told in order", () => {
    const scheduler = new VirtualTimeScheduler();
    const coalescer = new SettleCoalescer({ scheduler });
    const sent: Array<[string, readonly number[]]> = [];
    const reply = new Subject<void>();
    const request = (op: string) => (ids: readonly number[]) => (sent.push([op, ids]), reply);
    const settler: Settler<number> = { ack: request('ack'), nack: request('nack'), touch: request('touch') };
    const a = createLease(1, settler, { leaseMs: 1000, coalescer });
    const b = createLease(2, settler, { leaseMs: 1000, coalescer });
    expect(typeof (a as unknown as Record<symbol, unknown>)[requestSettle]).toBe('function');
    expect(typeof (a as unknown as Record<symbol, unknown>)[whenSettled]).toBe('function');
    const heard: Array<[LeaseOutcome, boolean]> = [];
    onLeaseSettled(a, (outcome, lease) => heard.push([outcome, lease === a]));
    const done: Array<[unknown, string]> = [];
    settleLease(a, 'acked', {}, (e, arg: string) => done.push([e, arg]), 'a');
    settleLease(b, 'acked', {}, (e, arg: string) => done.push([e, arg]), 'b');
    expect(heard).toEqual([['acked', true]]);
    scheduler.flush();
    expect(sent).toEqual([['ack', [1, 2]]]);
    reply.complete();
    expect(done).toEqual([
      [undefined, 'a'],
      [undefined, 'b'],
    ]);
    // Already settled: the listener is told at once.
    onLeaseSettled(b, (outcome) => heard.push([outcome, false]));
    expect(heard).toEqual([
      ['acked', true],
      ['acked', false],
    ]);
  });

  it("settle a hand-made lease through its ack()/nack() and listen through settled$", () => {
    const answer = new Subject<void>();
    const { lease, calls } = handMadeLease(() => answer);
    const heard: LeaseOutcome[] = [];
    onLeaseSettled(lease, (outcome, l) => l === lease && heard.push(outcome));
    const done: unknown[] = [];
    settleLease(lease, 'nacked', { toDlq: true }, (e, arg: number) => done.push(e ?? arg), 7);
    expect(calls).toEqual([{ op: 'nacked', options: { toDlq: true } }]);
    expect(heard).toEqual(['nacked']);
    expect(done).toEqual([]);
    answer.complete();
    expect(done).toEqual([7]);
  });

  it('pass a hand-made lease\'s failed request to the callback as the error', () => {
    const { lease } = handMadeLease(() => new Observable<void>((s) => s.error(new Error('lost'))));
    const done: unknown[] = [];
    settleLease(lease, 'acked', {}, (e) => done.push(e));
    expect(done).toEqual([new Error('lost')]);
  });
});
