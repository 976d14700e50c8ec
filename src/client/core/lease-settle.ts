/**
 * How the operators (`ack`, `nack`, `settle`) settle a lease and hear of its outcome, without the
 * lease class itself: the client's leases (`ItemLease` in `lease.ts`) are made only by the leasing
 * code, which loads on demand, so the operators, exported and so in every app's start-up chunk,
 * reach their callback forms through the two keys below instead of `instanceof` (which would import
 * the class, and with it the whole lease, into the start-up chunk).
 */
import type { Lease, LeaseOutcome, SettleCallback, SettledListener } from './lease.js';
import type { NackOptions } from './settler.js';

/** Key of a lease's callback form of `ack()`/`nack()` (see `settleLease`). */
export const requestSettle: unique symbol = Symbol('flo.lease.requestSettle');
/** Key of a lease's listener form of `settled$` (see `onLeaseSettled`). */
export const whenSettled: unique symbol = Symbol('flo.lease.whenSettled');

/** A lease that settles and reports without an Observable: the leases of the client's sources. */
export interface CallbackLease extends Lease {
  [requestSettle]<A>(op: LeaseOutcome, options: NackOptions, done: SettleCallback<A>, arg: A): void;
  [whenSettled](listener: SettledListener): void;
}

/**
 * Settles `lease` and calls `done(error, arg)` when the request has succeeded (`error` undefined)
 * or failed: the leases of the client's sources do it without an Observable; a lease of another
 * kind (hand-made in tests) through its `ack()`/`nack()`. Used by the `ack`, `nack` and `settle`
 * operators, which pass the item as `arg` and one callback for all their items.
 */
export function settleLease<A = undefined>(lease: Lease, op: LeaseOutcome, options: NackOptions, done: SettleCallback<A>, arg?: A): void {
  if ((lease as Partial<CallbackLease>)[requestSettle] !== undefined) {
    (lease as CallbackLease)[requestSettle](op, options, done, arg as A);
    return;
  }
  (op === 'acked' ? lease.ack() : lease.nack(options)).subscribe({ error: (e: unknown) => done(e, arg as A), complete: () => done(undefined, arg as A) });
}

/**
 * Calls `listener` once when `lease` is settled (at once if it is), with the outcome and the lease.
 * Leases of the client's sources keep the listener in a field (no Subscription per item); others
 * are listened to through `settled$`.
 */
export function onLeaseSettled(lease: Lease, listener: SettledListener): void {
  if ((lease as Partial<CallbackLease>)[whenSettled] !== undefined) (lease as CallbackLease)[whenSettled](listener);
  else lease.settled$.subscribe((outcome) => listener(outcome, lease));
}
