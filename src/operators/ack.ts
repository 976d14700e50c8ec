import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Leased } from '../client/core/lease.js';
import { settleEach } from './settle-each.js';

/**
 * Acknowledges each leased item it sees and passes it on once the ack has succeeded.
 *
 * The acks requested within one tick go out as one request per queue / group (coalesced by the
 * client), so acking a whole batch costs one round trip. Items are passed on in the order their
 * acks complete (within one request, in arrival order). A failed ack errors the stream with the
 * request's error (`retry()` resends: an item acks at most once). An item already settled passes
 * on at once without a request.
 *
 * ```
 * items:  -a-b------c--
 * ack():  ---(ab)-----c-     (a and b acked by one request)
 * ```
 *
 * @example
 * flo.queue.messages('jobs').pipe(mergeMap(work, 5), ack()).subscribe();
 */
export function ack<T extends Leased>(): MonoTypeOperatorFunction<T> {
  return settleEach<T>('acked', {});
}
