import { map, type Observable } from 'rxjs';
import type { RequestChannel, RequestSpec } from '../../connection/types.js';
import { fromUtf8 } from '../../protocol/bytes.js';
import { ProtocolError, serverErrorFor } from '../../protocol/errors.js';
import { Status } from '../../protocol/status.js';

export interface CallOptions {
  /**
   * What a NOT_FOUND reply means: `'error'` (default) errors with `NotFoundError`; `'null'` emits
   * `null` (for reads such as `kv.get` whose "absent" is a value, not a failure).
   */
  readonly notFound?: 'null' | 'error';
}

/**
 * One request, one typed result: the building block of every single-shot client call.
 *
 * Cold (the request is sent on subscribe, once per subscription). An OK reply's payload goes through
 * `decode` and the result is emitted once, then the Observable completes. A non-OK reply errors with
 * the typed error for its status (`serverErrorFor(status, payloadText, opcode)`), except NOT_FOUND
 * with `{ notFound: 'null' }`, which emits `null`. A `decode` that throws errors the Observable with
 * a `ProtocolError` (its own, or one wrapping what it threw, as `cause`). Channel errors (timeout,
 * lost connection, client closed) pass through untouched.
 */
export function call<T>(
  channel: Pick<RequestChannel, 'request'>,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options: CallOptions & { readonly notFound: 'null' },
): Observable<T | null>;
export function call<T>(
  channel: Pick<RequestChannel, 'request'>,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options?: CallOptions,
): Observable<T>;
export function call<T>(
  channel: Pick<RequestChannel, 'request'>,
  spec: RequestSpec,
  decode: (payload: Uint8Array) => T,
  options: CallOptions = {},
): Observable<T | null> {
  return channel.request(spec).pipe(
    map((reply) => {
      if (reply.status !== Status.OK) {
        if (reply.status === Status.NotFound && options.notFound === 'null') return null;
        throw serverErrorFor(reply.status, fromUtf8(reply.payload), spec.opcode);
      }
      return decodeReply(reply.payload, decode, spec.opcode);
    }),
  );
}

/** Runs a reply decoder, turning anything it throws into a `ProtocolError`. */
export function decodeReply<T>(payload: Uint8Array, decode: (payload: Uint8Array) => T, opcode: number): T {
  try {
    return decode(payload);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new ProtocolError(`flo: cannot decode the reply to opcode 0x${opcode.toString(16).padStart(3, '0')}: ${why}`, {
      cause: e,
    });
  }
}

/** A decoder for replies whose OK payload carries nothing the caller needs. */
export const ignorePayload = (): void => undefined;
