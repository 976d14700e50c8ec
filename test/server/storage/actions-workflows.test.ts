// Actions and workflows across a stop and a start on the same data directory: runs, leases and
// workflow timers come back with their absolute deadlines; what came due meanwhile happens at start.
import { describe, expect, it } from 'vitest';
import { decodeWorkflowListRunsReply, encodeWorkflowCreate, encodeWorkflowListRuns } from '../../../src/protocol/index.js';
import { ActionRunStatus, Op, WorkflowRunStatus, decodeActionStatusReply, encodeActionInvoke, encodeActionStatus, encodeWorkflowDisable, encodeWorkflowSignal, decodeActionInvokeReply } from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { DiskStorage } from '../../../src/server/storage/index.js';
import { createHarness, flush } from '../actions/harness.js';
import { history, setup, start, status, succeed, worker } from '../workflows/worker.js';
import { tempDir } from './fixtures.js';

const NS = 'test';
const YAML = `kind: Workflow
name: n
version: "1"
start:
  run: "@actions/a"
  transitions: { success: wait }
steps:
  wait:
    waitForSignal: { type: go, timeoutMs: 1000 }
    transitions: { success: flo.Completed }
`;

function open(dir: string, clock: ManualClock) {
  const storage = DiskStorage.open({ dir });
  const h = createHarness('go', { clock, persistence: storage });
  storage.restore();
  return {
    h,
    storage,
    async close() {
      h.sub.close?.();
      await flush();
      await storage.close();
    },
  };
}

describe('actions and workflows persist', () => {
  it('a run waiting for a signal keeps its steps, history and timer; the timer fires after the start', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const a = open(dir, clock);
    await setup(a.h, NS, YAML, 'n', ['a']);
    const R1 = await start(a.h, NS, 'n', '{"x":1}');
    const R2 = await start(a.h, NS, 'n', '{"x":2}');
    await worker(a.h, NS, ['a']).drain(() => succeed('{"ok":true}'));
    clock.advance(400);
    const before = { s1: await status(a.h, NS, R1), h1: await history(a.h, NS, R1) };
    expect(before.s1).toMatchObject({ status: WorkflowRunStatus.Waiting, currentStep: 'wait', waitSignal: 'go' });
    await a.close();

    const b = open(dir, new ManualClock(clock.now()));
    expect(await status(b.h, NS, R1)).toEqual(before.s1);
    expect(await history(b.h, NS, R1)).toEqual(before.h1);
    await b.h.okCall(Op.WorkflowSignal, NS, encodeWorkflowSignal({ runId: R1, signal: 'go' }));
    expect((await status(b.h, NS, R1)).status).toBe(WorkflowRunStatus.Completed);
    b.h.clock.advance(599);
    expect((await status(b.h, NS, R2)).status).toBe(WorkflowRunStatus.Waiting);
    b.h.clock.advance(1); // 1000 ms after the wait began, counted across the restart
    expect(await status(b.h, NS, R2)).toMatchObject({ status: WorkflowRunStatus.TimedOut });
    await b.h.okCall(Op.WorkflowDisable, NS, encodeWorkflowDisable({ name: 'n' }));
    await flush();
    await b.close();

    // Down for longer than the timeout: it fires at start. The disabled state was kept.
    const c = open(dir, new ManualClock(clock.now() + 10_000));
    expect((await status(c.h, NS, R1)).status).toBe(WorkflowRunStatus.Completed);
    expect((await status(c.h, NS, R2)).status).toBe(WorkflowRunStatus.TimedOut);
    expect((await c.h.call(Op.WorkflowStart, NS, (await import('../../../src/protocol/index.js')).encodeWorkflowStart({ name: 'n' }))).text).toBe('workflow is disabled');
    await c.close();
  });

  it('a run waiting in a timer that ran out while the server was down times out at start', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const a = open(dir, clock);
    await setup(a.h, NS, YAML, 'n', ['a']);
    const R = await start(a.h, NS, 'n', '{}');
    await worker(a.h, NS, ['a']).drain(() => succeed());
    await a.close();
    const b = open(dir, new ManualClock(clock.now() + 5000));
    b.h.clock.advance(0);
    expect(await status(b.h, NS, R)).toMatchObject({ status: WorkflowRunStatus.TimedOut });
    expect((await history(b.h, NS, R)).at(-1)).toBe('workflow_timed_out(signal timeout)');
    await b.close();
  });

  it('an action run leased to a worker is handed out again once its lease ran out, also across a restart', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const a = open(dir, clock);
    await setup(a.h, NS, YAML, 'n', ['a']);
    const { runId } = decodeActionInvokeReply(await a.h.okCall(Op.ActionInvoke, NS, encodeActionInvoke({ name: 'a', input: new Uint8Array(0) })));
    expect(await worker(a.h, NS, ['a']).drain(() => 'skip')).toBe(1);
    const leased = decodeActionStatusReply(await a.h.okCall(Op.ActionStatus, NS, encodeActionStatus({ runId })));
    expect(leased.status).toBe(ActionRunStatus.Running);
    await a.close();
    const b = open(dir, new ManualClock(clock.now() + 10 * 60_000));
    b.h.clock.advance(0);
    const w = worker(b.h, NS, ['a']);
    expect(await w.drain(() => succeed('{"done":1}'))).toBe(1);
    expect(w.seen[0].taskId).toBe(runId);
    const done = decodeActionStatusReply(await b.h.okCall(Op.ActionStatus, NS, encodeActionStatus({ runId })));
    expect(done.status).toBe(ActionRunStatus.Completed);
    await b.close();
  });

  it('a scheduled workflow keeps firing after a restart (schedules follow the definitions loaded)', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const a = open(dir, clock);
    const yaml = `kind: Workflow\nname: tick\nversion: "1"\nschedule:\n  interval: 1000\n  maxConcurrent: 10\nstart:\n  waitForSignal: { type: go }\n  transitions: { go: flo.Completed }\n`;
    await a.h.okCall(Op.WorkflowCreate, NS, encodeWorkflowCreate({ name: 'tick', definition: yaml }));
    clock.advance(1000);
    const runsBefore = decodeWorkflowListRunsReply(await a.h.okCall(Op.WorkflowListRuns, NS, encodeWorkflowListRuns({}))).runs.length;
    expect(runsBefore).toBe(1);
    await a.close();
    const b = open(dir, new ManualClock(clock.now()));
    b.h.clock.advance(1000);
    const runs = decodeWorkflowListRunsReply(await b.h.okCall(Op.WorkflowListRuns, NS, encodeWorkflowListRuns({}))).runs;
    expect(runs).toHaveLength(2);
    await b.close();
  });
});
