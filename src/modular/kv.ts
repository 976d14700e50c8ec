/**
 * The key/value store as functions over a `FloContext` (`flo-rx/modular`): `kvGet`, `kvPut`,
 * `kvDelete`, `kvExists`, `kvIncr`. Each behaves as the `flo.kv` method of the same name (same
 * encoding, checks, results and typed errors; see `client/kv.ts`): a cold Observable that sends on
 * subscribe, once per subscription, and stops when unsubscribed; argument errors
 * (`InvalidArgumentError`) arrive as the Observable's error before anything is sent.
 *
 * Unlike `FloClient`, calls are not retried after a lost connection: add RxJS `retry` where a read
 * should survive one.
 */
import { defer, map, type Observable } from 'rxjs';
import {
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvPutReply,
  encodeKvDelete,
  encodeKvExists,
  encodeKvGet,
  encodeKvIncr,
  encodeKvPut,
} from '../protocol/kv.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import { ignorePayload } from '../client/core/call.js';
import { checkBlockMs } from '../client/core/block-ms.js';
import { i64, keyBytes, keyText, putBytes, u64 } from '../client/kv-args.js';
import { kvEntry } from '../client/kv-entry.js';
import type { KvCallOptions, KvDeleteOptions, KvEntry, KvIncrOptions, KvKey, KvPutOptions, KvWriteResult } from '../client/kv-types.js';
import type { KvGetOptions } from '../client/kv.js';
import { quietNotFound } from '../client/kv-txn.js';
import { request, type FloContext } from './context.js';

/**
 * The key's entry, or `null` if it does not exist. With `blockMs`, waits up to that long for it to
 * appear. `entry.data<T>()` decodes the value with the context's codec; `entry.text()` reads it as UTF-8.
 *
 * ```
 * kvGet(flo, 'k'):  --(entry | null)|
 * ```
 */
export function kvGet(flo: FloContext, key: KvKey, options: KvGetOptions = {}): Observable<KvEntry | null> {
  return defer(() => {
    const k = keyBytes(key);
    const blockMs = checkBlockMs(options.blockMs, { fallback: 0, allowZero: true });
    const body = encodeKvGet(blockMs > 0 ? { key: k, blockMs } : { key: k });
    const decode = (payload: Uint8Array): KvEntry => {
      const r = decodeKvGetReply(payload);
      return kvEntry(keyText(key), r.value, r.version, flo.codec);
    };
    return request(flo, Op.KvGet, body, options, decode, 'null');
  });
}

/**
 * Writes `value` (bytes as is, strings as UTF-8, anything else through the context's codec); emits
 * the new `{ version }`. `casVersion`, `ifNotExists` and `ifExists` make it conditional
 * (`ConflictError` when the condition fails); `ttlSeconds` makes it expire.
 */
export function kvPut(flo: FloContext, key: KvKey, value: unknown, options: KvPutOptions = {}): Observable<KvWriteResult> {
  return defer(() => {
    const ttlSeconds = u64('ttlSeconds', options.ttlSeconds);
    const casVersion = u64('casVersion', options.casVersion);
    const body = encodeKvPut({
      ...putBytes(options.namespace ?? flo.namespace, key, value, flo.codec),
      ttlSeconds,
      casVersion,
      ifNotExists: options.ifNotExists,
      ifExists: options.ifExists,
    });
    const decode = (payload: Uint8Array): KvWriteResult => ({ version: decodeKvPutReply(payload).version });
    return request(flo, Op.KvPut, body, casVersion !== undefined ? { ...options, idempotent: true } : options, decode);
  });
}

/**
 * Deletes the key; emits `undefined` once. Idempotent (a missing key completes quietly) unless
 * `ifMatch` is given: then a missing key is `NotFoundError` and another version `ConflictError`.
 */
export function kvDelete(flo: FloContext, key: KvKey, options: KvDeleteOptions = {}): Observable<void> {
  return defer(() => {
    const ifMatch = u64('ifMatch', options.ifMatch);
    const body = encodeKvDelete({ key: keyBytes(key), ifMatch });
    const call$ = request(flo, Op.KvDelete, body, options, ignorePayload);
    return ifMatch === undefined ? call$.pipe(quietNotFound()) : call$;
  });
}

/** Whether the key exists (not deleted, not expired). */
export function kvExists(flo: FloContext, key: KvKey, options: KvCallOptions = {}): Observable<boolean> {
  return defer(() =>
    request(flo, Op.KvExists, encodeKvExists({ key: keyBytes(key) }), options, decodeKvExistsReply).pipe(map((r) => r.present)),
  );
}

/** Adds `delta` (default 1) to a 64-bit counter (a missing key counts as 0); emits the new value. */
export function kvIncr(flo: FloContext, key: KvKey, options: KvIncrOptions = {}): Observable<bigint> {
  return defer(() => {
    const delta = i64('delta', options.delta);
    const body = encodeKvIncr({ key: keyBytes(key), delta });
    return request(flo, Op.KvIncr, body, options, decodeKvIncrReply).pipe(map((r) => r.value));
  });
}
