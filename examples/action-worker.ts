/**
 * An action worker, the flo-rx way (the Go SDK's `examples/action_worker`): subscribing to
 * `flo.actions.worker(handlers, { concurrency })` registers the actions and the worker, then runs
 * each task's handler (a value, a Promise or an Observable) and completes or fails it. A handler
 * that throws `NonRetryableError` fails its run at once; any other error is retried. Unsubscribing
 * (here: `until`) drains: running tasks finish, then the worker deregisters.
 *
 *   npx tsx examples/action-worker.ts                    # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/action-worker.ts
 *
 * It invokes a few actions directly, waits for their runs to end and prints their outputs.
 */
import { filter, firstValueFrom, ReplaySubject, Subject, take } from 'rxjs';
import { NonRetryableError, type ActionHandlers, type ActionRunStatus, type WorkerEvent } from '../src/client/actions.js';
import { runIfMain, withFlo } from './support.js';

interface Order {
  readonly orderId: string;
  readonly amount: number;
}

/** The example worker's handlers (a subset of the Go example's 19). */
export const handlers: ActionHandlers = {
  'process-order': async (task) => {
    const order = task.data<Order>();
    await new Promise((resolve) => setTimeout(resolve, 10)); // some work
    return { orderId: order.orderId, status: 'done' };
  },
  'validate-payment': (task) => {
    const order = task.data<Order>();
    if (!(order.amount > 0)) throw new NonRetryableError('amount must be positive');
    return { ...order, valid: true };
  },
  'send-notification': (task) => {
    // fails on its first delivery: the run is redelivered (attempt 2) after the server's backoff
    if (task.attempt === 1) throw new Error('smtp unavailable');
    return { sent: true, attempt: task.attempt };
  },
  'health-check': () => ({ healthy: true }),
};

export interface ExampleResult {
  readonly runs: Record<string, ActionRunStatus>;
  readonly events: string[];
}

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  return withFlo({ log }, async (flo) => {
    const stop = new Subject<void>();
    const events = new ReplaySubject<WorkerEvent>();
    const seen: string[] = [];
    // w := client.NewActionWorker(...); w.MustRegisterAction(...); w.Start(ctx)
    flo.actions.worker(handlers, { concurrency: 5, until: stop }).subscribe({
      next: (e) => {
        events.next(e);
        const line =
          e.type === 'task-started'
            ? `task ${e.task.action} ${e.task.taskId} attempt ${e.task.attempt}`
            : e.type === 'task-completed'
              ? `  completed ${e.task.action}: ${new TextDecoder().decode(e.result)}`
              : e.type === 'task-failed'
                ? `  failed ${e.task.action} (${e.retry ? 'will retry' : 'no retry'}): ${(e.error as Error).message ?? String(e.error)}`
                : e.type === 'registered'
                  ? `worker ${e.workerId} registered ${e.actions.length} actions`
                  : e.type;
        if (e.type !== 'heartbeat') {
          seen.push(e.type);
          log(line);
        }
      },
      error: (e: unknown) => events.error(e),
      complete: () => events.complete(),
    });
    await firstValueFrom(events.pipe(filter((e) => e.type === 'registered')));

    const invocations: Array<[string, unknown]> = [
      ['process-order', { orderId: 'ORD-1', amount: 42 }],
      ['validate-payment', { orderId: 'ORD-2', amount: 0 }],
      ['send-notification', { to: 'ops@example.com' }],
      ['health-check', null],
    ];
    const runIds: string[] = [];
    for (const [action, input] of invocations) {
      const runId = await firstValueFrom(flo.actions.invoke(action, input));
      runIds.push(runId);
      log(`invoked ${action} → ${runId}`);
    }
    // every run ends (completed or failed without retry)
    await firstValueFrom(
      events.pipe(
        filter((e) => e.type === 'task-completed' || (e.type === 'task-failed' && !e.retry)),
        take(runIds.length),
        filter((_, i) => i === runIds.length - 1),
      ),
    );
    const runs: Record<string, ActionRunStatus> = {};
    for (const [i, runId] of runIds.entries()) {
      const s = await firstValueFrom(flo.actions.status(runId));
      runs[invocations[i]![0]] = s;
      log(`${invocations[i]![0]}: ${s.status}${s.output ? ` output=${JSON.stringify(s.data())}` : ''}${s.error ? ` error="${s.error}"` : ''} retries=${s.retryCount}`);
    }
    stop.next(); // drain: the worker finishes, deregisters and completes
    await firstValueFrom(events.pipe(filter((e) => e.type === 'deregistered')));
    return { runs, events: seen };
  });
}

runIfMain(import.meta.url, main);
