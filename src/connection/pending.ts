/**
 * The requests a connection knows about, by id: those waiting for their reply (`pending`) and those
 * whose subscriber left after the frame was sent (`abandoned`: their reply is still due, and goes to
 * `spec.onLateReply` when it comes). Owns `PendingRequest` and both tables; the connection decides
 * when a request settles, this file only keeps the books.
 *
 * Life of an entry: `add` (pending) → `take` (its reply came) | `settleWithError` (socket lost, closed)
 * | `forget` (deadline or unsubscribe; if its frame went out it becomes abandoned, bounded by
 * `maxAbandoned`, oldest forgotten first) → `takeLate_` (its late reply came) or dropped with the socket.
 */
import type { Unsubscribable } from 'rxjs';
import type { DeadlineItem, DeadlineList } from './deadlines.js';
import type { RequestTraceContext, TraceChannel } from './tracing.js';
import type { ReplySink, RequestSpec } from './types.js';

/** What a PendingRequest needs from its connection (keeps the connection's methods private). */
export interface RequestOwner {
  abandon(entry: PendingRequest, timedOut: boolean): void;
}

/**
 * One subscription to `request(spec)` (or one `submit(spec, sink)`). It doubles as the subscription's teardown (`unsubscribe`)
 * and as its own node in the deadline list, so a request costs no closures or timers of its own.
 */
export class PendingRequest implements Unsubscribable, DeadlineItem {
  declare readonly owner: RequestOwner;
  /** The request id (< 2^53: the wire carries it as u64). */
  declare readonly id: number;
  declare readonly spec: RequestSpec;
  declare subscriber: ReplySink | undefined;
  /** The encoded frame is `frameBuf_[frameStart_, frameEnd_)` until it is handed to the transport. */
  declare frameBuf_: Uint8Array | undefined;
  declare frameStart_: number;
  declare frameEnd_: number;
  declare readonly deadlineMs: number;
  sent = false;
  /** Settled, timed out or unsubscribed: nothing more goes to the subscriber. */
  done = false;
  deadlinePrev_: DeadlineItem | undefined = undefined;
  deadlineNext_: DeadlineItem | undefined = undefined;
  deadlineList_: DeadlineList | undefined = undefined;
  expiresAt_ = 0;
  /** The `flo-rx:request` context, when someone listened as the request started. */
  trace: RequestTraceContext | undefined = undefined;

  constructor(
    owner: RequestOwner,
    id: number,
    spec: RequestSpec,
    subscriber: ReplySink | undefined,
    frameBuf_: Uint8Array,
    frameStart_: number,
    frameEnd_: number,
    deadlineMs: number,
  ) {
    this.owner = owner;
    this.id = id;
    this.spec = spec;
    this.subscriber = subscriber;
    this.deadlineMs = deadlineMs;
    this.frameBuf_ = frameBuf_;
    this.frameStart_ = frameStart_;
    this.frameEnd_ = frameEnd_;
  }

  unsubscribe(): void {
    if (!this.done) this.owner.abandon(this, false);
  }

  /** Marks the entry done and detaches it from its deadline; returns the subscriber it had. */
  finish(): ReplySink | undefined {
    this.done = true;
    if (this.deadlineList_ !== undefined) this.deadlineList_.remove(this);
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    return subscriber;
  }
}

export class PendingTable {
  /**
   * The oldest pending request when it came while none was pending: one request at a time never
   * touches the map (a set, a get and a delete per request, ~0.1 µs with the map's rehashing of an
   * ever-growing run of integer keys). Always older than every request in `pending_`.
   */
  private lone_: PendingRequest | undefined = undefined;
  private readonly pending_ = new Map<number, PendingRequest>();
  private readonly abandoned_ = new Map<number, PendingRequest>();
  /** Where a traced request's failure is published. */
  trace: TraceChannel | undefined;
  private declare readonly maxAbandoned_: number;

  constructor(maxAbandoned_: number) {
    this.maxAbandoned_ = maxAbandoned_;
  }

  /** Requests waiting for their reply, sent or queued. */
  get size(): number {
    return this.pending_.size + (this.lone_ === undefined ? 0 : 1);
  }

  add(entry: PendingRequest): void {
    if (this.lone_ === undefined && this.pending_.size === 0) this.lone_ = entry;
    else this.pending_.set(entry.id, entry);
  }

  /** The pending request with this id, removed from the table; undefined if there is none. */
  take(id: number): PendingRequest | undefined {
    const lone = this.lone_;
    if (lone !== undefined && lone.id === id) {
      this.lone_ = undefined;
      return lone;
    }
    const entry = this.pending_.get(id);
    if (entry !== undefined) this.pending_.delete(id);
    return entry;
  }

  /**
   * The subscriber left (deadline or unsubscribe). If the frame went out the reply is still due:
   * the entry is remembered as abandoned so the reply is recognised as late.
   */
  forget(entry: PendingRequest): void {
    if (this.lone_ === entry) this.lone_ = undefined;
    else this.pending_.delete(entry.id);
    if (!entry.sent) return;
    this.abandoned_.set(entry.id, entry);
    if (this.abandoned_.size > this.maxAbandoned_) {
      const oldest = this.abandoned_.keys().next().value;
      if (oldest !== undefined) this.abandoned_.delete(oldest);
    }
  }

  /** The abandoned request with this id (its reply came late), removed; undefined if unknown. */
  takeLate_(id: number): PendingRequest | undefined {
    const late = this.abandoned_.get(id);
    if (late !== undefined) this.abandoned_.delete(id);
    return late;
  }

  /** Forgets every abandoned request (their socket is gone: no reply will come). */
  clearAbandoned_(): void {
    this.abandoned_.clear();
  }

  /** Fails every request whose frame went out (on the socket that was just lost). */
  failSent_(error: Error): void {
    const lone = this.lone_;
    if (lone !== undefined && lone.sent) this.settleWithError_(lone, error);
    for (const entry of this.pending_.values()) {
      if (entry.sent) this.settleWithError_(entry, error);
    }
  }

  /** Fails every pending request, sent or not. */
  failAll_(error: Error): void {
    if (this.lone_ !== undefined) this.settleWithError_(this.lone_, error);
    for (const entry of this.pending_.values()) this.settleWithError_(entry, error);
  }

  private settleWithError_(entry: PendingRequest, error: Error): void {
    if (this.lone_ === entry) this.lone_ = undefined;
    else this.pending_.delete(entry.id);
    entry.frameBuf_ = undefined;
    const subscriber = entry.finish();
    const ctx = entry.trace;
    if (ctx !== undefined && this.trace !== undefined) {
      ctx.error = error;
      this.trace.error.publish(ctx);
      this.trace.asyncStart.publish(ctx);
      subscriber?.error(error);
      this.trace.asyncEnd.publish(ctx);
      return;
    }
    subscriber?.error(error);
  }
}
