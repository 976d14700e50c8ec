import { describe, expect, it } from 'vitest';
import {
  decodeActionAwait,
  decodeActionAwaitReply,
  decodeActionComplete,
  decodeActionFail,
  decodeActionTouch,
  decodeWorkerDeregister,
  decodeWorkerDrain,
  decodeWorkerHeartbeat,
  decodeWorkerHeartbeatReply,
  decodeWorkerRegister,
  encodeActionAwait,
  encodeActionAwaitReply,
  encodeActionComplete,
  encodeActionFail,
  encodeActionTouch,
  encodeWorkerDeregister,
  encodeWorkerDrain,
  encodeWorkerHeartbeat,
  encodeWorkerHeartbeatReply,
  encodeWorkerRegister,
  fromUtf8,
  toHex,
  utf8,
} from '../../src/protocol/index.js';
import { checkRequest, reply, vector } from '../vectors.js';


describe('worker registry vectors', () => {
  it('worker_register_defaults', () => {
    const v = vector('worker_register_defaults');
    const req = { workerId: 'worker-1', processes: [{ name: 'process-image', kind: 0 }] };
    const body = checkRequest(v, encodeWorkerRegister(req));
    expect(decodeWorkerRegister(body)).toEqual({ ...req, workerType: 0, maxConcurrency: 10 });
  });

  it('worker_register_action_worker', () => {
    const v = vector('worker_register_action_worker');
    const req = { workerId: 'worker-1', workerType: 0, maxConcurrency: 5, processes: [{ name: 'process-image', kind: 0 }], machineId: 'host-a' };
    expect(decodeWorkerRegister(checkRequest(v, encodeWorkerRegister(req)))).toEqual(req);
  });

  it('worker_register_stream_worker', () => {
    const v = vector('worker_register_stream_worker');
    const req = {
      workerId: 'worker-1',
      workerType: 1,
      maxConcurrency: 10,
      processes: [{ name: 'events/workers', kind: 1 }],
      metadata: '{"streams":["events"],"group":"workers","consumer":"c1"}',
      machineId: 'host-a',
    };
    expect(decodeWorkerRegister(checkRequest(v, encodeWorkerRegister(req)))).toEqual(req);
  });

  it('worker_heartbeat_active / draining', () => {
    for (const [name, load] of [['worker_heartbeat_active', 3], ['worker_heartbeat_draining', 0]] as const) {
      const v = vector(name);
      const body = checkRequest(v, encodeWorkerHeartbeat({ workerId: 'worker-1', currentLoad: load }));
      expect(decodeWorkerHeartbeat(body)).toEqual({ workerId: 'worker-1', currentLoad: load });
      expect(decodeWorkerHeartbeatReply(reply(v))).toBe(v.response.sdk_parsed);
      expect(toHex(encodeWorkerHeartbeatReply(v.response.sdk_parsed as number))).toBe(v.response.payload_hex);
    }
  });

  it('worker_heartbeat_not_found: a status-2 reply carries the message text (docs/protocol-decisions.md #37: not a status byte)', () => {
    const v = vector('worker_heartbeat_not_found');
    checkRequest(v, encodeWorkerHeartbeat({ workerId: 'worker-1' }));
    expect(v.response.status).toBe(2);
    expect(fromUtf8(reply(v))).toBe('worker not found');
  });

  it('worker_deregister / worker_drain', () => {
    expect(decodeWorkerDeregister(checkRequest(vector('worker_deregister'), encodeWorkerDeregister({ workerId: 'worker-1' })))).toEqual({
      workerId: 'worker-1',
    });
    expect(decodeWorkerDrain(checkRequest(vector('worker_drain'), encodeWorkerDrain({ workerId: 'worker-1' })))).toEqual({ workerId: 'worker-1' });
  });
});

describe('task dispatch vectors', () => {
  function parsedTask(payload: Uint8Array) {
    const t = decodeActionAwaitReply(payload);
    if (!t) return null;
    return {
      task_id: t.taskId,
      task_type: t.taskType,
      created_at: Number(t.createdAt),
      attempt: t.attempt,
      caller_run_id: t.caller?.runId ?? '',
      caller_workflow_name: t.caller?.workflowName ?? '',
      payload: fromUtf8(t.payload),
    };
  }

  it('action_await_task_from_workflow', () => {
    const v = vector('action_await_task_from_workflow');
    const body = checkRequest(v, encodeActionAwait({ workerId: 'worker-1', actions: ['validate-payment', 'process-payment'], blockMs: 30000 }));
    expect(decodeActionAwait(body)).toEqual({ workerId: 'worker-1', actions: ['validate-payment', 'process-payment'], blockMs: 30000 });
    expect(parsedTask(reply(v))).toEqual(v.response.sdk_parsed);
    const t = decodeActionAwaitReply(reply(v));
    expect(toHex(encodeActionAwaitReply(t))).toBe(v.response.payload_hex);
  });

  it('action_await_task_direct_timeout', () => {
    const v = vector('action_await_task_direct_timeout');
    const body = checkRequest(v, encodeActionAwait({ workerId: 'worker-1', actions: ['process-image'], blockMs: 5000, timeoutMs: 60000 }));
    expect(decodeActionAwait(body)).toEqual({ workerId: 'worker-1', actions: ['process-image'], blockMs: 5000, timeoutMs: 60000n });
    expect(parsedTask(reply(v))).toEqual(v.response.sdk_parsed);
    expect(decodeActionAwaitReply(reply(v))?.caller).toBeUndefined();
    expect(toHex(encodeActionAwaitReply(decodeActionAwaitReply(reply(v))))).toBe(v.response.payload_hex);
  });

  it('action_await_no_task', () => {
    const v = vector('action_await_no_task');
    checkRequest(v, encodeActionAwait({ workerId: 'worker-1', actions: ['process-image'], blockMs: 30000 }));
    expect(decodeActionAwaitReply(reply(v))).toBeNull();
    expect(toHex(encodeActionAwaitReply(null))).toBe('');
  });

  it('action_complete_default_outcome / named outcome', () => {
    const a = vector('action_complete_default_outcome');
    const ra = { workerId: 'worker-1', action: 'process-image', taskId: 'act-5f3e2d1c', result: utf8('{"width":128}') };
    expect(decodeActionComplete(checkRequest(a, encodeActionComplete(ra)))).toEqual({ ...ra, outcome: 'success' });
    const b = vector('action_complete_named_outcome');
    const rb = { workerId: 'worker-1', action: 'validate-payment', taskId: 'act-5f3e2d1c', outcome: 'rejected', result: utf8('{"ok":false}') };
    expect(decodeActionComplete(checkRequest(b, encodeActionComplete(rb)))).toEqual(rb);
  });

  it('action_fail_retry / no_retry', () => {
    const a = vector('action_fail_retry');
    const ra = { workerId: 'worker-1', action: 'process-image', taskId: 'act-5f3e2d1c', retry: true, error: 's3 timeout' };
    expect(decodeActionFail(checkRequest(a, encodeActionFail(ra)))).toEqual(ra);
    const b = vector('action_fail_no_retry');
    const rb = { workerId: 'worker-1', action: 'process-image', taskId: 'act-5f3e2d1c', error: 'bad input' };
    expect(decodeActionFail(checkRequest(b, encodeActionFail(rb)))).toEqual({ ...rb, retry: false });
  });

  it('action_touch_extend / default', () => {
    const a = vector('action_touch_extend');
    const ra = { workerId: 'worker-1', action: 'process-image', taskId: 'act-5f3e2d1c', extendMs: 60000 };
    expect(decodeActionTouch(checkRequest(a, encodeActionTouch(ra)))).toEqual(ra);
    const b = vector('action_touch_default');
    const rb = { workerId: 'worker-1', action: 'process-image', taskId: 'act-5f3e2d1c' };
    expect(decodeActionTouch(checkRequest(b, encodeActionTouch(rb)))).toEqual({ ...rb, extendMs: 30000 });
  });
});
