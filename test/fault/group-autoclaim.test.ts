// A group consumer whose group-read reply is lost with its connection (cut mid-handler, by a TCP
// proxy that swallows the reply and drops both sides) gets those records back as soon as it has
// reconnected, by claiming its own pending entries, not after the ack timeout. The records its
// handler was working on when the connection went are not claimed back (delivered once). Server
// time is a ManualClock that the test never advances past the ack timeout unless it says so.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, type Subscription } from 'rxjs';
import { connect, type FloClient, type GroupRecord } from '../../src/node.js';
import { createSubsystems } from '../../src/server/registry.js';
import type { StreamSubsystem } from '../../src/server/streams/index.js';
import { ManualClock, startServer, type FloServer } from '../../src/server.js';
import { waitFor } from './support.js';

/** A TCP proxy that can swallow the next server→client bytes and cut the connection there. */
class CuttingProxy {
  cutOnNextReply = false;
  cuts = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<CuttingProxy> {
    const server = createServer();
    const proxy = new CuttingProxy(server);
    server.on('connection', (client) => {
      const upstream = tcpConnect({ port: targetPort, host: '127.0.0.1' });
      proxy.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('data', (b) => upstream.write(b));
      upstream.on('data', (b) => {
        if (proxy.cutOnNextReply) {
          proxy.cutOnNextReply = false;
          proxy.cuts++;
          drop(); // the reply never reaches the client
          return;
        }
        client.write(b);
      });
      for (const s of [client, upstream]) {
        s.on('error', drop);
        s.on('close', () => {
          proxy.sockets.delete(s);
          drop();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let server: FloServer | undefined;
let proxy: CuttingProxy | undefined;
const clients: FloClient[] = [];
const subs: Subscription[] = [];

afterEach(async () => {
  for (const s of subs.splice(0)) s.unsubscribe();
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await proxy?.close();
  proxy = undefined;
  await server?.close();
  server = undefined;
});

async function setup() {
  const clock = new ManualClock();
  let streams: StreamSubsystem | undefined;
  server = await startServer({ port: 0, clock, subsystems: (env) => {
    const all = createSubsystems(env);
    streams = all[2] as StreamSubsystem;
    return all;
  } });
  proxy = await CuttingProxy.start(server.port);
  const client = (port: number) => {
    const c = connect(`127.0.0.1:${port}`, { namespace: 'ac', timeoutMs: 5000, reconnect: { minTimeoutMs: 10, maxTimeoutMs: 100 } });
    clients.push(c);
    return c;
  };
  return { clock, streams: streams!, viaProxy: client(proxy.port), direct: client(server.port) };
}

const text = (r: GroupRecord) => new TextDecoder().decode(r.payload);

describe('group consumers claim their own pending records after a reconnect', () => {
  for (const claimPending of [true, false]) {
    it(`connection cut mid-handler with a group-read reply in flight (claimPending: ${claimPending})`, async () => {
      const { clock, streams, viaProxy, direct } = await setup();
      const seen: GroupRecord[] = [];
      subs.push(viaProxy.stream.group('orders', 'billing', { consumer: 'w1', batch: 5, maxInFlight: 10, claimPending }).subscribe((r) => seen.push(r)));
      await firstValueFrom(direct.stream.append('orders', 'A'));
      await waitFor(() => seen.length === 1, () => `record A (seen ${seen.length})`, 5000);
      // A is mid-handler (not settled). The next group read parks on the server.
      await waitFor(() => streams.waiters.count() === 1, () => `a parked group read (${streams.waiters.count()})`, 5000);

      proxy!.cutOnNextReply = true;
      await firstValueFrom(direct.stream.append('orders', 'B'));
      await firstValueFrom(direct.stream.append('orders', 'C'));
      await waitFor(() => proxy!.cuts === 1, () => 'the cut', 5000);
      // B went to w1's pending list with the lost reply (C maybe too, or C is read anew later).
      await firstValueFrom(direct.stream.append('orders', 'D'));

      if (claimPending) {
        await waitFor(() => seen.length === 4, () => `A..D (seen ${seen.map(text).join(',')})`, 5000);
        expect(seen.map(text).sort()).toEqual(['A', 'B', 'C', 'D']);
      } else {
        // Without claiming, only the lost reply's records wait for their ack timeout.
        await waitFor(() => seen.map(text).includes('D'), () => `D (seen ${seen.map(text).join(',')})`);
        expect(seen.map(text)).not.toContain('B');
        clock.advance(30_000);
        await waitFor(() => seen.map(text).includes('B'), () => `B after the ack timeout (seen ${seen.map(text).join(',')})`);
      }
      // The handler finishes: every record once, A included (its ack is sent after the reconnect).
      await Promise.all(seen.map((r) => lastValueFrom(r.lease.ack())));
      let pending = -1n;
      for (let i = 0; i < 200 && pending !== 0n; i++) pending = (await firstValueFrom(direct.stream.groupInfo('orders', 'billing'))).pendingCount;
      expect(pending).toBe(0n);
      // With claiming, every record once. Without, waiting out the ack timeout also redelivers A,
      // which its handler still held: the duplicate that claiming avoids.
      expect(seen.filter((r) => text(r) === 'A')).toHaveLength(claimPending ? 1 : 2);
      if (claimPending) expect(new Set(seen.map(text)).size).toBe(seen.length);
    });
  }

  it('a server restart mid-handler: the record being handled is not claimed back, its ack lands after the restart', async () => {
    const { direct } = await setup();
    const flo = direct;
    const seen: GroupRecord[] = [];
    subs.push(flo.stream.group('jobs', 'g', { consumer: 'w2', batch: 2 }).subscribe((r) => seen.push(r)));
    await firstValueFrom(flo.stream.append('jobs', 'one'));
    await waitFor(() => seen.length === 1, () => 'record one');
    await server!.restart();
    await firstValueFrom(flo.stream.append('jobs', 'two')); // through the reconnected client
    await waitFor(() => seen.length === 2, () => `record two (seen ${seen.map(text).join(',')})`);
    await Promise.all(seen.map((r) => lastValueFrom(r.lease.ack())));
    let pending = -1n;
    for (let i = 0; i < 200 && pending !== 0n; i++) pending = (await firstValueFrom(flo.stream.groupInfo('jobs', 'g'))).pendingCount;
    expect(pending).toBe(0n);
    expect(seen.map(text)).toEqual(['one', 'two']);
  });
});
