import { describe, expect, it } from 'vitest';
import {
  ActionRunStatus,
  decodeActionStatusReply,
  decodeWorkflowListRunsReply,
  encodeActionStatus,
  encodeWorkflowListRuns,
  fromUtf8,
  Op,
  WorkflowRunStatus,
} from '../../../src/protocol/index.js';
import { createHarness } from '../actions/harness.js';
import { ORDER_ACTIONS, ORDER_YAML, orderHappyHistory, orderRejectedHistory } from './fixtures.js';
import { failWith, history, setup, start, status, succeed, worker } from './worker.js';

const NS = 'example';
const INPUT = '{"amount":99.99,"customerId":"C-100","orderId":"ORD-1234"}';

async function orderSetup() {
  const h = createHarness();
  await setup(h, NS, ORDER_YAML, 'order-processing', ORDER_ACTIONS);
  return { h, w: worker(h, NS, ORDER_ACTIONS) };
}

describe('order workflow (the Go SDK example)', () => {
  it('happy path: 19 history events, caller block, every action gets the workflow input', async () => {
    const { h, w } = await orderSetup();
    const R = await start(h, NS, 'order-processing', INPUT);
    expect(R).toMatch(/^wfr-[0-9a-f]+$/);
    let s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'start', version: 'latest' });
    expect(s.waitSignal).toMatch(/^_action_done:act-/);

    const results: Record<string, string> = {
      'validate-payment': '{"amount":99.99,"customerId":"C-100","orderId":"ORD-1234","valid":true}',
      'process-payment': '{"charged":true,"transactionId":"TXN-1"}',
      'fulfill-order': '{"fulfilled":true,"orderId":"ORD-1234"}',
      'send-confirmation': '{"channel":"email","orderId":"ORD-1234","sent":true}',
    };
    expect(await w.drain((t) => succeed(results[t.taskType]))).toBe(4);
    expect(w.seen.map((t) => t.taskType)).toEqual(['validate-payment', 'process-payment', 'fulfill-order', 'send-confirmation']);
    for (const t of w.seen) {
      expect(t.caller).toEqual({ runId: R, workflowName: 'order-processing' });
      expect(fromUtf8(t.payload)).toBe(INPUT);
      expect(t.attempt).toBe(1);
    }

    s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'notify' });
    expect(s.completedAt).toBeDefined();
    expect(s.output).toBeUndefined();
    expect(s.waitSignal).toBeUndefined();
    const events = await history(h, NS, R);
    expect(events).toEqual(orderHappyHistory(INPUT));

    // search attributes feed LIST_RUNS search
    const found = decodeWorkflowListRunsReply(await h.okCall(Op.WorkflowListRuns, NS, encodeWorkflowListRuns({ search: 'c-100' })));
    expect(found.runs.map((r) => [r.runId, r.status])).toEqual([[R, 'completed']]);
    expect(decodeWorkflowListRunsReply(await h.okCall(Op.WorkflowListRuns, NS, encodeWorkflowListRuns({ search: 'order_amount' }))).runs).toHaveLength(1);
  });

  it('rejection: a non-retryable validate-payment failure routes to rejected and completes', async () => {
    const { h, w } = await orderSetup();
    const R = await start(h, NS, 'order-processing', '{"amount":0,"customerId":"C-1","orderId":"ORD-0"}');
    await w.drain((t) => (t.taskType === 'validate-payment' ? failWith('amount must be positive') : succeed()));
    const s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'rejected' });
    expect(await history(h, NS, R)).toEqual(orderRejectedHistory('{"amount":0,"customerId":"C-1","orderId":"ORD-0"}'));
  });

  it('fallback: stripe is retried with backoff, exhausted, then paypal succeeds (docs/protocol-decisions.md #34)', async () => {
    const { h, w } = await orderSetup();
    const R = await start(h, NS, 'order-processing', '{"amount":10,"customerId":"C-2","orderId":"FB-1"}');
    const script = (t: { taskType: string }) => (t.taskType === 'process-payment' ? failWith('card declined') : succeed('{"provider":"fallback"}'));
    await w.drain(script); // validate, stripe attempt 1
    for (const delay of [1000, 2000, 4000]) {
      expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Waiting);
      h.clock.advance(delay - 1);
      expect(await w.drain(script)).toBe(0); // not before the backoff
      h.clock.advance(1);
      expect(await w.drain(script)).toBeGreaterThan(0);
    }
    const s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'notify' });
    expect(w.seen.map((t) => t.taskType)).toEqual([
      'validate-payment',
      'process-payment',
      'process-payment',
      'process-payment',
      'process-payment',
      'process-payment-fallback',
      'fulfill-order',
      'send-confirmation',
    ]);
    const events = await history(h, NS, R);
    const charge = events.slice(events.indexOf('step_started(charge)'), events.indexOf('step_started(fulfill)'));
    expect(charge.filter((e) => e === 'plan_executor_retry(stripe)')).toHaveLength(3);
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
  });

  it('both executors declining route to rejected; the stripe breaker then opens for later runs', async () => {
    const { h, w } = await orderSetup();
    const script = (t: { taskType: string }) => (t.taskType.startsWith('process-payment') ? failWith('declined') : succeed());
    const R = await start(h, NS, 'order-processing', '{"amount":9000,"customerId":"C-3","orderId":"ORD-9"}');
    for (let i = 0; i < 20; i++) {
      await w.drain(script);
      h.clock.advance(5000);
    }
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'rejected' });
    const events = await history(h, NS, R);
    expect(events.filter((e) => e.startsWith('plan_executor_exhausted'))).toEqual(['plan_executor_exhausted(stripe)', 'plan_executor_exhausted(paypal)']);
    expect(w.seen.filter((t) => t.taskType === 'process-payment')).toHaveLength(4);
    expect(w.seen.filter((t) => t.taskType === 'process-payment-fallback')).toHaveLength(3);

    // stripe failed 4 times in a row; one more failure opens its breaker (threshold 5)
    const R2 = await start(h, NS, 'order-processing', '{"amount":9000,"customerId":"C-3","orderId":"ORD-10"}');
    for (let i = 0; i < 20 && (await status(h, NS, R2)).status < WorkflowRunStatus.Completed; i++) {
      await w.drain(script);
      h.clock.advance(1000);
    }
    // its first stripe failure opened the breaker: the retries skip stripe
    expect((await history(h, NS, R2)).filter((e) => e === 'plan_breaker_skip(stripe)')).toHaveLength(1);
    const R3 = await start(h, NS, 'order-processing', '{"amount":1,"customerId":"C-4","orderId":"ORD-11"}');
    await w.drain(succeed.bind(null, '{}', undefined));
    expect(await status(h, NS, R2)).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'rejected' });
    const e3 = await history(h, NS, R3);
    expect(e3).toContain('plan_breaker_skip(stripe)');
    expect(e3).toContain('plan_executor_start(paypal)');
    expect(await status(h, NS, R3)).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'notify' });
  });

  it('fulfill failure waits for review_decision; a signal loops back to fulfill', async () => {
    const { h, w } = await orderSetup();
    const R = await start(h, NS, 'order-processing', INPUT);
    let fulfillAttempts = 0;
    await w.drain((t) => (t.taskType === 'fulfill-order' && fulfillAttempts++ === 0 ? failWith('warehouse down') : succeed()));
    let s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'manual_review', waitSignal: 'review_decision' });
    const { encodeWorkflowSignal, utf8 } = await import('../../../src/protocol/index.js');
    await h.okCall(Op.WorkflowSignal, NS, encodeWorkflowSignal({ runId: R, signal: 'review_decision', payload: utf8('{"ok":true}') }));
    await w.drain(() => succeed());
    s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'notify' });
    const events = await history(h, NS, R);
    const i = events.indexOf('signal_received(review_decision)');
    expect(events.slice(i, i + 6)).toEqual([
      'signal_received(review_decision)',
      'signal_matched(review_decision)',
      'waiting_for_signal(review_decision)',
      'step_completed(manual_review)',
      'step_started(fulfill)',
      'awaiting_action(fulfill-order)',
    ]);
  });

  it('actions never registered: everything happens within the first advance', async () => {
    const h = createHarness();
    const { encodeWorkflowCreate } = await import('../../../src/protocol/index.js');
    await h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'order-processing', definition: ORDER_YAML }));
    const R = await start(h, NS, 'order-processing', INPUT);
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Failed, currentStep: 'rejected' });
    expect(await history(h, NS, R)).toEqual([
      `workflow_started(${INPUT})`,
      'step_started(start)',
      'action_not_found(validate-payment)',
      'step_completed(start)',
      'step_started(rejected)',
      'action_not_found(send-rejection)',
      'step_completed(rejected)',
      'workflow_failed(flo.Failed)',
    ]);
  });

  it('cancel while parked on an action: applied before the reply, the pending action run is cancelled (#31)', async () => {
    const { h, w } = await orderSetup();
    const R = await start(h, NS, 'order-processing', INPUT);
    const actionRunId = (await status(h, NS, R)).waitSignal!.slice('_action_done:'.length);
    const { encodeWorkflowCancel, encodeWorkflowSignal, utf8 } = await import('../../../src/protocol/index.js');
    await h.okCall(Op.WorkflowCancel, NS, encodeWorkflowCancel({ runId: R }));
    const s = await status(h, NS, R);
    expect(s.status).toBe(WorkflowRunStatus.Cancelled);
    expect(s.completedAt).toBeDefined();
    expect((await history(h, NS, R)).at(-1)).toBe('workflow_cancelled(cancelled by user)');
    const a = decodeActionStatusReply(await h.okCall(Op.ActionStatus, NS, encodeActionStatus({ runId: actionRunId })));
    expect(a.status).toBe(ActionRunStatus.Cancelled);
    expect(await w.drain(() => succeed())).toBe(0);
    // terminal: cancel is a no-op, signals are accepted and change nothing (#32)
    await h.okCall(Op.WorkflowCancel, NS, encodeWorkflowCancel({ runId: R, reason: 'again' }));
    await h.okCall(Op.WorkflowSignal, NS, encodeWorkflowSignal({ runId: R, signal: 'review_decision', payload: utf8('{}') }));
    expect((await history(h, NS, R)).at(-1)).toBe('workflow_cancelled(cancelled by user)');
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Cancelled);
    expect((await h.call(Op.WorkflowCancel, NS, encodeWorkflowCancel({ runId: 'wfr-none' }))).status).toBe(2);
  });

  it('a cancelled run ignores a late completion of an action that was already running', async () => {
    const { h } = await orderSetup();
    const R = await start(h, NS, 'order-processing', INPUT);
    const { encodeActionAwait, decodeActionAwaitReply, encodeActionComplete, encodeWorkflowCancel } = await import('../../../src/protocol/index.js');
    const task = decodeActionAwaitReply((await h.call(Op.ActionAwait, NS, encodeActionAwait({ workerId: 'w', actions: ['validate-payment'], blockMs: 0 }))).payload)!;
    await h.okCall(Op.WorkflowCancel, NS, encodeWorkflowCancel({ runId: R, reason: 'customer asked' }));
    await h.okCall(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w', action: task.taskType, taskId: task.taskId }));
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Cancelled);
    expect((await history(h, NS, R)).at(-1)).toBe('workflow_cancelled(customer asked)');
  });
});
