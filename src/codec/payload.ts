import { InvalidArgumentError } from '../protocol/errors.js';
import { utf8Encode, type ValueCodec } from './types.js';

/**
 * The bytes to send for a value:
 * - a `Uint8Array` (a `Buffer` included) is sent as is, whatever the codec: bytes are never
 *   re-encoded, so binary payloads written by other clients round-trip untouched;
 * - a `string` is sent as its UTF-8 bytes, whatever the codec: `kv.put('k', 'hello')` stores the 5
 *   bytes `hello` (readable by every Flo SDK and the CLI), not the JSON text `"hello"`. To store a
 *   JSON string, encode it yourself (`jsonCodec.encode('hello')`) or wrap it (`{ s: 'hello' }`).
 * - anything else goes through `codec.encode` (JSON by default; `undefined` is an empty payload).
 *
 * On the way back `data<T>()` always decodes with the codec, so a value written as a string with the
 * JSON codec must be read with `text()` or `textCodec`, not `data<string>()`.
 */
export function toPayload(value: unknown, codec: ValueCodec): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return utf8Encode(value);
  return codec.encode(value);
}

/**
 * `toPayload` for a value the caller writes (a KV value, a queue message, a stream record):
 * `undefined` is refused with `InvalidArgumentError` (most often a forgotten argument; it would
 * store an empty value). Send `null`, `''` or `new Uint8Array(0)` to store something empty.
 */
export function valuePayload(value: unknown, codec: ValueCodec, what = 'value'): Uint8Array {
  if (value === undefined) {
    throw new InvalidArgumentError(`${what} must not be undefined (send null, '' or new Uint8Array(0) for an empty value)`);
  }
  return toPayload(value, codec);
}

/**
 * A lazily-decoding, memoised accessor for read results (`entry.data<T>()`): nothing is decoded
 * until the first call, and the bytes are decoded at most once (a decode failure is memoised too and
 * rethrown on every call). `T` is the caller's claim about the shape; it is not checked.
 */
export type DataAccessor = <T = unknown>() => T;

/** A `data<T>()` accessor for `bytes`: decodes with `codec` on first call, then memoised. */
export function lazyData(bytes: Uint8Array, codec: ValueCodec): DataAccessor {
  let state: 0 | 1 | 2 = 0; // 0 not decoded, 1 value, 2 error
  let memo: unknown;
  return <T>(): T => {
    if (state === 0) {
      try {
        memo = codec.decode(bytes);
        state = 1;
      } catch (e) {
        memo = e;
        state = 2;
      }
    }
    if (state === 2) throw memo;
    return memo as T;
  };
}

/**
 * Adds a non-enumerable, memoised `data<T>()` to a read result that carries its bytes in `field`
 * (`value` for KV entries, `payload` for records and messages). Non-enumerable so that logging,
 * spreading and `toEqual` see only the wire fields.
 */
export function withData<R extends object, K extends keyof R>(
  result: R,
  field: K & (R[K] extends Uint8Array ? K : never),
  codec: ValueCodec,
): R & { data: DataAccessor } {
  Object.defineProperty(result, 'data', {
    value: lazyData(result[field] as Uint8Array, codec),
    enumerable: false,
    writable: false,
    configurable: true,
  });
  return result as R & { data: DataAccessor };
}
