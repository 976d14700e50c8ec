// flo.queue.messages: the bounded leasing source over real sockets.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { filter, firstValueFrom, from, lastValueFrom, map, mergeMap, Subject, take, takeUntil, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ManualClock } from '../../../src/server.js';
import { ack, nack } from '../../../src/operators/index.js';
import { connect, type FloClient } from '../../../src/node.js';
import type { QueueMessage } from '../../../src/client/queue.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const tick = () => new Promise<void>((r) => setTimeout(r, 1));

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function fill(flo: FloClient, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await firstValueFrom(flo.queue.enqueue(queue, { i }));
}

describe('flo.queue.messages', () => {
  it('maxInFlight 5 with a slow mergeMap(work, 5) over a backlog of 200: never more than 5 leased, each processed once', async () => {
    env = await startEmbedded();
    const flo = env.client;
    const observer = env.newClient(); // watches the server's lease count from its own connection
    await fill(flo, 'backlog', 200);

    let active = 0;
    let maxActive = 0;
    let maxLeased = 0n;
    const seen = new Map<bigint, number>();
    const work = async (m: QueueMessage): Promise<QueueMessage> => {
      active++;
      maxActive = Math.max(maxActive, active);
      seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
      const s = await firstValueFrom(observer.queue.stats('backlog'));
      if (s.leased > maxLeased) maxLeased = s.leased;
      await tick();
      active--;
      return m;
    };
    const done = await lastValueFrom(
      flo.queue.messages('backlog', { maxInFlight: 5, batch: 10, blockMs: 1000 }).pipe(
        mergeMap((m) => from(work(m)), 5),
        ack(),
        take(200),
        toArray(),
      ),
    );
    expect(done).toHaveLength(200);
    expect(seen.size).toBe(200);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(maxActive).toBe(5);
    expect(maxLeased).toBeLessThanOrEqual(5n);
    expect(maxLeased).toBeGreaterThanOrEqual(1n);
    const s = await firstValueFrom(observer.queue.stats('backlog'));
    // dequeued = 200: no message was delivered twice (no expiry, no hand-back), all acked.
    expect([s.dequeued, s.acked, s.leased, s.ready]).toEqual([200n, 200n, 0n, 0n]);
  });

  it('a nacked message is redelivered to the same stream', async () => {
    env = await startEmbedded();
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('r', 'x'));
    let first = true;
    const deliveries = await lastValueFrom(
      flo.queue.messages('r', { blockMs: 1000 }).pipe(
        mergeMap((m) => {
          const settle = first ? m.lease.nack() : m.lease.ack();
          first = false;
          return settle.pipe(map(() => m.seq));
        }),
        take(2),
        toArray(),
      ),
    );
    expect(deliveries).toEqual([1n, 1n]);
    const s = await firstValueFrom(flo.queue.stats('r'));
    expect([s.dequeued, s.nacked, s.acked]).toEqual([2n, 1n, 1n]);
  });

  it('nack({ toDlq }) → dlq.list shows it → requeue → delivered again', async () => {
    env = await startEmbedded();
    const flo = env.client;
    const seq = await firstValueFrom(flo.queue.enqueue('dl', 'poison'));
    await firstValueFrom(flo.queue.messages('dl', { blockMs: 1000 }).pipe(take(1), nack({ toDlq: true })));
    const dlq = await lastValueFrom(flo.queue.dlq.list('dl').pipe(toArray()));
    expect(dlq.map((e) => [e.seq, text(e.payload)])).toEqual([[seq, 'poison']]);
    await firstValueFrom(flo.queue.dlq.requeue('dl', [seq]));
    const again = await firstValueFrom(flo.queue.messages('dl', { blockMs: 1000 }).pipe(take(1), ack()));
    expect(again.seq).toBe(seq);
    expect(await lastValueFrom(flo.queue.dlq.list('dl').pipe(toArray()))).toEqual([]);
  });

  it('take(1) in the middle of a batch hands the rest back at once (no visibility wait)', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock });
    const flo = env.client;
    await fill(flo, 'mid', 5);
    const first = await firstValueFrom(flo.queue.messages('mid', { batch: 5, blockMs: 1000 }));
    expect(first.seq).toBe(1n);
    // Another consumer gets the other four; no time passes on the server's clock.
    const t0 = clock.now();
    const other = env.newClient();
    const rest = await lastValueFrom(other.queue.dequeue('mid', 10, { blockMs: 1000, timeoutMs: 1000 }).pipe(toArray()));
    expect(rest.map((m) => m.seq)).toEqual([2n, 3n, 4n, 5n]);
    expect(clock.now()).toBe(t0);
    // The first stays leased by its subscriber (it saw it, it settles it).
    expect((await firstValueFrom(other.queue.stats('mid'))).leased).toBe(5n);
    expect((await firstValueFrom(other.queue.stats('mid'))).nacked).toBe(4n);
    await firstValueFrom(first.lease.ack());
  });

  it('dequeue(...).pipe(take(2)) hands the rest of its batch back at once', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock });
    const flo = env.client;
    await fill(flo, 'mid1', 4);
    const firstTwo = await lastValueFrom(flo.queue.dequeue('mid1', 4).pipe(take(2), toArray()));
    expect(firstTwo.map((m) => m.seq)).toEqual([1n, 2n]);
    const other = env.newClient();
    const rest = await lastValueFrom(other.queue.dequeue('mid1', 10, { blockMs: 1000, timeoutMs: 1000 }).pipe(toArray()));
    expect(rest.map((m) => m.seq)).toEqual([3n, 4n]);
  });

  it('late reply: unsubscribing while a long-poll is parked, then enqueue → another consumer gets it promptly', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock, profile: 'flo' });
    const flo = env.client;
    const base = clock.pendingTimers;
    const stop = new Subject<void>();
    const received: QueueMessage[] = [];
    flo.queue.messages('late', { blockMs: 60_000 }).pipe(takeUntil(stop)).subscribe((m) => received.push(m));
    // Wait until the long-poll is parked on the server (its deadline is a timer on the server clock).
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(base));
    stop.next();

    const other = env.newClient();
    const seq = await firstValueFrom(other.queue.enqueue('late', 'wanted'));
    // The abandoned poll leased it; its late reply was nacked back at once. No server time passes.
    const t0 = clock.now();
    // (A finite client deadline: without the hand-back this fails fast instead of hanging.)
    const [m] = await lastValueFrom(other.queue.dequeue('late', 1, { blockMs: 1000, timeoutMs: 1000 }).pipe(toArray()));
    expect(m!.seq).toBe(seq);
    expect(m!.deliveryCount).toBe(2); // the hand-back counted one delivery (`docs/protocol-decisions.md` #5)
    expect(clock.now()).toBe(t0);
    expect(received).toEqual([]);
    const s = await firstValueFrom(other.queue.stats('late'));
    expect([s.dequeued, s.nacked, s.leasesExpired]).toEqual([2n, 1n, 0n]);
  });

  it('late reply of a single dequeue is handed back too', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock });
    const flo = env.client;
    const base = clock.pendingTimers;
    const sub = flo.queue.dequeue('late1', 3, { blockMs: 60_000 }).subscribe();
    await vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(base));
    sub.unsubscribe();
    const other = env.newClient();
    const seq = await firstValueFrom(other.queue.enqueue('late1', 'x'));
    const [m] = await lastValueFrom(other.queue.dequeue('late1', 1, { blockMs: 1000, timeoutMs: 1000 }).pipe(toArray()));
    expect(m!.seq).toBe(seq);
  });

  it('resumes after the connection comes back (server restarted on the same port)', async () => {
    env = await startEmbedded();
    const port = env.server.port;
    // Its own client (not closed with the server).
    const flo = connect(`127.0.0.1:${port}`, { namespace: 'test', reconnect: { minTimeoutMs: 10, maxTimeoutMs: 50 } });
    const got: string[] = [];
    const firstSeen = new Subject<void>();
    const sub = flo.queue
      .messages('resume', { blockMs: 1000 })
      .pipe(mergeMap((m) => m.lease.ack().pipe(map(() => text(m.payload)))))
      .subscribe({
        next: (p) => {
          got.push(p);
          firstSeen.next();
        },
        error: (e: unknown) => firstSeen.error(e),
      });
    const seen = firstValueFrom(firstSeen);
    await firstValueFrom(env.client.queue.enqueue('resume', 'before'));
    await seen;
    await env.close();
    env = await startEmbedded({ port });
    const after = firstValueFrom(firstSeen.pipe(filter(() => got.length === 2)));
    await firstValueFrom(env.client.queue.enqueue('resume', 'after'));
    await after;
    expect(got).toEqual(['before', 'after']);
    sub.unsubscribe();
    await flo.close();
  });
});
