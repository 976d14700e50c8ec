/**
 * seq → slot for one queue's live messages, without a hash-table entry per message.
 *
 * A queue hands out seqs in order and mostly removes them roughly in order, so the live seqs sit
 * in a window. The index keeps that window as pages of 4,096 `Int32Array` cells addressed by the
 * seq itself (4 bytes per seq of the window). Seqs that do not fit the window — a message
 * dead-lettered and requeued long after its page went, messages loaded out of order, the few
 * survivors of a page that has become sparse — sit in a `Map`:
 *
 * - a page is dropped when its last seq goes, and *evacuated* (its survivors moved to the map)
 *   when fewer than 1/16 of its cells are still used and it is not the newest page, so the pages
 *   never cost more than 16 cells per indexed seq and one long-lived message cannot pin a window;
 * - new pages are only made at the end of the window (the next seqs), never to bring back one
 *   seq in the middle.
 */
const PAGE = 4096;
/** Below this many used cells a page other than the newest moves its survivors to the map. */
const SPARSE = PAGE / 16;
/** A seq this many pages or more past the end of the window goes to the map rather than opening pages. */
const MAX_GAP = 64;

export class SeqIndex {
  private pages: Array<Int32Array | undefined> = [];
  /** Used cells per page. */
  private used: number[] = [];
  /** Page number (`floor(seq / PAGE)`) of `pages[0]`. */
  private base = 0;
  private readonly overflow = new Map<number, number>();
  size = 0;

  /** The slot of `seq`; -1 when absent. */
  get(seq: number): number {
    const k = Math.floor(seq / PAGE);
    const p = this.pages[k - this.base];
    if (p !== undefined) {
      const v = p[seq - k * PAGE]!;
      if (v !== 0) return v - 1;
    }
    return this.overflow.size === 0 ? -1 : (this.overflow.get(seq) ?? -1);
  }

  /** Adds `seq` (which must be absent) at `slot`. */
  set(seq: number, slot: number): void {
    this.size++;
    const k = Math.floor(seq / PAGE);
    if (this.pages.length === 0) this.base = k;
    const i = k - this.base;
    const n = this.pages.length;
    if (i < 0 || i >= n + MAX_GAP || (i < n - 1 && this.pages[i] === undefined)) {
      this.overflow.set(seq, slot);
      return;
    }
    let p = this.pages[i];
    if (p === undefined) {
      while (this.pages.length < i) {
        this.pages.push(undefined);
        this.used.push(0);
      }
      p = new Int32Array(PAGE);
      this.pages[i] = p;
      this.used[i] = 0;
    }
    p[seq - k * PAGE] = slot + 1;
    this.used[i] = this.used[i]! + 1;
  }

  /** Removes `seq` (no-op when absent). */
  delete(seq: number): void {
    const k = Math.floor(seq / PAGE);
    const i = k - this.base;
    const p = this.pages[i];
    if (p !== undefined && p[seq - k * PAGE] !== 0) {
      p[seq - k * PAGE] = 0;
      this.size--;
      const left = (this.used[i] = this.used[i]! - 1);
      if (left === 0) this.dropPage(i);
      else if (left < SPARSE && i < this.pages.length - 1) this.evacuate(i);
      return;
    }
    if (this.overflow.delete(seq)) this.size--;
  }

  /** Every (seq, slot), pages first (in seq order), then the map. */
  *entries(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.pages.length; i++) {
      const p = this.pages[i];
      if (p === undefined) continue;
      const first = (this.base + i) * PAGE;
      for (let off = 0; off < PAGE; off++) if (p[off] !== 0) yield [first + off, p[off]! - 1];
    }
    yield* this.overflow;
  }

  clear(): void {
    this.pages = [];
    this.used = [];
    this.base = 0;
    this.overflow.clear();
    this.size = 0;
  }

  /** Seqs held by pages and by the map (tests and diagnostics). */
  layout(): { pages: number; paged: number; mapped: number } {
    let pages = 0;
    for (const p of this.pages) if (p) pages++;
    return { pages, paged: this.size - this.overflow.size, mapped: this.overflow.size };
  }

  private evacuate(i: number): void {
    const p = this.pages[i]!;
    const first = (this.base + i) * PAGE;
    for (let off = 0; off < PAGE; off++) if (p[off] !== 0) this.overflow.set(first + off, p[off]! - 1);
    this.dropPage(i);
  }

  private dropPage(i: number): void {
    this.pages[i] = undefined;
    this.used[i] = 0;
    let lead = 0;
    while (lead < this.pages.length && this.pages[lead] === undefined) lead++;
    if (lead > 0) {
      this.pages.splice(0, lead);
      this.used.splice(0, lead);
      this.base += lead;
    }
    while (this.pages.length > 0 && this.pages[this.pages.length - 1] === undefined) {
      this.pages.pop();
      this.used.pop();
    }
  }
}
