import { AsyncSubject, defer, Observable } from 'rxjs';
import type { SettleCoalescer } from './coalescer.js';
import type { NackOptions, Settler, TouchOptions } from './settler.js';
import type { FloEvent } from '../../observability/events.js';

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

class ItemLease<Id> implements Lease {
  readonly leaseMs: number;
  readonly deliveryCount?: number;
  readonly context?: LeaseContext;
  private readonly coalescer: SettleCoalescer;
  private readonly formatId: ((id: Id) => string) | undefined;
  private readonly settledSubject = new AsyncSubject<LeaseOutcome>();
  readonly settled$: Observable<LeaseOutcome> = this.settledSubject.asObservable();
  outcome: LeaseOutcome | undefined;
  private first: { op: LeaseOutcome; options: NackOptions } | undefined;
  /** The settle request in flight or done; undefined before the first one and after a failure. */
  private request: AsyncSubject<void> | undefined;

  constructor(
    private readonly id: Id,
    private readonly settler: Settler<Id>,
    init: LeaseInit,
  ) {
    this.leaseMs = init.leaseMs;
    if (init.deliveryCount !== undefined) this.deliveryCount = init.deliveryCount;
    this.coalescer = init.coalescer;
    if (init.context !== undefined) this.context = init.context;
    this.formatId = init.formatId as ((id: Id) => string) | undefined;
  }

  get itemId(): string {
    return this.formatId ? this.formatId(this.id) : String(this.id);
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  ack(): Observable<void> {
    return this.settle('acked', {});
  }

  nack(options: NackOptions = {}): Observable<void> {
    return this.settle('nacked', options);
  }

  touch(options: TouchOptions = {}): Observable<void> {
    return defer(() => (this.settled ? doneAtOnce : this.coalescer.touch(this.settler, this.id, options)));
  }

  private settle(op: LeaseOutcome, options: NackOptions): Observable<void> {
    return defer(() => {
      if (!this.request) {
        this.first ??= { op, options };
        const { op: firstOp, options: firstOptions } = this.first;
        const request = new AsyncSubject<void>();
        this.request = request;
        const sent =
          firstOp === 'acked'
            ? this.coalescer.ack(this.settler, this.id)
            : this.coalescer.nack(this.settler, this.id, firstOptions);
        if (!this.outcome) {
          this.outcome = firstOp;
          this.settledSubject.next(firstOp);
          this.settledSubject.complete();
        }
        sent.subscribe({
          next: () => undefined,
          error: (e: unknown) => {
            if (this.request === request) this.request = undefined;
            request.error(e);
          },
          complete: () => {
            request.next(undefined);
            request.complete();
          },
        });
      }
      return this.request;
    });
  }
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
 * Hands leased items back at once: a plain nack with no delay (DECISIONS #5: the protocol has no
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
