import {
  catchError,
  EMPTY,
  exhaustMap,
  ignoreElements,
  merge,
  mergeMap,
  of,
  takeUntil,
  timer,
  type MonoTypeOperatorFunction,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import type { Lease, Leased } from '../client/core/lease.js';
import { InvalidArgumentError } from '../protocol/errors.js';

/** Options of `renewLease`. */
export interface RenewLeaseOptions {
  /** Touch every `fraction × leaseMs`, 0 < fraction < 1. Default 0.5. */
  readonly fraction?: number;
  /** Lease length each touch asks for (default: the item's own lease length). */
  readonly extendMs?: number;
  /** Scheduler of the touch timers (virtual time in tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

export function checkFraction(fraction: number): number {
  if (!(fraction > 0 && fraction < 1)) throw new InvalidArgumentError(`renewLease fraction must be > 0 and < 1, got ${fraction}`);
  return fraction;
}

/**
 * Touches `lease` every `fraction × leaseMs` (the first touch `fraction × leaseMs` after subscribe,
 * the next ones `fraction × (extendMs ?? leaseMs)` apart) until it is settled or unsubscribed. Never
 * emits; never errors (a failed touch is skipped, the next one tries again); a touch still
 * in flight when the next is due makes that one skipped.
 */
export function keepAlive(lease: Lease, options: RenewLeaseOptions = {}): Observable<never> {
  const fraction = checkFraction(options.fraction ?? 0.5);
  if (!(lease.leaseMs > 0) || lease.settled) return EMPTY;
  const first = Math.max(1, Math.floor(lease.leaseMs * fraction));
  const period = Math.max(1, Math.floor((options.extendMs ?? lease.leaseMs) * fraction));
  const touchOptions = options.extendMs !== undefined ? { extendMs: options.extendMs } : {};
  return timer(first, period, options.scheduler).pipe(
    exhaustMap(() => lease.touch(touchOptions).pipe(catchError(() => EMPTY))),
    ignoreElements(),
    takeUntil(lease.settled$),
  );
}

/**
 * Keeps the lease of each item alive while it is unsettled: passes items on at once, and touches
 * each one's lease every `fraction × leaseMs` until its `settled$` fires (or on unsubscribe).
 * Each item has its own timer; touches that fall due in the same callback are coalesced into one
 * request per queue / group, those of separate timers are not (even at the same instant). When the source completes,
 * the output completes once every item it passed on has been settled (touching until then).
 *
 * ```
 * leaseMs = 10, fraction = 0.5; a is acked at frame 13
 * items:           (a|)
 * renewLease():    a------------|
 * touches of a:    -----t----t---

 * ```
 *
 * @example
 * flo.queue.messages('slow-jobs').pipe(renewLease(), mergeMap(slowWork, 2), ack()).subscribe();
 */
export function renewLease<T extends Leased>(options: RenewLeaseOptions = {}): MonoTypeOperatorFunction<T> {
  checkFraction(options.fraction ?? 0.5);
  return mergeMap((item: T) => merge(of(item), keepAlive(item.lease, options)));
}
