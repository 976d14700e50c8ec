/**
 * The lifecycle of an action worker behind `flo.actions.worker(handlers, options)`
 * (`docs/protocol-decisions.md` #5, #27-#30).
 *
 * Subscribing registers the actions and the worker, heartbeats, and long-polls ACTION_AWAIT with
 * ONE await per free slot (the protocol hands out one task per await: the MaxTasks option 0x42 is
 * defined but nothing implements it), so `awaits in flight + tasks running <= concurrency` always
 * holds. Each task runs its handler (a value, a Promise or an Observable), touches its lease while
 * the handler runs, then settles with COMPLETE (the result encoded by the client's codec) or FAIL.
 * Unsubscribing drains: no new awaits, running tasks finish and settle (those still running after
 * `drainTimeoutMs` are failed with retry=1), then WORKER_DEREGISTER.
 *
 * The awaits run on a connection of their own (as the Go worker's do): `awaitClient` when
 * given, else a sibling of the client's connection opened for the worker and closed after it
 * deregistered (`dedicatedAwaitConnection`), else the client's own. Everything else (registration,
 * heartbeats, COMPLETE / FAIL / TOUCH, deregistration) uses the client's connection.
 *
 * Phases (one field, `phase`): registering → running → draining → finishing → done; a failed
 * registration or a closed client goes straight to done (`fatal`). One task, from its await
 * reply to its settle, is `task.ts`'s. This module and `task.ts` are loaded on demand by
 * `start.ts`, when a worker is first subscribed: only types of them may be imported elsewhere.
 */
import {
  catchError,
  concat,
  defer,
  EMPTY,
  exhaustMap,
  filter,
  from,
  merge,
  Observable,
  of,
  retry,
  share,
  Subject,
  Subscription,
  take,
  tap,
  throwError,
  timer,
  type Subscriber,
} from 'rxjs';
import type { RequestChannel } from '../../connection/types.js';
import { encodeActionRegister } from '../../protocol/action.js';
import { ClientClosedError, isBadRequest, isConnectionLost, isNotFound, isTimeout } from '../../protocol/errors.js';
import { type ResponseFrame } from '../../protocol/frame.js';
import { ClientOp as Op } from '../../protocol/client-opcodes.js';
import { Status } from '../../protocol/status.js';
import {
  decodeActionAwaitReply,
  decodeWorkerHeartbeatReply,
  encodeActionAwait,
  encodeActionFail,
  encodeWorkerDeregister,
  encodeWorkerHeartbeat,
  encodeWorkerRegister,
  ProcessKind,
  WorkerStatus,
  WorkerType,
  type TaskAssignment,
} from '../../protocol/worker.js';
import { call, ignorePayload } from '../core/call.js';
import type { ClientCore, ForkedClient } from '../core/context.js';
import { createResumer, waitForReconnect } from '../core/poll.js';
import type { Settler } from '../core/settler.js';
import { settlesOf } from '../core/settles.js';
import { drainOf } from '../core/drain-of.js';
import type { ActionWorkerOptions, CheckedWorkerOptions, ResolvedWorkerOptions } from './options.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../core/drain-timeout.js';
import { runTask, type ActionTask, type TaskHost } from './task.js';

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
  /** A task whose await reply came after the worker stopped awaiting: failed at once with retry=1 (`docs/protocol-decisions.md` #5). */
  | { readonly type: 'task-returned'; readonly taskId: string; readonly action: string }
  | { readonly type: 'heartbeat'; readonly status: number; readonly load: number }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'error'; readonly error: unknown; readonly during: 'await' | 'heartbeat' }
  | { readonly type: 'draining'; readonly reason: DrainReason }
  | { readonly type: 'deregistered'; readonly workerId: string };

/** `flo-rx-<8 hex>`, a worker's id when its options give none. */
function randomWorkerId(): string {
  let hex = '';
  for (let i = 0; i < 8; i++) hex += Math.floor(Math.random() * 16).toString(16);
  return `flo-rx-${hex}`;
}

/**
 * A worker over options already checked (`start.ts` checks them when the worker is subscribed,
 * then loads this module). Each subscription is one run of the worker.
 */
export function runWorker(core: ClientCore, checked: CheckedWorkerOptions, options: ActionWorkerOptions): Observable<WorkerEvent> {
  return new Observable<WorkerEvent>((subscriber) => {
    const resolved: ResolvedWorkerOptions = {
      ...checked,
      ns: core.ns(options),
      workerId: options.workerId ?? randomWorkerId(),
      retryDelayMs: options.retryDelayMs === undefined ? 1000 : Math.max(0, options.retryDelayMs),
      slowHandlerMs: checked.slowHandlerMs ?? core.slowHandlerMs,
      scheduler: options.scheduler,
      names: [...checked.definitions.keys()],
    };
    let run: WorkerRun;
    try {
      run = new WorkerRun(core, resolved, options, subscriber);
    } catch (e) {
      subscriber.error(e); // a closed client cannot open the await connection
      return undefined;
    }
    run.start();
    return () => run.drain('unsubscribed');
  });
}

/** One subscription of a worker: the state machine. */
class WorkerRun {
  /** registering → running → draining → finishing → done. */
  private phase_: 'registering' | 'running' | 'draining' | 'finishing' | 'done' = 'registering';
  /** Subscriptions that live until the worker is deregistered (heartbeat, tasks, settles). */
  private readonly life_ = new Subscription();
  /** Subscriptions that end when the worker stops awaiting (awaits, await-connection watchers). */
  private readonly polling_ = new Subscription();
  private readonly awaits_ = new Set<Subscription>();
  private readonly running_ = new Set<string>();
  private paused_ = false;
  private pumping_ = false;
  private pumpAgain_ = false;
  /** Emits once when the drain timeout runs out (with that timeout): the handlers still running are abandoned. */
  private readonly abandon$_ = new Subject<number>();
  private readonly awaitChannel_: RequestChannel;
  /** The sibling client opened for the awaits (dedicated await connection); closed when the worker ends. */
  private readonly forked_: ForkedClient | undefined;
  private readonly resumer_: ReturnType<typeof createResumer>;
  private readonly reregister$_: Observable<void>;
  /** What a task may use of this worker (`task.ts`). */
  private readonly taskHost_: TaskHost;
  private readonly core_: ClientCore;
  private readonly r_: ResolvedWorkerOptions;
  private readonly options_: ActionWorkerOptions;
  private readonly subscriber_: Subscriber<WorkerEvent>;

  constructor(
    core_: ClientCore,
    r_: ResolvedWorkerOptions,
    options_: ActionWorkerOptions,
    subscriber_: Subscriber<WorkerEvent>,
  ) {
    this.core_ = core_;
    this.r_ = r_;
    this.options_ = options_;
    this.subscriber_ = subscriber_;
    if (options_.awaitClient) {
      this.awaitChannel_ = options_.awaitClient.core.channel;
    } else if (options_.dedicatedAwaitConnection !== false && core_.fork) {
      this.forked_ = core_.fork(); // lazy, as the client's: it connects with the first await
      this.awaitChannel_ = this.forked_.core.channel;
    } else {
      this.awaitChannel_ = core_.channel;
    }
    // Re-registration after the await connection came back, shared by the slots resuming together.
    this.reregister$_ = defer(() => this.registerWorker_()).pipe(
      tap({ complete: () => this.emit_({ type: 'registered', workerId: r_.workerId, actions: r_.names, reregistered: true }) }),
      share(),
    );
    this.resumer_ = createResumer(this.awaitChannel_, {
      onReconnect: () => this.reregister$_,
      ...(r_.scheduler ? { scheduler: r_.scheduler } : {}),
    });
    this.taskHost_ = {
      options: r_,
      codec: core_.codec,
      emitClientEvent: core_.emit,
      emit: (event) => this.emit_(event),
      timer: (ms, period) => this.timer_(ms, period),
      abandon$: this.abandon$_,
      settleRequest: (opcode, body) => this.settleRequest_(opcode, body),
      viaCoalescer: (request$) => this.viaCoalescer_(request$),
    };
  }

  private emit_(event: WorkerEvent): void {
    if (!this.subscriber_.closed) this.subscriber_.next(event);
  }

  private timer_(ms: number, period?: number): Observable<number> {
    const s = this.r_.scheduler;
    if (period === undefined) return s ? timer(ms, s) : timer(ms);
    return s ? timer(ms, period, s) : timer(ms, period);
  }

  // ---- requests ------------------------------------------------------------------------------

  private request_(opcode: number, body: Parameters<ClientCore['spec']>[1]): Observable<void> {
    return this.core_.call(this.core_.spec(opcode, body, { namespace: this.r_.ns }), ignorePayload);
  }

  /** A settle request (COMPLETE / FAIL / TOUCH), resent after a reconnect up to 3 times (as Go does). */
  private settleRequest_(opcode: number, body: Parameters<ClientCore['spec']>[1]): Observable<void> {
    return this.request_(opcode, body).pipe(
      retry({
        count: 3,
        delay: (e: unknown) => {
          if (isConnectionLost(e)) return waitForReconnect(this.core_.channel, e, this.r_.scheduler);
          if (isTimeout(e)) return of(0);
          return throwError(() => e);
        },
      }),
    );
  }

  private registerWorker_(): Observable<void> {
    const metadata = this.options_.labels ? JSON.stringify(this.options_.labels) : undefined;
    return this.request_(
      Op.WorkerRegister,
      encodeWorkerRegister({
        workerId: this.r_.workerId,
        workerType: WorkerType.Action,
        maxConcurrency: this.r_.concurrency,
        processes: this.r_.names.map((name) => ({ name, kind: ProcessKind.Action })),
        ...(metadata !== undefined ? { metadata } : {}),
        ...(this.options_.machineId !== undefined ? { machineId: this.options_.machineId } : {}),
      }),
    );
  }

  private registerActions_(): Observable<void> {
    if (this.options_.registerActions === false) return EMPTY;
    return merge(
      ...[...this.r_.definitions].map(([name, d]) =>
        this.request_(
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
    const registration = drainOf(this.core_).register();
    this.life_.add(() => registration.done());
    this.life_.add(drainOf(this.core_).requested$.pipe(take(1)).subscribe((r) => this.drain('requested', r.deadlineMs)));
    if (this.options_.until !== undefined) {
      this.life_.add(
        from(this.options_.until)
          .pipe(take(1))
          .subscribe({ next: () => this.drain('requested'), complete: () => this.drain('requested'), error: () => this.drain('requested') }),
      );
    }
    this.life_.add(
      concat(this.registerActions_(), this.registerWorker_()).subscribe({
        error: (e: unknown) => this.fatal_(e),
        complete: () => this.registered_(),
      }),
    );
  }

  private registered_(): void {
    const draining = this.phase_ === 'draining';
    if (!draining) this.phase_ = 'running';
    this.emit_({ type: 'registered', workerId: this.r_.workerId, actions: this.r_.names, reregistered: false });
    this.life_.add(
      this.timer_(this.r_.heartbeatMs, this.r_.heartbeatMs)
        .pipe(exhaustMap(() => this.heartbeat_()))
        .subscribe(),
    );
    if (draining) {
      this.maybeFinish_();
      return;
    }
    this.polling_.add(this.resumer_.watch.subscribe());
    let down = false;
    this.polling_.add(
      this.awaitChannel_.state$.subscribe((s) => {
        if (s === 'reconnecting' && !down) this.emit_({ type: 'reconnecting' });
        down = s === 'reconnecting' || s === 'connecting';
      }),
    );
    if (this.awaitChannel_ !== this.core_.channel) {
      // The awaits would outlive a closed client on their own connection: end as they would on it.
      this.polling_.add(
        this.core_.channel.state$.pipe(filter((s) => s === 'closed'), take(1)).subscribe(() => this.clientClosed_()),
      );
    }
    this.pump_();
  }

  private heartbeat_(): Observable<unknown> {
    const load = this.running_.size;
    return this.core_
      .call(this.core_.spec(Op.WorkerHeartbeat, encodeWorkerHeartbeat({ workerId: this.r_.workerId, currentLoad: load }), { namespace: this.r_.ns }), decodeWorkerHeartbeatReply)
      .pipe(
        tap((status) => {
          this.emit_({ type: 'heartbeat', status, load });
          if (status === WorkerStatus.Draining) this.drain('server');
        }),
        catchError((e: unknown) => {
          // The server forgot the worker (restart, deregistered elsewhere): register again.
          if (isNotFound(e) && this.phase_ === 'running') return this.reregister$_;
          this.emit_({ type: 'error', error: e, during: 'heartbeat' });
          return EMPTY;
        }),
        catchError(() => EMPTY),
      );
  }

  /** Starts awaits while slots are free: awaits in flight + tasks running never exceed concurrency. */
  private pump_(): void {
    if (this.pumping_) {
      this.pumpAgain_ = true;
      return;
    }
    this.pumping_ = true;
    try {
      do {
        this.pumpAgain_ = false;
        while (this.phase_ === 'running' && !this.paused_ && this.awaits_.size + this.running_.size < this.r_.concurrency) this.startAwait_();
      } while (this.pumpAgain_);
    } finally {
      this.pumping_ = false;
    }
  }

  private startAwait_(): void {
    const spec = this.core_.spec(
      Op.ActionAwait,
      encodeActionAwait({ workerId: this.r_.workerId, actions: this.r_.names, blockMs: this.r_.blockMs }),
      { namespace: this.r_.ns, blockMs: this.r_.blockMs, onLateReply: (reply) => this.lateReply_(reply) },
    );
    const slot = new Subscription();
    this.awaits_.add(slot);
    slot.add(() => this.awaits_.delete(slot));
    this.polling_.add(slot);
    slot.add(
      this.resumer_.run(() => call(this.awaitChannel_, spec, decodeActionAwaitReply)).subscribe({
        next: (task) => {
          this.awaits_.delete(slot);
          if (task) this.startTask_(task);
        },
        error: (e: unknown) => {
          this.awaits_.delete(slot);
          this.polling_.remove(slot);
          this.awaitFailed_(e);
        },
        complete: () => {
          this.awaits_.delete(slot);
          this.polling_.remove(slot);
          this.pump_();
        },
      }),
    );
  }

  /**
   * The client's connection closed for good (`close()`, or lost without reconnect) while the awaits
   * ran elsewhere: end with the error its requests now fail with, as a shared connection would.
   */
  private clientClosed_(): void {
    this.request_(Op.WorkerHeartbeat, encodeWorkerHeartbeat({ workerId: this.r_.workerId, currentLoad: this.running_.size })).subscribe({
      error: (e: unknown) => this.fatal_(e),
      complete: () => this.fatal_(new ClientClosedError('flo: the client is closed')),
    });
  }

  private awaitFailed_(e: unknown): void {
    if (this.phase_ !== 'running') return;
    // Closed client, or a lost connection that will not come back (reconnect disabled): give up.
    if (e instanceof ClientClosedError || isConnectionLost(e)) return this.fatal_(e);
    if (isBadRequest(e) && /draining/i.test(e.message)) return this.drain('server');
    this.emit_({ type: 'error', error: e, during: 'await' });
    if (this.paused_) return;
    this.paused_ = true;
    this.polling_.add(
      this.timer_(this.r_.retryDelayMs).subscribe(() => {
        this.paused_ = false;
        this.pump_();
      }),
    );
  }

  /** An await reply that came after its subscriber left: fail its task at once with retry=1 (`docs/protocol-decisions.md` #5). */
  private lateReply_(reply: ResponseFrame): void {
    if (reply.status !== Status.OK) return;
    let task: TaskAssignment | null;
    try {
      task = decodeActionAwaitReply(reply.payload);
    } catch {
      return;
    }
    if (!task) return;
    const { taskId, taskType } = task;
    this.viaCoalescer_(
      this.settleRequest_(Op.ActionFail, encodeActionFail({ workerId: this.r_.workerId, action: taskType, taskId, retry: true, error: 'worker stopped before running the task' })),
    ).subscribe({ error: () => undefined });
    this.emit_({ type: 'task-returned', taskId, action: taskType });
  }

  // ---- tasks ---------------------------------------------------------------------------------

  private startTask_(a: TaskAssignment): void {
    this.running_.add(a.taskId);
    const sub = runTask(this.taskHost_, a).subscribe({
      complete: () => {
        this.life_.remove(sub);
        this.running_.delete(a.taskId);
        this.pump_();
        this.maybeFinish_();
      },
    });
    if (!sub.closed) this.life_.add(sub);
  }


  /**
   * Sends a settle request through the client's settle coalescer (as its own batch of one, sent at
   * once), so that `client.close()` waits for it like for any other settle.
   */
  private viaCoalescer_(request$: Observable<void>): Observable<void> {
    const settler: Settler<string> = { maxBatch: 1, ack: () => request$, nack: () => EMPTY, touch: () => EMPTY };
    return settlesOf(this.core_).ack(settler, '');
  }

  /** Runs a settle through the coalescer, then emits its event. */
  // ---- stopping ------------------------------------------------------------------------------

  /**
   * Stops awaiting; running tasks finish and settle; then the worker deregisters. Running handlers
   * get the worker's own `drainTimeoutMs` if set, else `requestedMs` (`flo.drain({ timeoutMs })`),
   * else the default.
   */
  drain(reason: DrainReason, requestedMs?: number): void {
    if (this.phase_ === 'draining' || this.phase_ === 'finishing' || this.phase_ === 'done') return;
    const wasRunning = this.phase_ === 'running';
    this.phase_ = 'draining';
    this.emit_({ type: 'draining', reason });
    this.polling_.unsubscribe(); // parked awaits are cancelled: their late replies are handed back
    this.awaits_.clear();
    const limit = this.r_.drainTimeoutMs ?? requestedMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (limit !== Infinity) {
      // Handlers still running then are abandoned: failed with retry=1, then the worker deregisters.
      this.life_.add(this.timer_(limit).subscribe(() => this.abandon$_.next(limit)));
    }
    if (wasRunning) this.maybeFinish_();
    // else: registration still in flight; `registered()` finishes the drain.
  }

  private maybeFinish_(): void {
    if (this.phase_ !== 'draining' || this.running_.size > 0) return;
    this.phase_ = 'finishing';
    this.life_.add(
      this.request_(Op.WorkerDeregister, encodeWorkerDeregister({ workerId: this.r_.workerId }))
        .pipe(catchError(() => EMPTY))
        .subscribe({
          complete: () => {
            this.phase_ = 'done';
            this.emit_({ type: 'deregistered', workerId: this.r_.workerId });
            this.life_.unsubscribe();
            this.closeFork_();
            if (!this.subscriber_.closed) this.subscriber_.complete();
          },
        }),
    );
  }

  /** Ends the worker with an error (a failed registration, a closed client): nothing more is sent. */
  private fatal_(e: unknown): void {
    this.phase_ = 'done';
    this.polling_.unsubscribe();
    this.life_.unsubscribe();
    this.closeFork_();
    if (!this.subscriber_.closed) this.subscriber_.error(e);
  }

  /** Closes the sibling client of the awaits, if the worker opened one. */
  private closeFork_(): void {
    this.forked_?.close().catch(() => undefined);
  }

}
