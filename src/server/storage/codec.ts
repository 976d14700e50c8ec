/**
 * MessagePack for what the storage layer writes: log batches and snapshot chunks. One configured
 * `Packr`.
 *
 * A batch (and a snapshot chunk) is one MessagePack array, encoded in one pass (`PlainPacker`):
 *
 *   [4, table, key, value, table, key, value, ...]      (format 4; formats 2 and 3 the same layout)
 *
 * `value` is the entity's persisted form as its table's `save` returned it, or `undefined` (nil
 * extension) when the entity was removed. Formats 3 and 4 have the layout of format 2 and differ in
 * what some tables save: format 3 queue messages as tuples (session 4), format 4 KV entries as one
 * `kv.version` entity per kept version instead of `kv` entries plus `kv.old` older versions
 * (session 5). Each new number makes a version that only knows the formats before it refuse the log
 * (not a batch it can read) instead of loading value forms it would misread. All are read, and so
 * is format 1, written before: an array of
 * `[table, key, packed value | null]` tuples whose values were MessagePack-packed on their own first.
 * Every table's `load` still accepts the value forms written in older formats.
 */
import { Packr } from 'msgpackr';
import { PlainPacker } from './plain-packer.js';
import { FRAME_HEADER, writeFrameHeader } from './record-frame.js';
import { HEX_ID_KEY, type IdKeyForm } from './types.js';

// Restored byte strings are views into the file read at start (no copy per value): that buffer
// stays as large as the state it holds, and server code copies bytes it keeps from requests anyway.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, useBigIntExtension: true });

/** The first element of a batch or chunk written now (format 4). */
export const BATCH_FORMAT = 4;
/** Format 3: the layout of format 4, with KV entries and their older versions stored apart (before session 5). */
export const BATCH_FORMAT_3 = 3;
/** Format 2: the same layout, with the value forms tables saved before session 4. */
export const BATCH_FORMAT_2 = 2;

/** Formats with the flat layout `[format, table, key, value, ...]`. */
export const isFlatBatchFormat = (first: unknown): boolean => first === BATCH_FORMAT || first === BATCH_FORMAT_3 || first === BATCH_FORMAT_2;

export const packValue = (value: unknown): Uint8Array => packr.pack(value);
/** Byte strings come back as plain `Uint8Array` views into `bytes` (not Buffers, whose `slice()` would not copy). */
export const unpackValue = (bytes: Uint8Array): unknown =>
  packr.unpack(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);

/** A table's name as a batch writes it (the bytes of `PlainPacker.string`), for `BatchWriter.add`. */
export function packTableName(name: string): Uint8Array {
  const out = new PlainPacker(packr);
  out.string(name);
  return Uint8Array.from(out.bytes());
}

/**
 * Writes the changes of one batch (or one snapshot chunk) in format 4, straight into one reused
 * buffer behind room for the record's frame header: no object per change, each value encoded once,
 * the framed record handed out without a copy.
 */
export class BatchWriter {
  private readonly out = new PlainPacker(packr);
  private count = 0;
  private arrayAt = 0;
  /** The packed table name last written whole in this batch, and where its bytes are: the next entry of that table copies them. */
  private lastTable: Uint8Array | undefined = undefined;
  private lastTableAt = 0;

  constructor() {
    this.begin();
  }

  /** Starts a new batch (dropping anything added since the last `frame()`). */
  begin(): void {
    this.out.reset();
    this.out.reserve(FRAME_HEADER);
    this.arrayAt = this.out.reserve(5);
    this.out.value(BATCH_FORMAT);
    this.count = 0;
    this.lastTable = undefined;
  }

  /** Writes a table's name: packed (`packTableName`), copied from its last entry in this batch when it has one. */
  private table(table: string | Uint8Array): void {
    const out = this.out;
    if (typeof table === 'string') out.string(table);
    else if (table === this.lastTable) out.repeat(this.lastTableAt, table.length);
    else {
      this.lastTable = table;
      this.lastTableAt = out.pos;
      out.raw(table);
    }
  }

  /**
   * `table` its name, or the name as `packTableName` packed it (a batch writes a table's name once
   * per change). `value` undefined: the entity was removed. `id` given: the key is given in parts,
   * in `form` (`entityKeyWithId`).
   */
  add(table: string | Uint8Array, key: string, value: unknown, id?: bigint | number, form: IdKeyForm = HEX_ID_KEY): void {
    this.table(table);
    if (id === undefined) this.out.string(key);
    else this.out.stringWithId(key, id, form);
    this.out.value(value);
    this.count++;
  }

  /** `add` of the value `[first, second]` (the same bytes), given in parts: no pair made. */
  addPair(table: string | Uint8Array, key: string, first: unknown, second: unknown, id?: bigint | number, form: IdKeyForm = HEX_ID_KEY): void {
    this.table(table);
    if (id === undefined) this.out.string(key);
    else this.out.stringWithId(key, id, form);
    this.out.arrayHeader(2);
    this.out.value(first);
    this.out.value(second);
    this.count++;
  }

  /** `add` with the value already packed (bytes of one MessagePack value, as compaction keeps them). */
  addRaw(table: string, key: string, raw: Uint8Array): void {
    this.out.string(table);
    this.out.string(key);
    this.out.raw(raw);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /**
   * The batch as one framed record (frame header, then the packed array), and a new batch begun.
   * A view into the writer's buffer: write or copy it before the next `add`.
   */
  frame(): Buffer {
    this.out.patchArray32(this.arrayAt, 1 + 3 * this.count);
    const framed = this.out.bytes(0);
    writeFrameHeader(framed);
    this.begin();
    return framed;
  }

  /** The packed batch without its frame header (a view, as `frame()`). */
  pack(): Uint8Array {
    return this.frame().subarray(FRAME_HEADER);
  }
}

/**
 * Calls `onEntry` for each change of a packed batch or snapshot chunk, in order, with the value
 * unpacked (`undefined`: removed). Reads every format. Throws when the payload is neither.
 */
export function readBatch(payload: Uint8Array, onEntry: (table: string, key: string, value: unknown) => void): number {
  return readUnpackedBatch(unpackValue(payload), onEntry);
}

/** `readBatch` for a record already unpacked. */
export function readUnpackedBatch(items: unknown, onEntry: (table: string, key: string, value: unknown) => void): number {
  if (!Array.isArray(items)) throw new Error('log record is not a batch');
  if (isFlatBatchFormat(items[0])) {
    if ((items.length - 1) % 3 !== 0) throw new Error('log batch has a partial entry');
    for (let i = 1; i < items.length; i += 3) {
      const table = items[i];
      const key = items[i + 1];
      if (typeof table !== 'string' || typeof key !== 'string') throw new Error('log batch entry without table or key');
      onEntry(table, key, items[i + 2]);
    }
    return (items.length - 1) / 3;
  }
  // Format 1: [table, key, packed value | null] tuples.
  for (const entry of items) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') throw new Error('log record is not a batch');
    const value = entry[2];
    onEntry(entry[0], entry[1], value === null || value === undefined ? undefined : unpackValue(value as Uint8Array));
  }
  return items.length;
}

/** Snapshots end with this record so that a partial one is recognised. */
export interface SnapshotFooter {
  readonly end: number;
}

/** The footer of a snapshot, or undefined when `value` (an unpacked record) is not one. */
export function snapshotFooter(value: unknown): SnapshotFooter | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as SnapshotFooter).end === 'number') return value as SnapshotFooter;
  return undefined;
}
