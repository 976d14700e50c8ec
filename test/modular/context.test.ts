// openFlo() and the FloContext (src/modular/context.ts) over real sockets against the embedded
// server: option checks, laziness, connect() and close().
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { startServer } from '../../src/server.js';
import { msgpackCodec } from '../../src/msgpack.js';
import { embeddedContexts } from './helpers.js';
import { ClientClosedError, ConnectionError, InvalidArgumentError } from '../../src/index.js';
import { kvExists, kvGet, openFlo } from '../../src/modular/index.js';

describe.each(['ws', 'tcp'] as const)('a context over %s', (transport) => {
  const { open } = embeddedContexts(transport);

  it('opens the socket on connect() (lazy until then) and reports its endpoint', async () => {
    const flo = open();
    const states: string[] = [];
    flo.state$.subscribe((s) => states.push(s));
    expect(states).toEqual(['idle']);
    await flo.connect();
    expect(states).toEqual(['idle', 'connecting', 'connected']);
    const info = await firstValueFrom(flo.info$);
    expect(info.state).toBe('connected');
    expect(info.endpoint).toMatch(/127\.0\.0\.1/);
  });

  it('eager: true connects without a call', async () => {
    const flo = open({ eager: true });
    const states: string[] = [];
    flo.state$.subscribe((s) => states.push(s));
    await flo.connect();
    expect(states.at(-1)).toBe('connected');
    expect(states).not.toContain('idle');
  });

  it('close() fails a call in flight with ClientClosedError; later calls fail the same way', async () => {
    const closing = open();
    await closing.connect();
    const inFlight = firstValueFrom(kvGet(closing, 'never-set', { blockMs: 10_000 })).catch((e: unknown) => e);
    await firstValueFrom(kvExists(closing, 'x'));
    await closing.close();
    expect(await inFlight).toBeInstanceOf(ClientClosedError);
    await expect(firstValueFrom(kvGet(closing, 'x'))).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('openFlo', () => {
  it('refuses bad options and addresses at once, with InvalidArgumentError', () => {
    expect(() => openFlo('')).toThrow(InvalidArgumentError);
    expect(() => openFlo('ftp://host:1')).toThrow(InvalidArgumentError);
    expect(() => openFlo('ws://localhost:9000', { namespace: '' })).toThrow(InvalidArgumentError);
  });

  it('exposes its defaults: namespace, codec, timeout', () => {
    const flo = openFlo('ws://localhost:9000', { timeoutMs: 1234, codec: msgpackCodec });
    expect(flo.namespace).toBe('default');
    expect(flo.codec).toBe(msgpackCodec);
    expect(flo.timeoutMs).toBe(1234);
    return flo.close();
  });

  it('with reconnect: false, connect() rejects with a ConnectionError when nothing listens', async () => {
    const server = await startServer({ port: 0 });
    const port = server.port;
    await server.close();
    const flo = openFlo(`ws://127.0.0.1:${port}`, { reconnect: false });
    try {
      await expect(flo.connect()).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await flo.close();
    }
  });
});
