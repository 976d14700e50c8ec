/**
 * The stream state machine: streams (append-only record logs with retention) and their consumer
 * groups, per namespace. Pure and synchronous: time comes only from the clock's `now()`, nothing
 * is scheduled here (blocking and wake-ups live in `index.ts`). Rule references (#N) are to
 * `docs/protocol-decisions.md`.
 *
 * Ids are kept as one 128-bit bigint (`ts << 64 | seq`, see `streamIdToBigInt`): it sorts like the
 * id, and `last + 1` is the next id of the same millisecond, a sequence wrap carrying into the
 * timestamp.
 *
 * Persistence (with a data directory): tables `stream.meta` (last id, partitions, retention),
 * `stream.rec` (one entity per live record), `stream.group` (settings, cursor, members, dead ids)
 * and `stream.pel` (one entity per pending entry, its due time absolute). Changes are announced
 * before they are made; record order, byte counts and pending-list order are rebuilt by `loaded()`.
 */
import {
  streamIdFromBigInt,
  streamIdToBigInt,
  STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS,
  STREAM_GROUP_DEFAULT_MAX_DELIVER,
  MAX_STREAM_ID,
  utf8,
  type StreamBatchRecord,
  type StreamHeaders,
  type StreamId,
  type StreamInfo,
  type StreamListEntry,
  type StreamPendingEntry,
  type StreamTrimReply,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { badRequest, conflict, notFound } from '../reply.js';
import type { PlainPacker, SelfPacking } from '../storage/plain-packer.js';
import { ABSENT, entityKeyWithId, type IdKeyForm, type Persistence } from '../storage/types.js';
import { PayloadArena } from '../payload-slab.js';

/**
 * One live record. Its id is derived from `key` when asked for (replies, info): a million restored
 * records then cost one object each, not three (the id object and its two bigints). The payload
 * bytes sit in the stream's `PayloadArena` (copied once, never a view of a received buffer) and
 * the record keeps their chunk, offset and size; records without headers share one empty list.
 */
export class StoredRecord {
  constructor(
    readonly key: bigint,
    readonly partition: number,
    private readonly chunk: Uint8Array,
    private readonly offset: number,
    /** Payload length in bytes. */
    readonly size: number,
    readonly headers: StreamHeaders,
  ) {}

  /** A record whose payload is copied into `arena` and whose headers are copied (or shared when empty). */
  static copyOf(arena: PayloadArena, key: bigint, partition: number, payload: Uint8Array, headers: StreamHeaders): StoredRecord {
    const offset = arena.place(payload);
    return new StoredRecord(key, partition, arena.chunk, offset, payload.length, headers.length === 0 ? NO_HEADERS : headers.map(([k, v]) => [k, v] as const));
  }

  get id(): StreamId {
    return streamIdFromBigInt(this.key);
  }

  /** The payload: a view of the arena chunk (bytes there are never overwritten). */
  get payload(): Uint8Array {
    return this.chunk.subarray(this.offset, this.offset + this.size);
  }

  /**
   * Writes the record's stored form, `[partition, payload, headers]` (`StoredRecordValue`), as those
   * bytes: an appended record is given to the storage as itself, with no tuple made per append.
   */
  packInto(out: PlainPacker): void {
    out.arrayHeader(3);
    out.number(this.partition);
    out.binaryOf(this.chunk, this.offset, this.size);
    // Most records have no headers: the empty array's header byte without `value`'s type dispatch.
    if (this.headers.length === 0) out.arrayHeader(0);
    else out.value(this.headers);
  }
}

const NO_HEADERS: StreamHeaders = Object.freeze([]);

export interface Retention {
  /** 0 = unlimited. */
  readonly count: bigint;
  readonly ageSeconds: bigint;
  readonly bytes: bigint;
}

interface StreamLog {
  /** `namespace ‖ 0x00 ‖ name`: the key of the stream (and of its groups) in the store's maps. */
  readonly key: string;
  readonly name: string;
  /** Live records are `records[head..]`, in id order. */
  records: StoredRecord[];
  /** Where the records' payload bytes are. */
  readonly arena: PayloadArena;
  head: number;
  /** Last id handed out (survives trims); null before the first append. */
  last: bigint | null;
  /** Sum of live payload sizes. */
  bytes: number;
  partitionCount: number;
  retention: Retention;
  /**
   * Its `stream.meta` entity announced since its last save or load: an append announces it once
   * per turn (the commit saves it), not once per append. Cleared by `saveMeta` and `loadMeta`.
   */
  metaAnnounced: boolean;
}

interface PelEntry {
  readonly key: bigint;
  consumer: string;
  deliveryCount: number;
  lastDeliveryAt: number;
  /** When the entry comes due for redelivery (ack timeout, nack delay, touch); Infinity = never. */
  dueAt: number;
  nacked: boolean;
}

interface Member {
  readonly joinedAt: number;
  leaving: boolean;
  lastActiveAt: number;
}

interface GroupState {
  /** Key of the group's stream (`namespace ‖ 0x00 ‖ name`). */
  readonly stream: string;
  readonly name: string;
  readonly createdAtMs: number;
  ackTimeoutMs: number;
  maxDeliver: number;
  /** Highest id ever handed to a member; -1 before the first delivery (a new group reads from the start). */
  cursor: bigint;
  readonly members: Map<string, Member>;
  /** Pending entries. Insertion order is id order: entries are only added past the cursor. */
  readonly pel: Map<bigint, PelEntry>;
  /**
   * No pending entry comes due before this time (a lower bound, lowered whenever an entry's due
   * time is set; -Infinity: unknown). A group read skips the walk of the pending list while it is
   * in the future, instead of visiting every pending entry on every read.
   */
  dueFloor: number;
  /** Entries dropped after max_deliver deliveries (the most recent, capped). */
  readonly dead: bigint[];
  deadTotal: number;
}

export interface GroupSettings {
  readonly ackTimeoutMs?: number;
  readonly maxDeliver?: number;
}

export interface TrimBounds {
  readonly maxLen?: bigint;
  readonly maxAgeSeconds?: bigint;
  readonly maxBytes?: bigint;
  readonly before?: StreamId;
  readonly upTo?: StreamId;
  readonly firstN?: bigint;
}

export interface ReadQuery {
  /** Inclusive lower bound (an id key). */
  readonly from: bigint;
  /** Inclusive upper bound. */
  readonly end?: bigint;
  readonly partition?: number;
  readonly count: number;
}

export interface GroupSnapshot {
  readonly cursor: bigint;
  readonly pending: ReadonlyArray<{ key: bigint; consumer: string; deliveryCount: number; dueAt: number; nacked: boolean }>;
  readonly members: ReadonlyArray<{ name: string; leaving: boolean }>;
  readonly dead: readonly bigint[];
  readonly deadTotal: number;
  readonly ackTimeoutMs: number;
  readonly maxDeliver: number;
}

const DEAD_KEPT = 1000;
const NONE = -1n;
const U64_MAX = 0xffffffffffffffffn;
const MAX_SAFE_SEQUENCE = BigInt(Number.MAX_SAFE_INTEGER);

interface StoredStreamMeta {
  readonly last: bigint | null;
  readonly partitionCount: number;
  readonly retention: Retention;
}

interface StoredGroup {
  readonly createdAtMs: number;
  readonly ackTimeoutMs: number;
  readonly maxDeliver: number;
  readonly cursor: bigint;
  readonly members: Array<[name: string, joinedAt: number, leaving: boolean, lastActiveAt: number]>;
  readonly dead: bigint[];
  readonly deadTotal: number;
}

type StoredPel = Omit<PelEntry, 'key'>;

/** Announces changes to the storage layer; all no-ops without persistence. */
interface StreamChanges {
  meta(k: string): void;
  rec(k: string, key: bigint): void;
  /**
   * A record about to be appended (`record`): it has no stored form yet (a failed write just removes
   * it). `sequence` (a number, or -1) is its id's low half when its high half is `ms` (> 0).
   */
  newRec(k: string, key: bigint, record: StoredRecord, ms: number, sequence: number): void;
  group(k: string, group: string): void;
  pel(k: string, group: string, key: bigint): void;
}

const NO_CHANGES: StreamChanges = { meta() {}, rec() {}, newRec() {}, group() {}, pel() {} };

/**
 * A record's entity key: the stream key, NUL, the id in hex (records are most of a stream's bytes:
 * keep it short). An append gives it to the storage in these parts (`rec(k, ABSENT, form, key)`).
 */
const recordEntity = (k: string, key: bigint): string => entityKeyWithId(k, key);

function parseRecordEntity(entity: string): [string, bigint] {
  const at = entity.lastIndexOf('\u0000');
  return [entity.slice(0, at), BigInt(`0x${entity.slice(at + 1)}`)];
}

/**
 * A new record's entity key in parts (`newRec`): the prefix is the stream key, NUL and the hex of
 * its id's millisecond (the high 64 bits), the id the sequence (the low 64 bits) as a number, its
 * 16 hex digits zero-padded: the key `recordEntity` builds, without a 128-bit BigInt's
 * `toString(16)` per append.
 */
const RECORD_SEQUENCE_KEY: IdKeyForm = { separator: '', radix: 16, suffix: '', width: 16 };

/** A record as stored: [partition, payload, headers] (its id is in the entity key). */
type StoredRecordValue = [number, Uint8Array, StreamHeaders];

/**
 * The last stream key built, kept: most requests name the stream the one before did, and reusing
 * the key string skips a concatenation (a rope V8 must flatten) and the hashing of a new string
 * on every map lookup. Pure, so nothing to invalidate.
 */
let lastNs = '';
let lastStream = '';
let lastKey = '\u0000';

function sk(ns: string, stream: string): string {
  if (stream === lastStream && ns === lastNs) return lastKey;
  lastNs = ns;
  lastStream = stream;
  lastKey = `${ns}\u0000${stream}`;
  return lastKey;
}

/** A stable partition hash for partition keys (FNV-1a, 32 bit; #7: any stable hash). */
export function partitionFor(key: Uint8Array, partitionCount: number): number {
  let h = 0x811c9dc5;
  for (const b of key) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % Math.max(1, partitionCount);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export class StreamStore {
  private readonly streams = new Map<string, StreamLog>();
  private readonly groups = new Map<string, Map<string, GroupState>>();
  private readonly changes: StreamChanges = NO_CHANGES;
  private readonly loadedStreams = new Set<string>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    persistence?: Persistence,
  ) {
    if (persistence) this.changes = this.persistTo(persistence);
  }

  // -------------------------------------------------------------------------------------------
  // persistence

  private persistTo(p: Persistence): StreamChanges {
    const loaded = () => this.loaded();
    let prefixStream = '';
    let prefixMs = -1;
    let prefix = '';
    const meta = p.table({ name: 'stream.meta', save: (k) => this.saveMeta(k), load: (k, v) => this.loadMeta(k, v), loaded });
    const rec = p.table({ name: 'stream.rec', save: (k) => this.saveRec(k), load: (k, v) => this.loadRec(k, v), loaded, idKey: RECORD_SEQUENCE_KEY });
    const group = p.table({ name: 'stream.group', save: (k) => this.saveGroup(k), load: (k, v) => this.loadGroup(k, v), loaded });
    const pel = p.table({ name: 'stream.pel', save: (k) => this.savePel(k), load: (k, v) => this.loadPel(k, v), loaded });
    return {
      meta: (k) => meta(k),
      rec: (k, key) => {
        rec(recordEntity(k, key));
      },
      // An appended record is logged as it is now (records do not change; a removal is announced
      // apart): no `save` call, no parsing of its entity key, no search of its stream at the commit;
      // its key given in parts and its form written by the record itself (`packInto`).
      newRec: (k, key, record, ms, sequence) => {
        if (sequence < 0) return rec(recordEntity(k, key), ABSENT, record satisfies SelfPacking);
        // The prefix of the last stream and millisecond kept: built once per millisecond.
        if (ms !== prefixMs || k !== prefixStream) {
          prefixMs = ms;
          prefixStream = k;
          prefix = `${k}\u0000${ms.toString(16)}`;
        }
        rec(prefix, ABSENT, record, sequence);
      },
      group: (k, g) => group(JSON.stringify([k, g])),
      pel: (k, g, key) => pel(JSON.stringify([k, g, String(key)])),
    };
  }

  private saveMeta(k: string): StoredStreamMeta | undefined {
    const log = this.streams.get(k);
    if (!log) return undefined;
    log.metaAnnounced = false;
    return { last: log.last, partitionCount: log.partitionCount, retention: { ...log.retention } };
  }

  private loadMeta(k: string, stored: unknown): void {
    if (stored === undefined) {
      this.streams.delete(k);
      return;
    }
    const v = stored as StoredStreamMeta;
    const log = this.ensureLog(k);
    log.metaAnnounced = false;
    log.last = v.last;
    log.partitionCount = v.partitionCount;
    log.retention = v.retention;
  }

  private ensureLog(k: string): StreamLog {
    this.loadedStreams.add(k);
    let log = this.streams.get(k);
    if (!log) {
      log = { key: k, name: k.slice(k.indexOf('\u0000') + 1), records: [], arena: new PayloadArena(), head: 0, last: null, bytes: 0, partitionCount: 1, retention: { count: 0n, ageSeconds: 0n, bytes: 0n }, metaAnnounced: false };
      this.streams.set(k, log);
    }
    return log;
  }

  private saveRec(entity: string): StoredRecordValue | undefined {
    const [k, key] = parseRecordEntity(entity);
    const r = this.find(this.streams.get(k), key);
    return r ? [r.partition, r.payload, r.headers.map(([hk, hv]) => [hk, hv] as const)] : undefined;
  }

  /** The stream key of the record loaded last: consecutive records of one stream share one string. */
  private loadingStreamKey = '';

  private loadRec(entity: string, stored: unknown): void {
    const at = entity.lastIndexOf('\u0000');
    let k = this.loadingStreamKey;
    if (at !== k.length || !entity.startsWith(k)) this.loadingStreamKey = k = entity.slice(0, at);
    const key = BigInt(`0x${entity.slice(at + 1)}`);
    if (stored === undefined) {
      const log = this.streams.get(k);
      if (!log) return;
      this.loadedStreams.add(k);
      const i = this.lowerBound(log, key);
      if (log.records[i]?.key === key) log.records.splice(i, 1);
      return;
    }
    const log = this.ensureLog(k);
    const last = log.records[log.records.length - 1];
    // Recovery loads records in (mostly) id order: appending and sorting once in loaded() is the fast path.
    const i = last && last.key >= key ? this.lowerBound(log, key) : log.records.length;
    const present = log.records[i]?.key === key;
    const [partition, payload, headers] = stored as StoredRecordValue;
    const rec = StoredRecord.copyOf(log.arena, key, partition, payload, headers);
    if (present) log.records[i] = rec;
    else log.records.push(rec);
  }

  private saveGroup(entity: string): StoredGroup | undefined {
    const [k, name] = JSON.parse(entity) as [string, string];
    const g = this.groups.get(k)?.get(name);
    if (!g) return undefined;
    return {
      createdAtMs: g.createdAtMs,
      ackTimeoutMs: g.ackTimeoutMs,
      maxDeliver: g.maxDeliver,
      cursor: g.cursor,
      members: [...g.members].map(([n, m]) => [n, m.joinedAt, m.leaving, m.lastActiveAt]),
      dead: [...g.dead],
      deadTotal: g.deadTotal,
    };
  }

  private loadGroup(entity: string, stored: unknown): void {
    const [k, name] = JSON.parse(entity) as [string, string];
    const byName = this.groups.get(k);
    if (stored === undefined) {
      byName?.delete(name);
      return;
    }
    const v = stored as StoredGroup;
    const existing = byName?.get(name);
    const g: GroupState = {
      stream: k,
      name,
      createdAtMs: v.createdAtMs,
      ackTimeoutMs: v.ackTimeoutMs,
      maxDeliver: v.maxDeliver,
      cursor: v.cursor,
      members: new Map(v.members.map(([n, joinedAt, leaving, lastActiveAt]) => [n, { joinedAt, leaving, lastActiveAt }])),
      pel: existing?.pel ?? new Map(),
      dueFloor: -Infinity,
      dead: [...v.dead],
      deadTotal: v.deadTotal,
    };
    if (byName) byName.set(name, g);
    else this.groups.set(k, new Map([[name, g]]));
    this.loadedStreams.add(k);
  }

  private savePel(entity: string): StoredPel | undefined {
    const [k, name, key] = JSON.parse(entity) as [string, string, string];
    const e = this.groups.get(k)?.get(name)?.pel.get(BigInt(key));
    if (!e) return undefined;
    return { consumer: e.consumer, deliveryCount: e.deliveryCount, lastDeliveryAt: e.lastDeliveryAt, dueAt: e.dueAt, nacked: e.nacked };
  }

  private loadPel(entity: string, stored: unknown): void {
    const [k, name, keyText] = JSON.parse(entity) as [string, string, string];
    const key = BigInt(keyText);
    let byName = this.groups.get(k);
    if (!byName) this.groups.set(k, (byName = new Map()));
    let g = byName.get(name);
    if (!g) {
      // The group's own entity may load after its pending entries: a placeholder it will replace (keeping the pel).
      g = { stream: k, name, createdAtMs: 0, ackTimeoutMs: 0, maxDeliver: 0, cursor: NONE, members: new Map(), pel: new Map(), dueFloor: -Infinity, dead: [], deadTotal: 0 };
      byName.set(name, g);
    }
    if (stored === undefined) g.pel.delete(key);
    else g.pel.set(key, { key, ...(stored as StoredPel) });
    g.dueFloor = -Infinity;
    this.loadedStreams.add(k);
  }

  /** After loads: records in id order with their byte count, pending lists in id order. */
  private loaded(): void {
    for (const k of this.loadedStreams) {
      const log = this.streams.get(k);
      if (log) {
        if (log.head > 0) {
          log.records = log.records.slice(log.head);
          log.head = 0;
        }
        let sorted = true;
        for (let i = 1; i < log.records.length && sorted; i++) if (log.records[i - 1].key >= log.records[i].key) sorted = false;
        if (!sorted) log.records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        log.bytes = 0;
        for (const r of log.records) log.bytes += r.size;
      }
      for (const g of this.groups.get(k)?.values() ?? []) {
        const entries = [...g.pel.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        g.pel.clear();
        for (const e of entries) g.pel.set(e.key, e);
        g.dueFloor = -Infinity;
      }
    }
    this.loadedStreams.clear();
  }

  private now(): number {
    return Math.max(0, Math.floor(this.clock.now()));
  }

  /** The clock's millisecond as a bigint and the first record key of that millisecond: made once per millisecond. */
  private tickMs = -1n;
  private tickFirstKey = 0n;
  private tickAt = -1;
  private tick(): void {
    const now = this.now();
    if (now === this.tickAt) return;
    this.tickAt = now;
    this.tickMs = BigInt(now);
    this.tickFirstKey = this.tickMs << 64n;
  }

  // -------------------------------------------------------------------------------------------
  // streams

  private log(ns: string, stream: string): StreamLog | undefined {
    return this.streams.get(sk(ns, stream));
  }

  private ensure(ns: string, stream: string): StreamLog {
    const k = sk(ns, stream);
    let log = this.streams.get(k);
    if (!log) {
      this.changes.meta(k);
      log = { key: k, name: stream, records: [], arena: new PayloadArena(), head: 0, last: null, bytes: 0, partitionCount: 1, retention: { count: 0n, ageSeconds: 0n, bytes: 0n }, metaAnnounced: false };
      this.streams.set(k, log);
    }
    return log;
  }

  exists(ns: string, stream: string): boolean {
    return this.streams.has(sk(ns, stream));
  }

  partitionCount(ns: string, stream: string): number {
    return this.log(ns, stream)?.partitionCount ?? 1;
  }

  private live(log: StreamLog): number {
    return log.records.length - log.head;
  }

  /** First live index whose key is ≥ `key`. */
  private lowerBound(log: StreamLog, key: bigint): number {
    let lo = log.head;
    let hi = log.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log.records[mid].key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(log: StreamLog | undefined, key: bigint): StoredRecord | undefined {
    if (!log) return undefined;
    const i = this.lowerBound(log, key);
    const r = log.records[i];
    return r && r.key === key ? r : undefined;
  }

  private removePrefix(log: StreamLog, n: number): void {
    if (n <= 0) return;
    const k = log.key;
    for (let i = log.head; i < log.head + n; i++) {
      this.changes.rec(k, log.records[i].key);
      log.bytes -= log.records[i].size;
    }
    log.head += n;
    if (log.head > 1024 && log.head * 2 > log.records.length) {
      log.records = log.records.slice(log.head);
      log.head = 0;
    }
  }

  /** How many of the oldest records the bounds remove (every bound removes a prefix; their union is the longest). */
  private prefixFor(log: StreamLog, b: TrimBounds): number {
    const live = this.live(log);
    let n = 0;
    const take = (m: number) => void (n = Math.max(n, Math.min(live, m)));
    if (b.maxLen !== undefined) take(b.maxLen >= BigInt(live) ? 0 : live - Number(b.maxLen));
    if (b.maxAgeSeconds !== undefined) {
      const cutoff = BigInt(this.now()) - b.maxAgeSeconds * 1000n;
      if (cutoff > 0n) take(this.lowerBound(log, cutoff << 64n) - log.head);
    }
    if (b.maxBytes !== undefined) {
      let total = BigInt(log.bytes);
      let i = log.head;
      while (total > b.maxBytes && i < log.records.length) total -= BigInt(log.records[i++].size);
      take(i - log.head);
    }
    if (b.before !== undefined) take(this.lowerBound(log, streamIdToBigInt(b.before)) - log.head);
    if (b.upTo !== undefined) take(this.lowerBound(log, streamIdToBigInt(b.upTo) + 1n) - log.head);
    if (b.firstN !== undefined) take(b.firstN >= BigInt(live) ? live : Number(b.firstN));
    return n;
  }

  /** Applies the stream's retention settings (count, bytes, age; 0 = unlimited). */
  private enforce(log: StreamLog): void {
    const r = log.retention;
    if (r.count === 0n && r.ageSeconds === 0n && r.bytes === 0n) return;
    this.removePrefix(
      log,
      this.prefixFor(log, {
        ...(r.count > 0n ? { maxLen: r.count } : {}),
        ...(r.ageSeconds > 0n ? { maxAgeSeconds: r.ageSeconds } : {}),
        ...(r.bytes > 0n ? { maxBytes: r.bytes } : {}),
      }),
    );
  }

  /**
   * Stores `records` with consecutive ids and returns the first id. The stream is created if
   * needed; retention is applied afterwards. Placement is checked by the caller.
   */
  append(ns: string, stream: string, records: readonly StreamBatchRecord[], partition: number): StreamId {
    const log = this.ensure(ns, stream);
    const k = log.key;
    if (!log.metaAnnounced) {
      // After the call: announcing it saves its before-image (`saveMeta`, which clears the flag).
      this.changes.meta(k);
      log.metaAnnounced = true;
    }
    this.tick();
    // The last id is below this millisecond's first key exactly when its timestamp is older (no shift).
    const first = log.last === null || log.last < this.tickFirstKey ? this.tickFirstKey : log.last + 1n;
    // An id of this millisecond (the usual case): its sequence is the distance from the
    // millisecond's first key, one subtraction instead of a shift and two masks.
    const sequence = first - this.tickFirstKey;
    const inTick = sequence >= 0n && sequence <= U64_MAX;
    // The storage's key parts: the sequence as a number while every record's fits one (-1: the whole key).
    const ms = this.tickAt;
    const firstSequence = inTick && ms > 0 && sequence <= MAX_SAFE_SEQUENCE ? Number(sequence) : -1;
    // Ids as bigints: the first record's is `first` itself (most appends carry one record).
    let key = first;
    for (let j = 0; j < records.length; j++) {
      if (j > 0) key += 1n;
      const rec = records[j];
      const record = StoredRecord.copyOf(log.arena, key, partition, rec.payload, rec.headers);
      this.changes.newRec(k, key, record, ms, firstSequence < 0 || firstSequence + j > Number.MAX_SAFE_INTEGER ? -1 : firstSequence + j);
      log.records.push(record);
      log.bytes += rec.payload.length;
    }
    log.last = records.length === 0 ? first - 1n : key;
    this.enforce(log);
    return inTick ? { timestampMs: this.tickMs, sequence } : streamIdFromBigInt(first);
  }

  /** Inclusive key just past the last id handed out: where a tail read starts. */
  tailFrom(ns: string, stream: string): bigint {
    const last = this.log(ns, stream)?.last;
    return last === null || last === undefined ? 0n : last + 1n;
  }

  read(ns: string, stream: string, q: ReadQuery): StoredRecord[] {
    const log = this.log(ns, stream);
    if (!log) return [];
    this.enforce(log);
    const out: StoredRecord[] = [];
    for (let i = this.lowerBound(log, q.from); i < log.records.length && out.length < q.count; i++) {
      const r = log.records[i];
      if (q.end !== undefined && r.key > q.end) break;
      if (q.partition !== undefined && r.partition !== q.partition) continue;
      out.push(r);
    }
    return out;
  }

  info(ns: string, stream: string): StreamInfo {
    const log = this.log(ns, stream);
    const zero = { timestampMs: 0n, sequence: 0n };
    if (!log) {
      return { firstId: zero, lastId: zero, count: 0n, bytes: 0n, partitionCount: 1, retentionAgeSeconds: 0n, retentionCount: 0n, retentionBytes: 0n };
    }
    this.enforce(log);
    const live = this.live(log);
    return {
      firstId: live ? log.records[log.head].id : zero,
      lastId: live ? log.records[log.records.length - 1].id : zero,
      count: BigInt(live),
      bytes: BigInt(log.bytes),
      partitionCount: log.partitionCount,
      retentionAgeSeconds: log.retention.ageSeconds,
      retentionCount: log.retention.count,
      retentionBytes: log.retention.bytes,
    };
  }

  /** Removes the union of the bounds (or reports what it would remove on a dry run). */
  trim(ns: string, stream: string, bounds: TrimBounds, dryRun: boolean): StreamTrimReply {
    const log = this.log(ns, stream);
    if (!log) return { removed: 0n, firstSeq: 0n };
    if (!dryRun) this.enforce(log);
    const n = this.prefixFor(log, bounds);
    const firstAfter = log.records[log.head + n];
    if (!dryRun) this.removePrefix(log, n);
    return { removed: BigInt(n), firstSeq: firstAfter ? firstAfter.id.sequence : 0n };
  }

  /** Creates the stream or overwrites its metadata. */
  create(ns: string, stream: string, partitionCount: number, retention: Retention): void {
    const existing = this.log(ns, stream);
    const count = partitionCount || 1;
    if (existing) {
      for (let i = existing.head; i < existing.records.length; i++) {
        if (existing.records[i].partition >= count) throw badRequest(`partition_count ${count} is below an existing record's partition`);
      }
    }
    const log = existing ?? this.ensure(ns, stream);
    this.changes.meta(sk(ns, stream));
    log.partitionCount = count;
    log.retention = retention;
    this.enforce(log);
  }

  /** Changes the non-zero retention settings given; false when the stream does not exist. */
  alter(ns: string, stream: string, retention: Partial<Retention>): boolean {
    const log = this.log(ns, stream);
    if (!log) return false;
    this.changes.meta(sk(ns, stream));
    const r = log.retention;
    log.retention = {
      count: retention.count ? retention.count : r.count,
      ageSeconds: retention.ageSeconds ? retention.ageSeconds : r.ageSeconds,
      bytes: retention.bytes ? retention.bytes : r.bytes,
    };
    this.enforce(log);
    return true;
  }

  /** Names of the namespace in UTF-8 byte order, after `cursor` (exclusive). */
  list(ns: string, limit: number, cursor: Uint8Array): { streams: StreamListEntry[]; hasMore: boolean; cursor: Uint8Array } {
    const prefix = `${ns}\u0000`;
    const names: Array<{ name: string; bytes: Uint8Array; partitionCount: number }> = [];
    for (const [k, log] of this.streams) {
      if (!k.startsWith(prefix)) continue;
      const bytes = utf8(log.name);
      if (cursor.length && compareBytes(bytes, cursor) <= 0) continue;
      names.push({ name: log.name, bytes, partitionCount: log.partitionCount });
    }
    names.sort((a, b) => compareBytes(a.bytes, b.bytes));
    const page = names.slice(0, limit);
    const hasMore = names.length > limit;
    return {
      streams: page.map((n) => ({ name: n.name, partitionCount: n.partitionCount })),
      hasMore,
      cursor: hasMore ? page[page.length - 1].bytes : new Uint8Array(0),
    };
  }

  /**
   * Length of every stream and, per group, its lag (live records past the group's cursor) and
   * pending count (for `/metrics`).
   */
  figures(): Array<{ namespace: string; stream: string; length: number; groups: Array<{ group: string; lag: number; pending: number }> }> {
    const out: Array<{ namespace: string; stream: string; length: number; groups: Array<{ group: string; lag: number; pending: number }> }> = [];
    for (const [k, log] of this.streams) {
      const namespace = k.slice(0, k.indexOf('\u0000'));
      const groups: Array<{ group: string; lag: number; pending: number }> = [];
      for (const g of this.groups.get(k)?.values() ?? []) {
        // Records are in key order: count those past the cursor from the end.
        let lag = 0;
        for (let i = log.records.length - 1; i >= log.head && log.records[i].key > g.cursor; i--) lag++;
        groups.push({ group: g.name, lag, pending: g.pel.size });
      }
      out.push({ namespace, stream: log.name, length: log.records.length - log.head, groups });
    }
    return out;
  }

  /** #24: a missing stream is fine; a non-empty one needs `force` (else CONFLICT); groups go too. */
  delete(ns: string, stream: string, force: boolean): void {
    const k = sk(ns, stream);
    const log = this.streams.get(k);
    if (log) {
      this.enforce(log);
      if (this.live(log) > 0 && !force) throw conflict('stream is not empty (use force)');
      this.changes.meta(k);
      for (let i = log.head; i < log.records.length; i++) this.changes.rec(k, log.records[i].key);
      this.streams.delete(k);
    }
    for (const g of this.groups.get(k)?.values() ?? []) this.forgetGroup(k, g);
    this.groups.delete(k);
  }

  // -------------------------------------------------------------------------------------------
  // consumer groups

  private group(ns: string, stream: string, group: string): GroupState | undefined {
    return this.groups.get(sk(ns, stream))?.get(group);
  }

  private mustGroup(ns: string, stream: string, group: string): GroupState {
    const g = this.group(ns, stream, group);
    if (!g) throw notFound('consumer group not found');
    return g;
  }

  /** Announces the removal of a group and its pending entries. */
  private forgetGroup(k: string, g: GroupState): void {
    this.changes.group(k, g.name);
    for (const key of g.pel.keys()) this.changes.pel(k, g.name, key);
  }

  private newGroup(ns: string, stream: string, group: string, settings: GroupSettings): GroupState {
    const k = sk(ns, stream);
    this.changes.group(k, group);
    let byName = this.groups.get(k);
    if (!byName) this.groups.set(k, (byName = new Map()));
    const g: GroupState = {
      stream: k,
      name: group,
      createdAtMs: this.now(),
      ackTimeoutMs: settings.ackTimeoutMs ?? STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS,
      maxDeliver: settings.maxDeliver ?? STREAM_GROUP_DEFAULT_MAX_DELIVER,
      cursor: NONE,
      members: new Map(),
      pel: new Map(),
      dueFloor: Infinity,
      dead: [],
      deadTotal: 0,
    };
    byName.set(group, g);
    return g;
  }

  private ensureGroup(ns: string, stream: string, group: string): GroupState {
    return this.group(ns, stream, group) ?? this.newGroup(ns, stream, group, {});
  }

  private join(g: GroupState, consumer: string): void {
    this.changes.group(g.stream, g.name);
    const now = this.now();
    const m = g.members.get(consumer);
    if (m) {
      m.leaving = false;
      m.lastActiveAt = now;
    } else g.members.set(consumer, { joinedAt: now, leaving: false, lastActiveAt: now });
  }

  /** Removes leaving members that no longer own a pending entry. */
  private pruneLeaving(g: GroupState): void {
    // Called on every read and ack: nothing allocated unless some member is leaving.
    let anyLeaving = false;
    for (const m of g.members.values()) {
      if (m.leaving) {
        anyLeaving = true;
        break;
      }
    }
    if (!anyLeaving) return;
    const leaving = [...g.members].filter(([, m]) => m.leaving).map(([name]) => name);
    const owners = new Set<string>();
    for (const e of g.pel.values()) owners.add(e.consumer);
    for (const name of leaving) {
      if (owners.has(name)) continue;
      this.changes.group(g.stream, g.name);
      g.members.delete(name);
    }
  }

  private deliver(g: GroupState, e: PelEntry, consumer: string, now: number): void {
    this.changes.pel(g.stream, g.name, e.key);
    e.consumer = consumer;
    e.deliveryCount += 1;
    e.lastDeliveryAt = now;
    e.dueAt = g.ackTimeoutMs > 0 ? now + g.ackTimeoutMs : Infinity;
    e.nacked = false;
    if (e.dueAt < g.dueFloor) g.dueFloor = e.dueAt;
  }

  private markDead(g: GroupState, key: bigint): void {
    this.changes.group(g.stream, g.name);
    this.changes.pel(g.stream, g.name, key);
    g.pel.delete(key);
    g.dead.push(key);
    g.deadTotal += 1;
    if (g.dead.length > DEAD_KEPT) g.dead.shift();
  }

  groupCreate(ns: string, stream: string, group: string, settings: GroupSettings): void {
    if (this.group(ns, stream, group)) throw conflict('consumer group already exists');
    this.newGroup(ns, stream, group, settings);
  }

  /** 0x157: an absent setting stays as it is. */
  groupConfigure(ns: string, stream: string, group: string, settings: GroupSettings): void {
    const g = this.mustGroup(ns, stream, group);
    this.changes.group(g.stream, g.name);
    if (settings.ackTimeoutMs !== undefined) g.ackTimeoutMs = settings.ackTimeoutMs;
    if (settings.maxDeliver !== undefined) g.maxDeliver = settings.maxDeliver;
  }

  /** Creates the group if missing and adds (or re-activates) the member. */
  groupJoin(ns: string, stream: string, group: string, consumer: string): void {
    this.join(this.ensureGroup(ns, stream, group), consumer);
  }

  /** A member owning pending entries stays as "leaving" until they are acked or move on. */
  groupLeave(ns: string, stream: string, group: string, consumer: string): void {
    const g = this.mustGroup(ns, stream, group);
    const m = g.members.get(consumer);
    if (!m) return;
    this.changes.group(g.stream, g.name);
    m.leaving = true;
    this.pruneLeaving(g);
  }

  /**
   * The central rule (#4, #23): up to `count` records, first the pending entries that are
   * due (ack timeout passed, or nacked and their delay passed) in id order, then new records past
   * the group's cursor. A due entry that already had `max_deliver` deliveries is dropped as dead;
   * one whose record was trimmed is dropped. Each record handed out is owned by `consumer`.
   */
  groupRead(ns: string, stream: string, group: string, consumer: string, count: number, noAck = false): StoredRecord[] {
    const g = this.ensureGroup(ns, stream, group);
    this.join(g, consumer);
    const log = this.log(ns, stream);
    if (log) this.enforce(log);
    const now = this.now();
    const out: StoredRecord[] = [];
    if (g.pel.size > 0 && g.dueFloor <= now) {
      // Some entry may be due: walk the list (deleting the visited entry of a Map is safe) and
      // learn the new floor from the entries seen; one not seen may be due, so a walk cut short
      // leaves the floor at most `now`.
      let floor = Infinity;
      let seenAll = true;
      for (const e of g.pel.values()) {
        if (out.length >= count) {
          seenAll = false;
          break;
        }
        if (e.dueAt > now) {
          if (e.dueAt < floor) floor = e.dueAt;
          continue;
        }
        const rec = this.find(log, e.key);
        if (!rec) {
          this.changes.pel(g.stream, g.name, e.key);
          g.pel.delete(e.key);
          continue;
        }
        if (g.maxDeliver > 0 && e.deliveryCount >= g.maxDeliver) {
          this.markDead(g, e.key);
          continue;
        }
        this.deliver(g, e, consumer, now);
        if (e.dueAt < floor) floor = e.dueAt;
        out.push(rec);
      }
      g.dueFloor = seenAll ? floor : Math.min(floor, now);
    }
    if (log && out.length < count) {
      // New records: each moves the cursor (the group announced changed once per read, not per
      // record) and, unless no-ack, gets a pending entry made as `deliver` leaves it (first
      // delivery, due after the ack timeout).
      this.changes.group(g.stream, g.name);
      const dueAt = g.ackTimeoutMs > 0 ? now + g.ackTimeoutMs : Infinity;
      for (let i = this.lowerBound(log, g.cursor + 1n); i < log.records.length && out.length < count; i++) {
        const rec = log.records[i];
        g.cursor = rec.key;
        if (!noAck) {
          this.changes.pel(g.stream, g.name, rec.key);
          g.pel.set(rec.key, { key: rec.key, consumer, deliveryCount: 1, lastDeliveryAt: now, dueAt, nacked: false });
          if (dueAt < g.dueFloor) g.dueFloor = dueAt;
        }
        out.push(rec);
      }
    }
    this.pruneLeaving(g);
    return out;
  }

  /** The earliest time a pending entry of the group comes due, if any (for parked readers). */
  nextDueAt(ns: string, stream: string, group: string): number | undefined {
    const g = this.group(ns, stream, group);
    if (!g) return undefined;
    let min = Infinity;
    for (const e of g.pel.values()) if (e.dueAt < min) min = e.dueAt;
    return Number.isFinite(min) ? min : undefined;
  }

  /** Removes the listed ids from the pending list, whoever owns them; unknown ids are ignored. */
  groupAck(ns: string, stream: string, group: string, ids: readonly StreamId[]): number {
    const g = this.mustGroup(ns, stream, group);
    let n = 0;
    for (const id of ids) {
      const key = streamIdToBigInt(id);
      if (!g.pel.delete(key)) continue; // one lookup: unknown ids are ignored
      this.changes.pel(g.stream, g.name, key);
      n++;
    }
    this.pruneLeaving(g);
    return n;
  }

  /** Marks pending ids due at now + delay (#23); the delivery is counted when redelivered. */
  groupNack(ns: string, stream: string, group: string, ids: readonly StreamId[], delayMs: number): number {
    const g = this.mustGroup(ns, stream, group);
    const now = this.now();
    let n = 0;
    for (const id of ids) {
      const e = g.pel.get(streamIdToBigInt(id));
      if (!e) continue;
      this.changes.pel(g.stream, g.name, e.key);
      e.dueAt = now + delayMs;
      e.nacked = true;
      if (e.dueAt < g.dueFloor) g.dueFloor = e.dueAt;
      n++;
    }
    return n;
  }

  /** New deadline = now + (extend, else the ack timeout); returns how many were pending. */
  groupTouch(ns: string, stream: string, group: string, ids: readonly StreamId[], extendMs: number | undefined): number {
    const g = this.mustGroup(ns, stream, group);
    const now = this.now();
    const span = extendMs ?? g.ackTimeoutMs;
    let n = 0;
    for (const id of ids) {
      const e = g.pel.get(streamIdToBigInt(id));
      if (!e) continue;
      this.changes.pel(g.stream, g.name, e.key);
      e.dueAt = span > 0 ? now + span : Infinity;
      e.nacked = false;
      if (e.dueAt < g.dueFloor) g.dueFloor = e.dueAt;
      e.lastDeliveryAt = now;
      n++;
    }
    return n;
  }

  /**
   * Walks the pending list from `start` (inclusive) in id order and takes entries idle at least
   * `minIdleMs` for `consumer` (delivery counted). Entries whose record is gone are dropped and not
   * returned. Returns the records and where to continue (`MAX_STREAM_ID` when fully scanned).
   */
  groupClaim(
    ns: string,
    stream: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    start: StreamId,
    count: number,
  ): { records: StoredRecord[]; next: StreamId } {
    const g = this.mustGroup(ns, stream, group);
    this.join(g, consumer);
    const log = this.log(ns, stream);
    if (log) this.enforce(log);
    const now = this.now();
    const from = streamIdToBigInt(start);
    const out: StoredRecord[] = [];
    let next: StreamId = MAX_STREAM_ID;
    for (const e of [...g.pel.values()]) {
      if (e.key < from) continue;
      if (out.length >= count) {
        next = streamIdFromBigInt(e.key);
        break;
      }
      if (now - e.lastDeliveryAt < minIdleMs) continue;
      const rec = this.find(log, e.key);
      if (!rec) {
        this.changes.pel(g.stream, g.name, e.key);
        g.pel.delete(e.key);
        continue;
      }
      this.deliver(g, e, consumer, now);
      out.push(rec);
    }
    this.pruneLeaving(g);
    return { records: out, next };
  }

  groupPending(ns: string, stream: string, group: string, consumer: string | undefined, limit: number): StreamPendingEntry[] {
    const g = this.mustGroup(ns, stream, group);
    const out: StreamPendingEntry[] = [];
    for (const e of g.pel.values()) {
      if (out.length >= limit) break;
      if (consumer !== undefined && e.consumer !== consumer) continue;
      out.push({ id: streamIdFromBigInt(e.key), deliveryCount: e.deliveryCount, consumer: e.consumer });
    }
    return out;
  }

  groupInfo(ns: string, stream: string, group: string): { pendingCount: bigint; memberCount: number; createdAtNs: bigint } {
    const g = this.mustGroup(ns, stream, group);
    return { pendingCount: BigInt(g.pel.size), memberCount: g.members.size, createdAtNs: BigInt(g.createdAtMs) * 1_000_000n };
  }

  groupDelete(ns: string, stream: string, group: string): void {
    const k = sk(ns, stream);
    const g = this.groups.get(k)?.get(group);
    if (!g) throw notFound('consumer group not found');
    this.forgetGroup(k, g);
    this.groups.get(k)!.delete(group);
  }

  /** Internal state of a group, for tests and diagnostics. */
  groupSnapshot(ns: string, stream: string, group: string): GroupSnapshot | undefined {
    const g = this.group(ns, stream, group);
    if (!g) return undefined;
    return {
      cursor: g.cursor,
      pending: [...g.pel.values()].map((e) => ({ key: e.key, consumer: e.consumer, deliveryCount: e.deliveryCount, dueAt: e.dueAt, nacked: e.nacked })),
      members: [...g.members].map(([name, m]) => ({ name, leaving: m.leaving })),
      dead: [...g.dead],
      deadTotal: g.deadTotal,
      ackTimeoutMs: g.ackTimeoutMs,
      maxDeliver: g.maxDeliver,
    };
  }
}
