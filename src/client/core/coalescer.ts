import { asapScheduler, Observable, Subject, takeUntil, type SchedulerLike, type Subscription } from 'rxjs';
import type { NackOptions, SettleOp, Settler, TouchOptions } from './settler.js';

/**
 * Decides whether a failed settle request is sent again: an Observable that emits when it may be
 * resent (e.g. once the connection is back), or `undefined` to report the error to the callers.
 */
export type ResendPolicy = (error: unknown, attempt: number, batch: { readonly op: SettleOp; readonly count: number }) => Observable<unknown> | undefined;

/**
 * Told once how the request of the batch a settle joined went (`SettleCoalescer.join`): the
 * leases themselves, or the subscriber of an `ack()`/`nack()`/`touch()` Observable.
 */
export interface SettleWaiter {
  settleSucceeded(): void;
  settleFailed(error: unknown): void;
}

interface Batch<Id> {
  readonly settler: Settler<Id>;
  readonly op: SettleOp;
  readonly options: NackOptions | TouchOptions;
  /** The ids to send, each once (in the order they first joined). */
  readonly ids: Id[];
  /**
   * The ids already in `ids`, made when an id joins that could be there already (see `join`):
   * most batches are a tick's leases settling, which need no set (no hash per id).
   */
  seen: Set<Id> | undefined;
  /** Told when the request succeeds or finally fails; one per join. */
  readonly waiters: SettleWaiter[];
  readonly key: string;
  action?: Subscription;
}

/** Tells the subscriber of a coalesced settle (`ack()`, `nack()`, `touch()` Observables). */
class SubscriberWaiter implements SettleWaiter {
  private readonly subscriber_: { next(v: void): void; complete(): void; error(e: unknown): void };
  constructor(subscriber_: { next(v: void): void; complete(): void; error(e: unknown): void }) {
    this.subscriber_ = subscriber_;
  }
  settleSucceeded(): void {
    this.subscriber_.next(undefined);
    this.subscriber_.complete();
  }
  settleFailed(error: unknown): void {
    this.subscriber_.error(error);
  }
}

const optionsKey = (op: SettleOp, options: NackOptions & TouchOptions): string =>
  op === 'ack'
    ? 'ack'
    : op === 'nack'
      ? `nack:${options.toDlq === true ? 1 : 0}:${options.delayMs ?? ''}`
      : `touch:${options.extendMs ?? ''}`;

/**
 * Coalesces settles: the acks (or nacks, or touches) requested within one tick for the same settler,
 * op and options go out as ONE request, sent when the tick ends (flushed on `asapScheduler`, virtual
 * in `TestScheduler.run`). One per client; leases reach it through `createLease`.
 *
 * Each request method returns an Observable that joins the batch when subscribed and emits
 * `undefined` then completes when that batch's request succeeds, or errors with its error. A settle,
 * once joined, is sent even if its subscriber leaves before the tick ends (only the notification is
 * dropped): a settle is a promise made to the server, not a read.
 */
export class SettleCoalescer {
  private readonly scheduler_: SchedulerLike;
  /** Batches waiting for the end of the tick, by settler then by op+options. */
  private readonly open_ = new Map<Settler<unknown>, Map<string, Batch<unknown>>>();
  /** Requests sent and not yet answered. */
  private readonly inFlight_ = new Set<Batch<unknown>>();

  private readonly resend_: ResendPolicy | undefined;
  /** Emits when `flush()` starts: settles waiting to be resent give up (the client is closing). */
  private readonly flushing_ = new Subject<void>();

  constructor(options: { scheduler?: SchedulerLike; resend?: ResendPolicy } = {}) {
    this.scheduler_ = options.scheduler ?? asapScheduler;
    this.resend_ = options.resend;
  }

  ack<Id>(settler: Settler<Id>, id: Id): Observable<void> {
    return this.enqueue_(settler, 'ack', {}, id);
  }

  nack<Id>(settler: Settler<Id>, id: Id, options: NackOptions = {}): Observable<void> {
    return this.enqueue_(settler, 'nack', options, id);
  }

  touch<Id>(settler: Settler<Id>, id: Id, options: TouchOptions = {}): Observable<void> {
    return this.enqueue_(settler, 'touch', options, id);
  }

  /** Number of settles waiting for the end of the tick. */
  get pending(): number {
    let n = 0;
    for (const batches of this.open_.values()) for (const b of batches.values()) n += b.ids.length;
    return n;
  }

  /**
   * Sends every waiting batch now and resolves when all settle requests sent so far have been
   * answered (failures included: they were reported to their callers). Settles waiting for the
   * connection to come back to be resent give up with their error. `client.close()` uses it.
   */
  async flush(): Promise<void> {
    this.flushing_.next();
    for (const batches of [...this.open_.values()]) for (const b of [...batches.values()]) this.send_(b);
    const waiting = [...this.inFlight_].map(
      (batch) =>
        new Promise<void>((resolve) => {
          batch.waiters.push({ settleSucceeded: resolve, settleFailed: () => resolve() });
        }),
    );
    await Promise.all(waiting);
  }

  /**
   * Adds `id` to the batch of this tick for (settler, op, options), once (an id already there is
   * not sent twice); `waiter` is told how its request went. The callback form of
   * `ack`/`nack`/`touch`, with no Observable per settle: the leases use it (a consumer pipeline
   * settles every item it sees). `leaseId`: the caller vouches that `id`, if an object, is not in
   * the batch yet (a lease joins a batch once, and its id object is its own), so an object id
   * skips the duplicate check; primitive ids (a queue's seqs) are always checked.
   */
  join<Id>(settler: Settler<Id>, op: SettleOp, options: NackOptions & TouchOptions, id: Id, waiter: SettleWaiter, leaseId = false): void {
    const batch = this.batchFor_(settler, op, options);
    const ids = batch.ids;
    if (leaseId && batch.seen === undefined && typeof id === 'object' && id !== null) ids.push(id);
    else {
      const seen = (batch.seen ??= new Set(ids));
      if (!seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    batch.waiters.push(waiter);
    if (settler.maxBatch !== undefined && ids.length >= settler.maxBatch) this.send_(batch as Batch<unknown>);
  }

  private enqueue_<Id>(settler: Settler<Id>, op: SettleOp, options: NackOptions & TouchOptions, id: Id): Observable<void> {
    // The subscriber is told even after it left; RxJS drops what reaches a closed subscriber.
    return new Observable<void>((subscriber) => this.join(settler, op, options, id, new SubscriberWaiter(subscriber)));
  }

  private batchFor_<Id>(settler: Settler<Id>, op: SettleOp, options: NackOptions & TouchOptions): Batch<Id> {
    let batches = this.open_.get(settler as Settler<unknown>);
    if (!batches) {
      batches = new Map();
      this.open_.set(settler as Settler<unknown>, batches);
    }
    const key = optionsKey(op, options);
    let batch = batches.get(key) as Batch<Id> | undefined;
    if (!batch) {
      const created: Batch<Id> = { settler, op, options: { ...options }, ids: [], seen: undefined, waiters: [], key };
      created.action = this.scheduler_.schedule(() => this.send_(created as Batch<unknown>));
      batch = created;
      batches.set(key, batch as Batch<unknown>);
    }
    return batch;
  }

  private send_(batch: Batch<unknown>): void {
    const batches = this.open_.get(batch.settler);
    if (batches?.get(batch.key) !== batch) return; // already sent
    batches.delete(batch.key);
    if (batches.size === 0) this.open_.delete(batch.settler);
    batch.action?.unsubscribe();
    // The batch has left `open`: nothing joins it any more, its array can go out as it is.
    const ids = batch.ids;
    batch.seen = undefined;
    const { settler } = batch;
    const request = () =>
      batch.op === 'ack'
        ? settler.ack(ids)
        : batch.op === 'nack'
          ? settler.nack(ids, batch.options as NackOptions)
          : settler.touch(ids, batch.options as TouchOptions);
    this.inFlight_.add(batch);
    const finish = () => this.inFlight_.delete(batch);
    const failed = (e: unknown) => {
      finish();
      for (const waiter of batch.waiters) waiter.settleFailed(e);
    };
    // A settle is a promise made to the server: one lost with the connection is sent again once
    // the connection is back (the resend policy decides), instead of failing the pipeline.
    const attempt = (n: number): void => {
      request().subscribe({
        error: (e: unknown) => {
          const again = this.resend_?.(e, n, { op: batch.op, count: ids.length });
          if (!again) {
            failed(e);
            return;
          }
          let resent = false;
          again.pipe(takeUntil(this.flushing_)).subscribe({
            next: () => {
              if (resent) return;
              resent = true;
              attempt(n + 1);
            },
            error: () => failed(e),
            complete: () => {
              if (resent) return;
              failed(e);
            },
          });
        },
        complete: () => {
          finish();
          for (const waiter of batch.waiters) waiter.settleSucceeded();
        },
      });
    };
    attempt(1);
  }
}
