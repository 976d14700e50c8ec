/**
 * The status watch of workflow runs and processing jobs. Apart from `poll.ts` (the read loops used
 * at start, e.g. by `kv.watch`) because only on-demand code uses it.
 */
import { defer, distinctUntilChanged, repeat, retry, takeWhile, throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import type { RequestChannel } from '../../connection/types.js';
import { InvalidArgumentError, isConnectionLost, isTimeout } from '../../protocol/errors.js';
import { waitForReconnect } from './poll.js';

/**
 * Polls `status$` every `pollMs` and emits each status that differs from the last (`same`), until
 * one is `terminal` (emitted, then complete). A lost connection waits for the reconnect and a
 * timeout polls again; any other error ends the watch. Used by the workflow run and processing job
 * `watch`es.
 */
export function pollUntilTerminal<S extends { readonly terminal: boolean }>(
  channel: RequestChannel,
  status$: Observable<S>,
  options: { readonly pollMs: number; readonly same: (a: S, b: S) => boolean; readonly scheduler?: SchedulerLike | undefined },
): Observable<S> {
  const { pollMs, same, scheduler } = options;
  const wait = (ms: number) => (scheduler ? timer(ms, scheduler) : timer(ms));
  return defer(() => {
    if (!(Number.isFinite(pollMs) && pollMs >= 0)) throw new InvalidArgumentError(`pollMs must be a non-negative number, got ${pollMs}`);
    return status$.pipe(
      retry({
        delay: (e: unknown) => {
          if (isConnectionLost(e)) return waitForReconnect(channel, e, scheduler);
          if (isTimeout(e)) return wait(pollMs);
          return throwError(() => e);
        },
      }),
      repeat({ delay: () => wait(pollMs) }),
      distinctUntilChanged(same),
      takeWhile((s) => !s.terminal, true),
    );
  });
}
