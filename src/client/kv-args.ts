/**
 * The arguments of KV calls turned into what a request carries: key bytes, 64-bit options, the
 * key and value of a put (checked against Flo's KV limits), and `lazy` (argument errors as the
 * Observable's error), and `quietNotFound` (idempotent deletes). Shared by `kv.ts`, `kv-txn.ts` and
 * `kv-rare-calls.ts`.
 */
import { catchError, defer, of, type Observable } from 'rxjs';
import type { ValueCodec } from '../codec/index.js';
import { valuePayload } from '../codec/payload.js';
import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { InvalidArgumentError, isNotFound } from '../protocol/errors.js';
import { checkKvEntry } from './core/limits.js';
import type { Int64Like, KvKey } from './kv-types.js';

export function keyBytes(key: KvKey, what = 'key'): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
    return key;
  }
  if (typeof key !== 'string') throw new InvalidArgumentError(`${what} must be a string or a Uint8Array, got ${typeof key}`);
  if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
  return key.length <= ASCII_FAST_PATH_MAX ? asciiBytes(key) ?? utf8(key) : utf8(key);
}

/**
 * Recently read string keys and their bytes, for `kv.get` (the same keys are read again and again).
 * Bounded: emptied when full. The bytes are never handed to users and never written to (the
 * request encoder copies them into the frame), so one array can serve every request for its key.
 */
export class KeyBytesCache {
  private readonly entries_ = new Map<string, Uint8Array>();
  private declare readonly capacity_: number;

  constructor(capacity = 1024) {
    this.capacity_ = capacity;
  }

  /** `keyBytes(key)`, remembered for string keys of at most `ASCII_FAST_PATH_MAX` units. */
  bytes(key: KvKey): Uint8Array {
    if (typeof key !== 'string' || key.length > ASCII_FAST_PATH_MAX) return keyBytes(key);
    let bytes = this.entries_.get(key);
    if (bytes === undefined) {
      bytes = keyBytes(key);
      if (this.entries_.size >= this.capacity_) this.entries_.clear();
      this.entries_.set(key, bytes);
    }
    return bytes;
  }
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

/** NOT_FOUND counts as done: emits `undefined` once (an idempotent delete). */
export function quietNotFound() {
  return catchError<void, Observable<void>>((e: unknown) => {
    if (isNotFound(e)) return of(undefined);
    throw e;
  });
}
