import { asyncScheduler, from, merge, Observable, Subscription, take, timer, type ObservableInput, type SchedulerLike } from 'rxjs';
import type { FloEvent } from '../../observability/events.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, type DrainControl } from './drain.js';
import { InvalidArgumentError } from '../../protocol/errors.js';
import { handBack as nackAtOnce, type Leased } from './lease.js';
import { onLeaseSettled } from './lease-settle.js';
import { checkBlockMs } from './block-ms.js';
import { backoffDelay, createResumer, type ReconnectSignals } from './poll.js';

export interface LeasingSourceOptions<T extends Leased> {
  /** The connection's reconnect signals (the client's `RequestChannel`). */
  readonly signals: ReconnectSignals;
  /**
   * One finite lease request for up to `n` items with a long-poll of `blockMs`: emits the batch
   * (possibly empty) once and completes. Its `RequestSpec` must carry an `onLateReply` that decodes
   * the reply and passes the items to `handBack` (a late reply is one whose subscriber left: the
   * loop was unsubscribed or the request timed out), so that nothing leased is lost (`docs/protocol-decisions.md` #5).
   */
  readonly fetch: (n: number, blockMs: number) => Observable<readonly T[]>;
  /** Most items asked for by one request. Default 10. */
  readonly batch?: number;
  /** Most unsettled items held at once. Default: `batch`. */
  readonly maxInFlight?: number;
  /**
   * While this returns true only one request may be in flight (e.g. until a group is joined, or
   * while a group consumer claims its own pending records after a reconnect). Default: never.
   */
  readonly exclusive?: () => boolean;
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

/** The items of one reply, while some of them are not settled. */
interface HeldBatch<T> {
  readonly items: readonly T[];
  /** How many of `items` are not settled yet. */
  left: number;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * An infinite, cold source of leased items that never holds more than `maxInFlight` unsettled ones.
 *
 * Each request asks for `min(batch, free slots)` items; slots asked for count as taken, so
 * `unsettled + asked` never exceeds `maxInFlight`. While replies come back full (a backlog) and the
 * window holds a whole second batch (`maxInFlight >= 2 * batch`), a second request goes out beside
 * the first, so that the server prepares the next batch while the subscriber works through the
 * last one (with one request at a time, client and server take turns: one round trip of idle time
 * per batch). Otherwise one request at a time: an idle source parks a single long-poll, and a
 * second request never waits for less than a whole batch (no trickle of small reads).
 * A slot frees when its item settles (its lease's `settled$` fires, i.e. its `ack()`/`nack()` has
 * been requested); an empty reply only means the long-poll expired. So
 * `source.pipe(mergeMap(work, 5))` with `maxInFlight: 5` leases at most 5 items at any time.
 *
 * Lost connections, timeouts and re-joins follow `poll` (wait for the connection, `onReconnect`,
 * resume; retry a timed-out request; any other error ends the source); two requests lost with the
 * same connection share one `onReconnect`. Unsubscribing cancels the requests in flight (their late
 * replies are the subsystem's `onLateReply`'s to hand back) and sends no more lease requests.
 * What happens to items emitted and not yet settled depends on why:
 * - the subscriber walked away (`unsubscribe()`, `takeUntil`, a component destroyed): every such
 *   item, including one whose handler the unsubscribe cut short, is handed back at once (a plain
 *   nack, `handBack`), so nothing stays leased until its visibility timeout; a settle requested
 *   later is a no-op (the first settle wins);
 * - the subscriber took what it wanted (`take(n)`, `first()`, `firstValueFrom`: it unsubscribed
 *   while an item was being emitted): the items it has stay its own to settle; only the rest of the
 *   batch it never saw is handed back.
 *
 * Draining (`until` fires, or the client's `flo.drain()`): no new request; those in flight are
 * cancelled (their late replies are handed back); the source completes once every item it emitted is
 * settled, or when the drain deadline passes, handing back (nack without delay) those still
 * unsettled. So `source.pipe(settle(work))` ends with nothing left leased.
 *
 * ```
 * batch 2, maxInFlight 6, every reply 2 ms after its request, nothing settled meanwhile:
 * 0 ms  ask 2                      one request: no reply yet says there is a backlog
 * 2 ms  [a,b] full → ask 2, ask 2  two in flight: 2 unsettled + 4 asked = 6
 * 4 ms  [c,d], then [e] → ask 1    5 unsettled, 1 free; [e] came back short: one request
 * ```
 */
export function leasingSource<T extends Leased>(options: LeasingSourceOptions<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const batch = positiveInt('batch', options.batch ?? 10);
    const maxInFlight = positiveInt('maxInFlight', options.maxInFlight ?? batch);
    const exclusive = options.exclusive;
    const blockMs = checkBlockMs(options.blockMs);
    const giveBack = options.handBack ?? nackAtOnce;
    const { run, watch } = createResumer(options.signals, options);
    const teardown = new Subscription();
    teardown.add(watch.subscribe({ error: (e: unknown) => subscriber.error(e) }));

    const clock = options.scheduler ?? asyncScheduler;
    /** Early empty answers in a row. */
    let emptyStreak = 0;
    let unsettled = 0;
    /** Items asked for by the requests in flight (their slots are taken). */
    let asked = 0;
    /** The last reply brought all it asked for: there is more to read, worth a second request. */
    let flowing = false;
    /**
     * The batches holding items emitted and not settled (handed back if the subscriber leaves): a
     * batch leaves the set when its last item settles. Per batch rather than a map entry per item
     * (a per-item cost in the consumer profile); a batch with one item left keeps the batch's
     * array, at most `maxInFlight` batches of at most `batch` items.
     */
    const holds = new Set<HeldBatch<T>>();
    /** False once torn down: late settles no longer count. */
    let holding = true;
    const unsettledHeld = (): T[] => {
      const out: T[] = [];
      for (const hold of holds) for (const item of hold.items) if (!item.lease.settled) out.push(item);
      return out;
    };
    /** True while an item is being emitted (an unsubscribe then means "took enough"). */
    let emitting = false;
    let draining = false;
    const name = options.name ?? 'source';
    const emit = options.emit;
    const onDeliver = options.onDeliver;
    const registration = options.drain?.register();
    teardown.add(() => registration?.done());
    /** The requests in flight, and the pauses after early empty answers (each holds its request's turn). */
    const requests = new Set<Subscription>();
    const cancelRequests = (): void => {
      for (const r of [...requests]) r.unsubscribe();
      requests.clear();
      asked = 0;
    };
    teardown.add(cancelRequests);
    let pumping = false;
    let again = false;

    // One listener per batch for its items' leases rather than a `settled$` subscription (or a
    // closure) per item: per-item costs in the consumer profile. It may fire after the teardown
    // (`holding` is false then).
    const hold = (items: readonly T[]): void => {
      const batch: HeldBatch<T> = { items, left: 0 };
      const released = (): void => {
        if (!holding) return;
        if (--batch.left === 0) holds.delete(batch);
        unsettled--;
        if (draining) maybeDrained(false);
        else pump();
      };
      for (let i = 0; i < items.length; i++) {
        const lease = items[i]!.lease;
        if (lease.settled) continue;
        batch.left++;
        unsettled++;
        onLeaseSettled(lease, released);
      }
      if (batch.left > 0) holds.add(batch);
    };

    const deliver = (items: readonly T[]): void => {
      if (draining) {
        // Arrived after the drain began (a request that could not be cancelled in time).
        giveBack(items);
        if (items.length) emit?.({ type: 'handed-back', source: name, count: items.length, reason: 'unsubscribed' });
        return;
      }
      hold(items);
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
      if (timedOut && unsettled > 0) {
        const rest = unsettledHeld();
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
      // Cancelling the long-polls makes their replies late: the subsystem's onLateReply hands them back.
      cancelRequests();
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
          if (draining || subscriber.closed) break;
          const inFlight = requests.size;
          // A second request only while replies come back full (a backlog to read ahead of).
          if (inFlight >= 2 || (inFlight === 1 && (!flowing || exclusive?.() === true))) break;
          const free = maxInFlight - unsettled - asked;
          // Alone, a request asks for whatever is free (up to a batch); a second one waits for a
          // whole batch (so only a window of at least two batches reads ahead: splitting a batch
          // in two doubled the requests per item and cost more client CPU than the overlap saved).
          if (free <= 0 || (inFlight === 1 && free < batch)) break;
          request(Math.min(batch, free));
          again = true; // room for a second request?
        } while (again);
      } finally {
        pumping = false;
      }
    };

    const request = (n: number): void => {
      const sentAt = clock.now();
      let got = 0;
      let open = true;
      asked += n;
      /** Gives the request's slots back (once): on its reply, or when it fails or is cancelled. */
      const unask = (): void => {
        if (!open) return;
        open = false;
        asked -= n;
      };
      const turn = new Subscription(() => {
        unask();
        requests.delete(turn);
      });
      requests.add(turn);
      const done = (): void => {
        turn.unsubscribe();
        pump();
      };
      turn.add(
        run(() => options.fetch(n, blockMs)).subscribe({
          next: (items) => {
            unask(); // the items now count as unsettled instead
            got += items.length;
            flowing = items.length >= n;
            deliver(items);
          },
          error: (e: unknown) => subscriber.error(e),
          complete: () => {
            unask();
            if (got === 0) flowing = false;
            // An empty answer well before the long-poll's end is a server that could not wait:
            // pause (growing, jittered) before asking again instead of looping at once.
            const early = got === 0 && clock.now() - sentAt < blockMs / 2;
            emptyStreak = early ? emptyStreak + 1 : 0;
            if (!early) {
              done();
              return;
            }
            turn.add(timer(backoffDelay(emptyStreak), clock).subscribe(done));
          },
        }),
      );
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
      const left = emitting ? [] : unsettledHeld();
      holding = false;
      holds.clear();
      if (left.length === 0) return;
      giveBack(left);
      emit?.({ type: 'handed-back', source: name, count: left.length, reason: 'unsubscribed' });
    });
    return teardown;
  });
}
