import { describe, expect, it } from 'vitest';
import { parseEndpoint, tcpTransport } from '../../src/connection/tcp.js';
import { FakeServer, deadPort } from '../support/fake-server.js';
import { encodeRequest, Op, ResponseFrameDecoder } from '../../src/protocol/index.js';

describe('tcpTransport', () => {
  it('parses endpoints', () => {
    expect(parseEndpoint('localhost:9000')).toEqual({ host: 'localhost', port: 9000 });
    expect(parseEndpoint('10.0.0.1:1234')).toEqual({ host: '10.0.0.1', port: 1234 });
    expect(parseEndpoint('tcp://example.com:7')).toEqual({ host: 'example.com', port: 7 });
    expect(parseEndpoint('[::1]:9001')).toEqual({ host: '::1', port: 9001 });
    expect(parseEndpoint('flo.internal')).toEqual({ host: 'flo.internal', port: 9000 });
    expect(() => parseEndpoint('host:notaport')).toThrow(TypeError);
    expect(() => parseEndpoint('host:70000')).toThrow(TypeError);
  });

  it('rejects when nothing listens', async () => {
    const port = await deadPort();
    await expect(tcpTransport(`127.0.0.1:${port}`, { onData: () => undefined, onClose: () => undefined })).rejects.toThrow();
  });

  it('carries bytes both ways and reports the close once', async () => {
    const server = await FakeServer.start();
    const decoder = new ResponseFrameDecoder();
    const replies: bigint[] = [];
    let closes = 0;
    const t = await tcpTransport(server.endpoint, {
      onData: (chunk) => {
        expect(chunk.constructor).toBe(Uint8Array);
        for (const f of decoder.push(chunk)) replies.push(f.requestId);
      },
      onClose: () => closes++,
    });
    t.send(encodeRequest(7n, Op.KvGet, 'default', { key: new Uint8Array([1]) }));
    await server.waitForRequests(1);
    while (replies.length === 0) await new Promise((r) => setImmediate(r));
    expect(replies).toEqual([7n]);
    t.close();
    while (closes === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
    expect(closes).toBe(1);
    await server.stop();
  });
});
