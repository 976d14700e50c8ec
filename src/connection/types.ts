/**
 * The contract between the client API and the connection. `src/client/` only ever sees a
 * `RequestChannel`; the multiplexed connection (`Connection`) implements it, and marble tests
 * implement it with fakes.
 */
import type { Observable, Unsubscribable } from 'rxjs';
import type { OpPayload, ResponseFrame } from '../protocol/index.js';

/** The connection's lifecycle: `idle` until first use, `closed` is final. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The connection state with what a user needs to see why it is not connected. */
export interface ConnectionInfo {
  readonly state: ConnectionState;
  /** The endpoint connected to, or being (or last) tried; undefined before the first attempt. */
  readonly endpoint: string | undefined;
  /** Failed attempts since the last successful connect (0 while connected). */
  readonly failedAttempts: number;
  /**
   * The last error: the last failed attempt's (ECONNREFUSED, ENOTFOUND, a TLS error...), or why
   * the last connection dropped. Kept after recovery; undefined until the first.
   */
  readonly lastError: Error | undefined;
}

/**
 * What the connection reports as it goes (the client's `events$` re-emits these). `attempt`
 * counts the attempts of one (re)connect from 1.
 */
export type ConnectionEvent =
  | { readonly type: 'connecting'; readonly endpoint: string; readonly attempt: number }
  | { readonly type: 'connect-failed'; readonly endpoint: string; readonly attempt: number; readonly error: Error }
  | { readonly type: 'reconnect-scheduled'; readonly attempt: number; readonly delayMs: number; readonly error: Error }
  | { readonly type: 'connected'; readonly endpoint: string; readonly reconnected: boolean }
  | { readonly type: 'disconnected'; readonly endpoint: string; readonly error: Error | undefined }
  | { readonly type: 'closed'; readonly error: Error };

/** One request: opcode, namespace, body and deadlines. */
export interface RequestSpec {
  readonly opcode: number;
  readonly namespace: string;
  readonly body: OpPayload;
  /**
   * The request's own long-poll time (the `block_ms` it carries). The deadline is the client timeout
   * plus this.
   */
  readonly blockMs?: number;
  /** Overrides the connection's default timeout for this request. */
  readonly timeoutMs?: number;
  /**
   * Called with a reply that arrives after the subscriber left (unsubscribed or timed out), so a
   * reply carrying leased items can be handed back instead of waiting out a lease.
   */
  readonly onLateReply?: (reply: ResponseFrame) => void;
  /** Safe to send twice (a CAS write, say): retried like a read. Default: by opcode. */
  readonly idempotent?: boolean;
}

/**
 * Where `RequestChannel.submit` delivers the outcome of one request: `next(reply)` then
 * `complete()`, or `error(err)` alone, exactly once, and nothing after an unsubscribe. An RxJS
 * `Subscriber` is one. A sink must not throw.
 */
export interface ReplySink {
  /** The reply frame (any status); `complete()` follows. */
  next(reply: ResponseFrame): void;
  /** The request failed (timeout, lost connection, client closed, a frame that cannot be sent). */
  error(err: unknown): void;
  /** After `next`: the request is over. */
  complete(): void;
}

/** What the client sends requests through: a `Connection`, or a channel of your own (tests, proxies). */
export interface RequestChannel {
  /**
   * Cold: sends the request on subscribe, emits the reply frame (any status) once, then completes.
   * Errors with `TimeoutError` after the deadline, `ConnectionLostError` if the socket drops while
   * the request is in flight, `ClientClosedError` after `close()`. Unsubscribing before the reply
   * makes the reply late (see `onLateReply`).
   */
  request(spec: RequestSpec): Observable<ResponseFrame>;
  /**
   * Optional fast path of `request(spec).subscribe(sink)`: sends the request now and reports to
   * `sink`, with no Observable or Subscriber of its own (the client's per-call path uses it when
   * present). Returns what cancels it (the same as unsubscribing), or undefined when the sink has
   * already been told (an error at once).
   */
  submit?(spec: RequestSpec, sink: ReplySink): Unsubscribable | undefined;
  /** Current state, replayed to each subscriber, then every change. */
  readonly state$: Observable<ConnectionState>;
  /**
   * Emits once each time the connection is (re-)established after having been lost, so that
   * infinite read paths can re-join groups and resume.
   */
  readonly reconnected$: Observable<void>;
  /** Optional: the state with its endpoint and last error, replayed, then every change. */
  readonly info$?: Observable<ConnectionInfo>;
}

/** A byte pipe to one server: TCP in Node, WebSocket anywhere. */
export interface Transport {
  /** Sends bytes (one or many whole frames). */
  send(bytes: Uint8Array): void;
  /**
   * Optional: sends several buffers of whole frames, in order, as `send` would their
   * concatenation (one write), without the caller having to concatenate them first.
   */
  sendMany?(chunks: readonly Uint8Array[]): void;
  /** Closes the pipe; `onClose` fires once afterwards. */
  close(): void;
}

export interface TransportHandlers {
  onData(chunk: Uint8Array): void;
  onClose(error?: Error): void;
}

/** Opens a transport to one endpoint; resolves once it is open, rejects if it cannot open. */
export type TransportFactory = (endpoint: string, handlers: TransportHandlers) => Promise<Transport>;
