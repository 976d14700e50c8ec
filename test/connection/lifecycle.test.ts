import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { ClientClosedError, InvalidArgumentError, Op } from '../../src/protocol/index.js';
import type { ConnectionState } from '../../src/connection/types.js';
import { deadPort, type FakeServer } from '../support/fake-server.js';
import { outcome, until } from '../support/transport.js';
import { connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s));

describe('Connection: lifecycle', () => {
  it('replays the current state to each subscriber', async () => {
    const conn = connection([server.endpoint]);
    const first: ConnectionState[] = [];
    conn.state$.subscribe((s) => first.push(s));
    expect(first).toEqual(['idle']);
    await conn.connect();
    const late: ConnectionState[] = [];
    conn.state$.subscribe((s) => late.push(s));
    expect(first).toEqual(['idle', 'connecting', 'connected']);
    expect(late).toEqual(['connected']);
  });

  it('connect() resolves once connected and is idempotent', async () => {
    const conn = connection([server.endpoint]);
    await Promise.all([conn.connect(), conn.connect()]);
    await conn.connect();
    expect(conn.state).toBe('connected');
    expect(server.accepted).toBe(1);
  });

  it('connects at construction when lazy is false', async () => {
    const conn = connection([server.endpoint], { lazy: false });
    await server.waitForConnections(1);
    await until(() => conn.state === 'connected');
  });

  it('close() fails pending requests, closes the socket, and refuses later requests', async () => {
    server.handler = () => 'hang';
    const conn = connection([server.endpoint]);
    const pending = outcome(conn.request(get('parked')));
    await server.waitForRequests(1);
    const states = lastValueFrom(conn.state$.pipe(toArray()));
    await conn.close();
    const o = await pending;
    expect(!o.ok && o.error).toBeInstanceOf(ClientClosedError);
    expect(conn.state).toBe('closed');
    expect(await states).toEqual(['connected', 'closed']); // and state$ completed
    await until(() => server.connections.size === 0);
    const later = await outcome(conn.request(get('later')));
    expect(!later.ok && later.error).toBeInstanceOf(ClientClosedError);
    await expect(conn.connect()).rejects.toBeInstanceOf(ClientClosedError);
    await conn.close(); // idempotent
    expect(server.requests).toHaveLength(1);
  });

  it('close() before first use never opens a socket', async () => {
    const conn = connection([server.endpoint]);
    await conn.close();
    expect(conn.state).toBe('closed');
    const o = await outcome(conn.request(get('x')));
    expect(!o.ok && o.error).toBeInstanceOf(ClientClosedError);
    expect(server.accepted).toBe(0);
  });

  it('close() while reconnecting stops the attempts and fails waiting requests', async () => {
    const conn = connection([`127.0.0.1:${await deadPort()}`]);
    const pending = outcome(conn.request(get('x', { timeoutMs: 10_000 })));
    await until(() => conn.state === 'connecting');
    await conn.close();
    const o = await pending;
    expect(!o.ok && o.error).toBeInstanceOf(ClientClosedError);
    expect(conn.state).toBe('closed');
  });

  it('refuses a request that cannot be encoded, before sending anything', async () => {
    const conn = connection([server.endpoint]);
    const o = await outcome(
      conn.request({ opcode: Op.KvPut, namespace: 'default', body: { key: new Uint8Array(70_000) } }),
    );
    expect(!o.ok && o.error).toBeInstanceOf(InvalidArgumentError);
    expect(!o.ok && o.error.message).toContain('kv_put');
  });

  it('refuses a request larger than maxPayload', async () => {
    const conn = connection([server.endpoint], { maxPayload: 64 });
    const o = await outcome(
      conn.request({ opcode: Op.KvPut, namespace: 'default', body: { key: new Uint8Array(10), value: new Uint8Array(100) } }),
    );
    expect(!o.ok && o.error).toBeInstanceOf(InvalidArgumentError);
    expect(server.requests).toHaveLength(0);
  });
});
