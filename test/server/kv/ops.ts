// Typed shortcuts over the harness: each sends one request built by the protocol encoders.
import {
  Op,
  encodeKvBeginTxn,
  encodeKvCommitTxn,
  encodeKvDelete,
  encodeKvExists,
  encodeKvGet,
  encodeKvHistory,
  encodeKvIncr,
  encodeKvJsonDel,
  encodeKvJsonGet,
  encodeKvJsonSet,
  encodeKvMGet,
  encodeKvPersist,
  encodeKvPut,
  encodeKvRollbackTxn,
  encodeKvScan,
  encodeKvTouch,
  type KvTxnRef,
} from '../../../src/protocol/index.js';
import { b, type Harness } from './helpers.js';

type K = string | Uint8Array;
const k = (x: K) => (typeof x === 'string' ? b(x) : x);

export interface PutOpts {
  ttlSeconds?: bigint;
  casVersion?: bigint;
  ifNotExists?: boolean;
  ifExists?: boolean;
  txn?: KvTxnRef;
}

export function ops(h: Harness, ns = 'test') {
  return {
    put: (key: K, value: K, o: PutOpts = {}, n = ns) => h.send(Op.KvPut, encodeKvPut({ key: k(key), value: k(value), ...o }), n),
    get: (key: K, o: { blockMs?: number; waitMs?: number; txn?: KvTxnRef } = {}, n = ns, signal?: AbortSignal) =>
      h.send(Op.KvGet, encodeKvGet({ key: k(key), ...o }), n, signal),
    del: (key: K, o: { ifMatch?: bigint; txn?: KvTxnRef } = {}, n = ns) => h.send(Op.KvDelete, encodeKvDelete({ key: k(key), ...o }), n),
    mget: (keys: K[], n = ns) => h.send(Op.KvMGet, encodeKvMGet({ keys: keys.map(k) }), n),
    scan: (prefix: K, o: { limit?: number; cursor?: Uint8Array; keysOnly?: boolean } = {}, n = ns) =>
      h.send(Op.KvScan, encodeKvScan({ prefix: k(prefix), ...o }), n),
    history: (key: K, limit?: number, n = ns) => h.send(Op.KvHistory, encodeKvHistory({ key: k(key), ...(limit ? { limit } : {}) }), n),
    incr: (key: K, delta?: bigint, txn?: KvTxnRef, n = ns) =>
      h.send(Op.KvIncr, encodeKvIncr({ key: k(key), ...(delta === undefined ? {} : { delta }), ...(txn ? { txn } : {}) }), n),
    touch: (key: K, ttlSeconds: bigint, o: { ifMatch?: bigint; txn?: KvTxnRef } = {}, n = ns) =>
      h.send(Op.KvTouch, encodeKvTouch({ key: k(key), ttlSeconds, ...o }), n),
    persist: (key: K, o: { ifMatch?: bigint; txn?: KvTxnRef } = {}, n = ns) => h.send(Op.KvPersist, encodeKvPersist({ key: k(key), ...o }), n),
    exists: (key: K, txn?: KvTxnRef, n = ns) => h.send(Op.KvExists, encodeKvExists({ key: k(key), ...(txn ? { txn } : {}) }), n),
    jsonGet: (key: K, path: string, n = ns) => h.send(Op.KvJsonGet, encodeKvJsonGet({ key: k(key), path }), n),
    jsonSet: (key: K, path: string, json: string, n = ns) => h.send(Op.KvJsonSet, encodeKvJsonSet({ key: k(key), path, value: b(json) }), n),
    jsonDel: (key: K, path: string, n = ns) => h.send(Op.KvJsonDel, encodeKvJsonDel({ key: k(key), path }), n),
    begin: (routingKey: K, n = ns) => h.send(Op.KvBeginTxn, encodeKvBeginTxn({ routingKey: k(routingKey) }), n),
    commit: (routingKey: K, txnId: bigint, n = ns) => h.send(Op.KvCommitTxn, encodeKvCommitTxn({ routingKey: k(routingKey), txnId }), n),
    rollback: (routingKey: K, txnId: bigint, n = ns) => h.send(Op.KvRollbackTxn, encodeKvRollbackTxn({ routingKey: k(routingKey), txnId }), n),
  };
}
