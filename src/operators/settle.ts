import {
  catchError,
  defer,
  finalize,
  from,
  share,
  switchMap,
  take,
  takeUntil,
  tap,
  isObservable,
  last,
  map,
  merge,
  mergeMap,
  of,
  race,
  timer,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { Leased } from '../client/core/lease.js';
import type { NackOptions } from '../client/core/settler.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { checkFraction, keepAlive } from './renewLease.js';
import { HandlerAbandonedError, HandlerTimeoutError, type HandlerContext } from './types.js';
import { untilOf, type DrainOptions } from '../client/core/drain.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../client/core/leasing-source.js';
import { checkSlowHandlerMs, reportIfSlow, type SlowHandlerWatch } from '../client/core/slow-handler.js';

/** A handler's result: a value, a Promise of one, or an Observable (its last value counts). */
export type HandlerResult<R> = R | PromiseLike<R> | Observable<R>;

/** Options of `settle`. */
export interface SettleOptions extends DrainOptions {
  /** Items handled at once (`mergeMap` concurrency). Default 1. */
  readonly concurrency?: number;
  /** A handler still running after this many ms fails with `HandlerTimeoutError` (its item is nacked). Default: none. */
  readonly timeoutMs?: number;
  /**
   * Nack to the DLQ (`toDlq: true`) when the failed delivery was at least the N-th, i.e. after N
   * failed attempts. Needs the item's delivery count (`lease.deliveryCount`, or the item's own
   * `deliveryCount` field); without it the nack is a plain one. Default: never (the server's own
   * limit applies).
   */
  readonly toDlqAfter?: number;
  /** Redelivery delay of the nack after a failure, in ms (stream groups). Default: at once. */
  readonly nackDelayMs?: number;
  /** Touch the lease while the handler runs: `true` (every half lease) or `{ fraction }`. Default false. */
  readonly renewLease?: boolean | { readonly fraction?: number };
  /**
   * A handler still running after this many ms is reported once, while it runs, through the item's
   * client (a `slow-handler` event on `flo.events$` and a `warn` line in its logger). `Infinity`
   * turns it off. Default: the client's `slowHandlerMs` (10 000).
   */
  readonly slowHandlerMs?: number;
  /** Scheduler of the timeout, renewal and slow-handler timers (virtual time in tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** What `settle` emits per item: the outcome, and the handler's result or error. */
export interface SettleResult<T, R = unknown> {
  readonly item: T;
  /** `'acked'` when the handler succeeded, `'nacked'` when it failed or timed out. */
  readonly outcome: 'acked' | 'nacked';
  /** The handler's result (when acked). */
  readonly result?: R;
  /** Why the handler failed (when nacked): what it threw, or a `HandlerTimeoutError`. */
  readonly error?: unknown;
  /**
   * The ack or nack request itself failed (e.g. the connection dropped): the item was released
   * locally and the server redelivers it when its lease runs out.
   */
  readonly settleError?: unknown;
}

function toObservable<R>(value: HandlerResult<R>): Observable<R> {
  if (isObservable(value)) return value;
  if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<R>).then === 'function') {
    return from(value as PromiseLike<R>);
  }
  return of(value as R);
}

function deliveryCountOf(item: Leased): number | undefined {
  const own = (item as { deliveryCount?: unknown }).deliveryCount;
  return item.lease.deliveryCount ?? (typeof own === 'number' ? own : undefined);
}

/**
 * Settle-on-result: runs `handler` for each leased item, at most `concurrency` at a time (a
 * handler's slot frees when the handler ends, while its ack or nack is on its way); acks the
 * item when the handler succeeds, nacks it when it throws, rejects, errors or times out, and emits
 * one `SettleResult` per item. Handler failures never end the pipeline (they are reported in the
 * result), nor do failed settle requests (`settleError`); only a source error does.
 *
 * With `concurrency` equal to the source's `maxInFlight`, a leasing source keeps exactly that many
 * items in work.
 *
 * ```
 * items:                     -a-b-c----
 * handler:  a → --x|, b → #, c → -y|
 * settle(handler, { concurrency: 3 }):
 *                            ---B--(A)C   (A: acked a, B: nacked b, C: acked c)
 * ```
 *
 * @example
 * flo.stream.group('orders', 'billing', { consumer: 'w1' })
 *   .pipe(settle((rec) => bill(rec.data<Order>()), { concurrency: 8, timeoutMs: 30_000, toDlqAfter: 5 }))
 *   .subscribe((r) => r.outcome === 'nacked' && log.warn(r.error));
 */
export function settle<T extends Leased, R>(
  handler: (item: T, context: HandlerContext) => HandlerResult<R>,
  options: SettleOptions = {},
): OperatorFunction<T, SettleResult<T, R>> {
  const { concurrency = 1, timeoutMs, toDlqAfter, nackDelayMs, scheduler, drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS } = options;
  const until = untilOf(options.until);
  if (!(Number.isInteger(concurrency) && concurrency >= 1) && concurrency !== Infinity) {
    throw new InvalidArgumentError(`settle concurrency must be a positive integer, got ${concurrency}`);
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new InvalidArgumentError(`settle timeoutMs must be > 0, got ${timeoutMs}`);
  const renew = options.renewLease === true ? { fraction: 0.5 } : options.renewLease || undefined;
  if (renew) checkFraction(renew.fraction ?? 0.5);
  const slowHandlerMs = options.slowHandlerMs === undefined ? undefined : checkSlowHandlerMs(options.slowHandlerMs, 'settle slowHandlerMs');
  /** Where a slow handler of `item` is reported: its client, if the lease knows it. */
  const slowWatch = (item: T): SlowHandlerWatch | undefined => {
    const context = item.lease.context;
    const thresholdMs = slowHandlerMs ?? context?.slowHandlerMs ?? Infinity;
    if (context === undefined || thresholdMs === Infinity) return undefined;
    return { emit: context.emit, thresholdMs, source: context.source, itemId: () => item.lease.itemId ?? '', scheduler };
  };

  /** Per subscription: whether a drain began, and the abort controllers of the running handlers. */
  interface Run {
    draining: boolean;
    readonly running: Set<AbortController>;
  }
  type Done = { ok: true; result: R } | { ok: false; error: unknown };
  /** How one item's handler ended; `handBack` items (buffered when a drain began) get a plain nack. */
  type Handled = { readonly item: T; readonly done: Done; readonly handBack?: true };

  /** Runs the handler of one item (and its lease renewal); emits how it ended. */
  const handle = (item: T, run: Run): Observable<Handled> => {
    if (run.draining) {
      // Buffered when the drain began: hand it back unrun.
      return of<Handled>({ item, done: { ok: false, error: new HandlerAbandonedError('draining') }, handBack: true });
    }
    const abort = new AbortController();
    let finished = false;
    let work$: Observable<Done> = defer(() => {
      run.running.add(abort);
      return toObservable(handler(item, { signal: abort.signal }));
    }).pipe(
      last(null, undefined as R),
      map((result): Done => ({ ok: true, result })),
    );
    const limits: Observable<Done>[] = [
      // The drain deadline, or the lease handed back by its source while the handler runs.
      new Observable<Done>((s) => {
        const onAbort = () => {
          s.next({ ok: false, error: abort.signal.reason });
          s.complete();
        };
        abort.signal.addEventListener('abort', onAbort, { once: true });
        const handedBack = item.lease.settled$.subscribe(() => {
          if (!finished) abort.abort(new HandlerAbandonedError('handed-back'));
        });
        return () => {
          abort.signal.removeEventListener('abort', onAbort);
          handedBack.unsubscribe();
        };
      }),
    ];
    if (timeoutMs !== undefined) {
      limits.push(timer(timeoutMs, scheduler).pipe(map((): Done => ({ ok: false, error: new HandlerTimeoutError(timeoutMs) }))));
    }
    work$ = race(work$, ...limits).pipe(
      reportIfSlow(slowWatch(item)),
      tap((done) => {
        finished = true;
        run.running.delete(abort);
        if (!done.ok && !abort.signal.aborted && done.error instanceof HandlerTimeoutError) abort.abort(done.error);
      }),
      finalize(() => {
        run.running.delete(abort);
        if (!finished && !abort.signal.aborted) abort.abort(new HandlerAbandonedError('unsubscribed'));
      }),
    );
    const handled$ = work$.pipe(
      catchError((error: unknown) => of<Done>({ ok: false, error })),
      map((done): Handled => ({ item, done })),
    );
    // The renewal stops at the settle, which the next stage requests as soon as this emits.
    return renew ? merge(keepAlive(item.lease, { ...renew, ...(scheduler ? { scheduler } : {}) }), handled$) : handled$;
  };

  /** Acks or nacks one handled item; emits its result when the server has answered. */
  const settleOne = ({ item, done, handBack }: Handled): Observable<SettleResult<T, R>> => {
    if (done.ok) {
      const acked: SettleResult<T, R> = { item, outcome: 'acked', result: done.result };
      return item.lease.ack().pipe(
        last(null, undefined),
        map(() => acked),
        catchError((settleError: unknown) => of({ ...acked, settleError })),
      );
    }
    const count = deliveryCountOf(item);
    const nackOptions: NackOptions = handBack
      ? {}
      : {
          ...(toDlqAfter !== undefined && count !== undefined && count >= toDlqAfter ? { toDlq: true } : {}),
          ...(nackDelayMs !== undefined ? { delayMs: nackDelayMs } : {}),
        };
    const nacked: SettleResult<T, R> = { item, outcome: 'nacked', error: done.error };
    return item.lease.nack(nackOptions).pipe(
      last(null, undefined),
      map(() => nacked),
      catchError((settleError: unknown) => of({ ...nacked, settleError })),
    );
  };

  // A handler's slot frees when the handler ends, not when its ack's reply comes back: the next
  // item starts at once and the settles of one tick still go out as one request. The settles in
  // flight are bounded by the source (a leasing source counts an item until it is settled).
  const pipeline = (run: Run, source: Observable<T>) =>
    source.pipe(
      mergeMap((item) => handle(item, run), concurrency),
      mergeMap(settleOne),
    );

  if (until === undefined) {
    return (source) => defer(() => pipeline({ draining: false, running: new Set() }, source));
  }
  return (source) =>
    defer(() => {
      const run: Run = { draining: false, running: new Set() };
      const stop$ = new Observable<void>((s) =>
        from(until).subscribe({ next: () => s.next(), complete: () => s.next(), error: () => s.next() }),
      ).pipe(take(1), share());
      // At the drain deadline the handlers still running are aborted; their items are nacked.
      const deadline$ = stop$.pipe(
        tap(() => (run.draining = true)),
        switchMap(() => timer(drainTimeoutMs, scheduler)),
        tap(() => {
          for (const abort of [...run.running]) abort.abort(new HandlerAbandonedError('drain-deadline'));
        }),
      );
      return new Observable<SettleResult<T, R>>((subscriber) => {
        const deadlineSub = deadline$.subscribe();
        const sub = pipeline(run, source.pipe(takeUntil(stop$))).subscribe(subscriber);
        sub.add(deadlineSub);
        return sub;
      });
    });
}
