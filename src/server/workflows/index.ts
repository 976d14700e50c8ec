/**
 * Workflow opcodes 0x340-0x34A over a `WorkflowEngine` sharing the action store (registered by the
 * actions subsystem, see `../actions/index.ts`).
 */
import {
  Op,
  decodeWorkflowCancel,
  decodeWorkflowCreate,
  decodeWorkflowDisable,
  decodeWorkflowEnable,
  decodeWorkflowGetDefinition,
  decodeWorkflowHistory,
  decodeWorkflowListDefinitions,
  decodeWorkflowListRuns,
  decodeWorkflowSignal,
  decodeWorkflowStart,
  decodeWorkflowStatus,
  encodeWorkflowCreateReply,
  encodeWorkflowGetDefinitionReply,
  encodeWorkflowHistoryReply,
  encodeWorkflowListDefinitionsReply,
  encodeWorkflowListRunsReply,
  encodeWorkflowStartReply,
  encodeWorkflowStatusReply,
  fromUtf8,
  utf8,
  workflowRunStatusName,
} from '../../protocol/index.js';
import { badRequest, conflict, notFound, ok } from '../reply.js';
import type { Handler, RequestContext, ServerEnv } from '../types.js';
import type { ActionStore } from '../actions/store.js';
import type { StreamPort } from '../ports.js';
import { decodeOrBadRequest } from '../actions/util.js';
import { DefinitionError, parseWorkflowDefinition } from './definition.js';
import { isTerminalRun, WorkflowEngine, type WorkflowRun } from './engine.js';
import { WorkflowSchedules } from './schedule.js';
import { WorkflowTriggers } from './trigger.js';

export { WorkflowEngine } from './engine.js';
export { parseWorkflowDefinition, DefinitionError } from './definition.js';

const MAX_SEARCH_BYTES = 256;

function checkNamespace(ctx: RequestContext): void {
  if (ctx.namespace.includes(':') || ctx.namespace.includes('\u0000')) throw badRequest('invalid namespace name');
}

function searchable(run: WorkflowRun): string {
  return [run.id, run.workflow, run.currentStep, fromUtf8(run.input), run.searchAttributes ?? ''].join('\n').toLowerCase();
}

/**
 * Schedules and stream triggers over the engine: `producersChanged` follows a definition's
 * create/replace/disable/enable. Without a stream port there are no triggers.
 */
function createProducers(env: ServerEnv, engine: WorkflowEngine, streams: StreamPort | undefined) {
  const schedules = new WorkflowSchedules(env.clock, {
    activeSchedule(ns, wf) {
      const rec = engine.getDefinition(ns, wf);
      const schedule = rec?.def.schedule;
      return rec && !rec.disabled && schedule && !schedule.paused ? schedule : undefined;
    },
    activeRuns: (ns, wf) => engine.listRuns(ns).filter((r) => r.workflow === wf && !isTerminalRun(r)).length,
    startScheduledRun: (ns, wf, input) => void engine.startRun({ namespace: ns, workflow: wf, version: 'latest', input: utf8(input), firstEvent: 'schedule_started' }),
  });
  const triggers = streams
    ? new WorkflowTriggers(env.clock, streams, {
        trigger(ns, wf) {
          const rec = engine.getDefinition(ns, wf);
          return rec?.def.trigger ? { def: rec.def.trigger, enabled: !rec.disabled } : undefined;
        },
        startTriggeredRun(ns, wf, input, idempotencyKey) {
          if (engine.findByIdempotencyKey(ns, wf, idempotencyKey)) return;
          engine.startRun({ namespace: ns, workflow: wf, version: 'latest', input, idempotencyKey, firstEvent: 'trigger_started' });
        },
      }, env.persistence)
    : undefined;
  return {
    producersChanged(ns: string, wf: string) {
      schedules.update(ns, wf);
      triggers?.update(ns, wf);
    },
    closeProducers() {
      schedules.close();
      triggers?.close();
    },
  };
}

export function createWorkflowHandlers(
  env: ServerEnv,
  store: ActionStore,
  streams?: StreamPort,
): { handlers: Map<number, Handler>; engine: WorkflowEngine; close(): void } {
  const engine = new WorkflowEngine(env, store);
  const h = new Map<number, Handler>();
  const { producersChanged, closeProducers } = createProducers(env, engine, streams);
  engine.onDefinitionLoaded = producersChanged;

  h.set(Op.WorkflowCreate, (ctx) => {
    const { name, definition } = decodeWorkflowCreate(ctx.body);
    if (!name) throw badRequest('workflow name is required as key');
    checkNamespace(ctx);
    if (definition.length === 0) throw badRequest('workflow definition is required');
    let def;
    try {
      def = parseWorkflowDefinition(fromUtf8(definition));
    } catch (e) {
      if (e instanceof DefinitionError) throw badRequest(e.message);
      throw e;
    }
    engine.putDefinition(ctx.namespace, name, definition.slice(), def);
    producersChanged(ctx.namespace, name);
    return ok(encodeWorkflowCreateReply(name));
  });

  h.set(Op.WorkflowGetDefinition, (ctx) => {
    const req = decodeWorkflowGetDefinition(ctx.body);
    const rec = engine.getDefinition(ctx.namespace, req.name);
    if (!rec || (req.version !== undefined && req.version !== rec.version)) throw notFound();
    return ok(encodeWorkflowGetDefinitionReply(rec.text));
  });

  h.set(Op.WorkflowListDefinitions, (ctx) => {
    const req = decodeWorkflowListDefinitions(ctx.body);
    const all = engine.listDefinitions(ctx.namespace).filter((d) => req.cursor === '' || d.name > req.cursor);
    const page = all.slice(0, req.limit);
    const hasMore = all.length > page.length;
    return ok(
      encodeWorkflowListDefinitionsReply({
        definitions: page.map((d) => ({ name: d.name, version: d.version, createdAt: BigInt(d.createdAt) })),
        hasMore,
        ...(hasMore ? { cursor: page[page.length - 1].name } : {}),
      }),
    );
  });

  h.set(Op.WorkflowDisable, (ctx) => {
    const rec = engine.getDefinition(ctx.namespace, decodeWorkflowDisable(ctx.body).name);
    if (!rec) throw notFound('workflow not found');
    engine.definitionWillChange(rec.namespace, rec.name);
    rec.disabled = true;
    producersChanged(ctx.namespace, rec.name);
    return ok();
  });

  h.set(Op.WorkflowEnable, (ctx) => {
    const rec = engine.getDefinition(ctx.namespace, decodeWorkflowEnable(ctx.body).name);
    if (rec) {
      engine.definitionWillChange(rec.namespace, rec.name);
      rec.disabled = false;
      producersChanged(ctx.namespace, rec.name);
    }
    return ok();
  });

  h.set(Op.WorkflowStart, (ctx) => {
    const name = fromUtf8(ctx.body.key);
    if (!name) throw badRequest('workflow name is required as key');
    checkNamespace(ctx);
    const rec = engine.getDefinition(ctx.namespace, name);
    if (!rec) throw notFound('workflow not found');
    if (rec.disabled) throw badRequest('workflow is disabled');
    const req = decodeOrBadRequest(() => decodeWorkflowStart(ctx.body), 'malformed start request');
    if (rec.def.idempotency === 'required' && !req.idempotencyKey) throw badRequest('idempotency key is required for this workflow');
    if (req.idempotencyKey) {
      const existing = engine.findByIdempotencyKey(ctx.namespace, name, req.idempotencyKey);
      if (existing) return ok(encodeWorkflowStartReply(existing.id));
    }
    if (req.runId !== undefined && engine.hasRunId(req.runId)) throw conflict('run id already exists');
    const run = engine.startRun({
      namespace: ctx.namespace,
      workflow: name,
      version: req.version,
      input: req.input,
      ...(req.runId ? { runId: req.runId } : {}),
      ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    });
    return ok(encodeWorkflowStartReply(run.id));
  });

  h.set(Op.WorkflowStatus, (ctx) => {
    const run = engine.getRun(ctx.namespace, decodeWorkflowStatus(ctx.body).runId);
    if (!run) throw notFound();
    return ok(
      encodeWorkflowStatusReply({
        runId: run.id,
        workflow: run.workflow,
        version: run.version,
        status: run.status,
        currentStep: run.currentStep,
        input: run.input,
        createdAt: BigInt(run.createdAt),
        startedAt: BigInt(run.startedAt),
        ...(run.completedAt !== undefined ? { completedAt: BigInt(run.completedAt) } : {}),
        ...(run.waitSignal !== undefined ? { waitSignal: run.waitSignal } : {}),
        ...(run.output !== undefined ? { output: run.output } : {}),
      }),
    );
  });

  h.set(Op.WorkflowSignal, (ctx) => {
    const runId = fromUtf8(ctx.body.key);
    const run = engine.getRun(ctx.namespace, runId);
    if (!run) throw notFound('run not found');
    const req = decodeOrBadRequest(() => decodeWorkflowSignal(ctx.body));
    if (req.signal === '') throw badRequest('signal type is required');
    if (req.signal.startsWith('_')) throw badRequest('signal names starting with "_" are reserved');
    engine.signal(run, req.signal, req.payload.slice());
    return ok();
  });

  h.set(Op.WorkflowCancel, (ctx) => {
    const req = decodeWorkflowCancel(ctx.body);
    const run = engine.getRun(ctx.namespace, req.runId);
    if (!run) throw notFound('run not found');
    engine.cancel(run, req.reason);
    return ok();
  });

  h.set(Op.WorkflowHistory, (ctx) => {
    const req = decodeWorkflowHistory(ctx.body);
    const run = engine.getRun(ctx.namespace, req.runId);
    if (!run) throw notFound('run not found');
    const events = run.history.slice(0, req.limit);
    return ok(
      encodeWorkflowHistoryReply({
        events: events.map((e) => ({ type: e.type, detail: e.detail, timestamp: BigInt(e.timestamp) })),
        hasMore: run.history.length > events.length,
      }),
    );
  });

  h.set(Op.WorkflowListRuns, (ctx) => {
    const req = decodeWorkflowListRuns(ctx.body);
    const status = req.status.toLowerCase();
    const search = new TextDecoder().decode(new TextEncoder().encode(req.search).subarray(0, MAX_SEARCH_BYTES)).toLowerCase();
    let all = engine
      .listRuns(ctx.namespace)
      .filter(
        (r) =>
          (req.workflow === '' || r.workflow === req.workflow) &&
          (status === '' || workflowRunStatusName(r.status) === status) &&
          (search === '' || searchable(r).includes(search)),
      );
    if (req.cursor) {
      const at = all.findIndex((r) => r.id === req.cursor);
      if (at >= 0) all = all.slice(at + 1);
    }
    const page = all.slice(0, req.limit);
    const hasMore = all.length > page.length;
    return ok(
      encodeWorkflowListRunsReply({
        runs: page.map((r) => ({ runId: r.id, workflow: r.workflow, status: workflowRunStatusName(r.status), createdAt: BigInt(r.startedAt) })),
        hasMore,
        ...(hasMore ? { cursor: page[page.length - 1].id } : {}),
      }),
    );
  });

  return {
    handlers: h,
    engine,
    close: () => {
      closeProducers();
      engine.close();
    },
  };
}
