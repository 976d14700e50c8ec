// FloServer.restart(): connections dropped, same port, same state, and the subsystems' timers and
// parking still work after it. Server time is a ManualClock: exact, never slept.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect, type FloClient } from '../../src/node.js';
import { ManualClock, startServer, type FloServer } from '../../src/server.js';
import { isConnectionLost } from '../../src/protocol/errors.js';
import { outcome } from '../support/transport.js';
import { waitFor } from './support.js';

let server: FloServer | undefined;
const clients: FloClient[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

function client(s: FloServer): FloClient {
  const c = connect(`127.0.0.1:${s.port}`, { namespace: 'r', timeoutMs: 5000, reconnect: { minTimeoutMs: 10, maxTimeoutMs: 200 } });
  clients.push(c);
  return c;
}

const seqsOf = (c: FloClient, q: string, opts: { blockMs?: number } = {}) =>
  lastValueFrom(c.queue.dequeue(q, 10, opts).pipe(toArray())).then((ms) => ms.map((m) => m.seq));

describe('FloServer.restart()', () => {
  it('drops every connection, aborts parked requests, comes back on the same port with the same state', async () => {
    const clock = new ManualClock();
    server = await startServer({ port: 0, clock });
    const { port, url } = server;
    const flo = client(server);
    await firstValueFrom(flo.kv.put('k', 'v1'));
    const seq = await firstValueFrom(flo.queue.enqueue('q', 'job'));
    const id = await firstValueFrom(flo.stream.append('s', 'rec'));
    // A parked long-poll: dropped with its connection, the client sees the connection lost.
    const parked = outcome(flo.queue.dequeue('empty', 1, { blockMs: 60_000 }));
    await firstValueFrom(flo.kv.get('k')); // the dequeue was dispatched (parked) before this reply
    expect(server.connections).toBe(1);

    await server.restart();
    const lost = await parked;
    expect(lost.ok).toBe(false);
    expect(!lost.ok && isConnectionLost(lost.error)).toBe(true);
    expect(server.port).toBe(port);
    expect(server.url).toBe(url);

    // Same state, through the same client (it reconnects) and a new one.
    expect((await firstValueFrom(flo.kv.get('k')))?.text()).toBe('v1');
    const other = client(server);
    const read = await lastValueFrom(other.stream.read('s').pipe(toArray()));
    expect(read.map((r) => r.id)).toEqual([id]);
    expect(await seqsOf(other, 'q')).toEqual([seq]);
    expect(server.connections).toBe(2);
  });

  it('keeps the subsystems timers: a delay and a lease armed before the restart fire after it, and wake parked dequeues', async () => {
    const clock = new ManualClock();
    server = await startServer({ port: 0, clock });
    const flo = client(server);
    const delayed = await firstValueFrom(flo.queue.enqueue('d', 'later', { delayMs: 1000 }));
    const leasedSeq = await firstValueFrom(flo.queue.enqueue('v', 'x'));
    const [leased] = await lastValueFrom(flo.queue.dequeue('v', 1, { visibilityTimeoutMs: 1000 }).pipe(toArray()));
    expect(leased!.seq).toBe(leasedSeq);

    await server.restart();

    // Park first (the kv round trip proves the dequeues were dispatched), then move time.
    const waitingDelayed = seqsOf(flo, 'd', { blockMs: 60_000 });
    const waitingLeased = seqsOf(flo, 'v', { blockMs: 60_000 });
    await firstValueFrom(flo.kv.get('sync'));
    clock.advance(1000);
    expect(await waitingDelayed).toEqual([delayed]);
    expect(await waitingLeased).toEqual([leasedSeq]);
  });

  it('keeps parking working: a group read and a blocking kv get parked after the restart are woken by writes', async () => {
    const clock = new ManualClock();
    server = await startServer({ port: 0, clock });
    const flo = client(server);
    const producer = client(server);
    await firstValueFrom(flo.stream.groupJoin('s', 'g', 'c'));
    await server.restart();

    const groupRead = lastValueFrom(flo.stream.groupRead('s', 'g', 'c', { blockMs: 60_000 }).pipe(toArray()));
    const blockingGet = firstValueFrom(flo.kv.get('late', { blockMs: 60_000 }));
    await firstValueFrom(flo.kv.get('sync'));
    const id = await firstValueFrom(producer.stream.append('s', 'woke'));
    await firstValueFrom(producer.kv.put('late', 'here'));
    const records = await groupRead;
    expect(records.map((r) => r.id)).toEqual([id]);
    expect((await blockingGet)?.text()).toBe('here');
  });

  it('serialises restarts, and close() during a restart closes the server for good', async () => {
    server = await startServer({ port: 0 });
    const flo = client(server);
    await firstValueFrom(flo.kv.put('k', 1));
    const states: string[] = [];
    const sub = flo.state$.subscribe((s) => states.push(s));
    await Promise.all([server.restart(), server.restart()]);
    expect((await firstValueFrom(flo.kv.get('k')))?.data()).toBe(1);
    await waitFor(() => states.at(-1) === 'connected', () => `state ${states.join(',')}`);
    sub.unsubscribe();

    const restarting = server.restart();
    const closing = server.close();
    await expect(restarting).rejects.toThrow(/closed/); // superseded: the port is not bound again
    await closing;
    expect(server.connections).toBe(0);
    await expect(server.restart()).rejects.toThrow(/closed/);
    const late = connect(`127.0.0.1:${server.port}`, { reconnect: false, timeoutMs: 2000 });
    clients.push(late);
    const probe = await outcome(late.kv.get('k'));
    expect(probe.ok).toBe(false);
  });
});
