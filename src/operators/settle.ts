import {
  catchError,
  defer,
  from,
  isObservable,
  last,
  map,
  merge,
  mergeMap,
  of,
  race,
  timer,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { Leased } from '../client/core/lease.js';
import type { NackOptions } from '../client/core/settler.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { checkFraction, keepAlive } from './renewLease.js';
import { HandlerTimeoutError } from './types.js';

/** A handler's result: a value, a Promise of one, or an Observable (its last value counts). */
export type HandlerResult<R> = R | PromiseLike<R> | Observable<R>;

export interface SettleOptions {
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
  /** Scheduler of the timeout and renewal timers (virtual time in tests). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

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
  handler: (item: T) => HandlerResult<R>,
  options: SettleOptions = {},
): OperatorFunction<T, SettleResult<T, R>> {
  const { concurrency = 1, timeoutMs, toDlqAfter, nackDelayMs, scheduler } = options;
  if (!(Number.isInteger(concurrency) && concurrency >= 1) && concurrency !== Infinity) {
    throw new InvalidArgumentError(`settle concurrency must be a positive integer, got ${concurrency}`);
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new InvalidArgumentError(`settle timeoutMs must be > 0, got ${timeoutMs}`);
  const renew = options.renewLease === true ? { fraction: 0.5 } : options.renewLease || undefined;
  if (renew) checkFraction(renew.fraction ?? 0.5);

  type Done = { ok: true; result: R } | { ok: false; error: unknown };
  type Handled = { readonly item: T; readonly done: Done };

  /** Runs the handler of one item (and its lease renewal); emits how it ended. */
  const handle = (item: T): Observable<Handled> => {
    let work$: Observable<Done> = defer(() => toObservable(handler(item))).pipe(
      last(null, undefined as R),
      map((result): Done => ({ ok: true, result })),
    );
    if (timeoutMs !== undefined) {
      work$ = race(
        work$,
        timer(timeoutMs, scheduler).pipe(map((): Done => ({ ok: false, error: new HandlerTimeoutError(timeoutMs) }))),
      );
    }
    const handled$ = work$.pipe(
      catchError((error: unknown) => of<Done>({ ok: false, error })),
      map((done): Handled => ({ item, done })),
    );
    // The renewal stops at the settle, which the next stage requests as soon as this emits.
    return renew ? merge(keepAlive(item.lease, { ...renew, ...(scheduler ? { scheduler } : {}) }), handled$) : handled$;
  };

  /** Acks or nacks one handled item; emits its result when the server has answered. */
  const settleOne = ({ item, done }: Handled): Observable<SettleResult<T, R>> => {
    if (done.ok) {
      const acked: SettleResult<T, R> = { item, outcome: 'acked', result: done.result };
      return item.lease.ack().pipe(
        last(null, undefined),
        map(() => acked),
        catchError((settleError: unknown) => of({ ...acked, settleError })),
      );
    }
    const count = deliveryCountOf(item);
    const nackOptions: NackOptions = {
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
  return (source) => source.pipe(mergeMap(handle, concurrency), mergeMap(settleOne));
}
