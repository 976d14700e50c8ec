/**
 * Incremental frame decoder: bytes arrive in chunks split anywhere; whole frames come out.
 * Header problems are detected as soon as 32 bytes are present (before the payload arrives), in
 * Flo's order: magic, version, reserved bytes (requests only), size. They are fatal: the byte
 * stream cannot be re-framed. A CRC mismatch is reported per frame (`checksumOk: false`), so a
 * client can fail just that request while a server rejects and closes.
 */
import { concatBytes } from './bytes.js';
import {
  HEADER_SIZE,
  InvalidFrameError,
  MAGIC,
  MAX_FRAME_PAYLOAD,
  PROTOCOL_VERSION,
  type FrameKind,
  type RequestFrame,
  type ResponseFrame,
  verifyChecksum,
} from './frame.js';
import { FrameTooLargeError } from './errors.js';

export interface DecodedRequest extends RequestFrame {
  readonly checksumOk: boolean;
}
export interface DecodedResponse extends ResponseFrame {
  readonly checksumOk: boolean;
}

export interface FrameDecoderOptions {
  /** Largest payload accepted; larger frames are a fatal `FrameTooLargeError`. Default 100 MiB. */
  readonly maxPayload?: number;
}

abstract class BaseDecoder<F> {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private failed: Error | undefined;
  protected readonly maxPayload: number;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPayload = options.maxPayload ?? MAX_FRAME_PAYLOAD;
  }

  /** Bytes buffered and not yet part of a whole frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Feeds a chunk and returns every frame it completes. Throws a `ProtocolError` on a bad header. */
  push(chunk: Uint8Array): F[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: F[] = [];
    let buf = this.pending.length === 1 ? this.pending[0] : concatBytes(this.pending);
    let at = 0;
    try {
      while (buf.length - at >= HEADER_SIZE) {
        const view = new DataView(buf.buffer, buf.byteOffset + at, HEADER_SIZE);
        this.checkHeader(buf, at, view);
        const length = view.getUint32(4, true);
        if (buf.length - at < HEADER_SIZE + length) break;
        const frame = buf.subarray(at, at + HEADER_SIZE + length);
        out.push(this.build(frame, view));
        at += HEADER_SIZE + length;
      }
    } catch (err) {
      this.failed = err as Error;
      this.pending = [];
      this.pendingBytes = 0;
      throw err;
    }
    // Keep the remainder; copy it so the caller's chunk buffer can be reused.
    const rest = buf.subarray(at);
    this.pending = rest.length ? [rest.slice()] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  protected abstract checkHeader(buf: Uint8Array, at: number, view: DataView): void;
  protected abstract build(frame: Uint8Array, view: DataView): F;

  protected checkCommon(view: DataView, versionOffset: number): void {
    if (view.getUint32(0, true) !== MAGIC) {
      throw new InvalidFrameError(`invalid frame: bad magic 0x${view.getUint32(0, true).toString(16).padStart(8, '0')}`, 'magic');
    }
    const version = view.getUint8(versionOffset);
    if (version !== PROTOCOL_VERSION) throw new InvalidFrameError(`invalid frame: unsupported version ${version}`, 'version');
  }

  protected checkSize(view: DataView): void {
    const length = view.getUint32(4, true);
    if (length > this.maxPayload) {
      throw new FrameTooLargeError(`frame payload of ${length} bytes exceeds the limit of ${this.maxPayload}`);
    }
  }
}

export class RequestFrameDecoder extends BaseDecoder<DecodedRequest> {
  protected checkHeader(buf: Uint8Array, at: number, view: DataView): void {
    this.checkCommon(view, 22);
    for (let i = 24; i < 32; i++) {
      if (buf[at + i] !== 0) throw new InvalidFrameError('invalid frame: non-zero reserved bytes', 'reserved');
    }
    this.checkSize(view);
  }

  protected build(frame: Uint8Array, view: DataView): DecodedRequest {
    return {
      requestId: view.getBigUint64(8, true),
      opcode: view.getUint16(20, true),
      flags: view.getUint8(23),
      payload: frame.subarray(HEADER_SIZE),
      checksumOk: verifyChecksum(frame),
    };
  }
}

export class ResponseFrameDecoder extends BaseDecoder<DecodedResponse> {
  protected checkHeader(_buf: Uint8Array, _at: number, view: DataView): void {
    this.checkCommon(view, 20);
    this.checkSize(view);
  }

  protected build(frame: Uint8Array, view: DataView): DecodedResponse {
    return {
      requestId: view.getBigUint64(8, true),
      status: view.getUint8(21),
      flags: view.getUint8(22),
      payload: frame.subarray(HEADER_SIZE),
      checksumOk: verifyChecksum(frame),
    };
  }
}

export function createFrameDecoder(kind: 'request', options?: FrameDecoderOptions): RequestFrameDecoder;
export function createFrameDecoder(kind: 'response', options?: FrameDecoderOptions): ResponseFrameDecoder;
export function createFrameDecoder(kind: FrameKind, options?: FrameDecoderOptions) {
  return kind === 'request' ? new RequestFrameDecoder(options) : new ResponseFrameDecoder(options);
}
