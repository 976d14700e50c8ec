// Delayed enqueue and visibility timeouts, on the server's ManualClock: exact, never slept.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ManualClock } from '../../../src/server.js';
import type { FloClient } from '../../../src/node.js';

let env: Embedded;
let flo: FloClient;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock();
  env = await startEmbedded({ clock });
  flo = env.client;
});
afterEach(async () => {
  await env.close();
});

const seqs = async (o: ReturnType<FloClient['queue']['dequeue']>) => (await lastValueFrom(o.pipe(toArray()))).map((m) => m.seq);

describe('flo.queue with a manual clock', () => {
  it('delayMs: not dequeued before the delay, dequeued once it has passed', async () => {
    const delayed = await firstValueFrom(flo.queue.enqueue('d', 'later', { delayMs: 1000 }));
    const now = await firstValueFrom(flo.queue.enqueue('d', 'now'));
    expect(await seqs(flo.queue.dequeue('d', 10))).toEqual([now]);
    clock.advance(999);
    expect(await seqs(flo.queue.dequeue('d', 10))).toEqual([]);
    expect((await firstValueFrom(flo.queue.stats('d'))).ready).toBe(0n);
    clock.advance(1);
    expect(await seqs(flo.queue.dequeue('d', 10))).toEqual([delayed]);
  });

  it('delayMs as a bigint works too, and a parked dequeue is woken when the delay passes', async () => {
    const seq = await firstValueFrom(flo.queue.enqueue('d', 'x', { delayMs: 500n }));
    const waiting = seqs(flo.queue.dequeue('d', 10, { blockMs: 60_000 }));
    await firstValueFrom(flo.queue.stats('d')); // the dequeue was sent before this round trip ended
    clock.advance(500);
    expect(await waiting).toEqual([seq]);
  });

  it('an unsettled message comes back after its visibility timeout; touch pushes that back', async () => {
    const seq = await firstValueFrom(flo.queue.enqueue('v', 'x'));
    const [m] = await lastValueFrom(flo.queue.dequeue('v', 1, { visibilityTimeoutMs: 1000 }).pipe(toArray()));
    expect(m!.lease.leaseMs).toBe(1000);
    clock.advance(900);
    await firstValueFrom(m!.lease.touch()); // lease end = now + 1000 (`docs/protocol-decisions.md` #21)
    clock.advance(900);
    expect(await seqs(flo.queue.dequeue('v', 1))).toEqual([]);
    clock.advance(100);
    expect(await seqs(flo.queue.dequeue('v', 1))).toEqual([seq]);
  });
});
