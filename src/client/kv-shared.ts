/**
 * Types and helpers shared by `flo.kv` (`kv.ts`) and its transactions (`kv-txn.ts`).
 */
import { defer, type Observable } from 'rxjs';
import type { ValueCodec } from '../codec/index.js';
import { valuePayload } from '../codec/payload.js';
import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import type { RequestOptions } from './core/index.js';
import { checkKvEntry } from './core/limits.js';

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
  /** Time to live in **seconds** (DECISIONS #15); 0 or absent = permanent. */
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

// ---------------------------------------------------------------------------------------------

export function keyBytes(key: KvKey, what = 'key'): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
    return key;
  }
  if (typeof key !== 'string') throw new InvalidArgumentError(`${what} must be a string or a Uint8Array, got ${typeof key}`);
  if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
  return key.length <= ASCII_FAST_PATH_MAX ? asciiBytes(key) ?? utf8(key) : utf8(key);
}

/** Keys up to this many UTF-16 units try `asciiBytes` before `TextEncoder`. */
const ASCII_FAST_PATH_MAX = 64;

/**
 * The bytes of an all-ASCII string, or undefined if it has other characters. For the short keys
 * of most calls a loop is cheaper than `TextEncoder.encode` (a call into the runtime per key).
 */
function asciiBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return undefined;
    bytes[i] = c;
  }
  return bytes;
}

export const keyText = (key: KvKey): string => (typeof key === 'string' ? key : fromUtf8(key));

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function toBigInt(name: string, v: Int64Like): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new InvalidArgumentError(`${name} must be an integer (number or bigint), got ${String(v)}`);
}

/** An unsigned 64-bit option (version, TTL); undefined stays undefined. */
export function u64(name: string, v: Int64Like | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const b = toBigInt(name, v);
  if (b < 0n || b > U64_MAX) throw new InvalidArgumentError(`${name} must be from 0 to 2^64-1, got ${b}`);
  return b;
}

/** A signed 64-bit option (incr delta). */
export function i64(name: string, v: Int64Like | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const b = toBigInt(name, v);
  if (b < I64_MIN || b > I64_MAX) throw new InvalidArgumentError(`${name} must fit a signed 64-bit integer, got ${b}`);
  return b;
}

/** Adds a non-enumerable `text()` (UTF-8 of `value`) beside `data<T>()`. */
export function withText<R extends { value: Uint8Array }>(result: R): R & { text(): string } {
  Object.defineProperty(result, 'text', { value: () => fromUtf8(result.value), enumerable: false, configurable: true });
  return result as R & { text(): string };
}

/**
 * A read entry: `key`, `value` and `version` are its only own (enumerable) properties, so logging,
 * spreading and `toEqual` see the wire fields; `data<T>()` (lazy, memoised) and `text()` live on the
 * prototype. A class rather than `withData`/`withText`: two `defineProperty` calls and a closure
 * per entry showed in the client's profile of `kv.get`.
 */
class Entry implements KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly version: bigint;
  readonly #codec: ValueCodec;
  /** 0 not decoded, 1 decoded (`#memo` is the value), 2 failed (`#memo` is the error). */
  #state: 0 | 1 | 2 = 0;
  #memo: unknown;

  constructor(key: string, value: Uint8Array, version: bigint, codec: ValueCodec) {
    this.key = key;
    this.value = value;
    this.version = version;
    this.#codec = codec;
  }

  data<T = unknown>(): T {
    if (this.#state === 0) {
      try {
        this.#memo = this.#codec.decode(this.value);
        this.#state = 1;
      } catch (e) {
        this.#memo = e;
        this.#state = 2;
      }
    }
    if (this.#state === 2) throw this.#memo;
    return this.#memo as T;
  }

  text(): string {
    return fromUtf8(this.value);
  }
}

/** A `KvEntry` with `data<T>()` (lazy, memoised) and `text()`. */
export function kvEntry(key: string, value: Uint8Array, version: bigint, codec: ValueCodec): KvEntry {
  return new Entry(key, value, version, codec);
}

/**
 * The key and value bytes of a put: the value as bytes (bytes as is, strings as UTF-8, anything else
 * via the codec; `undefined` refused), both checked against Flo's KV limits before sending.
 */
export function putBytes(namespace: string, key: KvKey, value: unknown, codec: ValueCodec): { key: Uint8Array; value: Uint8Array } {
  const k = keyBytes(key);
  const v = valuePayload(value, codec);
  checkKvEntry(namespace, k, v);
  return { key: k, value: v };
}

/**
 * Cold and lazy: `build` runs on subscribe (so argument errors arrive as the Observable's error,
 * and nothing is sent before subscription).
 */
export const lazy = <T>(build: () => Observable<T>): Observable<T> => defer(build);
