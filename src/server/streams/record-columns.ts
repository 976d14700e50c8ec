/**
 * A stream's live records as typed-array columns (one row a record, in id order), not one object
 * and one 128-bit bigint each. Rows sit in pages of 4,096 (one `ArrayBuffer` a page, so no page is
 * ever copied to grow but a stream's first, which starts at 8 rows): the id's millisecond and
 * sequence as float64s, payload offset and size as int32s and the payload's arena chunk as an
 * int32 id into the chunk list: 28 bytes a row. A partition column is made for a page only once a
 * record of another partition than 0 lands on it; headers are kept apart, only for rows that
 * have some.
 *
 * Ids are exact while both halves are at most 2^53 − 1 (the store refuses an append beyond).
 * Rows are addressed by position, `head..length-1`; trimming drops whole pages behind `head` and
 * the chunks no live row uses any more.
 */
import type { StreamHeaders } from '../../protocol/index.js';

const PAGE_BITS = 12;
const PAGE_ROWS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_ROWS - 1;
const FIRST_ROWS = 8;
/** Bytes a row takes in a page's buffer: ms, seq (8 each), offset, size, chunk id (4 each). */
const ROW_BYTES = 28;

class Page {
  readonly ms: Float64Array;
  readonly seq: Float64Array;
  readonly offset: Int32Array;
  readonly size: Int32Array;
  readonly chunk: Int32Array;
  partition: Int32Array | null = null;

  constructor(readonly rows: number) {
    const buffer = new ArrayBuffer(rows * ROW_BYTES);
    this.ms = new Float64Array(buffer, 0, rows);
    this.seq = new Float64Array(buffer, rows * 8, rows);
    this.offset = new Int32Array(buffer, rows * 16, rows);
    this.size = new Int32Array(buffer, rows * 20, rows);
    this.chunk = new Int32Array(buffer, rows * 24, rows);
  }

  /** A page of `rows` rows holding this one's first `used`. */
  grown(rows: number, used: number): Page {
    const p = new Page(rows);
    p.ms.set(this.ms.subarray(0, used));
    p.seq.set(this.seq.subarray(0, used));
    p.offset.set(this.offset.subarray(0, used));
    p.size.set(this.size.subarray(0, used));
    p.chunk.set(this.chunk.subarray(0, used));
    if (this.partition) (p.partition = new Int32Array(rows)).set(this.partition.subarray(0, used));
    return p;
  }
}

export class RecordColumns {
  /** First live position. */
  head = 0;
  /** One past the last position. */
  length = 0;
  private pages: Page[] = [];
  /** Position of `pages[0]`'s first row (a multiple of the page size). */
  private base = 0;
  /** Chunks of the live rows, in row order; `chunks[0]` has id `chunkBase`. */
  private chunks: Uint8Array[] = [];
  private chunkBase = 0;
  /** Headers of the rows that have some, by position. */
  private readonly headers = new Map<number, StreamHeaders>();

  get live(): number {
    return this.length - this.head;
  }

  push(ms: number, seq: number, partition: number, chunk: Uint8Array, offset: number, size: number, headers: StreamHeaders): void {
    const at = this.length;
    const rel = at - this.base;
    const slot = rel & PAGE_MASK;
    let page = this.pages[rel >>> PAGE_BITS];
    if (page === undefined) this.pages.push((page = new Page(this.pages.length === 0 ? FIRST_ROWS : PAGE_ROWS)));
    else if (slot === page.rows) this.pages[rel >>> PAGE_BITS] = page = page.grown(Math.min(PAGE_ROWS, page.rows * 2), slot);
    page.ms[slot] = ms;
    page.seq[slot] = seq;
    page.offset[slot] = offset;
    page.size[slot] = size;
    const chunks = this.chunks;
    if (chunks.length === 0 || chunks[chunks.length - 1] !== chunk) chunks.push(chunk);
    page.chunk[slot] = this.chunkBase + chunks.length - 1;
    if (partition !== 0 || page.partition !== null) (page.partition ??= new Int32Array(page.rows))[slot] = partition;
    if (headers.length > 0) this.headers.set(at, headers);
    this.length = at + 1;
  }

  private page(at: number): Page {
    return this.pages[(at - this.base) >>> PAGE_BITS];
  }

  msAt(at: number): number {
    return this.page(at).ms[(at - this.base) & PAGE_MASK];
  }

  seqAt(at: number): number {
    return this.page(at).seq[(at - this.base) & PAGE_MASK];
  }

  sizeAt(at: number): number {
    return this.page(at).size[(at - this.base) & PAGE_MASK];
  }

  offsetAt(at: number): number {
    return this.page(at).offset[(at - this.base) & PAGE_MASK];
  }

  partitionAt(at: number): number {
    const partition = this.page(at).partition;
    return partition === null ? 0 : partition[(at - this.base) & PAGE_MASK];
  }

  chunkAt(at: number): Uint8Array {
    return this.chunks[this.page(at).chunk[(at - this.base) & PAGE_MASK] - this.chunkBase];
  }

  headersAt(at: number, none: StreamHeaders): StreamHeaders {
    return this.headers.size === 0 ? none : (this.headers.get(at) ?? none);
  }

  /** The first position in `head..length` whose id is ≥ (ms, seq). */
  lowerBound(ms: number, seq: number): number {
    let lo = this.head;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const rel = mid - this.base;
      const page = this.pages[rel >>> PAGE_BITS];
      const slot = rel & PAGE_MASK;
      const m = page.ms[slot];
      if (m < ms || (m === ms && page.seq[slot] < seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Trims the first `n` live rows: drops the pages and chunks no live row uses. */
  dropHead(n: number): void {
    if (n <= 0) return;
    if (this.headers.size > 0) for (let at = this.head; at < this.head + n; at++) this.headers.delete(at);
    this.head += n;
    if (this.head === this.length) {
      this.clear();
      return;
    }
    const fullPages = (this.head - this.base) >>> PAGE_BITS;
    if (fullPages > 0) {
      this.pages.splice(0, fullPages);
      this.base += fullPages * PAGE_ROWS;
    }
    const firstChunk = this.page(this.head).chunk[(this.head - this.base) & PAGE_MASK];
    if (firstChunk > this.chunkBase) {
      this.chunks.splice(0, firstChunk - this.chunkBase);
      this.chunkBase = firstChunk;
    }
  }

  /** Removes every row. */
  clear(): void {
    this.head = 0;
    this.length = 0;
    this.pages = [];
    this.base = 0;
    this.chunks = [];
    this.chunkBase = 0;
    this.headers.clear();
  }
}
