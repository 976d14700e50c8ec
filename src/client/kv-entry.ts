/**
 * What a KV read emits: `KvEntry` objects (`kvEntry`, a small class with lazy `data<T>()` and
 * `text()`) and `withText` for the other read results. Shared by `kv.ts` and `kv-txn.ts`.
 */
import type { ValueCodec } from '../codec/index.js';
import { fromUtf8 } from '../protocol/bytes.js';
import { LazilyDecoded } from './core/lazily-decoded.js';
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
class Entry extends LazilyDecoded implements KvEntry {
  declare readonly key: string;
  declare readonly value: Uint8Array;
  declare readonly version: bigint;

  constructor(key: string, value: Uint8Array, version: bigint, codec: ValueCodec) {
    super(codec);
    this.key = key;
    this.value = value;
    this.version = version;
  }

  protected decodedBytes(): Uint8Array {
    return this.value;
  }

  text(): string {
    return fromUtf8(this.value);
  }
}

/** A `KvEntry` with `data<T>()` (lazy, memoised) and `text()`. */
export function kvEntry(key: string, value: Uint8Array, version: bigint, codec: ValueCodec): KvEntry {
  return new Entry(key, value, version, codec);
}

