import { describe, expect, it } from 'vitest';
import {
  ActionRunStatus,
  decodeActionAwaitReply,
  decodeActionInvokeReply,
  decodeActionListReply,
  decodeActionListRunsReply,
  decodeActionStatusReply,
  decodeWorkerHeartbeatReply,
  decodeWorkerInfoReply,
  decodeWorkerListReply,
  encodeActionAwait,
  encodeActionComplete,
  encodeActionDelete,
  encodeActionFail,
  encodeActionInvoke,
  encodeActionList,
  encodeActionListRuns,
  encodeActionRegister,
  encodeActionStatus,
  encodeActionTouch,
  encodeWorkerDeregister,
  encodeWorkerDrain,
  encodeWorkerHeartbeat,
  encodeWorkerInfo,
  encodeWorkerList,
  encodeWorkerRegister,
  fromUtf8,
  Op,
  Status,
  toHex,
  utf8,
  WorkerStatus,
} from '../../../src/protocol/index.js';
import { createHarness, type Harness } from './harness.js';

const NS = 'test';

async function register(h: Harness, name: string, opts: { timeoutMs?: number; maxRetries?: number } = {}, ns = NS) {
  await h.okCall(Op.ActionRegister, ns, encodeActionRegister({ name, ...opts }));
}
async function invoke(h: Harness, name: string, input = '{}', extra: Partial<Parameters<typeof encodeActionInvoke>[0]> = {}, ns = NS) {
  return decodeActionInvokeReply(await h.okCall(Op.ActionInvoke, ns, encodeActionInvoke({ name, input: utf8(input), ...extra }))).runId;
}
async function status(h: Harness, runId: string, ns = NS) {
  return decodeActionStatusReply(await h.okCall(Op.ActionStatus, ns, encodeActionStatus({ runId })));
}
function awaitTask(h: Harness, actions: string[], blockMs = 0, workerId = 'w1', signal?: AbortSignal, ns = NS) {
  return h.call(Op.ActionAwait, ns, encodeActionAwait({ workerId, actions, blockMs }), signal).then((r) => {
    expect(r.status).toBe(Status.OK);
    return decodeActionAwaitReply(r.payload);
  });
}

describe('action registry and runs', () => {
  it('register → invoke → await → complete; status carries the output (docs/protocol-decisions.md #25)', async () => {
    const h = createHarness();
    expect(fromUtf8(await h.okCall(Op.ActionRegister, NS, encodeActionRegister({ name: 'resize' })))).toBe('resize');
    const runId = await invoke(h, 'resize', '{"url":"a.png"}');
    expect(runId).toMatch(/^act-[0-9a-f]+$/);
    let s = await status(h, runId);
    expect(s.status).toBe(ActionRunStatus.Pending);
    expect(s.retryCount).toBe(0);
    expect(s.startedAt).toBeUndefined();

    const task = await awaitTask(h, ['resize']);
    expect(task).toMatchObject({ taskId: runId, taskType: 'resize', attempt: 1 });
    expect(task?.caller).toBeUndefined();
    expect(fromUtf8(task!.payload)).toBe('{"url":"a.png"}');
    expect((await status(h, runId)).status).toBe(ActionRunStatus.Running);

    h.clock.advance(500);
    await h.okCall(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w1', action: 'resize', taskId: runId, result: utf8('{"width":128}') }));
    s = await status(h, runId);
    expect(s.status).toBe(ActionRunStatus.Completed);
    expect(fromUtf8(s.output!)).toBe('{"width":128}');
    expect(s.completedAt! - s.startedAt!).toBe(500n);
    expect(s.errorMessage).toBeUndefined();
  });

  it('rejects unknown actions, empty names and unknown runs', async () => {
    const h = createHarness();
    expect(await h.call(Op.ActionInvoke, NS, encodeActionInvoke({ name: 'nope' }))).toMatchObject({ status: Status.NotFound, text: 'action not found' });
    expect((await h.call(Op.ActionRegister, NS, encodeActionRegister({ name: '' }))).status).toBe(Status.BadRequest);
    expect((await h.call(Op.ActionRegister, NS, encodeActionRegister({ name: 'x'.repeat(257) }))).status).toBe(Status.BadRequest);
    expect(await h.call(Op.ActionStatus, NS, encodeActionStatus({ runId: 'act-1' }))).toMatchObject({ status: Status.NotFound, text: 'run not found' });
  });

  it('is namespace scoped', async () => {
    const h = createHarness();
    await register(h, 'a', {}, 'ns1');
    expect((await h.call(Op.ActionInvoke, 'ns2', encodeActionInvoke({ name: 'a' }))).status).toBe(Status.NotFound);
    const id = await invoke(h, 'a', '{}', {}, 'ns1');
    expect((await h.call(Op.ActionStatus, 'ns2', encodeActionStatus({ runId: id }))).status).toBe(Status.NotFound);
    expect(await awaitTask(h, ['a'], 0, 'w', undefined, 'ns2')).toBeNull();
    expect(await awaitTask(h, ['a'], 0, 'w', undefined, 'ns1')).not.toBeNull();
  });

  it('de-duplicates by idempotency key per (namespace, action) (#26)', async () => {
    const h = createHarness();
    await register(h, 'a');
    await register(h, 'b');
    const r1 = await invoke(h, 'a', '{}', { idempotencyKey: 'k' });
    expect(await invoke(h, 'a', '{"other":1}', { idempotencyKey: 'k' })).toBe(r1);
    expect(await invoke(h, 'b', '{}', { idempotencyKey: 'k' })).not.toBe(r1);
    expect(await invoke(h, 'a', '{}', { idempotencyKey: 'k2' })).not.toBe(r1);
    expect(decodeActionListRunsReply(await h.okCall(Op.ActionListRuns, NS, encodeActionListRuns({ action: 'a' })))).toHaveLength(2);
  });

  it('claims priority higher first, then oldest; never before the delay (#26)', async () => {
    const h = createHarness();
    await register(h, 'a');
    const low = await invoke(h, 'a', '1', { priority: 1 });
    h.clock.advance(1);
    const hiOld = await invoke(h, 'a', '2', { priority: 50 });
    h.clock.advance(1);
    const hiNew = await invoke(h, 'a', '3', { priority: 50 });
    const delayed = await invoke(h, 'a', '4', { priority: 255, delayMs: 1000 });
    expect((await awaitTask(h, ['a']))?.taskId).toBe(hiOld);
    expect((await awaitTask(h, ['a']))?.taskId).toBe(hiNew);
    expect((await awaitTask(h, ['a']))?.taskId).toBe(low);
    expect(await awaitTask(h, ['a'])).toBeNull();
    // a parked await gets the delayed run when it becomes due
    const p = awaitTask(h, ['a'], 30_000);
    h.clock.advance(999);
    h.clock.advance(1);
    expect((await p)?.taskId).toBe(delayed);
  });

  it('ACTION_AWAIT parks until a run is invoked, answers empty at its block time, and on abort', async () => {
    const h = createHarness();
    await register(h, 'a');
    const parked = awaitTask(h, ['other', 'a'], 30_000);
    h.clock.advance(10_000);
    const id = await invoke(h, 'a');
    expect((await parked)?.taskId).toBe(id);

    const timedOut = awaitTask(h, ['a'], 5_000);
    h.clock.advance(5_000);
    expect(await timedOut).toBeNull();

    const ac = new AbortController();
    const aborted = awaitTask(h, ['a'], 30_000, 'w1', ac.signal);
    ac.abort();
    expect(await aborted).toBeNull();
    expect(h.store.waiters.count()).toBe(0);

    const noName = await h.call(Op.ActionAwait, NS, encodeActionAwait({ workerId: 'w', actions: [] }));
    expect(noName).toMatchObject({ status: Status.BadRequest, text: 'action name is required' });
  });

  it('absent BlockMS waits the default 30 s', async () => {
    const h = createHarness();
    await register(h, 'a');
    let done = false;
    const p = h.call(Op.ActionAwait, NS, encodeActionAwait({ workerId: 'w', actions: ['a'] })).then((r) => ((done = true), r));
    h.clock.advance(29_999);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    h.clock.advance(1);
    expect((await p).payload.length).toBe(0);
  });

  it('labels restrict which workers may claim', async () => {
    const h = createHarness();
    await register(h, 'a');
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: 'gpu', metadata: '{"gpu":true,"zone":"eu"}' }));
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: 'cpu', metadata: '{"gpu":false}' }));
    const id = await invoke(h, 'a', '{}', { labels: '{"gpu":true}' });
    expect(await awaitTask(h, ['a'], 0, 'cpu')).toBeNull();
    expect(await awaitTask(h, ['a'], 0, 'anon')).toBeNull();
    expect((await awaitTask(h, ['a'], 0, 'gpu'))?.taskId).toBe(id);
    expect((await h.call(Op.ActionInvoke, NS, encodeActionInvoke({ name: 'a', labels: '[1]' }))).status).toBe(Status.BadRequest);
  });

  it('FAIL with retry re-pends after a backoff while attempts remain; max_retries counts deliveries', async () => {
    const h = createHarness();
    await register(h, 'a', { maxRetries: 3 });
    const id = await invoke(h, 'a');
    const fail = () => h.okCall(Op.ActionFail, NS, encodeActionFail({ workerId: 'w1', action: 'a', taskId: id, retry: true, error: 'boom' }));
    expect((await awaitTask(h, ['a']))?.attempt).toBe(1);
    await fail();
    let s = await status(h, id);
    expect(s.status).toBe(ActionRunStatus.Pending);
    expect(s.errorMessage).toBe('boom');
    expect(await awaitTask(h, ['a'])).toBeNull(); // backoff 1 s
    h.clock.advance(1000);
    expect((await awaitTask(h, ['a']))?.attempt).toBe(2);
    await fail();
    h.clock.advance(1999);
    expect(await awaitTask(h, ['a'])).toBeNull(); // backoff 2 s
    h.clock.advance(1);
    expect((await awaitTask(h, ['a']))?.attempt).toBe(3);
    await fail();
    s = await status(h, id);
    expect(s.status).toBe(ActionRunStatus.Failed);
    expect(s.retryCount).toBe(2);
    expect(s.completedAt).toBeDefined();
  });

  it('FAIL without retry is final; late COMPLETE / FAIL answer NOT_FOUND (#28)', async () => {
    const h = createHarness();
    await register(h, 'a');
    const id = await invoke(h, 'a');
    await awaitTask(h, ['a']);
    await h.okCall(Op.ActionFail, NS, encodeActionFail({ workerId: 'w1', action: 'a', taskId: id, error: 'bad input' }));
    expect((await status(h, id)).status).toBe(ActionRunStatus.Failed);
    const late = await h.call(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w1', action: 'a', taskId: id }));
    expect(late).toMatchObject({ status: Status.NotFound, text: 'run not found' });
    expect((await h.call(Op.ActionFail, NS, encodeActionFail({ workerId: 'w1', action: 'a', taskId: id }))).status).toBe(Status.NotFound);
    // a pending run cannot be completed either
    const id2 = await invoke(h, 'a');
    expect((await h.call(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w1', action: 'a', taskId: id2 }))).status).toBe(Status.NotFound);
    // any worker id may complete a running run
    await awaitTask(h, ['a'], 0, 'w1');
    await h.okCall(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w2', action: 'a', taskId: id2, outcome: 'approved' }));
    expect((await status(h, id2)).status).toBe(ActionRunStatus.Completed);
  });

  it('leases: timeout_ms from the claim, TOUCH sets now + extend_ms, expiry re-pends then times out (#27)', async () => {
    const h = createHarness();
    await register(h, 'a', { timeoutMs: 10_000, maxRetries: 2 });
    const id = await invoke(h, 'a');
    await awaitTask(h, ['a']);
    h.clock.advance(8_000);
    await h.okCall(Op.ActionTouch, NS, encodeActionTouch({ workerId: 'w1', action: 'a', taskId: id, extendMs: 5_000 }));
    h.clock.advance(4_999);
    expect((await status(h, id)).status).toBe(ActionRunStatus.Running);
    h.clock.advance(1);
    expect((await status(h, id)).status).toBe(ActionRunStatus.Pending);
    const t = await awaitTask(h, ['a']);
    expect(t?.attempt).toBe(2);
    h.clock.advance(10_000);
    const s = await status(h, id);
    expect(s.status).toBe(ActionRunStatus.TimedOut);
    expect(s.retryCount).toBe(1);
    const touch = await h.call(Op.ActionTouch, NS, encodeActionTouch({ workerId: 'w1', action: 'a', taskId: id }));
    expect(touch).toMatchObject({ status: Status.NotFound, text: 'run not in running state' });
    expect((await h.call(Op.ActionTouch, NS, encodeActionTouch({ workerId: 'w1', action: 'a', taskId: 'act-nope' }))).text).toBe('run not found');
  });

  it('lists actions and runs (newest first, #35); delete keeps runs', async () => {
    const h = createHarness();
    await register(h, 'b');
    await register(h, 'a');
    await register(h, 'a'); // re-register bumps the version
    const list = decodeActionListReply(await h.okCall(Op.ActionList, NS, encodeActionList()));
    expect(list.actions).toEqual([
      { name: 'a', actionType: 0, version: 2, enabled: true },
      { name: 'b', actionType: 0, version: 1, enabled: true },
    ]);
    const r1 = await invoke(h, 'a');
    h.clock.advance(1);
    const r2 = await invoke(h, 'b');
    h.clock.advance(1);
    const r3 = await invoke(h, 'a');
    const runs = decodeActionListRunsReply(await h.okCall(Op.ActionListRuns, NS, encodeActionListRuns()));
    expect(runs.map((r) => r.runId)).toEqual([r3, r2, r1]);
    expect(decodeActionListRunsReply(await h.okCall(Op.ActionListRuns, NS, encodeActionListRuns({ action: 'a', limit: 1 }))).map((r) => r.runId)).toEqual([r3]);
    await h.okCall(Op.ActionDelete, NS, encodeActionDelete({ name: 'a' }));
    await h.okCall(Op.ActionDelete, NS, encodeActionDelete({ name: 'never' }));
    expect((await h.call(Op.ActionInvoke, NS, encodeActionInvoke({ name: 'a' }))).status).toBe(Status.NotFound);
    expect((await status(h, r1)).status).toBe(ActionRunStatus.Pending);
    expect(decodeActionListReply(await h.okCall(Op.ActionList, NS, encodeActionList({ prefix: 'b' }))).actions.map((a) => a.name)).toEqual(['b']);
  });

  it("answers STATUS in the newest server's u32 layout under profile 'flo'", async () => {
    const h = createHarness('flo');
    await register(h, 'a');
    const id = await invoke(h, 'a');
    const payload = await h.okCall(Op.ActionStatus, NS, encodeActionStatus({ runId: id }));
    expect(toHex(payload.subarray(0, 4))).toBe(toHex(new Uint8Array([id.length, 0, 0, 0])));
    expect(decodeActionStatusReply(payload).runId).toBe(id);
  });
});

describe('worker registry (#30)', () => {
  it('register, heartbeat, drain, deregister', async () => {
    const h = createHarness();
    await register(h, 'a');
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: 'w1', maxConcurrency: 5, processes: [{ name: 'a', kind: 0 }], machineId: 'host' }));
    expect(decodeWorkerHeartbeatReply(await h.okCall(Op.WorkerHeartbeat, NS, encodeWorkerHeartbeat({ workerId: 'w1', currentLoad: 2 })))).toBe(WorkerStatus.Active);
    const hb = await h.call(Op.WorkerHeartbeat, NS, encodeWorkerHeartbeat({ workerId: 'nobody' }));
    expect(hb).toMatchObject({ status: Status.NotFound, text: 'worker not found' });

    // a parked await of a worker that gets drained ends empty; later awaits are refused
    const parked = awaitTask(h, ['a'], 30_000, 'w1');
    await h.okCall(Op.WorkerDrain, NS, encodeWorkerDrain({ workerId: 'w1' }));
    expect(await parked).toBeNull();
    expect(decodeWorkerHeartbeatReply(await h.okCall(Op.WorkerHeartbeat, NS, encodeWorkerHeartbeat({ workerId: 'w1' })))).toBe(WorkerStatus.Draining);
    expect(await h.call(Op.ActionAwait, NS, encodeActionAwait({ workerId: 'w1', actions: ['a'], blockMs: 0 }))).toMatchObject({
      status: Status.BadRequest,
      text: 'worker is draining',
    });
    expect((await h.call(Op.WorkerDrain, NS, encodeWorkerDrain({ workerId: 'nobody' }))).status).toBe(Status.NotFound);
    // re-registering clears draining
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: 'w1' }));
    expect(decodeWorkerInfoReply(await h.okCall(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w1' }))).status).toBe(WorkerStatus.Active);
    await h.okCall(Op.WorkerDeregister, NS, encodeWorkerDeregister({ workerId: 'w1' }));
    await h.okCall(Op.WorkerDeregister, NS, encodeWorkerDeregister({ workerId: 'w1' }));
    expect((await h.call(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w1' }))).status).toBe(Status.NotFound);
    // an empty worker id is accepted and ignored
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: '' }));
    expect(decodeWorkerListReply(await h.okCall(Op.WorkerList, NS, encodeWorkerList()))).toEqual([]);
  });

  it('list and info see only the namespace; stats follow settles; silent workers read unhealthy', async () => {
    const h = createHarness();
    await register(h, 'a');
    await h.okCall(Op.WorkerRegister, NS, encodeWorkerRegister({ workerId: 'w1', processes: [{ name: 'a', kind: 0 }], metadata: '{"zone":"eu"}' }));
    await h.okCall(Op.WorkerRegister, 'other', encodeWorkerRegister({ workerId: 'w2' }));
    const id = await invoke(h, 'a');
    await awaitTask(h, ['a'], 0, 'w1');
    let info = decodeWorkerInfoReply(await h.okCall(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w1' })));
    expect(info.currentLoad).toBe(1);
    h.clock.advance(10);
    await h.okCall(Op.ActionComplete, NS, encodeActionComplete({ workerId: 'w1', action: 'a', taskId: id }));
    info = decodeWorkerInfoReply(await h.okCall(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w1' })));
    expect(info).toMatchObject({ currentLoad: 0, tasksCompleted: 1n, tasksFailed: 0n, metadata: '{"zone":"eu"}' });
    expect(info.processes[0]).toMatchObject({ name: 'a', runCount: 1n, lastRunAt: BigInt(h.clock.now()) });
    const list = decodeWorkerListReply(await h.okCall(Op.WorkerList, NS, encodeWorkerList()));
    expect(list.map((w) => w.workerId)).toEqual(['w1']);
    expect((await h.call(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w2' }))).status).toBe(Status.NotFound);
    h.clock.advance(90_001);
    expect(decodeWorkerInfoReply(await h.okCall(Op.WorkerInfo, NS, encodeWorkerInfo({ workerId: 'w1' }))).status).toBe(WorkerStatus.Unhealthy);
  });
});
