/**
 * Slow-handler reports: a handler of `settle` or of an action worker still running after a
 * threshold is reported once, while it runs (so a hung handler is seen too), as a `slow-handler`
 * client event (the logger and `events$`). Owns the threshold check; the watch operator is in
 * `slow-handler-watch.ts` (only the action worker's run loop, loaded on demand, uses it).
 */
import { InvalidArgumentError } from '../../protocol/errors.js';

/** The longest delay `setTimeout` honours (a longer one fires at once); also the longest finite limit a worker accepts. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A `slowHandlerMs` value: > 0 and at most a timer's maximum, or `Infinity` (never reported). */
export function checkSlowHandlerMs(value: number, what: string): number {
  if (value === Infinity || (typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS)) return value;
  throw new InvalidArgumentError(`${what} must be above 0 and at most ${MAX_TIMER_MS} ms, or Infinity, got ${String(value)}`);
}
