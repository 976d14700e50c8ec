import { BadRequestError, ConflictError, NotFoundError, OverloadedError, Status, UnauthorizedError, EMPTY } from '../protocol/index.js';
import type { PayloadWriter, Reply, ReplyPayload } from './types.js';

/** An OK reply with `payload`. */
export const ok = (payload: Uint8Array = EMPTY): Reply => ({ status: Status.OK, payload });

/**
 * An OK reply that is its own payload writer (written straight into the connection's output
 * buffer): one allocation per reply. Subclasses give the size and the bytes.
 */
export abstract class OkWriter implements Reply, PayloadWriter {
  readonly status = Status.OK;
  readonly payload: PayloadWriter = this;
  abstract readonly byteLength: number;
  abstract writeAt(target: Uint8Array, view: DataView, offset: number): void;
}

/**
 * These errors are ordinary replies (a missing key, a failed CAS), thrown by handlers on the hot
 * path and read by the dispatcher only for their status and message: building them without a
 * stack trace saves the trace capture on every such request.
 */
function replyError<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A `NOT_FOUND` error to throw from a handler. */
export const notFound = (message = ''): NotFoundError => replyError(() => new NotFoundError(Status.NotFound, message));
/** A `BAD_REQUEST` error to throw from a handler. */
export const badRequest = (message: string): BadRequestError => replyError(() => new BadRequestError(Status.BadRequest, message));
/** A `CONFLICT` error to throw from a handler. */
export const conflict = (message = ''): ConflictError => replyError(() => new ConflictError(Status.Conflict, message));
/** An `UNAUTHORIZED` error to throw from a handler. */
export const unauthorized = (message: string): UnauthorizedError =>
  replyError(() => new UnauthorizedError(Status.Unauthorized, message));
/** OVERLOADED: the server (or this connection) is at a limit; the client should back off and retry. */
export const overloaded = (message: string): OverloadedError => replyError(() => new OverloadedError(Status.Overloaded, message));

/** A reply payload's bytes (a writer's written into a new buffer), for code outside the connection's output path. */
export function payloadBytes(payload: ReplyPayload | undefined): Uint8Array {
  if (payload === undefined) return EMPTY;
  if (payload instanceof Uint8Array) return payload;
  const out = new Uint8Array(payload.byteLength);
  payload.writeAt(out, new DataView(out.buffer), 0);
  return out;
}
