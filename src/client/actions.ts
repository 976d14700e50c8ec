/**
 * `flo.actions`: the public API class and its types. The code of register, invoke, status, list,
 * listRuns and delete is in `actions/calls.ts`, loaded at the first subscription to any of them;
 * `worker()` loads the worker's run loop the same way (`action-worker/start.ts`). An app that
 * uses neither never loads them.
 */
import type { Observable } from 'rxjs';
import type { ClientCore } from './core/context.js';
import type { NamespaceOption, RequestOptions } from './core/index.js';
import { onDemand } from './on-demand.js';
import type { ActionsCalls } from './actions/calls.js';
import { actionWorker, type ActionHandlers, type ActionWorkerOptions, type WorkerEvent } from './action-worker/index.js';

export {
  NonRetryableError,
  ActionResultTooLargeError,
  ActionTimeoutError,
  ActionResult,
  actionResult,
  MAX_ACTION_RESULT_BYTES,
  type ActionTask,
  type ActionHandler,
  type ActionDefinition,
  type ActionHandlers,
  type ActionWorkerOptions,
  type WorkerEvent,
  type DrainReason,
} from './action-worker/index.js';

/** Lowercase action run status names (`docs/protocol-decisions.md` #35). */
export type ActionRunStatusName = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'unknown';

/** ACTION_STATUS, typed. Timestamps are Unix ms. */
export interface ActionRunStatus {
  readonly runId: string;
  readonly status: ActionRunStatusName;
  /** The wire status byte (0 pending … 5 timed_out). */
  readonly statusCode: number;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly completedAt?: number;
  /** The result bytes of the COMPLETE that finished a completed run (`docs/protocol-decisions.md` #25). */
  readonly output?: Uint8Array;
  /** The error text of a failed (or re-pending) run. */
  readonly error?: string;
  /** attempt − 1 (0 before the first claim). */
  readonly retryCount: number;
  /** `output` decoded by the client's codec; `undefined` when the run has no output. Non-enumerable. */
  data<T = unknown>(): T | undefined;
}

/** One entry of ACTION_LIST. */
export interface ActionInfo {
  readonly name: string;
  /** 0 user (worker-hosted), 1 WASM. */
  readonly actionType: number;
  /** 1 on first register, +1 on each re-register. */
  readonly version: number;
  readonly enabled: boolean;
}

/** One entry of ACTION_LIST_RUNS (newest first). */
export interface ActionRunSummary {
  readonly runId: string;
  readonly action: string;
  readonly status: ActionRunStatusName;
  readonly statusCode: number;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly completedAt?: number;
}

/** Options of `actions.register`. */
export interface ActionRegisterOptions extends NamespaceOption {
  /** The action's lease: a claimed run not completed, failed or touched within it is redelivered. Default 30 000. */
  readonly timeoutMs?: number;
  /** Total deliveries allowed when handlers keep failing retryably. Default 3. */
  readonly maxRetries?: number;
  /** Free text stored with the action (shown by `list()`). */
  readonly description?: string;
  /** Request timeout of this call (the action's own timeout is `timeoutMs`). */
  readonly requestTimeoutMs?: number;
}

/** Options of `actions.invoke`. */
export interface ActionInvokeOptions extends RequestOptions {
  /** A second invoke with the same key (same action) returns the first run's id and creates nothing. */
  readonly idempotencyKey?: string;
  /** Worker labels the run needs (a worker's `labels` must hold each with an equal value). */
  readonly labels?: Readonly<Record<string, string | number | boolean | null>> | string;
  /** 0-255, higher claimed first (`docs/protocol-decisions.md` #26). Default 10. */
  readonly priority?: number;
  /** Not claimable before this many ms from now. Default 0. */
  readonly delayMs?: number;
}

/** Options of `actions.listRuns`. */
export interface ActionListRunsOptions extends RequestOptions {
  /** Default 100. */
  readonly limit?: number;
}

const loadCalls = /* @__PURE__ */ onDemand(() => import('./on-demand-modules.js'));

/** `use` of these calls over `core`, in a cold Observable; their code loads at the first subscription. */
function calls<T>(core: ClientCore, use: (calls: ActionsCalls) => Observable<T>): Observable<T> {
  return loadCalls((module) => use(new module.ActionsCalls(core)));
}

/** `flo.actions`: every method returns a cold Observable. */
export class ActionsApi {
  protected declare readonly core: ClientCore;
  constructor(core: ClientCore) {
    this.core = core;
  }

  /** ACTION_REGISTER: creates or replaces the action (its version is bumped). Emits once, completes. */
  register(name: string, options: ActionRegisterOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.register(name, options));
  }

  /**
   * ACTION_INVOKE: creates a run of `name` with `input` (bytes and strings as they are, anything
   * else through the client's codec). Emits the run id. `NotFoundError` for an unknown action.
   */
  invoke(name: string, input?: unknown, options: ActionInvokeOptions = {}): Observable<string> {
    return calls(this.core, (c) => c.invoke(name, input, options));
  }

  /** ACTION_STATUS of a run (`NotFoundError` when unknown), with its output once completed. */
  status(runId: string, options: RequestOptions = {}): Observable<ActionRunStatus> {
    return calls(this.core, (c) => c.status(runId, options));
  }

  /** ACTION_LIST: the actions of the namespace, by name. */
  list(options: RequestOptions & { readonly prefix?: string; readonly limit?: number } = {}): Observable<ActionInfo[]> {
    return calls(this.core, (c) => c.list(options));
  }

  /** ACTION_LIST_RUNS: runs of one action (or of all), newest first. */
  listRuns(name?: string, options: ActionListRunsOptions = {}): Observable<ActionRunSummary[]> {
    return calls(this.core, (c) => c.listRuns(name, options));
  }

  /** ACTION_DELETE: OK also for unknown names; existing runs are kept. */
  delete(name: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.delete(name, options));
  }

  /**
   * A reactive action worker. Subscribing registers the actions (with each definition's options)
   * and the worker, then runs tasks: at most `concurrency` at once, one parked ACTION_AWAIT per free
   * slot. A handler's value (or its Promise's, or its Observable's last) is the COMPLETE result; a
   * throw is a FAIL, retried unless it is a `NonRetryableError` or not an `Error` at all; a handler
   * still running after `handlerTimeoutMs` (default 5 minutes) is failed without retry (as Go). The lease
   * of a running task is touched every `touchFraction × timeoutMs`. The awaits run on a connection
   * of their own, opened for the worker (`dedicatedAwaitConnection`, or `awaitClient`). After a
   * lost connection the worker re-registers and resumes.
   *
   * Unsubscribing drains in the background: no new awaits (a task whose await reply arrives later
   * is failed at once with retry=1, `docs/protocol-decisions.md` #5), running tasks finish and settle (those still
   * running after `drainTimeoutMs`, default 30 s, are failed with retry=1), then the worker
   * deregisters. `until` (or a server-side drain) does the same while still emitting, and completes
   * after `deregistered`.
   *
   * ```ts
   * flo.actions.worker({
   *   'process-order': async (task) => ({ status: 'done', id: task.data<Order>().id }),
   *   'charge': { handler: charge, timeoutMs: 60_000, maxRetries: 5 },
   * }, { concurrency: 5 }).subscribe((e) => e.type === 'task-failed' && log.warn(e.error));
   * ```
   */
  worker(handlers: ActionHandlers, options: ActionWorkerOptions = {}): Observable<WorkerEvent> {
    return actionWorker(this.core, handlers, options);
  }
}
