/**
 * The byte pipe under one server connection: a TCP socket carrying frames directly, or a WebSocket
 * carrying them in binary messages. The connection logic (`connection.ts`) sees only this.
 */
import type { Socket } from 'node:net';
import { smallCopyOf } from '../protocol/small-bytes.js';

export type WireProtocol = 'binary' | 'websocket';

/** Why the server ends a connection: a frame it could not parse, or its own shutdown. */
export type EndReason = 'reject' | 'shutdown';

export interface TransportEvents {
  /** `lastOfTurn`: no more bytes come in this turn of the event loop (when the transport can tell). */
  data(bytes: Uint8Array, lastOfTurn?: boolean): void;
  /** The write buffer emptied below the high-water mark. */
  drain(): void;
  /** The peer finished sending (TCP half-close); what is already due may still be written. */
  end(): void;
  /** The pipe is gone (either side closed it, or it failed). Fires once. */
  close(): void;
}

export interface FrameTransport {
  readonly protocol: WireProtocol;
  readonly remoteAddress: string;
  /** Starts delivering events; called once by the connection. */
  start(events: TransportEvents): void;
  /**
   * Writes whole frames (one socket write or one WebSocket message). `bytes` is a view into the
   * connection's output buffer, which is written over again once `bufferedBytes` reads 0: a
   * transport must not hold on to it beyond that (one that does must copy).
   */
  send(bytes: Uint8Array): void;
  /** Bytes accepted by `send` and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  pauseReading(): void;
  resumeReading(): void;
  /** Flushes what was sent, then closes. Incoming bytes are read and dropped meanwhile. */
  end(why: EndReason): void;
  /** Closes at once, dropping anything unsent. */
  destroy(): void;
}

export function formatAddress(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * What one socket read asks for (libuv's suggested size, which Node uses). libuv reads a socket
 * again in the same turn only after a read that filled this: a shorter chunk is the turn's last.
 */
const TCP_READ_SIZE = 64 * 1024;

/** How long a connection we ended waits for the peer to close before it is destroyed. */
const END_GRACE_MS = 2000;

/**
 * Where accepted sockets read into, shared by all of them: each read is copied out before the
 * callback returns, and reads of different sockets never overlap (one thread), so one buffer
 * serves every connection (an idle connection holds none).
 */
let sharedReadBuffer: Uint8Array | undefined;

/** The socket fields behind `net.connect({ onread })`: the buffer, the callback, and a buffer factory (unused). */
interface ReadIntoKeys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}
let readIntoKeys: ReadIntoKeys | null | undefined;

/**
 * Node gives `onread` (reads into a buffer of ours, handed straight to a callback) only to sockets
 * it connects; an accepted socket reads through its Readable stream (an ArrayBuffer allocated per
 * read, a Buffer, push, the 'data' event). The option only fills three fields of the socket and
 * points the handle at the buffer (`useUserBuffer`), which this does for an accepted socket. The
 * fields are found by their names; where they are missing (another runtime or Node version) the
 * socket stays on the stream (null).
 */
function readIntoKeysOf(socket: Socket): ReadIntoKeys | null {
  if (readIntoKeys !== undefined) return readIntoKeys;
  const byName = new Map(Object.getOwnPropertySymbols(socket).map((sym) => [sym.description, sym]));
  const buffer = byName.get('kBuffer');
  const callback = byName.get('kBufferCb');
  const generator = byName.get('kBufferGen');
  readIntoKeys = buffer && callback && generator ? { buffer, callback, generator } : null;
  return readIntoKeys;
}

/** The socket's libuv handle, when it can read into a buffer of ours. */
function userBufferHandle(socket: Socket): { useUserBuffer(buf: Uint8Array): void } | undefined {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  return handle && typeof handle.useUserBuffer === 'function' ? (handle as { useUserBuffer(buf: Uint8Array): void }) : undefined;
}

export class TcpTransport implements FrameTransport {
  readonly protocol = 'binary' as const;
  readonly remoteAddress: string;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Socket) {
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
  }

  start(events: TransportEvents): void {
    const s = this.socket;
    // Chunks the stream already holds (read while the protocol was sniffed) still come as 'data'.
    s.on('data', (chunk: Buffer) => events.data(chunk, chunk.length < TCP_READ_SIZE));
    this.readDirectly(events);
    s.on('drain', () => events.drain());
    s.on('end', () => events.end());
    s.on('error', () => s.destroy()); // reported as 'close'
    s.once('close', () => {
      if (this.graceTimer) clearTimeout(this.graceTimer);
      events.close();
    });
    if (s.destroyed) queueMicrotask(() => events.close());
  }

  /**
   * Later reads skip the Readable stream: they land in the shared buffer and each is copied out
   * (`smallCopyOf`: a small read to a slab's view, not a buffer of its own; frames are views into
   * it and may outlive the read). Pausing and resuming
   * still work: with these fields set, `pause()`/`resume()` stop and start the handle's reading.
   * Only while the stream holds no chunk (else those would come after newer bytes).
   */
  private readDirectly(events: TransportEvents): void {
    const s = this.socket;
    const keys = readIntoKeysOf(s);
    const handle = userBufferHandle(s);
    if (keys === null || handle === undefined || s.readableLength > 0 || s.destroyed) return;
    const buffer = (sharedReadBuffer ??= new Uint8Array(TCP_READ_SIZE));
    const readArrayBuffer = buffer.buffer;
    const fields = s as unknown as Record<symbol, unknown>;
    fields[keys.buffer] = buffer;
    fields[keys.generator] = null;
    fields[keys.callback] = (n: number) => {
      events.data(smallCopyOf(readArrayBuffer, 0, n), n < TCP_READ_SIZE);
      return true;
    };
    handle.useUserBuffer(buffer);
  }

  send(bytes: Uint8Array): void {
    const s = this.socket;
    if (!s.writable) return;
    s.write(bytes);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(_why: EndReason): void {
    const s = this.socket;
    if (s.destroyed) return;
    // Keep reading (and dropping) so that unread input does not turn our close into a reset that
    // could discard the reply still in flight to the peer.
    s.resume();
    s.end();
    this.graceTimer ??= setTimeout(() => s.destroy(), END_GRACE_MS);
    this.graceTimer.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
