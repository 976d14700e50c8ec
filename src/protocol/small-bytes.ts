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
