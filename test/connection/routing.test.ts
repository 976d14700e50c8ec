import { describe, expect, it } from 'vitest';
import { Op, fromUtf8 } from '../../src/protocol/index.js';
import type { ResponseFrame } from '../../src/protocol/index.js';
import type { FakeServer } from '../support/fake-server.js';
import { countFrames, outcome, recording, tick } from '../support/transport.js';
import { tcpTransport } from '../../src/connection/tcp.js';
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
