/**
 * The types of `flo.kv` (`kv.ts`) and its transactions (`kv-txn.ts`): keys, entries, write
 * results and the per-call options.
 */
import type { RequestOptions } from './core/index.js';

/** A key: a string (sent as UTF-8) or raw bytes. */
export type KvKey = string | Uint8Array;

/** A 64-bit quantity accepted from callers (versions, TTLs, deltas); results are always `bigint`. */
export type Int64Like = bigint | number;

/** The per-call options of every KV call: `namespace` and `timeoutMs`. */
export type KvCallOptions = RequestOptions;

/** One value of a key, as read. `data<T>()` decodes `value` with the client's codec, lazily, once. */
export interface KvEntry {
  /** The key (UTF-8 decoded). */
  readonly key: string;
  /** The stored bytes, untouched. */
  readonly value: Uint8Array;
  /** The key's version (0 for a write buffered in the transaction that reads it). */
  readonly version: bigint;
  /** `value` decoded with the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
  /** `value` as UTF-8 text (what `put(key, 'a string')` stored). */
  text(): string;
}

/** The result of a write: the version it created (0 inside a transaction, where nothing is written yet). */
export interface KvWriteResult {
  readonly version: bigint;
}

/** Options of `kv.put` (and `txn.put`). */
export interface KvPutOptions extends KvCallOptions {
  /** Time to live in **seconds** (`docs/protocol-decisions.md` #15); 0 or absent = permanent. */
  readonly ttlSeconds?: Int64Like;
  /** Write only if the current version is this one; `0` = only if the key does not exist. */
  readonly casVersion?: Int64Like;
  /** Write only if the key does not exist (NX). */
  readonly ifNotExists?: boolean;
  /** Write only if the key exists (XX). */
  readonly ifExists?: boolean;
}

/** Options of `kv.delete` (and `txn.delete`). */
export interface KvDeleteOptions extends KvCallOptions {
  /** Delete only if the current version is this one (else `ConflictError`). */
  readonly ifMatch?: Int64Like;
}

/** Options of `kv.incr` (and `txn.incr`). */
export interface KvIncrOptions extends KvCallOptions {
  /** The increment, negative to decrement. Default 1. */
  readonly delta?: Int64Like;
}

/** Options of `kv.touch` / `kv.persist` (and their txn forms). */
export interface KvTouchOptions extends KvCallOptions {
  /** Only if the current version is this one (else `ConflictError`). */
  readonly ifMatch?: Int64Like;
}
