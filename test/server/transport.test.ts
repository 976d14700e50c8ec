/**
 * The TCP transport of accepted sockets: reads skip the Readable stream (they land in one buffer
 * shared by all connections and are copied out per read), so each chunk handed on must be the
 * transport's own copy, arrive in order, and respect pausing.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../src/server/transport.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Side {
  readonly transport: TcpTransport;
  readonly chunks: Uint8Array[];
  readonly lastOfTurn: boolean[];
  /** Resolves when the peer has finished sending (its FIN). */
  readonly ended: Promise<void>;
  /** Resolves once `n` bytes in all have arrived. */
  received(n: number): Promise<Uint8Array>;
}

/** The transport of one accepted socket and what it handed on. */
function sideOf(socket: Socket): Side {
  const transport = new TcpTransport(socket);
  const chunks: Uint8Array[] = [];
  const lastOfTurn: boolean[] = [];
  let waiting: { n: number; resolve: (all: Uint8Array) => void } | undefined;
  const total = () => chunks.reduce((n, c) => n + c.length, 0);
  const joined = () => Buffer.concat(chunks);
  let peerEnded!: () => void;
  const ended = new Promise<void>((resolve) => (peerEnded = resolve));
  transport.start({
    data: (bytes, last) => {
      chunks.push(bytes);
      lastOfTurn.push(last === true);
      if (waiting && total() >= waiting.n) waiting.resolve(joined());
    },
    drain: () => {},
    end: () => peerEnded(),
    close: () => {},
  });
  transport.resumeReading();
  return {
    transport,
    chunks,
    lastOfTurn,
    ended,
    received: (n) => (total() >= n ? Promise.resolve(joined()) : new Promise((resolve) => (waiting = { n, resolve }))),
  };
}

/**
 * A server whose accepted sockets each get a started `TcpTransport` (after `beforeStart`, if
 * given). `open()` connects a client and gives it with its server side.
 */
async function start(beforeStart?: (socket: Socket) => Promise<void>): Promise<{ open(): Promise<{ client: Socket; side: Promise<Side> }> }> {
  const accepted: Array<(side: Side) => void> = [];
  server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    const deliver = accepted.shift()!;
    void (async () => {
      await beforeStart?.(socket);
      deliver(sideOf(socket));
    })();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    async open() {
      const side = new Promise<Side>((resolve) => accepted.push(resolve));
      const client = connect(port, '127.0.0.1');
      sockets.push(client);
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      return { client, side };
    },
  };
}

const pattern = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const write = (s: Socket, bytes: Uint8Array) => new Promise<void>((resolve) => s.write(bytes, () => resolve()));

describe('TcpTransport reads of an accepted socket', () => {
  it('hands on each read as its own copy: chunks kept from earlier reads stay intact while later reads arrive', async () => {
    const { client, side } = await (await start()).open();
    const s = await side;
    await write(client, pattern(100, 1));
    const first = await s.received(100);
    const kept = s.chunks[0]!;
    expect(kept).not.toBeInstanceOf(Buffer); // not a view into Node's per-read buffer: the stream is skipped
    await write(client, pattern(100, 2));
    const all = await s.received(200);
    expect(Array.from(first)).toEqual(Array.from(pattern(100, 1)));
    expect(Array.from(kept.subarray(0, 100))).toEqual(Array.from(pattern(100, 1)).slice(0, kept.length));
    expect(Array.from(all)).toEqual([...pattern(100, 1), ...pattern(100, 2)]);
    // a short read is the turn's last
    expect(s.lastOfTurn.at(-1)).toBe(true);
  });

  it('delivers a burst larger than the read buffer intact and in order; only reads that did not fill the buffer are marked last of the turn', async () => {
    const { client, side } = await (await start()).open();
    const s = await side;
    const burst = pattern(1024 * 1024 + 13, 5);
    await write(client, burst);
    const all = await s.received(burst.length);
    expect(all.length).toBe(burst.length);
    expect(Buffer.from(all).equals(Buffer.from(burst))).toBe(true);
    for (let i = 0; i < s.chunks.length; i++) expect(s.lastOfTurn[i]).toBe(s.chunks[i]!.length < 64 * 1024);
  });

  it('stops handing on bytes while paused and resumes in order', async () => {
    const { client, side } = await (await start()).open();
    const s = await side;
    await write(client, pattern(10, 1));
    await s.received(10);
    s.transport.pauseReading();
    await write(client, pattern(10, 2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.chunks.reduce((n, c) => n + c.length, 0)).toBe(10);
    s.transport.resumeReading();
    const all = await s.received(20);
    expect(Array.from(all)).toEqual([...pattern(10, 1), ...pattern(10, 2)]);
  });

  it('keeps two connections reading at once apart (they share the read buffer)', async () => {
    const listener = await start();
    const a = await listener.open();
    const b = await listener.open();
    const sides = [await a.side, await b.side];
    const dataA = pattern(200_000, 3);
    const dataB = pattern(200_000, 9);
    await Promise.all([write(a.client, dataA), write(b.client, dataB)]);
    const [gotA, gotB] = await Promise.all([sides[0]!.received(dataA.length), sides[1]!.received(dataB.length)]);
    expect(Buffer.from(gotA).equals(Buffer.from(dataA))).toBe(true);
    expect(Buffer.from(gotB).equals(Buffer.from(dataB))).toBe(true);
  });

  it('reports the peer half-close after the last bytes, and still sends replies then', async () => {
    const { client, side } = await (await start()).open();
    const s = await side;
    const replies: Buffer[] = [];
    client.on('data', (chunk: Buffer) => replies.push(chunk));
    client.end(pattern(30, 4));
    await s.ended;
    expect(Array.from(await s.received(30))).toEqual(Array.from(pattern(30, 4)));
    s.transport.send(pattern(8, 6));
    s.transport.end('shutdown');
    await new Promise<void>((resolve) => client.once('end', () => resolve()));
    expect(Array.from(Buffer.concat(replies))).toEqual(Array.from(pattern(8, 6)));
  });

  it('hands on the bytes the stream already held (read while the protocol was sniffed) before the later ones', async () => {
    const { client, side } = await (await start(async (socket) => {
      // the server reads the first bytes through the stream, then pauses it (as the sniffing does)
      await new Promise<void>((resolve) =>
        socket.once('data', (chunk) => {
          socket.pause();
          socket.unshift(chunk);
          resolve();
        }),
      );
    })).open();
    await write(client, pattern(50, 1));
    const s = await side;
    await write(client, pattern(50, 2));
    const all = await s.received(100);
    expect(Array.from(all)).toEqual([...pattern(50, 1), ...pattern(50, 2)]);
  });
});
