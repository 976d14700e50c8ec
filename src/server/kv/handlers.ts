/**
 * The KV subsystem of the embedded server: one handler per KV opcode over a `KvStore`
 * (`docs/protocol-decisions.md` #1, #14-#20). Blocking gets (BlockMS 0x17) and watches
 * (WaitMS 0x18) park with `Waiters` on the server clock.
 */
import {
  Op,
  Opt,
  ProtocolError,
  decodeKvBeginTxn,
  decodeKvCommitTxn,
  decodeKvDelete,
  decodeKvExists,
  decodeKvGet,
  decodeKvHistory,
  decodeKvIncr,
  decodeKvJsonDel,
  decodeKvJsonGet,
  decodeKvJsonSet,
  decodeKvMGet,
  decodeKvPersist,
  decodeKvPut,
  decodeKvRollbackTxn,
  decodeKvScan,
  decodeKvTouch,
  encodeKvBeginTxnReply,
  encodeKvCommitTxnReply,
  encodeKvExistsReply,
  encodeKvHistoryReply,
  encodeKvIncrReply,
  encodeKvJsonGetReply,
  encodeKvJsonSetReply,
  encodeKvMGetReply,
  encodeKvScanReply,
  type KvTxnRef,
} from '../../protocol/index.js';
import type { Handler, RequestContext, ServerEnv, Subsystem } from '../types.js';
import { itemsWithin, MAX_REPLY_BYTES } from '../reply-caps.js';
import { MAX_BLOCK_MS } from '../timers.js';
import { Waiters } from '../waiters.js';
import { badRequest, notFound, ok } from '../reply.js';
import { KvGetOk, KvPutOk } from './replies.js';
import { KvMessages, KvStore, byteString, type PutConditions, type TxnUse } from './store.js';


/** Longest BlockMS / WaitMS accepted (Flo's newest server refuses more; `docs/protocol-decisions.md` #14). */
export const KV_MAX_WAIT_MS = MAX_BLOCK_MS;

export interface KvSubsystem extends Subsystem {
  readonly store: KvStore;
  /** Parked blocking gets and watches. */
  readonly waiting: () => number;
}

type KvValueReply = { version: bigint; value: Uint8Array };

/** A put inside a transaction answers version 0 (the version is known at commit). */
const TXN_PUT_OK = new KvPutOk(0n);

/** The conditions of a put without options: none. */
const NO_CONDITIONS: PutConditions = {};

export function createKvSubsystem(env: ServerEnv): KvSubsystem {
  const waiters = new Waiters(env.clock, env.parking);
  const waitKey = (ns: string, key: string) => `${ns}\u0000${key}`;
  const store = new KvStore(env.clock, {
    // Most writes have nobody waiting: then not even the wait key is built.
    onChange: (ns, key) => {
      if (waiters.count() > 0) waiters.wake(waitKey(ns, key));
    },
    ...(env.persistence ? { persistence: env.persistence } : {}),
    ...(env.kvVersionsKept !== undefined ? { historyDepth: env.kvVersionsKept - 1 } : {}),
  });
  const nsOf = (ctx: RequestContext) => (ctx.namespace === '' ? 'default' : ctx.namespace);

  const use = (ctx: RequestContext, txn: KvTxnRef): TxnUse => ({
    txnId: txn.txnId,
    nsBytes: ctx.body.namespace,
    routingKey: txn.routingKey ?? ctx.body.key,
  });
  const noTxn = (ctx: RequestContext) => {
    if (ctx.options.has(Opt.TxnID)) throw badRequest(KvMessages.txnUnsupported);
  };
  const valueReply = (v: KvValueReply | undefined) => {
    if (!v) throw notFound();
    return new KvGetOk(v.version, v.value);
  };

  async function blockingGet(ctx: RequestContext, key: Uint8Array, ms: number) {
    const ns = nsOf(ctx);
    const wk = waitKey(ns, byteString(key));
    const deadline = env.clock.now() + ms;
    for (;;) {
      const v = store.get(ns, key);
      if (v) return new KvGetOk(v.version, v.value);
      if (!(await waiters.park(wk, deadline, ctx.signal, ctx.connectionId))) return valueReply(store.get(ns, key));
    }
  }

  /** Answers when the key's version passes its version at request time; a delete answers NOT_FOUND. */
  async function watch(ctx: RequestContext, key: Uint8Array, ms: number) {
    const ns = nsOf(ctx);
    store.checkKey(ns, key);
    const k = byteString(key);
    const wk = waitKey(ns, k);
    const start = store.versionOf(ns, key);
    const deadline = env.clock.now() + ms;
    for (;;) {
      if (store.versionOf(ns, key) > start) return valueReply(store.peek(ns, k));
      if (!(await waiters.park(wk, deadline, ctx.signal, ctx.connectionId))) {
        if (store.versionOf(ns, key) > start) return valueReply(store.peek(ns, k));
        throw notFound();
      }
    }
  }

  const handlers = new Map<number, Handler>([
    [
      Op.KvPut,
      (ctx) => {
        // Most puts carry no options: then there is nothing to decode beyond the body's sections.
        if (ctx.body.options.length === 0) return new KvPutOk(store.putVersionNo(nsOf(ctx), ctx.body.key, ctx.body.value, NO_CONDITIONS));
        const req = decodeKvPut(ctx.body);
        const ns = nsOf(ctx);
        if (req.txn) {
          store.txnPut(ns, req.key, req.value, req, use(ctx, req.txn));
          return TXN_PUT_OK;
        }
        return new KvPutOk(store.putVersionNo(ns, req.key, req.value, req));
      },
    ],
    [
      Op.KvGet,
      (ctx) => {
        // A plain get (no options: no wait, no transaction) needs no request object.
        if (ctx.body.options.length === 0) {
          const current = store.getNow(nsOf(ctx), ctx.body.key);
          if (!current) throw notFound();
          return new KvGetOk(current.versionNo, current.value);
        }
        const req = decodeKvGet(ctx.body);
        const ns = nsOf(ctx);
        // Blocking options are evaluated before any transaction handling (as Flo); 0 = do not wait.
        const wait = req.blockMs ? { ms: req.blockMs, block: true } : req.waitMs ? { ms: req.waitMs, block: false } : undefined;
        if (wait) {
          if (wait.ms > KV_MAX_WAIT_MS) throw badRequest(`${wait.block ? 'block_ms' : 'wait_ms'} must be at most ${KV_MAX_WAIT_MS}`);
          return wait.block ? blockingGet(ctx, req.key, wait.ms) : watch(ctx, req.key, wait.ms);
        }
        if (req.txn) return valueReply(store.txnGet(ns, req.key, use(ctx, req.txn)));
        return valueReply(store.get(ns, req.key));
      },
    ],
    [
      Op.KvMGet,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvMGet(ctx.body);
        const entries = store.mget(nsOf(ctx), req.keys);
        let size = 4;
        for (const e of entries) size += 15 + e.key.length + e.value.length;
        if (size > MAX_REPLY_BYTES) {
          throw badRequest(`mget reply would be ${size} bytes (max ${MAX_REPLY_BYTES}): ask for fewer keys`);
        }
        return ok(encodeKvMGetReply(entries));
      },
    ],
    [
      Op.KvDelete,
      (ctx) => {
        const req = decodeKvDelete(ctx.body);
        const ns = nsOf(ctx);
        if (req.txn) store.txnDelete(ns, req.key, req.ifMatch, use(ctx, req.txn));
        else store.delete(ns, req.key, req.ifMatch);
        return ok();
      },
    ],
    [
      Op.KvScan,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvScan(ctx.body);
        const page = store.scan(nsOf(ctx), req.prefix, req.limit ?? 0, req.cursor, req.keysOnly ?? false);
        // A page is cut at the reply cap; the cursor then continues after its last key.
        const fit = itemsWithin(page.entries, (e) => 6 + e.key.length + e.value.length);
        if (fit < page.entries.length) {
          const entries = page.entries.slice(0, fit);
          return ok(encodeKvScanReply({ entries, hasMore: true, cursor: entries[fit - 1].key }, env.profile));
        }
        return ok(encodeKvScanReply(page, env.profile));
      },
    ],
    [
      Op.KvHistory,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvHistory(ctx.body);
        const all = store.history(nsOf(ctx), req.key, req.limit ?? 0);
        if (!all) throw notFound();
        // Newest first: past the reply cap the oldest versions are left out.
        const items = all.slice(0, itemsWithin(all, (h) => 20 + h.value.length));
        return ok(encodeKvHistoryReply(items, env.profile));
      },
    ],
    [
      Op.KvIncr,
      (ctx) => {
        const req = decodeKvIncr(ctx.body);
        const ns = nsOf(ctx);
        if (req.txn) {
          store.txnIncr(ns, req.key, req.delta, use(ctx, req.txn));
          return ok(encodeKvIncrReply({ version: 0n, value: req.delta }));
        }
        return ok(encodeKvIncrReply(store.incr(ns, req.key, req.delta)));
      },
    ],
    [
      Op.KvJsonGet,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvJsonGet(ctx.body);
        const v = store.jsonGet(nsOf(ctx), req.key, req.path);
        if (!v) throw notFound();
        return ok(encodeKvJsonGetReply(v));
      },
    ],
    [
      Op.KvJsonSet,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvJsonSet(ctx.body);
        const version = store.jsonSet(nsOf(ctx), req.key, req.path, req.value, req.ttlSeconds);
        if (version === undefined) throw notFound();
        return ok(encodeKvJsonSetReply({ version }));
      },
    ],
    [
      Op.KvJsonDel,
      (ctx) => {
        noTxn(ctx);
        const req = decodeKvJsonDel(ctx.body);
        if (!store.jsonDel(nsOf(ctx), req.key, req.path)) throw notFound();
        return ok();
      },
    ],
    [
      Op.KvBeginTxn,
      (ctx) => {
        const req = decodeKvBeginTxn(ctx.body);
        return ok(encodeKvBeginTxnReply(store.begin(nsOf(ctx), ctx.body.namespace, req.routingKey)));
      },
    ],
    [
      Op.KvCommitTxn,
      (ctx) => {
        const req = decodeKvCommitTxn(ctx.body);
        if (req.txnId === undefined) throw badRequest(KvMessages.commitNoId);
        return ok(encodeKvCommitTxnReply(store.commit(nsOf(ctx), req.txnId)));
      },
    ],
    [
      Op.KvRollbackTxn,
      (ctx) => {
        const req = decodeKvRollbackTxn(ctx.body);
        if (req.txnId === undefined) throw badRequest(KvMessages.rollbackNoId);
        store.rollback(nsOf(ctx), req.txnId);
        return ok();
      },
    ],
    [
      Op.KvTouch,
      (ctx) => {
        const req = decodeKvTouch(ctx.body);
        const ns = nsOf(ctx);
        if (req.txn) store.txnTouch(ns, req.key, req.ttlSeconds, req.ifMatch, use(ctx, req.txn));
        else store.touch(ns, req.key, req.ttlSeconds, req.ifMatch);
        return ok();
      },
    ],
    [
      Op.KvPersist,
      (ctx) => {
        const req = decodeKvPersist(ctx.body);
        const ns = nsOf(ctx);
        if (req.txn) store.txnPersist(ns, req.key, req.ifMatch, use(ctx, req.txn));
        else store.persist(ns, req.key, req.ifMatch);
        return ok();
      },
    ],
    [
      Op.KvExists,
      (ctx) => {
        const req = decodeKvExists(ctx.body);
        const ns = nsOf(ctx);
        const r = req.txn ? store.txnExists(ns, req.key, use(ctx, req.txn)) : store.exists(ns, req.key);
        return ok(encodeKvExistsReply(r));
      },
    ],
  ]);

  // Decoders throw ProtocolError with Flo's message; the client sees BAD_REQUEST with that text.
  const toReplyError = (err: unknown): unknown => (err instanceof ProtocolError ? badRequest(err.message) : err);
  const wrapped = new Map<number, Handler>();
  for (const [op, h] of handlers) {
    wrapped.set(op, (ctx) => {
      try {
        const r = h(ctx);
        return r instanceof Promise
          ? r.catch((err: unknown) => {
              throw toReplyError(err);
            })
          : r;
      } catch (err) {
        throw toReplyError(err);
      }
    });
  }

  return {
    handlers: wrapped,
    store,
    waiting: () => waiters.count(),
    close: () => waiters.clear(),
  };
}
