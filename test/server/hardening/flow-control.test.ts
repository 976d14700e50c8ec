/**
 * Defects 1, 2 and 7 over real sockets: replies cannot amplify without bound (reply caps, flow
 * control checked per request, a hard limit for slow consumers); a trickled partial frame is timed
 * out; sockets that never pick a protocol, or go idle, are closed; the status page counts them.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeKvScanReply,
  decodeStreamRecords,
  encodeKvMGet,
  encodeKvPut,
  encodeKvScan,
  encodeRequest,
  encodeStreamAppend,
  encodeStreamRead,
  Op,
  Opt,
  OptionsBuilder,
  Status,
  utf8,
  type StreamId,
} from '../../../src/protocol/index.js';
import { startServer, type FloServer, type StartServerOptions } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
const logs: string[] = [];
const sockets: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
  logs.length = 0;
});

async function start(opts: Partial<StartServerOptions> = {}): Promise<FloServer> {
  server = await startServer({ port: 0, logger: (l) => logs.push(l), ...opts });
  return server;
}
async function client(): Promise<BinaryClient> {
  const c = await BinaryClient.open(server!.port);
  sockets.push({ destroy: () => c.close() });
  return c;
}
/** A raw socket that never reads what the server sends. */
async function deaf(): Promise<Socket> {
  const s = connect({ port: server!.port, host: '127.0.0.1' });
  s.on('error', () => {});
  sockets.push(s);
  await new Promise<void>((resolve) => s.once('connect', resolve));
  s.pause();
  return s;
}
const closedBy = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const value = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe('reply caps', () => {
  it('refuses an mget whose reply would pass 1 MiB, and pages a scan by bytes with a cursor', async () => {
    await start();
    const c = await client();
    for (let i = 0; i < 8; i++) {
      expect((await c.call(i + 1, Op.KvPut, encodeKvPut({ key: utf8(`big:${i}`), value: value(200_000, i) }))).status).toBe(Status.OK);
    }
    const keys = Array.from({ length: 8 }, (_, i) => utf8(`big:${i}`));
    const mget = await c.call(20, Op.KvMGet, encodeKvMGet({ keys }));
    expect(mget.status).toBe(Status.BadRequest);
    expect(text(mget.payload)).toMatch(/mget reply would be \d+ bytes \(max 1048576\)/);
    expect((await c.call(21, Op.KvMGet, encodeKvMGet({ keys: keys.slice(0, 4) }))).status).toBe(Status.OK);

    const seen: string[] = [];
    let cursor: Uint8Array | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await c.call(30 + page, Op.KvScan, encodeKvScan({ prefix: utf8('big:'), limit: 0, ...(cursor ? { cursor } : {}) }));
      expect(r.status).toBe(Status.OK);
      expect(r.payload.length).toBeLessThanOrEqual(1024 * 1024 + 64);
      const reply = decodeKvScanReply(r.payload);
      seen.push(...reply.entries.map((e) => new TextDecoder().decode(e.key)));
      if (!reply.hasMore) break;
      cursor = reply.cursor;
    }
    expect(seen).toEqual(keys.map((k) => new TextDecoder().decode(k)));
  });
});

describe('flow control', () => {
  it('stops handling a never-reading client’s requests once 1 MiB of replies wait', async () => {
    await start();
    const c = await client();
    // In the namespace the gets below read (the helper's default is 'test'), so that they find it.
    expect((await c.call(1, Op.KvPut, encodeKvPut({ key: utf8('big'), value: value(200_000) }), 'default')).status).toBe(Status.OK);
    const s = await deaf();
    // 5,000 gets of a 200 KB value (1 GB of replies) sent at once, never read.
    const frames = Array.from({ length: 5000 }, (_, i) => encodeRequest(BigInt(i + 1), Op.KvGet, 'default', { key: utf8('big') }));
    s.write(Buffer.concat(frames));
    await until(() => server!.stats().bufferedInBytes > 0, 'the server to hold requests back');
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      worst = Math.max(worst, server!.stats().bufferedOutBytes);
      await new Promise((r) => setTimeout(r, 10));
    }
    // At most the soft limit plus one reply wait in the server; the rest stays unread in the kernel.
    expect(worst).toBeGreaterThan(1024 * 1024); // reading stopped because the soft limit was passed
    expect(worst).toBeLessThanOrEqual(1024 * 1024 + 200_100);
    expect(server!.connections).toBe(2);
  });

  it('closes a slow consumer past the hard limit with one log line', async () => {
    await start({ hardLimitBytes: 2 * 1024 * 1024 });
    const s = await deaf();
    // 40 blocking gets park on a key that does not exist yet...
    const opts = new OptionsBuilder().u32(Opt.BlockMS, 60_000).build();
    s.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => encodeRequest(BigInt(i + 1), Op.KvGet, 'default', { key: utf8('late'), options: opts }))));
    await until(() => server!.stats().parked === 40, '40 parked gets');
    // ...and all wake at once with 250 KB each: 10 MB of replies for a client that reads nothing.
    const c = await client();
    expect((await c.call(1, Op.KvPut, encodeKvPut({ key: utf8('late'), value: value(250_000) }), 'default')).status).toBe(Status.OK);
    // (The deaf socket never reads, so it would not notice the close itself: watch the server.)
    await until(() => logs.some((l) => l.includes('slow consumer')), 'the slow consumer to be cut off');
    const lines = logs.filter((l) => l.includes('slow consumer'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/hard limit 2097152/);
    expect(server!.connections).toBe(1);
  });
});

describe('timeouts', () => {
  it('closes a connection whose frame trickles in slower than the frame timeout', async () => {
    await start({ frameTimeoutMs: 300 });
    const s = await deaf();
    const header = encodeRequest(1n, Op.Ping, 'default', {}).slice(0, 32);
    new DataView(header.buffer).setUint32(4, 100 * 1024 * 1024, true);
    s.write(header);
    const timer = setInterval(() => s.writable && s.write(Buffer.from([0])), 50);
    try {
      await closedBy(s);
    } finally {
      clearInterval(timer);
    }
    expect(logs.some((l) => /frame not complete after 300 ms/.test(l))).toBe(true);
    await until(() => server!.connections === 0, 'the connection to go');
  });

  it('closes a WebSocket whose message trickles in slower than the frame timeout', async () => {
    await start({ frameTimeoutMs: 300 });
    const s = await deaf();
    s.resume();
    const upgraded = new Promise<void>((resolve) => s.once('data', () => resolve()));
    s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await upgraded;
    await until(() => server!.connections === 1, 'the WebSocket connection');
    // A masked binary frame announcing 1 MiB, then one byte every 50 ms.
    const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
    s.write(head);
    const timer = setInterval(() => s.writable && s.write(Buffer.from([0])), 50);
    try {
      await closedBy(s);
    } finally {
      clearInterval(timer);
    }
    await until(() => server!.connections === 0, 'the connection to go');
  });

  it('closes sockets that never choose a protocol, and counts them meanwhile', async () => {
    await start({ handshakeTimeoutMs: 300 });
    const silent = await deaf();
    const halfHead = await deaf();
    halfHead.write('GET /status HTTP/1.1\r\nHost: x');
    await until(() => server!.stats().handshaking === 2, 'two handshaking sockets');
    await Promise.all([closedBy(silent), closedBy(halfHead)]);
    expect(logs.filter((l) => /no protocol or handshake within 300 ms/.test(l))).toHaveLength(2);
    await until(() => server!.stats().handshaking === 0, 'no handshaking sockets');
  });

  it('closes idle connections, but not one waiting on a parked request', async () => {
    await start({ idleTimeoutMs: 200 });
    const idle = await client();
    const waiting = await client();
    expect((await idle.call(1, Op.Ping)).status).toBe(Status.OK);
    const opts = new OptionsBuilder().u32(Opt.BlockMS, 700).build();
    const parked = waiting.call(1, Op.KvGet, { key: utf8('never'), options: opts });
    await idle.closed;
    expect(logs.some((l) => /idle for 200 ms/.test(l))).toBe(true);
    // The parked get is answered (NOT_FOUND at its block time), not cut off by the idle timeout.
    expect((await parked).status).toBe(Status.NotFound);
  });

  it('refuses connections beyond max-connections', async () => {
    await start({ maxConnections: 2 });
    const a = await client();
    const b = await client();
    expect((await a.call(1, Op.Ping)).status).toBe(Status.OK);
    expect((await b.call(1, Op.Ping)).status).toBe(Status.OK);
    const third = await deaf();
    await closedBy(third);
    expect(logs.some((l) => /refused: 2 connections open/.test(l))).toBe(true);
  });
});

describe('reply caps on lists', () => {
  it('cuts a stream read at 1 MiB; the reader continues after the last record', async () => {
    await start();
    const c = await client();
    for (let i = 0; i < 12; i++) {
      const r = await c.call(i + 1, Op.StreamAppend, encodeStreamAppend({ stream: 'big', payload: value(200_000, i) }));
      expect(r.status).toBe(Status.OK);
    }
    const seen: number[] = [];
    let from: StreamId | undefined;
    for (let page = 0; page < 10 && seen.length < 12; page++) {
      const r = await c.call(100 + page, Op.StreamRead, encodeStreamRead({ stream: 'big', count: 1000, ...(from ? { start: from } : {}) }));
      expect(r.status).toBe(Status.OK);
      expect(r.payload.length).toBeLessThanOrEqual(1024 * 1024 + 1024);
      const recs = decodeStreamRecords(r.payload);
      expect(recs.length).toBeGreaterThan(0);
      seen.push(...recs.map((x) => x.payload[0]));
      const last = recs[recs.length - 1].id;
      from = { timestampMs: last.timestampMs, sequence: last.sequence + 1n };
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
