// `openFloDirect()` (src/modular/direct.ts) with the modular KV functions over real sockets: against
// the embedded server on WebSocket and on TCP (the same results and typed errors as `openFlo()`), and
// against bare TCP servers that never answer, drop the socket or send bytes that are not frames.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { WebSocket } from 'ws';
import { tcpTransport } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';
import {
  ClientClosedError,
  ConflictError,
  ConnectionError,
  ConnectionLostError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
  type WebSocketConstructor,
} from '../../src/index.js';
import { kvGet, kvIncr, kvPut, openFlo, openFloDirect, type FloContext, type FloDirectOptions } from '../../src/modular/index.js';

const tcp = (port: number, options: FloDirectOptions = {}) => openFloDirect(`127.0.0.1:${port}`, { transport: tcpTransport, ...options });

describe.each(['ws', 'tcp'] as const)('openFloDirect over %s against the embedded server', (transport) => {
  let server: FloServer;
  const contexts: FloContext[] = [];
  const open = (options: FloDirectOptions = {}) => {
    const flo =
      transport === 'ws'
        ? openFloDirect(server.wsUrl, { namespace: 'direct', WebSocket: WebSocket as unknown as WebSocketConstructor, ...options })
        : tcp(server.port, { namespace: 'direct', ...options });
    contexts.push(flo);
    return flo;
  };
  beforeAll(async () => {
    server = await startServer({ port: 0 });
  });
  afterAll(async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await server.close();
  });

  it('is lazy and cold: opens on the first subscription, sends once per subscription', async () => {
    const flo = open();
    const states: string[] = [];
    flo.state$.subscribe((s) => states.push(s));
    const incr$ = kvIncr(flo, 'counter');
    expect(states).toEqual(['idle']);
    expect(await firstValueFrom(incr$)).toBe(1n);
    expect(await firstValueFrom(incr$)).toBe(2n);
    expect(states).toEqual(['idle', 'connecting', 'connected']);
  });

  it('reads and writes the same keys as an openFlo() context, with the same results', async () => {
    const flo = open();
    const full = openFlo(transport === 'ws' ? server.wsUrl : `127.0.0.1:${server.port}`, {
      namespace: 'direct',
      ...(transport === 'tcp' ? { transport: tcpTransport } : { WebSocket: WebSocket as unknown as WebSocketConstructor }),
    });
    contexts.push(full);
    expect((await firstValueFrom(kvPut(flo, 'shared', { a: 1 }))).version).toBe(1n);
    const viaFull = (await firstValueFrom(kvGet(full, 'shared')))!;
    const viaDirect = (await firstValueFrom(kvGet(flo, 'shared')))!;
    expect(viaDirect.data()).toEqual({ a: 1 });
    expect({ ...viaDirect }).toEqual({ ...viaFull });
    expect(await firstValueFrom(kvGet(flo, 'missing'))).toBeNull();
  });

  it('many requests in flight on one socket each get their own reply', async () => {
    const flo = open();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k, i) => firstValueFrom(kvPut(flo, k, i))));
    const values = await Promise.all(keys.map((k) => firstValueFrom(kvGet(flo, k))));
    expect(values.map((e) => e!.data())).toEqual(keys.map((_, i) => i));
  });

  it('gives typed errors: a failed condition is a ConflictError, a bad argument an InvalidArgumentError before sending', async () => {
    const flo = open();
    await firstValueFrom(kvPut(flo, 'once', 'x', { ifNotExists: true }));
    await expect(firstValueFrom(kvPut(flo, 'once', 'y', { ifNotExists: true }))).rejects.toBeInstanceOf(ConflictError);
    await expect(firstValueFrom(kvGet(flo, ''))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await firstValueFrom(kvGet(flo, 'once')))!.text()).toBe('x');
  });

  it('a blocking get waits for the key; unsubscribing one leaves the socket usable; its deadline adds the block time', async () => {
    const flo = open({ timeoutMs: 200 });
    const waiting = firstValueFrom(kvGet(flo, 'appears', { blockMs: 5_000 }));
    kvGet(flo, 'never', { blockMs: 5_000 }).subscribe().unsubscribe();
    await new Promise((r) => setTimeout(r, 400)); // past timeoutMs, within timeoutMs + blockMs
    await firstValueFrom(kvPut(flo, 'appears', 'here'));
    expect((await waiting)!.text()).toBe('here');
  });

  it('close() fails the calls in flight and later calls with ClientClosedError', async () => {
    const flo = open();
    await flo.connect();
    const waiting = firstValueFrom(kvGet(flo, 'never-set', { blockMs: 10_000 }));
    await flo.close();
    await expect(waiting).rejects.toBeInstanceOf(ClientClosedError);
    await expect(firstValueFrom(kvGet(flo, 'x'))).rejects.toBeInstanceOf(ClientClosedError);
    await expect(flo.connect()).rejects.toBeInstanceOf(ClientClosedError);
    expect(await firstValueFrom(flo.state$)).toBe('closed');
  });
});

describe('openFloDirect against servers that misbehave (TCP)', () => {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  /** A bare TCP server calling `onData` with each chunk it receives; counts connections. */
  async function bareServer(onData: (socket: net.Socket, chunk: Buffer) => void): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const srv = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => onData(socket, chunk));
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { port: (srv.address() as net.AddressInfo).port, connections: () => connections };
  }
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('a server that never answers: TimeoutError after timeoutMs, and the socket stays open for the next call', async () => {
    const { port, connections } = await bareServer(() => undefined);
    const flo = tcp(port, { timeoutMs: 50 });
    await expect(firstValueFrom(kvGet(flo, 'k'))).rejects.toBeInstanceOf(TimeoutError);
    await expect(firstValueFrom(kvGet(flo, 'k', { timeoutMs: 30 }))).rejects.toThrow(/timed out after 30 ms/);
    expect(connections()).toBe(1);
    expect(await firstValueFrom(flo.state$)).toBe('connected');
    await flo.close();
  });

  it('a dropped socket fails the calls in flight with ConnectionLostError; the next call opens a new socket', async () => {
    const { port, connections } = await bareServer((socket) => socket.destroy());
    const flo = tcp(port);
    const states: string[] = [];
    flo.state$.subscribe((s) => states.push(s));
    const [a, b] = [firstValueFrom(kvGet(flo, 'a')), firstValueFrom(kvGet(flo, 'b'))];
    await expect(a).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(b).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(firstValueFrom(kvGet(flo, 'c'))).rejects.toBeInstanceOf(ConnectionLostError);
    expect(connections()).toBe(2);
    expect(states).toEqual(['idle', 'connecting', 'connected', 'idle', 'connecting', 'connected', 'idle']);
    expect((await firstValueFrom(flo.info$)).lastError).toBeInstanceOf(ConnectionLostError);
    await flo.close();
  });

  it('bytes that are not frames fail the calls in flight with ProtocolError and close the socket', async () => {
    let closed = false;
    const { port } = await bareServer((socket) => {
      socket.on('close', () => (closed = true));
      socket.write(Buffer.alloc(64, 7));
    });
    const flo = tcp(port);
    await expect(firstValueFrom(kvGet(flo, 'k'))).rejects.toBeInstanceOf(ProtocolError);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    await flo.close();
  });

  it('no server: ConnectionError at once, counted in info$, and the next call tries again', async () => {
    const { port } = await bareServer(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    const flo = tcp(port);
    const first = await lastValueFrom(kvGet(flo, 'k')).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ConnectionError);
    expect(first).not.toBeInstanceOf(ConnectionLostError);
    expect((first as ConnectionError).endpoint).toBe(`127.0.0.1:${port}`);
    await expect(firstValueFrom(kvGet(flo, 'k'))).rejects.toBeInstanceOf(ConnectionError);
    const info = await firstValueFrom(flo.info$);
    expect(info).toMatchObject({ state: 'idle', failedAttempts: 2, endpoint: `127.0.0.1:${port}` });
    await flo.close();
  });

  it('unsubscribing before the socket opens sends nothing', async () => {
    const received: Buffer[] = [];
    const { port, connections } = await bareServer((_s, chunk) => received.push(chunk));
    const flo = tcp(port);
    kvGet(flo, 'k').subscribe().unsubscribe();
    await flo.connect();
    await new Promise((r) => setTimeout(r, 50));
    expect(connections()).toBe(1);
    expect(received).toEqual([]);
    await flo.close();
  });
});

describe('openFloDirect arguments', () => {
  it('throws InvalidArgumentError at once for a missing or malformed address and a bad namespace', () => {
    expect(() => openFloDirect('')).toThrow(InvalidArgumentError);
    expect(() => openFloDirect('ftp://x')).toThrow(InvalidArgumentError);
    expect(() => openFloDirect('ws://x', { namespace: '' })).toThrow(InvalidArgumentError);
  });

  it('emits nothing and opens nothing until subscribed (eager: false)', async () => {
    const flo = openFloDirect('ws://127.0.0.1:1');
    const values = lastValueFrom(flo.state$.pipe(take(2), toArray()));
    await flo.close();
    expect(await values).toEqual(['idle', 'closed']);
  });
});
