/**
 * Fresh, zeroed bytes for request values, cut from slabs (`Slab`, `small-bytes.ts`). Apart from
 * `small-bytes.ts` because only the stream codecs use them, which a browser app loads on demand,
 * while every client copies replies with `small-bytes.ts`: here they stay out of its start-up code.
 */
import { Slab } from './small-bytes.js';

/**
 * Request values, which the encoders fill once and never change (the frame writer copies them): up
 * to 4 KiB from 64 KiB slabs (a view lives as long as its request is not answered).
 */
const SMALL_BYTES_MAX = 4096;
const requestSlab = new Slab(64 * 1024);

/** A zeroed view of `n` fresh bytes (never handed out before): the caller writes it once. */
export function smallBytes(n: number): Uint8Array {
  return n > SMALL_BYTES_MAX ? new Uint8Array(n) : requestSlab.take(n);
}

