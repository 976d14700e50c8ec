/**
 * Small request buffers cut from a shared slab, as Node's `Buffer.allocUnsafe` pool does: a
 * `new Uint8Array(n)` above V8's on-heap limit (64 bytes) allocates a backing store of its own,
 * about four times the cost of a view of a slab. For request values the encoders fill once and
 * never change (the frame writer copies them). A slab is never reused: once full, the next one is
 * made, and each one lives as long as a view of it (a request not yet answered) does.
 */

/** Requests above this many bytes get a buffer of their own (a slab holds at least 16 of these). */
const SMALL_BYTES_MAX = 4096;
const SLAB_SIZE = 64 * 1024;

let slab = new Uint8Array(0);
let used = 0;

/** A zeroed view of `n` fresh bytes (never handed out before): the caller writes it once. */
export function smallBytes(n: number): Uint8Array {
  if (n > SMALL_BYTES_MAX) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const view = slab.subarray(used, used + n);
  // Keep views 8-byte aligned, as a fresh buffer would be.
  used += (n + 7) & ~7;
  return view;
}

/** Copies above this many bytes get a buffer of their own (a copy slab holds at least 8 of these). */
const SMALL_COPY_MAX = 1024;
/** Node's `Buffer.allocUnsafe` pool size: what a kept small copy may keep alive. */
const COPY_SLAB_SIZE = 8 * 1024;

let copySlab = new Uint8Array(0);
let copyUsed = 0;

/**
 * A copy of `bytes[start, end)` that the caller may keep (a socket's read buffer is read into
 * again; a reply's value outlives its frame): up to 1 KiB a view of an 8 KiB slab, as Node's
 * `Buffer` pool does, larger a `slice`. A `slice` above 64 bytes allocates a backing store of its
 * own (0.3-0.7 µs against ~0.1 µs for the copy and the view); one of 64 bytes or less is kept on
 * V8's heap, cheap until something asks for its `.buffer` (a DataView over it, as the frame readers
 * make), which moves it off the heap (~0.3 µs). A slab is never reused; a kept copy keeps its slab
 * alive (at most 8 KiB).
 */
export function smallCopy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= 0 || n > SMALL_COPY_MAX) return bytes.slice(start, end);
  if (copyUsed + n > copySlab.length) {
    copySlab = new Uint8Array(COPY_SLAB_SIZE);
    copyUsed = 0;
  }
  const at = copyUsed;
  copySlab.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), at);
  copyUsed += (n + 7) & ~7;
  return copySlab.subarray(at, at + n);
}
