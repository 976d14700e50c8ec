/**
 * The live (ready, delayed, leased) messages of one queue in columns: typed arrays in pages of
 * 4,096 slots (one buffer each), a `SeqIndex` from seq (a number) to slot, and the payloads packed in a `PayloadSlab`.
 * A message costs ~42 bytes of columns, ~4 bytes of index and its payload bytes, with no object,
 * bigint, map entry or buffer of its own (dead-lettered messages live elsewhere: see `DeadMessage`).
 *
 * Seqs are numbers: exact up to `MAX_SEQ` (2^53 − 1); the store refuses to go beyond.
 * Slots of removed messages are reused; an emptied table gives all its memory back (`clear`).
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
const ROW_BYTES = 3 * 8 + 4 * 4 + 2;
/** Delays of 2^32 − 1 ms (~49.7 days) or more (or not whole ms) are kept in a map. */
const LONG_DELAY = 0xffffffff;

class Page {
  readonly enqueuedAt: Float64Array;
  /** visibleAt − enqueuedAt in ms; `LONG_DELAY` = see `MessageTable.longDelays`. */
  readonly delay: Uint32Array;
  readonly leaseEnd: Float64Array;
  /** Payload address in the slab. */
  readonly address: Float64Array;
  readonly length: Uint32Array;
  readonly leaseMs: Uint32Array;
  readonly attempts: Uint32Array;
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
    const take = <T extends Float64Array | Uint32Array | Uint8Array>(make: new (b: ArrayBuffer, o: number, n: number) => T, old: T | undefined): T => {
      const column = new make(buffer, at, capacity);
      at += capacity * column.BYTES_PER_ELEMENT;
      if (old) column.set(old);
      return column;
    };
    this.enqueuedAt = take(Float64Array, from?.enqueuedAt);
    this.leaseEnd = take(Float64Array, from?.leaseEnd);
    this.address = take(Float64Array, from?.address);
    this.length = take(Uint32Array, from?.length);
    this.delay = take(Uint32Array, from?.delay);
    this.leaseMs = take(Uint32Array, from?.leaseMs);
    this.attempts = take(Uint32Array, from?.attempts);
    this.priority = take(Uint8Array, from?.priority);
    this.state = take(Uint8Array, from?.state);
  }
}

export class MessageTable {
  private pages: Page[] = [];
  /** Slots handed out so far (free ones included). */
  private top = 0;
  private freeSlots: number[] = [];
  private readonly bySeq = new SeqIndex();
  private readonly payloads = new PayloadSlab();
  /** Slot → visibleAt of the messages whose delay does not fit the `delay` column. */
  private readonly longDelays = new Map<number, number>();

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
    const delay = visibleAt - enqueuedAt;
    if (delay >= 0 && delay < LONG_DELAY && (delay >>> 0) + enqueuedAt === visibleAt) p.delay[i] = delay;
    else {
      p.delay[i] = LONG_DELAY;
      this.longDelays.set(slot, visibleAt);
    }
    p.leaseEnd[i] = 0;
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
    if (p.delay[i] === LONG_DELAY) this.longDelays.delete(slot);
    this.bySeq.delete(seq);
    if (this.bySeq.size === 0) this.clear();
    else {
      this.freeSlots.push(slot);
      if (this.payloads.needsCompaction()) this.compactPayloads();
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
    return delay === LONG_DELAY ? this.longDelays.get(slot)! : p.enqueuedAt[i]! + delay;
  }
  attempts(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.attempts[slot & PAGE_MASK]!;
  }
  setAttempts(slot: number, attempts: number): void {
    this.pages[slot >>> PAGE_BITS]!.attempts[slot & PAGE_MASK] = attempts;
  }
  leaseEnd(slot: number): number {
    return this.pages[slot >>> PAGE_BITS]!.leaseEnd[slot & PAGE_MASK]!;
  }
  setLeaseEnd(slot: number, at: number): void {
    this.pages[slot >>> PAGE_BITS]!.leaseEnd[slot & PAGE_MASK] = at;
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
    this.longDelays.clear();
  }

  private newSlot(): number {
    const slot = this.top++;
    const index = slot >>> PAGE_BITS;
    const page = this.pages[index];
    if (!page) this.pages[index] = new Page(index === 0 ? FIRST_PAGE : PAGE_SIZE);
    else if ((slot & PAGE_MASK) >= page.capacity) this.pages[index] = new Page(Math.min(PAGE_SIZE, page.capacity * 4), page);
    return slot;
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
