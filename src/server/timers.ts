/**
 * Time limits shared by every part of the server: the longest a request may wait, and timers that
 * never overflow. Node's `setTimeout` takes at most 2^31 − 1 ms; a longer delay fires after 1 ms
 * (with a `TimeoutOverflowWarning`), so a long TTL or delay armed naively turns into a busy loop.
 */
import { badRequest } from './reply.js';

/** Largest delay one `setTimeout` can take. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Longest block or wait time any request may ask for (Flo's newest server; queues and streams alike). */
export const MAX_BLOCK_MS = 300_000;

/** A cancellable timer. */
export interface CancelTimer {
  cancel(): void;
}

/**
 * Runs `fn` once after `ms` milliseconds, however large `ms` is: delays beyond `MAX_TIMER_MS` are
 * covered by a chain of maximal timers. Timers are unref'd (they never keep the process alive).
 */
export function setLongTimeout(ms: number, fn: () => void): CancelTimer {
  let remaining = Number.isFinite(ms) ? Math.max(0, ms) : MAX_TIMER_MS;
  let handle: NodeJS.Timeout;
  const arm = () => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    handle = setTimeout(remaining > 0 ? arm : fn, step);
    handle.unref?.();
  };
  arm();
  return { cancel: () => clearTimeout(handle) };
}

/** Throws BAD_REQUEST unless `ms` is a whole number from 0 to `MAX_BLOCK_MS`. */
export function checkBlockMs(ms: number, what = 'block_ms'): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_BLOCK_MS) throw badRequest(`${what} must be at most ${MAX_BLOCK_MS}`);
  return ms;
}
