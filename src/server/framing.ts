/**
 * Splits a connection's byte stream into request frames and checks their headers (in Flo's order,
 * as soon as 32 bytes are present, with the protocol's `checkRequestHeaderAt`); this reader decides
 * what to check and hand over so that:
 * - frames wholly inside one chunk are read in place, without copying, and without decoding
 *   anything the connection does not ask for (`RequestFrameRef` reads its fields on demand);
 * - a frame split across chunks is assembled in one private buffer that grows with the bytes
 *   actually received (doubling, never beyond the frame's size), never with the length its header
 *   announces, and never keeps a view into a socket's read buffer (which could pin a whole slab
 *   for every byte trickled in);
 * - frames before a bad header in the same chunk are still returned (and answered) before the
 *   connection is rejected.
 */
import { checkRequestHeaderAt, HEADER_SIZE, MAX_FRAME_PAYLOAD, type DecodedRequest } from '../protocol/index.js';
import { wholeViewsOf } from '../protocol/small-bytes.js';
import { serverFrameCrc } from './frame-crc.js';

/**
 * One whole request frame at `bytes[at, end)` (header checked): its fields read from the bytes when
 * asked, so a request costs no 64-bit BigInt id and no payload view unless something wants them.
 * `view` is a DataView over exactly `bytes`, which may be more than the frame's chunk (the whole
 * buffer it was read into, `wholeViewsOf`).
 */
export class RequestFrameRef implements DecodedRequest {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly at: number,
    readonly end: number,
  ) {}

  get opcode(): number {
    return this.view.getUint16(this.at + 20, true);
  }

  get flags(): number {
    return this.bytes[this.at + 23];
  }

  /** The request id's low and high 32 bits (a reply header copies them). */
  get idLow(): number {
    return this.view.getUint32(this.at + 8, true);
  }

  get idHigh(): number {
    return this.view.getUint32(this.at + 12, true);
  }

  get requestId(): bigint {
    return this.view.getBigUint64(this.at + 8, true);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.at + HEADER_SIZE, this.end);
  }

  /** Computed on each read: the connection reads it once per frame. */
  get checksumOk(): boolean {
    return this.view.getUint32(this.at + 16, true) === serverFrameCrc(this.bytes, this.at, this.end, this.view);
  }
}

export interface FrameBatch {
  readonly frames: RequestFrameRef[];
  /** Set when the stream turned out unparseable; nothing more will be decoded. */
  readonly error?: Error;
}

/** Smallest assembly buffer allocated for a partial frame. */
const MIN_ASSEMBLY = 256;

export class FrameReader {
  /** Bytes of the frame being assembled (`filled` of them used). */
  private assembly: Uint8Array | undefined;
  private filled = 0;
  /** Total size of the frame being assembled, once its header is known; else 0. */
  private frameSize = 0;
  private failure: Error | undefined;
  private readonly maxPayload: number;

  constructor(maxPayload = MAX_FRAME_PAYLOAD) {
    this.maxPayload = maxPayload;
  }

  /** Bytes received and not yet part of a whole frame. */
  get buffered(): number {
    return this.filled;
  }

  /** Memory held for the partial frame (its assembly buffer's capacity). */
  get retainedBytes(): number {
    return this.assembly?.length ?? 0;
  }

  push(chunk: Uint8Array): FrameBatch {
    if (this.failure) return { frames: [], error: this.failure };
    const frames: RequestFrameRef[] = [];
    try {
      let at = this.filled > 0 ? this.continuePartial(chunk, frames) : 0;
      if (at < chunk.length) {
        // Frames are read through views of the chunk's whole buffer (kept from the last chunk when
        // it came from the same slab), at `base + at`.
        const { bytes, view } = wholeViewsOf(chunk);
        const base = chunk.byteOffset;
        const maxPayload = this.maxPayload;
        while (at < chunk.length) {
          const left = chunk.length - at;
          if (left < HEADER_SIZE) {
            this.hold(chunk.subarray(at));
            break;
          }
          // Flo validates a header before its payload arrives.
          checkRequestHeaderAt(view, base + at, maxPayload);
          const size = HEADER_SIZE + view.getUint32(base + at + 4, true);
          if (left < size) {
            this.frameSize = size;
            this.hold(chunk.subarray(at));
            break;
          }
          frames.push(new RequestFrameRef(bytes, view, base + at, base + at + size));
          at += size;
        }
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.assembly = undefined;
      this.filled = 0;
      this.frameSize = 0;
      return { frames, error: this.failure };
    }
    return { frames };
  }

  /** Adds the chunk's first bytes to the partial frame; returns how many bytes were used. */
  private continuePartial(chunk: Uint8Array, out: RequestFrameRef[]): number {
    let used = 0;
    if (this.frameSize === 0) {
      used = Math.min(HEADER_SIZE - this.filled, chunk.length);
      this.hold(chunk.subarray(0, used));
      if (this.filled < HEADER_SIZE) return used;
      const assembly = this.assembly!;
      const view = new DataView(assembly.buffer, assembly.byteOffset, HEADER_SIZE);
      checkRequestHeaderAt(view, 0, this.maxPayload);
      this.frameSize = HEADER_SIZE + view.getUint32(4, true);
    }
    const take = Math.min(this.frameSize - this.filled, chunk.length - used);
    this.hold(chunk.subarray(used, used + take));
    used += take;
    if (this.filled === this.frameSize) {
      const frame = this.assembly!.subarray(0, this.frameSize);
      this.assembly = undefined;
      this.filled = 0;
      this.frameSize = 0;
      out.push(new RequestFrameRef(frame, new DataView(frame.buffer, frame.byteOffset, frame.length), 0, frame.length));
    }
    return used;
  }

  /** Copies `bytes` into the assembly buffer, growing it (doubling, capped at the frame size). */
  private hold(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.filled + bytes.length;
    if (!this.assembly || this.assembly.length < need) {
      let capacity = Math.max(MIN_ASSEMBLY, need, (this.assembly?.length ?? 0) * 2);
      if (this.frameSize > 0) capacity = Math.min(capacity, Math.max(this.frameSize, need));
      const grown = new Uint8Array(capacity);
      if (this.assembly) grown.set(this.assembly.subarray(0, this.filled));
      this.assembly = grown;
    }
    this.assembly.set(bytes, this.filled);
    this.filled = need;
  }
}
