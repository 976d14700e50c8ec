/**
 * MessagePack codec (`msgpackr`).
 *
 * Deliberately NOT re-exported by `src/codec/index.ts`: importing the codec index (and so the main
 * `flo-rx` entry) must not pull `msgpackr` into a bundle that never uses it. `msgpackr` is CommonJS
 * with module-level state, so a bundler cannot always prove it side-effect free and drop it; keeping
 * it behind its own module (meant to become a `flo-rx/msgpack` entry point) makes "not imported"
 * mean "not bundled".
 *
 * ```ts
 * import { msgpackCodec } from 'flo-rx/msgpack';
 * const flo = connect('localhost:9000', { codec: msgpackCodec });
 * ```
 */
import { Packr, type Options } from 'msgpackr';
import { CodecError, describeError, type ValueCodec } from './types.js';

/**
 * Builds a MessagePack codec. Defaults: `useRecords: false` and `variableMapSize: true` (plain, compact maps, readable by any
 * MessagePack implementation, not msgpackr's record extension), `int64AsType: 'bigint'` (64-bit
 * integers that do not fit a double decode as `bigint` rather than losing precision),
 * `useBigIntExtension: false` with `largeBigIntToFloat: false` (a `bigint` within 64 bits encodes
 * as a MessagePack integer; a larger one is an error). Integral numbers are written as integers, so
 * `-0` decodes as `0`. Pass msgpackr options to change them.
 */
export function createMsgpackCodec(options: Options = {}): ValueCodec {
  const packr = new Packr({ useRecords: false, variableMapSize: true, int64AsType: 'bigint', largeBigIntToFloat: false, ...options });
  return {
    name: 'msgpack',
    encode(value: unknown): Uint8Array {
      try {
        const buf = packr.pack(value);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        throw new CodecError('msgpack', `cannot encode value: ${describeError(e)}`, { cause: e });
      }
    },
    decode(bytes: Uint8Array): unknown {
      try {
        return packr.unpack(bytes);
      } catch (e) {
        throw new CodecError('msgpack', `invalid MessagePack payload (${bytes.length} bytes): ${describeError(e)}`, { cause: e });
      }
    },
  };
}

/** MessagePack with the defaults of `createMsgpackCodec()`. */
export const msgpackCodec: ValueCodec = createMsgpackCodec();
