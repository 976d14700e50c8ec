/**
 * The connection's write path: encodes request frames into slabs and sends everything queued in
 * one tick with one `transport.send`. Owns the slabs and the send queue; reads the entries'
 * `done`/`frameBuf_` (set by the connection and `pending.ts`). Knows nothing of replies or sockets
 * beyond the `Transport` handed to `flush`.
 */
import {
  HEADER_SIZE,
  concatBytes,
  encodeRequestInto,
  requestFrameSize,
  type OpPayload,
  type RequestFrame,
} from '../protocol/index.js';
import type { PendingRequest } from './pending.js';
import type { Transport } from './types.js';

/**
 * Request frames are encoded back to back into slabs of this size, so that a flush finds them
 * contiguous and sends one view without copying. A slab is never written again where a frame was
 * handed to the transport; a full one is simply left to the garbage collector.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger frames get a buffer of their own. */
const SLAB_MAX_FRAME = 4096;

/** Where `encode` put a frame: `buf[start, end)`. */
export interface EncodedFrame {
  readonly buf: Uint8Array;
  readonly start: number;
  readonly end: number;
}

export class Outbox {
  /** Where request frames are encoded (see SLAB_SIZE); `slabAt` is the first free byte. */
  private slab_ = new Uint8Array(0);
  private slabView_ = new DataView(this.slab_.buffer);
  private slabAt_ = 0;
  private queue_: PendingRequest[] = [];
  /** Entries in `queue` that were abandoned before being sent (skipped by flush). */
  private queueDead_ = 0;
  /** Reused result of `encode` (read at once by the caller). */
  private readonly encoded_: { buf: Uint8Array; start: number; end: number } = { buf: this.slab_, start: 0, end: 0 };

  /**
   * Encodes one frame (into the current slab when small). The slab space is only taken by
   * `commit`, so a frame the caller then refuses (too large) costs nothing. Throws what the
   * encoder throws. The result is reused by the next call.
   */
  encode(id: number, opcode: number, namespace: Uint8Array, body: OpPayload): EncodedFrame {
    const out = this.encoded_;
    const size = requestFrameSize(namespace, body);
    if (size <= SLAB_MAX_FRAME) {
      if (!(size <= this.slab_.length - this.slabAt_)) {
        this.slab_ = new Uint8Array(SLAB_SIZE);
        this.slabView_ = new DataView(this.slab_.buffer);
        this.slabAt_ = 0;
      }
      out.buf = this.slab_;
      out.start = this.slabAt_;
      out.end = encodeRequestInto(this.slab_, this.slabView_, out.start, id, opcode, namespace, body);
    } else {
      // A frame of its own, by the same writer (the client bundle then needs no `encodeRequest`).
      const buf = new Uint8Array(size);
      out.buf = buf;
      out.start = 0;
      out.end = encodeRequestInto(buf, new DataView(buf.buffer), 0, id, opcode, namespace, body);
    }
    return out;
  }

  /** Keeps the frame `encode` just returned and queues its entry for the next flush. */
  commit(entry: PendingRequest): void {
    if (entry.frameBuf_ === this.slab_) this.slabAt_ = entry.frameEnd_;
    this.queue_.push(entry);
  }

  /** A queued entry was abandoned before being sent; compacts the queue once mostly dead. */
  dropped(): void {
    if (++this.queueDead_ > 1024 && this.queueDead_ * 2 > this.queue_.length) {
      this.queue_ = this.queue_.filter((e) => !e.done);
      this.queueDead_ = 0;
    }
  }

  /** Forgets every queued frame. */
  clear(): void {
    this.queue_ = [];
    this.queueDead_ = 0;
  }

  /**
   * Sends every queued frame in one `transport.send`. Frames encoded back to back (the usual case)
   * go out as one view of their slab, without copying; otherwise the contiguous runs go to
   * `transport.sendMany` if the transport has it, else are concatenated into one buffer. Throws
   * what the transport throws (the frames count as sent).
   */
  flush(transport: Transport, onFrame: ((frame: RequestFrame) => void) | undefined): void {
    if (this.queue_.length === 0) return;
    const queue = this.queue_;
    this.queue_ = [];
    this.queueDead_ = 0;
    let runs: Uint8Array[] | undefined;
    let runBuf: Uint8Array | undefined;
    let runStart = 0;
    let runEnd = 0;
    for (let i = 0; i < queue.length; i++) {
      const e = queue[i];
      if (e.done) continue;
      const buf = e.frameBuf_!;
      e.sent = true;
      if (onFrame !== undefined) {
        onFrame({
          requestId: BigInt(e.id),
          opcode: e.spec.opcode,
          flags: 0,
          payload: buf.subarray(e.frameStart_ + HEADER_SIZE, e.frameEnd_),
        });
      }
      e.frameBuf_ = undefined;
      if (buf === runBuf && e.frameStart_ === runEnd) {
        runEnd = e.frameEnd_;
        continue;
      }
      if (runBuf !== undefined) (runs ??= []).push(runBuf.subarray(runStart, runEnd));
      runBuf = buf;
      runStart = e.frameStart_;
      runEnd = e.frameEnd_;
    }
    if (runBuf === undefined) return;
    const last = runStart === 0 && runEnd === runBuf.length ? runBuf : runBuf.subarray(runStart, runEnd);
    if (runs === undefined) {
      transport.send(last);
    } else {
      runs.push(last);
      if (transport.sendMany !== undefined) transport.sendMany(runs);
      else transport.send(concatBytes(runs));
    }
  }
}
