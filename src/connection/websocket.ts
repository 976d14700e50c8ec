/**
 * WebSocket transport (universal: browsers, Node 22+, and Node 20 through the `ws` package).
 *
 * Frames travel in binary messages: each `send` is one binary message holding one or more whole
 * frames; received messages are handed on as `Uint8Array` chunks without regard to frame bounds
 * (the connection's frame decoder reassembles them). The subprotocol `flo-proto` is offered by
 * default, as Flo's WebSocket endpoint expects.
 *
 * This module must stay importable in a browser: no `node:` module and no static import of `ws`.
 * Where neither an injected constructor nor `globalThis.WebSocket` exists (Node 20), `ws` is
 * loaded on first use by a dynamic `import('ws')`; bundlers should mark `ws` external (tsup does,
 * as it is a dependency), and a browser never reaches that import.
 */
import type { Transport, TransportFactory, TransportHandlers } from './types.js';

/** The subprotocol Flo's WebSocket endpoint speaks. */
export const FLO_WS_SUBPROTOCOL = 'flo-proto';

/** Flo's default port: HTTP/WebSocket is sniffed on the same port as the binary protocol. */
const DEFAULT_PORT = 9000;

/** WHATWG `WebSocket.OPEN`; `ws` uses the same numbers. */
const OPEN = 1;

/**
 * The part of the WHATWG WebSocket API this transport uses. The browser's `WebSocket`, Node 22+'s
 * global one and the `ws` package's class all fit.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // Events are typed loosely: the DOM, undici and `ws` each have their own event classes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener(type: string, listener: (event: any) => void): void;
}

/** A WebSocket class: the browser's, `ws`'s, or any with the same constructor. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options of `webSocketTransport`. */
export interface WebSocketTransportOptions {
  /** The WebSocket class to use. Default: `globalThis.WebSocket`, else (Node 20) the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** Subprotocols offered. Default `['flo-proto']`; an empty list offers none. */
  readonly protocols?: readonly string[];
  /**
   * Sent as the `token` query parameter of the WebSocket URL (an existing `token` parameter is
   * replaced). Flo's protocol documents do not say how its JS SDK carries a token over WebSocket:
   * they describe no handshake at all (the first frame is an ordinary request) and an `auth`
   * opcode (0x003) that the Go SDK never sends. A browser cannot set
   * headers on a WebSocket handshake, so the two places left are the URL and the subprotocol list;
   * we use a query parameter named `token`, which is our choice, not a documented Flo behaviour.
   * The token is never included in error messages.
   */
  readonly authToken?: string;
}

/**
 * Turns an endpoint into a WebSocket URL:
 * - `ws://…` and `wss://…` are used as given; `http://` and `https://` become `ws://` and `wss://`;
 * - `host`, `host:port`, `[v6]:port` become `ws://host:port/` (port 9000 when absent).
 */
export function webSocketUrl(endpoint: string, authToken?: string): URL {
  const text = endpoint.trim();
  let url: URL;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== 'ws' && scheme !== 'wss' && scheme !== 'http' && scheme !== 'https') {
      throw new TypeError(`unsupported scheme for a WebSocket endpoint: ${scheme}://`);
    }
    url = new URL(text);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
  } else {
    if (text === '') throw new TypeError('empty endpoint');
    // A bare IPv6 address ("::1") needs brackets in a URL.
    const host = !text.startsWith('[') && text.indexOf(':') !== text.lastIndexOf(':') ? `[${text}]` : text;
    try {
      url = new URL(`ws://${host}/`);
    } catch {
      throw new TypeError(`invalid endpoint: ${endpoint}`);
    }
    if (url.port === '') url.port = String(DEFAULT_PORT);
  }
  if (authToken !== undefined) url.searchParams.set('token', authToken);
  return url;
}

/** The URL without its query (where a token may be), for error messages. */
function describe(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

let wsModule: Promise<WebSocketConstructor> | undefined;

/** Loads `ws` once (Node without a global WebSocket). Never reached where a global exists. */
function loadWs(): Promise<WebSocketConstructor> {
  wsModule ??= import('ws').then(
    (mod) => {
      const ctor = (mod as { WebSocket?: unknown; default?: unknown }).WebSocket ?? mod.default;
      if (typeof ctor !== 'function') throw new Error('the ws package did not export a WebSocket class');
      return ctor as unknown as WebSocketConstructor;
    },
    (err: unknown) => {
      wsModule = undefined;
      throw new Error(
        'no WebSocket implementation: this runtime has no global WebSocket and the ws package could not be ' +
          'loaded; install ws or pass options.WebSocket',
        { cause: err },
      );
    },
  );
  return wsModule;
}

function resolveConstructor(options: WebSocketTransportOptions): WebSocketConstructor | Promise<WebSocketConstructor> {
  if (options.WebSocket) return options.WebSocket;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof global === 'function') return global as WebSocketConstructor;
  return loadWs();
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // `ws` with binaryType 'nodebuffer' (or an implementation that ignores binaryType) gives a Buffer.
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function closeDescription(event: { code?: number; reason?: string }): string {
  const code = event.code ?? 1006;
  return event.reason ? `code ${code}, ${event.reason}` : `code ${code}`;
}

/** Close codes that are an orderly end rather than a failure. */
const CLEAN_CODES = new Set([1000, 1001, 1005]);

class WebSocketTransport implements Transport {
  /** Set once we asked to close, so an orderly close we asked for is not reported as an error. */
  closing = false;
  private declare readonly socket_: WebSocketLike;

  constructor(socket_: WebSocketLike) {
    this.socket_ = socket_;
  }

  send(bytes: Uint8Array): void {
    // A closing or closed socket drops the bytes; its close event tells the connection.
    // Backpressure (`bufferedAmount`) is not watched: the connection bounds what is in flight.
    if (this.socket_.readyState !== OPEN) return;
    this.socket_.send(bytes);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    try {
      this.socket_.close(1000);
    } catch {
      // Already closed: the close event (or the one already delivered) covers it.
    }
  }
}

/**
 * A `TransportFactory` over WebSocket. The promise resolves once the socket is open (and, when
 * subprotocols were offered, the server selected one of them); it rejects if the socket cannot
 * open. After that, `onClose` fires exactly once: with no error for an orderly close (codes 1000,
 * 1001, 1005, or one we asked for), with an `Error` otherwise.
 */
export function webSocketTransport(options: WebSocketTransportOptions = {}): TransportFactory {
  const protocols = [...(options.protocols ?? [FLO_WS_SUBPROTOCOL])];
  return async (endpoint: string, handlers: TransportHandlers): Promise<Transport> => {
    const url = webSocketUrl(endpoint, options.authToken);
    const Ctor = await resolveConstructor(options);
    const where = describe(url);
    return new Promise<Transport>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = protocols.length ? new Ctor(url.href, protocols) : new Ctor(url.href);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      socket.binaryType = 'arraybuffer';
      let transport: WebSocketTransport | undefined;
      let lastError: Error | undefined;
      let settled = false;
      let closed = false;

      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };

      socket.addEventListener('open', () => {
        if (settled) return;
        if (protocols.length && !protocols.includes(socket.protocol)) {
          fail(new Error(`WebSocket to ${where}: the server selected no offered subprotocol (${protocols.join(', ')})`));
          try {
            socket.close(1002);
          } catch {
            // ignore
          }
          return;
        }
        settled = true;
        transport = new WebSocketTransport(socket);
        resolve(transport);
      });

      socket.addEventListener('message', (event: { data?: unknown }) => {
        if (!transport || closed) return;
        const bytes = toBytes(event.data);
        if (bytes === undefined) {
          // Flo frames are binary; a text message means the peer does not speak the protocol.
          lastError = new Error(`WebSocket to ${where}: unexpected non-binary message`);
          transport.closing = true;
          try {
            socket.close(1003, 'binary frames only');
          } catch {
            // ignore
          }
          return;
        }
        if (bytes.length) handlers.onData(bytes);
      });

      socket.addEventListener('error', (event: { error?: unknown; message?: unknown }) => {
        // Browsers give no detail; `ws` and undici carry an `error` or a `message`.
        const detail =
          event.error instanceof Error ? event.error.message : typeof event.message === 'string' ? event.message : '';
        const err = new Error(`WebSocket to ${where} failed${detail ? `: ${detail}` : ''}`);
        if (event.error instanceof Error) (err as Error & { cause?: unknown }).cause = event.error;
        lastError ??= err;
        if (!settled) fail(err);
      });

      socket.addEventListener('close', (event: { code?: number; reason?: string; wasClean?: boolean }) => {
        if (closed) return;
        closed = true;
        if (!settled) {
          fail(lastError ?? new Error(`WebSocket to ${where} closed before it opened (${closeDescription(event)})`));
          return;
        }
        if (!transport) return; // refused after open (subprotocol): already rejected
        let error = lastError;
        if (!error && !transport.closing && (!CLEAN_CODES.has(event.code ?? 1006) || event.wasClean === false)) {
          error = new Error(`WebSocket to ${where} closed (${closeDescription(event)})`);
        }
        handlers.onClose(error);
      });
    });
  };
}
