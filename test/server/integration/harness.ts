/**
 * Integration test support: the real embedded server (every subsystem) on a real port, and a small
 * socket client (TCP or WebSocket) that writes frames built by the protocol encoders and matches
 * replies to requests by request id, so requests can be pipelined and answered out of order.
 * Never the client API: frames in, `ResponseFrameDecoder` out.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  EMPTY,
  Op,
  ResponseFrameDecoder,
  encodeRequest,
  fromUtf8,
  type DecodedResponse,
  type OpPayload,
} from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import type { KvSubsystem } from '../../../src/server/kv/index.js';
import type { QueueSubsystem } from '../../../src/server/queues/index.js';
import { createSubsystems } from '../../../src/server/registry.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import type { StreamSubsystem } from '../../../src/server/streams/index.js';
import type { ReplyProfile, Reply } from '../../../src/server/types.js';
import type { Harness as KvHarness } from '../kv/helpers.js';

export interface Integration {
  readonly server: FloServer;
  readonly clock: ManualClock;
  readonly kv: KvSubsystem;
  readonly queues: QueueSubsystem;
  readonly streams: StreamSubsystem;
  readonly logs: string[];
  /** Parked requests across the KV, queue and stream subsystems. */
  waiting(): number;
  /** Internal-error lines the server logged. */
  internalErrors(): string[];
}

export async function startIntegration(opts: { profile?: ReplyProfile; startMs?: number } = {}): Promise<Integration> {
  const clock = new ManualClock(opts.startMs);
  const logs: string[] = [];
  let subs: ReturnType<typeof createSubsystems> | undefined;
  const server = await startServer({
    port: 0,
    clock,
    profile: opts.profile ?? 'go',
    logger: (line) => logs.push(line),
    subsystems: (env) => (subs = createSubsystems(env)),
  });
  if (!subs) throw new Error('subsystems were not built');
  const kv = subs[0] as KvSubsystem;
  const queues = subs[1] as QueueSubsystem;
  const streams = subs[2] as StreamSubsystem;
  if (typeof kv.waiting !== 'function' || !queues.waiters || !streams.waiters) throw new Error('unexpected subsystem order');
  return {
    server,
    clock,
    kv,
    queues,
    streams,
    logs,
    waiting: () => kv.waiting() + queues.waiters.count() + streams.waiters.count(),
    internalErrors: () => logs.filter((l) => l.includes('internal error')),
  };
}

/** The request id a frame carries (header bytes 8..16). */
export function frameRequestId(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(8, true);
}

interface Pending {
  resolve(r: DecodedResponse): void;
  reject(err: Error): void;
}

/**
 * A raw client over one connection. `request` sends one frame and resolves with the reply carrying
 * its id; any number may be in flight. Replies whose id nobody waits for, or that come twice, are
 * kept in `strays`. `arrivals` lists reply ids in the order they came.
 */
export class SocketClient {
  readonly arrivals: bigint[] = [];
  readonly strays: DecodedResponse[] = [];
  private readonly pending = new Map<bigint, Pending>();
  private readonly decoder = new ResponseFrameDecoder();
  private nextId: bigint;
  private closedErr: Error | undefined;
  decodeError: Error | undefined;

  private constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly destroy: () => void,
    readonly kind: 'tcp' | 'ws',
    firstId: bigint,
  ) {
    this.nextId = firstId;
  }

  static async tcp(port: number, firstId = 1_000_000n): Promise<SocketClient> {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new SocketClient(
      (b) => socket.write(b),
      () => socket.destroy(),
      'tcp',
      firstId,
    );
    socket.on('data', (b: Buffer) => c.onBytes(b));
    socket.on('error', () => {});
    socket.once('close', () => c.onClose());
    return c;
  }

  static async ws(url: string, firstId = 1_000_000n): Promise<SocketClient> {
    const ws = new WebSocket(url, 'flo-proto');
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (ws.protocol !== 'flo-proto') throw new Error(`subprotocol ${ws.protocol}`);
    const c = new SocketClient(
      (b) => ws.send(b, { binary: true }),
      () => ws.terminate(),
      'ws',
      firstId,
    );
    ws.on('message', (data: Buffer) => c.onBytes(data));
    ws.on('error', () => {});
    ws.once('close', () => c.onClose());
    return c;
  }

  private onBytes(bytes: Uint8Array): void {
    let frames: DecodedResponse[];
    try {
      frames = this.decoder.push(bytes);
    } catch (err) {
      this.decodeError = err as Error;
      return;
    }
    for (const f of frames) {
      this.arrivals.push(f.requestId);
      const p = this.pending.get(f.requestId);
      if (!p) {
        this.strays.push(f);
        continue;
      }
      this.pending.delete(f.requestId);
      p.resolve(f);
    }
  }

  private onClose(): void {
    this.closedErr = new Error('connection closed');
    for (const p of this.pending.values()) p.reject(this.closedErr);
    this.pending.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  id(): bigint {
    return this.nextId++;
  }

  /**
   * Writes one or more whole frames (concatenated in one write when several) and resolves each
   * reply by its frame's request id.
   */
  sendFrames(frames: readonly Uint8Array[]): Promise<DecodedResponse>[] {
    const out = frames.map((f) => this.expect(frameRequestId(f)));
    if (frames.length === 1) this.write(frames[0]);
    else this.write(Buffer.concat(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))));
    return out;
  }

  sendFrame(frame: Uint8Array): Promise<DecodedResponse> {
    return this.sendFrames([frame])[0];
  }

  /** Waits for the reply with this id (the frame is written separately). */
  expect(id: bigint): Promise<DecodedResponse> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    if (this.pending.has(id)) throw new Error(`request id ${id} already in flight`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Builds a frame with the next id and sends it. */
  request(opcode: number, body: OpPayload = {}, namespace = 'test'): Promise<DecodedResponse> {
    return this.sendFrame(encodeRequest(this.id(), opcode, namespace, body));
  }

  /** A round trip after everything written so far has been dispatched (parked requests stay parked). */
  async barrier(): Promise<void> {
    const r = await this.request(Op.Ping, {});
    if (r.status !== 0) throw new Error(`ping answered ${r.status}`);
  }

  /** Adapter for the KV test ops (`test/server/kv/ops.ts`): replies as `Reply`. */
  asKvHarness(): KvHarness {
    const send = async (opcode: number, payload: OpPayload, namespace = 'test'): Promise<Reply> => {
      const r = await this.request(opcode, payload, namespace);
      return { status: r.status, payload: r.payload };
    };
    return { send } as unknown as KvHarness;
  }

  close(): void {
    this.destroy();
  }
}

/** The payload of an OK reply; throws with the server's message otherwise. */
export function okBody(r: DecodedResponse): Uint8Array {
  if (r.status !== 0) throw new Error(`expected OK, got status ${r.status}: ${fromUtf8(r.payload)}`);
  return r.payload ?? EMPTY;
}

/** Lets socket I/O and promise continuations run (no timing assumptions: callers re-check state). */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Polls `cond` across I/O turns; fails after `turns` turns (a count, not a time limit). */
export async function until(cond: () => boolean, what: string, turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`condition never held: ${what}`);
}

