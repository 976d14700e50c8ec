import { CodecError, type ValueCodec } from './types.js';

/**
 * Raw bytes, no transformation. Encodes a `Uint8Array` as is (a `Buffer` is one), any other
 * `ArrayBufferView` or an `ArrayBuffer` as a view of the same bytes; anything else is a
 * `CodecError`. Decodes to the bytes themselves (not copied).
 */
export const rawCodec: ValueCodec = {
  name: 'raw',
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return value;
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    throw new CodecError('raw', `expected bytes (Uint8Array, ArrayBuffer or a view), got ${typeof value}`);
  },
  decode(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
};
