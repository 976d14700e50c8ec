/**
 * `flo.workflow`: the public API class and its types. Each method's code lives in
 * `workflow/calls.ts`, which loads on the first subscription to any of them (`onDemand`), so an
 * app that never uses workflows never loads it (a bundler splits it into a lazy chunk).
 */
import type { Observable, SchedulerLike } from 'rxjs';
import type { WorkflowHistoryEventType, WorkflowRunStatusName } from '../protocol/index.js';
import type { RequestOptions } from './core/index.js';
import type { ClientCore } from './core/context.js';
import { onDemand } from './on-demand.js';
import type { WorkflowCalls } from './workflow/calls.js';

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

/** One event of a run's history. */
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

const loadCalls = /* @__PURE__ */ onDemand(() => import('./on-demand-modules.js'));

/** `use` of the workflow calls over `core`, in a cold Observable; the code loads at the first subscription. */
function calls<T>(core: ClientCore, use: (calls: WorkflowCalls) => Observable<T>): Observable<T> {
  return loadCalls((module) => use(new module.WorkflowCalls(core)));
}

/** `flo.workflow`: every method returns a cold Observable. */
export class WorkflowApi {
  protected declare readonly core: ClientCore;
  constructor(core: ClientCore) {
    this.core = core;
  }

  /**
   * Deploys a definition the way the Go SDK's Sync does: reads `name` and `version` from the
   * text, GET_DEFINITION, and CREATE unless the stored definition has the same version (so an edit
   * without a version bump is not pushed). Emits `{ name, version, description, action }`.
   * Missing name or version → `InvalidArgumentError`, nothing sent.
   */
  sync(yamlText: string, options: RequestOptions = {}): Observable<WorkflowSyncResult> {
    return calls(this.core, (c) => c.sync(yamlText, options));
  }

  /** WORKFLOW_CREATE: creates or replaces the definition (named by its `name:` unless `name` is given). Emits the name. */
  create(yamlText: string, options: RequestOptions & { readonly name?: string } = {}): Observable<string> {
    return calls(this.core, (c) => c.create(yamlText, options));
  }

  /**
   * WORKFLOW_START: emits the run id. `input` as bytes or text as it is, anything else through the
   * codec; none → `{}` on the server. `NotFoundError` (unknown workflow), `BadRequestError`
   * (disabled), `ConflictError` (run id taken).
   */
  start(name: string, input?: unknown, options: WorkflowStartOptions = {}): Observable<string> {
    return calls(this.core, (c) => c.start(name, input, options));
  }

  /** WORKFLOW_STATUS (`NotFoundError` when unknown). */
  status(runId: string, options: RequestOptions = {}): Observable<RunStatus> {
    return calls(this.core, (c) => c.status(runId, options));
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
    return calls(this.core, (c) => c.watch(runId, options));
  }

  /**
   * WORKFLOW_SIGNAL: delivers `data` (bytes/text as is, else through the codec) under `type`.
   * Accepted in every run state (`docs/protocol-decisions.md` #32); names starting with `_` are refused.
   */
  signal(runId: string, type: string, data?: unknown, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.signal(runId, type, data, options));
  }

  /** WORKFLOW_CANCEL: applied before the reply (`docs/protocol-decisions.md` #31); a terminal run is left as it is. */
  cancel(runId: string, options: RequestOptions & { readonly reason?: string } = {}): Observable<void> {
    return calls(this.core, (c) => c.cancel(runId, options));
  }

  /** WORKFLOW_HISTORY: the run's events in order (the server's default limit is 100). */
  history(runId: string, options: RequestOptions & { readonly limit?: number } = {}): Observable<HistoryEvent[]> {
    return calls(this.core, (c) => c.history(runId, options));
  }

  /** WORKFLOW_LIST_RUNS: runs of `name` (all workflows when empty), newest first. */
  listRuns(name?: string, options: WorkflowListRunsOptions = {}): Observable<WorkflowRunSummary[]> {
    return calls(this.core, (c) => c.listRuns(name, options));
  }

  /** WORKFLOW_LIST_DEFINITIONS: the namespace's definitions, by name. */
  listDefinitions(options: RequestOptions & { readonly limit?: number; readonly cursor?: string } = {}): Observable<WorkflowDefinitionSummary[]> {
    return calls(this.core, (c) => c.listDefinitions(options));
  }

  /** WORKFLOW_GET_DEFINITION: the stored text, byte for byte. `NotFoundError` when unknown (or another `version`). */
  definition(name: string, options: RequestOptions & { readonly version?: string } = {}): Observable<string> {
    return calls(this.core, (c) => c.definition(name, options));
  }

  /** WORKFLOW_DISABLE: new starts are refused; running runs continue. `NotFoundError` when unknown. */
  disable(name: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.disable(name, options));
  }

  /** WORKFLOW_ENABLE. */
  enable(name: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.enable(name, options));
  }
}
