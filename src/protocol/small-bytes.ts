/**
 * Small buffers cut from shared slabs, as Node's `Buffer.allocUnsafe` pool does: a
 * `new Uint8Array(n)` above V8's on-heap limit (64 bytes) allocates a backing store of its own,
 * about four times the cost of a view of a slab. A slab is never reused: once full, the next one is
 * made, and each one lives as long as a view of it does. Fresh bytes for request values:
 * `request-bytes.ts`.
 */

/** Fresh, zeroed views cut from slabs of `size` bytes, 8-byte aligned as a fresh buffer would be. */
export class Slab {
  private buffer = new ArrayBuffer(0);
  private used = 0;
  private declare readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  take(n: number): Uint8Array {
    if (this.used + n > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(this.size);
      this.used = 0;
    }
    const at = this.used;
    this.used += (n + 7) & ~7;
    // The constructor on the slab's buffer: about half the cost of `subarray` (no species lookup).
    return new Uint8Array(this.buffer, at, n);
  }
}

/**
 * Kept copies (a socket's read, a reply's value): up to 1 KiB from 8 KiB slabs, Node's `Buffer`
 * pool size, which is what one kept copy may keep alive.
 */
const SMALL_COPY_MAX = 1024;
const copySlab = new Slab(8 * 1024);

/**
 * A copy of `bytes[start, end)` that the caller may keep (a socket's read buffer is read into
 * again; a reply's value outlives its frame): up to 1 KiB a view of a slab, larger a `slice`. A
 * `slice` above 64 bytes allocates a backing store of its own (0.3-0.7 µs against ~0.1 µs for the
 * copy and the view); one of 64 bytes or less is kept on V8's heap, cheap until something asks for
 * its `.buffer` (a DataView over it, as the frame readers make), which moves it off the heap
 * (~0.3 µs).
 */
export function smallCopy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= 0 || n > SMALL_COPY_MAX) return bytes.slice(start, end);
  const copy = copySlab.take(n);
  copy.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
  return copy;
}

/**
 * `smallCopy` of the `n` bytes at `start` of `buffer`, for a socket's read buffer whose
 * `ArrayBuffer` the caller holds: the source range is made with the constructor (`subarray` does a
 * species lookup, `.buffer` is a call into C++ in V8).
 */
export function smallCopyOf(buffer: ArrayBufferLike, start: number, n: number): Uint8Array {
  const source = new Uint8Array(buffer, start, n);
  if (n <= 0 || n > SMALL_COPY_MAX) return source.slice();
  const copy = copySlab.take(n);
  copy.set(source);
  return copy;
}

/** A Uint8Array and a DataView over the whole of one buffer (`wholeViewsOf`). */
export interface WholeViews {
  readonly buffer: ArrayBufferLike;
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** Buffers up to this size get their whole views kept for the next chunk: `smallCopy`'s slabs, Node's `Buffer` pool. */
const WHOLE_VIEWS_KEPT_MAX = 8 * 1024;
let lastWholeViews: WholeViews | undefined;

/**
 * Views over the whole buffer `chunk` is a view of, so that a frame reader addresses the chunk's
 * bytes at `chunk.byteOffset + i`. Socket reads are copied one after another into the same slab
 * (`smallCopy`), so the views made for one chunk serve the next ones: a lone request's read costs
 * no DataView of its own (a C++ builtin in V8, the dearest view to make). Only the last small
 * buffer's views are kept (one slab at most stays alive for them); a larger buffer gets new ones.
 */
export function wholeViewsOf(chunk: Uint8Array): WholeViews {
  const buffer = chunk.buffer;
  const last = lastWholeViews;
  if (last !== undefined && last.buffer === buffer) return last;
  const views: WholeViews = { buffer, bytes: new Uint8Array(buffer), view: new DataView(buffer) };
  if (buffer.byteLength <= WHOLE_VIEWS_KEPT_MAX) lastWholeViews = views;
  return views;
}
