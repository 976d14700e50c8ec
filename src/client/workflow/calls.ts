/**
 * The code of `flo.workflow`'s methods (`WorkflowApi` in `../workflow.ts` holds their docs and
 * loads this module at the first subscription to any of them). Reads: `client/core` (calls,
 * polling), the workflow codecs. Rules: `docs/protocol-decisions.md` #31, #32.
 */
import { concatMap, defer, map, of, type Observable } from 'rxjs';
import { lazyData, toPayload } from '../../codec/payload.js';
import { InvalidArgumentError, ProtocolError } from '../../protocol/errors.js';
import { ClientOp as Op } from '../../protocol/client-opcodes.js';
import {
  decodeWorkflowCreateReply,
  decodeWorkflowGetDefinitionReply,
  decodeWorkflowHistoryReply,
  decodeWorkflowListDefinitionsReply,
  decodeWorkflowListRunsReply,
  decodeWorkflowStartReply,
  decodeWorkflowStatusReply,
  encodeWorkflowCancel,
  encodeWorkflowCreate,
  encodeWorkflowDisable,
  encodeWorkflowEnable,
  encodeWorkflowGetDefinition,
  encodeWorkflowHistory,
  encodeWorkflowListDefinitions,
  encodeWorkflowListRuns,
  encodeWorkflowSignal,
  encodeWorkflowStart,
  encodeWorkflowStatus,
  isTerminalWorkflowStatus,
  scanWorkflowDefinitionHeader,
  workflowRunStatusName,
  workflowSyncAction,
  type WorkflowDefinitionHeader,
  type WorkflowStatusReply,
} from '../../protocol/workflow.js';
import { ignorePayload } from '../core/call.js';
import type { ClientCore, RequestOptions } from '../core/context.js';
import { pollUntilTerminal } from '../core/poll-until-terminal.js';

import type {
  HistoryEvent,
  RunStatus,
  WorkflowDefinitionSummary,
  WorkflowListRunsOptions,
  WorkflowRunSummary,
  WorkflowStartOptions,
  WorkflowSyncResult,
  WorkflowWatchOptions,
} from '../workflow.js';

const ACTION_WAIT = '_action_done:';
const CHILD_WAIT = '_child_done:';

function checkText(what: string, v: string): void {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
}

function scanHeader(yamlText: string): WorkflowDefinitionHeader {
  if (typeof yamlText !== 'string' || yamlText.length === 0) throw new InvalidArgumentError('workflow definition text must be a non-empty string');
  try {
    return scanWorkflowDefinitionHeader(yamlText);
  } catch (e) {
    if (e instanceof ProtocolError) throw new InvalidArgumentError(`invalid workflow definition: ${e.message}`);
    throw e;
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Two statuses that show the same progress (what `watch` does not emit twice). */
function sameProgress(a: RunStatus, b: RunStatus): boolean {
  return (
    a.statusCode === b.statusCode &&
    a.currentStep === b.currentStep &&
    a.waitSignal === b.waitSignal &&
    a.waitingOn?.kind === b.waitingOn?.kind &&
    a.waitingOn?.runId === b.waitingOn?.runId &&
    a.completedAt === b.completedAt &&
    sameBytes(a.output, b.output)
  );
}

/** The bodies of `WorkflowApi`'s methods (documented there), loaded on first use. */
export class WorkflowCalls {
  constructor(protected readonly core: ClientCore) {}

  private toRunStatus_(s: WorkflowStatusReply): RunStatus {
    const wait = s.waitSignal;
    let waitFields: Partial<Pick<RunStatus, 'waitSignal' | 'waitingOn'>> = {};
    if (wait !== undefined) {
      if (wait.startsWith(ACTION_WAIT)) waitFields = { waitingOn: { kind: 'action', runId: wait.slice(ACTION_WAIT.length) } };
      else if (wait.startsWith(CHILD_WAIT)) waitFields = { waitingOn: { kind: 'child', runId: wait.slice(CHILD_WAIT.length) } };
      else waitFields = { waitSignal: wait };
    }
    const out = {
      runId: s.runId,
      workflow: s.workflow,
      version: s.version,
      status: workflowRunStatusName(s.status),
      statusCode: s.status,
      terminal: isTerminalWorkflowStatus(s.status),
      currentStep: s.currentStep,
      input: s.input,
      createdAt: Number(s.createdAt),
      ...(s.startedAt !== undefined ? { startedAt: Number(s.startedAt) } : {}),
      ...(s.completedAt !== undefined ? { completedAt: Number(s.completedAt) } : {}),
      ...waitFields,
      ...(s.output !== undefined ? { output: s.output } : {}),
    } as RunStatus;
    const data = s.output !== undefined ? lazyData(s.output, this.core.codec) : () => undefined;
    Object.defineProperty(out, 'data', { value: data, enumerable: false, configurable: true });
    Object.defineProperty(out, 'inputData', { value: lazyData(s.input, this.core.codec), enumerable: false, configurable: true });
    return out;
  }

  sync(yamlText: string, options: RequestOptions = {}): Observable<WorkflowSyncResult> {
    return defer(() => {
      const header = scanHeader(yamlText);
      return this.core
        .call(this.core.spec(Op.WorkflowGetDefinition, encodeWorkflowGetDefinition({ name: header.name }), options), decodeWorkflowGetDefinitionReply, {
          notFound: 'null',
        })
        .pipe(
          concatMap((stored) => {
            const action = workflowSyncAction(header, stored ?? undefined);
            const result: WorkflowSyncResult = { ...header, action };
            if (action === 'unchanged') return of(result);
            return this.createNamed_(header.name, yamlText, options).pipe(map(() => result));
          }),
        );
    });
  }

  create(yamlText: string, options: RequestOptions & { readonly name?: string } = {}): Observable<string> {
    return defer(() => this.createNamed_(options.name ?? scanHeader(yamlText).name, yamlText, options));
  }

  private createNamed_(name: string, text: string, options: RequestOptions): Observable<string> {
    return this.core.call(this.core.spec(Op.WorkflowCreate, encodeWorkflowCreate({ name, definition: text }), options), decodeWorkflowCreateReply);
  }

  start(name: string, input?: unknown, options: WorkflowStartOptions = {}): Observable<string> {
    return defer(() => {
      checkText('workflow name', name);
      const spec = this.core.spec(
        Op.WorkflowStart,
        encodeWorkflowStart({
          name,
          ...(input !== undefined ? { input: toPayload(input, this.core.codec) } : {}),
          ...(options.version !== undefined ? { version: options.version } : {}),
          ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
          ...(options.runId !== undefined ? { runId: options.runId } : {}),
        }),
        options,
      );
      return this.core.call(spec, decodeWorkflowStartReply);
    });
  }

  status(runId: string, options: RequestOptions = {}): Observable<RunStatus> {
    return defer(() => {
      checkText('run id', runId);
      return this.core
        .call(this.core.spec(Op.WorkflowStatus, encodeWorkflowStatus({ runId }), options), decodeWorkflowStatusReply)
        .pipe(map((s) => this.toRunStatus_(s)));
    });
  }

  watch(runId: string, options: WorkflowWatchOptions = {}): Observable<RunStatus> {
    return pollUntilTerminal(this.core.channel, this.status(runId, options), {
      pollMs: options.pollMs ?? 250,
      same: sameProgress,
      scheduler: options.scheduler,
    });
  }

  signal(runId: string, type: string, data?: unknown, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('run id', runId);
      checkText('signal type', type);
      const payload = data === undefined ? undefined : toPayload(data, this.core.codec);
      return this.core.call(this.core.spec(Op.WorkflowSignal, encodeWorkflowSignal({ runId, signal: type, ...(payload ? { payload } : {}) }), options), ignorePayload);
    });
  }

  cancel(runId: string, options: RequestOptions & { readonly reason?: string } = {}): Observable<void> {
    return defer(() => {
      checkText('run id', runId);
      return this.core.call(
        this.core.spec(Op.WorkflowCancel, encodeWorkflowCancel({ runId, ...(options.reason ? { reason: options.reason } : {}) }), options),
        ignorePayload,
      );
    });
  }

  history(runId: string, options: RequestOptions & { readonly limit?: number } = {}): Observable<HistoryEvent[]> {
    return defer(() => {
      checkText('run id', runId);
      return this.core
        .call(
          this.core.spec(Op.WorkflowHistory, encodeWorkflowHistory({ runId, ...(options.limit !== undefined ? { limit: options.limit } : {}) }), options),
          decodeWorkflowHistoryReply,
        )
        .pipe(map((r) => r.events.map((e) => ({ type: e.type, detail: e.detail, timestamp: Number(e.timestamp) }))));
    });
  }

  listRuns(name?: string, options: WorkflowListRunsOptions = {}): Observable<WorkflowRunSummary[]> {
    return defer(() =>
      this.core
        .call(
          this.core.spec(
            Op.WorkflowListRuns,
            encodeWorkflowListRuns({
              ...(name ? { workflow: name } : {}),
              ...(options.limit !== undefined ? { limit: options.limit } : {}),
              ...(options.status !== undefined ? { status: options.status.toLowerCase() } : {}),
              ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
              ...(options.search !== undefined ? { search: options.search } : {}),
            }),
            options,
          ),
          decodeWorkflowListRunsReply,
        )
        .pipe(map((r) => r.runs.map((run) => ({ runId: run.runId, workflow: run.workflow, status: run.status, createdAt: Number(run.createdAt) })))),
    );
  }

  listDefinitions(options: RequestOptions & { readonly limit?: number; readonly cursor?: string } = {}): Observable<WorkflowDefinitionSummary[]> {
    return defer(() =>
      this.core
        .call(
          this.core.spec(
            Op.WorkflowListDefinitions,
            encodeWorkflowListDefinitions({ ...(options.limit !== undefined ? { limit: options.limit } : {}), ...(options.cursor !== undefined ? { cursor: options.cursor } : {}) }),
            options,
          ),
          decodeWorkflowListDefinitionsReply,
        )
        .pipe(map((r) => r.definitions.map((d) => ({ name: d.name, version: d.version, createdAt: Number(d.createdAt) })))),
    );
  }

  definition(name: string, options: RequestOptions & { readonly version?: string } = {}): Observable<string> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(
        this.core.spec(Op.WorkflowGetDefinition, encodeWorkflowGetDefinition({ name, ...(options.version ? { version: options.version } : {}) }), options),
        decodeWorkflowGetDefinitionReply,
      );
    });
  }

  disable(name: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(this.core.spec(Op.WorkflowDisable, encodeWorkflowDisable({ name }), options), ignorePayload);
    });
  }

  enable(name: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(this.core.spec(Op.WorkflowEnable, encodeWorkflowEnable({ name }), options), ignorePayload);
    });
  }
}
