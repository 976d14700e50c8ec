import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { firstValueFrom, type Observable } from 'rxjs';
import type { DlqEntry, QueueEntry, QueueMessage } from '../../../src/index.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';

interface Job {
  readonly task: string;
}

// `queue.messages<Job>('jobs')` gives messages whose `data()` is a `Job` (checked by CI's
// type-check step, and at run time against the embedded server).
describe('typed queue messages', () => {
  let e: Embedded | undefined;
  afterEach(async () => {
    await e?.close();
    e = undefined;
  });

  it('carries the payload type through dequeue, messages, peek and dlq.list', async () => {
    e = await startEmbedded();
    const flo = e.client;
    await firstValueFrom(flo.queue.enqueue('jobs', { task: 'resize' }));
    expectTypeOf(flo.queue.messages<Job>('jobs')).toEqualTypeOf<Observable<QueueMessage<Job>>>();
    expectTypeOf(flo.queue.dlq.list<Job>('jobs')).toEqualTypeOf<Observable<DlqEntry<Job>>>();
    const peeked = await firstValueFrom(flo.queue.peek<Job>('jobs', 1));
    expectTypeOf(peeked).toEqualTypeOf<QueueEntry<Job>>();
    expectTypeOf((await firstValueFrom(flo.queue.peek('jobs', 1))).data()).toBeUnknown();
    const msg = await firstValueFrom(flo.queue.dequeue<Job>('jobs', 1));
    expectTypeOf(msg.data()).toEqualTypeOf<Job>();
    expect(peeked.data().task).toBe('resize');
    expect(msg.data().task).toBe('resize');
    await firstValueFrom(msg.lease.ack());
  });
});
