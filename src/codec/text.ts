import { CodecError, utf8Decode, utf8Encode, type ValueCodec } from './types.js';

/**
 * UTF-8 text. Encodes strings only (anything else is a `CodecError`: silently calling `String()` on
 * an object would send `[object Object]`); decodes any bytes, invalid sequences becoming U+FFFD.
 */
export const textCodec: ValueCodec = {
  name: 'text',
  encode(value: unknown): Uint8Array {
    if (typeof value !== 'string') throw new CodecError('text', `expected a string, got ${typeof value}`);
    return utf8Encode(value);
  },
  decode(bytes: Uint8Array): string {
    return utf8Decode(bytes);
  },
};
