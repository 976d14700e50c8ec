import { defer, Observable, type Subscriber } from 'rxjs';
import type { SettleCoalescer, SettleWaiter } from './coalescer.js';
import type { NackOptions, Settler, TouchOptions } from './settler.js';
import type { FloEvent } from '../../observability/events.js';
import { requestSettle, whenSettled, type CallbackLease } from './lease-settle.js';

/**
 * What a leased item knows of the client it came from: where to report events and the client's
 * slow-handler threshold. The seam through which `settle` (an operator, with no client at hand)
 * reports slow handlers to the client's logger and `events$`. One per source (queue, group).
 */
export interface LeaseContext {
  /** Reports a client event (`flo.events$`, the logger). */
  readonly emit: (event: FloEvent) => void;
  /** The client's `slowHandlerMs` (`Infinity`: never reported). */
  readonly slowHandlerMs: number;
  /** The item's source in events, e.g. `queue:jobs` or `group:orders/billing`. */
  readonly source: string;
}

/** How a leased item was settled. */
export type LeaseOutcome = 'acked' | 'nacked';

/**
 * What a leased item (queue message, group record, worker task) carries to be settled. Every item
 * of a leasing source has one, as its `lease` field.
 *
 * Settling twice is a no-op, and the first settle wins: once `ack()` or `nack()` has been
 * subscribed, any later `ack()`/`nack()` sends nothing and mirrors that first request (it emits and
 * completes when the first request succeeds, or at once if it already has). If the first request
 * fails, its callers get the error and the next `ack()`/`nack()` subscription sends again (so
 * `retry()` works); the item is released locally either way (`settled`, `settled$`), since the
 * server redelivers an item whose settle never arrived once its lease runs out.
 */
export interface Lease {
  /** The lease length the item was handed out with (visibility timeout, ack timeout), in ms. */
  readonly leaseMs: number;
  /** How many times the item has been delivered, this delivery included, when the source knows. */
  readonly deliveryCount?: number;
  /** True once `ack()` or `nack()` has been requested. */
  readonly settled: boolean;
  /** `'acked'` or `'nacked'` once settled, else undefined. */
  readonly outcome: LeaseOutcome | undefined;
  /** Emits the outcome once, when the first `ack()`/`nack()` is requested, then completes (replayed). */
  readonly settled$: Observable<LeaseOutcome>;
  /** Acknowledges the item (coalesced with the other acks of the tick). Emits once, completes. */
  ack(): Observable<void>;
  /** Gives the item back for redelivery, or to the DLQ (coalesced per tick and options). */
  nack(options?: NackOptions): Observable<void>;
  /** Extends the lease (coalesced per tick). A no-op once settled. */
  touch(options?: TouchOptions): Observable<void>;
  /**
   * The item's id as text (queue sequence number, stream record id), for logs and events. Leases
   * of the client's own sources always have one (optional so that hand-made leases in tests fit).
   */
  readonly itemId?: string;
  /** The client the item came from (leases of the client's own sources always have one). */
  readonly context?: LeaseContext;
}

/** Anything that carries a lease. */
export interface Leased {
  readonly lease: Lease;
}

export interface LeaseInit {
  readonly leaseMs: number;
  readonly deliveryCount?: number;
  /** The client's coalescer (`client.core.settles`). */
  readonly coalescer: SettleCoalescer;
  /** The client's context (events, slow-handler threshold). */
  readonly context?: LeaseContext;
  /** How to write the id as text. Default `String(id)`. */
  readonly formatId?: (id: never) => string;
}

const doneAtOnce = new Observable<void>((s) => {
  s.next(undefined);
  s.complete();
});

/**
 * How a settle went: called once, with `undefined` as the error on success, and the `arg` given
 * with it (so that one callback serves every item of a pipeline: no closure per item).
 */
export type SettleCallback<A = undefined> = (error: unknown, arg: A) => void;

/** Told the outcome of a lease once it is decided, with the lease (one listener serves many leases). */
export type SettledListener = (outcome: LeaseOutcome, lease: Lease) => void;

const NO_OPTIONS: NackOptions = {};

/**
 * The lease of one item: plain fields, no RxJS object until someone asks for one (`settled$`,
 * `ack()`, ...). A consumer pipeline makes one per item, so the lease keeps the settle state in a
 * few fields (what its source shares, `LeaseInit`, by reference; more waiters and listeners in a
 * `RareLeaseState` made on first use), and it is its own waiter in the coalescer's batch.
 */
class ItemLease<Id> implements CallbackLease, SettleWaiter {
  outcome: LeaseOutcome | undefined = undefined;
  /** The options of the first settle asked for (a resend after a failure sends it again; its op is `outcome`). */
  private firstOptions_: NackOptions = NO_OPTIONS;
  /** `idle`: nothing sent, or the last request failed; `sending`: joined a batch; `done`: succeeded. */
  private phase_: 'idle' | 'sending' | 'done' = 'idle';
  /** Told when the request in flight ends: the first caller (and its arg) in fields, any others in `rare`. */
  private waiter_: SettleCallback<unknown> | undefined = undefined;
  private waiterArg_: unknown = undefined;
  /**
   * The first `whenSettled` listener (a leasing source's), told after the `settled$` subscribers
   * (as the completion of the AsyncSubject that `settled$` used to be came after its value).
   */
  private lateListener_: SettledListener | undefined = undefined;
  /** What few leases need (more waiters or listeners, `settled$`): made on first use. */
  private rare_: RareLeaseState | undefined = undefined;
  private readonly id_: Id;
  private readonly settler_: Settler<Id>;
  private readonly init_: LeaseInit;

  constructor(
    id_: Id,
    settler_: Settler<Id>,
    /** Shared by the leases of one source (queue messages: one per message); read through the getters. */
    init_: LeaseInit,
  ) {
    this.id_ = id_;
    this.settler_ = settler_;
    this.init_ = init_;
  }

  get leaseMs(): number {
    return this.init_.leaseMs;
  }

  get deliveryCount(): number | undefined {
    return this.init_.deliveryCount;
  }

  get context(): LeaseContext | undefined {
    return this.init_.context;
  }

  get itemId(): string {
    const formatId = this.init_.formatId as ((id: Id) => string) | undefined;
    return formatId ? formatId(this.id_) : String(this.id_);
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  private get more_(): RareLeaseState {
    return (this.rare_ ??= {});
  }

  get settled$(): Observable<LeaseOutcome> {
    // Replays the outcome, like the AsyncSubject it replaces; made on first use only.
    return (this.more_.settled$ ??= new Observable<LeaseOutcome>((subscriber) => {
      if (this.outcome !== undefined) {
        subscriber.next(this.outcome);
        subscriber.complete();
        return undefined;
      }
      const listener = (outcome: LeaseOutcome) => {
        subscriber.next(outcome);
        subscriber.complete();
      };
      (this.more_.outcomeListeners ??= []).push(listener);
      return () => this.forgetListener_(listener);
    }));
  }

  /** Calls `listener` once when the outcome is decided (at once if it is), with this lease. */
  [whenSettled](listener: SettledListener): void {
    if (this.outcome !== undefined) listener(this.outcome, this);
    else if (this.lateListener_ === undefined) this.lateListener_ = listener;
    else (this.more_.lateListeners ??= []).push(listener);
  }

  private forgetListener_(listener: (outcome: LeaseOutcome) => void): void {
    const listeners = this.rare_?.outcomeListeners;
    const at = listeners === undefined ? -1 : listeners.indexOf(listener);
    if (at >= 0) listeners!.splice(at, 1);
  }

  ack(): Observable<void> {
    return new Observable<void>((subscriber) => this[requestSettle]('acked', NO_OPTIONS, tellSubscriber, subscriber));
  }

  nack(options: NackOptions = NO_OPTIONS): Observable<void> {
    return new Observable<void>((subscriber) => this[requestSettle]('nacked', options, tellSubscriber, subscriber));
  }

  touch(options: TouchOptions = {}): Observable<void> {
    return defer(() => (this.settled ? doneAtOnce : this.init_.coalescer.touch(this.settler_, this.id_, options)));
  }

  /**
   * Settles the item (the first settle wins; see `Lease`) and calls `done(error, arg)` when its
   * request has succeeded (at once if it already had; `error` undefined) or failed. The callback
   * form of `ack()`/`nack()`.
   */
  [requestSettle]<A>(op: LeaseOutcome, options: NackOptions, done: SettleCallback<A>, arg: A): void {
    if (this.phase_ === 'done') {
      done(undefined, arg);
      return;
    }
    if (this.waiter_ === undefined) {
      this.waiter_ = done as SettleCallback<unknown>;
      this.waiterArg_ = arg;
    } else (this.more_.waiters ??= []).push({ done: done as SettleCallback<unknown>, arg });
    if (this.phase_ === 'sending') return;
    this.phase_ = 'sending';
    // The outcome is told before the settle joins its batch: a settler that answers at once
    // (maxBatch 1) then finds the lease settled, as the listeners do. The first settle asked for
    // decides it (`firstOptions` with it); a resend after a failure sends that one again.
    let outcome = this.outcome;
    if (outcome === undefined) {
      outcome = op;
      this.outcome = op;
      this.firstOptions_ = options;
      const rare = this.rare_;
      const listeners = rare?.outcomeListeners;
      const lateFirst = this.lateListener_;
      const late = rare?.lateListeners;
      this.lateListener_ = undefined;
      if (rare !== undefined) {
        rare.outcomeListeners = undefined;
        rare.lateListeners = undefined;
      }
      if (listeners !== undefined) for (const listener of listeners) listener(op);
      if (lateFirst !== undefined) lateFirst(op, this);
      if (late !== undefined) for (const listener of late) listener(op, this);
    }
    // The lease joins a batch once (`phase` is 'sending' until the request ends, and then the batch
    // has gone out), so its id is vouched for (`leaseId`): see `SettleCoalescer.join`.
    if (outcome === 'acked') this.init_.coalescer.join(this.settler_, 'ack', NO_OPTIONS, this.id_, this, true);
    else this.init_.coalescer.join(this.settler_, 'nack', this.firstOptions_, this.id_, this, true);
  }

  settleSucceeded(): void {
    this.phase_ = 'done';
    this.tellWaiters_(undefined);
  }

  settleFailed(error: unknown): void {
    // The next ack()/nack() sends again (so `retry()` works); the outcome stays.
    this.phase_ = 'idle';
    this.tellWaiters_(error);
  }

  /** Tells (and forgets) the callers of the request that just ended; no argument on success. */
  private tellWaiters_(error: unknown): void {
    const first = this.waiter_;
    const firstArg = this.waiterArg_;
    const more = this.rare_?.waiters;
    this.waiter_ = undefined;
    this.waiterArg_ = undefined;
    if (more !== undefined) this.rare_!.waiters = undefined;
    first?.(error, firstArg);
    if (more !== undefined) for (const w of more) w.done(error, w.arg);
  }
}

/** The parts of a lease's state that few leases use, kept apart so that the common lease stays small. */
interface RareLeaseState {
  /** Callers of the request in flight after the first. */
  waiters?: Array<{ readonly done: SettleCallback<unknown>; readonly arg: unknown }>;
  /** Subscribers of `settled$`, told once when the outcome is decided. */
  outcomeListeners?: Array<(outcome: LeaseOutcome) => void>;
  /** `whenSettled` listeners after the first. */
  lateListeners?: SettledListener[];
  settled$?: Observable<LeaseOutcome>;
}

/** The settle callback of `ack()`/`nack()` Observables: completes (or errors) the subscriber it is given. */
function tellSubscriber(error: unknown, subscriber: Subscriber<void>): void {
  if (error !== undefined) {
    subscriber.error(error);
    return;
  }
  subscriber.next(undefined);
  subscriber.complete();
}

/**
 * Creates the lease of one item. `id` is the subsystem's opaque id for it and `settler` the
 * subsystem's settle requests, usually one settler per (namespace, queue) or (stream, group) so that
 * the settles of one tick for it coalesce into one request.
 */
export function createLease<Id>(id: Id, settler: Settler<Id>, init: LeaseInit): Lease {
  return new ItemLease(id, settler, init);
}

/**
 * Hands leased items back at once: a plain nack with no delay (`docs/protocol-decisions.md` #5: the protocol has no
 * penalty-free hand-back, so this counts one delivery attempt). Fire and forget, errors ignored (the
 * server redelivers anyway when the lease runs out). Subsystems wire it as the `onLateReply` of
 * their leasing requests, after decoding the late reply's items; the leasing source uses it for the
 * items of a batch its subscriber left before seeing.
 */
export function handBack(items: Iterable<Leased>): void {
  for (const item of items) item.lease.nack().subscribe({ error: () => undefined });
}

/** Emits the items of each batch one by one; hands back the rest of a batch its subscriber left in the middle of. */
export function eachLeased<T extends Leased>(batches: Observable<readonly T[]>): Observable<T> {
  return new Observable<T>((subscriber) =>
    batches.subscribe({
      next: (items) => {
        for (let i = 0; i < items.length; i++) {
          if (subscriber.closed) {
            handBack(items.slice(i));
            return;
          }
          subscriber.next(items[i]!);
        }
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }),
  );
}
