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
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  type ActionWorkerOptions,
  type CheckedWorkerOptions,
  type ResolvedWorkerOptions,
} from './options.js';
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
  /** What a task may use of this worker (`task.ts`). */
  private readonly taskHost: TaskHost;

  constructor(
    private readonly core: ClientCore,
    private readonly r: ResolvedWorkerOptions,
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
    this.taskHost = {
      options: r,
      codec: core.codec,
      emitClientEvent: core.emit,
      emit: (event) => this.emit(event),
      timer: (ms, period) => this.timer(ms, period),
      abandon$: this.abandon$,
      settleRequest: (opcode, body) => this.settleRequest(opcode, body),
      viaCoalescer: (request$) => this.viaCoalescer(request$),
    };
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

  /** A settle request (COMPLETE / FAIL / TOUCH), resent after a reconnect up to 3 times (as Go does). */
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
    const registration = drainOf(this.core).register();
    this.life.add(() => registration.done());
    this.life.add(drainOf(this.core).requested$.pipe(take(1)).subscribe((r) => this.drain('requested', r.deadlineMs)));
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

  /** An await reply that came after its subscriber left: fail its task at once with retry=1 (`docs/protocol-decisions.md` #5). */
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

  private startTask(a: TaskAssignment): void {
    this.running.add(a.taskId);
    const sub = runTask(this.taskHost, a).subscribe({
      complete: () => {
        this.life.remove(sub);
        this.running.delete(a.taskId);
        this.pump();
        this.maybeFinish();
      },
    });
    if (!sub.closed) this.life.add(sub);
  }


  /**
   * Sends a settle request through the client's settle coalescer (as its own batch of one, sent at
   * once), so that `client.close()` waits for it like for any other settle.
   */
  private viaCoalescer(request$: Observable<void>): Observable<void> {
    const settler: Settler<string> = { maxBatch: 1, ack: () => request$, nack: () => EMPTY, touch: () => EMPTY };
    return settlesOf(this.core).ack(settler, '');
  }

  /** Runs a settle through the coalescer, then emits its event. */
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
