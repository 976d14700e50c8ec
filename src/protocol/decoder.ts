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
  checksumOkAt,
  frameCrcAt,
  type FrameCrc,
} from './frame.js';
import { FrameTooLargeError } from './errors.js';
import { wholeViewsOf } from './small-bytes.js';

export interface DecodedRequest extends RequestFrame {
  readonly checksumOk: boolean;
}
export interface DecodedResponse extends ResponseFrame {
  readonly checksumOk: boolean;
}

export interface FrameDecoderOptions {
  /** Largest payload accepted; larger frames are a fatal `FrameTooLargeError`. Default 100 MiB. */
  readonly maxPayload?: number;
  /** How frame CRCs are checked (default: the pure `frameCrcAt`). Must give the same values. */
  readonly frameCrc?: FrameCrc | undefined;
}

abstract class BaseDecoder<F> {
  /**
   * The start of a frame that is not complete yet: private copies of its bytes, in order. Once
   * `partialBytes` reaches HEADER_SIZE they are merged into one validated header (`partialSize`
   * then holds the whole frame's size), and payload pieces are appended until the frame completes.
   */
  private partial_: Uint8Array[] = [];
  private partialBytes_ = 0;
  /** Size of the partial frame once its header is known and validated, else 0. */
  private partialSize_ = 0;
  private failed_: Error | undefined;
  protected declare readonly maxPayload_: number;
  protected declare readonly frameCrc_: FrameCrc;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPayload_ = options.maxPayload ?? MAX_FRAME_PAYLOAD;
    this.frameCrc_ = options.frameCrc ?? frameCrcAt;
  }

  /** Bytes buffered and not yet part of a whole frame. */
  get buffered(): number {
    return this.partialBytes_;
  }

  /** Feeds a chunk and returns every frame it completes. Throws a `ProtocolError` on a bad header. */
  push(chunk: Uint8Array): F[] {
    if (this.failed_) throw this.failed_;
    if (chunk.length === 0) return [];
    const out: F[] = [];
    let at = 0;
    try {
      // Frames wholly inside the chunk are decoded in place; only a frame split across chunks is
      // assembled (once, when its last byte arrives).
      if (this.partialBytes_ > 0) at = this.completePartial_(chunk, out);
      if (chunk.length - at >= HEADER_SIZE) {
        // Read through views of the chunk's whole buffer (kept from the last chunk when it came
        // from the same slab), at `base + at`.
        const { bytes, view } = wholeViewsOf(chunk);
        const base = chunk.byteOffset;
        while (chunk.length - at >= HEADER_SIZE) {
          this.checkHeader_(bytes, base + at, view);
          const end = at + HEADER_SIZE + view.getUint32(base + at + 4, true);
          if (end > chunk.length) {
            this.partialSize_ = end - at;
            break;
          }
          out.push(this.build_(bytes, view, base + at, base + end));
          at = end;
        }
      }
    } catch (err) {
      this.failed_ = err as Error;
      this.partial_ = [];
      this.partialBytes_ = 0;
      this.partialSize_ = 0;
      throw err;
    }
    if (at < chunk.length) {
      // Keep the remainder; copy it so the caller's chunk buffer can be reused.
      this.partial_.push(chunk.slice(at));
      this.partialBytes_ += chunk.length - at;
    }
    return out;
  }

  /**
   * Feeds the chunk's first bytes to the partial frame; decodes the frame into `out` if they
   * complete it. Returns how many bytes of `chunk` were used (all of them if still incomplete).
   */
  private completePartial_(chunk: Uint8Array, out: F[]): number {
    let used = 0;
    if (this.partialSize_ === 0) {
      // The header is not complete yet.
      used = Math.min(HEADER_SIZE - this.partialBytes_, chunk.length);
      this.partial_.push(chunk.slice(0, used));
      this.partialBytes_ += used;
      if (this.partialBytes_ < HEADER_SIZE) return used;
      const header = concatBytes(this.partial_);
      this.partial_ = [header];
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      this.checkHeader_(header, 0, view);
      this.partialSize_ = HEADER_SIZE + view.getUint32(4, true);
    }
    const take = Math.min(this.partialSize_ - this.partialBytes_, chunk.length - used);
    if (this.partialBytes_ + take < this.partialSize_) {
      if (take > 0) {
        this.partial_.push(chunk.slice(used, used + take));
        this.partialBytes_ += take;
      }
      return used + take;
    }
    const frame = new Uint8Array(this.partialSize_);
    let at = 0;
    for (const piece of this.partial_) {
      frame.set(piece, at);
      at += piece.length;
    }
    frame.set(chunk.subarray(used, used + take), at);
    this.partial_ = [];
    this.partialBytes_ = 0;
    this.partialSize_ = 0;
    out.push(this.build_(frame, new DataView(frame.buffer), 0, frame.length));
    return used + take;
  }

  /** Validates the header at `buf[at, at + HEADER_SIZE)`; `view` is a DataView over exactly `buf`. */
  protected abstract checkHeader_(buf: Uint8Array, at: number, view: DataView): void;
  /** Builds the frame occupying `buf[at, end)`; `view` is a DataView over exactly `buf`. */
  protected abstract build_(buf: Uint8Array, view: DataView, at: number, end: number): F;

  protected checkCommon_(view: DataView, at: number, versionOffset: number): void {
    checkMagicAndVersion(view, at, versionOffset);
  }

  protected checkSize_(view: DataView, at: number): void {
    checkPayloadSize(view, at, this.maxPayload_);
  }
}

function checkMagicAndVersion(view: DataView, at: number, versionOffset: number): void {
  if (view.getUint32(at, true) !== MAGIC) {
    throw new InvalidFrameError(`invalid frame: bad magic 0x${view.getUint32(at, true).toString(16).padStart(8, '0')}`, 'magic');
  }
  const version = view.getUint8(at + versionOffset);
  if (version !== PROTOCOL_VERSION) throw new InvalidFrameError(`invalid frame: unsupported version ${version}`, 'version');
}

function checkPayloadSize(view: DataView, at: number, maxPayload: number): void {
  const length = view.getUint32(at + 4, true);
  if (length > maxPayload) {
    throw new FrameTooLargeError(`frame payload of ${length} bytes exceeds the limit of ${maxPayload}`);
  }
}

/**
 * The checks of the request header at byte `at` of `view`, in Flo's order (magic, version,
 * reserved bytes, size): throws `InvalidFrameError` or `FrameTooLargeError`. For a server that frames requests itself (`RequestFrameDecoder` uses it too).
 */
export function checkRequestHeaderAt(view: DataView, at: number, maxPayload: number): void {
  checkMagicAndVersion(view, at, 22);
  // Bytes 24..31 as two words (one compare each on the common, all-zero path).
  if (view.getUint32(at + 24, true) !== 0 || view.getUint32(at + 28, true) !== 0) {
    throw new InvalidFrameError('invalid frame: non-zero reserved bytes', 'reserved');
  }
  checkPayloadSize(view, at, maxPayload);
}

export class RequestFrameDecoder extends BaseDecoder<DecodedRequest> {
  protected checkHeader_(_buf: Uint8Array, at: number, view: DataView): void {
    checkRequestHeaderAt(view, at, this.maxPayload_);
  }

  protected build_(buf: Uint8Array, view: DataView, at: number, end: number): DecodedRequest {
    return {
      requestId: view.getBigUint64(at + 8, true),
      opcode: view.getUint16(at + 20, true),
      flags: buf[at + 23],
      payload: buf.subarray(at + HEADER_SIZE, end),
      checksumOk: checksumOkAt(buf, view, at, end, this.frameCrc_),
    };
  }
}

export class ResponseFrameDecoder extends BaseDecoder<DecodedResponse> {
  protected checkHeader_(_buf: Uint8Array, at: number, view: DataView): void {
    this.checkCommon_(view, at, 20);
    this.checkSize_(view, at);
  }

  protected build_(buf: Uint8Array, view: DataView, at: number, end: number): DecodedResponse {
    return {
      requestId: view.getBigUint64(at + 8, true),
      status: buf[at + 21],
      flags: buf[at + 22],
      payload: buf.subarray(at + HEADER_SIZE, end),
      checksumOk: checksumOkAt(buf, view, at, end, this.frameCrc_),
    };
  }
}

export function createFrameDecoder(kind: 'request', options?: FrameDecoderOptions): RequestFrameDecoder;
export function createFrameDecoder(kind: 'response', options?: FrameDecoderOptions): ResponseFrameDecoder;
export function createFrameDecoder(kind: FrameKind, options?: FrameDecoderOptions) {
  return kind === 'request' ? new RequestFrameDecoder(options) : new ResponseFrameDecoder(options);
}
