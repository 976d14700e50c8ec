/**
 * WebSocket transport: frames travel in binary messages (one or more frames per message, and a
 * frame may span messages: the connection's frame reader does not care about message bounds). The
 * subprotocol `flo-proto` is selected when the client offers it. The handshake is done by `ws` in
 * `noServer` mode on a socket whose request head we already parsed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { HEADER_SIZE } from '../protocol/index.js';
import type { HttpHead } from './http.js';
import { formatAddress, type EndReason, type FrameTransport, type TransportEvents } from './transport.js';

export const FLO_SUBPROTOCOL = 'flo-proto';

/** How long a WebSocket we closed waits for the peer's close frame before it is terminated. */
const CLOSE_GRACE_MS = 2000;

/** Largest WebSocket message accepted (Flo's limit); a Flo frame may span several messages. */
export const MAX_WS_MESSAGE = 16 * 1024 * 1024;

export function createWebSocketServer(maxFramePayload: number): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: Math.min(Math.max(maxFramePayload + HEADER_SIZE, 1024 * 1024), MAX_WS_MESSAGE),
    handleProtocols: (protocols) => (protocols.has(FLO_SUBPROTOCOL) ? FLO_SUBPROTOCOL : false),
  });
}

/** Completes the handshake; `onOpen` gets the transport once the socket speaks WebSocket. */
export function upgradeToWebSocket(
  wss: WebSocketServer,
  socket: Socket,
  head: HttpHead,
  rest: Buffer,
  onOpen: (transport: WsTransport) => void,
  frameTimeoutMs = 0,
): void {
  const req = {
    method: head.method,
    url: head.url,
    httpVersion: head.httpVersion,
    headers: head.headers,
    socket,
  } as unknown as IncomingMessage;
  wss.handleUpgrade(req, socket, rest, (ws) => {
    onOpen(new WsTransport(ws, socket, frameTimeoutMs));
  });
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

export class WsTransport implements FrameTransport {
  readonly protocol = 'websocket' as const;
  readonly remoteAddress: string;
  private graceTimer: NodeJS.Timeout | undefined;

  private partialTimer: NodeJS.Timeout | undefined;

  /**
   * @param frameTimeoutMs a WebSocket message begun must be complete within this time, else the
   *   connection is terminated (bytes trickled into one message would otherwise be held forever); 0 = never
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly frameTimeoutMs = 0,
  ) {
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  }

  /** Raw bytes arrived: a message (or control frame) is under way until one completes. */
  private onRawData = (): void => {
    if (this.partialTimer || this.frameTimeoutMs <= 0) return;
    this.partialTimer = setTimeout(() => this.ws.terminate(), this.frameTimeoutMs);
    this.partialTimer.unref();
  };

  private onWhole = (): void => {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  };

  /** The subprotocol agreed in the handshake ('' when none). */
  get subprotocol(): string {
    return this.ws.protocol;
  }

  start(events: TransportEvents): void {
    // Text messages are fed too: they fail frame validation and get the reject frame.
    this.ws.on('message', (data) => {
      this.onWhole();
      events.data(toBytes(data));
    });
    if (this.frameTimeoutMs > 0) {
      this.socket.on('data', this.onRawData);
      this.ws.on('ping', this.onWhole);
      this.ws.on('pong', this.onWhole);
    }
    this.socket.on('drain', () => events.drain());
    // No 'end' event: a WebSocket ends with a close frame (reported as 'close'); ws handles TCP EOF.
    this.ws.on('error', () => this.ws.terminate()); // reported as 'close'
    this.ws.once('close', () => {
      if (this.graceTimer) clearTimeout(this.graceTimer);
      this.onWhole();
      events.close();
    });
    if (this.ws.readyState === this.ws.CLOSED) queueMicrotask(() => events.close());
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    // ws frames a Buffer without copying it (server frames are not masked); `bufferedAmount`
    // counts it until the socket took it, which is what the connection's output buffer waits for.
    this.ws.send(bytes, { binary: true });
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume(); // also resumes the raw socket, paused while the handshake was set up
  }

  end(why: EndReason): void {
    if (this.ws.readyState === this.ws.CLOSED) return;
    this.ws.resume();
    if (why === 'reject') this.ws.close(1002, 'Invalid request');
    else this.ws.close(1001, 'server stopping');
    this.graceTimer ??= setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
