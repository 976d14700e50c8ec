/**
 * The watch operator of slow-handler reports (see `slow-handler.ts`): a handler still running after
 * a threshold is reported once, while it runs, as a `slow-handler` client event.
 */
import { asyncScheduler, Observable, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import type { FloEvent } from '../../observability/events.js';

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
