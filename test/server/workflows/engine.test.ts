import { describe, expect, it } from 'vitest';
import { encodeWorkflowCreate, encodeWorkflowSignal, fromUtf8, Op, utf8, WorkflowRunStatus } from '../../../src/protocol/index.js';
import { backoffDelay } from '../../../src/server/workflows/engine.js';
import { createHarness, type Harness } from '../actions/harness.js';
import { failWith, history, setup, start, status, succeed, worker } from './worker.js';

const NS = 'test';
const create = (h: Harness, name: string, yaml: string) => h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name, definition: yaml }));

describe('engine', () => {
  it('step retry: extra attempts with backoff; step_completed is logged before step_retry (docs/protocol-decisions.md #34)', async () => {
    const h = createHarness();
    const yaml = `kind: Workflow
name: r
version: "1"
start:
  run: "@actions/flaky"
  retry: { maxAttempts: 2, backoff: linear, initialDelayMs: 100 }
  transitions: { success: flo.Completed, failure: Gave_up }
terminals:
  Gave_up: { status: failed }
`;
    await setup(h, NS, yaml, 'r', ['flaky']);
    const w = worker(h, NS, ['flaky']);
    const R = await start(h, NS, 'r', '{}');
    await w.drain(() => failWith('nope'));
    h.clock.advance(99);
    expect(await w.drain(() => failWith('nope'))).toBe(0);
    h.clock.advance(1);
    expect(await w.drain(() => failWith('nope'))).toBe(1);
    h.clock.advance(199);
    expect(await w.drain(() => failWith('nope'))).toBe(0);
    h.clock.advance(1);
    expect(await w.drain(() => failWith('nope'))).toBe(1);
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Failed });
    expect(await history(h, NS, R)).toEqual([
      'workflow_started({})',
      'step_started(start)',
      'awaiting_action(flaky)',
      'action_completed(failure)',
      'step_completed(start)',
      'step_retry(start)',
      'step_started(start)',
      'awaiting_action(flaky)',
      'action_completed(failure)',
      'step_completed(start)',
      'step_retry(start)',
      'step_started(start)',
      'awaiting_action(flaky)',
      'action_completed(failure)',
      'step_completed(start)',
      'workflow_failed(Gave_up)',
    ]);
  });

  it('input mappings, named outcomes and the output mapping', async () => {
    const h = createHarness();
    const yaml = `kind: Workflow
name: m
version: "1"
output: '{"decision": "$.steps.review.outcome", "total": "$.steps.start.output.total", "run": "$.flo.run_id"}'
start:
  run: "@actions/price"
  inputMapping: '{"sku": "$.input.item.sku", "fixed": 3}'
  transitions: { success: review }
steps:
  review:
    run: "@actions/review"
    input_mapping: '{"amount": "$.steps.start.output.total", "missing": "$.input.nope"}'
    transitions: { approved: flo.Completed, rejected: flo.Failed }
`;
    await setup(h, NS, yaml, 'm', ['price', 'review']);
    const w = worker(h, NS, ['price', 'review']);
    const R = await start(h, NS, 'm', '{"item":{"sku":"A-1"}}');
    await w.drain((t) => (t.taskType === 'price' ? succeed('{"total":42}') : succeed('{}', 'approved')));
    expect(w.seen.map((t) => JSON.parse(fromUtf8(t.payload)) as unknown)).toEqual([{ sku: 'A-1', fixed: 3 }, { amount: 42, missing: null }]);
    const s = await status(h, NS, R);
    expect(s.status).toBe(WorkflowRunStatus.Completed);
    expect(JSON.parse(fromUtf8(s.output!))).toEqual({ decision: 'approved', total: 42, run: R });
  });

  it('no transition for an outcome fails the run; a wait without onTimeout times out', async () => {
    const h = createHarness();
    await setup(
      h,
      NS,
      `kind: Workflow
name: n
version: "1"
start:
  run: "@actions/a"
  transitions: { success: wait }
steps:
  wait:
    waitForSignal: { type: go, timeoutMs: 1000 }
    transitions: { success: flo.Completed }
`,
      'n',
      ['a'],
    );
    const w = worker(h, NS, ['a']);
    const R1 = await start(h, NS, 'n', '{}');
    await w.drain(() => succeed('{}', 'weird'));
    expect(await status(h, NS, R1)).toMatchObject({ status: WorkflowRunStatus.Failed });
    expect((await history(h, NS, R1)).at(-1)).toBe('workflow_failed(no transition for outcome)');
    const R2 = await start(h, NS, 'n', '{}');
    await w.drain(() => succeed());
    h.clock.advance(1000);
    expect(await status(h, NS, R2)).toMatchObject({ status: WorkflowRunStatus.TimedOut, currentStep: 'wait' });
    expect((await history(h, NS, R2)).at(-1)).toBe('workflow_timed_out(signal timeout)');
  });

  it('signals are consumed: a second wait for the same name waits again (#32)', async () => {
    const h = createHarness();
    await create(
      h,
      'twice',
      `kind: Workflow
name: twice
version: "1"
start:
  waitForSignal: { type: go }
  transitions: { success: again }
steps:
  again:
    waitForSignal: { type: go }
    transitions: { success: flo.Completed }
`,
    );
    const R = await start(h, NS, 'twice', '{}');
    await h.okCall(Op.WorkflowSignal, NS, encodeWorkflowSignal({ runId: R, signal: 'go' }));
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'again', waitSignal: 'go' });
    await h.okCall(Op.WorkflowSignal, NS, encodeWorkflowSignal({ runId: R, signal: 'go', payload: utf8('{}') }));
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Completed);
  });

  it('polls a pending outcome with delays, then times out', async () => {
    const h = createHarness();
    await setup(
      h,
      NS,
      `kind: Workflow
name: p
version: "1"
start:
  run: "@actions/check"
  poll: { initialDelayMs: 50, maxAttempts: 2, backoff: constant, baseDelayMs: 500 }
  transitions: { success: flo.Completed, timeout: flo.TimedOut }
`,
      'p',
      ['check'],
    );
    const w = worker(h, NS, ['check']);
    const R = await start(h, NS, 'p', '{}');
    await w.drain(() => succeed('{}', 'pending'));
    h.clock.advance(50);
    expect(await w.drain(() => succeed('{}', 'pending'))).toBe(1);
    h.clock.advance(499);
    expect(await w.drain(() => succeed('{}', 'pending'))).toBe(0);
    h.clock.advance(1);
    expect(await w.drain(() => succeed('{}', 'pending'))).toBe(1);
    expect(await status(h, NS, R)).toMatchObject({ status: WorkflowRunStatus.TimedOut });
    const events = await history(h, NS, R);
    expect(events.filter((e) => e === 'poll_scheduled(start)')).toHaveLength(2);
    expect(events.slice(-3)).toEqual(['poll_exhausted(start)', 'step_completed(start)', 'workflow_timed_out(flo.TimedOut)']);
  });

  it('child workflows: the parent parks on the child and resumes with its outcome and output', async () => {
    const h = createHarness();
    await setup(
      h,
      NS,
      `kind: Workflow
name: child
version: "1"
output: $.steps.start.output
start:
  run: "@actions/a"
  transitions: { success: flo.Completed }
`,
      'child',
      ['a'],
    );
    await create(
      h,
      'parent',
      `kind: Workflow
name: parent
version: "1"
output: $.steps.start.output.v
start:
  run: "@workflow/child:2"
  transitions: { success: flo.Completed, failure: flo.Failed }
`,
    );
    const w = worker(h, NS, ['a']);
    const P = await start(h, NS, 'parent', '{"x":1}');
    const ps = await status(h, NS, P);
    expect(ps.status).toBe(WorkflowRunStatus.Waiting);
    const childId = ps.waitSignal!.slice('_child_done:'.length);
    expect((await history(h, NS, childId))[0]).toBe('child_started({"x":1})');
    await w.drain(() => succeed('{"v":7}'));
    expect(await status(h, NS, childId)).toMatchObject({ status: WorkflowRunStatus.Completed });
    const s = await status(h, NS, P);
    expect(s.status).toBe(WorkflowRunStatus.Completed);
    expect(fromUtf8(s.output!)).toBe('7');
    expect(await history(h, NS, P)).toEqual([
      'workflow_started({"x":1})',
      'step_started(start)',
      'awaiting_child(child)',
      'child_completed(success)',
      'step_completed(start)',
      'workflow_completed(flo.Completed)',
    ]);
  });

  it('running runs follow a replaced definition at their next step (#33)', async () => {
    const h = createHarness();
    const v1 = `kind: Workflow
name: d
version: "1"
start:
  run: "@actions/a"
  transitions: { success: next }
steps:
  next:
    run: "@actions/a"
    transitions: { success: flo.Completed }
`;
    await setup(h, NS, v1, 'd', ['a']);
    const w = worker(h, NS, ['a']);
    const R = await start(h, NS, 'd', '{}');
    await create(h, 'd', v1.replace('version: "1"', 'version: "2"').replace('success: flo.Completed', 'success: flo.Failed'));
    await w.drain(() => succeed());
    expect((await status(h, NS, R)).status).toBe(WorkflowRunStatus.Failed);
  });

  it('backoff delays', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay('exponential', 1000, n, 30000))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3].map((n) => backoffDelay('linear', 100, n, 250))).toEqual([100, 200, 250]);
    expect(backoffDelay('constant', 7, 9, 100)).toBe(7);
    expect(backoffDelay('exponential_jitter', 1000, 1, 30000, () => 1)).toBe(1250);
  });
});
