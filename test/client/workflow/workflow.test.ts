import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ManualClock } from '../../../src/server.js';
import { BadRequestError, ConflictError, InvalidArgumentError, NotFoundError } from '../../../src/node.js';
import type { RunStatus } from '../../../src/client/workflow.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { EXPENSE_YAML, ORDER_YAML, expenseApprovedHistory, orderHappyHistory, orderRejectedHistory } from '../../server/workflows/fixtures.js';
import { eventually, record, type Recorded } from '../action-worker/fixtures.js';
import { expenseHandlers, orderHandlers } from './handlers.js';

const DAY = 86_400_000;
const INPUT = { amount: 99.99, customerId: 'C-100', orderId: 'ORD-1234' };
const INPUT_TEXT = '{"amount":99.99,"customerId":"C-100","orderId":"ORD-1234"}';
const EXPENSE = { amount: 500, expense: 'Travel' };

let env: Embedded | undefined;
let worker: Recorded | undefined;
afterEach(async () => {
  worker?.sub.unsubscribe();
  worker = undefined;
  await env?.close();
  env = undefined;
});

async function setup({ withWorker = true } = {}) {
  const clock = new ManualClock();
  env = await startEmbedded({ clock });
  const flo = env.client;
  expect(await firstValueFrom(flo.workflow.sync(ORDER_YAML))).toMatchObject({ name: 'order-processing', version: '1.4.0', action: 'created' });
  expect(await firstValueFrom(flo.workflow.sync(EXPENSE_YAML))).toMatchObject({ name: 'expense-approval', version: '1.0.0', action: 'created' });
  if (withWorker) {
    worker = record(flo.actions.worker({ ...orderHandlers, ...expenseHandlers }, { concurrency: 5 }));
    await worker.next('registered');
  }
  return { clock, flo };
}

const steps = (statuses: RunStatus[]) => statuses.map((s) => `${s.status}@${s.currentStep}${s.waitSignal ? `:${s.waitSignal}` : ''}`);

async function history(flo: Embedded['client'], runId: string): Promise<string[]> {
  return (await firstValueFrom(flo.workflow.history(runId))).map((e) => `${e.type}(${e.detail})`);
}

describe('flo.workflow: definitions', () => {
  it('sync is created, then unchanged, then updated on a version bump; definition, list, disable, enable', async () => {
    const { flo } = await setup({ withWorker: false });
    expect(await firstValueFrom(flo.workflow.sync(ORDER_YAML))).toEqual({
      name: 'order-processing',
      version: '1.4.0',
      description: 'Order pipeline with a payment failover plan',
      action: 'unchanged',
    });
    // an edit without a version bump is not pushed (Sync compares versions)
    expect((await firstValueFrom(flo.workflow.sync(ORDER_YAML.replace('Order pipeline', 'Edited')))).action).toBe('unchanged');
    expect(await firstValueFrom(flo.workflow.definition('order-processing'))).toBe(ORDER_YAML);
    const bumped = ORDER_YAML.replace('version: "1.4.0"', 'version: "1.5.0"');
    expect((await firstValueFrom(flo.workflow.sync(bumped))).action).toBe('updated');
    expect(await firstValueFrom(flo.workflow.definition('order-processing'))).toBe(bumped);
    await expect(firstValueFrom(flo.workflow.definition('order-processing', { version: '1.4.0' }))).rejects.toBeInstanceOf(NotFoundError);
    await expect(firstValueFrom(flo.workflow.definition('nope'))).rejects.toBeInstanceOf(NotFoundError);

    const defs = await firstValueFrom(flo.workflow.listDefinitions());
    expect(defs.map((d) => [d.name, d.version])).toEqual([
      ['expense-approval', '1.0.0'],
      ['order-processing', '1.5.0'],
    ]);
    expect(typeof defs[0]!.createdAt).toBe('number');

    await firstValueFrom(flo.workflow.disable('expense-approval'));
    await expect(firstValueFrom(flo.workflow.start('expense-approval', EXPENSE))).rejects.toBeInstanceOf(BadRequestError);
    await firstValueFrom(flo.workflow.enable('expense-approval'));
    expect(await firstValueFrom(flo.workflow.start('expense-approval', EXPENSE))).toMatch(/^wfr-/);
    await expect(firstValueFrom(flo.workflow.disable('nope'))).rejects.toBeInstanceOf(NotFoundError);

    await expect(firstValueFrom(flo.workflow.sync('kind: Workflow\nsteps: {}\n'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(flo.workflow.create('name: bad\nversion: "1"\nstart: 3\n'))).rejects.toBeInstanceOf(BadRequestError);
    expect(await firstValueFrom(flo.workflow.create(EXPENSE_YAML, { name: 'copy' }))).toBe('copy');
  });
});

describe('order workflow run by a flo-rx action worker', () => {
  it('happy path: watch emits each change and completes; history event by event', async () => {
    const { flo } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('order-processing', INPUT));
    const seen = await lastValueFrom(flo.workflow.watch(runId, { pollMs: 5 }).pipe(toArray()));
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ runId, workflow: 'order-processing', version: 'latest', status: 'completed', currentStep: 'notify', terminal: true });
    expect(last.completedAt).toBeTypeOf('number');
    expect(last.output).toBeUndefined();
    expect(last.inputData()).toEqual(INPUT);
    expect(seen.slice(0, -1).every((s) => !s.terminal)).toBe(true);
    const keys = seen.map((s) => `${steps([s])[0]}/${s.waitingOn?.runId ?? ''}`);
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]); // never the same progress twice in a row
    expect(await history(flo, runId)).toEqual(orderHappyHistory(INPUT_TEXT));
    const tasks = worker!.events.flatMap((e) => (e.type === 'task-completed' ? [e.task] : []));
    expect(tasks.map((t) => t.action)).toEqual(['validate-payment', 'process-payment', 'fulfill-order', 'send-confirmation']);
    for (const t of tasks) {
      expect(t.caller).toEqual({ runId, workflowName: 'order-processing' });
      expect(new TextDecoder().decode(t.input)).toBe(INPUT_TEXT);
    }
    const events = await firstValueFrom(flo.workflow.history(runId));
    expect(events[0]!.timestamp).toBeTypeOf('number');

    const runs = await firstValueFrom(flo.workflow.listRuns('order-processing', { status: 'COMPLETED', limit: 5 }));
    expect(runs).toEqual([{ runId, workflow: 'order-processing', status: 'completed', createdAt: events[0]!.timestamp }]);
    expect(await firstValueFrom(flo.workflow.listRuns('order-processing', { status: 'failed' }))).toEqual([]);
  });

  it('rejection: validate-payment fails without retry, the run routes to rejected and completes', async () => {
    const { flo } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('order-processing', { amount: 0, customerId: 'C-1', orderId: 'ORD-0' }));
    const last = await lastValueFrom(flo.workflow.watch(runId, { pollMs: 5 }));
    expect(last).toMatchObject({ status: 'completed', currentStep: 'rejected' });
    expect(await history(flo, runId)).toEqual(orderRejectedHistory('{"amount":0,"customerId":"C-1","orderId":"ORD-0"}'));
    const failed = await worker!.next('task-failed');
    expect(failed).toMatchObject({ retry: false });
    expect(failed.task.action).toBe('validate-payment');
  });

  it('fallback: stripe fails, is retried after its backoffs, exhausted, then paypal succeeds', async () => {
    const { flo, clock } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('order-processing', { amount: 10, customerId: 'C-2', orderId: 'FB-1' }));
    const watched = lastValueFrom(flo.workflow.watch(runId, { pollMs: 5 }));
    const stripeFailed = (n: number) => worker!.next('task-failed', (e) => e.task.action === 'process-payment', n);
    for (const [n, delay] of [
      [1, 1000],
      [2, 2000],
      [3, 4000],
    ] as const) {
      await stripeFailed(n);
      expect((await firstValueFrom(flo.workflow.status(runId))).status).toBe('waiting');
      clock.advance(delay); // the plan executor's retry backoff (`docs/protocol-decisions.md` #34)
    }
    await stripeFailed(4);
    expect(await watched).toMatchObject({ status: 'completed', currentStep: 'notify' });
    const h = await history(flo, runId);
    expect(h.filter((e) => e === 'plan_executor_retry(stripe)')).toHaveLength(3);
    const charge = h.slice(h.indexOf('step_started(charge)'), h.indexOf('step_started(fulfill)'));
    expect(charge.slice(-8)).toEqual([
      'action_completed(failure)',
      'step_completed(charge)',
      'plan_executor_exhausted(stripe)',
      'step_started(charge)',
      'plan_executor_start(paypal)',
      'awaiting_action(process-payment-fallback)',
      'action_completed(success)',
      'step_completed(charge)',
    ]);
    const fallback = await worker!.next('task-completed', (e) => e.task.action === 'process-payment-fallback');
    expect(JSON.parse(new TextDecoder().decode(fallback.result))).toEqual({ charged: true, provider: 'fallback' });
  });

  it('cancel while parked on an action: cancelled at once, its pending action run too', async () => {
    const { flo } = await setup({ withWorker: false });
    for (const name of Object.keys(orderHandlers)) await firstValueFrom(flo.actions.register(name));
    const runId = await firstValueFrom(flo.workflow.start('order-processing', INPUT, { runId: 'wfr-mine', idempotencyKey: 'order-1' }));
    expect(runId).toBe('wfr-mine');
    expect(await firstValueFrom(flo.workflow.start('order-processing', INPUT, { idempotencyKey: 'order-1' }))).toBe('wfr-mine');
    await expect(firstValueFrom(flo.workflow.start('order-processing', INPUT, { runId: 'wfr-mine' }))).rejects.toBeInstanceOf(ConflictError);
    const s = await firstValueFrom(flo.workflow.status(runId));
    expect(s).toMatchObject({ status: 'waiting', currentStep: 'start', waitingOn: { kind: 'action' } });
    expect(s.waitSignal).toBeUndefined();
    await firstValueFrom(flo.workflow.cancel(runId));
    const after = await firstValueFrom(flo.workflow.status(runId)); // `docs/protocol-decisions.md` #31: applied before the reply
    expect(after).toMatchObject({ status: 'cancelled', terminal: true });
    expect((await firstValueFrom(flo.actions.status(s.waitingOn!.runId))).status).toBe('cancelled');
    expect((await history(flo, runId)).at(-1)).toBe('workflow_cancelled(cancelled by user)');
    // watch of a terminal run: one emission, then complete
    expect(await lastValueFrom(flo.workflow.watch(runId).pipe(toArray()))).toHaveLength(1);
    await firstValueFrom(flo.workflow.cancel(runId, { reason: 'again' })); // no-op
    expect((await history(flo, runId)).at(-1)).toBe('workflow_cancelled(cancelled by user)');
  });
});

describe('expense approval run by a flo-rx action worker', () => {
  it('a signal approves: watch shows the wait, the signal resumes it, history event by event', async () => {
    const { flo } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('expense-approval', EXPENSE));
    const seen: RunStatus[] = [];
    const done = new Promise<void>((resolve, reject) =>
      flo.workflow.watch(runId, { pollMs: 5 }).subscribe({
        next: (s) => {
          seen.push(s);
          if (s.waitSignal === 'approval_decision') {
            firstValueFrom(flo.workflow.signal(runId, 'approval_decision', { approved: true, approver: 'manager@corp.com' })).catch(reject);
          }
        },
        error: reject,
        complete: resolve,
      }),
    );
    await done;
    const waits = seen.filter((s) => s.waitSignal === 'approval_decision');
    expect(waits).toHaveLength(1); // emitted once, not on every poll
    expect(waits[0]).toMatchObject({ status: 'waiting', currentStep: 'wait_for_approval' });
    expect(seen.at(-1)).toMatchObject({ status: 'completed', currentStep: 'process_expense' });
    expect(await history(flo, runId)).toEqual(expenseApprovedHistory('{"amount":500,"expense":"Travel"}'));
    const processed = await worker!.next('task-completed', (e) => e.task.action === 'process-expense');
    expect(processed.task.data()).toEqual(EXPENSE); // the workflow input, not the signal payload
  });

  it('the signal times out after 24 h (ManualClock): the run fails', async () => {
    const { flo, clock } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('expense-approval', EXPENSE));
    await eventually(async () => (await firstValueFrom(flo.workflow.status(runId))).waitSignal === 'approval_decision');
    const watched = lastValueFrom(flo.workflow.watch(runId, { pollMs: 5 }).pipe(toArray()));
    clock.advance(DAY - 1);
    expect((await firstValueFrom(flo.workflow.status(runId))).status).toBe('waiting');
    clock.advance(1);
    const seen = await watched;
    expect(steps(seen)).toEqual(['waiting@wait_for_approval:approval_decision', 'failed@wait_for_approval']);
    expect((await history(flo, runId)).slice(-3)).toEqual([
      'waiting_for_signal(approval_decision)',
      'signal_timeout(flo.Failed)',
      'workflow_failed(signal timeout)',
    ]);
  });

  it('cancel while waiting for the signal; later signals are accepted and change nothing', async () => {
    const { flo } = await setup();
    const runId = await firstValueFrom(flo.workflow.start('expense-approval', EXPENSE));
    await eventually(async () => (await firstValueFrom(flo.workflow.status(runId))).waitSignal === 'approval_decision');
    const watched = lastValueFrom(flo.workflow.watch(runId, { pollMs: 5 }).pipe(toArray()));
    await firstValueFrom(flo.workflow.cancel(runId));
    expect(steps(await watched).at(-1)).toBe('cancelled@wait_for_approval');
    await firstValueFrom(flo.workflow.signal(runId, 'approval_decision', { approved: true }));
    expect((await firstValueFrom(flo.workflow.status(runId))).status).toBe('cancelled');
    expect((await history(flo, runId)).slice(-2)).toEqual(['waiting_for_signal(approval_decision)', 'workflow_cancelled(cancelled by user)']);
  });

  it('unknown runs: status, watch, signal, cancel and history are NotFoundError; reserved signal names BadRequestError', async () => {
    const { flo } = await setup({ withWorker: false });
    for (const call of [
      flo.workflow.status('wfr-none'),
      flo.workflow.watch('wfr-none'),
      flo.workflow.signal('wfr-none', 'x'),
      flo.workflow.cancel('wfr-none'),
      flo.workflow.history('wfr-none'),
      flo.workflow.start('nope', {}),
    ]) {
      await expect(firstValueFrom(call as never)).rejects.toBeInstanceOf(NotFoundError);
    }
    const runId = await firstValueFrom(flo.workflow.start('expense-approval', EXPENSE));
    await expect(firstValueFrom(flo.workflow.signal(runId, '_action_done:x'))).rejects.toBeInstanceOf(BadRequestError);
    await expect(firstValueFrom(flo.workflow.signal(runId, ''))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('named outcomes', () => {
  it('a handler returning actionResult(outcome, value) routes the workflow by that outcome', async () => {
    const { flo } = await setup({ withWorker: false });
    const { actionResult } = await import('../../../src/client/actions.js');
    await firstValueFrom(
      flo.workflow.sync(`kind: Workflow
name: decide
version: "1"
start:
  run: "@actions/decide"
  transitions:
    approved: flo.Completed
    rejected: flo.Failed
`),
    );
    worker = record(flo.actions.worker({ decide: (t) => actionResult(t.data<{ ok: boolean }>().ok ? 'approved' : 'rejected', {}) }));
    await worker.next('registered');
    const yes = await firstValueFrom(flo.workflow.start('decide', { ok: true }));
    const no = await firstValueFrom(flo.workflow.start('decide', { ok: false }));
    expect((await lastValueFrom(flo.workflow.watch(yes, { pollMs: 5 }))).status).toBe('completed');
    expect((await lastValueFrom(flo.workflow.watch(no, { pollMs: 5 }))).status).toBe('failed');
    expect(await history(flo, no)).toContain('action_completed(rejected)');
  });
});
