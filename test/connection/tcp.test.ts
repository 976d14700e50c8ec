import * as net from 'node:net';
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

  it('hands out chunks that later reads never write over, whatever their sizes', async () => {
    // Reads land in one reused buffer: every chunk handed on must be a copy of its own. Send
    // 200 KiB (several full 64 KiB reads) and small pieces, each byte numbered, and keep every
    // chunk until the end.
    const total = 200 * 1024 + 77;
    const bytes = new Uint8Array(total).map((_, i) => (i * 31 + 7) & 0xff);
    const srv = net.createServer((socket) => {
      socket.write(bytes.subarray(0, 5)); // a tiny read first
      setTimeout(() => socket.end(bytes.subarray(5)), 20);
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const chunks: Uint8Array[] = [];
    let closed = false;
    const t = await tcpTransport(`127.0.0.1:${(srv.address() as net.AddressInfo).port}`, {
      onData: (chunk) => chunks.push(chunk),
      onClose: () => (closed = true),
    });
    while (!closed) await new Promise((r) => setTimeout(r, 5));
    const got = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      got.set(c, at);
      at += c.length;
    }
    expect(at).toBe(total);
    expect(chunks.length).toBeGreaterThan(1);
    expect(got).toEqual(bytes);
    t.close();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
});
