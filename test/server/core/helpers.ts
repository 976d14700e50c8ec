/**
 * Test support for the server core: a test-only subsystem (so these tests do not depend on any real
 * subsystem), and small binary / WebSocket clients that decode replies with the protocol package.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  concatBytes,
  encodeRequest,
  fromUtf8,
  Opt,
  OptionsBuilder,
  ProtocolError,
  ResponseFrameDecoder,
  utf8,
  type DecodedResponse,
  type OpPayload,
} from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { badRequest, conflict, notFound, ok } from '../../../src/server/reply.js';
import { startServer, type FloServer, type StartServerOptions } from '../../../src/server/server.js';
import type { Handler, ServerEnv, Subsystem } from '../../../src/server/types.js';
import { Waiters } from '../../../src/server/waiters.js';

/** Opcodes of the test subsystem: outside every range Flo uses. */
export const T = {
  Echo: 0x7e0, // OK, payload = value
  Namespace: 0x7e1, // OK, payload = namespace as the handler saw it
  Park: 0x7e2, // parks on key for BlockMS (option 0x17): OK 'woken', else NOT_FOUND (timeouts and aborts counted)
  Wake: 0x7e3, // wakes key; OK
  Conflict: 0x7e4, // throws conflict('version mismatch')
  Boom: 0x7e5, // throws new Error('boom')
  AsyncBoom: 0x7e6, // rejects with new Error('async boom')
  Malformed: 0x7e7, // throws ProtocolError (a payload codec refusing bytes)
  ThrowString: 0x7e8, // throws a non-Error
  BadRequest: 0x7e9, // throws badRequest('nope')
  Slow: 0x7ea, // resolves after a microtask-free macrotask hop: setImmediate
} as const;

export interface Probe {
  aborted: number;
  timedOut: number;
  closed: boolean;
  env?: ServerEnv;
  waiters?: Waiters;
}

export function testSubsystem(probe: Probe): (env: ServerEnv) => Subsystem[] {
  return (env) => {
    probe.env = env;
    const waiters = new Waiters(env.clock);
    probe.waiters = waiters;
    const handlers = new Map<number, Handler>([
      [T.Echo, (ctx) => ok(ctx.body.value)],
      [T.Namespace, (ctx) => ok(utf8(ctx.namespace))],
      [
        T.Park,
        async (ctx) => {
          const key = fromUtf8(ctx.body.key);
          const blockMs = ctx.options.u32(Opt.BlockMS) ?? 0;
          const woken = await waiters.park(key, env.clock.now() + blockMs, ctx.signal);
          if (woken) return ok(utf8('woken'));
          if (ctx.signal.aborted) probe.aborted++;
          else probe.timedOut++;
          throw notFound(); // a long-poll that gives up answers 'nothing'
        },
      ],
      [
        T.Wake,
        (ctx) => {
          waiters.wake(fromUtf8(ctx.body.key));
          return ok();
        },
      ],
      [
        T.Conflict,
        () => {
          throw conflict('version mismatch');
        },
      ],
      [
        T.Boom,
        () => {
          throw new Error('boom');
        },
      ],
      [T.AsyncBoom, async () => Promise.reject(new Error('async boom'))],
      [
        T.Malformed,
        () => {
          throw new ProtocolError('truncated payload: count needs 4 byte(s)');
        },
      ],
      [
        T.ThrowString,
        () => {
          throw 'just a string';
        },
      ],
      [
        T.BadRequest,
        () => {
          throw badRequest('nope');
        },
      ],
      [T.Slow, (ctx) => new Promise((resolve) => setImmediate(() => resolve(ok(ctx.body.value))))],
    ]);
    return [
      {
        handlers,
        close() {
          probe.closed = true;
          waiters.clear();
        },
      },
    ];
  };
}

export interface TestServer {
  server: FloServer;
  clock: ManualClock;
  probe: Probe;
  logs: string[];
}

export async function startTestServer(opts: Partial<StartServerOptions> = {}): Promise<TestServer> {
  const clock = new ManualClock();
  const probe: Probe = { aborted: 0, timedOut: 0, closed: false };
  const logs: string[] = [];
  const server = await startServer({
    port: 0,
    clock,
    subsystems: testSubsystem(probe),
    logger: (line) => logs.push(line),
    ...opts,
  });
  return { server, clock, probe, logs };
}

export const blockMs = (ms: number) => new OptionsBuilder().u32(Opt.BlockMS, ms).build();

export function req(id: number | bigint, opcode: number, body: OpPayload = {}, namespace = 'test'): Uint8Array {
  return encodeRequest(BigInt(id), opcode, namespace, body);
}

export const text = (b: Uint8Array) => fromUtf8(b);

/** Collects reply frames (and raw bytes) from a byte stream. */
class ReplyCollector {
  readonly frames: DecodedResponse[] = [];
  readonly raw: Uint8Array[] = [];
  private readonly decoder = new ResponseFrameDecoder();
  private waiters: Array<() => void> = [];
  decodeError: Error | undefined;

  push(bytes: Uint8Array): void {
    this.raw.push(new Uint8Array(bytes));
    try {
      this.frames.push(...this.decoder.push(bytes));
    } catch (err) {
      this.decodeError = err as Error;
    }
    this.notify();
  }

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `n` frames in total have arrived (rejects if the stream ends first). */
  async waitFor(n: number, isClosed: () => boolean): Promise<DecodedResponse[]> {
    while (this.frames.length < n) {
      if (isClosed()) throw new Error(`connection closed after ${this.frames.length} of ${n} replies`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.frames.slice(0, n);
  }

  get bytes(): Uint8Array {
    return concatBytes(this.raw);
  }
}

export class BinaryClient {
  readonly replies = new ReplyCollector();
  closedFlag = false;
  readonly closed: Promise<void>;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (b: Buffer) => this.replies.push(b));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.replies.notify();
        resolve();
      }),
    );
  }

  static async open(port: number, host = '127.0.0.1'): Promise<BinaryClient> {
    const socket = connect({ port, host });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new BinaryClient(socket);
  }

  /** Writes bytes; resolves when handed to the kernel. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  next(n = 1): Promise<DecodedResponse[]> {
    return this.replies.waitFor(this.replies.frames.length + n, () => this.closedFlag).then((all) => all.slice(-n));
  }

  waitFor(total: number): Promise<DecodedResponse[]> {
    return this.replies.waitFor(total, () => this.closedFlag);
  }

  /** One request, one reply (no other request in flight). */
  async call(id: number, opcode: number, body: OpPayload = {}, namespace = 'test'): Promise<DecodedResponse> {
    const before = this.replies.frames.length;
    await this.write(req(id, opcode, body, namespace));
    const all = await this.waitFor(before + 1);
    return all[before];
  }

  close(): void {
    this.socket.destroy();
  }
}

export class WsClient {
  readonly replies = new ReplyCollector();
  closedFlag = false;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.replies.push(data));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closedFlag = true;
        this.replies.notify();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  static async open(url: string, protocols: string | string[] = 'flo-proto'): Promise<WsClient> {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'nodebuffer';
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  waitFor(total: number): Promise<DecodedResponse[]> {
    return this.replies.waitFor(total, () => this.closedFlag);
  }

  close(): void {
    this.ws.terminate();
  }
}
