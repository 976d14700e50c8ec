/**
 * One task of an action worker, from its await reply to its settle: builds the `ActionTask` a
 * handler sees, runs the handler (a value, a Promise or an Observable) against its time limits,
 * touches the lease while it runs, then settles with COMPLETE (the result encoded by the client's
 * codec) or FAIL, and reports each step as a `WorkerEvent`.
 *
 * Reads only what `TaskHost` lists (the worker's options, its timers and drain signal, the settle
 * requests), not the worker or the whole client. Rules: as the Go worker, `docs/protocol-decisions.md` #27 (touches), #29
 * (results, retry flags of FAIL).
 */
import {
  catchError,
  defer,
  EMPTY,
  exhaustMap,
  finalize,
  from,
  ignoreElements,
  isObservable,
  last,
  map,
  merge,
  mergeMap,
  Observable,
  of,
  race,
  take,
  tap,
} from 'rxjs';
import { lazyData, toPayload } from '../../codec/payload.js';
import { describeError, type ValueCodec } from '../../codec/types.js';
import type { FloEvent } from '../../observability/events.js';
import { ACTION_DEFAULT_TIMEOUT_MS } from '../../protocol/action.js';
import { ClientOp as Op } from '../../protocol/client-opcodes.js';
import {
  DEFAULT_ACTION_OUTCOME,
  encodeActionComplete,
  encodeActionFail,
  encodeActionTouch,
  type TaskAssignment,
} from '../../protocol/worker.js';
import { reportIfSlow } from '../core/slow-handler-watch.js';
import { ActionResultTooLargeError, ActionTimeoutError, NonRetryableError } from './errors.js';
import type { ResolvedWorkerOptions } from './options.js';
import { ActionResult, MAX_ACTION_RESULT_BYTES } from './result.js';
import type { WorkerEvent } from './run.js';

/** One task handed to a handler: an action run claimed by this worker. */
export interface ActionTask {
  /** The action run id (used by COMPLETE / FAIL / TOUCH). */
  readonly taskId: string;
  /** The action name. */
  readonly action: string;
  /** The run input, raw. */
  readonly input: Uint8Array;
  /** The input decoded by the client's codec (memoised; throws `CodecError` on bad bytes). */
  data<T = unknown>(): T;
  /** 1 on the first delivery, +1 on each redelivery. */
  readonly attempt: number;
  /** When the run was created (Unix ms). */
  readonly createdAt: number;
  /** The workflow run that created the action run, when a workflow step did. */
  readonly caller?: { readonly runId: string; readonly workflowName: string };
  readonly workerId: string;
  readonly namespace: string;
  /** Extends the task's lease now to `extendMs` from now (default: the action's timeout). */
  touch(extendMs?: number): Observable<void>;
  /**
   * Aborts when the handler's result no longer counts: its time limit passed
   * (`handlerTimeoutMs`), the drain deadline passed, or the worker was torn down. Pass it to
   * `fetch`, database drivers and the like so the work stops too.
   */
  readonly signal: AbortSignal;
}


/** What a task needs from its worker. */
export interface TaskHost {
  /** The worker's checked options (id, namespace, definitions, time limits, scheduler). */
  readonly options: ResolvedWorkerOptions;
  /** The client's codec (task input, handler results). */
  readonly codec: ValueCodec;
  /** Reports to the client's `events$` (slow handlers). */
  readonly emitClientEvent: (event: FloEvent) => void;
  /** Reports to the worker's subscriber. */
  emit(event: WorkerEvent): void;
  /** A timer on the worker's scheduler. */
  timer(ms: number, period?: number): Observable<number>;
  /** Emits the drain time limit once it ran out: handlers still running are abandoned. */
  readonly abandon$: Observable<number>;
  /** A COMPLETE / FAIL / TOUCH request in the worker's namespace, resent after a reconnect. */
  settleRequest(opcode: number, body: ReturnType<typeof encodeActionTouch>): Observable<void>;
  /** Sends a settle request through the client's settle coalescer. */
  viaCoalescer(request$: Observable<void>): Observable<void>;
}

type Done = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Maps a handler failure to the FAIL's retry flag and message (as the Go worker, protocol decision #29). */
function failureOf(error: unknown): { retry: boolean; message: string } {
  if (error instanceof NonRetryableError) return { retry: false, message: error.message };
  // A handler past its own deadline is failed without retry, as the Go worker does; a task
  // abandoned by a drain is handed back for another worker.
  if (error instanceof ActionTimeoutError) return { retry: error.limit === 'drain', message: error.message };
  if (error instanceof Error) return { retry: true, message: error.message || error.name };
  return { retry: false, message: `action panicked: ${describeError(error)}` };
}

function toObservable(value: unknown): Observable<unknown> {
  if (isObservable(value)) return value;
  if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function') {
    return from(value as PromiseLike<unknown>);
  }
  return of(value);
}

function makeTask(host: TaskHost, a: TaskAssignment, signal: AbortSignal): ActionTask {
  const r = host.options;
  const touch = (extendMs?: number): Observable<void> => {
    const def = r.definitions.get(a.taskType);
    const ms = extendMs ?? def?.timeoutMs ?? ACTION_DEFAULT_TIMEOUT_MS;
    return host.settleRequest(Op.ActionTouch, encodeActionTouch({ workerId: r.workerId, action: a.taskType, taskId: a.taskId, extendMs: ms }));
  };
  const task: ActionTask = {
    taskId: a.taskId,
    action: a.taskType,
    input: a.payload,
    data: lazyData(a.payload, host.codec) as ActionTask['data'],
    attempt: a.attempt,
    createdAt: Number(a.createdAt),
    ...(a.caller ? { caller: { runId: a.caller.runId, workflowName: a.caller.workflowName } } : {}),
    workerId: r.workerId,
    namespace: r.ns,
    touch,
    signal,
  };
  Object.defineProperty(task, 'data', { enumerable: false });
  Object.defineProperty(task, 'touch', { enumerable: false });
  Object.defineProperty(task, 'signal', { enumerable: false });
  return task;
}

/**
 * Runs one task: emits `task-started` at once, then runs its handler and settles it. Never
 * emits, never errors; completes once the settle is done. Unsubscribing tears the handler down
 * (its signal aborts) without settling.
 */
export function runTask(host: TaskHost, a: TaskAssignment): Observable<never> {
  const r = host.options;
  const abort = new AbortController();
  const task = makeTask(host, a, abort.signal);
  host.emit({ type: 'task-started', task });
  const def = r.definitions.get(a.taskType);
  let work$: Observable<Done>;
  if (!def) {
    work$ = of({ ok: false, error: new NonRetryableError(`no handler for: ${a.taskType}`) });
  } else {
    work$ = defer(() => toObservable(def.handler(task))).pipe(
      last(null, undefined),
      map((value): Done => ({ ok: true, value })),
    );
    // The handler races its time limits (a limit that ends without a value must never win the race).
    const limit = r.handlerTimeoutMs;
    const limits: Observable<Done>[] = [];
    if (limit !== Infinity) limits.push(host.timer(limit).pipe(map((): Done => ({ ok: false, error: new ActionTimeoutError(limit) }))));
    limits.push(host.abandon$.pipe(map((drainLimit): Done => ({ ok: false, error: new ActionTimeoutError(drainLimit, 'drain') }))));
    if (limits.length > 0) work$ = race(work$, ...limits);
    work$ = work$.pipe(
      reportIfSlow({ emit: host.emitClientEvent, thresholdMs: r.slowHandlerMs, source: `action:${a.taskType}`, itemId: () => a.taskId, scheduler: r.scheduler }),
      catchError((error: unknown) => of<Done>({ ok: false, error })),
    );
    const fraction = r.touchFraction;
    if (fraction !== false) {
      const leaseMs = def.timeoutMs ?? ACTION_DEFAULT_TIMEOUT_MS;
      const period = Math.max(1, Math.floor(leaseMs * fraction));
      const touches$ = host.timer(period, period).pipe(
        exhaustMap(() =>
          task.touch(leaseMs).pipe(
            tap({ complete: () => host.emit({ type: 'task-touched', task }) }),
            catchError(() => EMPTY),
          ),
        ),
        ignoreElements(),
      );
      work$ = merge(touches$, work$).pipe(take(1));
    }
  }
  let finished = false;
  work$ = work$.pipe(
    tap((done) => {
      finished = true;
      if (!done.ok && done.error instanceof ActionTimeoutError) abort.abort(done.error);
    }),
    finalize(() => {
      if (!finished) abort.abort(new Error('flo: action task abandoned: the worker was torn down'));
    }),
  );
  return work$.pipe(mergeMap((done) => settle(host, task, done)));
}

/** COMPLETE or FAIL, then the event. Never errors. */
function settle(host: TaskHost, task: ActionTask, done: Done): Observable<never> {
  const base = { workerId: host.options.workerId, action: task.action, taskId: task.taskId };
  if (done.ok) {
    let outcome = DEFAULT_ACTION_OUTCOME;
    let value = done.value;
    if (value instanceof ActionResult) {
      outcome = value.outcome;
      value = value.value;
    }
    let result: Uint8Array | undefined;
    let failure: unknown;
    try {
      result = toPayload(value, host.codec);
      if (result.length > MAX_ACTION_RESULT_BYTES) failure = new ActionResultTooLargeError(result.length);
    } catch (e) {
      failure = new NonRetryableError(`marshal error: ${describeError(e)}`, { cause: e });
    }
    if (failure === undefined && result) {
      const bytes = result;
      return settled(
        host,
        host.settleRequest(Op.ActionComplete, encodeActionComplete({ ...base, outcome, result: bytes })),
        (settleError) => ({ type: 'task-completed', task, outcome, result: bytes, ...(settleError !== undefined ? { settleError } : {}) }),
      );
    }
    return settle(host, task, { ok: false, error: failure });
  }
  const { retry: again, message } = failureOf(done.error);
  return settled(
    host,
    host.settleRequest(Op.ActionFail, encodeActionFail({ ...base, retry: again, error: message })),
    (settleError) => ({ type: 'task-failed', task, error: done.error, retry: again, ...(settleError !== undefined ? { settleError } : {}) }),
  );
}

/** Runs a settle through the coalescer, then emits its event. */
function settled(host: TaskHost, request$: Observable<void>, event: (settleError?: unknown) => WorkerEvent): Observable<never> {
  return host.viaCoalescer(request$).pipe(
    last(null, undefined),
    map(() => event()),
    catchError((e: unknown) => of(event(e))),
    tap((ev) => host.emit(ev)),
    ignoreElements(),
  );
}
