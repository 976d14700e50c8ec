/**
 * What a subsystem of the embedded server sees of a request, and what it answers. Subsystems are
 * plain state machines: they never touch sockets; the dispatcher decodes frames, calls the handler
 * registered for the opcode and writes the reply.
 */
import type { OptionsReader, RequestBody } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { Persistence } from './storage/types.js';
import type { ParkingLimits } from './waiters.js';

/** Reply layouts: `go` (the Go SDK's, default) or `flo` (the newest Flo server's), `docs/protocol-decisions.md` #1. */
export type ReplyProfile = 'go' | 'flo';

/**
 * A reply payload that writes itself straight into the connection's output buffer, so the reply
 * needs no buffer of its own (the hot KV get/put replies). It must capture what it writes when it
 * is made: a reply held for a group commit is written after later requests changed the state.
 */
export interface PayloadWriter {
  /** Bytes `writeAt` writes. */
  readonly byteLength: number;
  /** Writes the payload at `offset` of `target`; `view` is a DataView over exactly `target`. */
  writeAt(target: Uint8Array, view: DataView, offset: number): void;
}

/** A reply's payload: its bytes, or a writer of them. */
export type ReplyPayload = Uint8Array | PayloadWriter;

/** A handler's reply: a status and its payload. */
export interface Reply {
  readonly status: number;
  readonly payload?: ReplyPayload;
}

/** What a handler gets for one request. */
export interface RequestContext {
  readonly requestId: bigint;
  readonly opcode: number;
  /** Namespace as sent; `''` is normalised to `'default'`. */
  readonly namespace: string;
  readonly body: RequestBody;
  readonly options: OptionsReader;
  /** Aborted when the connection closes or the server stops: parked requests must give up. */
  readonly signal: AbortSignal;
  /** Stable id of the connection the request came on. */
  readonly connectionId: number;
}

/**
 * Handles one opcode. Returns the reply, or a promise of it for requests that park (long-polls).
 * Throwing a `ServerError` (from `src/protocol/errors.ts`) answers with its status and message;
 * anything else thrown answers InternalError.
 */
export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

/** What subsystems are built with: the clock and the reply profile. */
export interface ServerEnv {
  readonly clock: Clock;
  readonly profile: ReplyProfile;
  /** Present when the server has a data directory: stores register their tables and announce changes. */
  readonly persistence?: Persistence;
  /** Caps on parked requests shared by every subsystem (per connection and server-wide). */
  readonly parking?: ParkingLimits;
  /** KV versions kept per key, the current one included (default 65: Flo's current + 64 older). */
  readonly kvVersionsKept?: number;
}

/** A part of the server (KV, queues, ...): its handlers and its cleanup. */
export interface Subsystem {
  /** Opcode → handler. */
  readonly handlers: ReadonlyMap<number, Handler>;
  /** Cancels timers; called when the server stops. */
  close?(): void;
}
