/**
 * Frames: a 32-byte header and `length` payload bytes, in both directions.
 *
 * Request header:  magic u32 | length u32 | request_id u64 | crc32 u32 | opcode u16 | version u8 | flags u8 | reserved[8]
 * Response header: magic u32 | length u32 | request_id u64 | crc32 u32 | version u8 | status u8 | flags u8 | pad u8 | reserved[8]
 *
 * The CRC (IEEE) covers header bytes 0..15, then 20..31, then the payload.
 */
import { crc32Update, crc32UpdateView } from './crc32.js';
import { EMPTY, utf8 } from './bytes.js';
import { ProtocolError } from './errors.js';

export const MAGIC = 0x004f4c46; // "FLO\0" little-endian
export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 32;
/** The server refuses any frame announcing more than this (Flo's header validation). */
export const MAX_FRAME_PAYLOAD = 100 * 1024 * 1024;

export interface RequestFrame {
  readonly requestId: bigint;
  readonly opcode: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

export interface ResponseFrame {
  readonly requestId: bigint;
  readonly status: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** The four sections every request payload carries. */
export interface RequestBody {
  readonly namespace: Uint8Array;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly options: Uint8Array;
}

/** What an operation codec contributes to a request: the namespace is added by the caller. */
export interface OpPayload {
  readonly key?: Uint8Array;
  readonly value?: Uint8Array;
  readonly options?: Uint8Array;
}

function frameCrc(frame: Uint8Array, view: DataView): number {
  return frameCrcAt(frame, 0, frame.length, view);
}

/**
 * How a frame's CRC is computed: the CRC-32 of `bytes[start, start + 16)` followed by
 * `bytes[start + 20, end)` (every byte of the frame but the CRC field itself). `frameCrcAt` is the
 * pure one; a host with a faster CRC (a server with Node's native `zlib.crc32`) may pass its own
 * to `encodeResponseHeaderAt`, `checksumOkAt` and the frame decoders: it must give the same values.
 * `view`, when the caller has one, is a DataView over exactly `bytes` (the CRC then reads words).
 */
export type FrameCrc = (bytes: Uint8Array, start: number, end: number, view?: DataView) => number;

/** The CRC of the frame occupying `bytes[start, end)`; faster given `view`, a DataView over exactly `bytes`. */
export function frameCrcAt(bytes: Uint8Array, start: number, end: number, view?: DataView): number {
  if (view === undefined) {
    const c = crc32Update(0xffffffff, bytes, start, start + 16);
    return (crc32Update(c, bytes, start + 20, end) ^ 0xffffffff) >>> 0;
  }
  const c = crc32UpdateView(0xffffffff, bytes, view, start, start + 16);
  return (crc32UpdateView(c, bytes, view, start + 20, end) ^ 0xffffffff) >>> 0;
}

function writeHeaderCommon(view: DataView, payloadLength: number, requestId: bigint): void {
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, payloadLength, true);
  view.setBigUint64(8, requestId, true);
}

/** Encodes a request frame around an already-encoded payload. */
export function encodeRequestFrame(requestId: bigint, opcode: number, payload: Uint8Array, flags = 0): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + payload.length);
  const view = new DataView(frame.buffer);
  writeHeaderCommon(view, payload.length, requestId);
  view.setUint16(20, opcode, true);
  frame[22] = PROTOCOL_VERSION;
  frame[23] = flags;
  frame.set(payload, HEADER_SIZE);
  view.setUint32(16, frameCrc(frame, view), true);
  return frame;
}

/** Writes the four request sections at `at`; returns the end offset. */
function writeSections(
  target: Uint8Array,
  view: DataView,
  at: number,
  ns: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  options: Uint8Array,
): number {
  view.setUint16(at, ns.length, true);
  target.set(ns, at + 2);
  at += 2 + ns.length;
  view.setUint16(at, key.length, true);
  target.set(key, at + 2);
  at += 2 + key.length;
  view.setUint32(at, value.length, true);
  target.set(value, at + 4);
  at += 4 + value.length;
  view.setUint16(at, options.length, true);
  target.set(options, at + 2);
  return at + 2 + options.length;
}

/** Header and sections of one request frame at `offset`, the id given as its two u32 halves. */
function writeRequest(
  target: Uint8Array,
  view: DataView,
  offset: number,
  idLow: number,
  idHigh: number,
  opcode: number,
  ns: Uint8Array,
  body: OpPayload,
): number {
  const key = body.key ?? EMPTY;
  const value = body.value ?? EMPTY;
  const options = body.options ?? EMPTY;
  if (ns.length > 0xffff) throw new RangeError(`namespace too long: ${ns.length} bytes`);
  if (key.length > 0xffff) throw new RangeError(`key too long: ${key.length} bytes (max 65535)`);
  if (options.length > 0xffff) throw new RangeError(`options too long: ${options.length} bytes`);
  const payloadLength = 2 + ns.length + 2 + key.length + 4 + value.length + 2 + options.length;
  const end = offset + HEADER_SIZE + payloadLength;
  if (end > target.length) throw new RangeError('encodeRequestInto: target too small');
  view.setUint32(offset, MAGIC, true);
  view.setUint32(offset + 4, payloadLength, true);
  view.setUint32(offset + 8, idLow, true);
  view.setUint32(offset + 12, idHigh, true);
  view.setUint16(offset + 20, opcode, true);
  target[offset + 22] = PROTOCOL_VERSION;
  target[offset + 23] = 0;
  for (let i = offset + 24; i < offset + HEADER_SIZE; i++) target[i] = 0;
  writeSections(target, view, offset + HEADER_SIZE, ns, key, value, options);
  view.setUint32(offset + 16, frameCrcAt(target, offset, end, view), true);
  return end;
}

/** Encodes a request frame with its four sections written straight into the frame (one allocation). */
export function encodeRequest(requestId: bigint, opcode: number, namespace: Uint8Array | string, body: OpPayload): Uint8Array {
  const ns = utf8(namespace);
  const frame = new Uint8Array(requestFrameSize(ns, body));
  const id = BigInt.asUintN(64, requestId);
  writeRequest(frame, new DataView(frame.buffer), 0, Number(id & 0xffffffffn), Number(id >> 32n), opcode, ns, body);
  return frame;
}

/**
 * The size in bytes of the frame `encodeRequest` would produce for this namespace and body (no
 * validation: `encodeRequestInto` validates).
 */
export function requestFrameSize(namespace: Uint8Array, body: OpPayload): number {
  return (
    HEADER_SIZE +
    10 +
    namespace.length +
    (body.key ?? EMPTY).length +
    (body.value ?? EMPTY).length +
    (body.options ?? EMPTY).length
  );
}

/**
 * `encodeRequest` writing into `target` at `offset` rather than into a new buffer: `target` must
 * have `requestFrameSize(namespace, body)` bytes free there, and `view` must be a DataView over
 * exactly `target`. The id is a non-negative safe integer (sent as u64). Validates and throws as
 * `encodeRequest` does (possibly after writing part of the frame). Returns the frame's end offset.
 */
export function encodeRequestInto(
  target: Uint8Array,
  view: DataView,
  offset: number,
  requestId: number,
  opcode: number,
  namespace: Uint8Array,
  body: OpPayload,
): number {
  return writeRequest(target, view, offset, requestId >>> 0, Math.floor(requestId / 0x100000000), opcode, namespace, body);
}

export function encodeResponseFrame(requestId: bigint, status: number, payload: Uint8Array = EMPTY, flags = 0): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + payload.length);
  const view = new DataView(frame.buffer);
  writeHeaderCommon(view, payload.length, requestId);
  frame[20] = PROTOCOL_VERSION;
  frame[21] = status;
  frame[22] = flags;
  frame.set(payload, HEADER_SIZE);
  view.setUint32(16, frameCrc(frame, view), true);
  return frame;
}

/**
 * Writes the 32-byte header of a response frame at `offset` in `target`, for a payload of
 * `payloadLength` bytes that is already in place right after it (at `offset + 32`), CRC included.
 * Every header byte is written (reserved ones as zero), so `target` may hold anything before.
 * `view` must be a DataView over exactly `target`. Returns the frame's end offset. Together with
 * `encodeResponseInto` this lets a server gather many replies in one output buffer.
 */
export function encodeResponseHeaderAt(
  target: Uint8Array,
  view: DataView,
  offset: number,
  requestId: bigint,
  status: number,
  payloadLength: number,
  flags = 0,
  crcOf: FrameCrc = frameCrcAt,
): number {
  const id = BigInt.asUintN(64, requestId);
  return writeResponseHeaderAt(target, view, offset, Number(id & 0xffffffffn), Number(id >> 32n), status, payloadLength, flags, crcOf);
}

/**
 * `encodeResponseHeaderAt` with the request id as its two u32 halves (low, high), as a server
 * copies them from the request's header: no 64-bit BigInt per reply.
 */
export function writeResponseHeaderAt(
  target: Uint8Array,
  view: DataView,
  offset: number,
  idLow: number,
  idHigh: number,
  status: number,
  payloadLength: number,
  flags = 0,
  crcOf: FrameCrc = frameCrcAt,
): number {
  const end = offset + HEADER_SIZE + payloadLength;
  if (end > target.length) throw new RangeError('encodeResponseHeaderAt: target too small');
  view.setUint32(offset, MAGIC, true);
  view.setUint32(offset + 4, payloadLength, true);
  view.setUint32(offset + 8, idLow, true);
  view.setUint32(offset + 12, idHigh, true);
  target[offset + 20] = PROTOCOL_VERSION;
  target[offset + 21] = status;
  target[offset + 22] = flags;
  target[offset + 23] = 0;
  view.setUint32(offset + 24, 0, true);
  view.setUint32(offset + 28, 0, true);
  view.setUint32(offset + 16, crcOf(target, offset, end, view), true);
  return end;
}

/**
 * `encodeResponseFrame` writing into `target` at `offset` rather than into a new buffer: the same
 * bytes, given `HEADER_SIZE + payload.length` bytes of room there. `view` must be a DataView over
 * exactly `target`. Returns the frame's end offset.
 */
export function encodeResponseInto(
  target: Uint8Array,
  view: DataView,
  offset: number,
  requestId: bigint,
  status: number,
  payload: Uint8Array = EMPTY,
  flags = 0,
): number {
  if (offset + HEADER_SIZE + payload.length > target.length) throw new RangeError('encodeResponseInto: target too small');
  target.set(payload, offset + HEADER_SIZE);
  return encodeResponseHeaderAt(target, view, offset, requestId, status, payload.length, flags);
}

/** The reply Flo sends before closing a connection whose frame it could not parse. */
export const INVALID_REQUEST_MESSAGE = 'Invalid request';
export function encodeRejectFrame(): Uint8Array {
  return encodeResponseFrame(0n, 3, utf8(INVALID_REQUEST_MESSAGE));
}

/** Encodes the four request sections (for callers that need the payload alone). */
export function encodeRequestBody(body: Partial<RequestBody>): Uint8Array {
  const ns = body.namespace ?? EMPTY;
  const key = body.key ?? EMPTY;
  const value = body.value ?? EMPTY;
  const options = body.options ?? EMPTY;
  const out = new Uint8Array(10 + ns.length + key.length + value.length + options.length);
  writeSections(out, new DataView(out.buffer), 0, ns, key, value, options);
  return out;
}

/**
 * Parses a request payload as Flo's server does: an empty payload is four empty sections, a missing
 * or overrunning options section reads as empty, trailing bytes are ignored. A namespace, key or
 * value length that overruns the payload is a `ProtocolError` (Flo would stall; we reject).
 */
export function decodeRequestBody(payload: Uint8Array): RequestBody {
  return decodeRequestBodyAt(payload, 0, payload.length);
}

/**
 * `decodeRequestBody` of the payload occupying `bytes[start, end)` (a server reading frames in
 * place needs no view of the payload itself); offsets in its errors count from `start`. When the
 * namespace's bytes equal `knownNamespace` (a connection's last one: requests repeat it), the
 * body's namespace is that very array, not a new view.
 */
export function decodeRequestBodyAt(bytes: Uint8Array, start: number, end: number, knownNamespace?: Uint8Array): RequestBody {
  if (end === start) return { namespace: EMPTY, key: EMPTY, value: EMPTY, options: EMPTY };
  // A plain walk (this runs once per request on the server): no reader object, no DataView, no closure.
  let at = sectionEnd(bytes, start, end, start, 2, 'namespace');
  const namespace =
    knownNamespace !== undefined && sameBytes(bytes, start + 2, at, knownNamespace) ? knownNamespace : sectionBytes(bytes, start, at, 2);
  const keyAt = at;
  at = sectionEnd(bytes, start, end, at, 2, 'key');
  const key = sectionBytes(bytes, keyAt, at, 2);
  const valueAt = at;
  at = sectionEnd(bytes, start, end, at, 4, 'value');
  const value = sectionBytes(bytes, valueAt, at, 4);
  let options: Uint8Array = EMPTY;
  if (end - at >= 2) {
    const len = bytes[at] | (bytes[at + 1] << 8);
    at += 2;
    if (len > 0 && len <= end - at) options = bytes.subarray(at, at + len);
  }
  return { namespace, key, value, options };
}

/**
 * End offset of the length-prefixed section at `at` (`width`-byte little-endian length) of the
 * payload `bytes[start, end)`; throws on an overrun.
 */
function sectionEnd(bytes: Uint8Array, start: number, end: number, at: number, width: 2 | 4, field: string): number {
  if (at + width > end) truncated(field, width, at - start, end - start);
  const len =
    width === 2 ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
  at += width;
  if (at + len > end) truncated(field, len, at - start, end - start);
  return at + len;
}

/** Whether `bytes[from, to)` holds exactly the bytes of `other`. */
function sameBytes(bytes: Uint8Array, from: number, to: number, other: Uint8Array): boolean {
  if (to - from !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (bytes[from + i] !== other[i]) return false;
  return true;
}

/** The bytes of the section that starts at `start` (its length prefix) and ends at `end`. */
function sectionBytes(bytes: Uint8Array, start: number, end: number, width: number): Uint8Array {
  return end === start + width ? EMPTY : bytes.subarray(start + width, end);
}

/** The `ProtocolError` `ByteReader` reports for an overrun (same text). */
function truncated(field: string, need: number, at: number, size: number): never {
  throw new ProtocolError(`truncated request payload: ${field} needs ${need} byte(s) at offset ${at}, ${size - at} left`);
}

export type FrameKind = 'request' | 'response';

/** Why a header was refused; the server answers all of these with the reject frame and closes. */
export class InvalidFrameError extends ProtocolError {
  override name = 'InvalidFrameError';
  declare readonly reason: 'magic' | 'version' | 'reserved' | 'size' | 'checksum';
  declare readonly requestId?: bigint;
  constructor(message: string, reason: 'magic' | 'version' | 'reserved' | 'size' | 'checksum', requestId?: bigint) {
    super(message);
    this.reason = reason;
    this.requestId = requestId;
  }
}

/**
 * Validates a complete frame's header and CRC. `frame` must hold exactly header + payload.
 * Returns the parsed frame; throws `InvalidFrameError`.
 */
/** `verifyChecksum` for the frame occupying `bytes[start, end)`; `view` is a DataView over exactly `bytes`. */
export function checksumOkAt(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  crcOf: FrameCrc = frameCrcAt,
): boolean {
  return view.getUint32(start + 16, true) === crcOf(bytes, start, end, view);
}

export function verifyChecksum(frame: Uint8Array): boolean {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return view.getUint32(16, true) === frameCrc(frame, view);
}
