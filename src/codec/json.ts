import { EMPTY } from '../protocol/bytes.js';
import { CodecError, describeError, utf8Decode, utf8Encode, type ValueCodec } from './types.js';

/**
 * JSON as UTF-8 text: the default codec.
 *
 * - `undefined` encodes as an empty payload and an empty payload decodes as `undefined` (JSON has no
 *   `undefined`; this keeps `void` handler results and empty values round-tripping).
 * - Values `JSON.stringify` refuses (a `bigint`, a cycle) or drops (a function, a symbol) throw a
 *   `CodecError` rather than sending something else than asked.
 */
export const jsonCodec: ValueCodec = {
  name: 'json',
  encode(value: unknown): Uint8Array {
    if (value === undefined) return EMPTY;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      throw new CodecError('json', `cannot encode value: ${describeError(e)}`, { cause: e });
    }
    if (text === undefined) throw new CodecError('json', `cannot encode a value of type ${typeof value}`);
    return utf8Encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return JSON.parse(utf8Decode(bytes));
    } catch (e) {
      throw new CodecError('json', `invalid JSON payload (${bytes.length} bytes): ${describeError(e)}`, { cause: e });
    }
  },
};
