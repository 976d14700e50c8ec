/**
 * Little-endian byte writer and UTF-8 helpers: with the reader (`byte-reader.ts`), the primitives
 * every codec is built on. Pure (no I/O), so it runs unchanged in Node and in browsers.
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** UTF-8 encode a string (or pass bytes through). */
export function utf8(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? textEncoder.encode(value) : value;
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

/** The largest u64, `2^64 - 1`. */
export const U64_MAX = 0xffffffffffffffffn;

/** `v`, if it fits a u64; else a `RangeError` ("u64 out of range"), as every u64 writer throws. */
export function checkU64(v: bigint): bigint {
  if (v < 0n || v > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
  return v;
}

/** A growable buffer that appends little-endian integers and byte strings. */
export class ByteWriter {
  private declare buf: Uint8Array;
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
    if (b < 0n || b > U64_MAX) throw new RangeError(`u64 out of range: ${v}`);
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
