import { describe, expect, it } from 'vitest';
import { Op, fromUtf8 } from '../../src/protocol/index.js';
import type { ResponseFrame } from '../../src/protocol/index.js';
import type { FakeServer } from '../support/fake-server.js';
import { countFrames, outcome, recording, tick } from '../support/transport.js';
import { tcpTransport } from '../../src/connection/tcp.js';
import type { TransportFactory } from '../../src/connection/types.js';
import { connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s));

describe('Connection: routing', () => {
  it('routes replies answered out of order to their own requests', async () => {
    server.handler = () => 'hang';
    const conn = connection([server.endpoint]);
    const results = ['a', 'b', 'c'].map((k) => outcome(conn.request(get(k))));
    const reqs = await server.waitForRequests(3);
    // answer c, a, b with distinct payloads
    for (const i of [2, 0, 1]) reqs[i].reply(0, new TextEncoder().encode(`reply-${reqs[i].keyText}`));
    const got = await Promise.all(results);
    expect(got.map((o) => (o.ok ? fromUtf8(o.value.payload) : o.error.message))).toEqual([
      'reply-a',
      'reply-b',
      'reply-c',
    ]);
  });

  it('keeps many requests in flight on one socket', async () => {
    const conn = connection([server.endpoint]);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const got = await Promise.all(keys.map((k) => outcome(conn.request(get(k)))));
    expect(got.every((o) => o.ok)).toBe(true);
    expect(got.map((o) => (o.ok ? fromUtf8(o.value.payload) : ''))).toEqual(keys);
    expect(server.accepted).toBe(1);
    expect(conn.pendingCount).toBe(0);
  });

  it('emits a non-OK reply as a frame (status is for the client layer to map)', async () => {
    server.handler = () => ({ status: 2 });
    const conn = connection([server.endpoint]);
    const o = await outcome(conn.request(get('missing')));
    expect(o.ok && o.value.status).toBe(2);
  });

  it('numbers requests from 1, one id per subscription', async () => {
    const conn = connection([server.endpoint]);
    const req = conn.request(get('x'));
    await outcome(req);
    await outcome(req);
    await outcome(conn.request(get('y')));
    expect(server.requests.map((r) => r.id)).toEqual([1n, 2n, 3n]);
  });

  it('sends nothing before subscribe, and opens the socket only on first use', async () => {
    const rec = recording(tcpTransport);
    const conn = connection([server.endpoint], { transport: rec.factory });
    const req = conn.request(get('x'));
    await tick();
    await tick();
    expect(conn.state).toBe('idle');
    expect(rec.attempts).toEqual([]);
    expect(server.accepted).toBe(0);
    await conn.connect();
    await tick();
    expect(rec.sends).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
    await outcome(req);
    expect(server.requests).toHaveLength(1);
  });

  it('sends twice when subscribed twice', async () => {
    const conn = connection([server.endpoint]);
    const req = conn.request(get('twice'));
    const both = await Promise.all([outcome(req), outcome(req)]);
    expect(both.every((o) => o.ok)).toBe(true);
    expect(server.requests.map((r) => r.keyText)).toEqual(['twice', 'twice']);
    expect(new Set(server.requests.map((r) => r.id)).size).toBe(2);
  });

  it('coalesces the frames requested within one tick into one transport.send', async () => {
    const rec = recording(tcpTransport);
    const conn = connection([server.endpoint], { transport: rec.factory });
    await conn.connect();
    const first = Array.from({ length: 100 }, (_, i) => outcome(conn.request(get(`a${i}`))));
    await Promise.all(first);
    expect(rec.sends).toHaveLength(1);
    expect(countFrames(rec.sends[0])).toBe(100);
    const second = Array.from({ length: 3 }, (_, i) => outcome(conn.request(get(`b${i}`))));
    await Promise.all(second);
    expect(rec.sends).toHaveLength(2);
    expect(countFrames(rec.sends[1])).toBe(3);
    expect(server.requests).toHaveLength(103);
  });

  it('coalesces requests queued while connecting into the first send', async () => {
    const rec = recording(tcpTransport);
    const conn = connection([server.endpoint], { transport: rec.factory });
    const all = Array.from({ length: 10 }, (_, i) => outcome(conn.request(get(`q${i}`))));
    expect(conn.state).toBe('connecting');
    expect((await Promise.all(all)).every((o) => o.ok)).toBe(true);
    expect(rec.sends).toHaveLength(1);
    expect(countFrames(rec.sends[0])).toBe(10);
  });

  it('sends the requests started by a chunk\'s replies before its read callback returns, in one write', async () => {
    // Wraps the real TCP transport: notes whether each send happens inside a read callback.
    let inRead = false;
    let chunks = 0;
    const sends: Array<{ inRead: boolean; frames: number }> = [];
    const transport: TransportFactory = async (endpoint, handlers) => {
      const inner = await tcpTransport(endpoint, {
        ...handlers,
        onData: (chunk) => {
          chunks++;
          inRead = true;
          try {
            handlers.onData(chunk);
          } finally {
            inRead = false;
          }
        },
      });
      return {
        send: (bytes) => {
          sends.push({ inRead, frames: countFrames(bytes) });
          inner.send(bytes);
        },
        close: () => inner.close(),
      };
    };
    const conn = connection([server.endpoint], { transport });
    await conn.connect();
    // Three chains of three requests each: every reply starts the chain's next request.
    const chain = (name: string, left: number): Promise<string[]> =>
      outcome(conn.request(get(`${name}${left}`))).then(async (o) => {
        const here = o.ok ? fromUtf8(o.value.payload) : o.error.message;
        return left > 1 ? [here, ...(await chain(name, left - 1))] : [here];
      });
    const sync = (name: string, left: number, into: string[], done: () => void): void => {
      conn.request(get(`${name}${left}`)).subscribe({
        next: (reply) => into.push(fromUtf8(reply.payload)),
        complete: () => (left > 1 ? sync(name, left - 1, into, done) : done()),
        error: done,
      });
    };
    const got: string[][] = [[], [], []];
    await Promise.all(['x', 'y', 'z'].map((name, i) => new Promise<void>((resolve) => sync(name, 3, got[i]!, resolve))));
    expect(got).toEqual([
      ['x3', 'x2', 'x1'],
      ['y3', 'y2', 'y1'],
      ['z3', 'z2', 'z1'],
    ]);
    // The first three left together from the microtask; every later send came from a read
    // callback, one per chunk at most, carrying all the requests that chunk's replies started.
    expect(sends[0]).toEqual({ inRead: false, frames: 3 });
    expect(sends.slice(1).every((s) => s.inRead)).toBe(true);
    expect(sends.slice(1).reduce((n, s) => n + s.frames, 0)).toBe(6);
    expect(sends.length - 1).toBeLessThanOrEqual(chunks);
    // A subscriber that waits for a promise starts its next request outside the read: a microtask sends it.
    expect(await chain('p', 2)).toEqual(['p2', 'p1']);
    expect(sends.slice(-2).map((s) => s.inRead)).toEqual([false, false]);
  });

  it('never sends a request unsubscribed before its flush', async () => {
    const rec = recording(tcpTransport);
    const conn = connection([server.endpoint], { transport: rec.factory });
    await conn.connect();
    const sub = conn.request(get('gone')).subscribe();
    sub.unsubscribe();
    await outcome(conn.request(get('kept')));
    expect(server.requests.map((r) => r.keyText)).toEqual(['kept']);
    expect(countFrames(rec.sends[0])).toBe(1);
  });

  it('reports every frame to the onFrame hook', async () => {
    const seen: Array<[string, bigint, number | undefined]> = [];
    const conn = connection([server.endpoint], {
      onFrame: (dir, frame) => seen.push([dir, frame.requestId, 'opcode' in frame ? frame.opcode : (frame as ResponseFrame).status]),
    });
    await outcome(conn.request(get('x')));
    expect(seen).toEqual([
      ['out', 1n, Op.KvGet],
      ['in', 1n, 0],
    ]);
  });
});
