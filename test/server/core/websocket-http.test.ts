import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes, Status, toHex, utf8 } from '../../../src/protocol/index.js';
import { blockMs, BinaryClient, req, startTestServer, T, text, WsClient, type TestServer } from './helpers.js';

let ts: TestServer | undefined;
const wsClients: WsClient[] = [];
afterEach(async () => {
  for (const c of wsClients.splice(0)) c.close();
  await ts?.server.close();
  ts = undefined;
});

async function ws(protocols?: string | string[]) {
  ts ??= await startTestServer();
  const c = await WsClient.open(ts.server.wsUrl, protocols);
  wsClients.push(c);
  return c;
}

function httpGet(port: number, method = 'GET', path = '/'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('WebSocket', () => {
  it('selects the flo-proto subprotocol and carries several frames in one message', async () => {
    const c = await ws('flo-proto');
    expect(c.ws.protocol).toBe('flo-proto');
    c.send(concatBytes([1, 2, 3].map((i) => req(i, T.Echo, { value: utf8(`m${i}`) }))));
    const replies = await c.waitFor(3);
    expect(replies.map((r) => [r.requestId, r.status, text(r.payload)])).toEqual([
      [1n, 0, 'm1'],
      [2n, 0, 'm2'],
      [3n, 0, 'm3'],
    ]);
    expect(ts!.logs.some((l) => /conn #\d+ open websocket 127\.0\.0\.1:\d+ \(subprotocol flo-proto\)/.test(l))).toBe(true);
  });

  it('prefers flo-proto among several offered subprotocols', async () => {
    const c = await ws(['other', 'flo-proto']);
    expect(c.ws.protocol).toBe('flo-proto');
  });

  it('accepts a client that offers no subprotocol', async () => {
    const c = await ws([]);
    expect(c.ws.protocol).toBe('');
    c.send(req(1, 0x000, {}));
    expect((await c.waitFor(1))[0].status).toBe(Status.OK);
  });

  it('assembles a frame split across two messages (and across message bounds generally)', async () => {
    const c = await ws();
    const a = req(1, T.Echo, { value: utf8('split-one') });
    const b = req(2, T.Echo, { value: utf8('split-two') });
    c.send(a.subarray(0, 10));
    c.send(concatBytes([a.subarray(10), b.subarray(0, 40)]));
    c.send(b.subarray(40));
    const replies = await c.waitFor(2);
    expect(replies.map((r) => text(r.payload))).toEqual(['split-one', 'split-two']);
  });

  it('answers out of order over WebSocket too, and ManualClock times the park out', async () => {
    const c = await ws();
    c.send(req(1, T.Park, { key: utf8('w'), options: blockMs(1_000) }));
    c.send(req(2, T.Echo, { value: utf8('first') }));
    expect((await c.waitFor(1))[0].requestId).toBe(2n);
    ts!.clock.advance(1_000);
    const [, parked] = await c.waitFor(2);
    expect(parked).toMatchObject({ requestId: 1n, status: Status.NotFound });
  });

  it('rejects a malformed frame with the reject frame, then closes', async () => {
    const c = await ws();
    const bad = req(1, T.Echo, {});
    bad[0] = 0;
    c.send(bad);
    const closed = await c.closed;
    expect(c.replies.frames).toHaveLength(1);
    expect(c.replies.frames[0]).toMatchObject({ requestId: 0n, status: Status.BadRequest });
    expect(text(c.replies.frames[0].payload)).toBe('Invalid request');
    expect(toHex(c.replies.bytes)).toBe(
      '464c4f000f00000000000000000000007f1bb07c010300000000000000000000496e76616c69642072657175657374',
    );
    expect(closed.code).toBe(1002);
  });

  it('close() aborts requests parked on WebSocket connections', async () => {
    const c = await ws();
    c.send(req(1, T.Park, { key: utf8('z'), options: blockMs(60_000) }));
    c.send(req(2, T.Echo));
    await c.waitFor(1);
    await ts!.server.close();
    const closed = await c.closed;
    expect(closed.code).toBe(1001);
    expect(ts!.probe.aborted).toBe(1);
    expect(c.replies.frames.map((f) => f.requestId)).toEqual([2n]);
  });
});

describe('HTTP on the same port', () => {
  it('serves a JSON status page to a plain GET', async () => {
    ts = await startTestServer({ profile: 'flo' });
    const b = await BinaryClient.open(ts.server.port);
    await b.call(1, T.Echo);
    ts.clock.advance(1234);
    const res = await httpGet(ts.server.port, 'GET', '/status');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const page = JSON.parse(res.body);
    expect(page).toMatchObject({ server: 'flo-rx embedded', profile: 'flo', connections: 1, uptimeMs: 1234, parkedRequests: 0, storage: 'in-memory: data is lost on exit', parked: 0, bufferedOutBytes: 0 });
    // the counts of /metrics: the one echo request, answered OK
    expect(Object.values(page.requests as Record<string, Record<string, number>>).map((byStatus) => byStatus.OK)).toEqual([1]);
    // The HTTP request itself is the one socket still in an exchange; the limits in force are listed.
    expect(page.handshaking).toBe(1);
    expect(page.rssBytes).toBeGreaterThan(0);
    expect(page.limits).toMatchObject({ maxConnections: 10_000, hardLimitBytes: 64 * 1024 * 1024, maxParkedPerConnection: 256 });
    b.close();
  });

  it('HEAD gets headers only; other methods get 405', async () => {
    ts = await startTestServer();
    const head = await httpGet(ts.server.port, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await httpGet(ts.server.port, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('answers a malformed HTTP head with 400 and keeps running', async () => {
    ts = await startTestServer();
    const raw = await new Promise<string>((resolve) => {
      const s = connect({ port: ts!.server.port, host: '127.0.0.1' });
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.write('GET /\r\nbroken\r\n\r\n');
    });
    expect(raw.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect((await httpGet(ts.server.port)).status).toBe(200);
  });

  it('a head split across several packets still parses', async () => {
    ts = await startTestServer();
    const raw = await new Promise<string>((resolve) => {
      const s = connect({ port: ts!.server.port, host: '127.0.0.1' });
      s.setNoDelay(true);
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      const parts = ['GE', 'T / HT', 'TP/1.1\r\nHost: x\r', '\n\r\n'];
      const next = () => {
        const p = parts.shift();
        if (p !== undefined) s.write(p, () => setImmediate(next));
      };
      next();
    });
    expect(raw.startsWith('HTTP/1.1 200 OK')).toBe(true);
    expect(raw).toContain('"server":"flo-rx embedded"');
  });
});
