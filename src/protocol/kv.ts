/**
 * KV payload codecs of the common calls, both directions (`docs/protocol-decisions.md` #1, #15-#20, #37).
 *
 * Client side: `encodeKvX(req) → OpPayload` and `decodeKvXReply(payload) → reply`.
 * Server side: `decodeKvX(body) → req` and `encodeKvXReply(reply, profile?) → payload`.
 *
 * Options are emitted in the Go SDK's order; in-transaction requests carry RoutingKey (0x08, when
 * non-empty) and TxnID (0x09) first, then the operation's own options. Decoders throw only
 * `ProtocolError`; the server turns its message into a BAD_REQUEST reply (the messages are Flo's
 * where Flo's server has one). Byte fields of decoded requests are views into the request payload (copy
 * before keeping them); byte fields of decoded replies are copies. The codecs of scan, history, JSON
 * paths and transactions are in `kv-rare.ts` (a browser app loads them on demand); the request and
 * reply types of all KV calls are here.
 */
import { ByteWriter, EMPTY } from './bytes.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import { addTxn, decodeVersionOnly, fixedReply, i64le, options, opts, payload, readTxn, u64le, withOptional } from './kv-helpers.js';
import { Opt } from './options.js';
import { smallCopy } from './small-bytes.js';

/** Reply layouts where the Go SDK and the newest Flo server disagree (scan, history; `docs/protocol-decisions.md` #1). */
export type KvReplyProfile = 'go' | 'flo';

/** Most keys one MGET may carry (Go SDK and server). */
export const KV_MGET_MAX_KEYS = 256;
/** Largest scan page (limit 0 means this). */
export const KV_SCAN_MAX_LIMIT = 1024;

/** Marks a request as part of a transaction: options 0x08 (if non-empty) and 0x09, sent first. */
export interface KvTxnRef {
  readonly txnId: bigint;
  readonly routingKey?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Request and reply types
// ---------------------------------------------------------------------------------------------

export interface KvPutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** TTL in **seconds** (`docs/protocol-decisions.md` #15); 0 or absent = permanent. */
  readonly ttlSeconds?: bigint;
  /** Expected current version; 0 = create only. */
  readonly casVersion?: bigint;
  readonly ifNotExists?: boolean;
  readonly ifExists?: boolean;
  readonly txn?: KvTxnRef;
}
export interface KvPutReply {
  /** New version (0 inside a transaction). */
  readonly version: bigint;
}

export interface KvGetRequest {
  readonly key: Uint8Array;
  /** Long-poll until the key is live (0x17); 0 = do not wait (`docs/protocol-decisions.md` #14). */
  readonly blockMs?: number;
  /** Watch: wait for a version newer than the current one (0x18). */
  readonly waitMs?: number;
  readonly txn?: KvTxnRef;
}
export interface KvGetReply {
  readonly version: bigint;
  readonly value: Uint8Array;
}

/** A watch is a get carrying WaitMS (0x18): answered when the key's version moves past the current one. */
export interface KvWatchRequest {
  readonly key: Uint8Array;
  readonly waitMs: number;
}

export interface KvMGetRequest {
  readonly keys: readonly Uint8Array[];
}
export interface KvMGetEntry {
  readonly key: Uint8Array;
  readonly found: boolean;
  /** 0 when not found. */
  readonly version: bigint;
  /** Empty when not found. */
  readonly value: Uint8Array;
}
export type KvMGetReply = readonly KvMGetEntry[];

export interface KvDeleteRequest {
  readonly key: Uint8Array;
  readonly ifMatch?: bigint;
  readonly txn?: KvTxnRef;
}

export interface KvScanRequest {
  readonly prefix: Uint8Array;
  /** 0 or absent = server default (1024). */
  readonly limit?: number;
  /** Opaque cursor from the previous page; absent/empty on the first page. */
  readonly cursor?: Uint8Array;
  readonly keysOnly?: boolean;
}
export interface KvScanEntry {
  readonly key: Uint8Array;
  /** Empty for keys-only scans. */
  readonly value: Uint8Array;
}
export interface KvScanReply {
  readonly entries: readonly KvScanEntry[];
  readonly hasMore: boolean;
  /** Absent when the server sent an empty cursor. */
  readonly cursor?: Uint8Array;
}

export interface KvHistoryRequest {
  readonly key: Uint8Array;
  /** 0 or absent = everything kept. */
  readonly limit?: number;
}
export interface KvHistoryEntry {
  readonly version: bigint;
  /** Write time, ns since the epoch (layout A). Absent in the newest server's layout C. */
  readonly timestampNs?: bigint;
  readonly value: Uint8Array;
}
export type KvHistoryReply = readonly KvHistoryEntry[];

export interface KvIncrRequest {
  readonly key: Uint8Array;
  /** Absent = +1 (sent as an empty value outside a transaction; Go's txn API always sends 8 bytes). */
  readonly delta?: bigint;
  readonly txn?: KvTxnRef;
}
export interface KvIncrReply {
  /** 0 inside a transaction. */
  readonly version: bigint;
  /** The counter after the increment; inside a transaction the server echoes the **delta** (`docs/protocol-decisions.md` #37). */
  readonly value: bigint;
}

export interface KvJsonGetRequest {
  readonly key: Uint8Array;
  /** JSON path (`$`, `$.a.b`, `$.a[0]`); empty means `$` on the server. */
  readonly path: string;
}
export interface KvJsonGetReply {
  readonly version: bigint;
  /** Compact JSON text of the selected node. */
  readonly value: Uint8Array;
}

export interface KvJsonSetRequest {
  readonly key: Uint8Array;
  /** Empty is sent as `$` (as the Go SDK does). */
  readonly path: string;
  /** JSON text of the new node. */
  readonly value: Uint8Array;
  /** Optional TTL (0x01, seconds); Go never sends it here. */
  readonly ttlSeconds?: bigint;
}
export interface KvJsonSetReply {
  readonly version: bigint;
}

export interface KvJsonDelRequest {
  readonly key: Uint8Array;
  /** Empty is sent as `$` (as the Go SDK does). */
  readonly path: string;
}

export interface KvBeginTxnRequest {
  readonly routingKey: Uint8Array;
}
export interface KvBeginTxnReply {
  readonly txnId: bigint;
  readonly pinnedHash: bigint;
}

export interface KvCommitTxnRequest {
  readonly routingKey: Uint8Array;
  /** Undefined on decode when the request carried none (the server answers `COMMIT: txn_id required`). */
  readonly txnId?: bigint;
}
export interface KvCommitTxnReply {
  readonly commitIndex: bigint;
  readonly opCount: number;
}

export type KvRollbackTxnRequest = KvCommitTxnRequest;

export interface KvTouchRequest {
  readonly key: Uint8Array;
  /** New TTL in seconds from now; 0 = persist. */
  readonly ttlSeconds: bigint;
  readonly ifMatch?: bigint;
  readonly txn?: KvTxnRef;
}

export interface KvPersistRequest {
  readonly key: Uint8Array;
  readonly ifMatch?: bigint;
  readonly txn?: KvTxnRef;
}

export interface KvExistsRequest {
  readonly key: Uint8Array;
  readonly txn?: KvTxnRef;
}
export interface KvExistsReply {
  readonly version: bigint;
  readonly present: boolean;
}

// ---------------------------------------------------------------------------------------------
// PUT 0x100
// ---------------------------------------------------------------------------------------------

export function encodeKvPut(req: KvPutRequest): OpPayload {
  return payload(
    req.key,
    req.value,
    options((b) => {
      addTxn(b, req.txn);
      if (req.ttlSeconds !== undefined && req.ttlSeconds !== 0n) b.u64(Opt.TTLSeconds, req.ttlSeconds);
      if (req.casVersion !== undefined) b.u64(Opt.CASVersion, req.casVersion);
      if (req.ifNotExists) b.flag(Opt.IfNotExists);
      if (req.ifExists) b.flag(Opt.IfExists);
    }),
  );
}

export function decodeKvPut(body: RequestBody): KvPutRequest {
  const o = opts(body);
  const req: KvPutRequest = { key: body.key, value: body.value };
  const ttl = o.u64(Opt.TTLSeconds);
  withOptional(req, 'txn', readTxn(o));
  withOptional(req, 'ttlSeconds', ttl === 0n ? undefined : ttl);
  withOptional(req, 'casVersion', o.u64(Opt.CASVersion));
  if (o.flag(Opt.IfNotExists)) withOptional(req, 'ifNotExists', true);
  if (o.flag(Opt.IfExists)) withOptional(req, 'ifExists', true);
  return req;
}

/** `[version:u64]`; an empty payload reads as version 0 (older servers, as the Go SDK does). */
export function decodeKvPutReply(p: Uint8Array): KvPutReply {
  if (p.length === 0) return { version: 0n };
  return { version: decodeVersionOnly(p, 'kv_put reply') };
}

export function encodeKvPutReply(reply: KvPutReply): Uint8Array {
  return u64le(reply.version);
}

// ---------------------------------------------------------------------------------------------
// GET 0x101 (and watch)
// ---------------------------------------------------------------------------------------------

export function encodeKvGet(req: KvGetRequest): OpPayload {
  // The common get carries no options: skip the options builder (same bytes: no options section).
  if (req.txn === undefined && req.blockMs === undefined && req.waitMs === undefined) return { key: req.key };
  return payload(
    req.key,
    undefined,
    options((b) => {
      addTxn(b, req.txn);
      if (req.blockMs !== undefined) b.u32(Opt.BlockMS, req.blockMs);
      if (req.waitMs !== undefined) b.u32(Opt.WaitMS, req.waitMs);
    }),
  );
}

/** A watch: `kv_get` with WaitMS (0x18). The reply is a get reply. */
export function encodeKvWatch(req: KvWatchRequest): OpPayload {
  return encodeKvGet({ key: req.key, waitMs: req.waitMs });
}

export function decodeKvGet(body: RequestBody): KvGetRequest {
  const o = opts(body);
  const req: KvGetRequest = { key: body.key };
  withOptional(req, 'txn', readTxn(o));
  withOptional(req, 'blockMs', o.u32(Opt.BlockMS));
  withOptional(req, 'waitMs', o.u32(Opt.WaitMS));
  return req;
}

/** `[version:u64][value]`. */
export function decodeKvGetReply(p: Uint8Array): KvGetReply {
  if (p.length < 8) fixedReply(p, 8, 'kv_get reply', true);
  // Read without a DataView (one object less per reply); versions below 2^32 skip the bigint shift.
  const lo = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
  const hi = (p[4]! | (p[5]! << 8) | (p[6]! << 16) | (p[7]! << 24)) >>> 0;
  const version = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  // A copy (the reply's frame may be a view of a large read): a slab's view for a small value.
  return { version, value: smallCopy(p, 8, p.length) };
}

export function encodeKvGetReply(reply: KvGetReply): Uint8Array {
  return new ByteWriter(8 + reply.value.length).u64(reply.version).bytes(reply.value).finish();
}

// ---------------------------------------------------------------------------------------------
// MGET 0x102
// ---------------------------------------------------------------------------------------------

/** Value `[n:u16]([len:u16][key])*`; the key section is empty. (The client refuses > 256 keys.) */
export function encodeKvMGet(req: KvMGetRequest): OpPayload {
  const w = new ByteWriter(2 + req.keys.reduce((n, k) => n + 2 + k.length, 0));
  w.u16(req.keys.length);
  for (const k of req.keys) w.bytes16(k);
  return { key: EMPTY, value: w.finish() };
}

/** Checks in Flo's order with Flo's messages (count 0 and > 256 are refused here). */
export function decodeKvMGet(body: RequestBody): KvMGetRequest {
  const v = body.value;
  if (v.length < 2) throw new ProtocolError('mget: missing key count');
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const n = view.getUint16(0, true);
  if (n === 0) throw new ProtocolError('mget: zero keys');
  if (n > KV_MGET_MAX_KEYS) throw new ProtocolError(`mget: too many keys (max ${KV_MGET_MAX_KEYS})`);
  const keys: Uint8Array[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    if (v.length - at < 2) throw new ProtocolError('mget: truncated key list');
    const len = view.getUint16(at, true);
    at += 2;
    if (v.length - at < len) throw new ProtocolError('mget: truncated key data');
    keys.push(v.subarray(at, at + len));
    at += len;
  }
  return { keys };
}

/**
 * `[n:u32]([status:u8][klen:u16][key][version:u64][vlen:u32][value])*`; 0 bytes = empty (#16).
 * A plain walk with `ByteReader`'s checks and messages, so that the start-up code of a browser app
 * (mget is its one reply with variable-length fields) needs no reader class.
 */
export function decodeKvMGetReply(p: Uint8Array): KvMGetReply {
  if (p.length === 0) return [];
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let at = 0;
  /** The offset of the next `n` bytes (then skipped), or the `ProtocolError` of a truncated reply. */
  const take = (n: number, field: string): number => {
    if (at + n > p.length) {
      throw new ProtocolError(`truncated kv_mget reply: ${field} needs ${n} byte(s) at offset ${at}, ${p.length - at} left`);
    }
    at += n;
    return at - n;
  };
  const n = view.getUint32(take(4, 'count'), true);
  const out: KvMGetEntry[] = [];
  for (let i = 0; i < n; i++) {
    const status = p[take(1, 'status')]!;
    const key = p.slice(take(view.getUint16(take(2, 'key'), true), 'key'), at);
    const version = view.getBigUint64(take(8, 'version'), true);
    const value = p.slice(take(view.getUint32(take(4, 'value'), true), 'value'), at);
    out.push({ key, found: status === 0, version, value });
  }
  if (at !== p.length) throw new ProtocolError(`${p.length - at} unexpected trailing byte(s) in kv_mget reply`);
  return out;
}

export function encodeKvMGetReply(reply: KvMGetReply): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(reply.length);
  for (const e of reply) {
    w.u8(e.found ? 0 : 2)
      .bytes16(e.key)
      .u64(e.found ? e.version : 0n)
      .bytes32(e.found ? e.value : EMPTY);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// DELETE 0x103
// ---------------------------------------------------------------------------------------------

/** Delete and persist carry the same request: a key, an optional IfMatch guard, an optional txn. */
function encodeGuardedKey(req: KvDeleteRequest | KvPersistRequest): OpPayload {
  return payload(
    req.key,
    undefined,
    options((b) => {
      addTxn(b, req.txn);
      if (req.ifMatch !== undefined) b.u64(Opt.CASVersion, req.ifMatch);
    }),
  );
}

function decodeGuardedKey(body: RequestBody): KvDeleteRequest & KvPersistRequest {
  const o = opts(body);
  const req: KvDeleteRequest & KvPersistRequest = { key: body.key };
  withOptional(req, 'txn', readTxn(o));
  return withOptional(req, 'ifMatch', o.u64(Opt.CASVersion));
}

export function encodeKvDelete(req: KvDeleteRequest): OpPayload {
  return encodeGuardedKey(req);
}

export function decodeKvDelete(body: RequestBody): KvDeleteRequest {
  return decodeGuardedKey(body);
}

/** Empty reply; any payload is ignored (as the SDKs do). */
export function decodeKvDeleteReply(_p: Uint8Array): void {}
export function encodeKvDeleteReply(): Uint8Array {
  return EMPTY;
}

// ---------------------------------------------------------------------------------------------
// INCR 0x10B
// ---------------------------------------------------------------------------------------------

/** Outside a txn an absent delta is an empty value (+1); inside, the delta is always sent (as Go's txn API). */
export function encodeKvIncr(req: KvIncrRequest): OpPayload {
  const delta = req.delta ?? (req.txn ? 1n : undefined);
  return payload(
    req.key,
    delta === undefined ? undefined : i64le(delta),
    options((b) => addTxn(b, req.txn)),
  );
}

/** The decoded delta is always set (an empty value means +1). */
export function decodeKvIncr(body: RequestBody): KvIncrRequest & { readonly delta: bigint } {
  const v = body.value;
  let delta = 1n;
  if (v.length === 8) delta = new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
  else if (v.length !== 0) throw new ProtocolError('incr: value must be empty or 8-byte i64 LE');
  const req = { key: body.key, delta };
  return withOptional(req, 'txn', readTxn(opts(body)));
}

/** `[version:u64][counter:i64]`, exactly 16 bytes. */
export function decodeKvIncrReply(p: Uint8Array): KvIncrReply {
  const view = fixedReply(p, 16, 'kv_incr reply');
  return { version: view.getBigUint64(0, true), value: view.getBigInt64(8, true) };
}

export function encodeKvIncrReply(reply: KvIncrReply): Uint8Array {
  return new ByteWriter(16).u64(reply.version).i64(reply.value).finish();
}

// ---------------------------------------------------------------------------------------------
// TOUCH 0x113 / PERSIST 0x114 / EXISTS 0x115
// ---------------------------------------------------------------------------------------------

/** Value `[ttl:u64]` (seconds, `docs/protocol-decisions.md` #15), always sent; option 0x02 = IfMatch. */
export function encodeKvTouch(req: KvTouchRequest): OpPayload {
  return payload(
    req.key,
    u64le(req.ttlSeconds),
    options((b) => {
      addTxn(b, req.txn);
      if (req.ifMatch !== undefined) b.u64(Opt.CASVersion, req.ifMatch);
    }),
  );
}

export function decodeKvTouch(body: RequestBody): KvTouchRequest {
  const v = body.value;
  let ttlSeconds = 0n;
  if (v.length === 8) ttlSeconds = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
  else if (v.length !== 0) throw new ProtocolError('touch: value must be empty or 8-byte u64 LE');
  const o = opts(body);
  const req: KvTouchRequest = { key: body.key, ttlSeconds };
  withOptional(req, 'txn', readTxn(o));
  return withOptional(req, 'ifMatch', o.u64(Opt.CASVersion));
}

export function decodeKvTouchReply(_p: Uint8Array): void {}
export function encodeKvTouchReply(): Uint8Array {
  return EMPTY;
}

export function encodeKvPersist(req: KvPersistRequest): OpPayload {
  return encodeGuardedKey(req);
}

/** The value is ignored (as Flo does). */
export function decodeKvPersist(body: RequestBody): KvPersistRequest {
  return decodeGuardedKey(body);
}

export function decodeKvPersistReply(_p: Uint8Array): void {}
export function encodeKvPersistReply(): Uint8Array {
  return EMPTY;
}

export function encodeKvExists(req: KvExistsRequest): OpPayload {
  return payload(
    req.key,
    undefined,
    options((b) => addTxn(b, req.txn)),
  );
}

export function decodeKvExists(body: RequestBody): KvExistsRequest {
  const req: KvExistsRequest = { key: body.key };
  return withOptional(req, 'txn', readTxn(opts(body)));
}

/** `[version:u64][present:u8]`, exactly 9 bytes. */
export function decodeKvExistsReply(p: Uint8Array): KvExistsReply {
  const view = fixedReply(p, 9, 'kv_exists reply');
  return { version: view.getBigUint64(0, true), present: view.getUint8(8) !== 0 };
}

export function encodeKvExistsReply(reply: KvExistsReply): Uint8Array {
  return new ByteWriter(9).u64(reply.version).u8(reply.present ? 1 : 0).finish();
}
