import { asyncScheduler, Observable, Subscription, timer, type ObservableInput, type SchedulerLike } from 'rxjs';
import { InvalidArgumentError } from '../../protocol/errors.js';
import { handBack as nackAtOnce, type Leased } from './lease.js';
import { backoffDelay, checkBlockMs, createResumer, type ReconnectSignals } from './poll.js';

export interface LeasingSourceOptions<T extends Leased> {
  /** The connection's reconnect signals (the client's `RequestChannel`). */
  readonly signals: ReconnectSignals;
  /**
   * One finite lease request for up to `n` items with a long-poll of `blockMs`: emits the batch
   * (possibly empty) once and completes. Its `RequestSpec` must carry an `onLateReply` that decodes
   * the reply and passes the items to `handBack` (a late reply is one whose subscriber left: the
   * loop was unsubscribed or the request timed out), so that nothing leased is lost (DECISIONS #5).
   */
  readonly fetch: (n: number, blockMs: number) => Observable<readonly T[]>;
  /** Most items asked for by one request. Default 10. */
  readonly batch?: number;
  /** Most unsettled items held at once. Default: `batch`. */
  readonly maxInFlight?: number;
  /** Long-poll of each request, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /** Runs before the first request after a reconnect (e.g. group re-join). */
  readonly onReconnect?: () => ObservableInput<unknown>;
  /**
   * Receives leased items that were fetched but never emitted because the subscriber left in the
   * middle of a batch (e.g. `take(3)` on a batch of 5). Default `handBack` (a nack with no delay).
   */
  readonly handBack?: (items: readonly T[]) => void;
  readonly scheduler?: SchedulerLike;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * An infinite, cold source of leased items that never holds more than `maxInFlight` unsettled ones.
 *
 * On subscribe it asks for `min(batch, maxInFlight - unsettled)` items (one long-poll request at a
 * time). When the reply comes back and there is room it asks again at once (an empty reply only
 * means the long-poll expired); when there is none it waits until an item settles (its lease's
 * `settled$` fires, i.e. its `ack()`/`nack()` has been requested) and asks for as many as are free.
 * So `source.pipe(mergeMap(work, 5))` with `maxInFlight: 5` leases at most 5 items at any time.
 *
 * Lost connections, timeouts and re-joins follow `poll` (wait for the connection, `onReconnect`,
 * resume; retry a timed-out request; any other error ends the source). Unsubscribing cancels the
 * request in flight (its late reply is the subsystem's `onLateReply`'s to hand back) and sends no
 * more lease requests. What happens to items emitted and not yet settled depends on why:
 * - the subscriber walked away (`unsubscribe()`, `takeUntil`, a component destroyed): every such
 *   item, including one whose handler the unsubscribe cut short, is handed back at once (a plain
 *   nack, `handBack`), so nothing stays leased until its visibility timeout; a settle requested
 *   later is a no-op (the first settle wins);
 * - the subscriber took what it wanted (`take(n)`, `first()`, `firstValueFrom`: it unsubscribed
 *   while an item was being emitted): the items it has stay its own to settle; only the rest of the
 *   batch it never saw is handed back.
 *
 * ```
 * fetch(n):   --[a,b]|  (n = 2)        --[c]|  (n = 1)
 * settles:                 ----a-----
 * source:     --a-b---------------------c
 * ```
 */
export function leasingSource<T extends Leased>(options: LeasingSourceOptions<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const batch = positiveInt('batch', options.batch ?? 10);
    const maxInFlight = positiveInt('maxInFlight', options.maxInFlight ?? batch);
    const blockMs = checkBlockMs(options.blockMs);
    const giveBack = options.handBack ?? nackAtOnce;
    const { run, watch } = createResumer(options.signals, options);
    const teardown = new Subscription();
    teardown.add(watch.subscribe({ error: (e: unknown) => subscriber.error(e) }));

    const clock = options.scheduler ?? asyncScheduler;
    /** Early empty answers in a row. */
    let emptyStreak = 0;
    let unsettled = 0;
    /** Emitted and not settled: handed back if the subscriber leaves. */
    const held = new Set<T>();
    /** True while an item is being emitted (an unsubscribe then means "took enough"). */
    let emitting = false;
    let fetching = false;
    let current: Subscription | undefined;
    teardown.add(() => current?.unsubscribe());
    let pumping = false;
    let again = false;

    const track = (item: T): void => {
      if (item.lease.settled) return;
      unsettled++;
      held.add(item);
      let counted = true;
      const release = () => {
        if (!counted) return;
        counted = false;
        unsettled--;
        held.delete(item);
        pump();
      };
      const sub = item.lease.settled$.subscribe({ complete: release });
      if (!sub.closed) {
        teardown.add(sub);
        sub.add(() => teardown.remove(sub));
      }
    };

    const deliver = (items: readonly T[]): void => {
      for (const item of items) track(item);
      for (let i = 0; i < items.length; i++) {
        if (subscriber.closed) {
          giveBack(items.slice(i));
          return;
        }
        emitting = true;
        try {
          subscriber.next(items[i]);
        } finally {
          emitting = false;
        }
      }
    };

    // Trampolined so that a fetch completing synchronously does not recurse.
    const pump = (): void => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          if (fetching || subscriber.closed) break;
          const n = Math.min(batch, maxInFlight - unsettled);
          if (n <= 0) break;
          fetching = true;
          const sentAt = clock.now();
          let got = 0;
          current = run(() => options.fetch(n, blockMs)).subscribe({
            next: (items) => {
              got += items.length;
              deliver(items);
            },
            error: (e: unknown) => subscriber.error(e),
            complete: () => {
              // An empty answer well before the long-poll's end is a server that could not wait:
              // pause (growing, jittered) before asking again instead of looping at once.
              const early = got === 0 && clock.now() - sentAt < blockMs / 2;
              emptyStreak = early ? emptyStreak + 1 : 0;
              if (!early) {
                fetching = false;
                pump();
                return;
              }
              current = timer(backoffDelay(emptyStreak), clock).subscribe(() => {
                fetching = false;
                pump();
              });
            },
          });
        } while (again);
      } finally {
        pumping = false;
      }
    };

    pump();
    teardown.add(() => {
      // The subscriber walked away (not mid-emission): whatever it holds unsettled goes back at once.
      const left = emitting ? [] : [...held].filter((item) => !item.lease.settled);
      held.clear();
      if (left.length > 0) giveBack(left);
    });
    return teardown;
  });
}
