/**
 * `openFlo()` and `FloContext`: what every function of the modular entry (`flo-rx/modular`) takes as
 * its first argument. A context is one multiplexed `Connection` plus the defaults of the calls made
 * through it (namespace, value codec, timeout). It builds no subsystem API objects, so a bundle
 * carries only the functions the application imports (`kvGet` and its codec, not queues, streams,
 * the action worker or workflows).
 *
 * Reads: `connection/` (the `Connection` and the WebSocket transport), `client/connect.ts` (address
 * checks), `client/core/call.ts` (one request, one typed result) and `client/core/limits.ts` (size
 * checks), shared with `FloClient`, so a call made here behaves as the same call made through
 * `flo.kv`. It must not import `client/client.ts` or an API class (`test/modular/index.test.ts`).
 */
import type { Observable } from 'rxjs';
import { jsonCodec, type ValueCodec } from '../codec/index.js';
import { Connection, type ReconnectOptions } from '../connection/connection.js';
import type { ConnectionInfo, ConnectionState, RequestChannel, RequestSpec, TransportFactory } from '../connection/types.js';
import type { WebSocketConstructor } from '../connection/websocket.js';
import type { OpPayload } from '../protocol/index.js';
import { call } from '../client/core/call.js';
import { endpointsOf, type Address } from '../client/endpoints.js';
import { checkRequestSizes } from '../client/core/limits.js';
import type { RequestOptions } from '../client/core/context.js';
import { contextNamespace, contextTransport } from './context-setup.js';

/** Options of `openFlo()`: the calls' defaults and the connection's timeout, reconnect and transport. */
export interface FloContextOptions {
  /** Namespace of every call that does not pass its own `namespace`. Default `'default'`. */
  readonly namespace?: string;
  /** How values other than bytes and strings are encoded, and how `data<T>()` decodes. Default JSON. */
  readonly codec?: ValueCodec;
  /** Per-request timeout in ms; a long-poll's deadline adds its block time. Default 5000. */
  readonly timeoutMs?: number;
  /** Reconnect backoff (exponential with jitter and a cap), or `false` to make a lost connection final. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * With reconnect on, `context.connect()` rejects with a `ConnectionError` when not connected
   * after this many ms; attempts go on in the background. Default 10 000.
   */
  readonly connectTimeoutMs?: number;
  /** Open the socket at once instead of on the first call. Default false (lazy). */
  readonly eager?: boolean;
  /** WebSocket: an auth token (sent as the `token` query parameter). */
  readonly authToken?: string;
  /** WebSocket: the constructor to use (defaults to `globalThis.WebSocket`, else the `ws` package). */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * A transport of your own, instead of WebSocket: `tcpTransport` from `flo-rx/node` for
   * `host:port` addresses in Node, or a proxy.
   */
  readonly transport?: TransportFactory;
  /** Largest reply payload accepted, in bytes. Default 100 MiB. */
  readonly maxPayload?: number;
}

/**
 * One connection and the defaults of the calls made through it. Made by `openFlo()`; pass it to
 * `kvGet`, `kvPut`, ... Close it with `close()` when done.
 */
export interface FloContext {
  /** The namespace of calls that do not pass their own. */
  readonly namespace: string;
  /** The value codec of `kvPut` values and of `data<T>()`. */
  readonly codec: ValueCodec;
  /** The default per-request timeout in ms (undefined: the connection's, 5000). */
  readonly timeoutMs: number | undefined;
  /** The connection's state (`idle`, `connecting`, `connected`, `reconnecting`, `closed`), replayed then every change. */
  readonly state$: Observable<ConnectionState>;
  /** The state with the endpoint and the last error, replayed then every change. */
  readonly info$: Observable<ConnectionInfo>;
  /** Opens the socket now (calls open it on first use anyway); rejects if it cannot connect. */
  connect(): Promise<void>;
  /** Fails calls in flight with `ClientClosedError` and closes the socket. Idempotent. */
  close(): Promise<void>;
  /** @internal What the modular functions send through. */
  readonly channel: RequestChannel;
}

/**
 * Opens a context on one lazy, multiplexed connection: WebSocket (`ws://host:port`, `wss://...`, or
 * `host:port` meaning `ws://host:port`) unless `options.transport` says otherwise. Nothing is sent
 * before the first call is subscribed (or `connect()`, or `eager: true`). Bad options or addresses
 * throw `InvalidArgumentError` at once.
 *
 * ```ts
 * import { openFlo, kvGet, kvPut } from 'flo-rx/modular';
 * const flo = openFlo('wss://flo.example.com', { namespace: 'app' });
 * kvGet(flo, 'greeting').subscribe((entry) => console.log(entry?.text()));
 * ```
 */
export function openFlo(address: Address, options: FloContextOptions = {}): FloContext {
  const endpoints = endpointsOf(address);
  const namespace = contextNamespace(options);
  const transport = contextTransport(endpoints, options);
  const connection = new Connection({
    endpoints,
    transport,
    // Each option left undefined takes the connection's default.
    timeoutMs: options.timeoutMs,
    reconnect: options.reconnect,
    maxPayload: options.maxPayload,
    connectTimeoutMs: options.connectTimeoutMs,
    lazy: !options.eager,
  });
  return {
    namespace,
    codec: options.codec ?? jsonCodec,
    timeoutMs: options.timeoutMs,
    state$: connection.state$,
    info$: connection.info$,
    connect: () => connection.connect(),
    close: () => connection.close(),
    channel: connection,
  };
}

/**
 * Sends one request through the context and decodes its OK reply (see `client/core/call.ts`): the
 * namespace and timeout resolved from `opts` and the context, the sizes checked before sending.
 *
 * @internal
 */
export function request<T>(
  flo: FloContext,
  opcode: number,
  body: OpPayload,
  opts: RequestOptions & { readonly idempotent?: boolean; readonly blockMs?: number },
  decode: (payload: Uint8Array) => T,
  notFound?: 'null',
): Observable<T> {
  const spec: { -readonly [K in keyof RequestSpec]: RequestSpec[K] } = { opcode, namespace: opts.namespace ?? flo.namespace, body };
  checkRequestSizes(spec.namespace, body);
  const timeout = opts.timeoutMs ?? flo.timeoutMs;
  if (timeout !== undefined) spec.timeoutMs = timeout;
  // A long-poll (validated by the caller); its deadline is the timeout plus this.
  if (opts.blockMs) spec.blockMs = opts.blockMs;
  if (opts.idempotent) spec.idempotent = true;
  return notFound ? (call(flo.channel, spec, decode, { notFound }) as Observable<T>) : call(flo.channel, spec, decode);
}
