/**
 * `data<T>()` on the prototype, lazy and memoised, for the items that carry their bytes (the KV
 * read entries here; queue messages and stream records through `PayloadItem`). Apart from
 * `payload-item.ts` so that the KV entries at start do not bring the lazy read code's base class.
 */
import type { ValueCodec } from '../../codec/types.js';

/**
 * `data<T>()` over the bytes a subclass names (`decodedBytes()`): lazy, memoised, a failure
 * memoised and rethrown. The base of `PayloadItem` and of the KV read entries.
 */
export abstract class LazilyDecoded {
  readonly #codec: ValueCodec;
  /** 0 not decoded, 1 decoded (`#memo` is the value), 2 failed (`#memo` is the error). */
  #state: 0 | 1 | 2 = 0;
  #memo: unknown = undefined;

  constructor(codec: ValueCodec) {
    this.#codec = codec;
  }

  /** The bytes `data()` decodes. */
  protected abstract decodedBytes(): Uint8Array;

  /** The bytes decoded with the client's codec (JSON by default), on first call; memoised. */
  data<T = unknown>(): T {
    if (this.#state === 0) {
      try {
        this.#memo = this.#codec.decode(this.decodedBytes());
        this.#state = 1;
      } catch (e) {
        this.#memo = e;
        this.#state = 2;
      }
    }
    if (this.#state === 2) throw this.#memo;
    return this.#memo as T;
  }
}
