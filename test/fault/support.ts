// Helpers of the fault-injection tests: condition waits with a descriptive failure, and a producer
// call that survives a server restart.
import { defer, retry, throwError, timer, lastValueFrom, type Observable } from 'rxjs';
import { isConnectionLost, isTimeout } from '../../src/protocol/errors.js';

/**
 * Resolves once `predicate` holds, checking every `everyMs`; rejects after `timeoutMs` with
 * `what()` in the message. The timeout is a safety net against a hang (generous), never a figure
 * the test asserts on.
 */
export async function waitFor(predicate: () => boolean, what: () => string, timeoutMs = 30_000, everyMs = 5): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Sends a write and retries it while the connection is lost (or the request timed out): the
 * at-least-once producer of a real application. `retried` counts the retries, so a test can
 * explain a duplicate.
 */
export function resilient<T>(send: () => Observable<T>, counters: { retried: number }): Promise<T> {
  return lastValueFrom(
    defer(send).pipe(
      retry({
        delay: (e: unknown) => {
          if (!isConnectionLost(e) && !isTimeout(e)) return throwError(() => e);
          counters.retried++;
          return timer(10);
        },
      }),
    ),
  );
}
