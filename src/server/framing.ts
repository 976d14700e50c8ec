/**
 * Splits a connection's byte stream into request frames. The protocol's `RequestFrameDecoder` does
 * the validation (header checks as soon as 32 bytes are present, in Flo's order, and the CRC); this
 * reader only decides what to hand it so that:
 * - frames wholly inside one chunk are decoded in place, without copying;
 * - a frame split across chunks is assembled in one private buffer that grows with the bytes
 *   actually received (doubling, never beyond the frame's size), never with the length its header
 *   announces, and never keeps a view into a socket's read buffer (which could pin a whole slab
 *   for every byte trickled in);
 * - frames decoded before a bad header in the same chunk are still returned (and answered) before
 *   the connection is rejected.
 */
import { HEADER_SIZE, MAX_FRAME_PAYLOAD, RequestFrameDecoder, type DecodedRequest } from '../protocol/index.js';
import { serverFrameCrc } from './frame-crc.js';

export interface FrameBatch {
  readonly frames: DecodedRequest[];
  /** Set when the stream turned out unparseable; nothing more will be decoded. */
  readonly error?: Error;
}

/** Smallest assembly buffer allocated for a partial frame. */
const MIN_ASSEMBLY = 256;

export class FrameReader {
  private readonly decoder: RequestFrameDecoder;
  /** Decodes runs of whole frames (holds no partial frame between calls). */
  private wholeDecoder: RequestFrameDecoder;
  /** Bytes of the frame being assembled (`filled` of them used). */
  private assembly: Uint8Array | undefined;
  private filled = 0;
  /** Total size of the frame being assembled, once its header is known; else 0. */
  private frameSize = 0;
  private failure: Error | undefined;
  private readonly maxPayload: number;

  constructor(maxPayload = MAX_FRAME_PAYLOAD) {
    this.maxPayload = maxPayload;
    this.decoder = new RequestFrameDecoder({ maxPayload, frameCrc: serverFrameCrc });
    this.wholeDecoder = new RequestFrameDecoder({ maxPayload, frameCrc: serverFrameCrc });
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
    let frames: DecodedRequest[] = [];
    try {
      let at = this.filled > 0 ? this.continuePartial(chunk, frames) : 0;
      if (at === 0) {
        // The common case, a chunk of whole frames: the decoder's own list is the batch.
        const whole = this.decodeAll(chunk);
        if (whole !== undefined) return { frames: whole };
      }
      at = this.decodeWhole(chunk, at, frames);
      while (at < chunk.length) {
        const left = chunk.length - at;
        if (left < HEADER_SIZE) {
          this.hold(chunk.subarray(at));
          break;
        }
        const size = HEADER_SIZE + frameLength(chunk, at);
        if (left >= size) {
          frames.push(...this.decoder.push(chunk.subarray(at, at + size)));
          at += size;
          continue;
        }
        // Validate the header now (Flo does so before the payload arrives), then keep what came.
        this.checkHeader(chunk.subarray(at, at + HEADER_SIZE));
        this.frameSize = size;
        this.hold(chunk.subarray(at));
        break;
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

  /**
   * Decodes the run of whole frames starting at `at` in one pass of the decoder (the common case:
   * a chunk of pipelined requests); returns where the run ends. When the run holds a bad header,
   * nothing is taken from it here: the frame-by-frame loop then returns the frames before the bad
   * one and reports the error.
   */
  private decodeWhole(chunk: Uint8Array, at: number, out: DecodedRequest[]): number {
    let end = at;
    while (chunk.length - end >= HEADER_SIZE) {
      const size = HEADER_SIZE + frameLength(chunk, end);
      if (chunk.length - end < size) break;
      end += size;
    }
    if (end === at) return at;
    let decoded: DecodedRequest[];
    try {
      // A decoder of its own: one that fails is unusable, and the loop still needs ours.
      decoded = this.wholeDecoder.push(chunk.subarray(at, end));
    } catch {
      this.wholeDecoder = new RequestFrameDecoder({ maxPayload: this.maxPayload, frameCrc: serverFrameCrc });
      return at;
    }
    for (let i = 0; i < decoded.length; i++) out.push(decoded[i]);
    return end;
  }

  /**
   * The frames of a chunk that holds whole frames only (no partial one before or after), decoded in
   * one pass; undefined when it does not, or when the run fails to decode (then the frame-by-frame
   * path finds the frames before the bad one and reports the error).
   */
  private decodeAll(chunk: Uint8Array): DecodedRequest[] | undefined {
    let end = 0;
    while (chunk.length - end >= HEADER_SIZE) end += HEADER_SIZE + frameLength(chunk, end);
    if (end !== chunk.length) return undefined;
    try {
      return this.wholeDecoder.push(chunk);
    } catch {
      this.wholeDecoder = new RequestFrameDecoder({ maxPayload: this.maxPayload, frameCrc: serverFrameCrc });
      return undefined;
    }
  }

  /** Adds the chunk's first bytes to the partial frame; returns how many bytes were used. */
  private continuePartial(chunk: Uint8Array, out: DecodedRequest[]): number {
    let used = 0;
    if (this.frameSize === 0) {
      used = Math.min(HEADER_SIZE - this.filled, chunk.length);
      this.hold(chunk.subarray(0, used));
      if (this.filled < HEADER_SIZE) return used;
      const header = this.assembly!.subarray(0, HEADER_SIZE);
      this.checkHeader(header);
      this.frameSize = HEADER_SIZE + new DataView(header.buffer, header.byteOffset, HEADER_SIZE).getUint32(4, true);
    }
    const take = Math.min(this.frameSize - this.filled, chunk.length - used);
    this.hold(chunk.subarray(used, used + take));
    used += take;
    if (this.filled === this.frameSize) {
      const frame = this.assembly!.subarray(0, this.frameSize);
      this.assembly = undefined;
      this.filled = 0;
      this.frameSize = 0;
      out.push(...this.decoder.push(frame));
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

  /** Runs the decoder's header checks on a lone header (throws on a bad one). */
  private checkHeader(header: Uint8Array): void {
    // A fresh decoder per check: it validates the header and then simply waits for a payload.
    new RequestFrameDecoder({ maxPayload: this.maxPayload, frameCrc: serverFrameCrc }).push(header);
  }
}

/** The payload length announced by the header at `at` (its bytes 4..7, little-endian). */
function frameLength(bytes: Uint8Array, at: number): number {
  return (bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24)) >>> 0;
}
