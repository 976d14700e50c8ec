import { describe, expect, it } from 'vitest';
import {
  decodeActionAwaitReply,
  decodeWorkflowHistoryReply,
  encodeActionAwait,
  encodeActionComplete,
  encodeWorkflowHistory,
  fromUtf8,
  Op,
  WorkflowRunStatus,
} from '../../../src/protocol/index.js';
import { createHarness } from '../actions/harness.js';
import { EXPENSE_ACTIONS, EXPENSE_YAML } from './fixtures.js';
import { setup, start, status } from './worker.js';

const NS = 'example';

describe('dispatch to parked workers', () => {
  it('a parked ACTION_AWAIT is answered by the step START dispatches, with the caller block; COMPLETE resumes the run at once', async () => {
    const h = createHarness();
    await setup(h, NS, EXPENSE_YAML, 'expense-approval', EXPENSE_ACTIONS);
    const parked = h.call(Op.ActionAwait, NS, encodeActionAwait({ workerId: 'W', actions: EXPENSE_ACTIONS, blockMs: 30_000 }));
    const other = h.call(Op.ActionAwait, 'elsewhere', encodeActionAwait({ workerId: 'W', actions: EXPENSE_ACTIONS, blockMs: 30_000 }));
    h.clock.advance(1000);
    const R = await start(h, NS, 'expense-approval', '{"amount":500,"expense":"Travel"}');
    const task = decodeActionAwaitReply((await parked).payload)!;
    expect(task).toMatchObject({ taskType: 'validate-expense', attempt: 1, caller: { runId: R, workflowName: 'expense-approval' } });
    expect(BigInt(h.clock.now())).toBe(task.createdAt);
    await h.okCall(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'W', action: task.taskType, taskId: task.taskId, result: new TextEncoder().encode('{"valid":true}') }));
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'wait_for_approval' });
    // workers of another namespace never see the run's tasks
    h.clock.advance(29_000);
    expect((await other).payload.length).toBe(0);
  });

  it('HISTORY honours a limit and flags the truncation', async () => {
    const h = createHarness();
    await setup(h, NS, EXPENSE_YAML, 'expense-approval', EXPENSE_ACTIONS);
    const R = await start(h, NS, 'expense-approval', '{}');
    const r = decodeWorkflowHistoryReply(await h.okCall(Op.WorkflowHistory, NS, encodeWorkflowHistory({ runId: R, limit: 2 })));
    expect(r.events.map((e) => e.type)).toEqual(['workflow_started', 'step_started']);
    expect(r.hasMore).toBe(true);
    expect(fromUtf8((await h.call(Op.WorkflowHistory, NS, encodeWorkflowHistory({ runId: 'wfr-x' }))).payload)).toBe('run not found');
  });
});
