/**
 * Little-endian byte writer and bounds-checked reader: the two primitives every codec is built on.
 * Pure (no I/O), so it runs unchanged in Node and in browsers.
 */
import { ProtocolError } from './errors.js';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** UTF-8 encode a string (or pass bytes through). */
export function utf8(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? textEncoder.encode(value) : value;
}

/** Names whose UTF-8 bytes `nameBytes` remembers; cleared when full, so it stays small. */
const NAME_CACHE_SIZE = 256;
const nameCache = new Map<string, Uint8Array>();

/**
 * UTF-8 of a queue, stream or group name (or the bytes as given). The same few names are encoded
 * on every request, so their bytes are cached: the result is shared and must not be modified
 * (request encoders only copy it into frames).
 */
export function nameBytes(value: string | Uint8Array): Uint8Array {
  if (typeof value !== 'string') return value;
  let bytes = nameCache.get(value);
  if (bytes === undefined) {
    bytes = textEncoder.encode(value);
    if (value.length <= 256) {
      if (nameCache.size >= NAME_CACHE_SIZE) nameCache.clear();
      nameCache.set(value, bytes);
    }
  }
  return bytes;
}

/** UTF-8 decode bytes (invalid sequences become U+FFFD; the protocol never validates encoding). */
export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

export const EMPTY = new Uint8Array(0);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A growable buffer that appends little-endian integers and byte strings. */
export class ByteWriter {
  private buf: Uint8Array;
  /** Made on the first 64-bit write (most writers never need one). */
  private dataView: DataView | undefined;
  private at = 0;

  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.at;
  }

  private get view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer));
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2 || 64;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.dataView = undefined;
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.at++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.reserve(2);
    const b = this.buf;
    b[this.at] = v & 0xff;
    b[this.at + 1] = v >>> 8;
    this.at += 2;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    this.reserve(4);
    const b = this.buf;
    b[this.at] = v & 0xff;
    b[this.at + 1] = (v >>> 8) & 0xff;
    b[this.at + 2] = (v >>> 16) & 0xff;
    b[this.at + 3] = v >>> 24;
    this.at += 4;
    return this;
  }

  u64(v: bigint | number): this {
    const b = typeof v === 'bigint' ? v : BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.at, b, true);
    this.at += 8;
    return this;
  }

  i64(v: bigint | number): this {
    const b = typeof v === 'bigint' ? v : BigInt(v);
    if (b < -(1n << 63n) || b >= 1n << 63n) throw new RangeError(`i64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigInt64(this.at, b, true);
    this.at += 8;
    return this;
  }

  /** Big-endian u64 (only StreamIDs inside options use it). */
  u64be(v: bigint | number): this {
    this.reserve(8);
    this.view.setBigUint64(this.at, BigInt(v), false);
    this.at += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
    return this;
  }

  /** `[len:u16][bytes]` */
  bytes16(b: Uint8Array | string): this {
    const v = utf8(b);
    return this.u16(v.length).bytes(v);
  }

  /** `[len:u32][bytes]` */
  bytes32(b: Uint8Array | string): this {
    const v = utf8(b);
    return this.u32(v.length).bytes(v);
  }

  /** `[len:u8][bytes]` */
  bytes8(b: Uint8Array | string): this {
    const v = utf8(b);
    if (v.length > 0xff) throw new RangeError(`u8-length field too long: ${v.length}`);
    return this.u8(v.length).bytes(v);
  }

  /**
   * What was written: the buffer itself when it is exactly full (writers sized up front), else a
   * copy. Either way later writes never change the returned bytes (a full buffer is replaced on
   * the next write).
   */
  finish(): Uint8Array {
    return this.at === this.buf.length ? this.buf : this.buf.slice(0, this.at);
  }
}

/** A cursor over bytes; every read is bounds-checked and throws a typed `ProtocolError` on overrun. */
export class ByteReader {
  private readonly view: DataView;
  offset = 0;

  constructor(readonly buffer: Uint8Array, private readonly what = 'payload') {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  private need(n: number, field: string): void {
    if (this.offset + n > this.buffer.length) {
      throw new ProtocolError(
        `truncated ${this.what}: ${field} needs ${n} byte(s) at offset ${this.offset}, ${this.remaining} left`,
      );
    }
  }

  u8(field = 'u8'): number {
    this.need(1, field);
    return this.buffer[this.offset++];
  }

  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  u64(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  i64(field = 'i64'): bigint {
    this.need(8, field);
    const v = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return v;
  }

  u64be(field = 'u64be'): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.offset, false);
    this.offset += 8;
    return v;
  }

  /** `n` bytes as a view (no copy). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const v = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  rest(): Uint8Array {
    const v = this.buffer.subarray(this.offset);
    this.offset = this.buffer.length;
    return v;
  }

  bytes8(field = 'bytes8'): Uint8Array {
    return this.bytes(this.u8(field), field);
  }

  bytes16(field = 'bytes16'): Uint8Array {
    return this.bytes(this.u16(field), field);
  }

  bytes32(field = 'bytes32'): Uint8Array {
    return this.bytes(this.u32(field), field);
  }

  string8(field = 'string8'): string {
    return fromUtf8(this.bytes8(field));
  }

  string16(field = 'string16'): string {
    return fromUtf8(this.bytes16(field));
  }

  string32(field = 'string32'): string {
    return fromUtf8(this.bytes32(field));
  }

  /** Throws unless every byte was consumed (used to pick between reply layouts). */
  end(): void {
    if (this.offset !== this.buffer.length) {
      throw new ProtocolError(`${this.remaining} unexpected trailing byte(s) in ${this.what}`);
    }
  }
}
