/**
 * The KV state machine of the embedded server (`docs/protocol-decisions.md` #15-#20).
 * Pure and clock-driven: no sockets, no timers; time comes from the injected `Clock`. Errors are
 * thrown as the `ServerError`s the handler answers with (`src/server/reply.ts`).
 *
 * Keys are held as "byte strings" (one UTF-16 unit per byte) so that string order is byte order.
 */
import { EMPTY, utf8 } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { ABSENT, entityKeyWithId, NO_CHANGE_LOG, REMOVED, type Persistence, type WillChange } from '../storage/types.js';
import { badRequest, conflict, notFound, unauthorized } from '../reply.js';
import { byteString, fromByteString } from './byte-string.js';
import { VersionRing, type VersionState } from './version-ring.js';
import { jsonRemove, jsonReplace, jsonSelect, parseJson, parseJsonPath, stringifyJson, type PathSegment } from './json-path.js';

export { byteString, fromByteString } from './byte-string.js';

/** Flo's qualified-key limit: `namespace ‖ 0x00 ‖ key` (bare key in the default namespace). */
export const KV_MAX_QUALIFIED_KEY = 4096;
/** Flo's KV entry limit (SRV-A `MAX_ENTRY_PAYLOAD`): qualified key + value + 10 ≤ 256 KiB + 64. */
export const KV_MAX_ENTRY_PAYLOAD = 256 * 1024 + 64;
export const KV_ENTRY_OVERHEAD = 10;
/** Older versions kept per key (history answers at most this + 1 entries). */
export const KV_HISTORY_DEPTH = 64;
export const KV_SCAN_DEFAULT_LIMIT = 1024;
export const KV_MAX_TXN_OPS = 256;
export const KV_MAX_TXN_BYTES = 1024 * 1024;
export const KV_MAX_OPEN_TXNS = 1024;
export const KV_RESERVED_PREFIXES = ['_action:', '_worker:', '_sys:', '_internal:', '_flo:'] as const;

export const KvMessages = {
  keyRequired: 'key is required',
  keyTooLarge: 'namespace + key too large',
  keyNul: 'key must not contain NUL',
  reserved: 'access to reserved key denied',
  valueTooLarge: `value too large (key + value must not exceed ${KV_MAX_ENTRY_PAYLOAD - KV_ENTRY_OVERHEAD} bytes)`,
  notCounter: 'value is not a counter',
  incrOverflow: 'incr: increment would overflow a 64-bit signed counter',
  badJson: 'invalid json path or document',
  badJsonDocument: 'invalid json document',
  txnIdMustBeU64: 'txn_id option must be u64',
  txnNotFound: 'transaction not found',
  txnPartition: 'key hashes to a different partition than the transaction',
  txnLimit: 'transaction op or payload limit exceeded',
  txnTooMany: 'too many open transactions',
  txnUnsupported: 'operation not supported in a transaction',
  beginNoKey: 'BEGIN: routing key required (use --routing-key or supply key)',
  commitNoId: 'COMMIT: txn_id required',
  rollbackNoId: 'ROLLBACK: txn_id required',
} as const;

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const RESERVED = KV_RESERVED_PREFIXES.map((p) => utf8(p));

/** Values up to this size are copied into a shared pool (as Node pools small Buffers). */
const POOLED_MAX = 1024;
const POOL_SIZE = 8 * 1024;
let pool = new ArrayBuffer(0);
let poolBytes = new Uint8Array(pool);
let poolAt = 0;

/** Makes room for `n` pooled bytes (a new pool when the current one is full); returns where they go. */
function poolPlace(n: number): number {
  if (pool.byteLength - poolAt < n) {
    pool = new ArrayBuffer(POOL_SIZE);
    poolBytes = new Uint8Array(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt = (poolAt + n + 7) & ~7;
  return at;
}

/**
 * A private copy of bytes the store keeps. Request bytes are views into the connection's read
 * buffer (and `Buffer#slice` does not copy): keeping them would pin that buffer. Small values are
 * copied into an 8 KiB pool (a view object, no buffer of their own: a third of the CPU of a
 * separate copy), larger ones get their own.
 */
export function ownBytes(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n === 0) return EMPTY;
  if (n > POOLED_MAX) return new Uint8Array(b);
  const at = poolPlace(n);
  poolBytes.set(b, at);
  return new Uint8Array(pool, at, n);
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

export function isReservedKey(key: Uint8Array): boolean {
  if (key[0] !== 0x5f) return false; // every reserved prefix starts with '_'
  for (const p of RESERVED) if (startsWith(key, p)) return true;
  return false;
}

const isDefaultNs = (ns: string) => ns === '' || ns === 'default';
const nsId = (ns: string) => (isDefaultNs(ns) ? 'default' : ns);

/** UTF-8 lengths of the namespaces seen (a handful): remembered, since every operation needs one. */
const NAMESPACE_LENGTHS = new Map<string, number>();
const NAMESPACE_LENGTHS_KEPT = 256;

/** The namespace last asked for and its length: requests repeat their namespace (a put asks twice). */
let lastNamespace = '';
let lastNamespaceLength = 0;

/** The UTF-8 length of a namespace name. */
function namespaceByteLength(ns: string): number {
  if (ns === lastNamespace) return lastNamespaceLength;
  let n = NAMESPACE_LENGTHS.get(ns);
  if (n === undefined) {
    n = utf8(ns).length;
    if (NAMESPACE_LENGTHS.size >= NAMESPACE_LENGTHS_KEPT) NAMESPACE_LENGTHS.clear();
    NAMESPACE_LENGTHS.set(ns, n);
  }
  lastNamespace = ns;
  lastNamespaceLength = n;
  return n;
}

/** Whether `key` holds a NUL byte: a loop for short keys (most), where `includes`' call cost more than the scan. */
function hasNul(key: Uint8Array): boolean {
  if (key.length > 32) return key.includes(0);
  for (let i = 0; i < key.length; i++) if (key[i] === 0) return true;
  return false;
}

/** Length of `namespace ‖ 0x00 ‖ key` as Flo stores it (bare key in the default namespace). */
export function qualifiedKeyLength(ns: string, key: Uint8Array): number {
  return isDefaultNs(ns) ? key.length : namespaceByteLength(ns) + 1 + key.length;
}

/** Redis-style hash tag: the text between the first `{` and the next `}` (may be empty); else the key. */
export function hashTag(key: Uint8Array): Uint8Array {
  const open = key.indexOf(0x7b);
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1);
  return close < 0 ? key : key.subarray(open + 1, close);
}

/** Stable 64-bit placement hash (FNV-1a; Flo uses wyhash: a documented difference). */
export function placementHash(namespace: Uint8Array, routingKey: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  const step = (b: number) => {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  };
  for (const b of namespace) step(b);
  step(0);
  for (const b of hashTag(routingKey)) step(b);
  return h;
}

/** A key's value and version as the hot reads answer them: the version as a number (exact to 2^53). */
export interface CurrentValue {
  readonly versionNo: number;
  readonly value: Uint8Array;
}

/**
 * A key's current version (and its older ones). Kept so that a put makes no object that lives as
 * long as the version: its version is a number (not a BigInt), its value is where its bytes are
 * (`buffer`, `offset`, `length`: a pool shared by many values), and a view of them is made when
 * the value is read (and kept until the next write).
 */
class Entry implements CurrentValue {
  buffer: ArrayBufferLike = EMPTY.buffer;
  offset = 0;
  length = 0;
  private view: Uint8Array | undefined = EMPTY;

  constructor(
    value: Uint8Array,
    public versionNo: number,
    public deleted: boolean,
    /** Absolute expiry on the server clock (ms); undefined = permanent. */
    public expiresAtMs: number | undefined,
    public timestampNs: bigint,
    /** Older versions, newest first, at most the store's history depth (KV_HISTORY_DEPTH by default). */
    public older: VersionRing,
    /** With a data directory: its entity key (`ns\0key`), built once (and its hash computed once). */
    public entity: string | undefined,
  ) {
    this.value = value;
  }

  get value(): Uint8Array {
    return (this.view ??= new Uint8Array(this.buffer, this.offset, this.length));
  }

  /**
   * The value for the log: the view if one was made, else a new one not kept, so that it dies with
   * the turn's commit (kept, it would live as long as the version is current, long enough on a
   * server with many keys to be promoted and collected again).
   */
  get valueForLog(): Uint8Array {
    return this.view ?? new Uint8Array(this.buffer, this.offset, this.length);
  }

  /** Keeps `v` itself as the value (bytes the store owns). */
  set value(v: Uint8Array) {
    this.buffer = v.buffer;
    this.offset = v.byteOffset;
    this.length = v.length;
    this.view = v;
  }

  /** Takes a private copy of `b` as the value: into the pool when small, with no view made. */
  copyValue(b: Uint8Array): void {
    const n = b.length;
    if (n === 0 || n > POOLED_MAX) {
      this.value = ownBytes(b);
      return;
    }
    const at = poolPlace(n);
    poolBytes.set(b, at);
    this.buffer = pool;
    this.offset = at;
    this.length = n;
    this.view = undefined;
  }

  get version(): bigint {
    return BigInt(this.versionNo);
  }
}

export interface KvValue {
  readonly version: bigint;
  readonly value: Uint8Array;
}

export interface PutConditions {
  readonly ttlSeconds?: bigint;
  readonly casVersion?: bigint;
  readonly ifNotExists?: boolean;
  readonly ifExists?: boolean;
}

export interface ScanPage {
  readonly entries: Array<{ key: Uint8Array; value: Uint8Array }>;
  readonly hasMore: boolean;
  readonly cursor?: Uint8Array;
}

export interface HistoryItem {
  readonly version: bigint;
  readonly timestampNs: bigint;
  readonly value: Uint8Array;
}

export type TxnOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array; readonly ttlSeconds?: bigint }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'incr'; readonly key: string; readonly delta: bigint }
  | { readonly kind: 'touch'; readonly key: string; readonly ttlSeconds: bigint }
  | { readonly kind: 'persist'; readonly key: string };

interface Txn {
  readonly id: bigint;
  readonly ns: string;
  readonly pinnedHash: bigint;
  readonly ops: TxnOp[];
  bytes: number;
}

/** Identifies a transaction on a request: its id plus what the partition guard hashes. */
export interface TxnUse {
  readonly txnId: bigint;
  /** Namespace bytes as sent (the placement hash covers them). */
  readonly nsBytes: Uint8Array;
  /** Option 0x08 when present, else the request key. */
  readonly routingKey: Uint8Array;
}

export interface KvStoreOptions {
  /** Called after every change of a key's version (put, incr, delete, json set/del, commit). */
  readonly onChange?: (ns: string, key: string) => void;
  /**
   * With a data directory: each kept version of an entry, the current one included, is an entity of
   * table `kv.version` (log format 4), written once when the version is made: a put logs its value
   * once, and the version it replaces stays on disk as it was logged. Data directories of formats
   * 1-3 (table `kv` for entries, `kv.old` for older versions) load, and are rewritten at start.
   */
  readonly persistence?: Persistence;
  /** Older versions kept per key besides the current one. Default 64 (Flo's). */
  readonly historyDepth?: number;
}

/**
 * A version as stored (format 4, table `kv.version`, entity `ns\0key\0versionHex`): what it was
 * when it was current. `[value, timestampNs]` for a live permanent version, else
 * `[value, timestampNs, deleted, expiresAtMs | null]`. An entry is its stored versions: the newest
 * is current, the others its history.
 */
type StoredVersion = [value: Uint8Array, timestampNs: bigint] | [value: Uint8Array, timestampNs: bigint, deleted: boolean, expiresAtMs: number | null];

/** A version on its way from or to the log. */
interface HeldVersion {
  readonly version: bigint;
  readonly value: Uint8Array;
  readonly timestampNs: bigint;
  readonly state: VersionState;
}

/**
 * Formats 1-3: an entry (table `kv`) as stored, its older versions being `kv.old` entities
 * (`StoredKvVersion`). Read at start, then rewritten as `kv.version` entities.
 */
type StoredKvEntry = [value: Uint8Array, version: bigint, deleted: boolean, expiresAtMs: number | null, timestampNs: bigint];

/** Formats 1 and 2 also hold entries in an object form. */
interface LegacyStoredKvEntry {
  readonly value: Uint8Array;
  readonly version: bigint;
  readonly deleted: boolean;
  readonly expiresAtMs: number | null;
  readonly timestampNs: bigint;
}

/** Formats 1-3: an older version as stored (table `kv.old`): [value, timestampNs]. */
type StoredKvVersion = [Uint8Array, bigint];

const fromLegacy = (v: LegacyStoredKvEntry): StoredKvEntry => [v.value, v.version, v.deleted, v.expiresAtMs, v.timestampNs];

const storedState = (deleted: boolean, expiresAtMs: number | undefined): VersionState => (deleted ? true : expiresAtMs);

/** A version's stored form from its parts. */
const storedVersion = (value: Uint8Array, timestampNs: bigint, state: VersionState): StoredVersion =>
  state === undefined ? [value, timestampNs] : [value, timestampNs, state === true, state === true ? null : state];

/** The stored form of an entry's current version. */
const storedCurrent = (e: Entry): StoredVersion => storedVersion(e.value, e.timestampNs, storedState(e.deleted, e.expiresAtMs));

/** The stored form of the `i`-th newest older version of an entry. */
function storedOlder(older: VersionRing, i: number): StoredVersion {
  return storedVersion(older.valueAt(i), older.timestampAt(i), older.stateAt(i));
}

function heldFromStored(version: bigint, s: StoredVersion): HeldVersion {
  const state: VersionState = s.length > 2 ? (s[2] ? true : (s[3] ?? undefined)) : undefined;
  return { version, value: s[0], timestampNs: s[1], state };
}

const entityKey = (ns: string, key: string) => `${ns}\u0000${key}`;
/**
 * The `kv.version` (or, in formats 1-3, `kv.old`) entity of one version, from the entry's entity key.
 * On the write path it is given to the storage in these parts (`willChangeVersion(entity, ..., version)`).
 */
const versionEntityOf = (entity: string, version: bigint | number): string => entityKeyWithId(entity, version);

/** The entry's entity key and the version of a version entity (the inverse of `versionEntityOf`). */
function splitVersionEntity(ve: string): [entity: string, version: bigint] {
  const at = ve.lastIndexOf('\u0000');
  return [ve.slice(0, at), BigInt(`0x${ve.slice(at + 1)}`)];
}

export class KvStore {
  private readonly spaces = new Map<string, Map<string, Entry>>();
  /** The namespace last asked for (as given) and its space: spaces are never removed. */
  private lastSpaceName: string | undefined;
  private lastSpace: Map<string, Entry> | undefined;
  /** The clock's last millisecond and it in nanoseconds (`nowNs`). */
  private lastNowMs = Number.NaN;
  private lastNowNs = 0n;
  private readonly txns = new Map<bigint, Txn>();
  private nextTxnId = 1n;
  /** Writes counted (the commit index): a number, so a put allocates no BigInt for it (exact to 2^53). */
  private index = 0;
  /**
   * `kv.index` announced since its last save or load: once per turn is enough (the commit saves
   * it), so the other writes of the turn skip the call. Cleared by `save` (the commit) and `load`
   * (a rollback). Without a data directory set once and for all.
   */
  private indexAnnounced = false;
  /** Announces a change of one version of an entry (`ns\0key\0versionHex`) to the storage layer, before it is made. */
  private readonly willChangeVersion: WillChange;
  private readonly willChangeIndex: WillChange;
  /** Formats 1-3: their entries (`kv`) and older versions (`kv.old`), announced only to remove them. */
  private readonly willChangeLegacyEntry: WillChange;
  private readonly willChangeLegacyVersion: WillChange;
  /**
   * With a data directory: writes hand the storage their entry's before-image (no `saveEntry`
   * lookup). Without one the change announcements are no-ops, skipped before their keys are built.
   */
  private readonly persisted: boolean;
  /** `kv.version` entities loaded (or removed: undefined) since the last `loaded()`, by entry: version, stored form, ... */
  private readonly stagedVersions = new Map<string, Array<bigint | StoredVersion | undefined>>();
  /** Formats 1-3: `kv.old` entities loaded since the last `loaded()`, by entry. */
  private readonly stagedLegacyVersions = new Map<string, Map<bigint, HeldVersion | undefined>>();
  /** Formats 1-3: what was loaded from them at start (entity keys and stored forms), to rewrite in format 4. */
  private readonly legacyEntries = new Map<string, StoredKvEntry>();
  private readonly legacyVersions = new Map<string, StoredKvVersion>();
  /** Set once the first `loaded()` (the start-up's) has run: later loads are rollbacks. */
  private started = false;
  /**
   * Versions changed this turn (a TTL changed), by entity key, until the commit saves them: the
   * entry (the version is its current one, or found in its history when a later write this turn
   * replaced it, or gone: dropped since), so `save` needs no parsing of the entity key and no lookups by its
   * parts. New and dropped versions are logged as announced and are not here. Cleared on a rollback or load.
   */
  private readonly unsavedVersions = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly options: KvStoreOptions = {},
  ) {
    const p = options.persistence;
    this.persisted = p !== undefined;
    // Registered in this order, so that at start the legacy tables are attached before `kv.version`'s `loaded()` rewrites them.
    this.willChangeLegacyEntry = p
      ? p.table({ name: 'kv', save: () => undefined, load: (k, v) => this.loadLegacyEntry(k, v) })
      : NO_CHANGE_LOG;
    this.willChangeIndex = p
      ? p.table({ name: 'kv.index', save: () => this.saveIndex(), load: (_k, v) => this.loadIndex(v) })
      : NO_CHANGE_LOG;
    this.willChangeLegacyVersion = p
      ? p.table({ name: 'kv.old', save: () => undefined, load: (k, v) => this.loadLegacyVersion(k, v), loaded: () => this.attachLegacyVersions() })
      : NO_CHANGE_LOG;
    this.willChangeVersion = p
      ? p.table({ name: 'kv.version', save: (k) => this.saveVersion(k), load: (k, v) => this.stageVersion(k, v), loaded: () => this.attachVersions() })
      : NO_CHANGE_LOG;
  }

  /** Older versions kept per key besides the current one. */
  private get historyDepth(): number {
    return this.options.historyDepth ?? KV_HISTORY_DEPTH;
  }

  // ----- persistence -------------------------------------------------------------------------

  private splitEntity(entity: string): [string, string] {
    const at = entity.indexOf('\u0000');
    return [entity.slice(0, at), entity.slice(at + 1)];
  }

  private splitVersion(ve: string): [string, string, bigint] {
    const [entity, version] = splitVersionEntity(ve);
    const [ns, key] = this.splitEntity(entity);
    return [ns, key, version];
  }

  private saveIndex(): bigint {
    this.indexAnnounced = false;
    return BigInt(this.index);
  }

  private loadIndex(stored: unknown): void {
    this.indexAnnounced = false;
    this.index = typeof stored === 'bigint' ? Number(stored) : 0;
  }

  /** A `kv.version` entity's stored form: from the entry written this turn, else found by its key. */
  private saveVersion(ve: string): StoredVersion | undefined {
    const written = this.unsavedVersions.get(ve);
    const [entity, version] = splitVersionEntity(ve);
    let e: Entry | undefined;
    if (written !== undefined) {
      this.unsavedVersions.delete(ve);
      e = written; // its current version, or one a later write this turn replaced (in its history, or dropped)
    } else {
      const [ns, key] = this.splitEntity(entity);
      e = this.spaces.get(ns)?.get(key);
      if (!e) return undefined;
    }
    if (version === BigInt(e.versionNo)) return storedCurrent(e);
    const i = e.older.indexOf(version);
    return i < 0 ? undefined : storedOlder(e.older, i);
  }

  /**
   * Announces a new current version of `e` (already updated to it): a new `kv.version` entity,
   * logged in its stored form as it is now (a TTL change later this turn announces it again).
   */
  private announceVersion(e: Entry, entity: string): void {
    // A live permanent version (the common case) is given as the parts of its pair: no tuple per put.
    if (!e.deleted && e.expiresAtMs === undefined) this.willChangeVersion(entity, ABSENT, e.valueForLog, e.versionNo, e.timestampNs);
    else this.willChangeVersion(entity, ABSENT, storedCurrent(e), e.versionNo);
  }

  /** Announces a change of `e`'s current version in place (its TTL): its entity is written again. */
  private willChangeCurrent(e: Entry, ns: string, key: string): void {
    if (!this.persisted) return;
    const entity = e.entity ?? (e.entity = entityKey(nsId(ns), key));
    const ve = versionEntityOf(entity, e.versionNo);
    this.willChangeVersion(ve, storedCurrent(e));
    this.unsavedVersions.set(ve, e);
  }

  /** Announces the removal of a version entity (before: its stored form, for a rollback). */
  private willDropVersion(entity: string, version: bigint | number, before: StoredVersion): void {
    // Versions only grow: a dropped version's entity is never written again, so it is logged as a removal as announced.
    this.willChangeVersion(entity, before, REMOVED, version);
  }

  private stageVersion(ve: string, stored: unknown): void {
    this.unsavedVersions.delete(ve);
    const [entity, version] = splitVersionEntity(ve);
    let staged = this.stagedVersions.get(entity);
    if (!staged) this.stagedVersions.set(entity, (staged = []));
    staged.push(version, stored as StoredVersion | undefined);
  }

  /**
   * Rebuilds the entries whose versions were loaded (or removed): the newest version is current,
   * the others (at most the history depth) its history; an entry left without versions is removed.
   * At start, then rewrites what formats 1-3 stored (`kv`, `kv.old`) as `kv.version` entities.
   */
  private attachVersions(): void {
    this.unsavedVersions.clear();
    const depth = this.historyDepth;
    for (const [entity, staged] of this.stagedVersions) {
      const [ns, key] = this.splitEntity(entity);
      const space = this.space(ns, true)!;
      const e = space.get(key);
      let versions: HeldVersion[];
      if (e === undefined && staged.length === 2) {
        // The usual case at start: a key written once since the last snapshot (or with one version kept).
        const stored = staged[1] as StoredVersion | undefined;
        if (stored === undefined) continue;
        versions = [heldFromStored(staged[0] as bigint, stored)];
      } else {
        const byVersion = new Map<bigint, HeldVersion>();
        if (e) {
          byVersion.set(e.version, { version: e.version, value: e.value, timestampNs: e.timestampNs, state: storedState(e.deleted, e.expiresAtMs) });
          for (let i = 0; i < e.older.length; i++) {
            const v = e.older.at(i);
            byVersion.set(v.version, { ...v, state: e.older.stateAt(i) });
          }
        }
        for (let i = 0; i < staged.length; i += 2) {
          const version = staged[i] as bigint;
          const stored = staged[i + 1] as StoredVersion | undefined;
          if (stored === undefined) byVersion.delete(version);
          else byVersion.set(version, heldFromStored(version, stored));
        }
        versions = [...byVersion.values()].sort((a, b) => (a.version > b.version ? -1 : a.version < b.version ? 1 : 0));
      }
      if (versions.length === 0) {
        space.delete(key);
        continue;
      }
      // Versions beyond the bound (kept under a larger bound before a restart) are dropped for good.
      for (let i = depth + 1; i < versions.length; i++) {
        const v = versions[i];
        this.willDropVersion(entity, v.version, storedVersion(v.value, v.timestampNs, v.state));
      }
      space.set(key, this.entryOf(versions, entity));
    }
    this.stagedVersions.clear();
    if (!this.started) {
      this.started = true;
      this.rewriteLegacy();
    }
    this.legacyEntries.clear();
    this.legacyVersions.clear();
  }

  /** An entry from its versions, newest first (the first current, the rest its history). */
  private entryOf(versions: readonly HeldVersion[], entity: string): Entry {
    const current = versions[0];
    const state = current.state;
    const older = VersionRing.from(versions.slice(1), this.historyDepth);
    return new Entry(current.value, Number(current.version), state === true, typeof state === 'number' ? state : undefined, current.timestampNs, older, entity);
  }

  /**
   * Formats 1-3 at start: every entry they stored is written again as `kv.version` entities (its
   * current version and its history) and their `kv` and `kv.old` entities are removed, in the
   * first commit. The before-images given are the stored forms themselves, so that a failed write
   * loads back the same state.
   */
  private rewriteLegacy(): void {
    for (const [entity, stored] of this.legacyEntries) {
      const [ns, key] = this.splitEntity(entity);
      const e = this.spaces.get(ns)?.get(key);
      this.willChangeLegacyEntry(entity, stored);
      if (!e) continue;
      this.willChangeVersion(versionEntityOf(entity, e.version), storedCurrent(e));
      for (let i = 0; i < e.older.length; i++) this.willChangeVersion(versionEntityOf(entity, e.older.versionAt(i)), storedOlder(e.older, i));
    }
    for (const [ve, stored] of this.legacyVersions) this.willChangeLegacyVersion(ve, stored);
  }

  /** Formats 1-3: an entry of table `kv` (its history comes from `kv.old`). */
  private loadLegacyEntry(entity: string, stored: unknown): void {
    const [ns, key] = this.splitEntity(entity);
    if (stored === undefined) {
      this.spaces.get(ns)?.delete(key);
      return;
    }
    const tuple = Array.isArray(stored) ? (stored as StoredKvEntry) : fromLegacy(stored as LegacyStoredKvEntry);
    if (!this.started) this.legacyEntries.set(entity, tuple);
    const [value, version, deleted, expiresAtMs, timestampNs] = tuple;
    const space = this.space(ns, true)!;
    const older = space.get(key)?.older ?? new VersionRing(this.historyDepth);
    space.set(key, new Entry(value, Number(version), deleted, expiresAtMs ?? undefined, timestampNs, older, entity));
  }

  /** Formats 1-3: an older version of table `kv.old`. */
  private loadLegacyVersion(ve: string, stored: unknown): void {
    const [ns, key, version] = this.splitVersion(ve);
    const id = entityKey(ns, key);
    let staged = this.stagedLegacyVersions.get(id);
    if (!staged) this.stagedLegacyVersions.set(id, (staged = new Map()));
    const v = stored as StoredKvVersion | undefined;
    if (v && !this.started) this.legacyVersions.set(ve, v);
    staged.set(version, v ? { version, value: v[0], timestampNs: v[1], state: undefined } : undefined);
  }

  /** Formats 1-3: puts the loaded older versions into their entries, newest first. */
  private attachLegacyVersions(): void {
    for (const [id, staged] of this.stagedLegacyVersions) {
      const [ns, key] = this.splitEntity(id);
      const e = this.spaces.get(ns)?.get(key);
      if (!e) continue;
      const byVersion = new Map<bigint, HeldVersion>();
      for (let i = 0; i < e.older.length; i++) byVersion.set(e.older.at(i).version, { ...e.older.at(i), state: e.older.stateAt(i) });
      for (const [version, old] of staged) {
        if (old) byVersion.set(version, old);
        else byVersion.delete(version);
      }
      const sorted = [...byVersion.values()].sort((a, b) => (a.version > b.version ? -1 : a.version < b.version ? 1 : 0));
      e.older = VersionRing.from(sorted, this.historyDepth);
    }
    this.stagedLegacyVersions.clear();
  }

  // ----- internals -------------------------------------------------------------------------

  private space(ns: string, create: boolean): Map<string, Entry> | undefined {
    // Requests repeat their namespace (the dispatcher hands over the same string): remembered.
    if (ns === this.lastSpaceName) return this.lastSpace;
    const id = nsId(ns);
    let m = this.spaces.get(id);
    if (!m && create) this.spaces.set(id, (m = new Map()));
    if (m) {
      this.lastSpaceName = ns;
      this.lastSpace = m;
    }
    return m;
  }

  private entry(ns: string, key: string): Entry | undefined {
    return this.space(ns, false)?.get(key);
  }

  private live(e: Entry | undefined): e is Entry {
    return !!e && !e.deleted && (e.expiresAtMs === undefined || this.clock.now() < e.expiresAtMs);
  }

  private liveEntry(ns: string, key: string): Entry | undefined {
    const e = this.entry(ns, key);
    return this.live(e) ? e : undefined;
  }

  private nowNs(): bigint {
    // Writes within one millisecond share the timestamp: no BigInt arithmetic per write.
    const ms = Math.trunc(this.clock.now());
    if (ms !== this.lastNowMs) {
      this.lastNowMs = ms;
      this.lastNowNs = BigInt(ms) * 1_000_000n;
    }
    return this.lastNowNs;
  }

  private expiry(ttlSeconds: bigint | undefined): number | undefined {
    if (ttlSeconds === undefined || ttlSeconds === 0n) return undefined;
    return this.clock.now() + Number(ttlSeconds) * 1000;
  }

  /** Validates a key; returns its byte string. `reserved` = refuse reserved prefixes (status 7). */
  checkKey(ns: string, key: Uint8Array, reserved = true): string {
    if (key.length === 0) throw badRequest(KvMessages.keyRequired);
    if (qualifiedKeyLength(ns, key) > KV_MAX_QUALIFIED_KEY) throw badRequest(KvMessages.keyTooLarge);
    if (hasNul(key)) throw badRequest(KvMessages.keyNul);
    if (reserved && isReservedKey(key)) throw unauthorized(KvMessages.reserved);
    return byteString(key);
  }

  private checkSize(ns: string, key: string, value: Uint8Array): void {
    const qlen = isDefaultNs(ns) ? key.length : namespaceByteLength(ns) + 1 + key.length;
    if (qlen + value.length + KV_ENTRY_OVERHEAD > KV_MAX_ENTRY_PAYLOAD) throw badRequest(KvMessages.valueTooLarge);
  }

  /** Writes a new version (or a tombstone) of bytes the store owns, and notifies. */
  private write(ns: string, key: string, value: Uint8Array, expiresAtMs: number | undefined, deleted = false): bigint {
    const space = this.space(ns, true)!;
    return BigInt(this.writeEntry(space, space.get(key), ns, key, value, false, expiresAtMs, deleted));
  }

  /**
   * `write` with the key's space and its entry (undefined: none) already looked up; `copy`: the
   * value is request bytes, copied into the store. Returns the new version.
   */
  private writeEntry(
    space: Map<string, Entry>,
    e: Entry | undefined,
    ns: string,
    key: string,
    value: Uint8Array,
    copy: boolean,
    expiresAtMs: number | undefined,
    deleted: boolean,
  ): number {
    const ts = this.nowNs();
    const depth = this.historyDepth;
    // In memory the change log is a no-op: do not even build its entity keys.
    const persisted = this.persisted;
    if (!e) {
      const entity = persisted ? entityKey(nsId(ns), key) : undefined;
      // A tombstone's value stays empty.
      const created = new Entry(EMPTY, 1, deleted, expiresAtMs, ts, new VersionRing(depth), entity);
      if (!deleted && copy) created.copyValue(value);
      else if (!deleted) created.value = value;
      space.set(key, created);
      if (entity !== undefined) this.announceVersion(created, entity);
      this.changed(ns, key);
      return 1;
    }
    const entity = persisted ? (e.entity ?? (e.entity = entityKey(nsId(ns), key))) : undefined;
    if (entity !== undefined) {
      // The current version stays stored as it is (it becomes history); the version pushed out of
      // the history (with none kept, the current one) is dropped, so its stored entity goes.
      if (depth === 0) this.willDropVersion(entity, e.versionNo, storedCurrent(e));
      else if (e.older.length === depth) {
        const last = depth - 1;
        const older = e.older;
        // Its before-image: a live permanent version as the parts of its pair (no tuple per put), else its stored form.
        if (older.stateAt(last) === undefined) this.willChangeVersion(entity, older.valueAt(last), REMOVED, older.numberAt(last), older.timestampAt(last));
        else this.willDropVersion(entity, older.numberAt(last), storedOlder(older, last));
      }
    }
    // The current version becomes history as where its bytes are, never as a view, not even the
    // one the log was given: a view kept in the history lives for 64 puts of its key, long enough
    // to be promoted and collected again (with a data directory that was ~0.4 µs of a put's CPU).
    if (e.deleted) e.older.addParts(e.versionNo, EMPTY, 0, 0, e.timestampNs, true);
    else e.older.addParts(e.versionNo, e.buffer, e.offset, e.length, e.timestampNs, e.expiresAtMs);
    if (deleted) e.value = EMPTY;
    else if (copy) e.copyValue(value);
    else e.value = value;
    e.versionNo += 1;
    e.deleted = deleted;
    e.expiresAtMs = deleted ? undefined : expiresAtMs;
    e.timestampNs = ts;
    if (entity !== undefined) this.announceVersion(e, entity);
    this.changed(ns, key);
    return e.versionNo;
  }

  private changed(ns: string, key: string): void {
    this.options.onChange?.(nsId(ns), key);
  }

  private checkPut(ns: string, key: string, value: Uint8Array, c: PutConditions): void {
    this.checkSize(ns, key, value);
    this.checkConditions(this.liveEntry(ns, key), c);
  }

  /** The put conditions against the key's live entry (undefined: none). */
  private checkConditions(e: Entry | undefined, c: PutConditions): void {
    if (c.casVersion !== undefined) {
      const pass = e ? e.version === c.casVersion : c.casVersion === 0n;
      if (!pass) throw conflict();
    }
    if (c.ifNotExists && e) throw conflict();
    if (c.ifExists && !e) throw conflict();
  }

  private counterAfter(current: Uint8Array | undefined, delta: bigint): bigint {
    let base = 0n;
    if (current !== undefined) {
      if (current.length !== 8) throw badRequest(KvMessages.notCounter);
      base = new DataView(current.buffer, current.byteOffset, 8).getBigInt64(0, true);
    }
    const next = base + delta;
    if (next < I64_MIN || next > I64_MAX) throw badRequest(KvMessages.incrOverflow);
    return next;
  }

  private checkLiveAndMatch(ns: string, key: string, ifMatch: bigint | undefined): Entry {
    const e = this.liveEntry(ns, key);
    if (!e) throw notFound();
    if (ifMatch !== undefined && e.version !== ifMatch) throw conflict();
    return e;
  }

  /** Counts a replicated write (the commit index reported by COMMIT). */
  private logged(): void {
    if (!this.indexAnnounced) {
      // After the call: announcing it saves its before-image (`save`, which clears the flag).
      this.willChangeIndex('');
      this.indexAnnounced = true;
    }
    this.index += 1;
  }

  // ----- committed operations ----------------------------------------------------------------

  get(ns: string, keyBytes: Uint8Array): KvValue | undefined {
    const key = this.checkKey(ns, keyBytes);
    const e = this.liveEntry(ns, key);
    return e ? { version: e.version, value: e.value } : undefined;
  }

  /**
   * `get` without a result object: the live entry itself, read-only, to be read at once (a later
   * write changes it in place). For the reply of a plain get.
   */
  getNow(ns: string, keyBytes: Uint8Array): CurrentValue | undefined {
    return this.liveEntry(ns, this.checkKey(ns, keyBytes));
  }

  /** The key's version whatever its state (tombstone, expired), 0 if never written. For watches. */
  versionOf(ns: string, keyBytes: Uint8Array): bigint {
    return this.entry(ns, byteString(keyBytes))?.version ?? 0n;
  }

  /** The live value at a byte-string key (no validation). */
  peek(ns: string, key: string): KvValue | undefined {
    const e = this.liveEntry(ns, key);
    return e ? { version: e.version, value: e.value } : undefined;
  }

  put(ns: string, keyBytes: Uint8Array, value: Uint8Array, c: PutConditions = {}): bigint {
    return BigInt(this.putVersionNo(ns, keyBytes, value, c));
  }

  /** `put` answering the new version as a number (no BigInt made: the put reply writes it). */
  putVersionNo(ns: string, keyBytes: Uint8Array, value: Uint8Array, c: PutConditions = {}): number {
    const key = this.checkKey(ns, keyBytes);
    this.checkSize(ns, key, value);
    // One lookup of the entry serves the conditions and the write.
    const space = this.space(ns, false);
    const e = space?.get(key);
    this.checkConditions(this.live(e) ? e : undefined, c);
    this.logged();
    return this.writeEntry(space ?? this.space(ns, true)!, e, ns, key, value, true, this.expiry(c.ttlSeconds), false);
  }

  delete(ns: string, keyBytes: Uint8Array, ifMatch?: bigint): void {
    const key = this.checkKey(ns, keyBytes);
    this.checkLiveAndMatch(ns, key, ifMatch);
    this.logged();
    this.write(ns, key, EMPTY, undefined, true);
  }

  /** Keys that cannot be qualified, reserved and dead keys read as not found. */
  mget(ns: string, keys: readonly Uint8Array[]): Array<{ key: Uint8Array; found: boolean; version: bigint; value: Uint8Array }> {
    return keys.map((k) => {
      const ok = k.length > 0 && qualifiedKeyLength(ns, k) <= KV_MAX_QUALIFIED_KEY && !hasNul(k) && !isReservedKey(k);
      const e = ok ? this.liveEntry(ns, byteString(k)) : undefined;
      return e ? { key: k, found: true, version: e.version, value: e.value } : { key: k, found: false, version: 0n, value: EMPTY };
    });
  }

  /**
   * Live, non-reserved keys with `prefix`, in byte order, after `cursor` (the last key of the
   * previous page). `limit` 0 → 1024, capped at 1024. A cursor is returned exactly when more keys
   * follow (`docs/protocol-decisions.md` #19).
   */
  scan(ns: string, prefix: Uint8Array, limit: number, cursor: Uint8Array | undefined, keysOnly: boolean): ScanPage {
    const max = limit === 0 || limit > KV_SCAN_DEFAULT_LIMIT ? KV_SCAN_DEFAULT_LIMIT : limit;
    const p = byteString(prefix);
    const after = cursor && cursor.length ? byteString(cursor) : undefined;
    const keys: string[] = [];
    for (const [k, e] of this.space(ns, false) ?? []) {
      if (!k.startsWith(p) || (after !== undefined && k <= after) || !this.live(e)) continue;
      if (isReservedKey(fromByteString(k.slice(0, 10)))) continue;
      keys.push(k);
    }
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = keys.slice(0, max);
    const space = this.space(ns, false)!;
    const entries = page.map((k) => ({ key: fromByteString(k), value: keysOnly ? EMPTY : space.get(k)!.value }));
    if (keys.length > max) return { entries, hasMore: true, cursor: fromByteString(page[page.length - 1]) };
    return { entries, hasMore: false };
  }

  /** Newest first, the current state first (a tombstone as an empty value); undefined if never written. */
  history(ns: string, keyBytes: Uint8Array, limit = 0): HistoryItem[] | undefined {
    const key = this.checkKey(ns, keyBytes);
    const e = this.entry(ns, key);
    if (!e) return undefined;
    const all: HistoryItem[] = [{ version: e.version, timestampNs: e.timestampNs, value: e.deleted ? EMPTY : e.value }, ...e.older.toArray()];
    return limit > 0 ? all.slice(0, limit) : all;
  }

  incr(ns: string, keyBytes: Uint8Array, delta: bigint): { version: bigint; value: bigint } {
    const key = this.checkKey(ns, keyBytes);
    const next = this.counterAfter(this.liveEntry(ns, key)?.value, delta);
    this.logged();
    const version = this.write(ns, key, i64Bytes(next), undefined);
    return { version, value: next };
  }

  touch(ns: string, keyBytes: Uint8Array, ttlSeconds: bigint, ifMatch?: bigint): void {
    const key = this.checkKey(ns, keyBytes);
    const e = this.checkLiveAndMatch(ns, key, ifMatch);
    this.logged();
    this.willChangeCurrent(e, ns, key);
    e.expiresAtMs = this.expiry(ttlSeconds);
  }

  persist(ns: string, keyBytes: Uint8Array, ifMatch?: bigint): void {
    this.touch(ns, keyBytes, 0n, ifMatch);
  }

  /** Not subject to the reserved-prefix check (such keys are simply never present). */
  exists(ns: string, keyBytes: Uint8Array): { version: bigint; present: boolean } {
    const key = this.checkKey(ns, keyBytes, false);
    const e = this.liveEntry(ns, key);
    return e ? { version: e.version, present: true } : { version: 0n, present: false };
  }

  /** Time to live left, in ms (undefined = permanent or absent). For tests and introspection. */
  ttlRemainingMs(ns: string, keyBytes: Uint8Array): number | undefined {
    const e = this.liveEntry(ns, byteString(keyBytes));
    return e?.expiresAtMs === undefined ? undefined : e.expiresAtMs - this.clock.now();
  }

  // ----- JSON ------------------------------------------------------------------------------

  private path(path: string): PathSegment[] {
    const p = parseJsonPath(path);
    if (!p) throw badRequest(KvMessages.badJson);
    return p;
  }

  jsonGet(ns: string, keyBytes: Uint8Array, path: string): KvValue | undefined {
    const key = this.checkKey(ns, keyBytes, false);
    const segs = this.path(path);
    const e = this.liveEntry(ns, key);
    if (!e) return undefined;
    const doc = parseJson(new TextDecoder().decode(e.value));
    if (!doc) throw badRequest(KvMessages.badJson);
    const node = jsonSelect(doc, segs);
    return node ? { version: e.version, value: utf8(stringifyJson(node)) } : undefined;
  }

  /** Returns the new version, or undefined when the path cannot be reached (NOT_FOUND). */
  jsonSet(ns: string, keyBytes: Uint8Array, path: string, json: Uint8Array, ttlSeconds?: bigint): bigint | undefined {
    const key = this.checkKey(ns, keyBytes);
    const segs = this.path(path);
    const node = parseJson(new TextDecoder().decode(json));
    if (!node) throw badRequest(KvMessages.badJsonDocument);
    const e = this.liveEntry(ns, key);
    let next: Uint8Array;
    if (segs.length === 0) {
      next = e ? utf8(stringifyJson(node)) : ownBytes(json);
    } else {
      if (!e) return undefined;
      const doc = parseJson(new TextDecoder().decode(e.value));
      if (!doc) throw badRequest(KvMessages.badJson);
      if (!jsonReplace(doc, segs, node)) return undefined;
      next = utf8(stringifyJson(doc));
    }
    this.checkSize(ns, key, next);
    this.logged();
    return this.write(ns, key, next, this.expiry(ttlSeconds));
  }

  /** Returns false when the key or the path is missing (NOT_FOUND). */
  jsonDel(ns: string, keyBytes: Uint8Array, path: string): boolean {
    const key = this.checkKey(ns, keyBytes);
    const segs = this.path(path);
    const e = this.liveEntry(ns, key);
    if (!e) return false;
    if (segs.length === 0) {
      this.logged();
      this.write(ns, key, EMPTY, undefined, true);
      return true;
    }
    const doc = parseJson(new TextDecoder().decode(e.value));
    if (!doc) throw badRequest(KvMessages.badJson);
    if (!jsonRemove(doc, segs)) return false;
    this.logged();
    this.write(ns, key, utf8(stringifyJson(doc)), undefined);
    return true;
  }

  // ----- transactions (`docs/protocol-decisions.md` #17) -------------------------------------

  begin(ns: string, nsBytes: Uint8Array, routingKey: Uint8Array): { txnId: bigint; pinnedHash: bigint } {
    if (routingKey.length === 0) throw badRequest(KvMessages.beginNoKey);
    if (this.txns.size >= KV_MAX_OPEN_TXNS) throw badRequest(KvMessages.txnTooMany);
    const id = this.nextTxnId++;
    const pinnedHash = placementHash(nsBytes, routingKey);
    this.txns.set(id, { id, ns: nsId(ns), pinnedHash, ops: [], bytes: 0 });
    return { txnId: id, pinnedHash };
  }

  get openTransactions(): number {
    return this.txns.size;
  }

  private txn(ns: string, use: TxnUse): Txn {
    const t = this.txns.get(use.txnId);
    if (!t || t.ns !== nsId(ns)) throw notFound(KvMessages.txnNotFound);
    if (placementHash(use.nsBytes, use.routingKey) !== t.pinnedHash) throw badRequest(KvMessages.txnPartition);
    return t;
  }

  private buffer(ns: string, use: TxnUse, op: TxnOp, bytes: number): void {
    const t = this.txn(ns, use);
    const qlen = isDefaultNs(ns) ? 0 : namespaceByteLength(ns) + 1;
    const size = qlen + op.key.length + bytes;
    if (t.ops.length + 1 > KV_MAX_TXN_OPS || t.bytes + size > KV_MAX_TXN_BYTES) throw badRequest(KvMessages.txnLimit);
    t.ops.push(op);
    t.bytes += size;
  }

  /** The key as the transaction sees it: committed state with its buffered ops applied in order. */
  private txnView(ns: string, t: Txn, key: string): KvValue | undefined {
    const e = this.liveEntry(ns, key);
    let cur: KvValue | undefined = e ? { version: e.version, value: e.value } : undefined;
    for (const op of t.ops) {
      if (op.key !== key) continue;
      if (op.kind === 'put') cur = { version: 0n, value: op.value };
      else if (op.kind === 'delete') cur = undefined;
      else if (op.kind === 'incr') {
        if (cur && cur.value.length !== 8) continue; // fails at commit; nothing to show
        const base = cur ? new DataView(cur.value.buffer, cur.value.byteOffset, 8).getBigInt64(0, true) : 0n;
        const next = base + op.delta;
        if (next < I64_MIN || next > I64_MAX) continue;
        cur = { version: 0n, value: i64Bytes(next) };
      }
    }
    return cur;
  }

  txnGet(ns: string, keyBytes: Uint8Array, use: TxnUse): KvValue | undefined {
    const key = this.checkKey(ns, keyBytes);
    return this.txnView(ns, this.txn(ns, use), key);
  }

  txnExists(ns: string, keyBytes: Uint8Array, use: TxnUse): { version: bigint; present: boolean } {
    const key = this.checkKey(ns, keyBytes, false);
    const v = this.txnView(ns, this.txn(ns, use), key);
    return v ? { version: v.version, present: true } : { version: 0n, present: false };
  }

  /** Pre-checks against committed state, then buffers; the reply carries version 0. */
  txnPut(ns: string, keyBytes: Uint8Array, value: Uint8Array, c: PutConditions, use: TxnUse): void {
    const key = this.checkKey(ns, keyBytes);
    this.checkPut(ns, key, value, c);
    const op: TxnOp = c.ttlSeconds ? { kind: 'put', key, value: ownBytes(value), ttlSeconds: c.ttlSeconds } : { kind: 'put', key, value: ownBytes(value) };
    this.buffer(ns, use, op, value.length);
  }

  txnDelete(ns: string, keyBytes: Uint8Array, ifMatch: bigint | undefined, use: TxnUse): void {
    const key = this.checkKey(ns, keyBytes);
    this.checkLiveAndMatch(ns, key, ifMatch);
    this.buffer(ns, use, { kind: 'delete', key }, 0);
  }

  txnIncr(ns: string, keyBytes: Uint8Array, delta: bigint, use: TxnUse): void {
    const key = this.checkKey(ns, keyBytes);
    this.counterAfter(this.liveEntry(ns, key)?.value, delta);
    this.buffer(ns, use, { kind: 'incr', key, delta }, 8);
  }

  txnTouch(ns: string, keyBytes: Uint8Array, ttlSeconds: bigint, ifMatch: bigint | undefined, use: TxnUse): void {
    const key = this.checkKey(ns, keyBytes);
    this.checkLiveAndMatch(ns, key, ifMatch);
    this.buffer(ns, use, { kind: 'touch', key, ttlSeconds }, 0);
  }

  txnPersist(ns: string, keyBytes: Uint8Array, ifMatch: bigint | undefined, use: TxnUse): void {
    const key = this.checkKey(ns, keyBytes);
    this.checkLiveAndMatch(ns, key, ifMatch);
    this.buffer(ns, use, { kind: 'persist', key }, 0);
  }

  private ownTxn(ns: string, txnId: bigint): Txn {
    const t = this.txns.get(txnId);
    if (!t || t.ns !== nsId(ns)) throw notFound(KvMessages.txnNotFound);
    return t;
  }

  /**
   * Applies the whole batch at once. CAS/NX/XX are not re-checked (as Flo); a delete, touch or
   * persist whose key is no longer live is skipped. An incr that can no longer apply (the key now
   * holds a non-counter, or it would overflow) fails the whole commit with BAD_REQUEST and nothing
   * is applied. The transaction is gone either way.
   */
  commit(ns: string, txnId: bigint): { commitIndex: bigint; opCount: number } {
    const t = this.ownTxn(ns, txnId);
    this.txns.delete(txnId);
    // Dry run over the keys the batch touches, so that nothing is applied if an incr fails.
    const scratch = new Map<string, Uint8Array | undefined>();
    const read = (k: string) => (scratch.has(k) ? scratch.get(k) : this.liveEntry(ns, k)?.value);
    for (const op of t.ops) {
      if (op.kind === 'put') scratch.set(op.key, op.value);
      else if (op.kind === 'delete') scratch.set(op.key, undefined);
      else if (op.kind === 'incr') scratch.set(op.key, i64Bytes(this.counterAfter(read(op.key), op.delta)));
    }
    if (t.ops.length === 0) return { commitIndex: BigInt(this.index), opCount: 0 };
    this.logged();
    for (const op of t.ops) {
      switch (op.kind) {
        case 'put':
          this.write(ns, op.key, op.value, this.expiry(op.ttlSeconds));
          break;
        case 'delete':
          if (this.liveEntry(ns, op.key)) this.write(ns, op.key, EMPTY, undefined, true);
          break;
        case 'incr':
          this.write(ns, op.key, i64Bytes(this.counterAfter(this.liveEntry(ns, op.key)?.value, op.delta)), undefined);
          break;
        case 'touch':
        case 'persist': {
          const e = this.liveEntry(ns, op.key);
          if (e) this.willChangeCurrent(e, ns, op.key);
          if (e) e.expiresAtMs = this.expiry(op.kind === 'touch' ? op.ttlSeconds : 0n);
          break;
        }
      }
    }
    return { commitIndex: BigInt(this.index), opCount: t.ops.length };
  }

  rollback(ns: string, txnId: bigint): void {
    this.ownTxn(ns, txnId);
    this.txns.delete(txnId);
  }
}

export function i64Bytes(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}
