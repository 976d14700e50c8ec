/**
 * The reactive action worker behind `flo.actions.worker(handlers, options)`
 * (`protocol-actions-workflows.md` §4.7-§4.13, DECISIONS #5, #27-#30).
 *
 * Subscribing registers the actions and the worker, heartbeats, and long-polls ACTION_AWAIT with
 * ONE await per free slot (the protocol hands out one task per await: the MaxTasks option 0x42 is
 * defined but nothing implements it), so `awaits in flight + tasks running <= concurrency` always
 * holds. Each task runs its handler (a value, a Promise or an Observable), touches its lease while
 * the handler runs, then settles with COMPLETE (the result encoded by the client's codec) or FAIL.
 * Unsubscribing drains: no new awaits, running tasks finish and settle (those still running after
 * `drainTimeoutMs` are failed with retry=1), then WORKER_DEREGISTER.
 *
 * The awaits run on a connection of their own (as the Go worker's, §4.13 / §13): `awaitClient` when
 * given, else a sibling of the client's connection opened for the worker and closed after it
 * deregistered (`dedicatedAwaitConnection`), else the client's own. Everything else (registration,
 * heartbeats, COMPLETE / FAIL / TOUCH, deregistration) uses the client's connection.
 */
import {
  catchError,
  concat,
  defer,
  EMPTY,
  exhaustMap,
  filter,
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
  retry,
  share,
  Subject,
  Subscription,
  take,
  tap,
  finalize,
  throwError,
  timer,
  type ObservableInput,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import { lazyData, toPayload } from '../codec/payload.js';
import { describeError } from '../codec/types.js';
import type { RequestChannel } from '../connection/types.js';
import {
  ACTION_DEFAULT_TIMEOUT_MS,
  ClientClosedError,
  DEFAULT_ACTION_OUTCOME,
  decodeActionAwaitReply,
  decodeWorkerHeartbeatReply,
  encodeActionAwait,
  encodeActionComplete,
  encodeActionFail,
  encodeActionRegister,
  encodeActionTouch,
  encodeWorkerDeregister,
  encodeWorkerHeartbeat,
  encodeWorkerRegister,
  FloError,
  InvalidArgumentError,
  isBadRequest,
  isConnectionLost,
  isNotFound,
  isTimeout,
  Op,
  ProcessKind,
  Status,
  WorkerStatus,
  WorkerType,
  type ResponseFrame,
  type TaskAssignment,
} from '../protocol/index.js';
import { call, ignorePayload } from './core/call.js';
import type { ClientCore, ForkedClient, NamespaceOption } from './core/context.js';
import { checkBlockMs, createResumer, waitForReconnect } from './core/poll.js';
import type { Settler } from './core/settler.js';
import { checkSlowHandlerMs, reportIfSlow } from './core/slow-handler.js';

/** The longest result a COMPLETE can carry: its length is a u16 (DECISIONS #29). */
export const MAX_ACTION_RESULT_BYTES = 0xffff;

/**
 * Throw (or reject with, or error with) this from a handler to fail the task without a retry
 * (FAIL retry=0). Any other `Error` is retried (FAIL retry=1); a thrown non-Error value (the Go
 * "panic" case) is not (DECISIONS #29).
 */
export class NonRetryableError extends FloError {
  override name = 'NonRetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A handler result larger than a COMPLETE can carry; the task is failed without retry. */
export class ActionResultTooLargeError extends NonRetryableError {
  override name = 'ActionResultTooLargeError';
  constructor(readonly size: number) {
    super(`flo: action result is ${size} bytes; a COMPLETE carries at most ${MAX_ACTION_RESULT_BYTES}. Store large results elsewhere (KV, a stream) and return a reference`);
  }
}

/** The handler timeout of a worker unless `handlerTimeoutMs` says otherwise: 5 minutes, as Go's `ActionWorker`. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 300_000;
/** How long a draining worker waits for running handlers unless `drainTimeoutMs` says otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** The longest finite time limit a worker accepts (a JavaScript timer's maximum). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A handler still running when a time limit ran out: the worker's `handlerTimeoutMs`
 * (`limit: 'handler'`: the task is failed without retry, as the Go worker does), or its
 * `drainTimeoutMs` after it began draining (`limit: 'drain'`: the task is abandoned and failed with
 * retry=1, so the server delivers it again while attempts remain).
 */
export class ActionTimeoutError extends FloError {
  override name = 'ActionTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly limit: 'handler' | 'drain' = 'handler',
  ) {
    super(
      limit === 'handler'
        ? `action timed out after ${timeoutMs} ms`
        : `action abandoned: still running ${timeoutMs} ms after the worker began draining`,
    );
  }
}

/** A handler result with a named outcome (Go's `actx.Result(outcome, value)`); see `actionResult`. */
export class ActionResult<T = unknown> {
  constructor(
    readonly outcome: string,
    readonly value: T,
  ) {}
}

/**
 * Returns `value` under a named outcome instead of `success`, for workflow transitions keyed on it:
 * `return actionResult('rejected', { reason })`.
 */
export function actionResult<T>(outcome: string, value?: T): ActionResult<T | undefined> {
  if (typeof outcome !== 'string' || outcome.length === 0) throw new InvalidArgumentError('actionResult: outcome must be a non-empty string');
  return new ActionResult(outcome, value);
}

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

/** A handler: returns a value, a Promise or an Observable (its last value is the result). */
export type ActionHandler<R = unknown> = (task: ActionTask) => R | PromiseLike<R> | Observable<R>;

/** A handler with the options its action is registered with. */
export interface ActionDefinition<R = unknown> {
  readonly handler: ActionHandler<R>;
  /** The action's lease (ACTION_REGISTER timeout_ms). Default 30 000. */
  readonly timeoutMs?: number;
  /** Total deliveries allowed (ACTION_REGISTER max_retries). Default 3. */
  readonly maxRetries?: number;
  readonly description?: string;
}

/** The handlers of an action worker: action name → handler (or a definition with its options). */
export type ActionHandlers = Readonly<Record<string, ActionHandler | ActionDefinition>>;

/** Options of `actions.worker`. */
export interface ActionWorkerOptions extends NamespaceOption {
  /** Tasks run at once; also the number of awaits kept parked while idle. Default 10. */
  readonly concurrency?: number;
  /** The worker id (registry key). Default `flo-rx-<8 hex>`. */
  readonly workerId?: string;
  /** Long-poll of each ACTION_AWAIT, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /** WORKER_HEARTBEAT period. Default 30 000. */
  readonly heartbeatMs?: number;
  /**
   * Touch a running task's lease every `touchFraction × timeoutMs` (asking for `timeoutMs` more),
   * `0 < touchFraction < 1`; `false` never touches (the lease then runs out after the action's
   * timeout and the run is redelivered, DECISIONS #27). Default 0.5.
   */
  readonly touchFraction?: number | false;
  /**
   * Fail a handler still running after this many ms, without retry as Go does (`ActionTimeoutError`,
   * `action timed out`); the handler's Observable is unsubscribed (a Promise cannot be stopped and is
   * ignored). `Infinity` sets no limit. Default 300 000 (5 minutes, as Go's `ActionWorker`).
   */
  readonly handlerTimeoutMs?: number;
  /**
   * After the worker began draining (unsubscribe, `until`, a server drain), handlers still running
   * after this many ms are abandoned: their tasks are failed with retry=1 (`ActionTimeoutError` with
   * `limit: 'drain'`), so the server delivers them again, then the worker deregisters. `0` abandons
   * them at once, `Infinity` waits for them however long they take. Default: `flo.drain()`'s
   * `timeoutMs` when the worker is drained by it, else 30 000.
   */
  readonly drainTimeoutMs?: number;
  /**
   * A handler still running after this many ms is reported once, while it runs (a `slow-handler`
   * event on `flo.events$`, source `action:<name>`, and a `warn` line in the client's logger).
   * `Infinity` turns it off. Default: the client's `slowHandlerMs` (10 000).
   */
  readonly slowHandlerMs?: number;
  /** Worker labels (sent as the registry metadata JSON): runs invoked with `labels` need them all. */
  readonly labels?: Readonly<Record<string, string | number | boolean | null>>;
  /** Registry machine id. Default: none. */
  readonly machineId?: string;
  /** Send ACTION_REGISTER for every handler on start (as the Go worker does). Default true. */
  readonly registerActions?: boolean;
  /** When this emits (or completes), the worker drains gracefully and the Observable completes. */
  readonly until?: ObservableInput<unknown>;
  /**
   * Run the ACTION_AWAIT long-polls on this client's connection (e.g. a second
   * `connect(sameAddress)`) instead, keeping registration, heartbeats and settles on this one.
   * Overrides `dedicatedAwaitConnection`; the worker does not close it.
   */
  readonly awaitClient?: { readonly core: ClientCore };
  /**
   * Without `awaitClient`, run the long-polls on a connection of their own, as the reference SDKs
   * do: a sibling of this client's connection (same endpoints and options), opened when the worker
   * is subscribed and closed after it deregistered or failed. `false` keeps them on this client's
   * connection (replies are multiplexed, so a parked await blocks nothing). A client not built by
   * `connect()` (e.g. over a channel of your own) cannot open one and uses its own. Default true.
   */
  readonly dedicatedAwaitConnection?: boolean;
  /** Pause after an await failed with an unexpected error, before awaiting again. Default 1000. */
  readonly retryDelayMs?: number;
  /** Scheduler of the heartbeat, touch, handler and drain timeout and retry timers (virtual time in tests). */
  readonly scheduler?: SchedulerLike;
}

/** Why a worker drains. */
export type DrainReason = 'unsubscribed' | 'requested' | 'server';

/** What a running worker reports. */
export type WorkerEvent =
  | { readonly type: 'registered'; readonly workerId: string; readonly actions: readonly string[]; readonly reregistered: boolean }
  | { readonly type: 'task-started'; readonly task: ActionTask }
  | {
      readonly type: 'task-completed';
      readonly task: ActionTask;
      readonly outcome: string;
      readonly result: Uint8Array;
      /** The COMPLETE itself failed; a `NotFoundError` means the run had moved on (lease expired, cancelled). */
      readonly settleError?: unknown;
    }
  | {
      readonly type: 'task-failed';
      readonly task: ActionTask;
      readonly error: unknown;
      /** The FAIL asked for a redelivery. */
      readonly retry: boolean;
      readonly settleError?: unknown;
    }
  | { readonly type: 'task-touched'; readonly task: ActionTask }
  /** A task whose await reply came after the worker stopped awaiting: failed at once with retry=1 (DECISIONS #5). */
  | { readonly type: 'task-returned'; readonly taskId: string; readonly action: string }
  | { readonly type: 'heartbeat'; readonly status: number; readonly load: number }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'error'; readonly error: unknown; readonly during: 'await' | 'heartbeat' }
  | { readonly type: 'draining'; readonly reason: DrainReason }
  | { readonly type: 'deregistered'; readonly workerId: string };

interface Resolved {
  readonly ns: string;
  readonly workerId: string;
  readonly concurrency: number;
  readonly blockMs: number;
  readonly heartbeatMs: number;
  readonly touchFraction: number | false;
  /** Infinity: no limit. */
  readonly handlerTimeoutMs: number;
  /** Infinity: wait for running handlers however long they take. Undefined: `flo.drain()`'s, else the default. */
  readonly drainTimeoutMs: number | undefined;
  readonly retryDelayMs: number;
  /** Infinity: never reported. */
  readonly slowHandlerMs: number;
  readonly scheduler: SchedulerLike | undefined;
  readonly definitions: ReadonlyMap<string, ActionDefinition>;
  readonly names: readonly string[];
}

function positive(name: string, v: number | undefined, fallback: number, integer = true): number {
  const x = v ?? fallback;
  if (!(Number.isFinite(x) && x > 0) || (integer && !Number.isInteger(x))) {
    throw new InvalidArgumentError(`worker ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return x;
}

/** A time limit in ms: `Infinity` (none), or finite up to a timer's maximum, > 0 (or >= 0 with `allowZero`). */
function timeLimit(name: string, v: number | undefined, fallback: number, allowZero: boolean): number {
  const x = v ?? fallback;
  if (x === Infinity) return x;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (x === 0 && !allowZero) || x > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `worker ${name} must be ${allowZero ? 'from 0' : 'above 0'} to ${MAX_TIMER_MS} ms, or Infinity for no limit, got ${String(v)}`,
    );
  }
  return x;
}

function randomWorkerId(): string {
  let hex = '';
  for (let i = 0; i < 8; i++) hex += Math.floor(Math.random() * 16).toString(16);
  return `flo-rx-${hex}`;
}

function resolve(core: ClientCore, handlers: ActionHandlers, o: ActionWorkerOptions): Resolved {
  const definitions = new Map<string, ActionDefinition>();
  for (const [name, h] of Object.entries(handlers ?? {})) {
    if (!name) throw new InvalidArgumentError('worker: action names must be non-empty');
    const def = typeof h === 'function' ? { handler: h } : h;
    if (!def || typeof def.handler !== 'function') throw new InvalidArgumentError(`worker: the handler of "${name}" is not a function`);
    definitions.set(name, def);
  }
  if (definitions.size === 0) throw new InvalidArgumentError('worker: at least one action handler is required');
  const touchFraction = o.touchFraction ?? 0.5;
  if (touchFraction !== false && !(touchFraction > 0 && touchFraction < 1)) {
    throw new InvalidArgumentError(`worker touchFraction must be > 0 and < 1, or false, got ${String(touchFraction)}`);
  }
  return {
    ns: core.ns(o),
    workerId: o.workerId ?? randomWorkerId(),
    concurrency: positive('concurrency', o.concurrency, 10),
    blockMs: checkBlockMs(o.blockMs),
    heartbeatMs: positive('heartbeatMs', o.heartbeatMs, 30_000, false),
    touchFraction,
    handlerTimeoutMs: timeLimit('handlerTimeoutMs', o.handlerTimeoutMs, DEFAULT_HANDLER_TIMEOUT_MS, false),
    drainTimeoutMs: o.drainTimeoutMs === undefined ? undefined : timeLimit('drainTimeoutMs', o.drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS, true),
    retryDelayMs: o.retryDelayMs === undefined ? 1000 : Math.max(0, o.retryDelayMs),
    slowHandlerMs: o.slowHandlerMs === undefined ? core.slowHandlerMs : checkSlowHandlerMs(o.slowHandlerMs, 'worker slowHandlerMs'),
    scheduler: o.scheduler,
    definitions,
    names: [...definitions.keys()],
  };
}

/** `flo.actions.worker(...)`: see `ActionsApi.worker`. */
export function actionWorker(core: ClientCore, handlers: ActionHandlers, options: ActionWorkerOptions = {}): Observable<WorkerEvent> {
  return new Observable<WorkerEvent>((subscriber) => {
    let run: WorkerRun;
    try {
      run = new WorkerRun(core, resolve(core, handlers, options), options, subscriber);
    } catch (e) {
      subscriber.error(e);
      return undefined;
    }
    run.start();
    return () => run.drain('unsubscribed');
  });
}

type Done = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Maps a handler failure to the FAIL's retry flag and message (§4.13, DECISIONS #29). */
function failureOf(error: unknown): { retry: boolean; message: string } {
  if (error instanceof NonRetryableError) return { retry: false, message: error.message };
  // A handler past its own deadline is failed without retry, as the Go worker does (protocol notes
  // §4.13); a task abandoned by a drain is handed back for another worker.
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

/** One subscription of a worker: the state machine. */
class WorkerRun {
  /** registering → running → draining → finishing → done. */
  private phase: 'registering' | 'running' | 'draining' | 'finishing' | 'done' = 'registering';
  /** Subscriptions that live until the worker is deregistered (heartbeat, tasks, settles). */
  private readonly life = new Subscription();
  /** Subscriptions that end when the worker stops awaiting (awaits, await-connection watchers). */
  private readonly polling = new Subscription();
  private readonly awaits = new Set<Subscription>();
  private readonly running = new Set<string>();
  private paused = false;
  private pumping = false;
  private pumpAgain = false;
  /** Emits once when the drain timeout runs out (with that timeout): the handlers still running are abandoned. */
  private readonly abandon$ = new Subject<number>();
  private readonly awaitChannel: RequestChannel;
  /** The sibling client opened for the awaits (dedicated await connection); closed when the worker ends. */
  private readonly forked: ForkedClient | undefined;
  private readonly resumer: ReturnType<typeof createResumer>;
  private readonly reregister$: Observable<void>;

  constructor(
    private readonly core: ClientCore,
    private readonly r: Resolved,
    private readonly options: ActionWorkerOptions,
    private readonly subscriber: Subscriber<WorkerEvent>,
  ) {
    if (options.awaitClient) {
      this.awaitChannel = options.awaitClient.core.channel;
    } else if (options.dedicatedAwaitConnection !== false && core.fork) {
      this.forked = core.fork(); // lazy, as the client's: it connects with the first await
      this.awaitChannel = this.forked.core.channel;
    } else {
      this.awaitChannel = core.channel;
    }
    // Re-registration after the await connection came back, shared by the slots resuming together.
    this.reregister$ = defer(() => this.registerWorker()).pipe(
      tap({ complete: () => this.emit({ type: 'registered', workerId: r.workerId, actions: r.names, reregistered: true }) }),
      share(),
    );
    this.resumer = createResumer(this.awaitChannel, {
      onReconnect: () => this.reregister$,
      ...(r.scheduler ? { scheduler: r.scheduler } : {}),
    });
  }

  private emit(event: WorkerEvent): void {
    if (!this.subscriber.closed) this.subscriber.next(event);
  }

  private timer(ms: number, period?: number): Observable<number> {
    const s = this.r.scheduler;
    if (period === undefined) return s ? timer(ms, s) : timer(ms);
    return s ? timer(ms, period, s) : timer(ms, period);
  }

  // ---- requests ------------------------------------------------------------------------------

  private request(opcode: number, body: Parameters<ClientCore['spec']>[1]): Observable<void> {
    return this.core.call(this.core.spec(opcode, body, { namespace: this.r.ns }), ignorePayload);
  }

  /** A settle request (COMPLETE / FAIL / TOUCH), resent after a reconnect up to 3 times (§4.13). */
  private settleRequest(opcode: number, body: Parameters<ClientCore['spec']>[1]): Observable<void> {
    return this.request(opcode, body).pipe(
      retry({
        count: 3,
        delay: (e: unknown) => {
          if (isConnectionLost(e)) return waitForReconnect(this.core.channel, e, this.r.scheduler);
          if (isTimeout(e)) return of(0);
          return throwError(() => e);
        },
      }),
    );
  }

  private registerWorker(): Observable<void> {
    const metadata = this.options.labels ? JSON.stringify(this.options.labels) : undefined;
    return this.request(
      Op.WorkerRegister,
      encodeWorkerRegister({
        workerId: this.r.workerId,
        workerType: WorkerType.Action,
        maxConcurrency: this.r.concurrency,
        processes: this.r.names.map((name) => ({ name, kind: ProcessKind.Action })),
        ...(metadata !== undefined ? { metadata } : {}),
        ...(this.options.machineId !== undefined ? { machineId: this.options.machineId } : {}),
      }),
    );
  }

  private registerActions(): Observable<void> {
    if (this.options.registerActions === false) return EMPTY;
    return merge(
      ...[...this.r.definitions].map(([name, d]) =>
        this.request(
          Op.ActionRegister,
          encodeActionRegister({
            name,
            ...(d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {}),
            ...(d.maxRetries !== undefined ? { maxRetries: d.maxRetries } : {}),
            ...(d.description !== undefined ? { description: d.description } : {}),
          }),
        ),
      ),
    );
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  start(): void {
    // `flo.drain()` drains every worker of the client.
    const registration = this.core.drain.register();
    this.life.add(() => registration.done());
    this.life.add(this.core.drain.requested$.pipe(take(1)).subscribe((r) => this.drain('requested', r.deadlineMs)));
    if (this.options.until !== undefined) {
      this.life.add(
        from(this.options.until)
          .pipe(take(1))
          .subscribe({ next: () => this.drain('requested'), complete: () => this.drain('requested'), error: () => this.drain('requested') }),
      );
    }
    this.life.add(
      concat(this.registerActions(), this.registerWorker()).subscribe({
        error: (e: unknown) => this.fatal(e),
        complete: () => this.registered(),
      }),
    );
  }

  private registered(): void {
    const draining = this.phase === 'draining';
    if (!draining) this.phase = 'running';
    this.emit({ type: 'registered', workerId: this.r.workerId, actions: this.r.names, reregistered: false });
    this.life.add(
      this.timer(this.r.heartbeatMs, this.r.heartbeatMs)
        .pipe(exhaustMap(() => this.heartbeat()))
        .subscribe(),
    );
    if (draining) {
      this.maybeFinish();
      return;
    }
    this.polling.add(this.resumer.watch.subscribe());
    let down = false;
    this.polling.add(
      this.awaitChannel.state$.subscribe((s) => {
        if (s === 'reconnecting' && !down) this.emit({ type: 'reconnecting' });
        down = s === 'reconnecting' || s === 'connecting';
      }),
    );
    if (this.awaitChannel !== this.core.channel) {
      // The awaits would outlive a closed client on their own connection: end as they would on it.
      this.polling.add(
        this.core.channel.state$.pipe(filter((s) => s === 'closed'), take(1)).subscribe(() => this.clientClosed()),
      );
    }
    this.pump();
  }

  private heartbeat(): Observable<unknown> {
    const load = this.running.size;
    return this.core
      .call(this.core.spec(Op.WorkerHeartbeat, encodeWorkerHeartbeat({ workerId: this.r.workerId, currentLoad: load }), { namespace: this.r.ns }), decodeWorkerHeartbeatReply)
      .pipe(
        tap((status) => {
          this.emit({ type: 'heartbeat', status, load });
          if (status === WorkerStatus.Draining) this.drain('server');
        }),
        catchError((e: unknown) => {
          // The server forgot the worker (restart, deregistered elsewhere): register again.
          if (isNotFound(e) && this.phase === 'running') return this.reregister$;
          this.emit({ type: 'error', error: e, during: 'heartbeat' });
          return EMPTY;
        }),
        catchError(() => EMPTY),
      );
  }

  /** Starts awaits while slots are free: awaits in flight + tasks running never exceed concurrency. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.phase === 'running' && !this.paused && this.awaits.size + this.running.size < this.r.concurrency) this.startAwait();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private startAwait(): void {
    const spec = this.core.spec(
      Op.ActionAwait,
      encodeActionAwait({ workerId: this.r.workerId, actions: this.r.names, blockMs: this.r.blockMs }),
      { namespace: this.r.ns, blockMs: this.r.blockMs, onLateReply: (reply) => this.lateReply(reply) },
    );
    const slot = new Subscription();
    this.awaits.add(slot);
    slot.add(() => this.awaits.delete(slot));
    this.polling.add(slot);
    slot.add(
      this.resumer.run(() => call(this.awaitChannel, spec, decodeActionAwaitReply)).subscribe({
        next: (task) => {
          this.awaits.delete(slot);
          if (task) this.startTask(task);
        },
        error: (e: unknown) => {
          this.awaits.delete(slot);
          this.polling.remove(slot);
          this.awaitFailed(e);
        },
        complete: () => {
          this.awaits.delete(slot);
          this.polling.remove(slot);
          this.pump();
        },
      }),
    );
  }

  /**
   * The client's connection closed for good (`close()`, or lost without reconnect) while the awaits
   * ran elsewhere: end with the error its requests now fail with, as a shared connection would.
   */
  private clientClosed(): void {
    this.request(Op.WorkerHeartbeat, encodeWorkerHeartbeat({ workerId: this.r.workerId, currentLoad: this.running.size })).subscribe({
      error: (e: unknown) => this.fatal(e),
      complete: () => this.fatal(new ClientClosedError('flo: the client is closed')),
    });
  }

  private awaitFailed(e: unknown): void {
    if (this.phase !== 'running') return;
    // Closed client, or a lost connection that will not come back (reconnect disabled): give up.
    if (e instanceof ClientClosedError || isConnectionLost(e)) return this.fatal(e);
    if (isBadRequest(e) && /draining/i.test(e.message)) return this.drain('server');
    this.emit({ type: 'error', error: e, during: 'await' });
    if (this.paused) return;
    this.paused = true;
    this.polling.add(
      this.timer(this.r.retryDelayMs).subscribe(() => {
        this.paused = false;
        this.pump();
      }),
    );
  }

  /** An await reply that came after its subscriber left: fail its task at once with retry=1 (DECISIONS #5). */
  private lateReply(reply: ResponseFrame): void {
    if (reply.status !== Status.OK) return;
    let task: TaskAssignment | null;
    try {
      task = decodeActionAwaitReply(reply.payload);
    } catch {
      return;
    }
    if (!task) return;
    const { taskId, taskType } = task;
    this.viaCoalescer(
      this.settleRequest(Op.ActionFail, encodeActionFail({ workerId: this.r.workerId, action: taskType, taskId, retry: true, error: 'worker stopped before running the task' })),
    ).subscribe({ error: () => undefined });
    this.emit({ type: 'task-returned', taskId, action: taskType });
  }

  // ---- tasks ---------------------------------------------------------------------------------

  private makeTask(a: TaskAssignment, signal: AbortSignal): ActionTask {
    const touch = (extendMs?: number): Observable<void> => {
      const def = this.r.definitions.get(a.taskType);
      const ms = extendMs ?? def?.timeoutMs ?? ACTION_DEFAULT_TIMEOUT_MS;
      return this.settleRequest(Op.ActionTouch, encodeActionTouch({ workerId: this.r.workerId, action: a.taskType, taskId: a.taskId, extendMs: ms }));
    };
    const task: ActionTask = {
      taskId: a.taskId,
      action: a.taskType,
      input: a.payload,
      data: lazyData(a.payload, this.core.codec) as ActionTask['data'],
      attempt: a.attempt,
      createdAt: Number(a.createdAt),
      ...(a.caller ? { caller: { runId: a.caller.runId, workflowName: a.caller.workflowName } } : {}),
      workerId: this.r.workerId,
      namespace: this.r.ns,
      touch,
      signal,
    };
    Object.defineProperty(task, 'data', { enumerable: false });
    Object.defineProperty(task, 'touch', { enumerable: false });
    Object.defineProperty(task, 'signal', { enumerable: false });
    return task;
  }

  private startTask(a: TaskAssignment): void {
    this.running.add(a.taskId);
    const abort = new AbortController();
    const task = this.makeTask(a, abort.signal);
    this.emit({ type: 'task-started', task });
    const def = this.r.definitions.get(a.taskType);
    let work$: Observable<Done>;
    if (!def) {
      work$ = of({ ok: false, error: new NonRetryableError(`no handler for: ${a.taskType}`) });
    } else {
      work$ = defer(() => toObservable(def.handler(task))).pipe(
        last(null, undefined),
        map((value): Done => ({ ok: true, value })),
      );
      // The handler races its time limits (a limit that ends without a value must never win the race).
      const limit = this.r.handlerTimeoutMs;
      const limits: Observable<Done>[] = [];
      if (limit !== Infinity) limits.push(this.timer(limit).pipe(map((): Done => ({ ok: false, error: new ActionTimeoutError(limit) }))));
      limits.push(this.abandon$.pipe(map((drainLimit): Done => ({ ok: false, error: new ActionTimeoutError(drainLimit, 'drain') }))));
      if (limits.length > 0) work$ = race(work$, ...limits);
      work$ = work$.pipe(
        reportIfSlow({ emit: this.core.emit, thresholdMs: this.r.slowHandlerMs, source: `action:${a.taskType}`, itemId: () => a.taskId, scheduler: this.r.scheduler }),
        catchError((error: unknown) => of<Done>({ ok: false, error })),
      );
      const fraction = this.r.touchFraction;
      if (fraction !== false) {
        const leaseMs = def.timeoutMs ?? ACTION_DEFAULT_TIMEOUT_MS;
        const period = Math.max(1, Math.floor(leaseMs * fraction));
        const touches$ = this.timer(period, period).pipe(
          exhaustMap(() =>
            task.touch(leaseMs).pipe(
              tap({ complete: () => this.emit({ type: 'task-touched', task }) }),
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
    const sub = work$.pipe(mergeMap((done) => this.settle(task, done))).subscribe({
      complete: () => {
        this.life.remove(sub);
        this.running.delete(a.taskId);
        this.pump();
        this.maybeFinish();
      },
    });
    if (!sub.closed) this.life.add(sub);
  }

  /** COMPLETE or FAIL, then the event. Never errors. */
  private settle(task: ActionTask, done: Done): Observable<never> {
    const base = { workerId: this.r.workerId, action: task.action, taskId: task.taskId };
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
        result = toPayload(value, this.core.codec);
        if (result.length > MAX_ACTION_RESULT_BYTES) failure = new ActionResultTooLargeError(result.length);
      } catch (e) {
        failure = new NonRetryableError(`marshal error: ${describeError(e)}`, { cause: e });
      }
      if (failure === undefined && result) {
        const bytes = result;
        return this.settled(
          this.settleRequest(Op.ActionComplete, encodeActionComplete({ ...base, outcome, result: bytes })),
          (settleError) => ({ type: 'task-completed', task, outcome, result: bytes, ...(settleError !== undefined ? { settleError } : {}) }),
        );
      }
      return this.settle(task, { ok: false, error: failure });
    }
    const { retry: again, message } = failureOf(done.error);
    return this.settled(
      this.settleRequest(Op.ActionFail, encodeActionFail({ ...base, retry: again, error: message })),
      (settleError) => ({ type: 'task-failed', task, error: done.error, retry: again, ...(settleError !== undefined ? { settleError } : {}) }),
    );
  }

  /**
   * Sends a settle request through the client's settle coalescer (as its own batch of one, sent at
   * once), so that `client.close()` waits for it like for any other settle.
   */
  private viaCoalescer(request$: Observable<void>): Observable<void> {
    const settler: Settler<string> = { maxBatch: 1, ack: () => request$, nack: () => EMPTY, touch: () => EMPTY };
    return this.core.settles.ack(settler, '');
  }

  /** Runs a settle through the coalescer, then emits its event. */
  private settled(request$: Observable<void>, event: (settleError?: unknown) => WorkerEvent): Observable<never> {
    return this.viaCoalescer(request$).pipe(
      last(null, undefined),
      map(() => event()),
      catchError((e: unknown) => of(event(e))),
      tap((ev) => this.emit(ev)),
      ignoreElements(),
    );
  }

  // ---- stopping ------------------------------------------------------------------------------

  /**
   * Stops awaiting; running tasks finish and settle; then the worker deregisters. Running handlers
   * get the worker's own `drainTimeoutMs` if set, else `requestedMs` (`flo.drain({ timeoutMs })`),
   * else the default.
   */
  drain(reason: DrainReason, requestedMs?: number): void {
    if (this.phase === 'draining' || this.phase === 'finishing' || this.phase === 'done') return;
    const wasRunning = this.phase === 'running';
    this.phase = 'draining';
    this.emit({ type: 'draining', reason });
    this.polling.unsubscribe(); // parked awaits are cancelled: their late replies are handed back
    this.awaits.clear();
    const limit = this.r.drainTimeoutMs ?? requestedMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (limit !== Infinity) {
      // Handlers still running then are abandoned: failed with retry=1, then the worker deregisters.
      this.life.add(this.timer(limit).subscribe(() => this.abandon$.next(limit)));
    }
    if (wasRunning) this.maybeFinish();
    // else: registration still in flight; `registered()` finishes the drain.
  }

  private maybeFinish(): void {
    if (this.phase !== 'draining' || this.running.size > 0) return;
    this.phase = 'finishing';
    this.life.add(
      this.request(Op.WorkerDeregister, encodeWorkerDeregister({ workerId: this.r.workerId }))
        .pipe(catchError(() => EMPTY))
        .subscribe({
          complete: () => {
            this.phase = 'done';
            this.emit({ type: 'deregistered', workerId: this.r.workerId });
            this.life.unsubscribe();
            this.closeFork();
            if (!this.subscriber.closed) this.subscriber.complete();
          },
        }),
    );
  }

  /** Ends the worker with an error (a failed registration, a closed client): nothing more is sent. */
  private fatal(e: unknown): void {
    this.phase = 'done';
    this.polling.unsubscribe();
    this.life.unsubscribe();
    this.closeFork();
    if (!this.subscriber.closed) this.subscriber.error(e);
  }

  /** Closes the sibling client of the awaits, if the worker opened one. */
  private closeFork(): void {
    this.forked?.close().catch(() => undefined);
  }

}
