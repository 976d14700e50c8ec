// The diagnostics_channel TracingChannels, over real sockets against the embedded server:
// `flo-rx:request` for a put and a failed get, `flo-rx:connect` through a restart, and the server's
// `flo-rx:server:request`.
import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { CONNECT_CHANNEL, REQUEST_CHANNEL, NotFoundError, Status, type ConnectTraceContext, type RequestTraceContext } from '../../src/node.js';
import { SERVER_REQUEST_CHANNEL, type ServerRequestTraceContext } from '../../src/server.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

type Seen<C> = Array<[string, C]>;

/** Subscribes to every event of a TracingChannel; returns what it saw and the unsubscribe. */
function listen<C extends object>(name: string): { seen: Seen<C>; stop: () => void } {
  const seen: Seen<C> = [];
  const channel = tracingChannel<unknown, C>(name);
  const handlers = {
    start: (c: C) => seen.push(['start', { ...c }]),
    end: (c: C) => seen.push(['end', { ...c }]),
    asyncStart: (c: C) => seen.push(['asyncStart', { ...c }]),
    asyncEnd: (c: C) => seen.push(['asyncEnd', { ...c }]),
    error: (c: C) => seen.push(['error', { ...c }]),
  };
  channel.subscribe(handlers);
  return { seen, stop: () => channel.unsubscribe(handlers) };
}

let env: Embedded | undefined;
const stops: Array<() => void> = [];
afterEach(async () => {
  stops.splice(0).forEach((s) => s());
  await env?.close();
  env = undefined;
});

describe('flo-rx:request', () => {
  it('traces a put: start, end, asyncStart, asyncEnd with operation, namespace, key, id, bytes and status', async () => {
    env = await startEmbedded();
    await env.client.connect();
    const { seen, stop } = listen<RequestTraceContext>(REQUEST_CHANNEL);
    stops.push(stop);
    await firstValueFrom(env.client.kv.put('greeting', 'hello'));
    expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const [, ctx] = seen[3];
    expect(ctx).toMatchObject({ operation: 'kv_put', namespace: 'test', key: 'greeting', status: Status.OK });
    expect(ctx.requestId).toBeGreaterThan(0);
    expect(ctx.bytesOut).toBeGreaterThan('greeting'.length + 'hello'.length);
    expect(ctx.bytesIn).toBeGreaterThanOrEqual(0);
    expect(ctx.error).toBeUndefined();
    expect(ctx.endpoint).toBe(`127.0.0.1:${env.server.port}`);
  });

  it('traces a failed get with its status and typed error on the error event', async () => {
    env = await startEmbedded();
    await env.client.connect();
    const { seen, stop } = listen<RequestTraceContext>(REQUEST_CHANNEL);
    stops.push(stop);
    // kv.json.get of a missing key fails with NOT_FOUND (kv.get maps it to null, the wire still says NOT_FOUND).
    await firstValueFrom(env.client.kv.get('nope'));
    expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const ctx = seen[2][1];
    expect(ctx).toMatchObject({ operation: 'kv_get', key: 'nope', status: Status.NotFound });
    expect(ctx.error).toBeInstanceOf(NotFoundError);
  });

  it('publishes nothing once unsubscribed (and the request still works)', async () => {
    env = await startEmbedded();
    const { seen, stop } = listen<RequestTraceContext>(REQUEST_CHANNEL);
    stop();
    await firstValueFrom(env.client.kv.put('k', 'v'));
    expect(seen).toEqual([]);
  });
});

describe('flo-rx:connect', () => {
  it('traces each attempt through a server restart, failed ones with their error', async () => {
    env = await startEmbedded({ client: { reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false } } });
    const { seen, stop } = listen<ConnectTraceContext>(CONNECT_CHANNEL);
    stops.push(stop);
    await env.client.connect();
    expect(seen.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(seen[0][1]).toMatchObject({ endpoint: `127.0.0.1:${env.server.port}`, attempt: 1 });

    seen.length = 0;
    const reconnected = firstValueFrom(env.client.events$.pipe(filter((e) => e.type === 'connected')));
    await env.server.restart();
    await reconnected;
    const starts = seen.filter(([e]) => e === 'start');
    expect(starts.length).toBeGreaterThanOrEqual(1);
    const last = seen[seen.length - 1];
    expect(last[0]).toBe('asyncEnd');
    expect(last[1].error).toBeUndefined();
    for (const [, c] of seen.filter(([e]) => e === 'error')) expect((c.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});

describe('flo-rx:server:request', () => {
  it('traces what the server handles, with status and error', async () => {
    env = await startEmbedded();
    await env.client.connect();
    const { seen, stop } = listen<ServerRequestTraceContext>(SERVER_REQUEST_CHANNEL);
    stops.push(stop);
    await firstValueFrom(env.client.kv.put('a', '1'));
    await firstValueFrom(env.client.kv.get('missing'));
    const ends = seen.filter(([e]) => e === 'end').map(([, c]) => c);
    expect(ends.map((c) => [c.operation, c.key, c.status])).toEqual([
      ['kv_put', 'a', Status.OK],
      ['kv_get', 'missing', Status.NotFound],
    ]);
    expect(seen.filter(([e]) => e === 'error')).toHaveLength(1);
    expect(ends[0].namespace).toBe('test');
  });
});
