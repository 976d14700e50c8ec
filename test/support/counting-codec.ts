/** A JSON codec that counts its decodes: for tests of when payloads are decoded (lazily, once). */
import { jsonCodec } from '../../src/codec/json.js';
import type { ValueCodec } from '../../src/codec/types.js';

export function countingCodec(): ValueCodec & { decodes: number } {
  const codec = {
    name: 'counting-json',
    decodes: 0,
    encode: (v: unknown) => jsonCodec.encode(v),
    decode: (b: Uint8Array) => {
      codec.decodes++;
      return jsonCodec.decode(b);
    },
  };
  return codec;
}
