import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Op } from '../../src/protocol/index.js';
import { recordingClient, until } from '../support/recording-client.js';

// QueueApi keeps the docs and argument checks; its calls' code (queue-calls.ts) loads at the
// first subscription. The tests run in order: the first one runs before the code ever loaded.
describe('QueueApi: calls loaded on first use', () => {
  it('before the code loaded, argument errors arrive synchronously at subscription, and nothing is sent', async () => {
    const { flo, sent } = recordingClient();
    const errors: unknown[] = [];
    const collect = { error: (e: unknown) => errors.push(e) };
    flo.queue.enqueue('', 'x').subscribe(collect);
    flo.queue.enqueue('q', 'x', { priority: 256 }).subscribe(collect);
    flo.queue.enqueue('q', 'x', { dedupKey: 'k'.repeat(256) }).subscribe(collect);
    flo.queue.dequeue('q', 0).subscribe(collect);
    flo.queue.dequeue('q', 1, { blockMs: -1 }).subscribe(collect);
    flo.queue.messages('q', { visibilityTimeoutMs: 0 }).subscribe(collect);
    flo.queue.ack('q', [-1n]).subscribe(collect);
    flo.queue.nack('', [1n]).subscribe(collect);
    flo.queue.touch('q', [1n], { extendMs: 0 }).subscribe(collect);
    flo.queue.peek('q', 1.5).subscribe(collect);
    flo.queue.stats('').subscribe(collect);
    flo.queue.purge('').subscribe(collect);
    flo.queue.dlq.list('q', { limit: 0 }).subscribe(collect);
    flo.queue.dlq.requeue('q', [2n ** 64n]).subscribe(collect);
    flo.queue.dlq.delete('', [1n]).subscribe(collect);
    flo.queue.dlq.stats('').subscribe(collect);
    expect(errors).toHaveLength(16);
    for (const e of errors) expect(e).toBeInstanceOf(InvalidArgumentError);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
  });

  it('unsubscribing while the code loads sends nothing; once loaded, calls send synchronously', async () => {
    const { flo, sent } = recordingClient();
    flo.queue.stats('q').subscribe().unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    flo.queue.enqueue('q', 'hello').subscribe();
    await until(() => sent.length > 0);
    expect(sent).toEqual([Op.QueueEnqueue]);
    flo.queue.enqueue('q', 'again').subscribe();
    flo.queue.dlq.stats('q').subscribe();
    expect(sent).toEqual([Op.QueueEnqueue, Op.QueueEnqueue, Op.QueueDlqStats]);
    // Loaded: argument errors still arrive at subscription, from the calls' own checks.
    let error: unknown;
    flo.queue.enqueue('', 'x').subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(InvalidArgumentError);
  });
});
