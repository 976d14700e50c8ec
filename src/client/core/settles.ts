/**
 * The client's settle coalescer, built on first use. Only the code that leases items (queue and
 * stream calls, the action worker: all loaded on demand) reads it, so a client that never leases
 * (an app that reads and writes keys) neither builds it nor has its code in the start-up bundle.
 * `FloClient.close()` / `drain()` flush it only if it exists.
 */
import { take } from 'rxjs';
import { isConnectionLost, isTimeout } from '../../protocol/errors.js';
import { SettleCoalescer, type ResendPolicy } from './coalescer.js';
import type { ClientCore } from './context.js';
import { waitForReconnect } from './poll.js';

/** Settles lost with the connection are sent again once it is back, up to this many times. */
const SETTLE_RESENDS = 3;

function resendAfterReconnect(core: ClientCore): ResendPolicy {
  return (error, attempt, batch) => {
    if (!(attempt <= SETTLE_RESENDS && (isConnectionLost(error) || isTimeout(error)))) return undefined;
    core.emit({ type: 'settle-resent', op: batch.op, count: batch.count, attempt, error: error as Error });
    return waitForReconnect(core.channel, error, core.scheduler).pipe(take(1));
  };
}

/** The coalescer of `core`'s client (`core.settles`), built at the first call. */
export function settlesOf(core: ClientCore): SettleCoalescer {
  return (core.settles ??= new SettleCoalescer({
    ...(core.scheduler ? { scheduler: core.scheduler } : {}),
    resend: resendAfterReconnect(core),
  }));
}
