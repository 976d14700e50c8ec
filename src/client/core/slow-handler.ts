/**
 * Slow-handler reports: a handler of `settle` or of an action worker still running after a
 * threshold is reported once, while it runs (so a hung handler is seen too), as a `slow-handler`
 * client event (the logger and `events$`). Owns the threshold check and the watch operator.
 */
import { asyncScheduler, Observable, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import type { FloEvent } from '../../observability/events.js';
import { InvalidArgumentError } from '../../protocol/errors.js';

/** The longest delay `setTimeout` honours (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** A `slowHandlerMs` value: > 0 and at most a timer's maximum, or `Infinity` (never reported). */
export function checkSlowHandlerMs(value: number, what: string): number {
  if (value === Infinity || (typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS)) return value;
  throw new InvalidArgumentError(`${what} must be above 0 and at most ${MAX_TIMER_MS} ms, or Infinity, got ${String(value)}`);
}

/** Who is watched, and where the report goes. */
export interface SlowHandlerWatch {
  readonly emit: (event: FloEvent) => void;
  readonly thresholdMs: number;
  /** The item's source, e.g. `queue:jobs` or `action:resize`. */
  readonly source: string;
  /** The item's id as text; called only when a report is made (kept off the fast path). */
  readonly itemId: () => string;
  readonly scheduler?: SchedulerLike | undefined;
}

/**
 * Mirrors the handler's Observable; if it has not ended `thresholdMs` after being subscribed, emits
 * one `slow-handler` event. No timer at all when the threshold is `Infinity`.
 */
export function reportIfSlow<T>(watch: SlowHandlerWatch | undefined): MonoTypeOperatorFunction<T> {
  if (watch === undefined || watch.thresholdMs === Infinity) return (source) => source;
  const { emit, thresholdMs, source: itemSource, itemId } = watch;
  const scheduler = watch.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<T>((subscriber) => {
      const start = scheduler.now();
      const slow = timer(thresholdMs, scheduler).subscribe(() =>
        emit({ type: 'slow-handler', source: itemSource, itemId: itemId(), elapsedMs: Math.round(scheduler.now() - start), thresholdMs }),
      );
      const sub = source.subscribe(subscriber);
      sub.add(slow);
      return sub;
    });
}
