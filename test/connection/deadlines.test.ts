import { describe, expect, it } from 'vitest';
import { TimeoutError, fromUtf8, type ResponseFrame } from '../../src/protocol/index.js';
import { deadPort, type FakeServer } from '../support/fake-server.js';
import { outcome, sleep, until } from '../support/transport.js';
import { connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s), { handler: () => 'hang' });

describe('Connection: deadlines', () => {
  it('fails with TimeoutError naming the opcode and the deadline', async () => {
    const conn = connection([server.endpoint]);
    const o = await outcome(conn.request(get('slow', { timeoutMs: 50 })));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.error).toBeInstanceOf(TimeoutError);
    expect(o.error.message).toContain('kv_get');
    expect(o.error.message).toContain('50 ms');
  });

  it('uses the connection default timeout when the request has none', async () => {
    const conn = connection([server.endpoint], { timeoutMs: 40 });
    const o = await outcome(conn.request(get('slow')));
    expect(!o.ok && o.error).toBeInstanceOf(TimeoutError);
    expect(!o.ok && o.error.message).toContain('40 ms');
  });

  it('adds blockMs to the deadline', async () => {
    const conn = connection([server.endpoint]);
    // Both requests have a 50 ms timeout; only the second also blocks for 10 s.
    const plain = outcome(conn.request(get('plain', { timeoutMs: 50 })));
    const blocking = outcome(conn.request(get('blocking', { timeoutMs: 50, blockMs: 10_000 })));
    const reqs = await server.waitForRequests(2);
    const plainResult = await plain; // timed out
    expect(!plainResult.ok && plainResult.error).toBeInstanceOf(TimeoutError);
    // The plain one has timed out, so the 50 ms base has passed: the blocking one must still be live.
    reqs[1].reply(0, new TextEncoder().encode('woke'));
    const b = await blocking;
    expect(b.ok && fromUtf8(b.value.payload)).toBe('woke');
  });

  it('reports blockMs in the timeout message', async () => {
    const conn = connection([server.endpoint]);
    const o = await outcome(conn.request(get('x', { timeoutMs: 30, blockMs: 20 })));
    expect(!o.ok && o.error.message).toContain('50 ms');
  });

  it('hands a reply that arrives after the timeout to onLateReply, not to the subscriber', async () => {
    const late: ResponseFrame[] = [];
    const conn = connection([server.endpoint]);
    const values: ResponseFrame[] = [];
    let error: unknown;
    conn.request(get('lease', { timeoutMs: 30, onLateReply: (r) => late.push(r) })).subscribe({
      next: (v) => values.push(v),
      error: (e) => (error = e),
    });
    const [req] = await server.waitForRequests(1);
    await until(() => error !== undefined);
    expect(error).toBeInstanceOf(TimeoutError);
    req.reply(0, new TextEncoder().encode('leased'));
    await until(() => late.length > 0);
    expect(late[0].requestId).toBe(req.id);
    expect(fromUtf8(late[0].payload)).toBe('leased');
    expect(values).toEqual([]);
    // a second reply with the same id is unknown by then and dropped
    req.conn.write((await import('../../src/protocol/index.js')).encodeResponseFrame(req.id, 0));
    await outcome(conn.request(get('next', { timeoutMs: 30 })));
    expect(late).toHaveLength(1);
  });

  it('hands the reply of an unsubscribed request to onLateReply', async () => {
    const late: ResponseFrame[] = [];
    const values: ResponseFrame[] = [];
    const conn = connection([server.endpoint]);
    const sub = conn.request(get('u', { onLateReply: (r) => late.push(r) })).subscribe((v) => values.push(v));
    const [req] = await server.waitForRequests(1);
    sub.unsubscribe();
    expect(conn.pendingCount).toBe(0);
    req.reply(0);
    await until(() => late.length > 0);
    expect(late[0].requestId).toBe(req.id);
    expect(values).toEqual([]);
  });

  it('runs the deadline from subscribe even while still connecting', async () => {
    const conn = connection([`127.0.0.1:${await deadPort()}`], {
      reconnect: { minTimeoutMs: 20, maxTimeoutMs: 20, randomize: false },
    });
    const o = await outcome(conn.request(get('never', { timeoutMs: 60 })));
    expect(!o.ok && o.error).toBeInstanceOf(TimeoutError);
    expect(['connecting', 'reconnecting']).toContain(conn.state);
  });

  it('does not keep requests after their reply', async () => {
    server.handler = () => ({ status: 0 });
    const conn = connection([server.endpoint]);
    await Promise.all(Array.from({ length: 50 }, (_, i) => outcome(conn.request(get(`k${i}`, { timeoutMs: 1000 })))));
    expect(conn.pendingCount).toBe(0);
    await sleep(0);
  });
});
