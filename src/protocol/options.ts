/**
 * TLV options: `[tag:u8][len:u8][value]*`. The builder appends in call order (the Go SDK's order
 * matters for byte-exact frames); the reader follows the server's rules: first occurrence of a tag
 * wins, unknown tags are ignored, an entry that runs past the section ends parsing, and a value of
 * the wrong width reads as absent.
 */
import { ByteWriter, EMPTY, fromUtf8, utf8 } from './bytes.js';

/**
 * The option tags. An enum, not a const object: esbuild writes each `Opt.X` as its number when it
 * bundles (tsup's builds and an app's bundle of the sources), so no build carries this table of 48
 * names unless something reads the object itself.
 */
export enum Opt {
  TTLSeconds = 0x01,
  CASVersion = 0x02,
  IfNotExists = 0x03,
  IfExists = 0x04,
  Limit = 0x05,
  KeysOnly = 0x06,
  Cursor = 0x07,
  RoutingKey = 0x08,
  TxnID = 0x09,
  Priority = 0x10,
  DelayMS = 0x11,
  VisibilityTimeoutMS = 0x12,
  DedupKey = 0x13,
  MaxRetries = 0x14,
  Count = 0x15,
  SendToDLQ = 0x16,
  BlockMS = 0x17,
  WaitMS = 0x18,
  StreamStart = 0x21,
  StreamEnd = 0x22,
  StreamTail = 0x23,
  Partition = 0x24,
  PartitionKey = 0x25,
  MaxAgeSeconds = 0x26,
  MaxBytes = 0x27,
  DryRun = 0x28,
  RetentionCount = 0x29,
  RetentionAge = 0x2a,
  RetentionBytes = 0x2b,
  Force = 0x2c,
  AckTimeoutMS = 0x30,
  MaxDeliver = 0x31,
  SubscriptionMode = 0x32,
  RedeliveryDelayMS = 0x33,
  ConsumerTimeoutMS = 0x34,
  NoAck = 0x35,
  IdleTimeoutMS = 0x36,
  MaxAckPending = 0x37,
  ExtendAckMS = 0x38,
  MaxStandbys = 0x39,
  NumSlots = 0x3a,
  WorkerID = 0x40,
  ExtendMS = 0x41,
  MaxTasks = 0x42,
  Retry = 0x43,
  TimeoutMS = 0x50,
  RetryPolicy = 0x51,
  CorrelationID = 0x52,
  SubscriptionID = 0x53,
}

export type OptionTag = (typeof Opt)[keyof typeof Opt];

/** A stream record id: milliseconds since the epoch and a sequence within that millisecond. */
export interface StreamId {
  readonly timestampMs: bigint;
  readonly sequence: bigint;
}

export class OptionsBuilder {
  /** Made on the first option: most requests carry none. */
  private w: ByteWriter | undefined;

  private header(tag: number, len: number): ByteWriter {
    return (this.w ??= new ByteWriter(32)).u8(tag).u8(len);
  }

  flag(tag: number): this {
    this.header(tag, 0);
    return this;
  }

  u8(tag: number, v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`option 0x${tag.toString(16)}: u8 out of range: ${v}`);
    this.header(tag, 1).u8(v);
    return this;
  }

  u16(tag: number, v: number): this {
    this.header(tag, 2).u16(v);
    return this;
  }

  u32(tag: number, v: number): this {
    this.header(tag, 4).u32(v);
    return this;
  }

  u64(tag: number, v: bigint | number): this {
    this.header(tag, 8).u64(v);
    return this;
  }

  i64(tag: number, v: bigint | number): this {
    this.header(tag, 8).i64(v);
    return this;
  }

  bytes(tag: number, v: Uint8Array | string): this {
    const b = utf8(v);
    if (b.length > 0xff) throw new RangeError(`option 0x${tag.toString(16)}: value longer than 255 bytes (${b.length})`);
    this.header(tag, b.length).bytes(b);
    return this;
  }

  /** StreamID: timestamp and sequence, both u64 **big-endian**. */
  streamId(tag: number, id: StreamId): this {
    this.header(tag, 16).u64be(id.timestampMs).u64be(id.sequence);
    return this;
  }

  get length(): number {
    return this.w?.length ?? 0;
  }

  build(): Uint8Array {
    return this.w ? this.w.finish() : EMPTY;
  }
}

export interface OptionEntry {
  readonly tag: number;
  readonly value: Uint8Array;
}

export class OptionsReader {
  readonly entries: readonly OptionEntry[];
  private readonly first = new Map<number, Uint8Array>();

  constructor(section: Uint8Array) {
    const entries: OptionEntry[] = [];
    let at = 0;
    while (at + 2 <= section.length) {
      const tag = section[at];
      const len = section[at + 1];
      if (at + 2 + len > section.length) break; // server rule: stop silently at an overrunning entry
      const value = section.subarray(at + 2, at + 2 + len);
      entries.push({ tag, value });
      if (!this.first.has(tag)) this.first.set(tag, value);
      at += 2 + len;
    }
    this.entries = entries;
  }

  has(tag: number): boolean {
    return this.first.has(tag);
  }

  raw(tag: number): Uint8Array | undefined {
    return this.first.get(tag);
  }

  private sized(tag: number, width: number): DataView | undefined {
    const v = this.first.get(tag);
    if (!v || v.length !== width) return undefined;
    return new DataView(v.buffer, v.byteOffset, v.byteLength);
  }

  /** Present with length 0, or a 1-byte non-zero value (the server's rule for IfNotExists/IfExists). */
  flag(tag: number): boolean {
    const v = this.first.get(tag);
    if (!v) return false;
    return v.length === 0 || (v.length === 1 && v[0] !== 0);
  }

  u8(tag: number): number | undefined {
    return this.sized(tag, 1)?.getUint8(0);
  }

  u16(tag: number): number | undefined {
    return this.sized(tag, 2)?.getUint16(0, true);
  }

  u32(tag: number): number | undefined {
    return this.sized(tag, 4)?.getUint32(0, true);
  }

  u64(tag: number): bigint | undefined {
    return this.sized(tag, 8)?.getBigUint64(0, true);
  }

  i64(tag: number): bigint | undefined {
    return this.sized(tag, 8)?.getBigInt64(0, true);
  }

  string(tag: number): string | undefined {
    const v = this.first.get(tag);
    return v ? fromUtf8(v) : undefined;
  }

  streamId(tag: number): StreamId | undefined {
    const d = this.sized(tag, 16);
    return d ? { timestampMs: d.getBigUint64(0, false), sequence: d.getBigUint64(8, false) } : undefined;
  }
}
