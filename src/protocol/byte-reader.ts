/**
 * The bounds-checked little-endian reader every codec decodes with. Apart from the writer
 * (`bytes.ts`) so that a browser app's start-up code, which decodes its replies by fixed-layout
 * walks, does not carry it: the codecs that need it load on demand.
 */
import { fromUtf8 } from './bytes.js';
import { ProtocolError } from './errors.js';

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

  /** Steps over `n` bytes (bounds-checked, no view made). */
  skip(n: number, field = 'bytes'): void {
    this.need(n, field);
    this.offset += n;
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
