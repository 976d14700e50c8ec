/**
 * Request deadlines without one timer per request.
 *
 * Requests with the same deadline length expire in the order they were armed, so each length gets
 * one intrusive doubly linked list (O(1) add and remove, no allocation per request) and at most one
 * `setTimeout`, armed for the list's head. Removing an item never touches the timer (unless the
 * list empties): when the timer fires early for a head that has since been removed, it re-arms for
 * the new head. Under load that is one timer per deadline length instead of one per request.
 *
 * A list that empties keeps its timer (unref'd, so it holds no process open) until it fires with
 * nothing left: one request at a time would otherwise create and clear a timer per request, which
 * cost about as much as the rest of the request's bookkeeping together.
 */

/** What an item carries so it can sit in a list (fields owned by this module). */
export interface DeadlineItem {
  deadlinePrev_: DeadlineItem | undefined;
  deadlineNext_: DeadlineItem | undefined;
  deadlineList_: DeadlineList | undefined;
  /** `performance.now()` value at which the item expires. */
  expiresAt_: number;
}

/** setTimeout fires at once for delays above this. */
export const MAX_TIMER_MS = 0x7fffffff;

export class DeadlineList {
  private head_: DeadlineItem | undefined;
  private tail_: DeadlineItem | undefined;
  private timer_: ReturnType<typeof setTimeout> | undefined;
  private readonly fireBound_ = () => this.fire_();
  declare readonly ms: number;
  private declare readonly owner_: Deadlines;

  constructor(ms: number, owner_: Deadlines) {
    this.ms = ms;
    this.owner_ = owner_;
  }

  add(item: DeadlineItem, now: number): void {
    item.expiresAt_ = now + this.ms;
    item.deadlineList_ = this;
    item.deadlineNext_ = undefined;
    item.deadlinePrev_ = this.tail_;
    if (this.tail_) this.tail_.deadlineNext_ = item;
    else {
      this.head_ = item;
      // The timer kept from when the list emptied fires no later than this item's expiry (it was
      // armed for an earlier one), and then re-arms for the head.
      if (this.timer_ !== undefined) holdOpen(this.timer_, true);
    }
    this.tail_ = item;
    // No timer with items already listed happens only inside `fire` (an expiry callback adding one,
    // e.g. a retry): arm for the head, which may come due well before this item.
    if (this.timer_ === undefined) this.arm_(this.head_!.expiresAt_ - now);
  }

  remove(item: DeadlineItem): void {
    const prev = item.deadlinePrev_;
    const next = item.deadlineNext_;
    if (prev) prev.deadlineNext_ = next;
    else this.head_ = next;
    if (next) next.deadlinePrev_ = prev;
    else this.tail_ = prev;
    item.deadlinePrev_ = item.deadlineNext_ = item.deadlineList_ = undefined;
    // Emptied: the timer stays for the next item, but no longer holds the process open.
    if (this.head_ === undefined && this.timer_ !== undefined) holdOpen(this.timer_, false);
  }

  /** Stops the timer and forgets the items (without expiring them). */
  dispose(): void {
    if (this.timer_ !== undefined) clearTimeout(this.timer_);
    this.timer_ = undefined;
    for (let item = this.head_; item; ) {
      const next = item.deadlineNext_;
      item.deadlinePrev_ = item.deadlineNext_ = item.deadlineList_ = undefined;
      item = next;
    }
    this.head_ = this.tail_ = undefined;
    this.owner_.forget(this);
  }

  private arm_(delay: number): void {
    this.timer_ = setTimeout(this.fireBound_, Math.min(Math.max(Math.ceil(delay), 1), MAX_TIMER_MS));
  }

  private fire_(): void {
    this.timer_ = undefined;
    const now = this.owner_.now();
    let item = this.head_;
    while (item !== undefined && item.expiresAt_ <= now) {
      this.remove(item);
      this.owner_.onExpire_(item);
      item = this.head_;
    }
    if (this.timer_ !== undefined) return; // an expiry callback armed a new item
    if (item !== undefined) this.arm_(item.expiresAt_ - now);
    else this.dispose(); // nothing came since the list emptied: let it go
  }
}

/** `ref`/`unref` a Node timer (a browser's timer id holds nothing open and has neither). */
function holdOpen(timer: ReturnType<typeof setTimeout>, hold: boolean): void {
  if (typeof timer !== 'object') return;
  if (hold) timer.ref?.();
  else timer.unref?.();
}

/** One `DeadlineList` per deadline length. */
export class Deadlines {
  private readonly lists_ = new Map<number, DeadlineList>();
  /**
   * The clock, read from the global once: Node's global `performance` is a lazy getter that runs on
   * every read (this module also runs in browsers, so it cannot import `node:perf_hooks`).
   */
  private readonly clock_: { now(): number } = performance;

  declare readonly onExpire_: (item: DeadlineItem) => void;

  constructor(onExpire: (item: DeadlineItem) => void) {
    this.onExpire_ = onExpire;
  }

  /** `performance.now()`. */
  now(): number {
    return this.clock_.now();
  }

  /** Arms `item` to expire `ms` from now (ms must be finite and >= 0). */
  add(item: DeadlineItem, ms: number): void {
    let list = this.lists_.get(ms);
    if (list === undefined) {
      list = new DeadlineList(ms, this);
      this.lists_.set(ms, list);
    }
    list.add(item, this.clock_.now());
  }

  remove(item: DeadlineItem): void {
    item.deadlineList_?.remove(item);
  }

  /** Stops every timer. */
  clear(): void {
    for (const list of [...this.lists_.values()]) list.dispose();
  }

  /** @internal called by a list that emptied */
  forget(list: DeadlineList): void {
    if (this.lists_.get(list.ms) === list) this.lists_.delete(list.ms);
  }
}
