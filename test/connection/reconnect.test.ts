import { describe, expect, it } from 'vitest';
import { ClientClosedError, ConnectionLostError, fromUtf8 } from '../../src/protocol/index.js';
import type { ConnectionEvent, ConnectionState } from '../../src/connection/types.js';
import { tcpTransport } from '../../src/connection/tcp.js';
import { FakeServer, deadPort } from '../support/fake-server.js';
import { outcome, recording, until } from '../support/transport.js';
import { closeAll, connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s));

describe('Connection: losing and re-establishing the socket', () => {
  it('fails in-flight requests with ConnectionLostError, reconnects and emits reconnected$', async () => {
    const conn = connection([server.endpoint]);
    const states: ConnectionState[] = [];
    let reconnects = 0;
    conn.state$.subscribe((s) => states.push(s));
    conn.reconnected$.subscribe(() => reconnects++);
    expect((await outcome(conn.request(get('before')))).ok).toBe(true);
    expect(reconnects).toBe(0);

    server.handler = (req) => (req.keyText === 'boom' ? 'drop' : 'hang');
    const hanging = outcome(conn.request(get('parked')));
    const dropped = outcome(conn.request(get('boom')));
    const [a, b] = await Promise.all([hanging, dropped]);
    expect(!a.ok && a.error).toBeInstanceOf(ConnectionLostError);
    expect(!b.ok && b.error).toBeInstanceOf(ConnectionLostError);

    await until(() => reconnects === 1);
    expect(states).toEqual(['idle', 'connecting', 'connected', 'reconnecting', 'connected']);
    server.handler = (req) => ({ payload: req.key });
    const after = await outcome(conn.request(get('after')));
    expect(after.ok && fromUtf8(after.value.payload)).toBe('after');
    expect(server.accepted).toBe(2);
    // the failed requests were not retried by the connection
    expect(server.requests.filter((r) => r.keyText === 'boom')).toHaveLength(1);
    expect(server.requests.filter((r) => r.keyText === 'parked')).toHaveLength(1);
  });

  it('keeps numbering across reconnects, so a stale reply cannot be mistaken', async () => {
    const conn = connection([server.endpoint]);
    let reconnects = 0;
    conn.reconnected$.subscribe(() => reconnects++);
    await outcome(conn.request(get('a')));
    server.dropAll();
    await until(() => reconnects === 1);
    await outcome(conn.request(get('b')));
    expect(server.requests.map((r) => r.id)).toEqual([1n, 2n]);
  });

  it('holds requests issued while reconnecting and sends them once connected', async () => {
    const conn = connection([server.endpoint]);
    await conn.connect();
    await server.stop();
    await until(() => conn.state === 'reconnecting');
    const waiting = outcome(conn.request(get('patient', { timeoutMs: 10_000 })));
    await server.restart();
    const o = await waiting;
    expect(o.ok && fromUtf8(o.value.payload)).toBe('patient');
    expect(conn.state).toBe('connected');
  });

  it('tries the next endpoint when one is down', async () => {
    const rec = recording(tcpTransport);
    const dead = `127.0.0.1:${await deadPort()}`;
    const conn = connection([dead, server.endpoint], { transport: rec.factory });
    const o = await outcome(conn.request(get('x')));
    expect(o.ok).toBe(true);
    expect(rec.attempts).toEqual([dead, server.endpoint]);
  });

  it('moves to the next endpoint after a loss when the current one stays down', async () => {
    const other = await FakeServer.start();
    try {
      const rec = recording(tcpTransport);
      const conn = connection([server.endpoint, other.endpoint], { transport: rec.factory });
      await conn.connect();
      await server.stop();
      await until(() => conn.state === 'connected' && rec.opened.length === 2);
      const o = await outcome(conn.request(get('y')));
      expect(o.ok).toBe(true);
      expect(other.requests.map((r) => r.keyText)).toEqual(['y']);
    } finally {
      await closeAll();
      await other.stop();
    }
  });

  it('ends in closed and fails what waits when reconnecting gives up', async () => {
    const conn = connection([server.endpoint], { reconnect: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 5 } });
    await conn.connect();
    const states: ConnectionState[] = [];
    conn.state$.subscribe((s) => states.push(s));
    await server.stop();
    await until(() => conn.state !== 'connected');
    const o = await outcome(conn.request(get('w', { timeoutMs: 10_000 })));
    expect(!o.ok && o.error).toBeInstanceOf(ConnectionLostError);
    expect(conn.state).toBe('closed');
    expect(states).toEqual(['connected', 'reconnecting', 'closed']);
    const later = await outcome(conn.request(get('later')));
    expect(!later.ok && later.error).toBeInstanceOf(ConnectionLostError);
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionLostError);
  });

  it('gives up at once after a loss when reconnect is false', async () => {
    const conn = connection([server.endpoint], { reconnect: false });
    await conn.connect();
    server.handler = () => 'drop';
    const o = await outcome(conn.request(get('x')));
    expect(!o.ok && o.error).toBeInstanceOf(ConnectionLostError);
    await until(() => conn.state === 'closed');
    expect(server.accepted).toBe(1);
  });

  it('rejects connect() when no endpoint can be reached', async () => {
    const conn = connection([`127.0.0.1:${await deadPort()}`], { reconnect: { retries: 1, minTimeoutMs: 1 } });
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionLostError);
    expect(conn.state).toBe('closed');
  });
});

describe('Connection: the establish loop (attempts, backoff, giving up)', () => {
  const attempts = (events: ConnectionEvent[]) => events.filter((e) => e.type === 'connecting').length;

  it('waits min × factor^n between attempts, capped, and gives up after `retries`', async () => {
    const events: ConnectionEvent[] = [];
    const conn = connection([`127.0.0.1:${await deadPort()}`], {
      reconnect: { retries: 4, minTimeoutMs: 1, factor: 3, maxTimeoutMs: 20, randomize: false },
      onEvent: (e) => events.push(e),
    });
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionLostError);
    expect(attempts(events)).toBe(5);
    const scheduled = events.filter((e) => e.type === 'reconnect-scheduled');
    expect(scheduled.map((e) => e.delayMs)).toEqual([1, 3, 9, 20]);
    expect(scheduled.map((e) => e.attempt)).toEqual([2, 3, 4, 5]);
    expect(events.filter((e) => e.type === 'connect-failed')).toHaveLength(5);
    expect(conn.info.failedAttempts).toBe(5);
  });

  it('with reconnect false tries every endpoint once, without waits, then gives up', async () => {
    const events: ConnectionEvent[] = [];
    const conn = connection([`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`], {
      reconnect: false,
      onEvent: (e) => events.push(e),
    });
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionLostError);
    expect(attempts(events)).toBe(2);
    expect(events.some((e) => e.type === 'reconnect-scheduled')).toBe(false);
    expect(conn.state).toBe('closed');
  });

  it('gives up at once on a TypeError (a bad address): no wait, no retry', async () => {
    const events: ConnectionEvent[] = [];
    const conn = connection(['bad address'], {
      transport: () => Promise.reject(new TypeError('not an address')),
      onEvent: (e) => events.push(e),
    });
    const error = await conn.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as Error).message).toContain('not an address');
    expect(attempts(events)).toBe(1);
    expect(events.some((e) => e.type === 'reconnect-scheduled')).toBe(false);
  });

  it('close() during a backoff wait ends the loop: no more attempts, pending requests fail ClientClosedError', async () => {
    const events: ConnectionEvent[] = [];
    const conn = connection([`127.0.0.1:${await deadPort()}`], {
      reconnect: { minTimeoutMs: 60_000, randomize: false },
      onEvent: (e) => events.push(e),
    });
    const waiting = outcome(conn.request(get('x', { timeoutMs: 120_000 })));
    await until(() => events.some((e) => e.type === 'reconnect-scheduled'));
    await conn.close();
    const o = await waiting;
    expect(!o.ok && o.error).toBeInstanceOf(ClientClosedError);
    expect(conn.state).toBe('closed');
    expect(attempts(events)).toBe(1);
  });
});
