/**
 * The live (ready, delayed, leased) messages of one queue in columns: typed arrays in pages of
 * 4,096 slots (one buffer each), a `SeqIndex` from seq (a number) to slot, and the payloads packed in a `PayloadSlab`.
 * A message costs 36 bytes of columns, ~4 bytes of index and its payload bytes, with no object,
 * bigint, map entry or buffer of its own (dead-lettered messages live elsewhere: see `DeadMessage`).
 *
 * Seqs are numbers: exact up to `MAX_SEQ` (2^53 − 1); the store refuses to go beyond.
 * Slots of removed messages are reused; when fewer than a quarter of the rows are live the live
 * ones move into dense pages (`compactRows`: slots change, so a caller must not keep a slot across
 * a `remove`); an emptied table gives all its memory back (`clear`).
 */
import { PayloadSlab } from '../payload-slab.js';
import { SeqIndex } from './seq-index.js';

/** Highest seq a queue hands out: seqs are kept as exact numbers. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const READY = 1;
export const DELAYED = 2;
export const LEASED = 3;
export type LiveState = typeof READY | typeof DELAYED | typeof LEASED;

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
/** Slots of the first page before it grows to a full page (a small queue stays small). */
const FIRST_PAGE = 16;
const MAX_LEASE_MS = 0xffffffff;
/** Bytes of one row across the columns. */
const ROW_BYTES = 2 * 8 + 4 * 4 + 2 + 2;
/**
 * Marks a time kept in a map by slot rather than as whole ms after enqueuedAt in a Uint32 column:
 * 2^32 − 1 ms (~49.7 days) or more after it, before it, or not a whole number of ms.
 */
const FAR = 0xffffffff;
/** Marks attempts counted in a map by slot (65,535 or more deliveries). */
const MANY = 0xffff;

/** `at` as whole ms after `base` plus `bias` when that fits below `FAR`, else `FAR`. */
function offsetOf(at: number, base: number, bias: number): number {
  const v = at - base + bias;
  return v >= bias && v < FAR && (v >>> 0) - bias + base === at ? v : FAR;
}

class Page {
  readonly enqueuedAt: Float64Array;
  /** visibleAt − enqueuedAt in ms, or `FAR` (see `MessageTable.far`). */
  readonly delay: Uint32Array;
  /** 0 = no lease end yet (0), else leaseEnd − enqueuedAt + 1 in ms, or `FAR` (see `MessageTable.far`). */
  readonly leaseAfter: Uint32Array;
  /** Payload address in the slab. */
  readonly address: Float64Array;
  readonly length: Uint32Array;
  readonly leaseMs: Uint32Array;
  /** Deliveries so far, or `MANY` (see `MessageTable.manyAttempts`). */
  readonly attempts: Uint16Array;
  readonly priority: Uint8Array;
  /** 0 = free slot, else a `LiveState`. */
  readonly state: Uint8Array;

  constructor(
    readonly capacity: number,
    from?: Page,
  ) {
    // One buffer per page (one allocation), 8-byte columns first so that every view is aligned.
    const buffer = new ArrayBuffer(capacity * ROW_BYTES);
    let at = 0;
    const take = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(make: new (b: ArrayBuffer, o: number, n: number) => T, old: T | undefined): T => {
      const column = new make(buffer, at, capacity);
      at += capacity * column.BYTES_PER_ELEMENT;
      if (old) column.set(old);
      return column;
    };
    this.enqueuedAt = take(Float64Array, from?.enqueuedAt);
    this.address = take(Float64Array, from?.address);
    this.length = take(Uint32Array, from?.length);
    this.delay = take(Uint32Array, from?.delay);
    this.leaseAfter = take(Uint32Array, from?.leaseAfter);
    this.leaseMs = take(Uint32Array, from?.leaseMs);
    this.attempts = take(Uint16Array, from?.attempts);
    this.priority = take(Uint8Array, from?.priority);
    this.state = take(Uint8Array, from?.state);
  }
}

export class MessageTable {
  private pages: Page[] = [];
  /** Slots handed out so far (free ones included). */
  private top = 0;
  private freeSlots: number[] = [];
  private bySeq = new SeqIndex();
  private readonly payloads = new PayloadSlab();
  /** Slot → visibleAt / leaseEnd / attempts that do not fit their column (rare: see `FAR`, `MANY`). */
  private readonly farVisible = new Map<number, number>();
  private readonly farLeaseEnd = new Map<number, number>();
  private readonly manyAttempts = new Map<number, number>();

  /** Live messages. */
  get size(): number {
    return this.bySeq.size;
  }

  /** The slot of a live message; -1 when there is none with that seq. */
  slotOf(seq: number): number {
    return this.bySeq.get(seq);
  }

  /** Live seqs with their slots. */
  entries(): IterableIterator<[number, number]> {
    return this.bySeq.entries();
  }

  /** Stores a new live message (its payload copied once into the slab); returns its slot. */
  add(seq: number, payload: Uint8Array, priority: number, enqueuedAt: number, visibleAt: number, state: LiveState): number {
    const slot = this.freeSlots.pop() ?? this.newSlot();
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    p.address[i] = this.payloads.add(payload);
    p.length[i] = payload.length;
    p.priority[i] = priority;
    p.enqueuedAt[i] = enqueuedAt;
    const delay = offsetOf(visibleAt, enqueuedAt, 0);
    p.delay[i] = delay;
    if (delay === FAR) this.farVisible.set(slot, visibleAt);
    p.leaseAfter[i] = 0;
    p.leaseMs[i] = 0;
    p.attempts[i] = 0;
    p.state[i] = state;
    this.bySeq.set(seq, slot);
    return slot;
  }

  /** Removes a live message (its slot becomes free). */
  remove(seq: number, slot: number): void {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    this.payloads.free(p.address[i]!, p.length[i]!);
    p.state[i] = 0;
    if (p.delay[i] === FAR) this.farVisible.delete(slot);
    if (p.leaseAfter[i] === FAR) this.farLeaseEnd.delete(slot);
    if (p.attempts[i] === MANY) this.manyAttempts.delete(slot);
    this.bySeq.delete(seq);
    if (this.bySeq.size === 0) this.clear();
    else {
      this.freeSlots.push(slot);
      if (this.payloads.needsCompaction()) this.compactPayloads();
      if (this.top > 2 * PAGE_SIZE && this.bySeq.size * 4 < this.top) this.compactRows();
    }
  }

  state(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.state[slot & PAGE_MASK]!;
  }
  setState(slot: number, state: LiveState): void {
    this.pages[slot >>> PAGE_BITS]!.state[slot & PAGE_MASK] = state;
  }
  priority(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.priority[slot & PAGE_MASK]!;
  }
  enqueuedAt(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.enqueuedAt[slot & PAGE_MASK]!;
  }
  visibleAt(slot: number): number {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    const delay = p.delay[i]!;
    return delay === FAR ? this.farVisible.get(slot)! : p.enqueuedAt[i]! + delay;
  }
  attempts(slot: number): number {
    const n = this.pages[slot >>> PAGE_BITS]!.attempts[slot & PAGE_MASK]!;
    return n === MANY ? this.manyAttempts.get(slot)! : n;
  }
  setAttempts(slot: number, attempts: number): void {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    if (attempts < MANY) {
      if (p.attempts[i] === MANY) this.manyAttempts.delete(slot);
      p.attempts[i] = attempts;
    } else {
      p.attempts[i] = MANY;
      this.manyAttempts.set(slot, attempts);
    }
  }
  leaseEnd(slot: number): number {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    const v = p.leaseAfter[i]!;
    return v === 0 ? 0 : v === FAR ? this.farLeaseEnd.get(slot)! : p.enqueuedAt[i]! + v - 1;
  }
  setLeaseEnd(slot: number, at: number): void {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    if (p.leaseAfter[i] === FAR) this.farLeaseEnd.delete(slot);
    const v = at === 0 ? 0 : offsetOf(at, p.enqueuedAt[i]!, 1);
    p.leaseAfter[i] = v;
    if (v === FAR) this.farLeaseEnd.set(slot, at);
  }
  leaseMs(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.leaseMs[slot & PAGE_MASK]!;
  }
  /** Lease lengths are kept up to 2^32 − 1 ms (~49 days); longer ones are cut to that. */
  setLeaseMs(slot: number, ms: number): void {
    this.pages[slot >>> PAGE_BITS]!.leaseMs[slot & PAGE_MASK] = Math.min(ms, MAX_LEASE_MS);
  }

  /** The payload: a view into the slab, valid for as long as it is referenced (bytes are never overwritten). */
  payload(slot: number): Uint8Array {
    const p = this.pages[slot >>> PAGE_BITS]!;
    const i = slot & PAGE_MASK;
    return this.payloads.view(p.address[i]!, p.length[i]!);
  }

  /** Payload bytes held by the slab, and live (diagnostics and tests). */
  payloadBytes(): { live: number; held: number } {
    return { live: this.payloads.liveBytes, held: this.payloads.heldBytes };
  }

  /** How the seq index holds its seqs (tests and diagnostics). */
  indexLayout(): { pages: number; paged: number; mapped: number } {
    return this.bySeq.layout();
  }

  /** Forgets every message and gives the memory back. */
  clear(): void {
    this.pages = [];
    this.top = 0;
    this.freeSlots = [];
    this.bySeq.clear();
    this.payloads.clear();
    this.farVisible.clear();
    this.farLeaseEnd.clear();
    this.manyAttempts.clear();
  }

  private newSlot(): number {
    const slot = this.top++;
    const index = slot >>> PAGE_BITS;
    const page = this.pages[index];
    if (!page) this.pages[index] = new Page(index === 0 ? FIRST_PAGE : PAGE_SIZE);
    else if ((slot & PAGE_MASK) >= page.capacity) this.pages[index] = new Page(Math.min(PAGE_SIZE, page.capacity * 4), page);
    return slot;
  }

  /**
   * Re-enters every seq into a fresh index in ascending order, so that seqs which went to the
   * index's map because they arrived out of order (a load from storage comes in key order, not
   * seq order) sit in its pages again. Done after loads when the map holds many.
   */
  rebuildIndex(): void {
    const { mapped } = this.bySeq.layout();
    if (mapped <= 1024 || mapped * 8 <= this.bySeq.size) return;
    const entries = [...this.bySeq.entries()].sort((a, b) => a[0] - b[0]);
    const index = new SeqIndex();
    for (const [seq, slot] of entries) index.set(seq, slot);
    this.bySeq = index;
  }

  /** Rows handed out (live and free): what the pages hold room for (tests and diagnostics). */
  rowsHeld(): number {
    return this.top;
  }

  /**
   * Moves the live rows into fresh, dense pages when fewer than a quarter of the rows handed out
   * are live (a queue shrinking from a peak), so that the pages follow the live messages. Slots
   * change; seqs, payload addresses and heap entries (which name seqs) do not.
   */
  private compactRows(): void {
    const old = this.pages;
    const farVisible = new Map(this.farVisible);
    const farLeaseEnd = new Map(this.farLeaseEnd);
    const manyAttempts = new Map(this.manyAttempts);
    this.farVisible.clear();
    this.farLeaseEnd.clear();
    this.manyAttempts.clear();
    const index = new SeqIndex();
    const pages: Page[] = [];
    let to = 0;
    for (const [seq, from] of this.bySeq.entries()) {
      const src = old[from >>> PAGE_BITS]!;
      const i = from & PAGE_MASK;
      if ((to & PAGE_MASK) === 0) pages.push(new Page(PAGE_SIZE));
      const dst = pages[to >>> PAGE_BITS]!;
      const j = to & PAGE_MASK;
      dst.enqueuedAt[j] = src.enqueuedAt[i]!;
      dst.address[j] = src.address[i]!;
      dst.length[j] = src.length[i]!;
      dst.delay[j] = src.delay[i]!;
      dst.leaseAfter[j] = src.leaseAfter[i]!;
      dst.leaseMs[j] = src.leaseMs[i]!;
      dst.attempts[j] = src.attempts[i]!;
      dst.priority[j] = src.priority[i]!;
      dst.state[j] = src.state[i]!;
      if (src.delay[i] === FAR) this.farVisible.set(to, farVisible.get(from)!);
      if (src.leaseAfter[i] === FAR) this.farLeaseEnd.set(to, farLeaseEnd.get(from)!);
      if (src.attempts[i] === MANY) this.manyAttempts.set(to, manyAttempts.get(from)!);
      index.set(seq, to++);
    }
    this.pages = pages;
    this.bySeq = index;
    this.top = to;
    this.freeSlots = [];
  }

  /** Moves the payloads out of mostly-free chunks so that those chunks can go. */
  private compactPayloads(): void {
    for (let slot = 0; slot < this.top; slot++) {
      const p = this.pages[slot >>> PAGE_BITS]!;
      const i = slot & PAGE_MASK;
      if (p.state[i] !== 0 && this.payloads.isSparse(p.address[i]!, p.length[i]!)) p.address[i] = this.payloads.relocate(p.address[i]!, p.length[i]!);
    }
  }
}
