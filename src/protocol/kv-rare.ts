/**
 * KV payload codecs of the rarer calls, both directions: SCAN, HISTORY, JSON get/set/del and
 * transactions begin/commit/rollback. Conventions as in `kv.ts` (which holds their request and reply
 * types); apart so that a browser app that only gets and puts keys does not load them at start.
 */
import { ByteWriter, EMPTY, fromUtf8, utf8 } from './bytes.js';
import { ByteReader } from './byte-reader.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import {
  encodeKvGetReply,
  type KvBeginTxnReply,
  type KvBeginTxnRequest,
  type KvCommitTxnReply,
  type KvCommitTxnRequest,
  type KvHistoryEntry,
  type KvHistoryReply,
  type KvHistoryRequest,
  type KvJsonDelRequest,
  type KvJsonGetReply,
  type KvJsonGetRequest,
  type KvJsonSetReply,
  type KvJsonSetRequest,
  type KvReplyProfile,
  type KvRollbackTxnRequest,
  type KvScanEntry,
  type KvScanReply,
  type KvScanRequest,
} from './kv.js';
import { addTxn, decodeVersionOnly, options, opts, payload, u64le, withOptional } from './kv-helpers.js';
import { Opt, OptionsBuilder } from './options.js';

// ---------------------------------------------------------------------------------------------
// SCAN 0x104
// ---------------------------------------------------------------------------------------------

/** Key = prefix, value = `[limit:u32][cursor…]`, option 0x06 = 1 when keys-only. */
export function encodeKvScan(req: KvScanRequest): OpPayload {
  const cursor = req.cursor ?? EMPTY;
  const value = new ByteWriter(4 + cursor.length)
    .u32(req.limit ?? 0)
    .bytes(cursor)
    .finish();
  return {
    key: req.prefix,
    value,
    ...(req.keysOnly ? { options: new OptionsBuilder().u8(Opt.KeysOnly, 1).build() } : {}),
  };
}

/** An empty value reads as limit 0 without cursor; 1-3 bytes are refused. */
export function decodeKvScan(body: RequestBody): KvScanRequest {
  const o = opts(body);
  const v = body.value;
  let limit = 0;
  let cursor: Uint8Array = EMPTY;
  if (v.length > 0) {
    if (v.length < 4) throw new ProtocolError('scan: value must start with limit:u32');
    const r = new ByteReader(v, 'scan value');
    limit = r.u32('limit');
    cursor = r.rest();
  }
  const req: KvScanRequest = { prefix: body.key, limit };
  if (cursor.length) withOptional(req, 'cursor', cursor);
  if ((o.u8(Opt.KeysOnly) ?? 0) !== 0) withOptional(req, 'keysOnly', true);
  return req;
}

function scanEntries(r: ByteReader): KvScanEntry[] {
  const n = r.u32('count');
  const entries: KvScanEntry[] = [];
  for (let i = 0; i < n; i++) {
    const key = r.bytes16('key').slice();
    const value = r.bytes32('value').slice();
    entries.push({ key, value });
  }
  return entries;
}

function scanReply(entries: KvScanEntry[], hasMore: boolean, cursor: Uint8Array): KvScanReply {
  return cursor.length ? { entries, hasMore, cursor: cursor.slice() } : { entries, hasMore };
}

const scanLayouts: ReadonlyArray<(r: ByteReader) => KvScanReply> = [
  // A (Go SDK): [has_more:u8][clen:u32][cursor][n:u32]([klen:u16][key][vlen:u32][value])*
  (r) => {
    const hasMore = r.u8('has_more') !== 0;
    const cursor = r.bytes32('cursor');
    return scanReply(scanEntries(r), hasMore, cursor);
  },
  // B (Flo server): [n:u32](entries)[has_more:u8][clen:u16][cursor]
  (r) => {
    const entries = scanEntries(r);
    const hasMore = r.u8('has_more') !== 0;
    return scanReply(entries, hasMore, r.bytes16('cursor'));
  },
  // Flo's fallback path: [n:u32](entries)[has_more:u8], no cursor fields.
  (r) => {
    const entries = scanEntries(r);
    return { entries, hasMore: r.u8('has_more') !== 0 };
  },
];

function firstExactLayout<T>(p: Uint8Array, what: string, layouts: ReadonlyArray<(r: ByteReader) => T>): T {
  let firstError: unknown;
  for (const layout of layouts) {
    try {
      const r = new ByteReader(p, what);
      const out = layout(r);
      r.end();
      return out;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      firstError ??= err;
    }
  }
  throw new ProtocolError(`${what} matches no known layout: ${(firstError as Error).message}`);
}

/**
 * Accepts layout A (Go), B (Flo server) and Flo's cursor-less fallback, whichever consumes the
 * payload exactly (A tried first). A 0-byte or 4-byte zero-count reply is an empty page (docs/protocol-decisions.md #16).
 */
export function decodeKvScanReply(p: Uint8Array): KvScanReply {
  if (p.length === 0 || (p.length === 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0)) {
    return { entries: [], hasMore: false };
  }
  return firstExactLayout(p, 'kv_scan reply', scanLayouts);
}

/** `'go'` → layout A (default), `'flo'` → layout B. */
export function encodeKvScanReply(reply: KvScanReply, profile: KvReplyProfile = 'go'): Uint8Array {
  const cursor = reply.cursor ?? EMPTY;
  const w = new ByteWriter(64);
  const entries = () => {
    w.u32(reply.entries.length);
    for (const e of reply.entries) w.bytes16(e.key).bytes32(e.value);
  };
  if (profile === 'go') {
    w.u8(reply.hasMore ? 1 : 0).bytes32(cursor);
    entries();
  } else {
    entries();
    w.u8(reply.hasMore ? 1 : 0).bytes16(cursor);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// HISTORY 0x105
// ---------------------------------------------------------------------------------------------

export function encodeKvHistory(req: KvHistoryRequest): OpPayload {
  return payload(
    req.key,
    undefined,
    options((b) => {
      if (req.limit !== undefined && req.limit !== 0) b.u32(Opt.Limit, req.limit);
    }),
  );
}

export function decodeKvHistory(body: RequestBody): KvHistoryRequest {
  const limit = opts(body).u32(Opt.Limit);
  return limit ? { key: body.key, limit } : { key: body.key };
}

const historyLayouts: ReadonlyArray<(r: ByteReader) => KvHistoryEntry[]> = [
  // A (Go/JS SDK): [n:u32]([version:u64][ts:i64][vlen:u32][value])*
  (r) => {
    const n = r.u32('count');
    const out: KvHistoryEntry[] = [];
    for (let i = 0; i < n; i++) {
      const version = r.u64('version');
      const timestampNs = r.i64('timestamp');
      out.push({ version, timestampNs, value: r.bytes32('value').slice() });
    }
    return out;
  },
  // C (Flo server): [n:u32]([vlen:u32][value][version:u64])*
  (r) => {
    const n = r.u32('count');
    const out: KvHistoryEntry[] = [];
    for (let i = 0; i < n; i++) {
      const value = r.bytes32('value').slice();
      out.push({ version: r.u64('version'), value });
    }
    return out;
  },
];

/** Layout A or C by exact consumption (A first); a 0-byte reply is empty (#16). */
export function decodeKvHistoryReply(p: Uint8Array): KvHistoryReply {
  if (p.length === 0) return [];
  return firstExactLayout(p, 'kv_history reply', historyLayouts);
}

/** `'go'` → layout A with ns timestamps (missing ones written as 0), `'flo'` → layout C. */
export function encodeKvHistoryReply(reply: KvHistoryReply, profile: KvReplyProfile = 'go'): Uint8Array {
  const w = new ByteWriter(64);
  w.u32(reply.length);
  for (const e of reply) {
    if (profile === 'go') w.u64(e.version).i64(e.timestampNs ?? 0n).bytes32(e.value);
    else w.bytes32(e.value).u64(e.version);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// JSON 0x10C get / 0x10D set / 0x10E del
// ---------------------------------------------------------------------------------------------

export function encodeKvJsonGet(req: KvJsonGetRequest): OpPayload {
  return payload(req.key, utf8(req.path));
}

export function decodeKvJsonGet(body: RequestBody): KvJsonGetRequest {
  return { key: body.key, path: fromUtf8(body.value) };
}

/** `[version:u64][json]`. */
export function decodeKvJsonGetReply(p: Uint8Array): KvJsonGetReply {
  const r = new ByteReader(p, 'kv_json_get reply');
  const version = r.u64('version');
  return { version, value: r.rest().slice() };
}

export function encodeKvJsonGetReply(reply: KvJsonGetReply): Uint8Array {
  return encodeKvGetReply(reply);
}

/** Value `[path_len:u16][path][json]`. */
export function encodeKvJsonSet(req: KvJsonSetRequest): OpPayload {
  const path = utf8(req.path || '$');
  const value = new ByteWriter(2 + path.length + req.value.length).bytes16(path).bytes(req.value).finish();
  return payload(
    req.key,
    value,
    options((b) => {
      if (req.ttlSeconds !== undefined && req.ttlSeconds !== 0n) b.u64(Opt.TTLSeconds, req.ttlSeconds);
    }),
  );
}

export function decodeKvJsonSet(body: RequestBody): KvJsonSetRequest {
  const v = body.value;
  if (v.length < 2) throw new ProtocolError('json_set: missing path_len');
  const r = new ByteReader(v, 'json_set value');
  const plen = r.u16();
  if (r.remaining < plen) throw new ProtocolError('json_set: truncated path');
  const path = fromUtf8(r.bytes(plen));
  const req: KvJsonSetRequest = { key: body.key, path, value: r.rest() };
  const ttl = opts(body).u64(Opt.TTLSeconds);
  return withOptional(req, 'ttlSeconds', ttl === 0n ? undefined : ttl);
}

/** `[version:u64]`; empty = version 0. */
export function decodeKvJsonSetReply(p: Uint8Array): KvJsonSetReply {
  if (p.length === 0) return { version: 0n };
  return { version: decodeVersionOnly(p, 'kv_json_set reply') };
}

export function encodeKvJsonSetReply(reply: KvJsonSetReply): Uint8Array {
  return u64le(reply.version);
}

export function encodeKvJsonDel(req: KvJsonDelRequest): OpPayload {
  return payload(req.key, utf8(req.path || '$'));
}

export function decodeKvJsonDel(body: RequestBody): KvJsonDelRequest {
  return { key: body.key, path: fromUtf8(body.value) };
}

/** Flo sends no payload for JSON DEL (not even a version); anything sent is ignored. */
export function decodeKvJsonDelReply(_p: Uint8Array): void {}
export function encodeKvJsonDelReply(): Uint8Array {
  return EMPTY;
}

// ---------------------------------------------------------------------------------------------
// Transactions 0x110 begin / 0x111 commit / 0x112 rollback
// ---------------------------------------------------------------------------------------------

export function encodeKvBeginTxn(req: KvBeginTxnRequest): OpPayload {
  return payload(
    req.routingKey,
    undefined,
    options((b) => {
      if (req.routingKey.length) b.bytes(Opt.RoutingKey, req.routingKey);
    }),
  );
}

/** Routing key = option 0x08 when present, else the key (may be empty: the server refuses it). */
export function decodeKvBeginTxn(body: RequestBody): KvBeginTxnRequest {
  return { routingKey: opts(body).raw(Opt.RoutingKey) ?? body.key };
}

/** `[0x00][txn_id:u64][pinned_hash:u64]`. */
export function decodeKvBeginTxnReply(p: Uint8Array): KvBeginTxnReply {
  const r = new ByteReader(p, 'kv_begin_txn reply');
  const variant = r.u8('variant');
  if (variant !== 0) throw new ProtocolError(`kv_begin_txn reply: unexpected variant ${variant}`);
  const txnId = r.u64('txn_id');
  const pinnedHash = r.u64('pinned_hash');
  r.end();
  return { txnId, pinnedHash };
}

export function encodeKvBeginTxnReply(reply: KvBeginTxnReply): Uint8Array {
  return new ByteWriter(17).u8(0).u64(reply.txnId).u64(reply.pinnedHash).finish();
}

function encodeTxnEnd(req: KvCommitTxnRequest): OpPayload {
  if (req.txnId === undefined) throw new RangeError('txnId is required');
  const txnId = req.txnId;
  return payload(
    req.routingKey,
    undefined,
    options((b) => addTxn(b, { txnId, routingKey: req.routingKey })),
  );
}

/** Txn id from option 0x09, else an 8-byte value (both accepted by Flo). */
function decodeTxnEnd(body: RequestBody): KvCommitTxnRequest {
  const o = opts(body);
  const routingKey = o.raw(Opt.RoutingKey) ?? body.key;
  let txnId: bigint | undefined;
  if (o.has(Opt.TxnID)) {
    txnId = o.u64(Opt.TxnID);
    if (txnId === undefined) throw new ProtocolError('txn_id option must be u64');
  } else if (body.value.length === 8) {
    txnId = new ByteReader(body.value).u64();
  }
  return txnId === undefined ? { routingKey } : { routingKey, txnId };
}

export function encodeKvCommitTxn(req: KvCommitTxnRequest): OpPayload {
  return encodeTxnEnd(req);
}

export function decodeKvCommitTxn(body: RequestBody): KvCommitTxnRequest {
  return decodeTxnEnd(body);
}

/** `[0x01][commit_index:u64][op_count:u16]`. */
export function decodeKvCommitTxnReply(p: Uint8Array): KvCommitTxnReply {
  const r = new ByteReader(p, 'kv_commit_txn reply');
  const variant = r.u8('variant');
  if (variant !== 1) throw new ProtocolError(`kv_commit_txn reply: unexpected variant ${variant}`);
  const commitIndex = r.u64('commit_index');
  const opCount = r.u16('op_count');
  r.end();
  return { commitIndex, opCount };
}

export function encodeKvCommitTxnReply(reply: KvCommitTxnReply): Uint8Array {
  return new ByteWriter(11).u8(1).u64(reply.commitIndex).u16(reply.opCount).finish();
}

export function encodeKvRollbackTxn(req: KvRollbackTxnRequest): OpPayload {
  return encodeTxnEnd(req);
}

export function decodeKvRollbackTxn(body: RequestBody): KvRollbackTxnRequest {
  return decodeTxnEnd(body);
}

export function decodeKvRollbackTxnReply(_p: Uint8Array): void {}
export function encodeKvRollbackTxnReply(): Uint8Array {
  return EMPTY;
}
