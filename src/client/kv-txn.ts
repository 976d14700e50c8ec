/**
 * KV transactions: `flo.kv.transaction(routingKey, body)` (commit on completion, rollback on error
 * or unsubscribe) and the lower-level `flo.kv.begin(routingKey)` handle with `commit()` /
 * `rollback()` (the Go SDK's `Begin` / `Commit` / `Rollback`).
 *
 * Every operation of a transaction carries its routing key and txn id (options 0x08, 0x09) and is
 * buffered by the server until commit (`docs/protocol-decisions.md` #17): an in-txn `put` answers version 0, an in-txn
 * `get` sees the committed state with the txn's own buffered writes applied, an in-txn `incr`
 * answers what the server sends (the delta on Flo and on the embedded server: the counter is only
 * known at commit).
 */
import {
  EMPTY,
  Observable,
  Subject,
  Subscription,
  concat,
  defer,
  finalize,
  from,
  ignoreElements,
  map,
  of,
  take,
  type ObservableInput,
} from 'rxjs';
import type { ResponseFrame } from '../protocol/frame.js';
import { InvalidArgumentError, TxnUnsupportedOpError } from '../protocol/errors.js';
import {
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvPutReply,
  encodeKvDelete,
  encodeKvExists,
  encodeKvGet,
  encodeKvIncr,
  encodeKvPersist,
  encodeKvPut,
  encodeKvTouch,
  type KvTxnRef,
} from '../protocol/kv.js';
import {
  decodeKvBeginTxnReply,
  decodeKvCommitTxnReply,
  encodeKvBeginTxn,
  encodeKvCommitTxn,
  encodeKvRollbackTxn,
} from '../protocol/kv-rare.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import { Status } from '../protocol/status.js';
import { ignorePayload } from './core/call.js';
import type { ClientCore } from './core/context.js';
import { i64, keyBytes, keyText, lazy, putBytes, quietNotFound, u64 } from './kv-args.js';
// Kept importable from here: the modular entry imports it from this module.
export { quietNotFound } from './kv-args.js';
import { kvEntry } from './kv-entry.js';
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

/** What a commit reports. */
export interface KvTxnResult {
  /** Operations applied by the commit. */
  readonly opCount: number;
  /** The log index of the commit. */
  readonly commitIndex: bigint;
}

/** Per-call options inside a transaction: the namespace is the transaction's. */
export type KvTxnCallOptions = Omit<KvCallOptions, 'namespace'>;

/**
 * The operations a transaction supports. `scan`, `scanPage`, `mget`, `json`, `history` and `watch`
 * are deliberately absent (Flo refuses them inside a transaction): calling them through a cast
 * throws `TxnUnsupportedOpError`.
 */
export interface KvTxnOps {
  /** The server's transaction id. */
  readonly txnId: bigint;
  /** The routing key the transaction is pinned to. */
  readonly routingKey: string;
  /** Buffers a put; answers version 0 (nothing is written before commit). CAS/NX/XX are checked now. */
  put(key: KvKey, value: unknown, options?: Omit<KvPutOptions, 'namespace'>): Observable<KvWriteResult>;
  /** Reads committed state with this txn's buffered ops applied (a buffered write reads as version 0). */
  get(key: KvKey, options?: KvTxnCallOptions): Observable<KvEntry | null>;
  /** Buffers a delete. A missing key completes quietly (with `ifMatch`: `NotFoundError`). */
  delete(key: KvKey, options?: Omit<KvDeleteOptions, 'namespace'>): Observable<void>;
  /** Buffers an increment; emits what the server answers (the delta: the counter is known at commit). */
  incr(key: KvKey, options?: Omit<KvIncrOptions, 'namespace'>): Observable<bigint>;
  /** Buffers a TTL change (seconds; 0 = persist). */
  touch(key: KvKey, ttlSeconds: Int64Like, options?: Omit<KvTouchOptions, 'namespace'>): Observable<void>;
  /** Buffers clearing the TTL. */
  persist(key: KvKey, options?: Omit<KvTouchOptions, 'namespace'>): Observable<void>;
  /** Whether the key exists as this transaction sees it. */
  exists(key: KvKey, options?: KvTxnCallOptions): Observable<boolean>;
}

/** Where a transaction is: open, committing, committed or rolled back. */
export type KvTxnState = 'open' | 'committing' | 'committed' | 'rolled-back';

/** A transaction handle from `kv.begin()`: its operations plus `commit()` and `rollback()`. */
export interface KvTxn extends KvTxnOps {
  /** `open` until `commit()` or `rollback()` is subscribed. */
  readonly state: KvTxnState;
  /** Applies every buffered op at once. Errors (`InvalidArgumentError`) if the txn is not open. */
  commit(options?: KvTxnCallOptions): Observable<KvTxnResult>;
  /** Drops the buffered ops; emits `undefined` once. Idempotent: also when already ended or unknown to the server. */
  rollback(options?: KvTxnCallOptions): Observable<void>;
}

/** The body of `kv.transaction`: returns an Observable, a Promise, or nothing. */
export type KvTxnBody = (txn: KvTxnOps) => ObservableInput<unknown> | void;

const UNSUPPORTED = ['scan', 'scanPage', 'mget', 'history', 'watch', 'transaction', 'begin'] as const;

function unsupported(op: string): () => never {
  return () => {
    throw new TxnUnsupportedOpError(`flo: kv.${op} is not supported inside a transaction`);
  };
}

/** @internal One open transaction. */
export class TxnHandle implements KvTxn {
  state: KvTxnState = 'open';
  readonly routingKey: string;
  private readonly ref_: KvTxnRef;
  /** Ops created and not yet subscribed (so a body that forgets to subscribe one is caught). */
  private readonly unsubscribed_ = new Set<object>();
  private active_ = 0;
  private readonly idle_ = new Subject<void>();
  private readonly core_: ClientCore;
  private readonly namespace_: string;
  private readonly routingKeyBytes_: Uint8Array;
  private readonly timeoutMs_: number | undefined;

  constructor(
    core_: ClientCore,
    namespace_: string,
    routingKeyBytes_: Uint8Array,
    readonly txnId: bigint,
    timeoutMs_: number | undefined,
  ) {
    this.core_ = core_;
    this.namespace_ = namespace_;
    this.routingKeyBytes_ = routingKeyBytes_;
    this.timeoutMs_ = timeoutMs_;
    this.routingKey = keyText(routingKeyBytes_);
    this.ref_ = { txnId, routingKey: routingKeyBytes_ };
    for (const op of UNSUPPORTED) Object.defineProperty(this, op, { value: unsupported(op), enumerable: false });
    const json = { get: unsupported('json.get'), set: unsupported('json.set'), del: unsupported('json.del') };
    Object.defineProperty(this, 'json', { value: json, enumerable: false });
  }

  private opts_(o: KvTxnCallOptions | undefined) {
    const timeoutMs = o?.timeoutMs ?? this.timeoutMs_;
    return timeoutMs === undefined ? { namespace: this.namespace_ } : { namespace: this.namespace_, timeoutMs };
  }

  /** Wraps one in-txn request: refused once the txn has ended, tracked while in flight. */
  private op_<T>(build: () => Observable<T>): Observable<T> {
    const token = {};
    this.unsubscribed_.add(token);
    return defer(() => {
      this.unsubscribed_.delete(token);
      if (this.state !== 'open') {
        throw new InvalidArgumentError(`flo: transaction ${this.txnId} is ${this.state}: no more operations`);
      }
      this.active_++;
      return build().pipe(
        finalize(() => {
          this.active_--;
          if (this.active_ === 0) this.idle_.next();
        }),
      );
    });
  }

  put(key: KvKey, value: unknown, options: Omit<KvPutOptions, 'namespace'> = {}): Observable<KvWriteResult> {
    return this.op_(() => {
      const ttlSeconds = u64('ttlSeconds', options.ttlSeconds);
      const casVersion = u64('casVersion', options.casVersion);
      const body = encodeKvPut({
        ...putBytes(this.namespace_, key, value, this.core_.codec),
        txn: this.ref_,
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
        ...(casVersion !== undefined ? { casVersion } : {}),
        ...(options.ifNotExists ? { ifNotExists: true } : {}),
        ...(options.ifExists ? { ifExists: true } : {}),
      });
      return this.core_.call(this.core_.spec(Op.KvPut, body, this.opts_(options)), decodeKvPutReply);
    });
  }

  get(key: KvKey, options?: KvTxnCallOptions): Observable<KvEntry | null> {
    return this.op_(() => {
      const k = keyBytes(key);
      const spec = this.core_.spec(Op.KvGet, encodeKvGet({ key: k, txn: this.ref_ }), this.opts_(options));
      return this.core_
        .call(spec, decodeKvGetReply, { notFound: 'null' })
        .pipe(map((r) => (r ? kvEntry(keyText(key), r.value, r.version, this.core_.codec) : null)));
    });
  }

  delete(key: KvKey, options: Omit<KvDeleteOptions, 'namespace'> = {}): Observable<void> {
    return this.op_(() => {
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvDelete({ key: keyBytes(key), txn: this.ref_, ...(ifMatch !== undefined ? { ifMatch } : {}) });
      const call$ = this.core_.call(this.core_.spec(Op.KvDelete, body, this.opts_(options)), ignorePayload);
      return ifMatch === undefined ? call$.pipe(quietNotFound()) : call$;
    });
  }

  incr(key: KvKey, options: Omit<KvIncrOptions, 'namespace'> = {}): Observable<bigint> {
    return this.op_(() => {
      const delta = i64('delta', options.delta);
      const body = encodeKvIncr({ key: keyBytes(key), txn: this.ref_, ...(delta !== undefined ? { delta } : {}) });
      return this.core_.call(this.core_.spec(Op.KvIncr, body, this.opts_(options)), decodeKvIncrReply).pipe(map((r) => r.value));
    });
  }

  touch(key: KvKey, ttlSeconds: Int64Like, options: Omit<KvTouchOptions, 'namespace'> = {}): Observable<void> {
    return this.op_(() => {
      const ttl = u64('ttlSeconds', ttlSeconds) as bigint;
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvTouch({ key: keyBytes(key), ttlSeconds: ttl, txn: this.ref_, ...(ifMatch !== undefined ? { ifMatch } : {}) });
      return this.core_.call(this.core_.spec(Op.KvTouch, body, this.opts_(options)), ignorePayload);
    });
  }

  persist(key: KvKey, options: Omit<KvTouchOptions, 'namespace'> = {}): Observable<void> {
    return this.op_(() => {
      const ifMatch = u64('ifMatch', options.ifMatch);
      const body = encodeKvPersist({ key: keyBytes(key), txn: this.ref_, ...(ifMatch !== undefined ? { ifMatch } : {}) });
      return this.core_.call(this.core_.spec(Op.KvPersist, body, this.opts_(options)), ignorePayload);
    });
  }

  exists(key: KvKey, options?: KvTxnCallOptions): Observable<boolean> {
    return this.op_(() => {
      const spec = this.core_.spec(Op.KvExists, encodeKvExists({ key: keyBytes(key), txn: this.ref_ }), this.opts_(options));
      return this.core_.call(spec, decodeKvExistsReply).pipe(map((r) => r.present));
    });
  }

  commit(options?: KvTxnCallOptions): Observable<KvTxnResult> {
    return defer(() => {
      if (this.state !== 'open') throw new InvalidArgumentError(`flo: transaction ${this.txnId} is ${this.state}: cannot commit`);
      this.state = 'committing';
      const body = encodeKvCommitTxn({ routingKey: this.routingKeyBytes_, txnId: this.txnId });
      return this.core_.call(this.core_.spec(Op.KvCommitTxn, body, this.opts_(options)), decodeKvCommitTxnReply).pipe(
        map((r): KvTxnResult => {
          this.state = 'committed';
          return { opCount: r.opCount, commitIndex: r.commitIndex };
        }),
      );
    });
  }

  rollback(options?: KvTxnCallOptions): Observable<void> {
    return defer(() => {
      if (this.state !== 'open') return of(undefined);
      this.state = 'rolled-back';
      return rollbackRequest(this.core_, this.namespace_, this.routingKeyBytes_, this.txnId, this.opts_(options).timeoutMs);
    });
  }

  /** @internal Emits once when no op of this txn is in flight. */
  whenIdle(): Observable<void> {
    return defer(() => (this.active_ === 0 ? of(undefined) : this.idle_.pipe(take(1))));
  }

  /** @internal Ops created but never subscribed. */
  get forgotten(): number {
    return this.unsubscribed_.size;
  }
}

function rollbackRequest(
  core: ClientCore,
  namespace: string,
  routingKey: Uint8Array,
  txnId: bigint,
  timeoutMs: number | undefined,
): Observable<void> {
  const body = encodeKvRollbackTxn({ routingKey, txnId });
  const spec = core.spec(Op.KvRollbackTxn, body, timeoutMs === undefined ? { namespace } : { namespace, timeoutMs });
  // The server may have dropped it already (e.g. it was never begun, or a commit raced): fine.
  return core.call(spec, ignorePayload).pipe(quietNotFound());
}

/**
 * BEGIN: emits the open handle once, then completes. If the subscriber leaves before the reply
 * (unsubscribe, timeout), the transaction the late reply names is rolled back at once.
 */
export function beginTxn(core: ClientCore, routingKey: KvKey, options: KvCallOptions = {}): Observable<TxnHandle> {
  return lazy(() => {
    const rk = keyBytes(routingKey, 'routingKey');
    const namespace = core.ns(options);
    const timeoutMs = options.timeoutMs ?? core.timeoutMs;
    const onLateReply = (reply: ResponseFrame) => {
      if (reply.status !== Status.OK) return;
      try {
        const { txnId } = decodeKvBeginTxnReply(reply.payload);
        rollbackRequest(core, namespace, rk, txnId, timeoutMs).subscribe({ error: () => undefined });
      } catch {
        // an undecodable late reply names no transaction we could roll back
      }
    };
    const spec = core.spec(Op.KvBeginTxn, encodeKvBeginTxn({ routingKey: rk }), {
      namespace,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      onLateReply,
    });
    return core.call(spec, decodeKvBeginTxnReply).pipe(map((r) => new TxnHandle(core, namespace, rk, r.txnId, timeoutMs)));
  });
}

/**
 * `kv.transaction`: BEGIN on subscribe, run `body(txn)`, wait for its ops still in flight, COMMIT,
 * emit `{ opCount, commitIndex }` and complete. An error (thrown by the body, emitted by what it
 * returned, or an op it created but never subscribed) sends ROLLBACK, waits for its answer, then
 * errors with the original error. Unsubscribing before COMMIT was sent rolls back (fire and forget;
 * a BEGIN still in flight is rolled back when its reply arrives). Once COMMIT is sent, the outcome
 * is the server's: unsubscribing no longer undoes it.
 */
export function runTransaction(
  core: ClientCore,
  routingKey: KvKey,
  body: KvTxnBody,
  options: KvCallOptions = {},
): Observable<KvTxnResult> {
  return new Observable<KvTxnResult>((subscriber) => {
    const work = new Subscription();
    let txn: TxnHandle | undefined;

    const fail = (err: unknown): void => {
      if (txn && txn.state === 'open') {
        work.add(txn.rollback().subscribe({ error: () => subscriber.error(err), complete: () => subscriber.error(err) }));
      } else {
        subscriber.error(err);
      }
    };

    const run = (handle: TxnHandle): void => {
      txn = handle;
      let out: ObservableInput<unknown> | void;
      try {
        out = body(handle);
      } catch (err) {
        fail(err);
        return;
      }
      const body$ = out === undefined || out === null ? EMPTY : defer(() => from(out as ObservableInput<unknown>));
      const commit$ = defer(() => {
        if (handle.forgotten > 0) {
          throw new InvalidArgumentError(
            `flo: ${handle.forgotten} transaction operation(s) were created but never subscribed ` +
              '(return them from the body, e.g. concat(txn.put(...), txn.incr(...)), or await them): rolled back',
          );
        }
        return handle.commit();
      });
      work.add(
        concat(body$.pipe(ignoreElements()), handle.whenIdle().pipe(ignoreElements()), commit$).subscribe({
          next: (r) => subscriber.next(r),
          error: fail,
          complete: () => subscriber.complete(),
        }),
      );
    };

    work.add(beginTxn(core, routingKey, options).subscribe({ next: run, error: (e: unknown) => subscriber.error(e) }));

    return () => {
      work.unsubscribe();
      if (txn && txn.state === 'open') txn.rollback().subscribe({ error: () => undefined });
    };
  });
}
