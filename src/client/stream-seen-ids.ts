/**
 * The ids of the last records a group subscription emitted (`stream-claim.ts` never claims those
 * back), as a ring of u64 pairs that grows up to its capacity. The values are copied out of the
 * records' id objects instead of keeping the objects: kept, each id object and its two bigints
 * outlived two young-generation collections and were copied into the old one, about 400 KB per
 * collection at 64-record batches (`--trace-gc-nvp`: 92% of what survived a scavenge was promoted),
 * the largest part of the consumer's garbage-collection time.
 */
import { formatStreamId } from '../protocol/stream.js';
import type { StreamId } from '../protocol/options.js';

/** Ids held before the first growth. */
const FIRST_CAPACITY = 256;

export class SeenIds {
  /** `[timestampMs, sequence]` per id. */
  private pairs_ = new BigUint64Array(0);
  private count_ = 0;
  /** Once full: the slot the next id overwrites (the oldest). */
  private oldest_ = 0;

  constructor(readonly capacity: number) {}

  /** How many ids are held (at most `capacity`). */
  get size(): number {
    return this.count_;
  }

  /** Remembers `id` (a decoded record id: both parts fit in 64 bits), forgetting the oldest once full. */
  add(id: StreamId): void {
    let slot: number;
    if (this.count_ < this.capacity) {
      if (this.count_ * 2 === this.pairs_.length) this.grow_();
      slot = this.count_++;
    } else {
      slot = this.oldest_;
      this.oldest_ = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    this.pairs_[slot * 2] = id.timestampMs;
    this.pairs_[slot * 2 + 1] = id.sequence;
  }

  /** The held ids as `formatStreamId` text (made only when a pending list is read, after a reconnect). */
  formatted(): Set<string> {
    const out = new Set<string>();
    const pairs = this.pairs_;
    for (let i = 0; i < this.count_; i++) out.add(formatStreamId({ timestampMs: pairs[i * 2]!, sequence: pairs[i * 2 + 1]! }));
    return out;
  }

  private grow_(): void {
    const ids = Math.min(this.capacity, Math.max(FIRST_CAPACITY, this.count_ * 2));
    const bigger = new BigUint64Array(ids * 2);
    bigger.set(this.pairs_);
    this.pairs_ = bigger;
  }
}
