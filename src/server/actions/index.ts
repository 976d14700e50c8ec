/**
 * Actions, workers and (through the shared store) workflows: one subsystem, because the workflow
 * engine dispatches its steps as action runs and resumes when they end.
 *
 * Opcodes 0x300-0x309 (actions and task dispatch), 0x320-0x325 (worker registry) and, from
 * `../workflows/`, 0x340-0x34A.
 */
import {
  ActionRunStatus,
  EMPTY,
  Op,
  decodeActionAwait,
  decodeActionComplete,
  decodeActionDelete,
  decodeActionFail,
  decodeActionInvoke,
  decodeActionList,
  decodeActionListRuns,
  decodeActionRegister,
  decodeActionStatus,
  decodeActionTouch,
  decodeWorkerDeregister,
  decodeWorkerDrain,
  decodeWorkerHeartbeat,
  decodeWorkerInfo,
  decodeWorkerList,
  decodeWorkerRegister,
  encodeActionAwaitReply,
  encodeActionInvokeReply,
  encodeActionListReply,
  encodeActionListRunsReply,
  encodeActionRegisterReply,
  encodeActionStatusReply,
  encodeWorkerHeartbeatReply,
  encodeWorkerInfoReply,
  encodeWorkerListReply,
  utf8,
  WORKER_DEFAULT_BLOCK_MS,
  WorkerStatus,
  type ActionRunSummary,
  type TaskAssignment,
  type WorkerRecord,
} from '../../protocol/index.js';
import { badRequest, notFound, ok } from '../reply.js';
import { checkBlockMs } from '../timers.js';
import type { Handler, RequestContext, ServerEnv, Subsystem } from '../types.js';
import type { ServerPorts } from '../ports.js';
import { createWorkflowHandlers } from '../workflows/index.js';
import { ActionStore, awaitKey, type ActionRun, type WorkerState } from './store.js';
import { decodeOrBadRequest, isPlainObject, tryParseJson } from './util.js';

export { ActionStore } from './store.js';

const MAX_ACTION_NAME = 256;

function assignment(run: ActionRun): TaskAssignment {
  return {
    taskId: run.id,
    taskType: run.action,
    createdAt: BigInt(run.createdAt),
    attempt: run.attempt,
    payload: run.input,
    ...(run.caller ? { caller: run.caller } : {}),
  };
}

function workerRecord(store: ActionStore, w: WorkerState): WorkerRecord {
  return {
    workerId: w.id,
    workerType: w.workerType,
    status: store.workerStatus(w),
    tasksCompleted: w.tasksCompleted,
    tasksFailed: w.tasksFailed,
    currentLoad: w.currentLoad,
    maxConcurrency: w.maxConcurrency,
    registeredAt: BigInt(w.registeredAt),
    lastHeartbeat: BigInt(w.lastHeartbeat),
    processes: [...w.processes.values()].map((p) => ({
      name: p.name,
      kind: p.kind,
      runCount: p.runCount,
      failCount: p.failCount,
      lastRunAt: BigInt(p.lastRunAt),
    })),
    ...(w.metadata !== undefined ? { metadata: w.metadata } : {}),
    ...(w.machineId !== undefined ? { machineId: w.machineId } : {}),
  };
}

/** The action/worker handlers over a store (exported for tests and for composing servers). */
export function createActionHandlers(env: ServerEnv, store: ActionStore): Map<number, Handler> {
  const h = new Map<number, Handler>();
  const now = () => env.clock.now();

  h.set(Op.ActionRegister, (ctx) => {
    const req = decodeOrBadRequest(() => decodeActionRegister(ctx.body));
    if (ctx.body.key.length === 0) throw badRequest('action name is required');
    if (ctx.body.key.length > MAX_ACTION_NAME) throw badRequest('action name too long');
    store.registerAction({
      namespace: ctx.namespace,
      name: req.name,
      actionType: req.actionType,
      timeoutMs: req.timeoutMs,
      maxRetries: req.maxRetries,
      ...(req.description !== undefined ? { description: req.description } : {}),
    });
    return ok(encodeActionRegisterReply(req.name));
  });

  h.set(Op.ActionInvoke, (ctx) => {
    const req = decodeOrBadRequest(() => decodeActionInvoke(ctx.body));
    if (!req.name) throw badRequest('action name is required');
    let labels: Record<string, unknown> | undefined;
    if (req.labels !== undefined) {
      const parsed = tryParseJson(req.labels);
      if (!isPlainObject(parsed)) throw badRequest('labels must be a JSON object');
      labels = parsed;
    }
    const delay = req.delayMs > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(req.delayMs);
    const res = store.invoke({
      namespace: ctx.namespace,
      action: req.name,
      input: req.input,
      priority: req.priority,
      delayMs: delay,
      ...(req.idempotencyKey !== undefined ? { idempotencyKey: req.idempotencyKey } : {}),
      ...(labels ? { labels } : {}),
    });
    if (res.kind === 'not_found') throw notFound('action not found');
    return ok(encodeActionInvokeReply({ runId: res.run.id }));
  });

  h.set(Op.ActionStatus, (ctx) => {
    const { runId } = decodeActionStatus(ctx.body);
    const run = store.getRun(ctx.namespace, runId);
    if (!run) throw notFound('run not found');
    return ok(
      encodeActionStatusReply(
        {
          runId: run.id,
          status: run.status,
          createdAt: BigInt(run.createdAt),
          retryCount: Math.max(0, run.attempt - 1),
          ...(run.startedAt !== undefined ? { startedAt: BigInt(run.startedAt) } : {}),
          ...(run.completedAt !== undefined ? { completedAt: BigInt(run.completedAt) } : {}),
          ...(run.status === ActionRunStatus.Completed && run.result ? { output: run.result } : {}),
          ...(run.error !== undefined ? { errorMessage: run.error } : {}),
        },
        env.profile,
      ),
    );
  });

  h.set(Op.ActionList, (ctx) => {
    const req = decodeActionList(ctx.body);
    const all = store.listActions(ctx.namespace).filter((a) => a.name.startsWith(req.prefix));
    const limit = req.limit && req.limit > 0 ? req.limit : all.length;
    const page = all.slice(0, limit);
    const hasMore = all.length > page.length;
    return ok(
      encodeActionListReply({
        actions: page.map((a) => ({ name: a.name, actionType: a.actionType, version: a.version, enabled: a.enabled })),
        hasMore,
        ...(hasMore && page.length > 0 ? { cursor: utf8(page[page.length - 1].name) } : {}),
      }),
    );
  });

  h.set(Op.ActionListRuns, (ctx) => {
    const req = decodeActionListRuns(ctx.body);
    const runs: ActionRunSummary[] = store.listRuns(ctx.namespace, req.action, req.limit === 0 ? 100 : req.limit).map((r) => ({
      runId: r.id,
      action: r.action,
      status: r.status,
      createdAt: BigInt(r.createdAt),
      ...(r.startedAt !== undefined ? { startedAt: BigInt(r.startedAt) } : {}),
      ...(r.completedAt !== undefined ? { completedAt: BigInt(r.completedAt) } : {}),
    }));
    return ok(encodeActionListRunsReply(runs));
  });

  h.set(Op.ActionDelete, (ctx) => {
    store.deleteAction(ctx.namespace, decodeActionDelete(ctx.body).name);
    return ok();
  });

  h.set(Op.ActionAwait, (ctx) => awaitTask(ctx));

  async function awaitTask(ctx: RequestContext) {
    const req = decodeOrBadRequest(() => decodeActionAwait(ctx.body));
    if (req.actions.length === 0 || req.actions[0] === '') throw badRequest('action name is required');
    const draining = () => store.getWorker(ctx.namespace, req.workerId)?.status === WorkerStatus.Draining;
    if (draining()) throw badRequest('worker is draining');
    const blockMs = checkBlockMs(req.blockMs ?? WORKER_DEFAULT_BLOCK_MS);
    const deadline = now() + blockMs;
    for (;;) {
      if (ctx.signal.aborted || draining()) return ok(EMPTY);
      const run = store.claim(ctx.namespace, req.workerId, req.actions);
      if (run) return ok(encodeActionAwaitReply(assignment(run)));
      if (blockMs === 0 || now() >= deadline) return ok(EMPTY);
      await store.waiters.park(awaitKey(ctx.namespace), deadline, ctx.signal, ctx.connectionId);
    }
  }

  h.set(Op.ActionComplete, (ctx) => {
    const req = decodeOrBadRequest(() => decodeActionComplete(ctx.body));
    const res = store.complete(ctx.namespace, req.workerId, req.taskId, req.outcome, req.result);
    if (res !== 'ok') throw notFound('run not found');
    return ok();
  });

  h.set(Op.ActionFail, (ctx) => {
    const req = decodeOrBadRequest(() => decodeActionFail(ctx.body));
    const res = store.fail(ctx.namespace, req.workerId, req.taskId, req.retry, req.error);
    if (res !== 'ok') throw notFound('run not found');
    return ok();
  });

  h.set(Op.ActionTouch, (ctx) => {
    const req = decodeOrBadRequest(() => decodeActionTouch(ctx.body));
    const res = store.touch(ctx.namespace, req.taskId, req.extendMs);
    if (res === 'not_found') throw notFound('run not found');
    if (res === 'not_running') throw notFound('run not in running state');
    return ok();
  });

  // ---- worker registry (`docs/protocol-decisions.md` #30: scoped by namespace) -----------------

  h.set(Op.WorkerRegister, (ctx) => {
    const req = decodeOrBadRequest(() => decodeWorkerRegister(ctx.body));
    if (req.workerId === '') return ok(); // Flo ignores an empty id and still answers OK
    store.registerWorker({
      namespace: ctx.namespace,
      id: req.workerId,
      workerType: req.workerType,
      maxConcurrency: req.maxConcurrency,
      processes: req.processes,
      ...(req.metadata !== undefined ? { metadata: req.metadata } : {}),
      ...(req.machineId !== undefined ? { machineId: req.machineId } : {}),
    });
    return ok();
  });

  h.set(Op.WorkerHeartbeat, (ctx) => {
    const req = decodeWorkerHeartbeat(ctx.body);
    const w = store.getWorker(ctx.namespace, req.workerId);
    if (!w) throw notFound('worker not found');
    store.workerWillChange(ctx.namespace, req.workerId);
    w.lastHeartbeat = now();
    w.currentLoad = req.currentLoad;
    if (w.status !== WorkerStatus.Draining) w.status = WorkerStatus.Active;
    return ok(encodeWorkerHeartbeatReply(w.status));
  });

  h.set(Op.WorkerDeregister, (ctx) => {
    store.deregisterWorker(ctx.namespace, decodeWorkerDeregister(ctx.body).workerId);
    return ok();
  });

  h.set(Op.WorkerDrain, (ctx) => {
    const w = store.getWorker(ctx.namespace, decodeWorkerDrain(ctx.body).workerId);
    if (!w) throw notFound('worker not found');
    store.workerWillChange(ctx.namespace, w.id);
    w.status = WorkerStatus.Draining;
    store.waiters.wake(awaitKey(ctx.namespace)); // parked awaits of that worker end empty
    return ok();
  });

  h.set(Op.WorkerList, (ctx) => {
    const req = decodeWorkerList(ctx.body);
    const all = store.listWorkers(ctx.namespace);
    const limit = req.limit && req.limit > 0 ? req.limit : all.length;
    return ok(encodeWorkerListReply(all.slice(0, limit).map((w) => workerRecord(store, w))));
  });

  h.set(Op.WorkerInfo, (ctx) => {
    const w = store.getWorker(ctx.namespace, decodeWorkerInfo(ctx.body).workerId);
    if (!w) throw notFound('worker not found');
    return ok(encodeWorkerInfoReply(workerRecord(store, w)));
  });

  return h;
}

/** Actions, workers and workflows over one shared store. */
/** `ports.streams` lets workflow stream triggers read their streams; without it triggers never fire. */
export function createActionSubsystem(env: ServerEnv, ports?: Pick<ServerPorts, 'streams'>): Subsystem & { readonly store: ActionStore } {
  const store = new ActionStore(env.clock, env.persistence, env.parking);
  const handlers = createActionHandlers(env, store);
  const workflows = createWorkflowHandlers(env, store, ports?.streams);
  for (const [op, fn] of workflows.handlers) handlers.set(op, fn);
  return {
    handlers,
    store,
    close() {
      workflows.close();
      store.close();
    },
  };
}
