/**
 * The base of the items a read emits with their bytes in `payload` (queue messages, stream
 * records): `data<T>()` lives on the prototype, lazy and memoised (a decode failure is memoised
 * too and rethrown on every call). Its state is in private fields, so an item's own enumerable
 * properties stay the wire fields its class assigns (logging, spreading and `toEqual` see only
 * those). A class rather than `withData`: two `defineProperty` calls and a closure per item showed
 * in the consumer profile.
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

/** An item whose bytes are its `payload` (queue messages, stream records). */
export abstract class PayloadItem extends LazilyDecoded {
  abstract readonly payload: Uint8Array;

  protected decodedBytes(): Uint8Array {
    return this.payload;
  }
}
