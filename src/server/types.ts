/**
 * What a subsystem of the embedded server sees of a request, and what it answers. Subsystems are
 * plain state machines: they never touch sockets; the dispatcher decodes frames, calls the handler
 * registered for the opcode and writes the reply.
 */
import type { OptionsReader, RequestBody } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { ParkingLimits } from './waiters.js';

/** Reply layouts: `go` (the Go SDK's, default) or `flo` (the newest Flo server's), DECISIONS #1. */
export type ReplyProfile = 'go' | 'flo';

export interface Reply {
  readonly status: number;
  readonly payload?: Uint8Array;
}

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

export interface ServerEnv {
  readonly clock: Clock;
  readonly profile: ReplyProfile;
  /** Caps on parked requests shared by every subsystem (per connection and server-wide). */
  readonly parking?: ParkingLimits;
  /** KV versions kept per key, the current one included (default 65: Flo's current + 64 older). */
  readonly kvVersionsKept?: number;
}

export interface Subsystem {
  /** Opcode → handler. */
  readonly handlers: ReadonlyMap<number, Handler>;
  /** Cancels timers; called when the server stops. */
  close?(): void;
}
