// The client decodes both reply layouts (`docs/protocol-decisions.md` #1): the Go SDK's short entries and the newest
// server's extended ones (profile 'flo'), for dequeue, peek and DLQ list.
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { ManualClock } from '../../../src/server.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe.each(['go', 'flo'] as const)('profile %s', (profile) => {
  it('dequeue, peek and dlq.list entries', async () => {
    const clock = new ManualClock();
    env = await startEmbedded({ profile, clock });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('p', { a: 1 }, { priority: 7 }));
    const [peeked] = await lastValueFrom(flo.queue.peek('p', 5).pipe(toArray()));
    const [msg] = await lastValueFrom(flo.queue.dequeue('p', 5).pipe(toArray()));
    await firstValueFrom(msg!.lease.nack({ toDlq: true }));
    const [dead] = await lastValueFrom(flo.queue.dlq.list('p').pipe(toArray()));
    for (const e of [peeked!, msg!, dead!]) {
      expect(e.seq).toBe(1n);
      expect(e.data()).toEqual({ a: 1 });
      if (profile === 'flo') {
        expect(e.priority).toBe(7);
        expect(e.enqueuedAtMs).toBe(BigInt(clock.now()));
      } else {
        expect(e.priority).toBeUndefined();
        expect(e.deliveryCount).toBeUndefined();
      }
    }
    if (profile === 'flo') {
      expect([peeked!.deliveryCount, msg!.deliveryCount, msg!.lease.deliveryCount, dead!.deliveryCount]).toEqual([0, 1, 1, 1]);
    } else {
      expect(msg!.lease.deliveryCount).toBeUndefined();
    }
  });
});
