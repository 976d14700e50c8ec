/**
 * A MessagePack encoder for the plain data tables save (arrays, plain objects, strings, numbers,
 * bigints, booleans, null, undefined, byte arrays), written straight into one growing buffer.
 *
 * Why not msgpackr's `pack` here: every log batch holds hundreds of small values, and msgpackr
 * sends each byte array through its extension lookup (six `instanceof` checks, a closure and a
 * result object per array), which made packing a third of the durable write path's CPU. This
 * writer emits the same encodings msgpackr reads back to equal values (the test compares them on
 * random data); anything else (a Map, a Date, a bigint beyond 64 bits, ...) is packed by msgpackr
 * and copied in, so the bytes stay readable by the same `unpack`.
 */
import type { Packr } from 'msgpackr';
import { entityKeyWithId, type IdKeyForm } from './types.js';

const MAX_INITIAL = 64 * 1024;

/** Two lower-case hex digits of each byte, as the big-endian 16-bit word a `DataView` writes them with. */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, i) => {
  const digit = (d: number) => (d < 10 ? 0x30 + d : 0x57 + d);
  return (digit(i >> 4) << 8) | digit(i & 15);
});
const MAX_SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_64 = 1n << 64n;
const TWO_127 = 1n << 127n;
// Bounds of msgpack's int64, made once: a negated literal in the comparison is computed (a BigInt
// allocated) on every call.
const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * A stored form that writes its own encoding: the same bytes as the plain data it stands for (a
 * stream record writes `[partition, payload, headers]` from its arena, with no tuple and no
 * payload view made per append). Only for forms given to the storage as created (`WillChange`).
 */
export interface SelfPacking {
  packInto(out: PlainPacker): void;
}

export class PlainPacker {
  private buf: Buffer;
  private view: DataView;
  /** Next byte to write. */
  pos = 0;

  constructor(
    private readonly fallback: Packr,
  ) {
    this.buf = Buffer.allocUnsafe(MAX_INITIAL);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** The bytes written since `from` (a view: valid until the next write or `reset`). */
  bytes(from = 0): Buffer {
    return this.buf.subarray(from, this.pos);
  }

  /** The buffer written into (a view of it may be patched in place, e.g. a header reserved earlier). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Starts over at byte 0; a buffer grown past `keepBytes` (one huge batch) is let go. */
  reset(keepBytes = 4 * 1024 * 1024): void {
    this.pos = 0;
    // The bytes of the last prefix are overwritten from here on.
    this.lastPrefix = '';
    if (this.buf.length > keepBytes) {
      this.buf = Buffer.allocUnsafe(MAX_INITIAL);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** Skips `n` bytes, to be filled later through `buffer`; returns where they start. */
  reserve(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /**
   * Appends a copy of `length` bytes written earlier at `from` (since the last `reset`): a table
   * name or key prefix the batch already holds, copied four bytes at a time (a byte loop, or a
   * string's characters one by one, cost several times more at these lengths).
   */
  repeat(from: number, length: number): void {
    this.room(length);
    this.copyOwn(from, this.pos, length);
    this.pos += length;
  }

  /** Copies `length` bytes of the buffer from `from` to `to` (ranges apart: `to` at or after `from + length`). */
  private copyOwn(from: number, to: number, length: number): void {
    if (length < 4) {
      const b = this.buf;
      for (let i = 0; i < length; i++) b[to + i] = b[from + i];
      return;
    }
    const v = this.view;
    let i = 0;
    for (; i + 4 <= length; i += 4) v.setUint32(to + i, v.getUint32(from + i));
    // The last bytes as the word ending there (overlapping bytes already copied, with the same values).
    if (i < length) v.setUint32(to + length - 4, v.getUint32(from + length - 4));
  }

  /** Writes an array32 header at `at` (5 bytes reserved there). */
  patchArray32(at: number, length: number): void {
    this.buf[at] = 0xdd;
    this.view.setUint32(at + 1, length);
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'number':
        return this.number(v);
      case 'bigint':
        return this.bigint(v);
      case 'boolean':
        this.room(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        // msgpackr's undefined: fixext 1, type 0, data 0.
        this.room(3);
        this.buf[this.pos++] = 0xd4;
        this.buf[this.pos++] = 0;
        this.buf[this.pos++] = 0;
        return;
      case 'object': {
        if (v === null) {
          this.room(1);
          this.buf[this.pos++] = 0xc0;
          return;
        }
        if (v instanceof Uint8Array) return this.binary(v);
        const ctor = (v as object).constructor;
        if (ctor === Array) return this.array(v as unknown[]);
        if (ctor === Object) return this.object(v as Record<string, unknown>);
        if (typeof (v as Partial<SelfPacking>).packInto === 'function') return (v as SelfPacking).packInto(this);
        return this.packed(v);
      }
      default:
        return this.packed(v);
    }
  }

  string(s: string): void {
    const length = s.length;
    // ASCII fast path for strings up to 255 characters (entity keys, table names, field names):
    // copying the characters in JavaScript costs less than `Buffer#write`'s native call at these
    // lengths (stream record keys are 32–60 characters). Same bytes: fixstr below 32, else str8.
    if (length < 0x100) {
      const header = length < 32 ? 1 : 2;
      this.room(header + length);
      const start = this.pos;
      if (this.copyAscii(s, start + header)) {
        this.endShortString(start, length, start + header + length);
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.room(5 + bytes);
    const b = this.buf;
    if (bytes < 32) b[this.pos++] = 0xa0 | bytes;
    else if (bytes < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = bytes;
    } else if (bytes < 0x10000) {
      b[this.pos++] = 0xda;
      this.view.setUint16(this.pos, bytes);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, bytes);
      this.pos += 4;
    }
    this.pos += b.write(s, this.pos, bytes, 'utf8');
  }

  /**
   * The last prefix `stringWithId` wrote whole in ASCII since the last `reset`, and where its bytes
   * are in the buffer: the next key with the same prefix (the next record of a stream in a
   * millisecond) copies those bytes rather than the string's characters (~2.5 ns each). Only a
   * position is kept, so a key whose prefix differs from the last (every KV version key: a put's
   * new version and its dropped one are written apart) pays no second copy.
   */
  private lastPrefix = '';
  private lastPrefixAt = 0;

  /**
   * Writes the entity key of `prefix` and `id` in `form` (an entity key given in parts:
   * `entityKeyWithId`), the same bytes as `string()` of that key, without building it: the
   * characters of prefix, separator and suffix are copied and the digits written in place. Up to
   * 2^53 the digits come from a number (no string); beyond, from `id.toString(radix)` (a flat
   * string, not a rope to flatten).
   */
  stringWithId(prefix: string, id: bigint | number, form: IdKeyForm): void {
    const { separator, radix, suffix } = form;
    const prefixLength = prefix.length;
    let small = -1;
    let text = '';
    let digits = 1;
    if (typeof id === 'number') {
      if (id >= 0 && Number.isSafeInteger(id)) small = id;
      else digits = 0x100; // not an id this writes: the general path below
    } else if (id >= 0n && id <= MAX_SAFE_ID) small = Number(id);
    else if (id > 0n) {
      text = id.toString(radix);
      digits = text.length;
    } else digits = 0x100;
    if (small >= 0) for (let m = small; m >= radix; m = Math.floor(m / radix)) digits++;
    const width = form.width;
    if (width !== undefined && digits < width) {
      if (small < 0) text = text.padStart(width, '0');
      digits = width; // a small id's digits are written from the last: the loop writes the zeros
    }
    const length = prefixLength + separator.length + digits + suffix.length;
    if (length < 0x100) {
      const header = length < 32 ? 1 : 2;
      this.room(header + length);
      const b = this.buf;
      const start = this.pos;
      let at = start + header;
      let ascii = true;
      if (prefix === this.lastPrefix) {
        this.copyOwn(this.lastPrefixAt, at, prefixLength);
        this.lastPrefixAt = at;
      } else if ((ascii = this.copyAscii(prefix, at))) {
        this.lastPrefix = prefix;
        this.lastPrefixAt = at;
      }
      if (ascii) {
        at += prefixLength;
        for (let j = 0; j < separator.length; j++) b[at++] = separator.charCodeAt(j);
        if (small >= 0 && radix === 16) {
          // Hex digits with 32-bit operations (a float division and remainder per digit cost
          // several times more; a padded sequence has 16 of them), two per step from the last, as
          // one 16-bit word: `lo` the low 32 bits, `hi` the rest.
          let lo = small >>> 0;
          let hi = (small - lo) / 0x100000000;
          const v = this.view;
          let j = at + digits;
          for (; j - 2 >= at; j -= 2) {
            v.setUint16(j - 2, HEX_PAIRS[lo & 0xff]);
            lo = (lo >>> 8) | ((hi & 0xff) << 24);
            hi >>>= 8;
          }
          if (j > at) b[at] = HEX_PAIRS[lo & 15] & 0xff;
        } else if (small >= 0) {
          let n = small;
          for (let j = at + digits - 1; j >= at; j--) {
            const d = n % radix;
            b[j] = d < 10 ? 0x30 + d : 0x57 + d;
            n = Math.floor(n / radix);
          }
        } else for (let j = 0; j < digits; j++) b[at + j] = text.charCodeAt(j);
        at += digits;
        for (let j = 0; j < suffix.length; j++) b[at++] = suffix.charCodeAt(j);
        this.endShortString(start, length, at);
        return;
      }
    }
    this.string(entityKeyWithId(prefix, id, form));
  }

  /**
   * Copies `s` to the buffer at `at`, a byte per character, if every character is ASCII (the room
   * is made by the caller); false at the first one that is not (the bytes copied so far are left
   * for the caller's general path to overwrite).
   */
  private copyAscii(s: string, at: number): boolean {
    const b = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      b[at + i] = c;
    }
    return true;
  }

  /**
   * Ends a string of `length` (< 256) ASCII characters already copied after its header's room at
   * `start` (one byte below 32 characters, two from 32): writes the fixstr or str8 header and moves
   * the position to `end`.
   */
  private endShortString(start: number, length: number, end: number): void {
    const b = this.buf;
    if (length < 32) b[start] = 0xa0 | length;
    else {
      b[start] = 0xd9;
      b[start + 1] = length;
    }
    this.pos = end;
  }

  number(n: number): void {
    this.room(9);
    const b = this.buf;
    // As msgpackr: integers that fit 32 bits as integers (so -0 as 0), every other number as float64.
    if (n >>> 0 === n) {
      if (n < 0x80) b[this.pos++] = n;
      else if (n < 0x100) {
        b[this.pos++] = 0xcc;
        b[this.pos++] = n;
      } else if (n < 0x10000) {
        b[this.pos++] = 0xcd;
        this.view.setUint16(this.pos, n);
        this.pos += 2;
      } else {
        b[this.pos++] = 0xce;
        this.view.setUint32(this.pos, n);
        this.pos += 4;
      }
    } else if (n >> 0 === n) {
      if (n >= -0x20) b[this.pos++] = n & 0xff;
      else if (n >= -0x80) {
        b[this.pos++] = 0xd0;
        b[this.pos++] = n & 0xff;
      } else if (n >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, n);
        this.pos += 2;
      } else {
        b[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, n);
        this.pos += 4;
      }
    } else {
      b[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, n);
      this.pos += 8;
    }
  }

  private bigint(n: bigint): void {
    if (n < MIN_INT64 || n > MAX_INT64) {
      // 2^64 up to 2^127 (a stream id): msgpackr's bigint extension as it writes it, two big-endian
      // 64-bit words in a fixext 16 of type 0x42, without its arrays and copies.
      if (n >= TWO_64 && n < TWO_127) {
        this.room(18);
        this.buf[this.pos++] = 0xd8;
        this.buf[this.pos++] = 0x42;
        this.view.setBigUint64(this.pos, n >> 64n);
        this.view.setBigUint64(this.pos + 8, BigInt.asUintN(64, n));
        this.pos += 16;
        return;
      }
      return this.packed(n);
    }
    this.room(9);
    this.buf[this.pos++] = 0xd3;
    this.view.setBigInt64(this.pos, n);
    this.pos += 8;
  }

  private binary(bytes: Uint8Array): void {
    this.binaryOf(bytes, 0, bytes.length);
  }

  /** The bytes `from[offset, offset + length)` as a byte string (no view of them made). */
  binaryOf(from: Uint8Array, offset: number, length: number): void {
    this.room(5 + length);
    const b = this.buf;
    if (length < 0x100) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = length;
    } else if (length < 0x10000) {
      b[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, length);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
    if (offset === 0 && length === from.length) b.set(from, this.pos);
    else b.set(from.subarray(offset, offset + length), this.pos);
    this.pos += length;
  }

  arrayHeader(length: number): void {
    this.room(5);
    const b = this.buf;
    if (length < 0x10) b[this.pos++] = 0x90 | length;
    else if (length < 0x10000) {
      b[this.pos++] = 0xdc;
      this.view.setUint16(this.pos, length);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
  }

  private array(items: readonly unknown[]): void {
    const length = items.length;
    this.arrayHeader(length);
    for (let i = 0; i < length; i++) this.value(items[i]);
  }

  private object(o: Record<string, unknown>): void {
    const keys = Object.keys(o);
    const length = keys.length;
    this.room(5);
    const b = this.buf;
    if (length < 0x10) b[this.pos++] = 0x80 | length;
    else if (length < 0x10000) {
      b[this.pos++] = 0xde;
      this.view.setUint16(this.pos, length);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
    for (let i = 0; i < length; i++) {
      this.string(keys[i]);
      this.value(o[keys[i]]);
    }
  }

  /** Anything else: msgpackr's encoding, copied in. */
  private packed(v: unknown): void {
    this.raw(this.fallback.pack(v));
  }

  /** Bytes that are already MessagePack (one whole value), copied in as they are. */
  raw(bytes: Uint8Array): void {
    const length = bytes.length;
    this.room(length);
    // A few bytes (a table name packed once) cost less copied here than through `set`'s native call.
    if (length <= 32) {
      const b = this.buf;
      const at = this.pos;
      for (let i = 0; i < length; i++) b[at + i] = bytes[i];
    } else this.buf.set(bytes, this.pos);
    this.pos += length;
  }
}
