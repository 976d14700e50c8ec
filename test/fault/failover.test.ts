// Failover between two embedded servers: a client given both endpoints runs a queue pipeline and a
// stream tail against the first; the first is stopped mid-pipeline; everything carries on against
// the second (each server has its own data: the second's items are what must arrive).
import { afterEach, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, range, mergeMap, toArray, type Subscription } from 'rxjs';
import { connect, settle, type FloClient, type FloEvent } from '../../src/node.js';
import { startServer, type FloServer } from '../../src/server.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const servers: FloServer[] = [];
const clients: FloClient[] = [];
const subs: Subscription[] = [];
afterEach(async () => {
  subs.splice(0).forEach((s) => s.unsubscribe());
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

async function fill(port: number, prefix: string, n: number): Promise<void> {
  const producer = connect(`127.0.0.1:${port}`);
  clients.push(producer);
  await lastValueFrom(range(0, n).pipe(mergeMap((i) => producer.queue.enqueue('jobs', `${prefix}${i}`)), toArray()));
  await lastValueFrom(range(0, n).pipe(mergeMap((i) => producer.stream.append('events', `${prefix}${i}`), 1), toArray()));
}

describe('failover', () => {
  it('moves to the next endpoint when the first is stopped, and the live reads carry on', async () => {
    const [a, b] = [await startServer({ port: 0 }), await startServer({ port: 0 })];
    servers.push(a, b);
    await fill(a.port, 'a', 5);
    await fill(b.port, 'b', 5);
    const endpoints = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
    const flo = connect(endpoints, { reconnect: { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false } });
    clients.push(flo);
    const events: FloEvent[] = [];
    flo.events$.subscribe((e) => events.push(e));

    const handled: string[] = [];
    subs.push(
      flo.queue
        .messages('jobs', { blockMs: 200 })
        .pipe(settle((m) => handled.push(text(m.payload))))
        .subscribe(),
    );
    const tailed: string[] = [];
    subs.push(flo.stream.tail('events', { from: 'start', blockMs: 200 }).subscribe((r) => tailed.push(text(r.payload))));

    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => handled.length === 5 && tailed.length === 5);
    expect(handled.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);

    const movedToB = firstValueFrom(flo.events$.pipe(filter((e) => e.type === 'connected' && e.endpoint === endpoints[1])));
    await a.close();
    await movedToB;
    await until(() => handled.length === 10);
    expect(handled.slice(5).sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    // The tail resumes after its last id: on the second server that skips the ids it already saw
    // (both streams have ids from the same clock), so only what is newer arrives. Append one more.
    const producerB = connect(endpoints[1]);
    clients.push(producerB);
    await firstValueFrom(producerB.stream.append('events', 'b-late'));
    await until(() => tailed.includes('b-late'));
    expect(await firstValueFrom(flo.kv.get('nothing'))).toBeNull();
    expect(events.some((e) => e.type === 'disconnected' && e.endpoint === endpoints[0])).toBe(true);
    expect(flo.connectionInfo()).toMatchObject({ state: 'connected', endpoint: endpoints[1] });
  });
});
