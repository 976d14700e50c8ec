/**
 * What `ack()` and `nack()` share: settle each leased item as it arrives and pass it on once its
 * settle request has succeeded. Reads the items' leases only (through `settleLease`).
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Leased, LeaseOutcome } from '../client/core/lease.js';
import { settleLease } from '../client/core/lease-settle.js';
import type { NackOptions } from '../client/core/settler.js';

/**
 * Settles each item (`op`, `options`) and emits it when its request succeeds, in the order the
 * requests complete; errors with the first failed request; completes when the source has and every
 * item has been passed on. Unsubscribing does not take back a settle already requested (it is
 * coalesced into its tick's request and sent): only the notification is dropped.
 *
 * One `new Observable` rather than `mergeMap(item => concat(lease.ack().pipe(ignoreElements()),
 * of(item)))`: that made five Observables and as many subscribers per item, the largest part of
 * `group → mergeMap(16) → ack()`'s client cost; here an item costs one callback.
 */
export function settleEach<T extends Leased>(op: LeaseOutcome, options: NackOptions): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let settling = 0;
      let sourceDone = false;
      // One callback for every item (the item comes back as its argument): no closure per item.
      const settled = (error: unknown, item: T): void => {
        if (subscriber.closed) return;
        if (error !== undefined) {
          subscriber.error(error);
          return;
        }
        settling--;
        subscriber.next(item);
        if (sourceDone && settling === 0) subscriber.complete();
      };
      return source.subscribe({
        next: (item) => {
          settling++;
          settleLease(item.lease, op, options, settled, item);
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          if (settling === 0) subscriber.complete();
        },
      });
    });
}
