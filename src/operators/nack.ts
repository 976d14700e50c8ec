import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Leased } from '../client/core/lease.js';
import type { NackOptions } from '../client/core/settler.js';
import { settleEach } from './settle-each.js';

/**
 * Negatively acknowledges each leased item it sees (redelivered at once, after `delayMs` for stream
 * groups, or moved to the DLQ with `toDlq`) and passes it on once the nack has succeeded. Nacks of
 * one tick with the same options are coalesced into one request per queue / group. A failed nack
 * errors the stream. An item already settled passes on at once without a request.
 *
 * ```
 * items:             -a-b--
 * nack({toDlq:true}): ---(ab)-   (one nack request, send_to_dlq = 1)
 * ```
 */
export function nack<T extends Leased>(options: NackOptions = {}): MonoTypeOperatorFunction<T> {
  return settleEach<T>('nacked', options);
}
