/**
 * The fold compaction uses: "the latest value of every entity" like `Fold`, but each value kept as
 * its MessagePack bytes (a view into the file read), never unpacked. A snapshot is then written by
 * copying those bytes (`BatchWriter.addRaw`) instead of unpacking every value of the log and
 * packing it again, which made compaction cost more CPU than the writes it compacts (about 14 ns
 * per log byte, against a few for scanning and copying).
 *
 * Reads batches and snapshot chunks of formats 2 to 4 by walking their top-level array (only the
 * table and key strings are decoded; a value is skipped over to find where it ends). Format 1
 * records hold every value already packed on its own: those bytes are the raw values.
 */
import { isFlatBatchFormat, snapshotFooter, unpackValue } from './codec.js';

/** msgpackr's `undefined` (fixext 1, type 0, data 0): a removed entity. */
const isRemoval = (b: Uint8Array, at: number, end: number) => end - at === 3 && b[at] === 0xd4 && b[at + 1] === 0 && b[at + 2] === 0;

/** A cursor over one MessagePack record. Throws `RangeError` past its end. */
class Reader {
  at = 0;
  private readonly view: DataView;
  /** The same bytes as a Buffer, for its UTF-8 decoder. */
  private readonly buffer: Buffer;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new RangeError('MessagePack value cut short');
  }

  /** Length of the array that starts here, or -1 when something else does. */
  arrayLength(): number {
    this.need(1);
    const b = this.bytes[this.at]!;
    if (b >= 0x90 && b <= 0x9f) {
      this.at++;
      return b & 0x0f;
    }
    if (b === 0xdc) {
      this.need(3);
      this.at += 3;
      return this.view.getUint16(this.at - 2);
    }
    if (b === 0xdd) {
      this.need(5);
      this.at += 5;
      return this.view.getUint32(this.at - 4);
    }
    return -1;
  }

  /** A string (throws when the value here is not one). */
  string(): string {
    this.need(1);
    const b = this.bytes[this.at++]!;
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) length = b & 0x1f;
    else if (b === 0xd9) {
      this.need(1);
      length = this.bytes[this.at++]!;
    } else if (b === 0xda) {
      this.need(2);
      length = this.view.getUint16(this.at);
      this.at += 2;
    } else if (b === 0xdb) {
      this.need(4);
      length = this.view.getUint32(this.at);
      this.at += 4;
    } else throw new TypeError('log batch entry without table or key');
    this.need(length);
    const start = this.at;
    this.at += length;
    return this.buffer.toString('utf8', start, this.at);
  }

  /** Moves past one value, however nested. */
  skip(): void {
    let pending = 1;
    const b = this.bytes;
    const v = this.view;
    while (pending > 0) {
      pending--;
      this.need(1);
      const t = b[this.at++]!;
      if (t < 0x80 || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue; // fixint, nil, bool
      if (t <= 0x8f) pending += 2 * (t & 0x0f); // fixmap
      else if (t <= 0x9f) pending += t & 0x0f; // fixarray
      else if (t <= 0xbf) this.at += t & 0x1f; // fixstr
      else {
        switch (t) {
          case 0xcc: case 0xd0: this.at += 1; break;
          case 0xcd: case 0xd1: this.at += 2; break;
          case 0xca: case 0xce: case 0xd2: this.at += 4; break;
          case 0xcb: case 0xcf: case 0xd3: this.at += 8; break;
          case 0xc4: case 0xd9: this.need(1); this.at += 1 + b[this.at]!; break;
          case 0xc5: case 0xda: this.need(2); this.at += 2 + v.getUint16(this.at); break;
          case 0xc6: case 0xdb: this.need(4); this.at += 4 + v.getUint32(this.at); break;
          case 0xd4: this.at += 2; break; // fixext 1: type + 1 byte
          case 0xd5: this.at += 3; break;
          case 0xd6: this.at += 5; break;
          case 0xd7: this.at += 9; break;
          case 0xd8: this.at += 17; break;
          case 0xc7: this.need(1); this.at += 2 + b[this.at]!; break; // ext 8: length, type, data
          case 0xc8: this.need(2); this.at += 3 + v.getUint16(this.at); break;
          case 0xc9: this.need(4); this.at += 5 + v.getUint32(this.at); break;
          case 0xdc: this.need(2); pending += v.getUint16(this.at); this.at += 2; break;
          case 0xdd: this.need(4); pending += v.getUint32(this.at); this.at += 4; break;
          case 0xde: this.need(2); pending += 2 * v.getUint16(this.at); this.at += 2; break;
          case 0xdf: this.need(4); pending += 2 * v.getUint32(this.at); this.at += 4; break;
          default: throw new TypeError(`not MessagePack (byte 0x${t.toString(16)})`);
        }
      }
      if (this.at > b.length) throw new RangeError('MessagePack value cut short');
    }
  }
}

export class RawFold {
  /** table → entity key → the value's MessagePack bytes */
  private readonly tables = new Map<string, Map<string, Uint8Array>>();
  private count = 0;
  /** The table of the last entry and its entities (a batch holds runs of one table). */
  private lastTable: string | undefined;
  private lastEntities: Map<string, Uint8Array> | undefined;

  get size(): number {
    return this.count;
  }

  /** `raw` undefined: the entity was removed. */
  private apply(table: string, key: string, raw: Uint8Array | undefined): void {
    let entities = table === this.lastTable ? this.lastEntities : this.tables.get(table);
    if (raw === undefined) {
      if (entities?.delete(key)) this.count--;
      return;
    }
    if (!entities) this.tables.set(table, (entities = new Map()));
    this.lastTable = table;
    this.lastEntities = entities;
    const before = entities.size;
    entities.set(key, raw);
    this.count += entities.size - before;
  }

  /** Applies one log batch record, or one snapshot chunk (throws on a payload that is neither). */
  applyBatch(payload: Uint8Array): void {
    const r = new Reader(payload);
    const length = r.arrayLength();
    if (length < 0) throw new Error('log record is not a batch');
    const format = length > 0 ? payload[r.at] : undefined;
    if (!isFlatBatchFormat(format)) return this.applyFormat1(payload);
    if ((length - 1) % 3 !== 0) throw new Error('log batch has a partial entry');
    r.at++;
    for (let i = 1; i < length; i += 3) {
      const table = r.string();
      const key = r.string();
      const start = r.at;
      r.skip();
      this.apply(table, key, isRemoval(payload, start, r.at) ? undefined : payload.subarray(start, r.at));
    }
    if (r.at !== payload.length) throw new Error('log batch has bytes after its entries');
  }

  /** Format 1: `[table, key, separately packed value | null]` tuples (read as earlier versions wrote them). */
  private applyFormat1(payload: Uint8Array): void {
    const items = unpackValue(payload);
    if (!Array.isArray(items)) throw new Error('log record is not a batch');
    for (const entry of items) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') throw new Error('log record is not a batch');
      const value = entry[2] as Uint8Array | null | undefined;
      this.apply(entry[0], entry[1], value === null || value === undefined ? undefined : value);
    }
  }

  /** Applies one snapshot record; returns true when it is the footer (the last one). */
  applySnapshotRecord(payload: Uint8Array): boolean {
    const first = payload[0] ?? 0;
    // The footer is a map ({ end }), chunks are arrays.
    if ((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf) {
      if (!snapshotFooter(unpackValue(payload))) throw new Error('unknown snapshot record');
      return true;
    }
    this.applyBatch(payload);
    return false;
  }

  /** Every entity as [table, key, value bytes], a table at a time. */
  *entities(): IterableIterator<[table: string, key: string, raw: Uint8Array]> {
    for (const [table, entities] of this.tables) for (const [key, raw] of entities) yield [table, key, raw];
  }
}
