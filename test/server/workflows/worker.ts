// A scripted fake worker: AWAIT (no wait) → COMPLETE / FAIL as the script says.
import {
  decodeActionAwaitReply,
  decodeWorkflowHistoryReply,
  decodeWorkflowStatusReply,
  encodeActionAwait,
  encodeActionComplete,
  encodeActionFail,
  encodeActionRegister,
  encodeWorkflowCreate,
  encodeWorkflowHistory,
  encodeWorkflowStart,
  encodeWorkflowStatus,
  decodeWorkflowStartReply,
  Op,
  type TaskAssignment,
  utf8,
} from '../../../src/protocol/index.js';
import type { Harness } from '../actions/harness.js';

export type Answer = { complete: { outcome?: string; result?: string } } | { fail: { retry?: boolean; error?: string } } | 'skip';
export type Script = (task: TaskAssignment) => Answer;

export const succeed = (result = '{}', outcome?: string): Answer => ({ complete: { result, ...(outcome ? { outcome } : {}) } });
export const failWith = (error = 'declined', retry = false): Answer => ({ fail: { error, retry } });

export function worker(h: Harness, ns: string, actions: readonly string[], workerId = 'host-1a2b3c4d') {
  const seen: TaskAssignment[] = [];
  return {
    seen,
    /** Takes every claimable task now and answers it; returns how many were handled. */
    async drain(script: Script): Promise<number> {
      let n = 0;
      for (;;) {
        const r = await h.call(Op.ActionAwait, ns, encodeActionAwait({ workerId, actions, blockMs: 0 }));
        const task = decodeActionAwaitReply(r.payload);
        if (!task) return n;
        seen.push(task);
        n++;
        const a = script(task);
        if (a === 'skip') continue;
        if ('complete' in a) {
          await h.okCall(
            Op.ActionComplete,
            ns,
            encodeActionComplete({ workerId, action: task.taskType, taskId: task.taskId, result: utf8(a.complete.result ?? '{}'), ...(a.complete.outcome ? { outcome: a.complete.outcome } : {}) }),
          );
        } else {
          await h.okCall(Op.ActionFail, ns, encodeActionFail({ workerId, action: task.taskType, taskId: task.taskId, retry: a.fail.retry ?? false, error: a.fail.error ?? 'failed' }));
        }
      }
    },
  };
}

export async function setup(h: Harness, ns: string, yaml: string, name: string, actions: readonly string[]) {
  for (const a of actions) await h.okCall(Op.ActionRegister, ns, encodeActionRegister({ name: a }));
  await h.okCall(Op.WorkflowCreate, ns, encodeWorkflowCreate({ name, definition: yaml }));
}

export async function start(h: Harness, ns: string, name: string, input: string, extra: { runId?: string; idempotencyKey?: string } = {}) {
  return decodeWorkflowStartReply(await h.okCall(Op.WorkflowStart, ns, encodeWorkflowStart({ name, input: utf8(input), ...extra })));
}

export async function status(h: Harness, ns: string, runId: string) {
  return decodeWorkflowStatusReply(await h.okCall(Op.WorkflowStatus, ns, encodeWorkflowStatus({ runId })));
}

/** History as `type(detail)` strings. */
export async function history(h: Harness, ns: string, runId: string): Promise<string[]> {
  const r = decodeWorkflowHistoryReply(await h.okCall(Op.WorkflowHistory, ns, encodeWorkflowHistory({ runId })));
  return r.events.map((e) => `${e.type}(${e.detail})`);
}
