// `connect()` against endpoints with nothing behind them, over real sockets: the failure is visible
// (connect() rejects, state and connectionInfo carry the socket error, debug logs each attempt,
// requests say why they timed out), and the client keeps trying in the background.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import {
  connect,
  connectionStatus,
  ConnectionError,
  ConnectionLostError,
  TimeoutError,
  type FloClient,
  type FloEvent,
} from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';

/** A port nothing listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const clients: FloClient[] = [];
const servers: FloServer[] = [];
const fast = { reconnect: { minTimeoutMs: 10, maxTimeoutMs: 40, randomize: false } } as const;

function client(address: string, options: Parameters<typeof connect>[1] = {}): FloClient {
  const c = connect(address, { ...fast, ...options });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

describe('connect() to a dead endpoint', () => {
  it('rejects after connectTimeoutMs with a ConnectionError whose cause is ECONNREFUSED, and keeps retrying', async () => {
    const port = await deadPort();
    const endpoint = `127.0.0.1:${port}`;
    const flo = client(endpoint, { connectTimeoutMs: 300 });
    const failures: FloEvent[] = [];
    flo.events$.pipe(filter((e) => e.type === 'connect-failed')).subscribe((e) => failures.push(e));

    const err = await flo.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).endpoint).toBe(endpoint);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toContain(`ECONNREFUSED ${endpoint}`);

    const info = flo.connectionInfo();
    expect(info.state).toBe('connecting');
    expect(info.endpoint).toBe(endpoint);
    expect((info.lastError as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(info.failedAttempts).toBeGreaterThan(0);

    // Still trying after the rejection...
    const seen = failures.length;
    await firstValueFrom(flo.events$.pipe(filter((e) => e.type === 'connect-failed')));
    expect(failures.length).toBeGreaterThan(seen);

    // ...so a server that appears on that port is found without any call from us.
    const server = await startServer({ port });
    servers.push(server);
    await firstValueFrom(flo.state$.pipe(filter((s) => s === 'connected')));
    await expect(flo.connect()).resolves.toBeUndefined();
    expect(await firstValueFrom(flo.kv.get('missing'))).toBeNull();
    expect(flo.connectionInfo()).toMatchObject({ state: 'connected', endpoint, failedAttempts: 0 });
  });

  it('says why a request timed out while not connected', async () => {
    const port = await deadPort();
    const flo = client(`127.0.0.1:${port}`);
    const err = await firstValueFrom(flo.kv.get('k', { timeoutMs: 300 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain(`not connected: ECONNREFUSED 127.0.0.1:${port}`);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('debug logs each attempt with its endpoint and error', async () => {
    const port = await deadPort();
    const lines: string[] = [];
    const flo = client(`127.0.0.1:${port}`, { debug: (line) => lines.push(line), connectTimeoutMs: 200 });
    await expect(flo.connect()).rejects.toBeInstanceOf(ConnectionError);
    expect(lines.some((l) => l.includes('connecting') && l.includes(`endpoint=127.0.0.1:${port}`) && l.includes('attempt=1'))).toBe(true);
    expect(lines.some((l) => l.includes('connection attempt failed') && l.includes('ECONNREFUSED'))).toBe(true);
    expect(lines.some((l) => l.includes('reconnect scheduled') && /delayMs=\d+/.test(l))).toBe(true);
  });

  it('connection$ and connectionStatus() carry the endpoint and the last error', async () => {
    const port = await deadPort();
    const flo = client(`127.0.0.1:${port}`, { connectTimeoutMs: 200 });
    const failed = firstValueFrom(flo.connection$.pipe(filter((i) => i.lastError !== undefined)));
    flo.connect().catch(() => undefined);
    const info = await failed;
    expect(info).toMatchObject({ state: 'connecting', endpoint: `127.0.0.1:${port}` });
    const status = await firstValueFrom(connectionStatus(flo).pipe(filter((s) => s.lastError !== null)));
    expect(status.lastError).toContain('ECONNREFUSED');
    expect(status.endpoint).toBe(`127.0.0.1:${port}`);
    expect(status.online).toBe(false);
  });

  it('names ENOTFOUND for a host that does not resolve', async () => {
    const flo = client('no-such-host.invalid:9000', { connectTimeoutMs: 2000 });
    const err = await flo.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });

  it('with reconnect: false, rejects once every endpoint failed, naming the last error', async () => {
    const [a, b] = [await deadPort(), await deadPort()];
    const flo = connect([`127.0.0.1:${a}`, `127.0.0.1:${b}`], { reconnect: false });
    clients.push(flo);
    const tried = flo.events$.pipe(
      filter((e) => e.type === 'connecting'),
      take(2),
      toArray(),
    );
    const triedP = firstValueFrom(tried);
    const err = await flo.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect((await triedP).map((e) => (e as { endpoint: string }).endpoint)).toEqual([`127.0.0.1:${a}`, `127.0.0.1:${b}`]);
    expect(flo.connectionInfo().state).toBe('closed');
  });

  it('rejects a connectTimeoutMs that is not a positive number', () => {
    expect(() => connect('127.0.0.1:1', { connectTimeoutMs: 0 })).toThrow(/connectTimeoutMs/);
  });
});
