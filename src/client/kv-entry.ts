/**
 * What a KV read emits: `KvEntry` objects (`kvEntry`, a small class with lazy `data<T>()` and
 * `text()`) and `withText` for the other read results. Shared by `kv.ts` and `kv-txn.ts`.
 */
import type { ValueCodec } from '../codec/index.js';
import { fromUtf8 } from '../protocol/bytes.js';
import type { KvEntry } from './kv-types.js';

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

