/**
 * A queue worker, the flo-rx way: enqueue a batch of tasks with priorities (lower first), then lease
 * them with `flo.queue.messages` and run a handler 4 at a time with `settle()`: each task is acked
 * when its handler succeeds and nacked (redelivered at once) when it throws. One task always fails:
 * after 3 deliveries `settle({ toDlqAfter: 3 })` sends it to the dead-letter queue, where the summary
 * finds it.
 *
 *   npx tsx examples/queue-worker.ts                 # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/queue-worker.ts
 *
 * `toDlqAfter` needs the delivery count, which the newest Flo server sends with each message (the
 * embedded server does with `profile: 'flo'`). Against a server that does not send it, the nacks
 * are plain ones and the server itself dead-letters the task after its own limit (5 deliveries).
 */
import { firstValueFrom, lastValueFrom, takeWhile, tap, toArray } from 'rxjs';
import { settle, type SettleResult } from '../src/node.js';
import type { QueueMessage } from '../src/client/queue.js';
import { runIfMain, withFlo } from './support.js';

interface Task {
  readonly id: string;
  readonly work: 'resize' | 'email' | 'report' | 'explode';
}

/** Deliveries of the failing task before `settle` sends it to the DLQ. */
const MAX_DELIVERIES = 3;
/** The server's own dead-letter limit (`docs/protocol-decisions.md` #12), used when delivery counts are not sent. */
const SERVER_MAX_DELIVERIES = 5;

export interface ExampleResult {
  /** Ids of the tasks processed successfully, in completion order. */
  readonly processed: string[];
  /** Failed deliveries (all of the failing task). */
  readonly failures: number;
  /** Ids of the tasks found in the DLQ at the end. */
  readonly deadLettered: string[];
}

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  return withFlo({ log, server: { profile: 'flo' } }, async (flo) => {
    const queue = 'tasks';
    // client.Queue.Enqueue("tasks", payload, &flo.EnqueueOptions{Priority: p, DedupKey: id})
    const tasks: Array<[Task, number]> = [
      [{ id: 'report-1', work: 'report' }, 50],
      [{ id: 'email-1', work: 'email' }, 10],
      [{ id: 'resize-1', work: 'resize' }, 20],
      [{ id: 'boom-1', work: 'explode' }, 20],
      [{ id: 'email-2', work: 'email' }, 10],
      [{ id: 'resize-2', work: 'resize' }, 20],
      [{ id: 'report-2', work: 'report' }, 50],
      [{ id: 'urgent-1', work: 'email' }, 0],
    ];
    for (const [task, priority] of tasks) {
      const seq = await firstValueFrom(flo.queue.enqueue(queue, task, { priority, dedupKey: task.id }));
      log(`enqueued #${seq} ${task.id} (priority ${priority})`);
    }

    // The worker: at most 4 tasks leased and in work at once.
    const handler = async (msg: QueueMessage): Promise<string> => {
      const task = msg.data<Task>();
      if (task.work === 'explode') throw new Error(`cannot ${task.work} (delivery ${msg.deliveryCount ?? '?'})`);
      await new Promise((resolve) => setTimeout(resolve, 5)); // some work
      return task.id;
    };
    const deliveries = new Map<bigint, number>(); // this worker's own count, for servers that send none
    const isDeadLettered = (r: SettleResult<QueueMessage, string>): boolean =>
      r.outcome === 'nacked' &&
      (r.item.deliveryCount !== undefined ? r.item.deliveryCount >= MAX_DELIVERIES : (deliveries.get(r.item.seq) ?? 0) >= SERVER_MAX_DELIVERIES);

    let finished = 0;
    const results = await lastValueFrom(
      flo.queue.messages(queue, { maxInFlight: 4, blockMs: 1000 }).pipe(
        tap((msg) => deliveries.set(msg.seq, (deliveries.get(msg.seq) ?? 0) + 1)),
        settle(handler, { concurrency: 4, toDlqAfter: MAX_DELIVERIES }),
        tap((r) => {
          const id = r.item.data<Task>().id;
          if (r.outcome === 'acked') log(`  ✓ ${id}`);
          else log(`  ✗ ${id}: ${(r.error as Error).message}${isDeadLettered(r) ? ' → DLQ' : ' → retry'}`);
          if (r.outcome === 'acked' || isDeadLettered(r)) finished++;
        }),
        takeWhile(() => finished < tasks.length, true),
        toArray(),
      ),
    );

    // client.Queue.DLQList("tasks", nil)
    const dlq = await lastValueFrom(flo.queue.dlq.list(queue).pipe(toArray()));
    const processed = results.filter((r) => r.outcome === 'acked').map((r) => r.result!);
    const failures = results.filter((r) => r.outcome === 'nacked').length;
    const deadLettered = dlq.map((e) => e.data<Task>().id);
    const stats = await firstValueFrom(flo.queue.stats(queue));
    log(`processed ${processed.length}/${tasks.length}: ${processed.join(', ')}`);
    log(`failed deliveries: ${failures}; in the DLQ: ${deadLettered.join(', ') || 'nothing'}`);
    log(`queue stats: enqueued ${stats.enqueued}, dequeued ${stats.dequeued}, acked ${stats.acked}, nacked ${stats.nacked}, DLQ ${stats.dlqCurrent}`);
    return { processed, failures, deadLettered };
  });
}

runIfMain(import.meta.url, main);
