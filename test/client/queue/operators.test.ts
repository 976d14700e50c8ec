// The lease operators (ack, nack, settle, renewLease) on QueueMessages, over real sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ManualClock } from '../../../src/server.js';
import { ack, renewLease, settle } from '../../../src/operators/index.js';
import type { QueueMessage } from '../../../src/client/queue.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const tick = () => new Promise<void>((r) => setTimeout(r, 1));

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('lease operators on QueueMessages', () => {
  it('ack() of one batch goes out coalesced and removes every message', async () => {
    env = await startEmbedded();
    const flo = env.client;
    for (let i = 0; i < 6; i++) await firstValueFrom(flo.queue.enqueue('a', `m${i}`));
    const acked = await lastValueFrom(flo.queue.dequeue('a', 6).pipe(ack(), toArray()));
    expect(acked.map((m) => m.lease.outcome)).toEqual(Array(6).fill('acked'));
    const s = await firstValueFrom(flo.queue.stats('a'));
    expect([s.acked, s.leased]).toEqual([6n, 0n]);
  });

  it('settle(handler): acks successes, nacks failures; the server dead-letters after 5 failed deliveries', async () => {
    env = await startEmbedded();
    const flo = env.client;
    for (const p of ['ok-1', 'bad', 'ok-2']) await firstValueFrom(flo.queue.enqueue('w', p));
    const results = await lastValueFrom(
      flo.queue.messages('w', { maxInFlight: 2, blockMs: 1000 }).pipe(
        settle(
          (m: QueueMessage) => {
            if (text(m.payload) === 'bad') throw new Error('boom');
            return text(m.payload).toUpperCase();
          },
          { concurrency: 2 },
        ),
        take(7), // 2 successes + 5 failed deliveries of 'bad'
        toArray(),
      ),
    );
    expect(results.filter((r) => r.outcome === 'acked').map((r) => r.result).sort()).toEqual(['OK-1', 'OK-2']);
    expect(results.filter((r) => r.outcome === 'nacked')).toHaveLength(5);
    const dlq = await lastValueFrom(flo.queue.dlq.list('w').pipe(toArray()));
    expect(dlq.map((e) => text(e.payload))).toEqual(['bad']);
  });

  it("settle({ toDlqAfter }) uses the delivery count of the 'flo' profile", async () => {
    env = await startEmbedded({ profile: 'flo' });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('w2', 'bad', { priority: 3 }));
    const results = await lastValueFrom(
      flo.queue.messages('w2', { blockMs: 1000 }).pipe(
        settle(() => Promise.reject(new Error('nope')), { toDlqAfter: 2 }),
        take(2),
        toArray(),
      ),
    );
    expect(results.map((r) => r.item.deliveryCount)).toEqual([1, 2]);
    expect(results.map((r) => r.item.lease.deliveryCount)).toEqual([1, 2]);
    expect(results[0]!.item.priority).toBe(3);
    expect(typeof results[0]!.item.enqueuedAtMs).toBe('bigint');
    const dlq = await lastValueFrom(flo.queue.dlq.list('w2').pipe(toArray()));
    expect(dlq.map((e) => [e.seq, e.deliveryCount])).toEqual([[1n, 2]]);
  });

  it('renewLease() touches a QueueMessage before its visibility timeout runs out', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock });
    const flo = env.client;
    const other = env.newClient();
    const seq = await firstValueFrom(flo.queue.enqueue('slow', 'x'));
    const vts = new VirtualTimeScheduler(VirtualAction, 0);
    const held: QueueMessage[] = [];
    const sub = flo.queue
      .messages('slow', { visibilityTimeoutMs: 1000, blockMs: 1000 })
      .pipe(renewLease({ scheduler: vts }))
      .subscribe((m) => held.push(m));
    while (held.length === 0) await tick();
    clock.advance(900);
    vts.maxFrames = 500; // half the lease: the first touch
    vts.flush();
    await tick(); // the coalesced touch leaves at the end of the tick
    await firstValueFrom(flo.queue.stats('slow')); // same connection: the touch was handled before this
    clock.advance(900); // past the original lease end (1000), before the renewed one (1900)
    const s = await firstValueFrom(other.queue.stats('slow'));
    expect([s.leased, s.leasesExpired]).toEqual([1n, 0n]);
    await firstValueFrom(held[0]!.lease.ack());
    expect(held[0]!.seq).toBe(seq);
    sub.unsubscribe();
  });

  it('without renewLease the same message would have expired (the test above can fail)', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ clock });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('slow', 'x'));
    const [m] = await lastValueFrom(flo.queue.dequeue('slow', 1, { visibilityTimeoutMs: 1000 }).pipe(toArray()));
    clock.advance(1800);
    const s = await firstValueFrom(flo.queue.stats('slow'));
    expect([s.leased, s.leasesExpired]).toEqual([0n, 1n]);
    expect(m!.lease.settled).toBe(false);
  });
});
