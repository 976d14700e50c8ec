/**
 * TCP transport (Node only): one `node:net` socket per endpoint, Nagle disabled so a coalesced batch
 * of frames leaves at once.
 */
import * as net from 'node:net';
import { smallCopyOf } from '../protocol/small-bytes.js';
import type { Transport, TransportFactory, TransportHandlers } from './types.js';

/** Size of the buffer each socket reads into (the most one read takes). */
const READ_BUFFER = 64 * 1024;

/** Flo's default port (the one the Go SDK and Flo's docs use). */
export const DEFAULT_PORT = 9000;

/** Parses `host:port`, `[v6]:port`, `tcp://host:port` or a bare `host` (port 9000). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  let rest = endpoint.trim();
  if (rest.startsWith('tcp://')) rest = rest.slice(6);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new TypeError(`invalid endpoint: ${endpoint}`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new TypeError(`invalid endpoint: ${endpoint}`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon >= 0 && rest.indexOf(':') === colon) {
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    } else {
      host = rest; // no port, or a bare IPv6 address
    }
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new TypeError(`invalid port in endpoint: ${endpoint}`);
  return { host: host || 'localhost', port };
}

class TcpTransport implements Transport {
  private readonly socket_: net.Socket;
  constructor(socket_: net.Socket) {
    this.socket_ = socket_;
  }

  send(bytes: Uint8Array): void {
    // Backpressure is left to the kernel and Node's write queue: the connection bounds what is in
    // flight through request deadlines, and callers bound concurrency (mergeMap).
    this.socket_.write(bytes);
  }

  sendMany(chunks: readonly Uint8Array[]): void {
    // Corked writes leave in one writev: no copy into a joint buffer.
    const socket = this.socket_;
    socket.cork();
    for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]);
    socket.uncork();
  }

  close(): void {
    const socket = this.socket_;
    if (socket.destroyed) return;
    // Flush what is queued, send FIN, then let go without waiting for the peer's FIN. The fallback
    // covers a peer that stops reading (end's callback would never fire).
    const fallback = setTimeout(() => socket.destroy(), 1000);
    fallback.unref();
    socket.end(() => {
      clearTimeout(fallback);
      socket.destroy();
    });
  }
}

/** Opens a TCP connection to `host:port`. */
export const tcpTransport: TransportFactory = (endpoint: string, handlers: TransportHandlers): Promise<Transport> =>
  new Promise<Transport>((resolve, reject) => {
    let host: string;
    let port: number;
    try {
      ({ host, port } = parseEndpoint(endpoint));
    } catch (err) {
      reject(err);
      return;
    }
    // Reads land in one reused buffer and reach us straight from the socket (`onread`), without
    // the Readable stream's push, 'data' event and per-read nextTick; each read is copied out
    // (`smallCopyOf`: a small one to a view of a slab; frames are decoded in place and may outlive
    // the read).
    const readBuffer = new Uint8Array(READ_BUFFER);
    const readArrayBuffer = readBuffer.buffer;
    let onData: (chunk: Uint8Array) => void = () => undefined;
    const socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number) => {
          onData(smallCopyOf(readArrayBuffer, 0, n));
          return true; // keep reading
        },
      },
    });
    const onConnectError = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      socket.off('error', onConnectError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      let lastError: Error | undefined;
      socket.on('error', (err) => {
        lastError = err;
      });
      onData = handlers.onData;
      socket.once('close', () => handlers.onClose(lastError));
      resolve(new TcpTransport(socket));
    });
  });
