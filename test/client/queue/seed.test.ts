// Every queue snippet of the Go SDK guide (the seed), rewritten with flo-rx, against the embedded server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import type { FloClient } from '../../../src/node.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

let env: Embedded;
let flo: FloClient;
beforeEach(async () => {
  env = await startEmbedded();
  flo = env.newClient({ namespace: 'myapp' }); // flo.NewClient(..., flo.WithNamespace("myapp"))
});
afterEach(async () => {
  await env.close();
});

describe('seed guide, Queue snippets', () => {
  it('quick start: Enqueue, Dequeue(10), Ack each', async () => {
    // client.Queue.Enqueue("tasks", []byte(`{"task":"process"}`), nil)
    await firstValueFrom(flo.queue.enqueue('tasks', new TextEncoder().encode('{"task":"process"}')));
    // result, _ := client.Queue.Dequeue("tasks", 10, nil); for each msg: client.Queue.Ack("tasks", []uint64{msg.Seq}, nil)
    const acked = await lastValueFrom(
      flo.queue.dequeue('tasks', 10).pipe(
        mergeMap((msg) => flo.queue.ack('tasks', [msg.seq]).pipe(mergeMap(() => [msg]))),
        toArray(),
      ),
    );
    expect(acked.map((m) => m.data())).toEqual([{ task: 'process' }]);
    const s = await firstValueFrom(flo.queue.stats('tasks'));
    expect([s.acked, s.leased, s.ready]).toEqual([1n, 0n, 0n]);
  });

  it('Enqueue with Priority and DedupKey → seq', async () => {
    // seq, _ := client.Queue.Enqueue("tasks", payload, &flo.EnqueueOptions{Priority: 10, DedupKey: "task-123"})
    const seq = await firstValueFrom(flo.queue.enqueue('tasks', { job: 1 }, { priority: 10, dedupKey: 'task-123' }));
    expect(seq).toBe(1n);
    expect(await firstValueFrom(flo.queue.enqueue('tasks', { job: 1 }, { priority: 10, dedupKey: 'task-123' }))).toBe(seq);
  });

  it('Dequeue with BlockMS 30000, print seq and payload', async () => {
    await firstValueFrom(flo.queue.enqueue('tasks', 'hello'));
    // result, _ := client.Queue.Dequeue("tasks", 10, &flo.DequeueOptions{BlockMS: &blockMS})
    const lines = await lastValueFrom(
      flo.queue.dequeue('tasks', 10, { blockMs: 30_000 }).pipe(
        mergeMap((msg) => [`seq=${msg.seq}: ${text(msg.payload)}`]),
        toArray(),
      ),
    );
    expect(lines).toEqual(['seq=1: hello']);
  });

  it('Ack, Nack ToDLQ, DLQList, DLQRequeue, Peek (no lease), Touch', async () => {
    for (const p of ['a', 'b']) await firstValueFrom(flo.queue.enqueue('tasks', p));
    const [a, b] = await lastValueFrom(flo.queue.dequeue('tasks', 2).pipe(toArray()));
    // client.Queue.Ack("tasks", []uint64{msg.Seq}, nil)
    await firstValueFrom(flo.queue.ack('tasks', [a!.seq]));
    // client.Queue.Nack("tasks", []uint64{msg.Seq}, &flo.NackOptions{ToDLQ: true})
    await firstValueFrom(flo.queue.nack('tasks', [b!.seq], { toDlq: true }));
    // result, _ := client.Queue.DLQList("tasks", nil)
    const dlq = await lastValueFrom(flo.queue.dlq.list('tasks').pipe(toArray()));
    expect(dlq.map((m) => m.seq)).toEqual([b!.seq]);
    // client.Queue.DLQRequeue("tasks", seqs, nil)
    await firstValueFrom(flo.queue.dlq.requeue('tasks', dlq.map((m) => m.seq)));
    // result, _ := client.Queue.Peek("tasks", 10, nil) // No lease
    const peeked = await lastValueFrom(flo.queue.peek('tasks', 10).pipe(toArray()));
    expect(peeked.map((m) => text(m.payload))).toEqual(['b']);
    const [again] = await lastValueFrom(flo.queue.dequeue('tasks', 1).pipe(toArray()));
    expect(again!.seq).toBe(b!.seq);
    // client.Queue.Touch("tasks", []uint64{msg.Seq}, nil) // Extend lease
    await firstValueFrom(flo.queue.touch('tasks', [again!.seq]));
    expect((await firstValueFrom(flo.queue.stats('tasks'))).leased).toBe(1n);
  });
});
