import { describe, expect, it } from 'vitest';
import { encodeWorkflowSignal, fromUtf8, Op, Status, utf8, WorkflowRunStatus } from '../../../src/protocol/index.js';
import { createHarness } from '../actions/harness.js';
import { EXPENSE_ACTIONS, EXPENSE_YAML, expenseApprovedHistory } from './fixtures.js';
import { history, setup, start, status, succeed, worker } from './worker.js';

const NS = 'example';
const INPUT = '{"amount":500,"expense":"Travel"}';
const DAY = 86_400_000;

async function expenseRun() {
  const h = createHarness();
  await setup(h, NS, EXPENSE_YAML, 'expense-approval', EXPENSE_ACTIONS);
  const w = worker(h, NS, EXPENSE_ACTIONS);
  const R = await start(h, NS, 'expense-approval', INPUT);
  await w.drain(() => succeed('{"expense":"Travel","valid":true}'));
  return { h, w, R };
}

const signal = (runId: string, name: string, payload = '{"approved":true,"approver":"manager@corp.com"}') =>
  encodeWorkflowSignal({ runId, signal: name, payload: utf8(payload) });

describe('expense approval workflow (the Go SDK example)', () => {
  it('waits for approval_decision; the signal approves; history event by event', async () => {
    const { h, w, R } = await expenseRun();
    let s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'wait_for_approval', waitSignal: 'approval_decision' });
    expect(s.output).toBeUndefined();
    expect(await history(h, NS, R)).toEqual(expenseApprovedHistory(INPUT).slice(0, 6));

    await h.okCall(Op.WorkflowSignal, NS, signal(R, 'approval_decision'));
    s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'process_expense' });
    await w.drain(() => succeed('{"expense":"Travel","processed":true}'));
    // process-expense receives the workflow input, not the signal payload
    expect(fromUtf8(w.seen[1].payload)).toBe(INPUT);
    s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Completed, currentStep: 'process_expense' });
    expect((await history(h, NS, R)).slice(6)).toEqual(expenseApprovedHistory(INPUT).slice(6));
    // the cleared deadline never fires (docs/protocol-decisions.md #34)
    h.clock.advance(2 * DAY);
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Completed);
  });

  it('the signal times out after 24 h: signal_timeout(flo.Failed), workflow_failed(signal timeout)', async () => {
    const { h, R } = await expenseRun();
    h.clock.advance(DAY - 1);
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Waiting);
    h.clock.advance(1);
    const s = await status(h, NS, R);
    expect(s).toMatchObject({ status: WorkflowRunStatus.Failed, currentStep: 'wait_for_approval' });
    expect(s.waitSignal).toBeUndefined();
    expect((await history(h, NS, R)).slice(-3)).toEqual([
      'waiting_for_signal(approval_decision)',
      'signal_timeout(flo.Failed)',
      'workflow_failed(signal timeout)',
    ]);
  });

  it('a signal that arrives early is found by the wait step and consumed (#32)', async () => {
    const h = createHarness();
    await setup(h, NS, EXPENSE_YAML, 'expense-approval', EXPENSE_ACTIONS);
    const w = worker(h, NS, EXPENSE_ACTIONS);
    const R = await start(h, NS, 'expense-approval', INPUT);
    await h.okCall(Op.WorkflowSignal, NS, signal(R, 'approval_decision'));
    await h.okCall(Op.WorkflowSignal, NS, signal(R, 'unrelated'));
    await w.drain(() => succeed());
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Completed });
    const events = await history(h, NS, R);
    expect(events).toContain('signal_received(approval_decision)');
    expect(events).not.toContain('signal_matched(approval_decision)');
  });

  it('refuses reserved signal names and malformed signals; unknown runs are NOT_FOUND', async () => {
    const { h, R } = await expenseRun();
    expect((await h.call(Op.WorkflowSignal, NS, signal(R, '_action_done:act-1'))).status).toBe(Status.BadRequest);
    expect(await h.call(Op.WorkflowSignal, NS, { key: utf8(R), value: new Uint8Array([5]) })).toMatchObject({
      status: Status.BadRequest,
      text: 'signal type is required',
    });
    expect(await h.call(Op.WorkflowSignal, NS, { key: utf8(R), value: new Uint8Array([9, 0, 65]) })).toMatchObject({
      status: Status.BadRequest,
      text: 'malformed signal',
    });
    expect((await h.call(Op.WorkflowSignal, NS, signal('wfr-none', 'x'))).status).toBe(Status.NotFound);
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Waiting);
  });
});
