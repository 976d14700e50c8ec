/**
 * The action registry, action runs and the worker registry of the embedded server, shared by the
 * actions subsystem (wire handlers) and the workflow engine (which invokes actions for its steps and
 * listens for their end). Plain state machine: time from the clock, parks through `Waiters`.
 *
 * Semantics: Flo's actions and workers, with the choices of `docs/protocol-decisions.md` #25-#28 and #30.
 *
 * Persistence (with a data directory): tables `action.def`, `action.run` (lease end absolute),
 * `action.worker` and `action.meta` (run counter). Changes are announced before they are made; the
 * pending sets, idempotency index and lease timers are rebuilt by `loaded()` (a lease that ran out
 * while the server was down expires at start).
 */
import { ActionRunStatus, type ActionCaller, WorkerStatus } from '../../protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Waiters, type ParkingLimits } from '../waiters.js';
import { NO_CHANGE_LOG, type Persistence } from '../storage/types.js';
import { RunIdGenerator } from './ids.js';
import { isPlainObject, tryParseJson } from './util.js';

export interface ActionRecord {
  readonly namespace: string;
  readonly name: string;
  readonly actionType: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly description?: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly createdAt: number;
}

/** 0 direct, 1 workflow, 2 trigger. */
export type RunSource = 0 | 1 | 2;

export interface ActionRun {
  readonly id: string;
  readonly namespace: string;
  readonly action: string;
  readonly input: Uint8Array;
  /** Required worker labels (a JSON object), if any. */
  readonly labels?: Record<string, unknown>;
  readonly priority: number;
  readonly createdAt: number;
  readonly seq: number;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly caller?: ActionCaller;
  readonly source: RunSource;
  readonly idempotencyKey?: string;
  status: number;
  /** Not claimable before this time (delay, retry backoff). */
  availableAt: number;
  startedAt?: number;
  completedAt?: number;
  attempt: number;
  workerId?: string;
  result?: Uint8Array;
  outcome?: string;
  error?: string;
  leaseEnd?: number;
  leaseTimer?: TimerHandle;
}

export interface WorkerProcessState {
  readonly name: string;
  readonly kind: number;
  runCount: bigint;
  failCount: bigint;
  lastRunAt: number;
}

export interface WorkerState {
  readonly namespace: string;
  readonly id: string;
  readonly workerType: number;
  status: number;
  readonly maxConcurrency: number;
  readonly processes: Map<string, WorkerProcessState>;
  readonly metadata?: string;
  readonly labels?: Record<string, unknown>;
  readonly machineId?: string;
  tasksCompleted: bigint;
  tasksFailed: bigint;
  currentLoad: number;
  readonly registeredAt: number;
  lastHeartbeat: number;
}

export interface InvokeOptions {
  readonly namespace: string;
  readonly action: string;
  readonly input: Uint8Array;
  readonly priority?: number;
  readonly delayMs?: number;
  readonly idempotencyKey?: string;
  readonly labels?: Record<string, unknown>;
  readonly caller?: ActionCaller;
  readonly source?: RunSource;
}

export type InvokeResult =
  | { readonly kind: 'created' | 'existing'; readonly run: ActionRun }
  | { readonly kind: 'not_found' };

/** Settling outcomes: `ok`, or why the run could not be settled. */
export type SettleResult = 'ok' | 'not_found' | 'not_running';

/** Called whenever a run reaches a terminal state (completed, failed, cancelled, timed_out). */
export type RunListener = (run: ActionRun) => void;

export const HEARTBEAT_UNHEALTHY_MS = 90_000;
export const RETRY_BACKOFF_BASE_MS = 1_000;
export const RETRY_BACKOFF_MAX_MS = 60_000;

const sep = '\u0000';
const nsKey = (ns: string, name: string) => `${ns}${sep}${name}`;
export const awaitKey = (ns: string) => `actions-await${sep}${ns}`;

function isTerminal(status: number): boolean {
  return status >= ActionRunStatus.Completed;
}

/** Label rule: every required key present with an equal scalar (same type and value). */
export function labelsAllow(required: Record<string, unknown> | undefined, workerLabels: Record<string, unknown> | undefined): boolean {
  if (!required) return true;
  const keys = Object.keys(required);
  if (keys.length === 0) return true;
  if (!workerLabels) return false;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(workerLabels, k)) return false;
    const a = required[k];
    const b = workerLabels[k];
    if (a === null || b === null) {
      if (a !== b) return false;
      continue;
    }
    if (typeof a === 'object' || typeof b === 'object') return false;
    if (typeof a !== typeof b || a !== b) return false;
  }
  return true;
}

export class ActionStore {
  readonly waiters: Waiters;
  private readonly actions = new Map<string, ActionRecord>();
  private readonly runs = new Map<string, ActionRun>();
  /** ns+action → pending run ids. */
  private readonly pending = new Map<string, Set<string>>();
  private readonly idempotency = new Map<string, string>();
  private readonly workers = new Map<string, WorkerState>();
  private readonly listeners = new Set<RunListener>();
  private readonly timers = new Set<TimerHandle>();
  private readonly ids: RunIdGenerator;
  private seq = 0;
  private readonly changes = { def: NO_CHANGE_LOG, run: NO_CHANGE_LOG, worker: NO_CHANGE_LOG, meta: NO_CHANGE_LOG };

  constructor(
    readonly clock: Clock,
    persistence?: Persistence,
    parking?: ParkingLimits,
  ) {
    this.waiters = new Waiters(clock, parking);
    this.ids = new RunIdGenerator(clock, 'act-');
    if (persistence) this.persistTo(persistence);
  }

  // ---- persistence ---------------------------------------------------------------------------

  private persistTo(p: Persistence): void {
    const loaded = () => this.loaded();
    this.changes.def = p.table({
      name: 'action.def',
      save: (k) => {
        const a = this.actions.get(k);
        return a ? { ...a } : undefined;
      },
      load: (k, v) => (v === undefined ? this.actions.delete(k) : this.actions.set(k, v as ActionRecord)),
    });
    this.changes.run = p.table({
      name: 'action.run',
      save: (id) => {
        const run = this.runs.get(id);
        if (!run) return undefined;
        const { leaseTimer: _timer, ...rest } = run;
        return rest;
      },
      load: (id, v) => {
        const old = this.runs.get(id);
        if (old) {
          this.unmarkPending(old);
          this.clearLease(old);
        }
        if (v === undefined) this.runs.delete(id);
        else this.runs.set(id, { ...(v as ActionRun) });
        this.loadedRuns.add(id);
      },
      loaded,
    });
    this.changes.worker = p.table({
      name: 'action.worker',
      save: (k) => {
        const w = this.workers.get(k);
        return w ? { ...w, processes: [...w.processes.values()].map((p) => ({ ...p })) } : undefined;
      },
      load: (k, v) => {
        if (v === undefined) {
          this.workers.delete(k);
          return;
        }
        const w = v as Omit<WorkerState, 'processes'> & { processes: WorkerProcessState[] };
        this.workers.set(k, { ...w, processes: new Map(w.processes.map((p) => [p.name, p])) });
      },
    });
    this.changes.meta = p.table({ name: 'action.meta', save: () => this.seq, load: (_k, v) => void (this.seq = typeof v === 'number' ? v : 0) });
  }

  private readonly loadedRuns = new Set<string>();

  /** After loads: pending sets, idempotency index and lease timers of the loaded runs. */
  private loaded(): void {
    const ids = [...this.loadedRuns];
    this.loadedRuns.clear();
    for (const id of ids) {
      const run = this.runs.get(id);
      if (!run) continue;
      if (run.idempotencyKey !== undefined) this.idempotency.set(`${nsKey(run.namespace, run.action)}${sep}${run.idempotencyKey}`, run.id);
      if (run.status === ActionRunStatus.Pending) this.markPending(run);
      else if (run.status === ActionRunStatus.Running) {
        const attempt = run.attempt;
        run.leaseTimer = this.timer(Math.max(0, (run.leaseEnd ?? 0) - this.clock.now()), () => this.leaseExpired(run, attempt));
      }
    }
  }

  /** Announces a change of a worker's state made outside the store (heartbeat, drain). */
  workerWillChange(namespace: string, id: string): void {
    this.changes.worker(nsKey(namespace, id));
  }

  private runWillChange(run: ActionRun): void {
    this.changes.run(run.id);
  }

  onRunFinished(fn: RunListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---- actions -------------------------------------------------------------------------------

  registerAction(a: Omit<ActionRecord, 'version' | 'enabled' | 'createdAt'>): ActionRecord {
    const key = nsKey(a.namespace, a.name);
    const prev = this.actions.get(key);
    const rec: ActionRecord = { ...a, version: (prev?.version ?? 0) + 1, enabled: true, createdAt: this.clock.now() };
    this.changes.def(key);
    this.actions.set(key, rec);
    return rec;
  }

  getAction(namespace: string, name: string): ActionRecord | undefined {
    return this.actions.get(nsKey(namespace, name));
  }

  deleteAction(namespace: string, name: string): void {
    this.changes.def(nsKey(namespace, name));
    this.actions.delete(nsKey(namespace, name));
  }

  listActions(namespace: string): ActionRecord[] {
    return [...this.actions.values()].filter((a) => a.namespace === namespace).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  // ---- runs ----------------------------------------------------------------------------------

  invoke(o: InvokeOptions): InvokeResult {
    const action = this.getAction(o.namespace, o.action);
    if (!action) return { kind: 'not_found' };
    const idemKey = o.idempotencyKey !== undefined ? `${nsKey(o.namespace, o.action)}${sep}${o.idempotencyKey}` : undefined;
    if (idemKey !== undefined) {
      const existing = this.runs.get(this.idempotency.get(idemKey) ?? '');
      if (existing) return { kind: 'existing', run: existing };
    }
    const now = this.clock.now();
    const delay = Math.max(0, o.delayMs ?? 0);
    let id = this.ids.next();
    while (this.runs.has(id)) id = this.ids.next();
    this.changes.run(id);
    this.changes.meta('');
    const run: ActionRun = {
      id,
      namespace: o.namespace,
      action: o.action,
      input: o.input,
      priority: o.priority ?? 10,
      createdAt: now,
      seq: this.seq++,
      maxRetries: action.maxRetries,
      timeoutMs: action.timeoutMs,
      source: o.source ?? 0,
      status: ActionRunStatus.Pending,
      availableAt: now + delay,
      attempt: 0,
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.caller ? { caller: o.caller } : {}),
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
    };
    this.runs.set(id, run);
    if (idemKey !== undefined) this.idempotency.set(idemKey, id);
    this.markPending(run);
    return { kind: 'created', run };
  }

  getRun(namespace: string, id: string): ActionRun | undefined {
    const run = this.runs.get(id);
    return run && run.namespace === namespace ? run : undefined;
  }

  /** Runs of a namespace (optionally one action), newest first (`docs/protocol-decisions.md` #35). */
  listRuns(namespace: string, action: string, limit: number): ActionRun[] {
    const out = [...this.runs.values()].filter((r) => r.namespace === namespace && (action === '' || r.action === action));
    out.sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
    return out.slice(0, limit);
  }

  private markPending(run: ActionRun): void {
    const key = nsKey(run.namespace, run.action);
    let set = this.pending.get(key);
    if (!set) this.pending.set(key, (set = new Set()));
    set.add(run.id);
    const wait = run.availableAt - this.clock.now();
    if (wait > 0) this.timer(wait, () => this.waiters.wake(awaitKey(run.namespace)));
    else this.waiters.wake(awaitKey(run.namespace));
  }

  private unmarkPending(run: ActionRun): void {
    this.pending.get(nsKey(run.namespace, run.action))?.delete(run.id);
  }

  private timer(ms: number, fn: () => void): TimerHandle {
    const h = this.clock.setTimer(ms, () => {
      this.timers.delete(h);
      fn();
    });
    this.timers.add(h);
    return h;
  }

  /**
   * Claims the best claimable run among `actions` for a worker (`docs/protocol-decisions.md` #26: priority higher
   * first, then oldest; never before its delay; labels must allow it).
   */
  claim(namespace: string, workerId: string, actions: readonly string[]): ActionRun | undefined {
    const now = this.clock.now();
    const worker = this.workers.get(nsKey(namespace, workerId));
    let best: ActionRun | undefined;
    for (const name of new Set(actions)) {
      const set = this.pending.get(nsKey(namespace, name));
      if (!set) continue;
      for (const id of set) {
        const run = this.runs.get(id);
        if (!run || run.status !== ActionRunStatus.Pending || run.availableAt > now) continue;
        if (!labelsAllow(run.labels, worker?.labels)) continue;
        if (!best || run.priority > best.priority || (run.priority === best.priority && (run.createdAt < best.createdAt || (run.createdAt === best.createdAt && run.seq < best.seq)))) best = run;
      }
    }
    if (!best) return undefined;
    const run = best;
    this.runWillChange(run);
    if (worker) this.workerWillChange(namespace, workerId);
    this.unmarkPending(run);
    run.status = ActionRunStatus.Running;
    run.startedAt = now;
    run.attempt += 1;
    run.workerId = workerId;
    if (worker) worker.currentLoad += 1;
    this.setLease(run, run.timeoutMs);
    return run;
  }

  private setLease(run: ActionRun, ms: number): void {
    this.runWillChange(run);
    run.leaseTimer?.cancel();
    if (run.leaseTimer) this.timers.delete(run.leaseTimer);
    run.leaseEnd = this.clock.now() + ms;
    const attempt = run.attempt;
    run.leaseTimer = this.timer(ms, () => this.leaseExpired(run, attempt));
  }

  private clearLease(run: ActionRun): void {
    if (run.leaseTimer) {
      run.leaseTimer.cancel();
      this.timers.delete(run.leaseTimer);
    }
    run.leaseTimer = undefined;
    run.leaseEnd = undefined;
  }

  /** `docs/protocol-decisions.md` #27: a lease that runs out is a retryable failure; visible again at once. */
  private leaseExpired(run: ActionRun, attempt: number): void {
    if (run.status !== ActionRunStatus.Running || run.attempt !== attempt) return;
    this.runWillChange(run);
    run.leaseTimer = undefined;
    run.leaseEnd = undefined;
    this.releaseLoad(run.namespace, run.workerId);
    run.error = 'lease expired';
    if (run.attempt < run.maxRetries) {
      run.status = ActionRunStatus.Pending;
      run.startedAt = undefined;
      run.availableAt = this.clock.now();
      this.markPending(run);
    } else {
      run.status = ActionRunStatus.TimedOut;
      run.completedAt = this.clock.now();
      this.emitFinished(run);
    }
  }

  private releaseLoad(namespace: string, workerId: string | undefined): void {
    if (workerId === undefined) return;
    const w = this.workers.get(nsKey(namespace, workerId));
    if (w && w.currentLoad > 0) {
      this.workerWillChange(namespace, workerId);
      w.currentLoad -= 1;
    }
  }

  private settleStats(namespace: string, workerId: string, action: string, ok: boolean): void {
    const w = this.workers.get(nsKey(namespace, workerId));
    if (!w) return;
    this.workerWillChange(namespace, workerId);
    if (ok) w.tasksCompleted += 1n;
    else w.tasksFailed += 1n;
    const p = w.processes.get(action);
    if (p) {
      if (ok) p.runCount += 1n;
      else p.failCount += 1n;
      p.lastRunAt = this.clock.now();
    }
  }

  /** `docs/protocol-decisions.md` #28: only a `running` run can be completed (from any worker id). */
  complete(namespace: string, workerId: string, taskId: string, outcome: string, result: Uint8Array): SettleResult {
    const run = this.getRun(namespace, taskId);
    if (!run) return 'not_found';
    if (run.status !== ActionRunStatus.Running) return 'not_running';
    this.runWillChange(run);
    this.clearLease(run);
    this.releaseLoad(namespace, run.workerId);
    run.status = ActionRunStatus.Completed;
    run.completedAt = this.clock.now();
    run.outcome = outcome;
    run.result = result;
    run.error = undefined;
    run.workerId = workerId;
    this.settleStats(namespace, workerId, run.action, true);
    this.emitFinished(run);
    return 'ok';
  }

  /**
   * retry && attempt < max_retries → pending again after `1000 × 2^(attempt−1)` ms (capped at 60 s);
   * otherwise failed.
   */
  fail(namespace: string, workerId: string, taskId: string, retry: boolean, error: string): SettleResult {
    const run = this.getRun(namespace, taskId);
    if (!run) return 'not_found';
    if (run.status !== ActionRunStatus.Running) return 'not_running';
    this.runWillChange(run);
    this.clearLease(run);
    this.releaseLoad(namespace, run.workerId);
    run.error = error;
    run.workerId = workerId;
    this.settleStats(namespace, workerId, run.action, false);
    if (retry && run.attempt < run.maxRetries) {
      run.status = ActionRunStatus.Pending;
      run.startedAt = undefined;
      run.availableAt = this.clock.now() + retryBackoffMs(run.attempt);
      this.markPending(run);
    } else {
      run.status = ActionRunStatus.Failed;
      run.completedAt = this.clock.now();
      this.emitFinished(run);
    }
    return 'ok';
  }

  /** `docs/protocol-decisions.md` #27: the lease end becomes now + extendMs. */
  touch(namespace: string, taskId: string, extendMs: number): SettleResult {
    const run = this.getRun(namespace, taskId);
    if (!run) return 'not_found';
    if (run.status !== ActionRunStatus.Running) return 'not_running';
    this.setLease(run, extendMs);
    return 'ok';
  }

  /** Cancels a run that is still pending (workflow cancel, `docs/protocol-decisions.md` #31). */
  cancelPending(namespace: string, id: string): boolean {
    const run = this.getRun(namespace, id);
    if (!run || run.status !== ActionRunStatus.Pending) return false;
    this.runWillChange(run);
    this.unmarkPending(run);
    run.status = ActionRunStatus.Cancelled;
    run.completedAt = this.clock.now();
    this.emitFinished(run);
    return true;
  }

  private emitFinished(run: ActionRun): void {
    if (!isTerminal(run.status)) return;
    for (const fn of [...this.listeners]) fn(run);
  }

  // ---- workers -------------------------------------------------------------------------------

  registerWorker(w: {
    namespace: string;
    id: string;
    workerType: number;
    maxConcurrency: number;
    processes: readonly { name: string; kind: number }[];
    metadata?: string;
    machineId?: string;
  }): WorkerState {
    const now = this.clock.now();
    const parsed = w.metadata !== undefined ? tryParseJson(w.metadata) : undefined;
    const state: WorkerState = {
      namespace: w.namespace,
      id: w.id,
      workerType: w.workerType,
      status: WorkerStatus.Active,
      maxConcurrency: w.maxConcurrency,
      processes: new Map(w.processes.map((p) => [p.name, { name: p.name, kind: p.kind, runCount: 0n, failCount: 0n, lastRunAt: 0 }])),
      tasksCompleted: 0n,
      tasksFailed: 0n,
      currentLoad: 0,
      registeredAt: now,
      lastHeartbeat: now,
      ...(w.metadata !== undefined ? { metadata: w.metadata } : {}),
      ...(isPlainObject(parsed) ? { labels: parsed } : {}),
      ...(w.machineId !== undefined ? { machineId: w.machineId } : {}),
    };
    this.workerWillChange(w.namespace, w.id);
    this.workers.set(nsKey(w.namespace, w.id), state);
    return state;
  }

  getWorker(namespace: string, id: string): WorkerState | undefined {
    return this.workers.get(nsKey(namespace, id));
  }

  deregisterWorker(namespace: string, id: string): void {
    this.workerWillChange(namespace, id);
    this.workers.delete(nsKey(namespace, id));
  }

  listWorkers(namespace: string): WorkerState[] {
    return [...this.workers.values()].filter((w) => w.namespace === namespace).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Status as reported: an active worker silent for more than 90 s reads as unhealthy. */
  workerStatus(w: WorkerState): number {
    if (w.status === WorkerStatus.Active && this.clock.now() - w.lastHeartbeat > HEARTBEAT_UNHEALTHY_MS) return WorkerStatus.Unhealthy;
    return w.status;
  }

  close(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.waiters.clear();
  }
}

export function retryBackoffMs(attempt: number): number {
  return Math.min(RETRY_BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_BACKOFF_MAX_MS);
}
