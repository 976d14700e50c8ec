/**
 * The per-pipeline drain options (`until`, `drainTimeoutMs`) and `untilOf`. The client-wide drain
 * behind `flo.drain()` is `DrainControl` (`drain-control.ts`).
 */
import { Observable, type ObservableInput } from 'rxjs';

export { DEFAULT_DRAIN_TIMEOUT_MS } from './drain-timeout.js';

// The control itself (built on first use, by the leasing code loaded on demand) is in
// drain-control.ts: `settle()` imports this file, so whatever is here is in every app with it.
export type { DrainControl, DrainRegistration, DrainRequest } from './drain-control.js';

/** The per-pipeline stop accepted by `messages`, `group`, `streamWorker` and `settle`. */
export interface DrainOptions {
  /**
   * When this emits or completes (an Observable, a Promise) or aborts (an `AbortSignal`), the
   * pipeline drains: it stops leasing, lets running handlers finish within `drainTimeoutMs`, hands
   * back what is still unsettled, and completes. `flo.drain()` does the same for every pipeline.
   */
  readonly until?: ObservableInput<unknown> | AbortSignal;
  /** How long a drain waits for running handlers. Default 30 000 ms (`flo.drain()`'s own, if given). */
  readonly drainTimeoutMs?: number;
}

/** `until` as an Observable (an AbortSignal emits when it aborts). */
export function untilOf(until: DrainOptions['until']): ObservableInput<unknown> | undefined {
  if (until === undefined) return undefined;
  if (isAbortSignal(until)) {
    const signal = until;
    return new Observable<unknown>((s) => {
      if (signal.aborted) {
        s.next(signal.reason);
        return undefined;
      }
      const onAbort = () => s.next(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      return () => signal.removeEventListener('abort', onAbort);
    });
  }
  return until;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).addEventListener === 'function' && 'aborted' in value;
}
