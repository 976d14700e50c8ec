/**
 * Typed errors shared by the client and the server. One class per wire status (so `catchError` and
 * `retry` can decide by type or with the guards), plus the client-side failures: timeouts, lost
 * connections, malformed bytes.
 */
import { Status, statusText } from './status.js';

/** The base class of every error flo-rx raises. */
export class FloError extends Error {
  override name = 'FloError';
  /** Wire status when the error came from the server, else undefined. */
  declare readonly status: number | undefined;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
}

/** A reply with a non-OK status. `serverMessage` is the payload text (often empty). */
export class ServerError extends FloError {
  override name = 'ServerError';
  declare readonly serverMessage: string;
  declare readonly opcode?: number;
  constructor(status: number, serverMessage: string, opcode?: number) {
    super(
      serverMessage ? `flo: server error (${statusText(status)}): ${serverMessage}` : `flo: server error: ${statusText(status)}`,
      { status },
    );
    this.serverMessage = serverMessage;
    this.opcode = opcode;
  }
}

export class NotFoundError extends ServerError {
  override name = 'NotFoundError';
}
export class BadRequestError extends ServerError {
  override name = 'BadRequestError';
}
export class ConflictError extends ServerError {
  override name = 'ConflictError';
}
export class UnauthorizedError extends ServerError {
  override name = 'UnauthorizedError';
}
export class OverloadedError extends ServerError {
  override name = 'OverloadedError';
}
export class RateLimitedError extends ServerError {
  override name = 'RateLimitedError';
}
export class InternalServerError extends ServerError {
  override name = 'InternalServerError';
}
export class GroupLockedError extends ServerError {
  override name = 'GroupLockedError';
}
export class UnavailableError extends ServerError {
  override name = 'UnavailableError';
}

/** Bytes that do not form a valid frame or payload. */
export class ProtocolError extends FloError {
  override name = 'ProtocolError';
}

/** A frame larger than the configured limit. */
export class FrameTooLargeError extends ProtocolError {
  override name = 'FrameTooLargeError';
}

/** A value that a codec could not encode, or bytes that it could not decode. `codec` names the codec. */
export class CodecError extends FloError {
  override name = 'CodecError';
  declare readonly codec: string;
  constructor(codec: string, message: string, options?: { cause?: unknown }) {
    super(`${codec} codec: ${message}`, options);
    this.codec = codec;
  }
}

/** A request that could not be sent because an argument is invalid (checked before any byte leaves). */
export class InvalidArgumentError extends FloError {
  override name = 'InvalidArgumentError';
}

/** No reply within the request's deadline (client timeout plus its block time). */
export class TimeoutError extends FloError {
  override name = 'TimeoutError';
}

/**
 * The client could not reach a server: `connect()` gave up waiting (`connectTimeoutMs`), or every
 * attempt failed. `cause` is the last socket error (ECONNREFUSED, ENOTFOUND, a TLS failure...);
 * `endpoint` the address last tried.
 */
export class ConnectionError extends FloError {
  override name = 'ConnectionError';
  /** The endpoint of the last attempt, when there was one. */
  declare readonly endpoint: string | undefined;

  constructor(message: string, options?: { cause?: unknown; endpoint?: string }) {
    super(message, options);
    this.endpoint = options?.endpoint;
  }
}

/** The socket dropped (or was closed) while the request was in flight. */
export class ConnectionLostError extends ConnectionError {
  override name = 'ConnectionLostError';
}

/** The client was closed. */
export class ClientClosedError extends FloError {
  override name = 'ClientClosedError';
}

/** An operation that Flo transactions do not support (scan, mget, json, history inside a txn). */
export class TxnUnsupportedOpError extends FloError {
  override name = 'TxnUnsupportedOpError';
}

/** The class of each wire status that has its own (the others are plain `ServerError`s). */
const SERVER_ERRORS: Readonly<Record<number, typeof ServerError>> = {
  [Status.NotFound]: NotFoundError,
  [Status.BadRequest]: BadRequestError,
  [Status.Conflict]: ConflictError,
  [Status.Unauthorized]: UnauthorizedError,
  [Status.Overloaded]: OverloadedError,
  [Status.RateLimited]: RateLimitedError,
  [Status.InternalError]: InternalServerError,
  [Status.GroupLocked]: GroupLockedError,
  [Status.Unavailable]: UnavailableError,
};

/** Builds the typed error for a non-OK reply. */
export function serverErrorFor(status: number, message: string, opcode?: number): ServerError {
  return new (SERVER_ERRORS[status] ?? ServerError)(status, message, opcode);
}

const hasStatus = (err: unknown, status: number) => err instanceof FloError && err.status === status;
/** True for a `NOT_FOUND` reply. */
export const isNotFound = (err: unknown): err is NotFoundError => hasStatus(err, Status.NotFound);
/** True for a `BAD_REQUEST` reply. */
export const isBadRequest = (err: unknown): err is BadRequestError => hasStatus(err, Status.BadRequest);
/** True for a `CONFLICT` reply (a failed CAS or condition). */
export const isConflict = (err: unknown): err is ConflictError => hasStatus(err, Status.Conflict);
/** True for an `UNAUTHORIZED` reply. */
export const isUnauthorized = (err: unknown): err is UnauthorizedError => hasStatus(err, Status.Unauthorized);
/** True for an `OVERLOADED` reply. */
export const isOverloaded = (err: unknown): err is OverloadedError => hasStatus(err, Status.Overloaded);
/** True for a `RATE_LIMITED` reply. */
export const isRateLimited = (err: unknown): err is RateLimitedError => hasStatus(err, Status.RateLimited);
/** True for an `INTERNAL_ERROR` reply. */
export const isInternal = (err: unknown): err is InternalServerError => hasStatus(err, Status.InternalError);
/** True for a request that got no reply within its deadline. */
export const isTimeout = (err: unknown): err is TimeoutError => err instanceof TimeoutError;
/** True for a request whose connection dropped while it was in flight. */
export const isConnectionLost = (err: unknown): err is ConnectionLostError => err instanceof ConnectionLostError;
/** A `ConnectionError` (could not connect) or its subclass `ConnectionLostError`. */
export const isConnectionError = (err: unknown): err is ConnectionError => err instanceof ConnectionError;
/** Errors worth retrying: overload, rate limit, unavailable, timeouts and lost connections. */
export const isRetryable = (err: unknown): boolean =>
  isOverloaded(err) || isRateLimited(err) || hasStatus(err, Status.Unavailable) || isTimeout(err) || isConnectionLost(err);
