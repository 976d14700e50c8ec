/**
 * The reply bytes of one connection, gathered for the next write. Reply frames are encoded straight
 * into a slab (header, payload, CRC: no frame buffer per reply); a flush hands the bytes gathered
 * since the last one to the transport as one view of the slab, and the next replies go on after
 * them. Once the transport reports nothing buffered (the kernel took every byte handed over), the
 * slab is used again from its start, so a steady request/reply stream allocates nothing here.
 *
 * Bytes handed over are never written again while the transport may still hold them: a slab
 * that fills up while its bytes are in flight is left to the transport (and the garbage collector)
 * and a new one started, copying over only the replies not yet handed over.
 */
import { HEADER_SIZE, writeResponseHeaderAt } from '../protocol/index.js';
import { frameCrcFor } from './frame-crc.js';
import type { ReplyPayload } from './types.js';

/** First slab of a connection (allocated with its first reply, so idle connections hold none). */
const MIN_SLAB = 4 * 1024;
/** Slabs grow by doubling up to this size (larger only to fit one bigger reply burst). */
const GROWN_SLAB = 64 * 1024;
/** A slab larger than this is dropped rather than reused once written (a burst of big replies is not kept). */
const MAX_KEPT_SLAB = 64 * 1024;

export class ReplyOutbox {
  private slab: Buffer | undefined;
  private view: DataView | undefined;
  /** First byte not yet handed to the transport. */
  private start = 0;
  /** End of the bytes written into the slab. */
  private used = 0;
  /** The view `take` returned last, where it starts and in which slab. */
  private lastTaken: Buffer | undefined;
  private lastTakenStart = 0;
  private lastTakenSlab: Buffer | undefined;

  /** Reply bytes gathered and not yet handed to the transport. */
  get pendingBytes(): number {
    return this.used - this.start;
  }

  /** Memory held by the slab. */
  get capacity(): number {
    return this.slab?.length ?? 0;
  }

  /** Appends one response frame (32-byte header and `payload`, its bytes or written by it). */
  append(requestId: bigint, status: number, payload: ReplyPayload): void {
    const id = BigInt.asUintN(64, requestId);
    this.appendReply(Number(id & 0xffffffffn), Number(id >> 32n), status, payload);
  }

  /** `append` with the request id as its two u32 halves (low, high), as read from the request's header. */
  appendReply(idLow: number, idHigh: number, status: number, payload: ReplyPayload): void {
    const length = payload.byteLength;
    if (this.slab === undefined || this.slab.length - this.used < HEADER_SIZE + length) this.grow(HEADER_SIZE + length);
    const slab = this.slab!;
    const view = this.view!;
    const at = this.used;
    // The payload first: the header's CRC covers it.
    if (payload instanceof Uint8Array) slab.set(payload, at + HEADER_SIZE);
    else payload.writeAt(slab, view, at + HEADER_SIZE);
    this.used = writeResponseHeaderAt(slab, view, at, idLow, idHigh, status, length, 0, frameCrcFor(HEADER_SIZE + length));
  }

  /** Appends a frame already encoded. */
  appendFrame(frame: Uint8Array): void {
    if (this.slab === undefined || this.slab.length - this.used < frame.length) this.grow(frame.length);
    this.slab!.set(frame, this.used);
    this.used += frame.length;
  }

  /**
   * The bytes gathered since the last call, as a view into the slab, or undefined when there are
   * none. The view must not be kept beyond the transport's write.
   */
  take(): Uint8Array | undefined {
    const start = this.start;
    const used = this.used;
    if (used === start) return undefined;
    this.start = used;
    // One request at a time takes the same range of a recycled slab again and again (equal replies):
    // the view handed out last time serves (its bytes were written over, as the slab's are), which
    // spares `Buffer#subarray` (~0.1 µs: it builds the view through Buffer's constructor).
    const last = this.lastTaken;
    if (last !== undefined && this.lastTakenStart === start && last.length === used - start && this.lastTakenSlab === this.slab) return last;
    const bytes = this.slab!.subarray(start, used);
    this.lastTaken = bytes;
    this.lastTakenStart = start;
    this.lastTakenSlab = this.slab;
    return bytes;
  }

  /**
   * The transport holds none of the bytes handed over any more: the slab is used again from its
   * start (or let go, when a burst made it large). Call only when the transport has nothing buffered.
   */
  recycle(): void {
    if (this.used !== this.start || this.slab === undefined) return;
    if (this.slab.length > MAX_KEPT_SLAB) {
      this.slab = undefined;
      this.view = undefined;
      this.lastTaken = this.lastTakenSlab = undefined;
    }
    this.start = 0;
    this.used = 0;
  }

  /** Drops the bytes not yet handed over (the connection is closing without sending them). */
  discard(): void {
    this.used = this.start;
  }

  /** A new slab with room for `size` more bytes after the pending ones (which move over). */
  private grow(size: number): void {
    const pending = this.used - this.start;
    const doubled = Math.min((this.slab?.length ?? 0) * 2, GROWN_SLAB);
    const next = Buffer.allocUnsafeSlow(Math.max(MIN_SLAB, doubled, pending + size));
    if (pending > 0) this.slab!.copy(next, 0, this.start, this.used);
    this.slab = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
    this.lastTaken = this.lastTakenSlab = undefined; // let the old slab go
    this.start = 0;
    this.used = pending;
  }
}
