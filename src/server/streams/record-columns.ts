/**
 * A stream's live records as typed-array columns (one row a record, in id order), not one object
 * and one 128-bit bigint each: a row costs 36 bytes (the id's millisecond and sequence as two
 * float64s, payload offset, size and partition as int32s, and a pointer to the payload's arena
 * chunk). Headers are kept apart, only for rows that have some.
 *
 * Ids are exact while both halves are at most 2^53 − 1 (the store refuses an append beyond).
 * Rows are `head..length-1`; rows before `head` are trimmed and compacted away once they are the
 * larger part. A row's position (`dropped + index`) never changes, so headers are keyed by it.
 */
import type { StreamHeaders } from '../../protocol/index.js';

const FIRST_CAPACITY = 8;

export class RecordColumns {
  ms = new Float64Array(FIRST_CAPACITY);
  seq = new Float64Array(FIRST_CAPACITY);
  offset = new Int32Array(FIRST_CAPACITY);
  size = new Int32Array(FIRST_CAPACITY);
  partition = new Int32Array(FIRST_CAPACITY);
  chunk: Uint8Array[] = [];
  /** First live row. */
  head = 0;
  /** One past the last row. */
  length = 0;
  /** Rows compacted away so far: a row's position is `dropped + index`. */
  private dropped = 0;
  /** Headers of the rows that have some, by position. */
  private readonly headers = new Map<number, StreamHeaders>();

  get live(): number {
    return this.length - this.head;
  }

  push(ms: number, seq: number, partition: number, chunk: Uint8Array, offset: number, size: number, headers: StreamHeaders): void {
    const i = this.length;
    if (i === this.ms.length) this.grow(i * 2);
    this.ms[i] = ms;
    this.seq[i] = seq;
    this.offset[i] = offset;
    this.size[i] = size;
    this.partition[i] = partition;
    this.chunk.push(chunk);
    if (headers.length > 0) this.headers.set(this.dropped + i, headers);
    this.length = i + 1;
  }

  headersAt(i: number, none: StreamHeaders): StreamHeaders {
    return this.headers.size === 0 ? none : (this.headers.get(this.dropped + i) ?? none);
  }

  /** The first index in `head..length` whose id is ≥ (ms, seq). */
  lowerBound(ms: number, seq: number): number {
    let lo = this.head;
    let hi = this.length;
    const m = this.ms;
    const s = this.seq;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (m[mid] < ms || (m[mid] === ms && s[mid] < seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Trims the first `n` live rows; compacts once the trimmed rows are the larger part. */
  dropHead(n: number): void {
    if (this.headers.size > 0) for (let i = this.head; i < this.head + n; i++) this.headers.delete(this.dropped + i);
    this.head += n;
    if (this.head === this.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.length) this.compact();
  }

  /** Removes every row. */
  clear(): void {
    this.dropped += this.length;
    this.head = 0;
    this.length = 0;
    this.chunk = [];
    this.headers.clear();
    if (this.ms.length > FIRST_CAPACITY) this.grow(FIRST_CAPACITY);
  }

  private compact(): void {
    const h = this.head;
    const n = this.length - h;
    this.ms.copyWithin(0, h, this.length);
    this.seq.copyWithin(0, h, this.length);
    this.offset.copyWithin(0, h, this.length);
    this.size.copyWithin(0, h, this.length);
    this.partition.copyWithin(0, h, this.length);
    this.chunk = this.chunk.slice(h);
    this.dropped += h;
    this.head = 0;
    this.length = n;
    // Give memory back when a quarter or less of the capacity is used.
    if (n * 4 <= this.ms.length && this.ms.length > FIRST_CAPACITY) this.grow(Math.max(FIRST_CAPACITY, n * 2));
  }

  /** Reallocates the columns to `capacity` rows (≥ length), keeping rows `0..length`. */
  private grow(capacity: number): void {
    const n = this.length;
    const move = <T extends Float64Array | Int32Array>(from: T, to: T): T => {
      to.set(from.subarray(0, n));
      return to;
    };
    this.ms = move(this.ms, new Float64Array(capacity));
    this.seq = move(this.seq, new Float64Array(capacity));
    this.offset = move(this.offset, new Int32Array(capacity));
    this.size = move(this.size, new Int32Array(capacity));
    this.partition = move(this.partition, new Int32Array(capacity));
  }
}
