/**
 * Workflows, the flo-rx way (the Go SDK's `examples/workflows`): sync two definitions (created the
 * first time, unchanged after), run an action worker for their steps, start an order run and watch
 * it to the end, print its history, then start an expense run that waits for a human decision and
 * approve it with a signal once `watch` shows the wait. Finally list the runs and definitions.
 *
 *   npx tsx examples/workflow.ts                    # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/workflow.ts
 */
import { filter, firstValueFrom, lastValueFrom, ReplaySubject, Subject, tap } from 'rxjs';
import { NonRetryableError, type ActionHandlers, type WorkerEvent } from '../src/client/actions.js';
import type { RunStatus } from '../src/client/workflow.js';
import { runIfMain, withFlo } from './support.js';
import { EXPENSE_WORKFLOW, ORDER_WORKFLOW } from './workflows/definitions.js';

export { EXPENSE_WORKFLOW, ORDER_WORKFLOW };

interface Order {
  readonly orderId: string;
  readonly amount: number;
  readonly customerId: string;
}

const handlers: ActionHandlers = {
  'validate-payment': (t) => {
    const o = t.data<Order>();
    if (!(o.amount > 0)) throw new NonRetryableError('amount must be positive');
    return { ...o, valid: true };
  },
  'process-payment': (t) => ({ charged: true, transactionId: `TXN-${t.data<Order>().orderId}` }),
  'process-payment-fallback': () => ({ charged: true, provider: 'fallback' }),
  'fulfill-order': async (t) => ({ fulfilled: true, orderId: t.data<Order>().orderId }),
  'send-confirmation': (t) => ({ channel: 'email', orderId: t.data<Order>().orderId, sent: true }),
  'send-rejection': (t) => ({ orderId: t.data<Order>().orderId, rejected: true }),
  'validate-expense': (t) => ({ ...t.data<object>(), valid: true }),
  'process-expense': (t) => ({ ...t.data<object>(), processed: true }),
};

export interface ExampleResult {
  readonly order: RunStatus;
  readonly orderHistory: string[];
  readonly expense: RunStatus;
  readonly expenseHistory: string[];
}

const describe = (s: RunStatus) => `${s.status} step=${s.currentStep}${s.waitSignal ? ` waiting for signal ${s.waitSignal}` : s.waitingOn ? ` waiting on ${s.waitingOn.kind} ${s.waitingOn.runId}` : ''}`;

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  return withFlo({ log }, async (flo) => {
    const stop = new Subject<void>();
    const events = new ReplaySubject<WorkerEvent>();
    // client.Workflow.SyncBytes(yaml) → created / updated / unchanged
    for (const yaml of [ORDER_WORKFLOW, EXPENSE_WORKFLOW, ORDER_WORKFLOW]) {
      const r = await firstValueFrom(flo.workflow.sync(yaml));
      log(`${r.name} v${r.version} — ${r.action}`);
    }

    // the action worker for the steps
    flo.actions.worker(handlers, { concurrency: 5, until: stop }).subscribe(events);
    await firstValueFrom(events.pipe(filter((e) => e.type === 'registered')));

    // an order run, watched to the end
    const orderRun = await firstValueFrom(flo.workflow.start('order-processing', { amount: 99.99, customerId: 'C-100', orderId: 'ORD-1234' }));
    log(`started order run ${orderRun}`);
    const order = await lastValueFrom(flo.workflow.watch(orderRun).pipe(tap((s) => log(`  order: ${describe(s)}`))));
    log(`Final: status=${order.status} step=${order.currentStep}`);
    const orderHistory = (await firstValueFrom(flo.workflow.history(orderRun))).map((e) => `[${e.type}] ${e.detail}`);
    for (const line of orderHistory) log(`  ${line}`);

    // an expense run that waits for a human decision: approve it when watch shows the wait
    const expenseRun = await firstValueFrom(flo.workflow.start('expense-approval', { amount: 500, expense: 'Travel' }));
    log(`started expense run ${expenseRun}`);
    const expense = await lastValueFrom(
      flo.workflow.watch(expenseRun).pipe(
        tap((s) => {
          log(`  expense: ${describe(s)}`);
          if (s.waitSignal === 'approval_decision') {
            log('  → signal approval_decision {"approved":true,"approver":"manager@corp.com"}');
            flo.workflow.signal(expenseRun, 'approval_decision', { approved: true, approver: 'manager@corp.com' }).subscribe();
          }
        }),
      ),
    );
    log(`Final: status=${expense.status} step=${expense.currentStep}`);
    const expenseHistory = (await firstValueFrom(flo.workflow.history(expenseRun))).map((e) => `[${e.type}] ${e.detail}`);

    // listing
    for (const r of await firstValueFrom(flo.workflow.listRuns('', { limit: 5 }))) log(`run ${r.runId} ${r.workflow} ${r.status}`);
    for (const d of await firstValueFrom(flo.workflow.listDefinitions())) log(`definition ${d.name} ${d.version}`);

    stop.next();
    await lastValueFrom(events, { defaultValue: undefined });
    return { order, orderHistory, expense, expenseHistory };
  });
}

runIfMain(import.meta.url, main);
