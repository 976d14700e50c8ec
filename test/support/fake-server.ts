/**
 * A small scriptable Flo server over real TCP, for tests of anything that talks to a socket.
 *
 *   const server = await FakeServer.start();                 // echoes each request's key, status OK
 *   server.handler = (req) => ({ status: 2 });               // answer every request NOT_FOUND
 *   server.handler = (req) => ({ payload, delayMs: 20 });    // answer later
 *   server.handler = () => 'hang';                           // never answer by itself...
 *   server.requests[0].reply(0, payload);                    // ...answer by hand, in any order
 *   server.handler = () => 'drop';                           // destroy the connection on receipt
 *   server.dropAll(); await server.stop(); await server.restart();   // same port
 *
 * Frames the server cannot parse get Flo's reject frame (id 0, status 3) and the connection closes.
 */
import * as net from 'node:net';
import {
  EMPTY,
  RequestFrameDecoder,
  decodeRequestBody,
  encodeRejectFrame,
  encodeResponseFrame,
  fromUtf8,
  type DecodedRequest,
  type RequestBody,
} from '../../src/protocol/index.js';

export type FakeAnswer =
  | { readonly status?: number; readonly payload?: Uint8Array; readonly delayMs?: number }
  /** Do not answer (the test may call `req.reply` later). */
  | 'hang'
  /** Destroy the connection the request came on, without answering. */
  | 'drop';

export type FakeHandler = (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>;

export class FakeConnection {
  /** `data` events seen: a rough count of the client's socket writes (TCP may merge or split them). */
  chunks = 0;
  readonly requests: FakeRequest[] = [];
  constructor(
    readonly id: number,
    readonly socket: net.Socket,
  ) {}

  get open(): boolean {
    return !this.socket.destroyed;
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class FakeRequest {
  readonly body: RequestBody;
  private answered = false;
  constructor(
    readonly frame: DecodedRequest,
    readonly conn: FakeConnection,
  ) {
    this.body = decodeRequestBody(frame.payload);
  }

  get id(): bigint {
    return this.frame.requestId;
  }
  get opcode(): number {
    return this.frame.opcode;
  }
  get namespace(): string {
    return fromUtf8(this.body.namespace);
  }
  get key(): Uint8Array {
    return this.body.key;
  }
  get keyText(): string {
    return fromUtf8(this.body.key);
  }
  get isAnswered(): boolean {
    return this.answered;
  }

  /** Answers the request (once; later calls are ignored). */
  reply(status = 0, payload: Uint8Array = EMPTY): void {
    if (this.answered) return;
    this.answered = true;
    this.conn.write(encodeResponseFrame(this.frame.requestId, status, payload));
  }
}

export interface FakeServerOptions {
  readonly handler?: FakeHandler;
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  readonly host?: string;
}

/** Answers OK with the request's key as payload. */
export const echoKey: FakeHandler = (req) => ({ status: 0, payload: req.key });

export class FakeServer {
  handler: FakeHandler;
  /** Every request received, in arrival order, across connections. */
  readonly requests: FakeRequest[] = [];
  /** Connections currently open. */
  readonly connections = new Set<FakeConnection>();
  /** Connections accepted since start (including closed ones). */
  accepted = 0;
  private server: net.Server | undefined;
  private listeners: Array<() => void> = [];
  private portValue: number;
  private readonly host: string;

  private constructor(options: FakeServerOptions) {
    this.handler = options.handler ?? echoKey;
    this.portValue = options.port ?? 0;
    this.host = options.host ?? '127.0.0.1';
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const server = new FakeServer(options);
    await server.listen();
    return server;
  }

  get port(): number {
    return this.portValue;
  }

  get endpoint(): string {
    return `${this.host}:${this.portValue}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Resolves once `count` requests in total have arrived. */
  waitForRequests(count: number): Promise<FakeRequest[]> {
    return this.waitFor(() => this.requests.length >= count).then(() => this.requests.slice(0, count));
  }

  /** Resolves once `count` connections in total have been accepted. */
  waitForConnections(count: number): Promise<void> {
    return this.waitFor(() => this.accepted >= count);
  }

  /** Sends raw bytes on every open connection. */
  sendRaw(bytes: Uint8Array): void {
    for (const c of this.connections) c.write(bytes);
  }

  /** Destroys every open connection (the listener stays up). */
  dropAll(): void {
    for (const c of this.connections) c.destroy();
  }

  /** Stops listening and destroys every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (this.server) await this.stop();
    await this.listen();
  }

  private waitFor(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = () => {
        if (!predicate()) return;
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portValue, this.host, () => {
        server.off('error', reject);
        this.server = server;
        this.portValue = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const conn = new FakeConnection(++this.accepted, socket);
    this.connections.add(conn);
    const decoder = new RequestFrameDecoder();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connections.delete(conn);
      this.notify();
    });
    socket.on('data', (chunk: Buffer) => {
      conn.chunks++;
      let frames: DecodedRequest[];
      try {
        frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        conn.write(encodeRejectFrame());
        socket.end();
        return;
      }
      for (const frame of frames) {
        if (!frame.checksumOk) {
          conn.write(encodeRejectFrame());
          socket.end();
          return;
        }
        const req = new FakeRequest(frame, conn);
        this.requests.push(req);
        conn.requests.push(req);
        void this.answer(req);
      }
      this.notify();
    });
    this.notify();
  }

  private async answer(req: FakeRequest): Promise<void> {
    let answer: FakeAnswer;
    try {
      answer = await this.handler(req);
    } catch (err) {
      req.reply(9, new TextEncoder().encode(String(err)));
      return;
    }
    if (answer === 'hang') return;
    if (answer === 'drop') {
      req.conn.destroy();
      return;
    }
    const { status = 0, payload = EMPTY, delayMs } = answer;
    if (delayMs !== undefined && delayMs > 0) setTimeout(() => req.reply(status, payload), delayMs);
    else req.reply(status, payload);
  }
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
