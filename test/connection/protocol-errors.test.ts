import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConnectionLostError,
  ProtocolError,
  encodeRejectFrame,
  encodeResponseFrame,
  fromUtf8,
} from '../../src/protocol/index.js';
import type { FakeServer } from '../support/fake-server.js';
import { outcome, until } from '../support/transport.js';
import { connection, fakeServerPerTest, get } from './helpers.js';

let server: FakeServer;
fakeServerPerTest((s) => (server = s), { handler: () => 'hang' });

describe('Connection: bad replies', () => {
  it('fails every in-flight request with the reject frame (id 0) and reconnects', async () => {
    const conn = connection([server.endpoint]);
    let reconnects = 0;
    conn.reconnected$.subscribe(() => reconnects++);
    const results = [outcome(conn.request(get('a'))), outcome(conn.request(get('b')))];
    const reqs = await server.waitForRequests(2);
    reqs[0].conn.write(encodeRejectFrame());
    for (const o of await Promise.all(results)) {
      expect(!o.ok && o.error).toBeInstanceOf(BadRequestError);
      expect(!o.ok && o.error.message).toContain('Invalid request');
    }
    await until(() => reconnects === 1);
    // the rejected socket was dropped by the client
    await until(() => !reqs[0].conn.open);
    expect(server.accepted).toBe(2);
  });

  it('drops the socket on a reply with bad magic (ConnectionLostError, cause ProtocolError)', async () => {
    const conn = connection([server.endpoint]);
    let reconnects = 0;
    conn.reconnected$.subscribe(() => reconnects++);
    const pending = outcome(conn.request(get('a')));
    const [req] = await server.waitForRequests(1);
    const bad = encodeResponseFrame(req.id, 0);
    bad[0] = 0x47;
    req.conn.write(bad);
    const o = await pending;
    expect(!o.ok && o.error).toBeInstanceOf(ConnectionLostError);
    expect(!o.ok && (o.error.cause as Error)).toBeInstanceOf(ProtocolError);
    await until(() => reconnects === 1);
  });

  it('drops the socket on a reply with an unsupported version', async () => {
    const conn = connection([server.endpoint]);
    const pending = outcome(conn.request(get('a')));
    const [req] = await server.waitForRequests(1);
    const bad = encodeResponseFrame(req.id, 0);
    bad[20] = 2;
    req.conn.write(bad);
    const o = await pending;
    expect(!o.ok && o.error).toBeInstanceOf(ConnectionLostError);
  });

  it('fails only the request whose reply fails its CRC', async () => {
    const conn = connection([server.endpoint]);
    const corrupt = outcome(conn.request(get('corrupt')));
    const fine = outcome(conn.request(get('fine')));
    const reqs = await server.waitForRequests(2);
    const bad = encodeResponseFrame(reqs[0].id, 0, new TextEncoder().encode('payload'));
    bad[bad.length - 1] ^= 0xff;
    reqs[0].conn.write(bad);
    const c = await corrupt;
    expect(!c.ok && c.error).toBeInstanceOf(ProtocolError);
    expect(!c.ok && c.error).not.toBeInstanceOf(ConnectionLostError);
    reqs[1].reply(0, new TextEncoder().encode('ok'));
    const f = await fine;
    expect(f.ok && fromUtf8(f.value.payload)).toBe('ok');
    expect(server.accepted).toBe(1);
    expect(conn.state).toBe('connected');
  });

  it('treats a reply larger than maxPayload as fatal for the socket', async () => {
    const conn = connection([server.endpoint], { maxPayload: 32 });
    const pending = outcome(conn.request(get('big')));
    const [req] = await server.waitForRequests(1);
    req.reply(0, new Uint8Array(33));
    const o = await pending;
    expect(!o.ok && o.error).toBeInstanceOf(ConnectionLostError);
  });

  it('ignores replies for ids it never sent', async () => {
    const conn = connection([server.endpoint]);
    const pending = outcome(conn.request(get('a')));
    const [req] = await server.waitForRequests(1);
    req.conn.write(encodeResponseFrame(999n, 0));
    req.conn.write(encodeResponseFrame(0n, 0)); // id 0 with OK status is not a reject
    req.reply(0, new TextEncoder().encode('mine'));
    const o = await pending;
    expect(o.ok && fromUtf8(o.value.payload)).toBe('mine');
    expect(conn.state).toBe('connected');
  });
});
