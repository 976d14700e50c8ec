/**
 * Defect 9 over real sockets: items delivered to a `queue.messages()` or `stream.group()`
 * subscriber and not settled (including ones whose `settle()` handler the unsubscribe cut short)
 * are handed back at once when the subscriber walks away, instead of staying leased until their
 * visibility (ack) timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, NEVER, Subject, takeUntil, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { settle } from '../../../src/operators/index.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('hand-back on unsubscribe', () => {
  it('queue.messages(): unsettled messages (handlers cut short) are redelivered at once, not after the visibility timeout', async () => {
    env = await startEmbedded();
    const flo = env.client;
    for (let i = 0; i < 3; i++) await firstValueFrom(flo.queue.enqueue('jobs', { i }));
    const started: bigint[] = [];
    const sub = flo.queue
      .messages('jobs', { batch: 3, visibilityTimeoutMs: 120_000 })
      .pipe(
        settle((m) => {
          started.push(m.seq);
          return NEVER; // a handler still running when the subscriber leaves
        }, { concurrency: 3 }),
      )
      .subscribe();
    await until(() => started.length === 3);
    sub.unsubscribe();
    // Another consumer gets all three well within a block time far below the 120 s visibility timeout.
    const other = env.newClient();
    const again = await firstValueFrom(other.queue.dequeue('jobs', 3, { blockMs: 5_000 }).pipe(toArray()));
    expect(again.map((m) => m.seq).sort()).toEqual([...started].sort());
  });

  it('stream.group(): unsettled records are nacked back when the subscriber leaves', async () => {
    env = await startEmbedded();
    const flo = env.client;
    for (let i = 0; i < 2; i++) await firstValueFrom(flo.stream.append('events', { i }));
    const stop = new Subject<void>();
    const seen: string[] = [];
    flo.stream
      .group('events', 'workers', { consumer: 'c1', batch: 2 })
      .pipe(takeUntil(stop))
      .subscribe((r) => seen.push(String(r.id)));
    await until(() => seen.length === 2);
    stop.next();
    // A second consumer of the group receives both records again (nacked, due at once).
    const other = env.newClient();
    const redelivered = await firstValueFrom(other.stream.groupRead('events', 'workers', 'c2', { count: 2, blockMs: 5_000 }).pipe(toArray()));
    expect(redelivered.map((r) => String(r.id)).sort()).toEqual([...seen].sort());
  });
});
