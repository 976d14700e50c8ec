/**
 * `flo.kv`: the key/value store. Every method returns a cold Observable: nothing is sent before
 * subscription, each subscription sends again, unsubscribing stops further requests. Argument
 * errors (`InvalidArgumentError`) arrive as the Observable's error, before anything is sent.
 *
 * Choices where Flo leaves room (see the README's "Differences from Flo"):
 * - `get` / `json.get`: NOT_FOUND is a value (`null`), not an error.
 * - `delete` / `json.del`: idempotent; a missing key (or path) completes quietly. With `ifMatch`, a
 *   missing key errors with `NotFoundError` (the expected version cannot match).
 * - `history` of a key never written: `[]`.
 * - `watch`: emits the current entry (if any), then every newer version, forever; when the key
 *   goes away (deleted, or expired: noticed within `pollMs`) it emits `null` once, and the entry
 *   again when the key comes back.
 * - `touch` / `persist` of a missing key: `NotFoundError`.
 */
import { Observable, map, of } from 'rxjs';
import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import {
  KV_MGET_MAX_KEYS,
  KV_SCAN_MAX_LIMIT,
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvMGetReply,
  decodeKvPutReply,
  encodeKvDelete,
  encodeKvExists,
  encodeKvGet,
  encodeKvIncr,
  encodeKvMGet,
  encodeKvPersist,
  encodeKvPut,
  encodeKvTouch,
} from '../protocol/kv.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import { withData } from '../codec/index.js';
import { describeError } from '../codec/types.js';
import { ignorePayload } from './core/call.js';
import type { ClientCore } from './core/context.js';
import { checkBlockMs } from './core/block-ms.js';
import { intIn } from './core/int-in.js';
import { KeyBytesCache, i64, keyBytes, keyText, lazy, putBytes, quietNotFound, u64 } from './kv-args.js';
import { kvEntry, withText } from './kv-entry.js';
import type {
  Int64Like,
  KvCallOptions,
  KvDeleteOptions,
  KvEntry,
  KvIncrOptions,
  KvKey,
  KvPutOptions,
  KvTouchOptions,
  KvWriteResult,
} from './kv-types.js';
import type { KvTxn, KvTxnBody, KvTxnResult } from './kv-txn.js';
import { onDemand } from './on-demand.js';
import type * as RareCalls from './kv-rare-calls.js';

export type * from './kv-types.js';
export type { KvTxn, KvTxnBody, KvTxnCallOptions, KvTxnOps, KvTxnResult, KvTxnState } from './kv-txn.js';

/** Options of `kv.get`. */
export interface KvGetOptions extends KvCallOptions {
  /**
   * Wait up to this many ms for the key to exist (a long-poll; the request deadline adds it).
   * 0 or absent = answer at once. At most 300 000 (`docs/protocol-decisions.md` #14); 0 is never sent on the wire.
   */
  readonly blockMs?: number;
}

/** Options of `kv.watch`. */
export interface KvWatchOptions extends KvCallOptions {
  /** The long-poll of each watch request, 1 to 300 000 ms. Default 30 000. */
  readonly pollMs?: number;
}

/** One entry of `kv.mget`, in the order of the keys asked for. */
export interface MGetEntry {
  readonly key: string;
  readonly found: boolean;
  /** 0 when not found. */
  readonly version: bigint;
  /** Empty when not found. */
  readonly value: Uint8Array;
  /** `value` decoded with the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
  /** `value` as UTF-8 text. */
  text(): string;
}

/** One entry of a scan (no version on the wire). `value` is empty for `keysOnly` scans. */
export interface KvScanEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** `value` decoded with the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
  /** `value` as UTF-8 text. */
  text(): string;
}

/** One page of `kv.scanPage`. */
export interface KvScanPage {
  readonly entries: readonly KvScanEntry[];
  /** Pass to the next `scanPage` call; present exactly when `hasMore` (on the embedded server). */
  readonly cursor?: Uint8Array;
  readonly hasMore: boolean;
}

/** Options of `kv.scan`. */
export interface KvScanOptions extends KvCallOptions {
  /** Entries asked for per request, 1 to 1024. Default 100. */
  readonly pageSize?: number;
  /** Only keys (values come back empty). */
  readonly keysOnly?: boolean;
}

/** Options of `kv.scanPage`. */
export interface KvScanPageOptions extends KvCallOptions {
  /** The cursor of the previous page; absent for the first page. */
  readonly cursor?: Uint8Array;
  /** 1 to 1024; absent = the server's default (1024). */
  readonly limit?: number;
  /** Only keys (values come back empty). */
  readonly keysOnly?: boolean;
}

/** One version of a key, newest first. */
export interface VersionEntry {
  readonly version: bigint;
  /** Write time in ns since the epoch (absent from the newest Flo server's layout). */
  readonly timestampNs?: bigint;
  /** The value (empty for a deletion). */
  readonly value: Uint8Array;
  /** `value` decoded with the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
  /** `value` as UTF-8 text. */
  text(): string;
}

/** Options of `kv.history`. */
export interface KvHistoryOptions extends KvCallOptions {
  /** Most versions returned; absent = everything kept. */
  readonly limit?: number;
}

/** A JSON node read by `kv.json.get`: `value` is compact JSON text, `data<T>()` parses it. */
export interface KvJsonEntry {
  readonly value: Uint8Array;
  /** The version of the whole document. */
  readonly version: bigint;
  /** `value` decoded with the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
}

/** `flo.kv.json`: server-side JSON documents addressed by JSONPath (`$`, `$.a.b`, `$.a[0]`). */
export interface KvJsonApi {
  /** The node at `path`, or `null` when the key or the path is missing. */
  get(key: KvKey, path?: string, options?: KvCallOptions): Observable<KvJsonEntry | null>;
  /**
   * Sets the node at `path` (`$` replaces/creates the document). `value`: a `Uint8Array` is sent as
   * JSON text as is; anything else (strings included) is `JSON.stringify`-ed.
   */
  set(key: KvKey, path: string, value: unknown, options?: KvCallOptions): Observable<KvWriteResult>;
  /** Removes the node at `path` (`$` deletes the key). A missing key or path completes quietly. */
  del(key: KvKey, path: string, options?: KvCallOptions): Observable<void>;
}

const DEFAULT_SCAN_PAGE = 100;
/** Scans, history, JSON paths and transactions: their code loads at the first subscription to one. */
const rare = /* @__PURE__ */ onDemand<typeof RareCalls>(() => import('./on-demand-modules.js'));
/** `kv.get`'s `blockMs` check: absent means 0 (answer at once). */
const GET_BLOCK_MS = { fallback: 0, allowZero: true } as const;
const decodePutResult = (payload: Uint8Array): KvWriteResult => ({ version: decodeKvPutReply(payload).version });

/** Pick the request options (namespace, timeout) out of a wider options object. */
function req(o: KvCallOptions | undefined): KvCallOptions {
  // Left undefined, each takes the client's value (`core.spec`).
  return o ? { namespace: o.namespace, timeoutMs: o.timeoutMs } : {};
}

function pageLimit(name: string, v: number | undefined, fallback: number | undefined): number | undefined {
  return v === undefined ? fallback : intIn(name, v, 1, KV_SCAN_MAX_LIMIT);
}

function jsonText(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value === undefined) throw new InvalidArgumentError('json.set: value must not be undefined');
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new InvalidArgumentError(`json.set: value cannot be JSON-encoded: ${describeError(e)}`, { cause: e });
  }
  if (text === undefined) throw new InvalidArgumentError(`json.set: value cannot be JSON-encoded (${typeof value})`);
  return utf8(text);
}

/** `flo.kv`: every method returns a cold Observable. */
export class KvApi {
  /** Server-side JSON documents. */
  declare readonly json: KvJsonApi;
  protected declare readonly core: ClientCore;
  /** The bytes of the keys `get` reads most. */
  private readonly getKeys_ = new KeyBytesCache();

  constructor(core: ClientCore) {
    this.core = core;
    this.json = {
      get: (key, path = '$', options) =>
        lazy(() => {
          const k = keyBytes(key);
          return rare((m) => m.jsonGet(core, k, path, req(options)));
        }),
      set: (key, path, value, options) =>
        lazy(() => {
          const k = keyBytes(key);
          const text = jsonText(value);
          return rare((m) => m.jsonSet(core, k, path, text, req(options)));
        }),
      del: (key, path, options) =>
        lazy(() => {
          const k = keyBytes(key);
          return rare((m) => m.jsonDel(core, k, path, req(options)));
        }),
    };
  }

  /** The key's entry, or `null` if it does not exist. With `blockMs`, waits for it to appear. */
  get(key: KvKey, options?: KvGetOptions): Observable<KvEntry | null> {
    const core = this.core;
    // The hottest read: no option objects of its own, the entry built in the decoder, and one
    // Observable per call (`lazyCall`).
    return core.lazyCall(
      () => {
        const k = this.getKeys_.bytes(key);
        if (options === undefined) return core.spec(Op.KvGet, encodeKvGet({ key: k }));
        const blockMs = checkBlockMs(options.blockMs, GET_BLOCK_MS);
        return core.spec(Op.KvGet, encodeKvGet(blockMs > 0 ? { key: k, blockMs } : { key: k }), options);
      },
      (payload: Uint8Array): KvEntry => {
        const r = decodeKvGetReply(payload);
        return kvEntry(keyText(key), r.value, r.version, core.codec);
      },
      true,
    );
  }

  /**
   * The current entry (if any), then every newer version, forever; `null` once when the key goes
   * away after an entry was emitted. Never emits a version twice (nor an older one).
   *
   * Each round sends a watch (a get with WaitMS = `pollMs`, answered when the version moves) and,
   * right behind it on the same connection, a plain get: the get catches a write that landed
   * between two rounds, the watch every write after it. Versions that follow each other faster
   * than a round trip may be coalesced (the newest is emitted). Rounds resume after a reconnect
   * (`poll`). A round that learns nothing twice in a row (e.g. the server's waiter pool is full and
   * it answers at once) waits a little before the next (50 ms doubling up to 1 s).
   *
   * ```
   * round:   (watch+get)----v2|(watch+get)--------v3|(watch+get)...
   * output:  v1-------------v2--------------------v3
   * ```
   */
  watch(key: KvKey, options: KvWatchOptions = {}): Observable<KvEntry | null> {
    // Checked here, at subscription (before any code loads); the rounds are in `kv-watch.ts`.
    return lazy(() => {
      const k = keyBytes(key);
      const pollMs = checkBlockMs(options.pollMs);
      return rare((m) => m.watch(this.core, key, k, pollMs, req(options)));
    });
  }

  /** Writes `value` (bytes as is, strings as UTF-8, anything else via the codec); emits `{ version }`. */
  put(key: KvKey, value: unknown, options?: KvPutOptions): Observable<KvWriteResult> {
    const core = this.core;
    return core.lazyCall(() => {
      const namespace = core.ns(options);
      const bytes = putBytes(namespace, key, value, core.codec);
      if (options === undefined) return core.spec(Op.KvPut, encodeKvPut(bytes));
      const ttlSeconds = u64('ttlSeconds', options.ttlSeconds);
      const casVersion = u64('casVersion', options.casVersion);
      const body = encodeKvPut({ ...bytes, ttlSeconds, casVersion, ifNotExists: options.ifNotExists, ifExists: options.ifExists });
      return core.spec(Op.KvPut, body, { ...req(options), ...(casVersion !== undefined ? { idempotent: true } : {}) });
    }, decodePutResult);
  }

  /** Deletes the key; emits `undefined` once. Idempotent unless `ifMatch` is given. */
  delete(key: KvKey, options: KvDeleteOptions = {}): Observable<void> {
    return lazy(() => {
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvDelete({ key: keyBytes(key), ifMatch });
      const call$ = this.core.call(this.core.spec(Op.KvDelete, body, req(options)), ignorePayload);
      return ifMatch === undefined ? call$.pipe(quietNotFound()) : call$;
    });
  }

  /** Up to 256 keys in one round trip, in order, each with `found`. An empty list sends nothing. */
  mget(keys: readonly KvKey[], options: KvCallOptions = {}): Observable<MGetEntry[]> {
    return lazy(() => {
      if (!Array.isArray(keys)) throw new InvalidArgumentError('mget: keys must be an array');
      if (keys.length > KV_MGET_MAX_KEYS) {
        throw new InvalidArgumentError(`mget: at most ${KV_MGET_MAX_KEYS} keys per call, got ${keys.length}`);
      }
      if (keys.length === 0) return of<MGetEntry[]>([]);
      const bytes = keys.map((k) => keyBytes(k));
      return this.core.call(this.core.spec(Op.KvMGet, encodeKvMGet({ keys: bytes }), req(options)), decodeKvMGetReply).pipe(
        map((entries) =>
          entries.map((e) => withText(withData({ key: fromUtf8(e.key), found: e.found, version: e.version, value: e.value }, 'value', this.core.codec)) as MGetEntry),
        ),
      );
    });
  }

  /** Adds `delta` (default 1) to a 64-bit counter (a missing key counts as 0); emits the new value. */
  incr(key: KvKey, options: KvIncrOptions = {}): Observable<bigint> {
    return lazy(() => {
      const delta = i64('delta', options.delta);
      const body = encodeKvIncr({ key: keyBytes(key), delta });
      return this.core.call(this.core.spec(Op.KvIncr, body, req(options)), decodeKvIncrReply).pipe(map((r) => r.value));
    });
  }

  /** Sets the TTL to `ttlSeconds` from now (0 = permanent). A missing key: `NotFoundError`. */
  touch(key: KvKey, ttlSeconds: Int64Like, options: KvTouchOptions = {}): Observable<void> {
    return lazy(() => {
      const ttl = u64('ttlSeconds', ttlSeconds);
      if (ttl === undefined) throw new InvalidArgumentError('touch: ttlSeconds is required');
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvTouch({ key: keyBytes(key), ttlSeconds: ttl, ifMatch });
      return this.core.call(this.core.spec(Op.KvTouch, body, req(options)), ignorePayload);
    });
  }

  /** Clears the TTL. A missing key: `NotFoundError`. */
  persist(key: KvKey, options: KvTouchOptions = {}): Observable<void> {
    return lazy(() => {
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvPersist({ key: keyBytes(key), ifMatch });
      return this.core.call(this.core.spec(Op.KvPersist, body, req(options)), ignorePayload);
    });
  }

  /** Whether the key exists (live: not deleted, not expired). */
  exists(key: KvKey, options: KvCallOptions = {}): Observable<boolean> {
    return lazy(() => {
      const spec = this.core.spec(Op.KvExists, encodeKvExists({ key: keyBytes(key) }), req(options));
      return this.core.call(spec, decodeKvExistsReply).pipe(map((r) => r.present));
    });
  }

  /**
   * One page of keys under `prefix` (in byte order), for manual paging: pass the returned `cursor`
   * to the next call while `hasMore`.
   */
  scanPage(prefix: KvKey, options: KvScanPageOptions = {}): Observable<KvScanPage> {
    return lazy(() => {
      const limit = pageLimit('limit', options.limit, undefined);
      return rare((m) => m.scanPage(this.core, prefix, limit, options.cursor, options.keysOnly, req(options)));
    });
  }

  /**
   * Every entry under `prefix`, one by one, in byte order. A page (`pageSize`, default 100) is
   * fetched only when the previous one has been emitted and the subscriber is still there, so
   * `scan(p).pipe(take(10))` sends one request; unsubscribing cancels the page in flight. A server
   * that says "more" without a cursor cannot be paged: `ProtocolError`.
   */
  scan(prefix: KvKey, options: KvScanOptions = {}): Observable<KvScanEntry> {
    return lazy(() => {
      const limit = pageLimit('pageSize', options.pageSize, DEFAULT_SCAN_PAGE) as number;
      return rare((m) => m.scan(this.core, prefix, limit, options.keysOnly, req(options)));
    });
  }

  /** The key's versions, newest first (the current state first; a deletion has an empty value). */
  history(key: KvKey, options: KvHistoryOptions = {}): Observable<VersionEntry[]> {
    return lazy(() => {
      const limit = options.limit;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff)) {
        throw new InvalidArgumentError(`history: limit must be a positive integer, got ${String(limit)}`);
      }
      const k = keyBytes(key);
      return rare((m) => m.history(this.core, k, limit, req(options)));
    });
  }

  /**
   * Runs `body` in a transaction pinned to `routingKey`: BEGIN on subscribe, then `body(txn)`,
   * whose returned Observable / Promise (or nothing) says when it is done; COMMIT then, and emit
   * `{ opCount, commitIndex }`. An error rolls back and is re-thrown; unsubscribing before COMMIT
   * rolls back. `txn` offers put/get/delete/incr/touch/persist/exists; each op is cold like
   * everything else, so it must be returned (e.g. `concat(txn.put(...), txn.incr(...))`) or
   * awaited: an op created but never subscribed fails the transaction (rolled back).
   */
  transaction(routingKey: KvKey, body: KvTxnBody, options: KvCallOptions = {}): Observable<KvTxnResult> {
    return lazy(() => {
      keyBytes(routingKey, 'routingKey');
      return rare((m) => m.runTransaction(this.core, routingKey, body, req(options)));
    });
  }

  /**
   * The Go SDK's `Begin`: emits an open `KvTxn` (commit/rollback are yours to call). If the
   * subscriber leaves before BEGIN is answered, the transaction is rolled back when the reply comes.
   */
  begin(routingKey: KvKey, options: KvCallOptions = {}): Observable<KvTxn> {
    return lazy(() => {
      keyBytes(routingKey, 'routingKey');
      return rare((m) => m.beginTxn(this.core, routingKey, req(options)));
    });
  }
}
