/**
 * Splits a connection's byte stream into request frames. The protocol's `RequestFrameDecoder` does
 * the validation (header checks as soon as 32 bytes are present, in Flo's order, and the CRC); this
 * reader only decides what to hand it so that:
 * - a large frame arriving in many chunks is assembled once (the decoder alone would re-concatenate
 *   its whole buffer on every chunk),
 * - frames decoded before a bad header in the same chunk are still returned (and answered) before
 *   the connection is rejected,
 * - memory held for a partial frame never exceeds its announced (validated) size.
 */
import { concatBytes, HEADER_SIZE, RequestFrameDecoder, type DecodedRequest } from '../protocol/index.js';

export interface FrameBatch {
  readonly frames: DecodedRequest[];
  /** Set when the stream turned out unparseable; nothing more will be decoded. */
  readonly error?: Error;
}

export class FrameReader {
  private readonly decoder: RequestFrameDecoder;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Bytes `held` must reach before any work is worth doing. */
  private need = HEADER_SIZE;
  /** When the decoder holds a validated header, the payload length it still waits for. */
  private payloadPending = 0;
  private failure: Error | undefined;

  constructor(maxPayload?: number) {
    this.decoder = new RequestFrameDecoder(maxPayload === undefined ? {} : { maxPayload });
  }

  /** Bytes received and not yet part of a whole frame. */
  get buffered(): number {
    return this.heldBytes + (this.payloadPending > 0 ? HEADER_SIZE : 0);
  }

  push(chunk: Uint8Array): FrameBatch {
    if (this.failure) return { frames: [], error: this.failure };
    if (chunk.length === 0) return { frames: [] };
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < this.need) return { frames: [] };

    const buf = this.held.length === 1 ? this.held[0] : concatBytes(this.held);
    const frames: DecodedRequest[] = [];
    let at = 0;
    try {
      for (;;) {
        const left = buf.length - at;
        if (this.payloadPending > 0) {
          if (left < this.payloadPending) break;
          frames.push(...this.decoder.push(buf.subarray(at, at + this.payloadPending)));
          at += this.payloadPending;
          this.payloadPending = 0;
          continue;
        }
        if (left < HEADER_SIZE) break;
        const view = new DataView(buf.buffer, buf.byteOffset + at, HEADER_SIZE);
        const length = view.getUint32(4, true);
        if (left >= HEADER_SIZE + length) {
          frames.push(...this.decoder.push(buf.subarray(at, at + HEADER_SIZE + length)));
          at += HEADER_SIZE + length;
        } else {
          // Validate the header now (Flo does so before the payload arrives); the decoder keeps it.
          this.decoder.push(buf.subarray(at, at + HEADER_SIZE));
          at += HEADER_SIZE;
          this.payloadPending = length;
        }
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.held = [];
      this.heldBytes = 0;
      return { frames, error: this.failure };
    }
    const rest = buf.subarray(at);
    // Copy a small remainder so it does not pin a large chunk in memory.
    this.held = rest.length === 0 ? [] : [rest.length < 4096 && buf.length > 4 * rest.length ? rest.slice() : rest];
    this.heldBytes = rest.length;
    this.need = this.payloadPending > 0 ? this.payloadPending : HEADER_SIZE;
    return { frames };
  }
}
