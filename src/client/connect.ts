/**
 * `connect()`: one client over one multiplexed connection. The universal entry speaks WebSocket
 * (browsers' own `WebSocket`, or `ws` in Node 20); `flo-rx/node` adds TCP and picks it for
 * `host:port` addresses.
 */
import { Connection, type ReconnectOptions } from '../connection/connection.js';
import type { TransportFactory } from '../connection/types.js';
import { webSocketTransport, webSocketUrl, type WebSocketConstructor } from '../connection/websocket.js';
import type { ClientTracing } from '../connection/tracing.js';
import { InvalidArgumentError, type FrameCrc, type RequestFrame, type ResponseFrame } from '../protocol/index.js';
import { clientOpcodeName } from '../protocol/client-opcodes.js';
import { EventHub } from '../observability/events.js';
import { lineLogger, toFloLogger, type ConsoleLike, type FloLogger, type LogLevel } from '../observability/logger.js';
import { FloClient, type FloClientOptions } from './client.js';
import { checkEndpoints, endpointsOf, type Address } from './endpoints.js';

/** Options of `connect()`: the client's defaults, the connection's timeout, reconnect and transport. */
export interface ConnectOptions extends FloClientOptions {
  /** Per-request timeout in ms; a long-poll's deadline adds its block time. Default 5000. */
  readonly timeoutMs?: number;
  /** Reconnect backoff (exponential with jitter and a cap), or `false` to make a lost connection final. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * Logs every frame and every connection attempt (to `console.debug`, or to the function given),
   * besides what `logger` gets.
   */
  readonly debug?: boolean | ((line: string) => void);
  /**
   * With reconnect on, `connect()` rejects with a `ConnectionError` (its `cause` the last socket
   * error) when not connected after this many ms; attempts go on in the background. Default 10 000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Structured logs of reconnects, retries, hand-backs, settle resends, drains and slow handlers:
   * a pino-style logger (`(fields, message)`), or `console`. Default: none.
   */
  readonly logger?: FloLogger | ConsoleLike;
  /** Least level logged when `logger` is `console`. Default `'info'`. */
  readonly logLevel?: LogLevel;
  /** Open the socket at once instead of on first use. Default false (lazy). */
  readonly eager?: boolean;
  /** A transport of your own (tests, proxies). Overrides the choice made from the address. */
  readonly transport?: TransportFactory;
  /** WebSocket: an auth token (sent as the `token` query parameter). */
  readonly authToken?: string;
  /** WebSocket: the constructor to use (defaults to `globalThis.WebSocket`, else the `ws` package). */
  readonly WebSocket?: WebSocketConstructor;
  /** Largest reply payload accepted, in bytes. Default 100 MiB. */
  readonly maxPayload?: number;
}

export { checkEndpoints, endpointsOf, isWebSocketAddress, type Address } from './endpoints.js';

function frameLogger(debug: ConnectOptions['debug']) {
  if (!debug) return undefined;
  const log = typeof debug === 'function' ? debug : (line: string) => console.debug(line);
  return (dir: 'out' | 'in', frame: RequestFrame | ResponseFrame) => {
    const what = 'opcode' in frame ? clientOpcodeName(frame.opcode) : `status ${frame.status}`;
    log(`flo-rx ${dir === 'out' ? '→' : '←'} #${frame.requestId} ${what} (${frame.payload.length} B)`);
  };
}

function eventLogger(options: ConnectOptions): FloLogger | undefined {
  const { debug, logger } = options;
  const user = logger === undefined ? undefined : toFloLogger(logger, options.logLevel);
  if (!debug) return user;
  const debugLog = lineLogger(typeof debug === 'function' ? debug : (line) => console.debug(line));
  if (user === undefined) return debugLog;
  const both =
    (level: keyof FloLogger) =>
    (fields: Record<string, unknown>, message: string): void => {
      debugLog[level](fields, message);
      user[level](fields, message);
    };
  return { debug: both('debug'), info: both('info'), warn: both('warn'), error: both('error') };
}

/**
 * Builds a client on a given transport (the entries choose the transport).
 *
 * @param tracing @internal diagnostics channels handed in by the Node entry
 * @param frameCrc @internal the reply frame CRC handed in by the Node entry (native `zlib.crc32`)
 */
export function connectWith(
  address: Address,
  transport: TransportFactory,
  options: ConnectOptions = {},
  tracing?: ClientTracing,
  frameCrc?: FrameCrc,
): FloClient {
  const cto = options.connectTimeoutMs;
  if (cto !== undefined && !(typeof cto === 'number' && cto > 0)) {
    throw new InvalidArgumentError(`connectTimeoutMs must be a positive number, got ${String(cto)}`);
  }
  const onFrame = frameLogger(options.debug);
  const hub = new EventHub(eventLogger(options));
  const connection = new Connection({
    endpoints: endpointsOf(address),
    transport: options.transport ?? transport,
    // Each option left undefined takes the connection's default.
    timeoutMs: options.timeoutMs,
    reconnect: options.reconnect,
    maxPayload: options.maxPayload,
    connectTimeoutMs: options.connectTimeoutMs,
    onFrame,
    tracing,
    frameCrc,
    onEvent: hub.emit,
    lazy: !options.eager,
  });
  // The sibling (e.g. the action worker's await connection): same endpoints, transport and options.
  return new FloClient(connection, options, () => connectWith(address, transport, options, tracing, frameCrc), hub);
}

/**
 * Connects over WebSocket (`ws://host:port`, or `host:port` meaning `ws://host:port`). Lazy: the
 * socket opens on the first subscription or `await flo.connect()`.
 */
export function connect(address: Address, options: ConnectOptions = {}): FloClient {
  const endpoints = endpointsOf(address);
  if (!options.transport) checkEndpoints(endpoints, (e) => webSocketUrl(e));
  const ws = webSocketTransport({
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.authToken !== undefined ? { authToken: options.authToken } : {}),
  });
  return connectWith(endpoints, ws, options);
}
