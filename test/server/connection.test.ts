/**
 * The reply path of a connection over real sockets: the replies of one turn go out in one write
 * from the connection's output buffer (reused between writes), in completion order, and a server
 * with a commit gate holds them until their turn's changes are durable.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeRequest, Status, utf8, type DecodedResponse } from '../../src/protocol/index.js';
import { BatchClock } from '../../src/server/clock.js';
import { ServerConnection } from '../../src/server/connection.js';
import { collectHandlers, Dispatcher } from '../../src/server/dispatcher.js';
import { ok } from '../../src/server/reply.js';
import type { CommitGate } from '../../src/server/storage/disk-storage.js';
import { StorageWriteError } from '../../src/server/storage/errors.js';
import { TcpTransport } from '../../src/server/transport.js';
import type { Handler } from '../../src/server/types.js';
import { BinaryClient, startTestServer, T, WsClient, type TestServer } from './core/helpers.js';

const ECHO = 0x7e0;
const PARK = 0x7e1;
const WAKE = 0x7e2;

let server: Server | undefined;
const clients: BinaryClient[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A gate the test opens: `pending` while `held` callbacks wait for the "commit". */
class TestGate implements CommitGate {
  pending = false;
  held: Array<(error?: StorageWriteError) => void> = [];
  afterCommit(callback: (error?: StorageWriteError) => void): void {
    this.held.push(callback);
  }
  commit(error?: StorageWriteError): void {
    this.pending = false;
    for (const cb of this.held.splice(0)) cb(error);
  }
}

async function start(gate?: TestGate): Promise<BinaryClient> {
  let wake: (() => void) | undefined;
  const handlers = new Map<number, Handler>([
    [ECHO, (ctx) => ok(ctx.body.value.slice())],
    [PARK, () => new Promise((resolve) => (wake = () => resolve(ok(utf8('parked'))))) ],
    [WAKE, () => (wake?.(), ok(utf8('woke')))],
  ]);
  const dispatcher = new Dispatcher(collectHandlers([{ handlers }]));
  let id = 0;
  server = createServer((socket) => {
    const conn = new ServerConnection(new TcpTransport(socket), { id: ++id, dispatcher, ...(gate ? { commitGate: gate } : {}) });
    conn.start();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const c = await BinaryClient.open(port);
  clients.push(c);
  return c;
}

const echoValue = (round: number, i: number) => {
  // Mostly small replies, some of 200 KB (those outgrow the output buffer).
  const size = i % 20 === 0 ? 200_000 : 1 + ((i * 37 + round) % 3000);
  return new Uint8Array(size).fill((i + round) & 0xff);
};
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ServerConnection replies over a real socket', () => {
  it('answers many pipelined requests correctly, round after round, with at most one write per turn of input', async () => {
    const sends = vi.spyOn(TcpTransport.prototype, 'send');
    const receives = vi.spyOn(ServerConnection.prototype, 'receive');
    const c = await start();
    let total = 0;
    for (let round = 0; round < 6; round++) {
      const frames = Array.from({ length: 400 }, (_, i) => encodeRequest(BigInt(round * 1000 + i + 1), ECHO, 'ns', { value: echoValue(round, i) }));
      // Odd rounds: the client stops reading for a while, so the kernel's buffers fill and the
      // server's writes complete later (its output buffer must not be written over meanwhile).
      if (round % 2 === 1) c.socket.pause();
      await c.write(Buffer.concat(frames));
      if (round % 2 === 1) {
        await new Promise((r) => setTimeout(r, 100));
        c.socket.resume();
      }
      total += 400;
      const replies = await c.waitFor(total);
      const mine = replies.slice(total - 400);
      expect(mine.map((r) => r.requestId)).toEqual(frames.map((_, i) => BigInt(round * 1000 + i + 1)));
      for (let i = 0; i < 400; i++) {
        const want = echoValue(round, i);
        expect(mine[i].checksumOk).toBe(true);
        expect(mine[i].status).toBe(Status.OK);
        expect(mine[i].payload.length).toBe(want.length);
        expect(mine[i].payload.every((b) => b === want[0])).toBe(true);
      }
    }
    expect(sends.mock.calls.length).toBeGreaterThan(0);
    // Replies of one turn share a write: never more writes than chunks of input were handled.
    expect(sends.mock.calls.length).toBeLessThanOrEqual(receives.mock.calls.length);
  });

  it('keeps the bytes of writes still queued in the socket intact while a slow client catches up', async () => {
    const c = await start();
    c.socket.pause();
    // 150 small turns of 20 replies of 2 KB (each turn fits the reused output buffer): 6 MB, more
    // than the kernel buffers hold, so later writes wait in the socket while new turns are encoded.
    const value = (i: number) => new Uint8Array(2000).fill(i & 0xff);
    for (let batch = 0; batch < 150; batch++) {
      await c.write(Buffer.concat(Array.from({ length: 20 }, (_, j) => encodeRequest(BigInt(batch * 20 + j + 1), ECHO, 'ns', { value: value(batch * 20 + j) }))));
      await turn();
    }
    c.socket.resume();
    const replies = await c.waitFor(3000);
    for (let i = 0; i < 3000; i++) {
      expect(replies[i].requestId).toBe(BigInt(i + 1));
      expect(replies[i].checksumOk).toBe(true);
      expect(replies[i].payload.every((b) => b === (i & 0xff))).toBe(true);
    }
  });

  it('answers in completion order: a parked request does not hold back the ones behind it', async () => {
    const c = await start();
    await c.write(Buffer.concat([encodeRequest(1n, PARK, 'ns', {}), encodeRequest(2n, ECHO, 'ns', { value: utf8('b') })]));
    const [first] = await c.waitFor(1);
    expect(first.requestId).toBe(2n);
    await c.write(encodeRequest(3n, WAKE, 'ns', {}));
    const all = await c.waitFor(3);
    expect(all.slice(1).map((r) => [r.requestId, new TextDecoder().decode(r.payload)])).toEqual([
      [3n, 'woke'],
      [1n, 'parked'],
    ]);
  });
});

describe('ServerConnection replies behind a commit gate, over a real socket', () => {
  it('sends nothing before the commit, then every held reply in one write', async () => {
    const gate = new TestGate();
    const sends = vi.spyOn(TcpTransport.prototype, 'send');
    const c = await start(gate);
    gate.pending = true;
    await c.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeRequest(BigInt(i + 1), ECHO, 'ns', { value: utf8(`v${i}`) }))));
    for (let i = 0; i < 20 && gate.held.length < 50; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gate.held).toHaveLength(50);
    for (let i = 0; i < 5; i++) await turn();
    expect(c.replies.frames).toHaveLength(0);
    expect(sends).not.toHaveBeenCalled();
    gate.commit();
    const replies: DecodedResponse[] = await c.waitFor(50);
    expect(replies.map((r) => new TextDecoder().decode(r.payload))).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    expect(sends).toHaveBeenCalledTimes(1);
  });

  it('answers UNAVAILABLE instead when the commit failed', async () => {
    const gate = new TestGate();
    const c = await start(gate);
    gate.pending = true;
    await c.write(Buffer.concat([encodeRequest(1n, ECHO, 'ns', { value: utf8('a') }), encodeRequest(2n, ECHO, 'ns', { value: utf8('b') })]));
    for (let i = 0; i < 20 && gate.held.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    gate.commit(new StorageWriteError('disk full', 'ENOSPC'));
    const replies = await c.waitFor(2);
    expect(replies.map((r) => [r.requestId, r.status, new TextDecoder().decode(r.payload)])).toEqual([
      [1n, Status.Unavailable, 'disk full'],
      [2n, Status.Unavailable, 'disk full'],
    ]);
  });
});

describe('ServerConnection replies over a WebSocket', () => {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.server.close();
    ts = undefined;
  });

  it('keeps queued reply bytes intact while a slow WebSocket client catches up', async () => {
    ts = await startTestServer();
    const c = await WsClient.open(ts.server.wsUrl);
    try {
      c.ws.pause();
      const value = (i: number) => new Uint8Array(2000).fill(i & 0xff);
      for (let batch = 0; batch < 150; batch++) {
        c.send(Buffer.concat(Array.from({ length: 20 }, (_, j) => encodeRequest(BigInt(batch * 20 + j + 1), T.Echo, 'ns', { value: value(batch * 20 + j) }))));
        await turn();
      }
      c.ws.resume();
      const replies = await c.waitFor(3000);
      for (let i = 0; i < 3000; i++) {
        expect(replies[i].requestId).toBe(BigInt(i + 1));
        expect(replies[i].checksumOk).toBe(true);
        expect(replies[i].payload.every((b) => b === (i & 0xff))).toBe(true);
      }
    } finally {
      c.close();
    }
  });
});


describe('ServerConnection bugs cost one connection, never the server', () => {
  it('contains an error thrown while the backlog is handled after a drain (not only while receiving)', async () => {
    const BIG = 0x7e3;
    const BOOM = 0x7e4;
    const logs: string[] = [];
    const handlers = new Map<number, Handler>([
      [ECHO, (ctx) => ok(ctx.body.value.slice())],
      [BIG, () => ok(new Uint8Array(500_000))],
    ]);
    const dispatcher = new Dispatcher(collectHandlers([{ handlers }]));
    let id = 0;
    server = createServer((socket) => {
      const conn = new ServerConnection(new TcpTransport(socket), {
        id: ++id,
        dispatcher,
        highWaterMark: 1024,
        log: (line) => logs.push(line),
        // Stands for a bug in a per-request hook: it throws instead of answering.
        authorize: (opcode) => {
          if (opcode === BOOM) throw new Error('hook bug');
          return undefined;
        },
      });
      conn.start();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const c = await BinaryClient.open(port);
    clients.push(c);
    // One small chunk: 20 requests for 500 KB replies, then BOOM. The first reply passes the 1 KiB
    // soft limit, so the frames behind it (BOOM among them) wait in the backlog; the client reads
    // nothing for a while, so they are handled later, from the socket's drain, outside `receive`.
    c.socket.pause();
    const frames = Array.from({ length: 20 }, (_, i) => encodeRequest(BigInt(i + 1), BIG, 'ns', {}));
    frames.push(encodeRequest(99n, BOOM, 'ns', {}));
    await c.write(Buffer.concat(frames));
    await new Promise((resolve) => setTimeout(resolve, 50));
    c.socket.resume();
    await c.closed;
    expect(logs.some((l) => l.includes('internal error') && l.includes('hook bug'))).toBe(true);
    // The server still serves a new connection.
    const c2 = await BinaryClient.open(port);
    clients.push(c2);
    const r = await c2.call(1, ECHO, { value: utf8('still here') });
    expect(r.status).toBe(Status.OK);
    expect(Buffer.from(r.payload).toString()).toBe('still here');
  });
});

describe('ServerConnection with a batch clock', () => {
  /** A connection over a transport fed by the test (one call = one chunk read), its handler noting the clock's time per request. */
  function chunkFed() {
    let reads = 0;
    const clock = new BatchClock({ now: () => ++reads, setTimer: () => ({ cancel() {} }) });
    const seen: number[] = [];
    const handlers = new Map<number, Handler>([[ECHO, () => (seen.push(clock.now()), ok())]]);
    let events: { data(bytes: Uint8Array, lastOfTurn?: boolean): void } | undefined;
    const transport = {
      protocol: 'binary' as const,
      remoteAddress: 'test',
      start: (e: typeof events) => void (events = e),
      send: () => {},
      bufferedBytes: 0,
      pauseReading() {},
      resumeReading() {},
      end() {},
      destroy() {},
    };
    new ServerConnection(transport, { id: 1, dispatcher: new Dispatcher(collectHandlers([{ handlers }])), batchClock: clock }).start();
    const feed = (...ids: number[]) => events!.data(Buffer.concat(ids.map((id) => encodeRequest(BigInt(id), ECHO, 'ns', {}))), true);
    return { clock, seen, feed };
  }

  it('reads the clock once per chunk: the requests of one chunk share that time, the next chunk reads it again', () => {
    const { clock, seen, feed } = chunkFed();
    feed(1, 2, 3);
    feed(4);
    feed(5, 6);
    expect(seen).toEqual([1, 1, 1, 2, 3, 3]);
    // Outside a chunk the clock is read at each call again.
    expect([clock.now(), clock.now()]).toEqual([4, 5]);
  });
});
