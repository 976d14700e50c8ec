/**
 * Payload codecs for the stream operations (0x130-0x140) and the consumer-group operations
 * (0x150-0x15C), plus `StreamId` helpers.
 *
 * Layouts: requests exactly as the Go SDK writes them (options in Go order), except append, which
 * always sends the batch frame (`docs/protocol-decisions.md` #2); replies as the
 * embedded server sends them. No stream reply differs between the `go` and `flo` profiles, so the
 * server encoders take no profile; the client decoders accept every layout a real server sends
 * (record key present or absent, 52- or 76-byte info, 0-byte or zero-count empty replies, #16).
 *
 * StreamID byte orders differ from place to place: big-endian `ts, seq` in options,
 * little-endian `seq, ts` in append replies and records, little-endian `ts, seq` everywhere else.
 */
import { ByteWriter, EMPTY, fromUtf8, U64_MAX, utf8 } from './bytes.js';
import { nameBytes, nameText } from './name-bytes.js';
import { smallBytes } from './request-bytes.js';
import { ByteReader } from './byte-reader.js';
import { STREAM_APPEND_REPLY_SIZE } from './append-reply-writer.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import { Opt, OptionsBuilder, OptionsReader, type StreamId } from './options.js';
import { STREAM_BATCH_MAX_RECORDS, STREAM_CLAIM_DEFAULT_COUNT } from './stream-common.js';

// ---------------------------------------------------------------------------------------------
// StreamId helpers and constants: in stream-common.ts, but for those only the codecs and the
// on-demand stream code use (here, so that a browser app's start-up code does not carry them)

export * from './stream-common.js';

/** `0-0`, the beginning of every stream. */
export const MIN_STREAM_ID: StreamId = Object.freeze({ timestampMs: 0n, sequence: 0n });
/** `(2^64-1)-(2^64-1)`; a claim cursor equal to it means the pending list was fully scanned. */
export const MAX_STREAM_ID: StreamId = Object.freeze({ timestampMs: U64_MAX, sequence: U64_MAX });

export function streamIdEquals(a: StreamId, b: StreamId): boolean {
  return a.timestampMs === b.timestampMs && a.sequence === b.sequence;
}

/** Record headers: ordered UTF-8 pairs; duplicate keys are possible on the wire. */
export type StreamHeaders = ReadonlyArray<readonly [string, string]>;
/** Anything headers can be given as; maps and records keep insertion order. */
export type StreamHeadersInit = StreamHeaders | ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** The headers of a record that has none, shared (frozen: decoded records never change them). */
const NO_HEADERS: StreamHeaders = Object.freeze([]);

export function normalizeStreamHeaders(headers: StreamHeadersInit | undefined): Array<readonly [string, string]> {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return (headers as StreamHeaders).map(([k, v]) => [k, v] as const);
  if (headers instanceof Map) return [...(headers as ReadonlyMap<string, string>)].map(([k, v]) => [k, v] as const);
  return Object.entries(headers as Record<string, string>).map(([k, v]) => [k, v] as const);
}

type Name = Uint8Array | string;

function text(bytes: Uint8Array): string {
  return fromUtf8(bytes);
}

/** Record ids and append replies carry the timestamp as an i64; ids are u64 pairs. */
function writeTsI64(w: ByteWriter, ts: bigint): void {
  w.i64(BigInt.asIntN(64, ts));
}
function readTsI64(r: ByteReader, field: string): bigint {
  // The i64's bits read as a u64 (what `BigInt.asUintN(64, i64)` gives, without a second bigint).
  return r.u64(field);
}

function writeIdTsSeq(w: ByteWriter, id: StreamId): void {
  w.u64(id.timestampMs).u64(id.sequence);
}
function readIdTsSeq(r: ByteReader, field: string): StreamId {
  const timestampMs = r.u64(`${field}.ts`);
  const sequence = r.u64(`${field}.seq`);
  return { timestampMs, sequence };
}

function keyOnly(stream: Name): OpPayload {
  return { key: utf8(stream) };
}

function optionsOrUndefined(o: OptionsBuilder): Uint8Array | undefined {
  return o.length ? o.build() : undefined;
}

/** An empty reply (OK with no data): nothing to decode; any data a server adds is ignored. */
export function decodeStreamEmptyReply(_payload: Uint8Array): void {
  /* nothing: SRV sends no data and the Go SDK ignores whatever comes */
}

// ---------------------------------------------------------------------------------------------
// batch frame (append value)

export interface StreamBatchRecord {
  readonly payload: Uint8Array;
  readonly headers: StreamHeaders;
}

export interface StreamBatchRecordInit {
  readonly payload: Uint8Array;
  readonly headers?: StreamHeadersInit;
}

/** `[n:u32] n × ([len:u32][payload][hc:u16] hc × ([klen:u16][k][vlen:u16][v]))`. */
export function encodeStreamBatch(records: readonly StreamBatchRecordInit[]): Uint8Array {
  // Sized up front (headers encoded once), so the writer never grows and finish() copies nothing.
  let size = 4;
  const encoded = records.map((rec) => {
    const headers = normalizeStreamHeaders(rec.headers).map(([k, v]) => [utf8(k), utf8(v)] as const);
    size += 4 + rec.payload.length + 2;
    for (const [k, v] of headers) size += 4 + k.length + v.length;
    return { payload: rec.payload, headers };
  });
  const w = new ByteWriter(size);
  w.u32(records.length);
  for (const rec of encoded) {
    w.bytes32(rec.payload);
    w.u16(rec.headers.length);
    for (const [k, v] of rec.headers) w.bytes16(k).bytes16(v);
  }
  return w.finish();
}

/**
 * The records of a value that is a batch frame by the server's exact rule (at least 10 bytes,
 * `1 ≤ n ≤ 10000`, every byte used), else `undefined` (the value is a raw payload).
 */
export function decodeStreamBatch(value: Uint8Array): StreamBatchRecord[] | undefined {
  // A plain walk over the bytes that answers undefined at the first field that does not fit (no
  // reader, no DataView, no closure, no exception): this runs on every append the server receives.
  const end = value.length;
  if (end < 10) return undefined;
  const n = u32At(value, 0);
  if (n < 1 || n > STREAM_BATCH_MAX_RECORDS) return undefined;
  const out: StreamBatchRecord[] = [];
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 4 > end) return undefined;
    const len = u32At(value, at);
    if (at + 4 + len + 2 > end) return undefined;
    const payload = value.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    const hc = value[at]! | (value[at + 1]! << 8);
    at += 2;
    let headers: StreamHeaders = NO_HEADERS;
    if (hc > 0) {
      const list: Array<readonly [string, string]> = [];
      for (let j = 0; j < hc; j++) {
        if (at + 2 > end) return undefined;
        const klen = value[at]! | (value[at + 1]! << 8);
        const kAt = at + 2;
        if (kAt + klen + 2 > end) return undefined;
        at = kAt + klen;
        const vlen = value[at]! | (value[at + 1]! << 8);
        const vAt = at + 2;
        if (vAt + vlen > end) return undefined;
        at = vAt + vlen;
        list.push([fromUtf8(value.subarray(kAt, kAt + klen)), fromUtf8(value.subarray(vAt, vAt + vlen))]);
      }
      headers = list;
    }
    out.push({ payload, headers });
  }
  return at === end ? out : undefined;
}

/** The little-endian u64 at `at` (the caller has checked the bytes are there); below 2^32 without a bigint shift. */
function u64Of(b: Uint8Array, at: number): bigint {
  const lo = u32At(b, at);
  const hi = u32At(b, at + 4);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** The little-endian u32 at `at` (the caller has checked the four bytes are there). */
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

// ---------------------------------------------------------------------------------------------
// STREAM_APPEND (0x130)

export interface StreamAppendRequest {
  readonly stream: Name;
  readonly payload: Uint8Array;
  readonly headers?: StreamHeadersInit;
  /** Explicit partition (u32, option 0x24); wins over `partitionKey`. */
  readonly partition?: number;
  /** Partition key (option 0x25, ≤ 255 bytes), hashed by the server. */
  readonly partitionKey?: Name;
}

export interface StreamAppendBatchRequest {
  readonly stream: Name;
  readonly records: readonly StreamBatchRecordInit[];
  readonly partition?: number;
  readonly partitionKey?: Name;
}

/** What the server reads from an append. */
export interface StreamAppendCommand {
  readonly stream: string;
  /** The records to store: the batch's, or one raw record without headers. Empty for a zero-count batch. */
  readonly records: readonly StreamBatchRecord[];
  /** Whether the value was a batch frame (false: a raw payload, as the Go SDK sends). */
  readonly batch: boolean;
  readonly partition?: number;
  readonly partitionKey?: Uint8Array;
}

function appendOptions(partition: number | undefined, partitionKey: Name | undefined): Uint8Array | undefined {
  const o = new OptionsBuilder();
  if (partition !== undefined) o.u32(Opt.Partition, partition);
  if (partitionKey !== undefined) o.bytes(Opt.PartitionKey, partitionKey);
  return optionsOrUndefined(o);
}

/** Key = stream; value = a batch frame of one record, headers in insertion order (`docs/protocol-decisions.md` #2). */
export function encodeStreamAppend(req: StreamAppendRequest): OpPayload {
  if (req.headers === undefined && req.partition === undefined && req.partitionKey === undefined) {
    // The usual append (no headers, no options): its batch frame written straight into one buffer,
    // the bytes encodeStreamBatch gives (`[1:u32][len:u32][payload][0:u16]`), and no options section.
    const payload = req.payload;
    const len = payload.length;
    const value = smallBytes(10 + len); // zeroed: bytes 1-3 and the header count stay 0
    value[0] = 1;
    value[4] = len & 0xff;
    value[5] = (len >>> 8) & 0xff;
    value[6] = (len >>> 16) & 0xff;
    value[7] = len >>> 24;
    value.set(payload, 8);
    return { key: nameBytes(req.stream), value };
  }
  return encodeStreamAppendBatch({
    stream: req.stream,
    records: [{ payload: req.payload, headers: req.headers }],
    partition: req.partition,
    partitionKey: req.partitionKey,
  });
}

/** Key = stream; value = a batch frame of n records (they get n consecutive ids). */
export function encodeStreamAppendBatch(req: StreamAppendBatchRequest): OpPayload {
  return {
    key: nameBytes(req.stream),
    value: encodeStreamBatch(req.records),
    options: appendOptions(req.partition, req.partitionKey),
  };
}

/**
 * Server side: a value that parses exactly as a batch frame is its records; the 4-byte value
 * `00000000` is an empty batch (the server refuses it); anything else is one raw record, no headers.
 */
export function decodeStreamAppend(body: RequestBody): StreamAppendCommand {
  const v = body.value;
  let records: StreamBatchRecord[] | undefined;
  let batch = true;
  if (v.length === 4 && v[0] === 0 && v[1] === 0 && v[2] === 0 && v[3] === 0) records = [];
  else records = decodeStreamBatch(v);
  if (!records) {
    records = [{ payload: v, headers: [] }];
    batch = false;
  }
  // Assigned rather than spread, and no options reader for the usual empty options section.
  const cmd: { -readonly [K in keyof StreamAppendCommand]: StreamAppendCommand[K] } = { stream: nameText(body.key), records, batch };
  if (body.options.length > 0) {
    const o = new OptionsReader(body.options);
    const partition = o.u32(Opt.Partition);
    const pk = o.raw(Opt.PartitionKey);
    if (partition !== undefined) cmd.partition = partition;
    if (pk !== undefined && pk.length > 0) cmd.partitionKey = pk;
  }
  return cmd;
}

/** `[seq:u64][ts:i64]`: the id of the append's first record. */
export function encodeStreamAppendReply(id: StreamId): Uint8Array {
  const w = new ByteWriter(16);
  w.u64(id.sequence);
  writeTsI64(w, id.timestampMs);
  return w.finish();
}

export function decodeStreamAppendReply(payload: Uint8Array): StreamId {
  // Read in place (no reader object per reply); a short reply takes the reader for its error.
  if (payload.length >= STREAM_APPEND_REPLY_SIZE) return { timestampMs: u64Of(payload, 8), sequence: u64Of(payload, 0) };
  const r = new ByteReader(payload, 'stream_append reply');
  const sequence = r.u64('sequence');
  const timestampMs = readTsI64(r, 'timestamp_ms');
  return { timestampMs, sequence };
}

// ---------------------------------------------------------------------------------------------
// records (read, group read and claim replies)

export interface StreamRecord {
  readonly id: StreamId;
  /** 0 hot (the embedded server always sends 0); any value is decoded. */
  readonly tier: number;
  readonly partition: number;
  /** The stream name (record key); undefined when the server sent `key_present = 0`. */
  readonly stream?: string;
  readonly payload: Uint8Array;
  readonly headers: StreamHeaders;
}

function writeRecords(w: ByteWriter, records: readonly StreamRecord[]): void {
  w.u32(records.length);
  for (const rec of records) {
    w.u64(rec.id.sequence);
    writeTsI64(w, rec.id.timestampMs);
    w.u8(rec.tier);
    w.u32(rec.partition);
    if (rec.stream === undefined) w.u8(0);
    else w.u8(1).bytes32(rec.stream);
    w.bytes32(rec.payload);
    w.u32(rec.headers.length);
    for (const [k, v] of rec.headers) w.bytes32(k).bytes32(v);
  }
}

function readRecords(r: ByteReader): StreamRecord[] {
  const n = r.u32('record count');
  // Each record needs at least 30 bytes: refuse an impossible count before looping.
  if (n * 30 > r.remaining) throw new ProtocolError(`truncated records: ${n} announced, ${r.remaining} byte(s) left`);
  const out: StreamRecord[] = [];
  // The records of one reply mostly carry the same stream name: decoded once, then compared.
  let lastKey: string | undefined;
  let lastKeyAt = 0;
  let lastKeyLength = -1;
  const buf = r.buffer;
  const len = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // A payload view made with the constructor costs about half of `subarray` (which looks up the
  // species constructor per call); both give a plain Uint8Array over a plain one. Another kind
  // (a Node Buffer) keeps `subarray`, so its payloads stay of its kind.
  const plain = Object.getPrototypeOf(buf) === Uint8Array.prototype;
  const bytes = buf.buffer;
  const base = buf.byteOffset;
  for (let i = 0; i < n; i++) {
    // Fast path, a record without headers whose fields all lie in bounds (the lengths checked
    // once, then read without a check per field). Anything else takes the checked reads below
    // from the same offset: the same values, or the exact error of the field that does not fit.
    fast: {
      const at = r.offset;
      let p = at + 22;
      if (p > len) break fast;
      let keyAt = -1;
      let keyLength = 0;
      if (buf[at + 21] !== 0) {
        if (p + 4 > len) break fast;
        keyLength = view.getUint32(p, true);
        keyAt = p + 4;
        p = keyAt + keyLength;
      }
      if (p + 4 > len) break fast;
      const payloadAt = p + 4;
      p = payloadAt + view.getUint32(p, true);
      if (p + 4 > len || view.getUint32(p, true) !== 0) break fast;
      let stream: string | undefined;
      if (keyAt >= 0) {
        if (keyLength === lastKeyLength && sameBytes(buf, keyAt, lastKeyAt, keyLength)) stream = lastKey;
        else {
          stream = fromUtf8(buf.subarray(keyAt, keyAt + keyLength));
          lastKey = stream;
          lastKeyAt = keyAt;
          lastKeyLength = keyLength;
        }
      }
      const id = { timestampMs: view.getBigUint64(at + 8, true), sequence: view.getBigUint64(at, true) };
      const tier = buf[at + 16];
      const partition = view.getUint32(at + 17, true);
      const payload = plain ? new Uint8Array(bytes, base + payloadAt, p - payloadAt) : buf.subarray(payloadAt, p);
      r.offset = p + 4;
      out.push(stream !== undefined ? { id, tier, partition, stream, payload, headers: NO_HEADERS } : { id, tier, partition, payload, headers: NO_HEADERS });
      continue;
    }
    const sequence = r.u64('sequence');
    const timestampMs = readTsI64(r, 'timestamp_ms');
    const tier = r.u8('tier');
    const partition = r.u32('partition');
    const keyPresent = r.u8('key_present');
    let stream: string | undefined;
    if (keyPresent !== 0) {
      const length = r.u32('key');
      const at = r.offset;
      if (length === lastKeyLength && sameBytes(r.buffer, at, lastKeyAt, length)) {
        r.skip(length, 'key');
        stream = lastKey;
      } else {
        stream = fromUtf8(r.bytes(length, 'key'));
        lastKey = stream;
        lastKeyAt = at;
        lastKeyLength = length;
      }
    }
    const payload = r.bytes32('payload');
    const hc = r.u32('header_count');
    if (hc * 8 > r.remaining) throw new ProtocolError(`truncated headers: ${hc} announced, ${r.remaining} byte(s) left`);
    let headers: StreamHeaders = NO_HEADERS;
    if (hc > 0) {
      const list: Array<readonly [string, string]> = [];
      for (let j = 0; j < hc; j++) list.push([r.string32('header key'), r.string32('header value')]);
      headers = list;
    }
    const id = { timestampMs, sequence };
    out.push(stream !== undefined ? { id, tier, partition, stream, payload, headers } : { id, tier, partition, payload, headers });
  }
  return out;
}

/** Whether `bytes[a, a + n)` and `bytes[b, b + n)` hold the same bytes (`a + n` may run past the end: then false). */
function sameBytes(bytes: Uint8Array, a: number, b: number, n: number): boolean {
  if (a + n > bytes.length) return false;
  for (let i = 0; i < n; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** `[count:u32]` then each record. */
export function encodeStreamRecords(records: readonly StreamRecord[]): Uint8Array {
  const w = new ByteWriter(64);
  writeRecords(w, records);
  return w.finish();
}

/** A 0-byte payload (blocking timeout) and a zero count both decode as no records (#16). */
export function decodeStreamRecords(payload: Uint8Array): StreamRecord[] {
  if (payload.length === 0) return [];
  const r = new ByteReader(payload, 'stream records');
  const out = readRecords(r);
  r.end();
  return out;
}

// ---------------------------------------------------------------------------------------------
// STREAM_READ (0x131)

export interface StreamReadRequest {
  readonly stream: Name;
  /** Only records appended after this request (exclusive); wins over `start`. */
  readonly tail?: boolean;
  /** Inclusive start on the embedded server (#13). */
  readonly start?: StreamId;
  /** Inclusive end. */
  readonly end?: StreamId;
  readonly partition?: number;
  readonly partitionKey?: Name;
  /** Option 0x15 (the server also reads `limit` 0x05 when count is absent). */
  readonly count?: number;
  /** 0 or absent: do not wait (#14); at most 300 000. */
  readonly blockMs?: number;
}

export interface StreamReadQuery {
  readonly stream: string;
  readonly tail: boolean;
  readonly start?: StreamId;
  readonly end?: StreamId;
  readonly partition?: number;
  readonly partitionKey?: Uint8Array;
  /** From `count` (0x15), else `limit` (0x05); undefined when neither is present. */
  readonly count?: number;
  readonly blockMs?: number;
}

/** Options in Go order: tail 0x23, start 0x21, end 0x22, partition 0x24, (partition key 0x25), count 0x15, block 0x17. */
export function encodeStreamRead(req: StreamReadRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.tail) o.flag(Opt.StreamTail);
  if (req.start) o.streamId(Opt.StreamStart, req.start);
  if (req.end) o.streamId(Opt.StreamEnd, req.end);
  if (req.partition !== undefined) o.u32(Opt.Partition, req.partition);
  if (req.partitionKey !== undefined) o.bytes(Opt.PartitionKey, req.partitionKey);
  if (req.count !== undefined) o.u32(Opt.Count, req.count);
  if (req.blockMs !== undefined) o.u32(Opt.BlockMS, req.blockMs);
  return { key: nameBytes(req.stream), options: optionsOrUndefined(o) };
}

export function decodeStreamRead(body: RequestBody): StreamReadQuery {
  const o = new OptionsReader(body.options);
  const start = o.streamId(Opt.StreamStart);
  const end = o.streamId(Opt.StreamEnd);
  const partition = o.u32(Opt.Partition);
  const partitionKey = o.raw(Opt.PartitionKey);
  const count = o.u32(Opt.Count) ?? o.u32(Opt.Limit);
  const blockMs = o.u32(Opt.BlockMS);
  return {
    stream: text(body.key),
    tail: o.has(Opt.StreamTail),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(partition !== undefined ? { partition } : {}),
    ...(partitionKey !== undefined && partitionKey.length > 0 ? { partitionKey } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(blockMs !== undefined ? { blockMs } : {}),
  };
}

export const encodeStreamReadReply = encodeStreamRecords;
export const decodeStreamReadReply = decodeStreamRecords;

// ---------------------------------------------------------------------------------------------
// STREAM_INFO (0x133)

export interface StreamInfoRequest {
  readonly stream: Name;
}

/** What `stream.info` reports about a stream. */
export interface StreamInfo {
  readonly firstId: StreamId;
  readonly lastId: StreamId;
  readonly count: bigint;
  readonly bytes: bigint;
  readonly partitionCount: number;
  /** Present when the server sent the 76-byte layout. */
  readonly retentionAgeSeconds?: bigint;
  readonly retentionCount?: bigint;
  readonly retentionBytes?: bigint;
}

export function encodeStreamInfo(req: StreamInfoRequest): OpPayload {
  return keyOnly(req.stream);
}

export function decodeStreamInfo(body: RequestBody): { readonly stream: string } {
  return { stream: text(body.key) };
}

/**
 * `[first_ts][first_seq][last_ts][last_seq][count:u64][bytes:u64][partition_count:u32]` (52 bytes),
 * then `[retention_age_s][retention_count][retention_bytes]` (u64 each, 76 in all) when the
 * retention fields are given. The embedded server always gives them.
 */
export function encodeStreamInfoReply(info: StreamInfo): Uint8Array {
  const w = new ByteWriter(76);
  writeIdTsSeq(w, info.firstId);
  writeIdTsSeq(w, info.lastId);
  w.u64(info.count).u64(info.bytes).u32(info.partitionCount);
  if (info.retentionAgeSeconds !== undefined || info.retentionCount !== undefined || info.retentionBytes !== undefined) {
    w.u64(info.retentionAgeSeconds ?? 0n).u64(info.retentionCount ?? 0n).u64(info.retentionBytes ?? 0n);
  }
  return w.finish();
}

/** Accepts the Go layout (52 bytes) and the server's (76); needs at least 52, ignores extra bytes. */
export function decodeStreamInfoReply(payload: Uint8Array): StreamInfo {
  const r = new ByteReader(payload, 'stream_info reply');
  const firstId = readIdTsSeq(r, 'first_id');
  const lastId = readIdTsSeq(r, 'last_id');
  const count = r.u64('count');
  const bytes = r.u64('bytes');
  const partitionCount = r.u32('partition_count');
  const base = { firstId, lastId, count, bytes, partitionCount };
  if (r.remaining < 24) return base;
  return {
    ...base,
    retentionAgeSeconds: r.u64('retention_age_s'),
    retentionCount: r.u64('retention_count'),
    retentionBytes: r.u64('retention_bytes'),
  };
}

// ---------------------------------------------------------------------------------------------
// STREAM_TRIM (0x132)

export interface StreamTrimRequest {
  readonly stream: Name;
  /** Keep the newest N (Go option 0x29; the server also reads 0x05 as u64 or u32). */
  readonly maxLen?: bigint;
  /** Remove records older than now − age (Go option 0x2A; the server also reads 0x26). */
  readonly maxAgeSeconds?: bigint;
  /** Remove the oldest until the payload total ≤ N (Go option 0x2B; the server also reads 0x27). */
  readonly maxBytes?: bigint;
  /** Remove `id < before` (option 0x21). */
  readonly before?: StreamId;
  /** Remove `id ≤ upTo` (option 0x22). */
  readonly upTo?: StreamId;
  /** Remove the first N records (value: ASCII decimal, the indexed server's form). */
  readonly firstN?: bigint;
  readonly dryRun?: boolean;
}

export interface StreamTrimQuery {
  readonly stream: string;
  readonly maxLen?: bigint;
  readonly maxAgeSeconds?: bigint;
  readonly maxBytes?: bigint;
  readonly before?: StreamId;
  readonly upTo?: StreamId;
  readonly firstN?: bigint;
  readonly dryRun: boolean;
}

/** What `stream.trim` removed. */
export interface StreamTrimReply {
  readonly removed: bigint;
  /** Sequence part of the first remaining record's id (0 when none remain). */
  readonly firstSeq: bigint;
}

/** Options in Go order 0x29, 0x2A, 0x2B, then 0x21, 0x22, then dry run 0x28; `firstN` in the value. */
export function encodeStreamTrim(req: StreamTrimRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.maxLen !== undefined) o.u64(Opt.RetentionCount, req.maxLen);
  if (req.maxAgeSeconds !== undefined) o.u64(Opt.RetentionAge, req.maxAgeSeconds);
  if (req.maxBytes !== undefined) o.u64(Opt.RetentionBytes, req.maxBytes);
  if (req.before) o.streamId(Opt.StreamStart, req.before);
  if (req.upTo) o.streamId(Opt.StreamEnd, req.upTo);
  if (req.dryRun) o.flag(Opt.DryRun);
  return {
    key: nameBytes(req.stream),
    ...(req.firstN !== undefined ? { value: utf8(req.firstN.toString(10)) } : {}),
    options: optionsOrUndefined(o),
  };
}

export function decodeStreamTrim(body: RequestBody): StreamTrimQuery {
  const o = new OptionsReader(body.options);
  const maxLen = o.u64(Opt.RetentionCount) ?? o.u64(Opt.Limit) ?? toBig(o.u32(Opt.Limit));
  const maxAgeSeconds = o.u64(Opt.RetentionAge) ?? o.u64(Opt.MaxAgeSeconds);
  const maxBytes = o.u64(Opt.RetentionBytes) ?? o.u64(Opt.MaxBytes);
  const before = o.streamId(Opt.StreamStart);
  const upTo = o.streamId(Opt.StreamEnd);
  const decimal = text(body.value);
  const firstN = /^\d{1,20}$/.test(decimal) ? BigInt(decimal) : undefined;
  return {
    stream: text(body.key),
    ...(maxLen !== undefined ? { maxLen } : {}),
    ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(before ? { before } : {}),
    ...(upTo ? { upTo } : {}),
    ...(firstN !== undefined ? { firstN } : {}),
    dryRun: o.has(Opt.DryRun),
  };
}

function toBig(v: number | undefined): bigint | undefined {
  return v === undefined ? undefined : BigInt(v);
}

export function encodeStreamTrimReply(reply: StreamTrimReply): Uint8Array {
  return new ByteWriter(16).u64(reply.removed).u64(reply.firstSeq).finish();
}

/** `[removed:u64][first_seq:u64]`; a 0-byte reply reads as zeros (the Go SDK ignores the data). */
export function decodeStreamTrimReply(payload: Uint8Array): StreamTrimReply {
  if (payload.length === 0) return { removed: 0n, firstSeq: 0n };
  const r = new ByteReader(payload, 'stream_trim reply');
  const removed = r.u64('removed');
  const firstSeq = r.u64('first_seq');
  r.end();
  return { removed, firstSeq };
}

// ---------------------------------------------------------------------------------------------
// STREAM_CREATE (0x13D), STREAM_ALTER (0x13F)

export interface StreamRetention {
  readonly retentionCount?: bigint;
  readonly retentionAgeSeconds?: bigint;
  readonly retentionBytes?: bigint;
}

export interface StreamCreateRequest extends StreamRetention {
  readonly stream: Name;
  /** Value `[partition_count:u32]`, sent only when given (absent or 0 → 1 on the server). */
  readonly partitionCount?: number;
}

export interface StreamCreateQuery extends StreamRetention {
  readonly stream: string;
  readonly partitionCount?: number;
}

export interface StreamAlterRequest extends StreamRetention {
  readonly stream: Name;
}

export interface StreamAlterQuery extends StreamRetention {
  readonly stream: string;
}

function retentionOptions(req: StreamRetention): Uint8Array | undefined {
  const o = new OptionsBuilder();
  if (req.retentionCount !== undefined) o.u64(Opt.RetentionCount, req.retentionCount);
  if (req.retentionAgeSeconds !== undefined) o.u64(Opt.RetentionAge, req.retentionAgeSeconds);
  if (req.retentionBytes !== undefined) o.u64(Opt.RetentionBytes, req.retentionBytes);
  return optionsOrUndefined(o);
}

function readRetention(options: Uint8Array): StreamRetention {
  const o = new OptionsReader(options);
  const retentionCount = o.u64(Opt.RetentionCount);
  const retentionAgeSeconds = o.u64(Opt.RetentionAge);
  const retentionBytes = o.u64(Opt.RetentionBytes);
  return {
    ...(retentionCount !== undefined ? { retentionCount } : {}),
    ...(retentionAgeSeconds !== undefined ? { retentionAgeSeconds } : {}),
    ...(retentionBytes !== undefined ? { retentionBytes } : {}),
  };
}

export function encodeStreamCreate(req: StreamCreateRequest): OpPayload {
  return {
    key: nameBytes(req.stream),
    ...(req.partitionCount !== undefined ? { value: new ByteWriter(4).u32(req.partitionCount).finish() } : {}),
    options: retentionOptions(req),
  };
}

export function decodeStreamCreate(body: RequestBody): StreamCreateQuery {
  let partitionCount: number | undefined;
  if (body.value.length > 0) {
    const r = new ByteReader(body.value, 'stream_create value');
    partitionCount = r.u32('partition_count');
    r.end();
  }
  return { stream: text(body.key), ...(partitionCount !== undefined ? { partitionCount } : {}), ...readRetention(body.options) };
}

export function encodeStreamAlter(req: StreamAlterRequest): OpPayload {
  return { key: nameBytes(req.stream), options: retentionOptions(req) };
}

export function decodeStreamAlter(body: RequestBody): StreamAlterQuery {
  return { stream: text(body.key), ...readRetention(body.options) };
}

// ---------------------------------------------------------------------------------------------
// STREAM_LIST (0x13B)

export interface StreamListRequest {
  /** 0 or absent → 100 on the server. */
  readonly limit?: number;
  /** Opaque cursor from a previous reply. */
  readonly cursor?: Uint8Array;
}

export interface StreamListQuery {
  readonly limit: number;
  readonly cursor: Uint8Array;
}

export interface StreamListEntry {
  readonly name: string;
  readonly partitionCount: number;
}

export interface StreamListReply {
  readonly streams: readonly StreamListEntry[];
  readonly hasMore: boolean;
  readonly cursor: Uint8Array;
}

/** Key empty; value `[limit:u32][cursor…]` (the shared list encoding), only when a limit or cursor is given. */
export function encodeStreamList(req: StreamListRequest = {}): OpPayload {
  if (req.limit === undefined && req.cursor === undefined) return {};
  return { value: new ByteWriter(4).u32(req.limit ?? 0).bytes(req.cursor ?? EMPTY).finish() };
}

/** Reads the value form; an empty value falls back to option `limit` 0x05 (older CLI). */
export function decodeStreamList(body: RequestBody): StreamListQuery {
  if (body.value.length === 0) {
    return { limit: new OptionsReader(body.options).u32(Opt.Limit) ?? 0, cursor: EMPTY };
  }
  const r = new ByteReader(body.value, 'stream_list value');
  const limit = r.u32('limit');
  return { limit, cursor: r.rest() };
}

/** `[count:u32]([name_len:u32][name][partition_count:u32])*[has_more:u8][cursor_len:u16][cursor]`. */
export function encodeStreamListReply(reply: StreamListReply): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(reply.streams.length);
  for (const s of reply.streams) w.bytes32(s.name).u32(s.partitionCount);
  w.u8(reply.hasMore ? 1 : 0).bytes16(reply.cursor);
  return w.finish();
}

/** Accepts a 0-byte reply (empty) and a reply without the has_more/cursor trailer. */
export function decodeStreamListReply(payload: Uint8Array): StreamListReply {
  if (payload.length === 0) return { streams: [], hasMore: false, cursor: EMPTY };
  const r = new ByteReader(payload, 'stream_list reply');
  const n = r.u32('count');
  if (n * 8 > r.remaining) throw new ProtocolError(`truncated stream list: ${n} announced, ${r.remaining} byte(s) left`);
  const streams: StreamListEntry[] = [];
  for (let i = 0; i < n; i++) streams.push({ name: r.string32('name'), partitionCount: r.u32('partition_count') });
  if (r.done) return { streams, hasMore: false, cursor: EMPTY };
  const hasMore = r.u8('has_more') !== 0;
  const cursor = r.bytes16('cursor');
  r.end();
  return { streams, hasMore, cursor };
}

// ---------------------------------------------------------------------------------------------
// STREAM_DELETE (0x140)

export interface StreamDeleteRequest {
  readonly stream: Name;
  /** Option 0x2C: delete even when records remain. */
  readonly force?: boolean;
}

export interface StreamDeleteQuery {
  readonly stream: string;
  readonly force: boolean;
}

export function encodeStreamDelete(req: StreamDeleteRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.force) o.flag(Opt.Force);
  return { key: nameBytes(req.stream), options: optionsOrUndefined(o) };
}

export function decodeStreamDelete(body: RequestBody): StreamDeleteQuery {
  return { stream: text(body.key), force: new OptionsReader(body.options).flag(Opt.Force) };
}

// ---------------------------------------------------------------------------------------------
// consumer-group values: G, GC, GCI

export interface StreamGroupRef {
  readonly stream: Name;
  readonly group: Name;
}

export interface StreamGroupMemberRef extends StreamGroupRef {
  /** Empty means `"default"` on the server. */
  readonly consumer: Name;
}

export interface StreamGroupIdsRef extends StreamGroupRef {
  /** Ignored by the server for ack/nack/touch; the Go worker sends `""`. */
  readonly consumer?: Name;
  readonly ids: readonly StreamId[];
}

export interface StreamGroupKey {
  readonly stream: string;
  readonly group: string;
}

export interface StreamGroupMemberKey extends StreamGroupKey {
  readonly consumer: string;
}

export interface StreamGroupIdsKey extends StreamGroupMemberKey {
  readonly ids: readonly StreamId[];
}

function writeG(w: ByteWriter, group: Name): ByteWriter {
  return w.bytes16(group);
}

function writeGC(w: ByteWriter, group: Name, consumer: Name): ByteWriter {
  // Cached UTF-8 (nameBytes): a consumer sends the same group and consumer with every read and ack.
  return w.bytes16(nameBytes(group)).bytes16(nameBytes(consumer));
}

function writeGCI(req: StreamGroupIdsRef): Uint8Array {
  const w = writeGC(new ByteWriter(32 + req.ids.length * 16), req.group, req.consumer ?? '');
  w.u32(req.ids.length);
  for (const id of req.ids) writeIdTsSeq(w, id);
  return w.finish();
}

function readGroupValue(body: RequestBody, what: string): ByteReader {
  return new ByteReader(body.value, `${what} value`);
}

function decodeG(body: RequestBody, what: string): StreamGroupKey {
  const r = readGroupValue(body, what);
  const group = r.string16('group');
  r.end();
  return { stream: text(body.key), group };
}

function decodeGC(body: RequestBody, what: string): StreamGroupMemberKey {
  const r = readGroupValue(body, what);
  const group = r.string16('group');
  const consumer = r.string16('consumer');
  r.end();
  return { stream: text(body.key), group, consumer };
}

function decodeGCI(body: RequestBody, what: string): StreamGroupIdsKey {
  const r = readGroupValue(body, what);
  const group = r.string16('group');
  const consumer = r.string16('consumer');
  const n = r.u32('id count');
  if (n * 16 !== r.remaining) throw new ProtocolError(`${what}: ${n} id(s) announced, ${r.remaining} byte(s) left`);
  const ids: StreamId[] = [];
  for (let i = 0; i < n; i++) ids.push(readIdTsSeq(r, 'id'));
  r.end();
  return { stream: text(body.key), group, consumer, ids };
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_CREATE (0x150), STREAM_GROUP_CONFIGURE_SWEEPER (0x157)

export interface StreamGroupSettings {
  /** Option 0x30 (u32); server default 30 000, 0 = never redeliver on timeout. */
  readonly ackTimeoutMs?: number;
  /** Option 0x31 (u8); server default 10, 0 = unlimited. */
  readonly maxDeliver?: number;
}

export interface StreamGroupCreateRequest extends StreamGroupRef, StreamGroupSettings {}
export interface StreamGroupCreateQuery extends StreamGroupKey, StreamGroupSettings {}

function groupSettingsOptions(req: StreamGroupSettings): Uint8Array | undefined {
  const o = new OptionsBuilder();
  if (req.ackTimeoutMs !== undefined) o.u32(Opt.AckTimeoutMS, req.ackTimeoutMs);
  if (req.maxDeliver !== undefined) o.u8(Opt.MaxDeliver, req.maxDeliver);
  return optionsOrUndefined(o);
}

function readGroupSettings(options: Uint8Array): StreamGroupSettings {
  const o = new OptionsReader(options);
  const ackTimeoutMs = o.u32(Opt.AckTimeoutMS);
  const maxDeliver = o.u8(Opt.MaxDeliver);
  return { ...(ackTimeoutMs !== undefined ? { ackTimeoutMs } : {}), ...(maxDeliver !== undefined ? { maxDeliver } : {}) };
}

/** Value G; options ack_timeout_ms 0x30, max_deliver 0x31 (the CLI's order). */
export function encodeStreamGroupCreate(req: StreamGroupCreateRequest): OpPayload {
  return { key: nameBytes(req.stream), value: writeG(new ByteWriter(16), req.group).finish(), options: groupSettingsOptions(req) };
}

export function decodeStreamGroupCreate(body: RequestBody): StreamGroupCreateQuery {
  return { ...decodeG(body, 'stream_group_create'), ...readGroupSettings(body.options) };
}

export const encodeStreamGroupConfigureSweeper = encodeStreamGroupCreate;

export function decodeStreamGroupConfigureSweeper(body: RequestBody): StreamGroupCreateQuery {
  return { ...decodeG(body, 'stream_group_configure_sweeper'), ...readGroupSettings(body.options) };
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_JOIN (0x151), STREAM_GROUP_LEAVE (0x152)

/** The reply to joining a consumer group. */
export interface StreamGroupJoinReply {
  readonly generationId: bigint;
  readonly partitionCount: number;
  readonly partition: number;
}

export function encodeStreamGroupJoin(req: StreamGroupMemberRef): OpPayload {
  return { key: nameBytes(req.stream), value: writeGC(new ByteWriter(32), req.group, req.consumer).finish() };
}

export function decodeStreamGroupJoin(body: RequestBody): StreamGroupMemberKey {
  return decodeGC(body, 'stream_group_join');
}

/** `[generation_id:u64][partition_count:u32][partition:u32]`. */
export function encodeStreamGroupJoinReply(reply: StreamGroupJoinReply): Uint8Array {
  return new ByteWriter(16).u64(reply.generationId).u32(reply.partitionCount).u32(reply.partition).finish();
}

/** A 0-byte reply (servers that send none) reads as generation 1, one partition, partition 0. */
export function decodeStreamGroupJoinReply(payload: Uint8Array): StreamGroupJoinReply {
  if (payload.length === 0) return { generationId: 1n, partitionCount: 1, partition: 0 };
  const r = new ByteReader(payload, 'stream_group_join reply');
  const generationId = r.u64('generation_id');
  const partitionCount = r.u32('partition_count');
  const partition = r.u32('partition');
  r.end();
  return { generationId, partitionCount, partition };
}

export function encodeStreamGroupLeave(req: StreamGroupMemberRef): OpPayload {
  return encodeStreamGroupJoin(req);
}

export function decodeStreamGroupLeave(body: RequestBody): StreamGroupMemberKey {
  return decodeGC(body, 'stream_group_leave');
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_READ (0x153)

export interface StreamGroupReadRequest extends StreamGroupMemberRef {
  readonly count?: number;
  /** 0 or absent: do not wait (#14); at most 300 000. */
  readonly blockMs?: number;
  /** Option 0x35: deliver without a pending entry (at most once). */
  readonly noAck?: boolean;
}

export interface StreamGroupReadQuery extends StreamGroupMemberKey {
  readonly count?: number;
  readonly blockMs?: number;
  readonly noAck: boolean;
}

/** Value GC; options count 0x15, block 0x17 (Go order), then no_ack 0x35. */
export function encodeStreamGroupRead(req: StreamGroupReadRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.count !== undefined) o.u32(Opt.Count, req.count);
  if (req.blockMs !== undefined) o.u32(Opt.BlockMS, req.blockMs);
  if (req.noAck) o.flag(Opt.NoAck);
  return { key: nameBytes(req.stream), value: writeGC(new ByteWriter(32), req.group, req.consumer).finish(), options: optionsOrUndefined(o) };
}

export function decodeStreamGroupRead(body: RequestBody): StreamGroupReadQuery {
  const o = new OptionsReader(body.options);
  const count = o.u32(Opt.Count) ?? o.u32(Opt.Limit);
  const blockMs = o.u32(Opt.BlockMS);
  const { stream, group, consumer } = decodeGC(body, 'stream_group_read');
  // Built field by field (a read per batch of every consumer): no spread of temporary objects.
  const q: { stream: string; group: string; consumer: string; count?: number; blockMs?: number; noAck: boolean } = { stream, group, consumer, noAck: false };
  if (count !== undefined) q.count = count;
  if (blockMs !== undefined) q.blockMs = blockMs;
  q.noAck = o.flag(Opt.NoAck);
  return q;
}

export const encodeStreamGroupReadReply = encodeStreamRecords;
export const decodeStreamGroupReadReply = decodeStreamRecords;

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_ACK (0x154), STREAM_GROUP_NACK (0x159), STREAM_GROUP_TOUCH (0x15A)

export interface StreamGroupNackRequest extends StreamGroupIdsRef {
  /** Option 0x33; absent: due again at once (#23). */
  readonly redeliveryDelayMs?: number;
}

export interface StreamGroupNackQuery extends StreamGroupIdsKey {
  readonly redeliveryDelayMs?: number;
}

export interface StreamGroupTouchRequest extends StreamGroupIdsRef {
  /** Option 0x38: new deadline = now + this (else now + the group's ack timeout). */
  readonly extendMs?: number;
}

export interface StreamGroupTouchQuery extends StreamGroupIdsKey {
  readonly extendMs?: number;
}

/** Value GCI (an empty id list is sent as is; the server refuses it). */
export function encodeStreamGroupAck(req: StreamGroupIdsRef): OpPayload {
  return { key: nameBytes(req.stream), value: writeGCI(req) };
}

export function decodeStreamGroupAck(body: RequestBody): StreamGroupIdsKey {
  return decodeGCI(body, 'stream_group_ack');
}

export function encodeStreamGroupNack(req: StreamGroupNackRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.redeliveryDelayMs !== undefined) o.u32(Opt.RedeliveryDelayMS, req.redeliveryDelayMs);
  return { key: nameBytes(req.stream), value: writeGCI(req), options: optionsOrUndefined(o) };
}

export function decodeStreamGroupNack(body: RequestBody): StreamGroupNackQuery {
  const delay = new OptionsReader(body.options).u32(Opt.RedeliveryDelayMS);
  return { ...decodeGCI(body, 'stream_group_nack'), ...(delay !== undefined ? { redeliveryDelayMs: delay } : {}) };
}

export function encodeStreamGroupTouch(req: StreamGroupTouchRequest): OpPayload {
  const o = new OptionsBuilder();
  if (req.extendMs !== undefined) o.u32(Opt.ExtendAckMS, req.extendMs);
  return { key: nameBytes(req.stream), value: writeGCI(req), options: optionsOrUndefined(o) };
}

export function decodeStreamGroupTouch(body: RequestBody): StreamGroupTouchQuery {
  const extend = new OptionsReader(body.options).u32(Opt.ExtendAckMS);
  return { ...decodeGCI(body, 'stream_group_touch'), ...(extend !== undefined ? { extendMs: extend } : {}) };
}

/** `[touched:u32]`. */
export function encodeStreamGroupTouchReply(touched: number): Uint8Array {
  return new ByteWriter(4).u32(touched).finish();
}

/** A 0-byte reply reads as 0 touched. */
export function decodeStreamGroupTouchReply(payload: Uint8Array): number {
  if (payload.length === 0) return 0;
  const r = new ByteReader(payload, 'stream_group_touch reply');
  const n = r.u32('touched');
  r.end();
  return n;
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_CLAIM (0x155)

export interface StreamGroupClaimRequest extends StreamGroupMemberRef {
  /** Claim only entries idle at least this long (0: all). */
  readonly minIdleMs?: number;
  /** Where to start walking the pending list (inclusive); default `0-0`. */
  readonly start?: StreamId;
  /** Default 100; the server caps it at 1000. */
  readonly count?: number;
}

export interface StreamGroupClaimQuery extends StreamGroupMemberKey {
  readonly minIdleMs: number;
  readonly start: StreamId;
  readonly count: number;
}

export interface StreamGroupClaimReply {
  readonly records: readonly StreamRecord[];
  /** Where the next claim should start; `MAX_STREAM_ID` when the pending list was fully scanned. */
  readonly next: StreamId;
}

/** Value `G [consumer:str16][min_idle_ms:u32][start_ts:u64][start_seq:u64][count:u32]`. */
export function encodeStreamGroupClaim(req: StreamGroupClaimRequest): OpPayload {
  const w = writeGC(new ByteWriter(64), req.group, req.consumer);
  w.u32(req.minIdleMs ?? 0);
  writeIdTsSeq(w, req.start ?? MIN_STREAM_ID);
  w.u32(req.count ?? STREAM_CLAIM_DEFAULT_COUNT);
  return { key: nameBytes(req.stream), value: w.finish() };
}

/** Missing trailing fields default to min_idle 0, start 0-0, count 100. */
export function decodeStreamGroupClaim(body: RequestBody): StreamGroupClaimQuery {
  const r = readGroupValue(body, 'stream_group_claim');
  const group = r.string16('group');
  const consumer = r.string16('consumer');
  const minIdleMs = r.done ? 0 : r.u32('min_idle_ms');
  const startTs = r.done ? 0n : r.u64('start_ts');
  const startSeq = r.done ? 0n : r.u64('start_seq');
  const count = r.done ? STREAM_CLAIM_DEFAULT_COUNT : r.u32('count');
  r.end();
  return { stream: text(body.key), group, consumer, minIdleMs, start: { timestampMs: startTs, sequence: startSeq }, count };
}

/** Records then the 16-byte cursor `[next_ts:u64][next_seq:u64]`. */
export function encodeStreamGroupClaimReply(reply: StreamGroupClaimReply): Uint8Array {
  const w = new ByteWriter(64);
  writeRecords(w, reply.records);
  writeIdTsSeq(w, reply.next);
  return w.finish();
}

/** A 0-byte reply, or records without the trailer, read as "fully scanned". */
export function decodeStreamGroupClaimReply(payload: Uint8Array): StreamGroupClaimReply {
  if (payload.length === 0) return { records: [], next: MAX_STREAM_ID };
  const r = new ByteReader(payload, 'stream_group_claim reply');
  const records = readRecords(r);
  if (r.done) return { records, next: MAX_STREAM_ID };
  const next = readIdTsSeq(r, 'next');
  r.end();
  return { records, next };
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_PENDING (0x156)

export interface StreamGroupPendingRequest extends StreamGroupRef {
  /** Only this consumer's entries (sent after the group only when given). */
  readonly consumer?: Name;
}

export interface StreamGroupPendingQuery extends StreamGroupKey {
  readonly consumer?: string;
}

export interface StreamPendingEntry {
  readonly id: StreamId;
  readonly deliveryCount: number;
  readonly consumer: string;
}

export function encodeStreamGroupPending(req: StreamGroupPendingRequest): OpPayload {
  const w = writeG(new ByteWriter(32), req.group);
  if (req.consumer !== undefined) w.bytes16(req.consumer);
  return { key: nameBytes(req.stream), value: w.finish() };
}

export function decodeStreamGroupPending(body: RequestBody): StreamGroupPendingQuery {
  const r = readGroupValue(body, 'stream_group_pending');
  const group = r.string16('group');
  const consumer = r.done ? undefined : r.string16('consumer');
  r.end();
  return { stream: text(body.key), group, ...(consumer !== undefined ? { consumer } : {}) };
}

/** `[count:u32]([ts:u64][seq:u64][delivery_count:u32][consumer:str16])*`. */
export function encodeStreamGroupPendingReply(entries: readonly StreamPendingEntry[]): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(entries.length);
  for (const e of entries) {
    writeIdTsSeq(w, e.id);
    w.u32(e.deliveryCount).bytes16(e.consumer);
  }
  return w.finish();
}

export function decodeStreamGroupPendingReply(payload: Uint8Array): StreamPendingEntry[] {
  if (payload.length === 0) return [];
  const r = new ByteReader(payload, 'stream_group_pending reply');
  const n = r.u32('count');
  if (n * 22 > r.remaining) throw new ProtocolError(`truncated pending list: ${n} announced, ${r.remaining} byte(s) left`);
  const out: StreamPendingEntry[] = [];
  for (let i = 0; i < n; i++) {
    const id = readIdTsSeq(r, 'id');
    const deliveryCount = r.u32('delivery_count');
    const consumer = r.string16('consumer');
    out.push({ id, deliveryCount, consumer });
  }
  r.end();
  return out;
}

// ---------------------------------------------------------------------------------------------
// STREAM_GROUP_INFO (0x15B), STREAM_GROUP_DELETE (0x15C)

/** One consumer group of a stream and its consumers. */
export interface StreamGroupInfo {
  readonly pendingCount: bigint;
  readonly memberCount: number;
  readonly createdAtNs: bigint;
}

export function encodeStreamGroupInfo(req: StreamGroupRef): OpPayload {
  return { key: nameBytes(req.stream), value: writeG(new ByteWriter(16), req.group).finish() };
}

export function decodeStreamGroupInfo(body: RequestBody): StreamGroupKey {
  return decodeG(body, 'stream_group_info');
}

/** `[pel_count:u64][member_count:u32][created_at_ns:u64]`, 20 bytes. */
export function encodeStreamGroupInfoReply(info: StreamGroupInfo): Uint8Array {
  return new ByteWriter(20).u64(info.pendingCount).u32(info.memberCount).u64(info.createdAtNs).finish();
}

export function decodeStreamGroupInfoReply(payload: Uint8Array): StreamGroupInfo {
  const r = new ByteReader(payload, 'stream_group_info reply');
  const pendingCount = r.u64('pel_count');
  const memberCount = r.u32('member_count');
  const createdAtNs = r.u64('created_at_ns');
  r.end();
  return { pendingCount, memberCount, createdAtNs };
}

export function encodeStreamGroupDelete(req: StreamGroupRef): OpPayload {
  return encodeStreamGroupInfo(req);
}

export function decodeStreamGroupDelete(body: RequestBody): StreamGroupKey {
  return decodeG(body, 'stream_group_delete');
}
