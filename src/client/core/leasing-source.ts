import { asyncScheduler, from, merge, Observable, Subscription, take, timer, type ObservableInput, type SchedulerLike } from 'rxjs';
import type { FloEvent } from '../../observability/events.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, type DrainControl } from './drain.js';
import { InvalidArgumentError } from '../../protocol/errors.js';
import { handBack as nackAtOnce, onLeaseSettled, type Leased } from './lease.js';
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
  /**
   * Stop signal of this pipeline: when it emits or completes, the source drains (see below).
   * Also anything with an AbortSignal's shape is accepted by the callers and turned into this.
   */
  readonly until?: ObservableInput<unknown>;
  /** The client's drain (`flo.drain()`): a drain it starts drains this source too. */
  readonly drain?: DrainControl;
  /** How long a draining source waits for its items to be settled before handing them back. Default 30 000. */
  readonly drainTimeoutMs?: number;
  /** Names the source in events (`queue:jobs`, `group:orders/billing`). */
  readonly name?: string;
  /** Where drain and hand-back events go. */
  readonly emit?: (event: FloEvent) => void;
  /** Sees each item as it is emitted (the tracing integration's consumer spans). */
  readonly onDeliver?: (item: T) => void;
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
 * Draining (`until` fires, or the client's `flo.drain()`): no new request; the one in flight is
 * cancelled (its late reply is handed back); the source completes once every item it emitted is
 * settled, or when the drain deadline passes, handing back (nack without delay) those still
 * unsettled. So `source.pipe(settle(work))` ends with nothing left leased.
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
    /** The pause after an early empty answer, if one is under way. */
    let backoff: Subscription | undefined;
    teardown.add(() => backoff?.unsubscribe());
    let unsettled = 0;
    /** Emitted and not settled: handed back if the subscriber leaves. */
    const held = new Set<T>();
    /** True while an item is being emitted (an unsubscribe then means "took enough"). */
    let emitting = false;
    let fetching = false;
    let draining = false;
    const name = options.name ?? 'source';
    const emit = options.emit;
    const onDeliver = options.onDeliver;
    const registration = options.drain?.register();
    teardown.add(() => registration?.done());
    let current: Subscription | undefined;
    teardown.add(() => current?.unsubscribe());
    let pumping = false;
    let again = false;

    const track = (item: T): void => {
      if (item.lease.settled) return;
      unsettled++;
      held.add(item);
      // A listener rather than a `settled$` subscription per item (one of the per-item costs in
      // the consumer profile). It may fire after the teardown: `pump` and `maybeDrained` check.
      onLeaseSettled(item.lease, () => {
        if (!held.delete(item)) return;
        unsettled--;
        if (draining) maybeDrained(false);
        else pump();
      });
    };

    const deliver = (items: readonly T[]): void => {
      if (draining) {
        // Arrived after the drain began (a request that could not be cancelled in time).
        giveBack(items);
        if (items.length) emit?.({ type: 'handed-back', source: name, count: items.length, reason: 'unsubscribed' });
        return;
      }
      for (const item of items) track(item);
      for (let i = 0; i < items.length; i++) {
        if (subscriber.closed) {
          giveBack(items.slice(i));
          emit?.({ type: 'handed-back', source: name, count: items.length - i, reason: 'unsubscribed' });
          return;
        }
        if (onDeliver !== undefined) onDeliver(items[i]);
        emitting = true;
        try {
          subscriber.next(items[i]);
        } finally {
          emitting = false;
        }
      }
    };

    let handedBackAtDeadline = 0;
    let timedOutDrain = false;
    const maybeDrained = (timedOut: boolean): void => {
      if (subscriber.closed) return;
      if (timedOut && held.size > 0) {
        const rest = [...held];
        handedBackAtDeadline += rest.length;
        emit?.({ type: 'handed-back', source: name, count: rest.length, reason: 'drain-deadline' });
        timedOutDrain = true;
        giveBack(rest); // settles their leases: `release` runs for each, and the last one completes
        return;
      }
      if (unsettled > 0 || subscriber.closed) return;
      emit?.({ type: 'drained', source: name, handedBack: handedBackAtDeadline, timedOut: timedOut || timedOutDrain });
      registration?.done();
      subscriber.complete();
    };

    const startDrain = (deadlineMs: number): void => {
      if (draining || subscriber.closed) return;
      draining = true;
      emit?.({ type: 'draining', source: name, deadlineMs });
      // Cancelling the long-poll makes its reply late: the subsystem's onLateReply hands it back.
      current?.unsubscribe();
      backoff?.unsubscribe();
      fetching = false;
      if (unsettled > 0) teardown.add(timer(deadlineMs, options.scheduler).subscribe(() => maybeDrained(true)));
      maybeDrained(false);
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
          if (fetching || draining || subscriber.closed) break;
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
              backoff = timer(backoffDelay(emptyStreak), clock).subscribe(() => {
                backoff = undefined;
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

    const ownDeadline = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const stops: Observable<number>[] = [];
    if (options.until !== undefined) {
      const until$ = from(options.until);
      stops.push(new Observable<number>((s) => until$.subscribe({ next: () => s.next(ownDeadline), complete: () => s.next(ownDeadline), error: () => s.next(ownDeadline) })));
    }
    if (options.drain !== undefined) {
      const control = options.drain;
      stops.push(new Observable<number>((s) => control.requested$.subscribe((r) => s.next(options.drainTimeoutMs ?? r.deadlineMs))));
    }
    if (stops.length > 0) teardown.add(merge(...stops).pipe(take(1)).subscribe((ms) => startDrain(ms)));

    if (!draining) pump();
    teardown.add(() => {
      // The subscriber walked away (not mid-emission): whatever it holds unsettled goes back at once.
      const left = emitting ? [] : [...held].filter((item) => !item.lease.settled);
      held.clear();
      if (left.length === 0) return;
      giveBack(left);
      emit?.({ type: 'handed-back', source: name, count: left.length, reason: 'unsubscribed' });
    });
    return teardown;
  });
}
