/**
 * A value codec turns application values into payload bytes and back. Codecs know nothing about
 * Flo: the client picks one (`jsonCodec` by default) and uses it for every value it sends that is
 * not already bytes or text (see `toPayload`), and for `data<T>()` on read results.
 */
export interface ValueCodec {
  /** Short name for error messages and debugging (`'json'`, `'msgpack'`, ...). */
  readonly name: string;
  /** Encodes a value; throws `CodecError` when the value cannot be encoded. */
  encode(value: unknown): Uint8Array;
  /** Decodes bytes; throws `CodecError` when the bytes are not a valid encoding. */
  decode(bytes: Uint8Array): unknown;
}

// `CodecError` is a `FloError`, so it lives with the other typed errors (the codec layer's one import).
export { CodecError } from '../protocol/errors.js';

// UTF-8 as the protocol's bytes helpers do it: one encoder and one decoder for the whole client.
export { utf8 as utf8Encode, fromUtf8 as utf8Decode } from '../protocol/bytes.js';

/** The message of a caught value, for wrapping it. */
export const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e));
