import { concatMap, defer, map, of, type Observable, type SchedulerLike } from 'rxjs';
import { lazyData, toPayload } from '../codec/payload.js';
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
  InvalidArgumentError,
  isTerminalWorkflowStatus,
  Op,
  ProtocolError,
  scanWorkflowDefinitionHeader,
  workflowRunStatusName,
  workflowSyncAction,
  type WorkflowDefinitionHeader,
  type WorkflowHistoryEventType,
  type WorkflowRunStatusName,
  type WorkflowStatusReply,
} from '../protocol/index.js';
import { ignorePayload, pollUntilTerminal, type ClientCore, type RequestOptions } from './core/index.js';

export type { WorkflowHistoryEventType, WorkflowRunStatusName } from '../protocol/index.js';

/** The result of `sync`: what the definition was, and what was done. */
export interface WorkflowSyncResult {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** `unchanged`: the stored definition has the same `version` and nothing was sent. */
  readonly action: 'created' | 'updated' | 'unchanged';
}

/** WORKFLOW_STATUS, typed. Timestamps are Unix ms. */
export interface RunStatus {
  readonly runId: string;
  readonly workflow: string;
  /** As given at start (`latest` unless a version was passed). */
  readonly version: string;
  readonly status: WorkflowRunStatusName | 'unknown';
  /** The wire status byte (0 pending … 6 timed_out). */
  readonly statusCode: number;
  /** True for completed, failed, cancelled and timed_out. */
  readonly terminal: boolean;
  /** The current (or last) step; `start` on the start step. */
  readonly currentStep: string;
  readonly input: Uint8Array;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly completedAt?: number;
  /** The user signal a wait step is waiting for (never the engine's synthetic `_…` names). */
  readonly waitSignal?: string;
  /** What a parked step waits for when it is not a signal: an action run or a child workflow run. */
  readonly waitingOn?: { readonly kind: 'action' | 'child'; readonly runId: string };
  /** The run output (with an `output` mapping, once completed). */
  readonly output?: Uint8Array;
  /** `output` decoded by the client's codec; `undefined` without output. Non-enumerable. */
  data<T = unknown>(): T | undefined;
  /** `input` decoded by the client's codec. Non-enumerable. */
  inputData<T = unknown>(): T;
}

/** One event of a run's history (§7.13). */
export interface HistoryEvent {
  readonly type: WorkflowHistoryEventType | (string & {});
  /** Step label, action name, outcome, signal name, terminal name or input, by type. */
  readonly detail: string;
  /** Unix ms. */
  readonly timestamp: number;
}

/** One run of WORKFLOW_LIST_RUNS (newest first). */
export interface WorkflowRunSummary {
  readonly runId: string;
  readonly workflow: string;
  /** Lowercase status name. */
  readonly status: string;
  /** Start time, Unix ms. */
  readonly createdAt: number;
}

/** One definition of WORKFLOW_LIST_DEFINITIONS. */
export interface WorkflowDefinitionSummary {
  readonly name: string;
  readonly version: string;
  /** Time of the last create, Unix ms. */
  readonly createdAt: number;
}

/** Options of `workflow.start`. */
export interface WorkflowStartOptions extends RequestOptions {
  /** An explicit run id, used verbatim (`ConflictError` when already used). */
  readonly runId?: string;
  /** Stored on the run and echoed by `status` (the server runs the current definition). Default `latest`. */
  readonly version?: string;
  /** A second start with the same key returns the first run's id. */
  readonly idempotencyKey?: string;
}

/** Options of `workflow.watch`. */
export interface WorkflowWatchOptions extends RequestOptions {
  /** Pause between two STATUS polls, in ms. Default 250. */
  readonly pollMs?: number;
  /** Scheduler of the poll timer (virtual time in tests). */
  readonly scheduler?: SchedulerLike;
}

/** Options of `workflow.listRuns`. */
export interface WorkflowListRunsOptions extends RequestOptions {
  /** A status name (`running`, `completed`, …), matched case-insensitively. */
  readonly status?: string;
  /** Default 100. */
  readonly limit?: number;
  /** Run id of the last run of the previous page. */
  readonly cursor?: string;
  /** Case-insensitive substring over run id, workflow, step, input and search attributes. */
  readonly search?: string;
}

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

/** `flo.workflow`: every method returns a cold Observable. */
export class WorkflowApi {
  constructor(protected readonly core: ClientCore) {}

  private toRunStatus(s: WorkflowStatusReply): RunStatus {
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

  /**
   * Deploys a definition the way the Go SDK's Sync does (§6.3): reads `name` and `version` from the
   * text, GET_DEFINITION, and CREATE unless the stored definition has the same version (so an edit
   * without a version bump is not pushed). Emits `{ name, version, description, action }`.
   * Missing name or version → `InvalidArgumentError`, nothing sent.
   */
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
            return this.createNamed(header.name, yamlText, options).pipe(map(() => result));
          }),
        );
    });
  }

  /** WORKFLOW_CREATE: creates or replaces the definition (named by its `name:` unless `name` is given). Emits the name. */
  create(yamlText: string, options: RequestOptions & { readonly name?: string } = {}): Observable<string> {
    return defer(() => this.createNamed(options.name ?? scanHeader(yamlText).name, yamlText, options));
  }

  private createNamed(name: string, text: string, options: RequestOptions): Observable<string> {
    return this.core.call(this.core.spec(Op.WorkflowCreate, encodeWorkflowCreate({ name, definition: text }), options), decodeWorkflowCreateReply);
  }

  /**
   * WORKFLOW_START: emits the run id. `input` as bytes or text as it is, anything else through the
   * codec; none → `{}` on the server. `NotFoundError` (unknown workflow), `BadRequestError`
   * (disabled), `ConflictError` (run id taken).
   */
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

  /** WORKFLOW_STATUS (`NotFoundError` when unknown). */
  status(runId: string, options: RequestOptions = {}): Observable<RunStatus> {
    return defer(() => {
      checkText('run id', runId);
      return this.core
        .call(this.core.spec(Op.WorkflowStatus, encodeWorkflowStatus({ runId }), options), decodeWorkflowStatusReply)
        .pipe(map((s) => this.toRunStatus(s)));
    });
  }

  /**
   * Polls STATUS every `pollMs` (one request at a time) and emits the status each time it shows
   * progress (status, step, what it waits for, completion, output), the first one at once; completes
   * after emitting a terminal status. `NotFoundError` for an unknown run; a lost connection or a
   * timeout waits and polls again.
   *
   * ```
   * STATUS replies:  r r r w w w c
   * watch:           r-----w-----c|
   * ```
   */
  watch(runId: string, options: WorkflowWatchOptions = {}): Observable<RunStatus> {
    return pollUntilTerminal(this.core.channel, this.status(runId, options), {
      pollMs: options.pollMs ?? 250,
      same: sameProgress,
      scheduler: options.scheduler,
    });
  }

  /**
   * WORKFLOW_SIGNAL: delivers `data` (bytes/text as is, else through the codec) under `type`.
   * Accepted in every run state (DECISIONS #32); names starting with `_` are refused.
   */
  signal(runId: string, type: string, data?: unknown, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('run id', runId);
      checkText('signal type', type);
      const payload = data === undefined ? undefined : toPayload(data, this.core.codec);
      return this.core.call(this.core.spec(Op.WorkflowSignal, encodeWorkflowSignal({ runId, signal: type, ...(payload ? { payload } : {}) }), options), ignorePayload);
    });
  }

  /** WORKFLOW_CANCEL: applied before the reply (DECISIONS #31); a terminal run is left as it is. */
  cancel(runId: string, options: RequestOptions & { readonly reason?: string } = {}): Observable<void> {
    return defer(() => {
      checkText('run id', runId);
      return this.core.call(
        this.core.spec(Op.WorkflowCancel, encodeWorkflowCancel({ runId, ...(options.reason ? { reason: options.reason } : {}) }), options),
        ignorePayload,
      );
    });
  }

  /** WORKFLOW_HISTORY: the run's events in order (the server's default limit is 100). */
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

  /** WORKFLOW_LIST_RUNS: runs of `name` (all workflows when empty), newest first. */
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

  /** WORKFLOW_LIST_DEFINITIONS: the namespace's definitions, by name. */
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

  /** WORKFLOW_GET_DEFINITION: the stored text, byte for byte. `NotFoundError` when unknown (or another `version`). */
  definition(name: string, options: RequestOptions & { readonly version?: string } = {}): Observable<string> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(
        this.core.spec(Op.WorkflowGetDefinition, encodeWorkflowGetDefinition({ name, ...(options.version ? { version: options.version } : {}) }), options),
        decodeWorkflowGetDefinitionReply,
      );
    });
  }

  /** WORKFLOW_DISABLE: new starts are refused; running runs continue. `NotFoundError` when unknown. */
  disable(name: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(this.core.spec(Op.WorkflowDisable, encodeWorkflowDisable({ name }), options), ignorePayload);
    });
  }

  /** WORKFLOW_ENABLE. */
  enable(name: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('workflow name', name);
      return this.core.call(this.core.spec(Op.WorkflowEnable, encodeWorkflowEnable({ name }), options), ignorePayload);
    });
  }
}
