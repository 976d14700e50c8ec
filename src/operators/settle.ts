import {
  asyncScheduler,
  defer,
  from,
  share,
  switchMap,
  take,
  takeUntil,
  tap,
  timer,
  isObservable,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Unsubscribable,
} from 'rxjs';
import type { Leased } from '../client/core/lease.js';
import { onLeaseSettled, settleLease } from '../client/core/lease-settle.js';
import type { NackOptions } from '../client/core/settler.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import { checkFraction, keepAlive, type RenewLeaseOptions } from './renewLease.js';
import { HandlerAbandonedError, HandlerTimeoutError, type HandlerContext } from './types.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, untilOf, type DrainOptions } from '../client/core/drain.js';
import { checkSlowHandlerMs } from '../client/core/slow-handler.js';

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

function deliveryCountOf(item: Leased): number | undefined {
  const own = (item as { deliveryCount?: unknown }).deliveryCount;
  return item.lease.deliveryCount ?? (typeof own === 'number' ? own : undefined);
}

const NO_OPTIONS: NackOptions = {};

/** Per subscription of `settle`: whether a drain began, and the handlers running. */
interface Run {
  draining: boolean;
  readonly running: Set<HandlerRun<never, unknown>>;
}
type Done<R> = { ok: true; result: R } | { ok: false; error: unknown };
/** How one item's handler ended; `handBack` items (buffered when a drain began) get a plain nack. */
type Handled<T, R> = { readonly item: T; readonly done: Done<R>; readonly handBack?: true };

/** What bounds a handler run, resolved once per `settle` call. */
interface HandlerLimits {
  readonly timeoutMs: number | undefined;
  /** The operator's own threshold; undefined: the item's client's. */
  readonly slowHandlerMs: number | undefined;
  readonly renew: RenewLeaseOptions | undefined;
  readonly scheduler: SchedulerLike;
}

/**
 * The `HandlerContext` of one handler: its AbortSignal is made when the handler first reads it
 * (most handlers never do), already aborted if the run was.
 */
class LazySignalContext implements HandlerContext {
  private controller_: AbortController | undefined = undefined;
  private reason_: unknown = undefined;
  aborted = false;

  get signal(): AbortSignal {
    if (this.controller_ === undefined) {
      this.controller_ = new AbortController();
      if (this.aborted) this.controller_.abort(this.reason_);
    }
    return this.controller_.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason_ = reason;
    this.controller_?.abort(reason);
  }
}

/**
 * One item's handler under `settle`: runs it, takes its result (a value, a Promise's value, an
 * Observable's last value), and ends it early when a limit strikes: `timeoutMs`, the drain
 * deadline (`stop`), the item's lease handed back by its source. Reports a slow handler once.
 * Reports how it ended to `onEnd`, once; `unsubscribe` cuts it short without a report (its
 * signal aborts with `HandlerAbandonedError('unsubscribed')`). A handler that returns a plain
 * value arms no timer at all.
 */
class HandlerRun<T extends Leased, R> implements Unsubscribable {
  readonly #context = new LazySignalContext();
  #finished = false;
  /** The handler's Observable or Promise outcome, the timeout, the slow-handler report, the renewal. */
  #work: Unsubscribable | undefined = undefined;
  #timeout: Unsubscribable | undefined = undefined;
  #slow: Unsubscribable | undefined = undefined;
  #renewal: Unsubscribable | undefined = undefined;
  #last: R | undefined = undefined;

  readonly #item: T;
  readonly #handler: (item: T, context: HandlerContext) => HandlerResult<R>;
  readonly #run: Run;
  readonly #limits: HandlerLimits;
  readonly #onEnd: (handled: Handled<T, R>) => void;

  constructor(
    item: T,
    handler: (item: T, context: HandlerContext) => HandlerResult<R>,
    run: Run,
    limits: HandlerLimits,
    onEnd: (handled: Handled<T, R>) => void,
  ) {
    this.#item = item;
    this.#handler = handler;
    this.#run = run;
    this.#limits = limits;
    this.#onEnd = onEnd;
  }

  start(): void {
    const item = this.#item;
    const limits = this.#limits;
    this.#run.running.add(this as unknown as HandlerRun<never, unknown>);
    const startedAt = limits.scheduler.now();
    let result: HandlerResult<R>;
    try {
      result = this.#handler(item, this.#context);
    } catch (error) {
      this.#end({ ok: false, error });
      return;
    }
    if (isObservable(result)) {
      const work = result.subscribe({
        next: (value) => (this.#last = value),
        error: (error: unknown) => this.#end({ ok: false, error }),
        complete: () => this.#end({ ok: true, result: this.#last as R }),
      });
      if (this.#finished) return;
      this.#work = work;
    } else if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<R>).then === 'function') {
      (result as PromiseLike<R>).then(
        (value) => this.#end({ ok: true, result: value }),
        (error: unknown) => this.#end({ ok: false, error }),
      );
    } else {
      this.#end({ ok: true, result: result as R });
      return;
    }
    // Still running: arm the limits.
    const { timeoutMs, scheduler } = limits;
    if (timeoutMs !== undefined) {
      this.#timeout = scheduler.schedule(() => this.#end({ ok: false, error: new HandlerTimeoutError(timeoutMs) }), timeoutMs);
    }
    const context = item.lease.context;
    const thresholdMs = limits.slowHandlerMs ?? context?.slowHandlerMs ?? Infinity;
    if (context !== undefined && thresholdMs !== Infinity) {
      this.#slow = scheduler.schedule(
        () =>
          context.emit({
            type: 'slow-handler',
            source: context.source,
            itemId: item.lease.itemId ?? '',
            elapsedMs: Math.round(scheduler.now() - startedAt),
            thresholdMs,
          }),
        Math.max(0, thresholdMs - (scheduler.now() - startedAt)),
      );
    }
    onLeaseSettled(item.lease, () => {
      if (!this.#finished) this.stop(new HandlerAbandonedError('handed-back'));
    });
    // The renewal stops at the settle (`keepAlive` ends with `settled$`), or with this run.
    if (limits.renew !== undefined && !this.#finished) this.#renewal = keepAlive(item.lease, limits.renew).subscribe();
  }

  /** Ends the run now with `reason` as its failure (drain deadline, lease handed back). */
  stop(reason: unknown): void {
    if (this.#finished) return;
    this.#context.abort(reason);
    this.#end({ ok: false, error: reason });
  }

  #end(done: Done<R>): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#release();
    this.#renewal?.unsubscribe();
    if (!done.ok && done.error instanceof HandlerTimeoutError) this.#context.abort(done.error);
    this.#onEnd({ item: this.#item, done });
  }

  /** Leaves the running set and stops the handler's work and the timers. */
  #release(): void {
    this.#run.running.delete(this as unknown as HandlerRun<never, unknown>);
    this.#work?.unsubscribe();
    this.#timeout?.unsubscribe();
    this.#slow?.unsubscribe();
  }

  unsubscribe(): void {
    if (!this.#finished) {
      this.#finished = true;
      this.#release();
      this.#context.abort(new HandlerAbandonedError('unsubscribed'));
    }
    this.#renewal?.unsubscribe();
  }
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

  const renewOptions = renew ? { ...renew, ...(scheduler ? { scheduler } : {}) } : undefined;
  const limits: HandlerLimits = { timeoutMs, slowHandlerMs, renew: renewOptions, scheduler: scheduler ?? asyncScheduler };

  /** Acks or nacks one handled item; `done` gets its result when the server has answered. */
  const settleOne = ({ item, done, handBack }: Handled<T, R>, reply: (result: SettleResult<T, R>) => void): void => {
    let result: SettleResult<T, R>;
    let options: NackOptions = NO_OPTIONS;
    if (done.ok) {
      result = { item, outcome: 'acked', result: done.result };
    } else {
      result = { item, outcome: 'nacked', error: done.error };
      if (!handBack) {
        const count = deliveryCountOf(item);
        options = {
          ...(toDlqAfter !== undefined && count !== undefined && count >= toDlqAfter ? { toDlq: true } : {}),
          ...(nackDelayMs !== undefined ? { delayMs: nackDelayMs } : {}),
        };
      }
    }
    settleLease(
      item.lease,
      result.outcome,
      options,
      (settleError: unknown) => reply(settleError === undefined ? result : { ...result, settleError }),
    );
  };

  /**
   * Runs the handlers (at most `concurrency` at once, the rest of the items buffered in arrival
   * order) and settles each item as its handler ends; emits each item's result when the server has
   * answered its settle. Completes once the source has, every handler has ended and every result
   * is out. A handler's slot frees when the handler ends, not when its ack's reply comes back: the
   * next item starts at once and the settles of one tick still go out as one request (the settles
   * in flight are bounded by the source: a leasing source counts an item until it is settled).
   * Unsubscribing cuts the running handlers short (their signals abort) and drops the buffer.
   *
   * One subscriber for the whole stage rather than `mergeMap(handle, concurrency)` and a settle
   * stage: an inner Observable and subscriber per item and their removal from `mergeMap`'s
   * subscription list (`arrRemove`) showed in the consumer profile.
   */
  const pipeline = (run: Run, source: Observable<T>): Observable<SettleResult<T, R>> =>
    new Observable<SettleResult<T, R>>((subscriber) => {
      /** Handlers running now. */
      let active = 0;
      /** Items waiting for a free slot. */
      const waiting: T[] = [];
      let waitingAt = 0;
      /** Settles requested whose reply has not come back. */
      let settling = 0;
      let sourceDone = false;
      /** True while `startWaiting` runs: a handler that ends at once does not recurse into it. */
      let starting = false;

      const maybeComplete = (): void => {
        if (sourceDone && active === 0 && waitingAt === waiting.length && settling === 0) subscriber.complete();
      };
      const reply = (result: SettleResult<T, R>): void => {
        if (subscriber.closed) return;
        settling--;
        subscriber.next(result);
        maybeComplete();
      };
      const settleHandled = (handled: Handled<T, R>): void => {
        settling++;
        settleOne(handled, reply);
      };
      const ended = (handled: Handled<T, R>): void => {
        active--;
        if (subscriber.closed) return;
        // Runs in the handler's own callbacks (a Promise's, an Observable's): what throws here ends
        // this pipeline, as it did inside `mergeMap`, instead of escaping into the handler's code.
        try {
          settleHandled(handled);
          startWaiting();
        } catch (error) {
          subscriber.error(error);
          return;
        }
        maybeComplete();
      };
      const start = (item: T): void => {
        if (run.draining) {
          // Buffered when the drain began: hand it back unrun.
          settleHandled({ item, done: { ok: false, error: new HandlerAbandonedError('draining') }, handBack: true });
          return;
        }
        active++;
        new HandlerRun(item, handler, run, limits, ended).start();
      };
      const startWaiting = (): void => {
        if (starting) return;
        starting = true;
        try {
          while (waitingAt < waiting.length && active < concurrency && !subscriber.closed) {
            const item = waiting[waitingAt];
            waiting[waitingAt++] = undefined as unknown as T;
            if (waitingAt === waiting.length) {
              waiting.length = 0;
              waitingAt = 0;
            }
            start(item);
          }
        } finally {
          starting = false;
        }
      };

      const sourceSub = source.subscribe({
        next: (item) => {
          try {
            if (active < concurrency && waitingAt === waiting.length) start(item);
            else waiting.push(item);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        sourceSub.unsubscribe();
        waiting.length = 0;
        waitingAt = 0;
        for (const handlerRun of [...run.running]) handlerRun.unsubscribe();
      };
    });

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
          for (const handlerRun of [...run.running]) handlerRun.stop(new HandlerAbandonedError('drain-deadline'));
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
