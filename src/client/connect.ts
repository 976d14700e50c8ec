/**
 * `connect()`: one client over one multiplexed connection. The universal entry speaks WebSocket
 * (browsers' own `WebSocket`, or `ws` in Node 20); `flo-rx/node` adds TCP and picks it for
 * `host:port` addresses.
 */
import { Connection, type ReconnectOptions } from '../connection/connection.js';
import type { TransportFactory } from '../connection/types.js';
import { webSocketTransport, webSocketUrl, type WebSocketConstructor } from '../connection/websocket.js';
import { InvalidArgumentError, opcodeName, type RequestFrame, type ResponseFrame } from '../protocol/index.js';
import { FloClient, type FloClientOptions } from './client.js';

/** Options of `connect()`: the client's defaults, the connection's timeout, reconnect and transport. */
export interface ConnectOptions extends FloClientOptions {
  /** Per-request timeout in ms; a long-poll's deadline adds its block time. Default 5000. */
  readonly timeoutMs?: number;
  /** Reconnect backoff (exponential with jitter and a cap), or `false` to make a lost connection final. */
  readonly reconnect?: ReconnectOptions | false;
  /** Logs every frame (to `console.debug`, or to the function given). */
  readonly debug?: boolean | ((line: string) => void);
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

/** Where to connect: `'host:port'`, a `ws://` / `wss://` URL, a comma-separated list or an array (tried in turn). */
export type Address = string | readonly string[];

export function endpointsOf(address: Address): string[] {
  const list = (typeof address === 'string' ? address.split(',') : [...address]).map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('connect: at least one address is required');
  return list;
}

export const isWebSocketAddress = (endpoint: string): boolean => /^(wss?|https?):\/\//i.test(endpoint);

/**
 * Checks every endpoint with the parser of the transport that will dial it, so a bad address
 * (`'host:notaport'`) is an `InvalidArgumentError` from `connect()`, not a failed connection later.
 */
export function checkEndpoints(endpoints: readonly string[], parse: (endpoint: string) => unknown): void {
  for (const endpoint of endpoints) {
    try {
      parse(endpoint);
    } catch (err) {
      throw new InvalidArgumentError(`connect: invalid address '${endpoint}': ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }
}

function frameLogger(debug: ConnectOptions['debug']) {
  if (!debug) return undefined;
  const log = typeof debug === 'function' ? debug : (line: string) => console.debug(line);
  return (dir: 'out' | 'in', frame: RequestFrame | ResponseFrame) => {
    const what = 'opcode' in frame ? opcodeName(frame.opcode) : `status ${frame.status}`;
    log(`flo-rx ${dir === 'out' ? '→' : '←'} #${frame.requestId} ${what} (${frame.payload.length} B)`);
  };
}

/** Builds a client on a given transport (the entries choose the transport). */
export function connectWith(address: Address, transport: TransportFactory, options: ConnectOptions = {}): FloClient {
  const onFrame = frameLogger(options.debug);
  const connection = new Connection({
    endpoints: endpointsOf(address),
    transport: options.transport ?? transport,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
    ...(options.maxPayload !== undefined ? { maxPayload: options.maxPayload } : {}),
    ...(onFrame ? { onFrame } : {}),
    lazy: !options.eager,
  });
  // The sibling (e.g. the action worker's await connection): same endpoints, transport and options.
  return new FloClient(connection, options, () => connectWith(address, transport, options));
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
