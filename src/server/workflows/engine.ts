/**
 * The workflow run engine (`docs/protocol-decisions.md` #31-#35): event-driven on
 * the injectable clock. A run advances step by step; an action step creates an action run in the
 * run's namespace (caller block filled) and parks; the run resumes as soon as that action run ends
 * (COMPLETE / FAIL / lease out / cancel). Signal deadlines, retry backoffs and polls are timers.
 *
 * Every entry point (wire handler, timer, action-run listener) goes through `run(fn)`, a trampoline,
 * so work triggered while advancing (a child run starting, a cancelled action run reporting back) is
 * done after the current advance instead of re-entering it.
 *
 * Persistence (with a data directory): tables `workflow.def`, `workflow.run` and `workflow.meta`
 * (see `stored.ts`). A run is announced as changing at each entry point and with every history
 * event; its timer is stored as what it wakes for and when (`RunWake`, absolute), so it is re-armed
 * at start (at once when it came due while the server was down).
 */
import { ActionRunStatus, WorkflowRunStatus, fromUtf8, utf8, workflowRunStatusName } from '../../protocol/index.js';
import type { TimerHandle } from '../clock.js';
import type { ServerEnv } from '../types.js';
import { RunIdGenerator } from '../actions/ids.js';
import type { ActionRun, ActionStore } from '../actions/store.js';
import {
  START_STEP,
  terminalStatus,
  type Backoff,
  type Executor,
  type Plan,
  type RetryPolicy,
  type RunStep,
  type Step,
  type TerminalStatus,
  type WaitStep,
  type WorkflowDefinition,
} from './definition.js';
import { applyMapping, evaluateOutput, searchAttributesJson, type PathScope } from './paths.js';
import { NO_CHANGE_LOG } from '../storage/types.js';
import { fromStoredDefinition, fromStoredRun, toStoredDefinition, toStoredRun } from './stored.js';

export interface HistoryEvent {
  readonly type: string;
  readonly detail: string;
  readonly timestamp: number;
}

export interface DefinitionRecord {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly text: Uint8Array;
  readonly createdAt: number;
  readonly def: WorkflowDefinition;
  disabled: boolean;
}

interface SignalRecord {
  readonly name: string;
  readonly payload: Uint8Array;
  readonly time: number;
  consumed: boolean;
}

interface PlanState {
  /** Executor indices in the order fixed when the step was entered (`docs/protocol-decisions.md` #34). */
  readonly order: readonly number[];
  position: number;
  executorRetries: number;
}

export interface WorkflowRun {
  readonly id: string;
  readonly namespace: string;
  readonly workflow: string;
  readonly version: string;
  readonly input: Uint8Array;
  readonly createdAt: number;
  readonly startedAt: number;
  readonly seq: number;
  readonly idempotencyKey?: string;
  readonly parentRunId?: string;
  status: number;
  completedAt?: number;
  currentStep: string;
  waitSignal?: string;
  readonly signals: SignalRecord[];
  readonly history: HistoryEvent[];
  readonly stepOutputs: Map<string, { output: string; outcome: string }>;
  pendingActionRunId?: string;
  pendingChildRunId?: string;
  retryCount: number;
  plan?: PlanState;
  pollAttempt: number;
  timer?: TimerHandle;
  /** What the armed timer wakes the run for, and when (absolute); kept with the run. */
  wake?: RunWake;
  output?: Uint8Array;
  searchAttributes?: string;
}

export type RunWake = { readonly kind: 'signal_timeout'; readonly step: string; readonly at: number } | { readonly kind: 'retry'; readonly at: number };

interface ExecutorHealth {
  apiOk: number;
  apiTotal: number;
  bizOk: number;
  bizTotal: number;
  consecutiveFailures: number;
  breaker: 'closed' | 'open' | 'half_open';
  openedAt: number;
  halfOpenCalls: number;
}

type Flow = 'stop' | 'continue';

const MAX_STEPS_PER_ADVANCE = 256;
const EXECUTION_OUTCOMES = new Set(['target_not_found', 'target_disabled', 'execution_failure']);
const FAILURE_OUTCOMES = new Set(['failure', 'execution_failure', 'target_not_found', 'target_disabled']);
const sep = '\u0000';
const key = (...parts: string[]) => parts.join(sep);

const TERMINAL_CODES: Record<TerminalStatus, number> = {
  completed: WorkflowRunStatus.Completed,
  failed: WorkflowRunStatus.Failed,
  cancelled: WorkflowRunStatus.Cancelled,
  timed_out: WorkflowRunStatus.TimedOut,
};

export function isTerminalRun(run: WorkflowRun): boolean {
  return run.status >= WorkflowRunStatus.Completed;
}

/** Delay before retry number `n` (1-based) of a policy (`docs/protocol-decisions.md` #34). */
export function backoffDelay(kind: Backoff, base: number, n: number, cap: number, random: () => number = Math.random): number {
  let d: number;
  switch (kind) {
    case 'constant':
      d = base;
      break;
    case 'linear':
      d = base * n;
      break;
    case 'exponential':
      d = base * 2 ** (n - 1);
      break;
    case 'exponential_jitter':
      d = base * 2 ** (n - 1) * (1 + 0.25 * random());
      break;
  }
  return Math.max(0, Math.min(Math.round(d), cap));
}

function retryDelay(p: RetryPolicy, n: number): number {
  return backoffDelay(p.backoff, p.initialDelayMs, n, p.maxDelayMs);
}

export class WorkflowEngine {
  private readonly defs = new Map<string, DefinitionRecord>();
  private readonly runs = new Map<string, WorkflowRun>();
  private readonly byActionRun = new Map<string, string>();
  private readonly idempotency = new Map<string, string>();
  private readonly health = new Map<string, ExecutorHealth>();
  private readonly ids: RunIdGenerator;
  private readonly queue: (() => void)[] = [];
  private draining = false;
  private seq = 0;
  private readonly unsubscribe: () => void;
  private readonly changes = { def: NO_CHANGE_LOG, run: NO_CHANGE_LOG, meta: NO_CHANGE_LOG };
  private readonly loadedRuns = new Set<string>();
  private readonly loadedDefs: Array<[string, string]> = [];
  /** Called for each definition the storage loads (start-up, rolled-back write): schedules and triggers follow it. */
  onDefinitionLoaded: ((namespace: string, name: string) => void) | undefined;

  constructor(
    private readonly env: ServerEnv,
    private readonly store: ActionStore,
  ) {
    this.ids = new RunIdGenerator(env.clock, 'wfr-');
    this.unsubscribe = store.onRunFinished((r) => this.run(() => this.onActionFinished(r)));
    if (env.persistence) this.persistTo(env.persistence);
  }

  // ---- persistence ---------------------------------------------------------------------------

  private persistTo(p: NonNullable<ServerEnv['persistence']>): void {
    this.changes.def = p.table({
      name: 'workflow.def',
      save: (k) => {
        const d = this.defs.get(k);
        return d ? toStoredDefinition(d) : undefined;
      },
      load: (k, v) => {
        const old = this.defs.get(k);
        if (v === undefined) this.defs.delete(k);
        else this.defs.set(k, fromStoredDefinition(v));
        const rec = this.defs.get(k) ?? old;
        if (rec) this.loadedDefs.push([rec.namespace, rec.name]);
      },
      loaded: () => {
        // Runs loaded in the same pass get their indexes first: a trigger or schedule that the
        // definition wakes must find the runs it already started (idempotency keys).
        this.loaded();
        const defs = this.loadedDefs.splice(0);
        for (const [ns, name] of defs) this.onDefinitionLoaded?.(ns, name);
      },
    });
    this.changes.run = p.table({
      name: 'workflow.run',
      save: (id) => {
        const r = this.runs.get(id);
        return r ? toStoredRun(r) : undefined;
      },
      load: (id, v) => {
        const old = this.runs.get(id);
        if (old) {
          this.clearTimer(old);
          if (old.pendingActionRunId !== undefined) this.byActionRun.delete(old.pendingActionRunId);
        }
        if (v === undefined) this.runs.delete(id);
        else this.runs.set(id, fromStoredRun(v));
        this.loadedRuns.add(id);
      },
      loaded: () => this.loaded(),
    });
    this.changes.meta = p.table({ name: 'workflow.meta', save: () => this.seq, load: (_k, v) => void (this.seq = typeof v === 'number' ? v : 0) });
  }

  /** After loads: indexes of the loaded runs rebuilt, their timers re-armed. */
  private loaded(): void {
    const ids = [...this.loadedRuns];
    this.loadedRuns.clear();
    for (const id of ids) {
      const run = this.runs.get(id);
      if (!run) continue;
      if (run.idempotencyKey !== undefined) this.idempotency.set(key(run.namespace, run.workflow, run.idempotencyKey), run.id);
      if (run.pendingActionRunId !== undefined && !isTerminalRun(run)) this.byActionRun.set(run.pendingActionRunId, run.id);
      if (run.wake && !isTerminalRun(run)) this.armTimer(run, run.wake);
    }
  }

  /** Announces a change of a definition made outside the engine (enable, disable). */
  definitionWillChange(namespace: string, name: string): void {
    this.changes.def(key(namespace, name));
  }

  private runWillChange(run: WorkflowRun): void {
    this.changes.run(run.id);
  }

  private now(): number {
    return this.env.clock.now();
  }

  /** Runs `fn` now, or after the work in progress (trampoline). */
  run(fn: () => void): void {
    this.queue.push(fn);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) this.queue.shift()!();
    } finally {
      this.draining = false;
    }
  }

  close(): void {
    this.unsubscribe();
    for (const r of this.runs.values()) r.timer?.cancel();
  }

  // ---- definitions ---------------------------------------------------------------------------

  putDefinition(namespace: string, name: string, text: Uint8Array, def: WorkflowDefinition): DefinitionRecord {
    const k = key(namespace, name);
    const prev = this.defs.get(k);
    const rec: DefinitionRecord = { namespace, name, version: def.version, text, createdAt: this.now(), def, disabled: prev?.disabled ?? false };
    this.changes.def(k);
    this.defs.set(k, rec);
    return rec;
  }

  getDefinition(namespace: string, name: string): DefinitionRecord | undefined {
    return this.defs.get(key(namespace, name));
  }

  listDefinitions(namespace: string): DefinitionRecord[] {
    return [...this.defs.values()].filter((d) => d.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- runs ----------------------------------------------------------------------------------

  getRun(namespace: string, id: string): WorkflowRun | undefined {
    const r = this.runs.get(id);
    return r && r.namespace === namespace ? r : undefined;
  }

  hasRunId(id: string): boolean {
    return this.runs.has(id);
  }

  findByIdempotencyKey(namespace: string, workflow: string, idem: string): WorkflowRun | undefined {
    const id = this.idempotency.get(key(namespace, workflow, idem));
    return id ? this.runs.get(id) : undefined;
  }

  /** Runs of a namespace, newest first (start time, then run id; `docs/protocol-decisions.md` #35). */
  listRuns(namespace: string): WorkflowRun[] {
    const out = [...this.runs.values()].filter((r) => r.namespace === namespace);
    out.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out;
  }

  /** Creates a run (status running, `firstEvent` logged) and runs its first step at once (#33). */
  startRun(o: {
    namespace: string;
    workflow: string;
    version: string;
    input: Uint8Array;
    runId?: string;
    idempotencyKey?: string;
    parentRunId?: string;
    firstEvent?: string;
  }): WorkflowRun {
    let id = o.runId;
    if (id === undefined) {
      id = this.ids.next();
      while (this.runs.has(id)) id = this.ids.next();
    }
    const now = this.now();
    const input = o.input.length > 0 ? o.input : utf8('{}');
    this.changes.run(id);
    this.changes.meta('');
    const run: WorkflowRun = {
      id,
      namespace: o.namespace,
      workflow: o.workflow,
      version: o.version,
      input,
      createdAt: now,
      startedAt: now,
      seq: this.seq++,
      status: WorkflowRunStatus.Running,
      currentStep: START_STEP,
      signals: [],
      history: [],
      stepOutputs: new Map(),
      retryCount: 0,
      pollAttempt: 0,
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
      ...(o.parentRunId !== undefined ? { parentRunId: o.parentRunId } : {}),
    };
    this.runs.set(id, run);
    if (o.idempotencyKey !== undefined) this.idempotency.set(key(o.namespace, o.workflow, o.idempotencyKey), id);
    const def = this.getDefinition(o.namespace, o.workflow)?.def;
    if (def) {
      const sa = searchAttributesJson(def.searchAttributes, this.scope(run));
      if (sa !== undefined) run.searchAttributes = sa;
    }
    this.event(run, o.firstEvent ?? 'workflow_started', fromUtf8(input));
    this.run(() => this.advance(run));
    return run;
  }

  /** `docs/protocol-decisions.md` #32: recorded in every state; resumes a run waiting for exactly this name. */
  signal(run: WorkflowRun, name: string, payload: Uint8Array): void {
    this.run(() => {
      this.runWillChange(run);
      run.signals.push({ name, payload, time: this.now(), consumed: false });
      if (isTerminalRun(run)) return;
      this.event(run, 'signal_received', name);
      if (run.status === WorkflowRunStatus.Waiting && run.waitSignal === name) {
        this.clearTimer(run);
        run.waitSignal = undefined;
        run.status = WorkflowRunStatus.Running;
        this.event(run, 'signal_matched', name);
        this.advance(run);
      }
    });
  }

  /** `docs/protocol-decisions.md` #31: applied before the reply; terminal runs are left as they are. */
  cancel(run: WorkflowRun, reason: string | undefined): void {
    this.run(() => {
      if (isTerminalRun(run)) return;
      this.runWillChange(run);
      const pending = run.pendingActionRunId;
      if (pending !== undefined) this.store.cancelPending(run.namespace, pending);
      this.finish(run, WorkflowRunStatus.Cancelled, reason || 'cancelled by user');
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  private event(run: WorkflowRun, type: string, detail: string): void {
    this.runWillChange(run);
    run.history.push({ type, detail, timestamp: this.now() });
  }

  private scope(run: WorkflowRun): PathScope {
    return { input: fromUtf8(run.input), steps: run.stepOutputs, runId: run.id, now: this.now() };
  }

  private clearTimer(run: WorkflowRun): void {
    run.timer?.cancel();
    run.timer = undefined;
    if (run.wake) {
      this.runWillChange(run);
      run.wake = undefined;
    }
  }

  private armTimer(run: WorkflowRun, wake: RunWake): void {
    this.clearTimer(run);
    this.runWillChange(run);
    const handle = this.env.clock.setTimer(Math.max(0, wake.at - this.now()), () => {
      if (run.timer !== handle) return;
      run.timer = undefined;
      this.runWillChange(run);
      run.wake = undefined;
      this.run(() => this.onWake(run, wake));
    });
    run.timer = handle;
    run.wake = wake;
  }

  private onWake(run: WorkflowRun, wake: RunWake): void {
    if (wake.kind === 'signal_timeout') {
      this.signalTimeout(run, wake.step);
      return;
    }
    if (isTerminalRun(run)) return;
    run.status = WorkflowRunStatus.Running;
    this.advance(run);
  }

  private advance(run: WorkflowRun): void {
    try {
      this.advanceUnsafe(run);
    } catch (e) {
      if (!isTerminalRun(run)) this.finish(run, WorkflowRunStatus.Failed, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private advanceUnsafe(run: WorkflowRun): void {
    let count = 0;
    while (!isTerminalRun(run)) {
      const rec = this.getDefinition(run.namespace, run.workflow);
      if (!rec) return; // a missing definition leaves the run untouched
      const step = rec.def.steps.get(run.currentStep);
      if (!step) return this.finish(run, WorkflowRunStatus.Failed, 'step not found in definition');
      if (++count > MAX_STEPS_PER_ADVANCE) return this.finish(run, WorkflowRunStatus.Failed, 'max step limit reached');
      const flow = step.kind === 'wait' ? this.enterWait(run, rec.def, step) : this.enterRun(run, rec.def, step);
      if (flow === 'stop') return;
    }
  }

  private enterWait(run: WorkflowRun, def: WorkflowDefinition, step: WaitStep): Flow {
    this.event(run, 'waiting_for_signal', step.signal);
    const sig = run.signals.find((s) => !s.consumed && s.name === step.signal);
    if (sig) {
      sig.consumed = true; // `docs/protocol-decisions.md` #32: a wait consumes the oldest matching signal
      this.clearTimer(run);
      run.waitSignal = undefined;
      this.event(run, 'step_completed', step.name);
      const next = step.transitions.get('success');
      if (next === undefined) {
        this.finish(run, WorkflowRunStatus.Failed, 'no success transition for wait step');
        return 'stop';
      }
      return this.goTo(run, def, next);
    }
    run.status = WorkflowRunStatus.Waiting;
    run.waitSignal = step.signal;
    if (step.timeoutMs !== undefined) this.armTimer(run, { kind: 'signal_timeout', step: step.name, at: this.now() + step.timeoutMs });
    return 'stop';
  }

  private signalTimeout(run: WorkflowRun, stepName: string): void {
    if (run.status !== WorkflowRunStatus.Waiting || run.currentStep !== stepName || run.waitSignal === undefined) return;
    const def = this.getDefinition(run.namespace, run.workflow)?.def;
    const step = def?.steps.get(stepName);
    if (!def || !step || step.kind !== 'wait') return;
    run.waitSignal = undefined;
    if (step.onTimeout === undefined) return this.finish(run, WorkflowRunStatus.TimedOut, 'signal timeout');
    this.event(run, 'signal_timeout', step.onTimeout);
    const ts = terminalStatus(def, step.onTimeout);
    if (ts) return this.finish(run, TERMINAL_CODES[ts], 'signal timeout');
    if (this.goTo(run, def, step.onTimeout) === 'continue') this.advance(run);
  }

  private enterRun(run: WorkflowRun, def: WorkflowDefinition, step: RunStep): Flow {
    run.status = WorkflowRunStatus.Running;
    this.event(run, 'step_started', step.name);
    const scope = this.scope(run);
    const input = step.inputMapping !== undefined ? utf8(applyMapping(step.inputMapping, scope)) : run.input;
    const t = step.target;
    if (t.kind === 'action') return this.dispatchAction(run, def, step, t.name, input);
    if (t.kind === 'workflow') return this.dispatchChild(run, def, step, t.name, input);
    const plan = def.plans.get(t.name);
    if (!plan) {
      this.event(run, 'plan_not_found', t.name);
      return this.stepOutcome(run, def, step, 'execution_failure', '{}');
    }
    if (!run.plan) run.plan = { order: this.planOrder(run, plan), position: 0, executorRetries: 0 };
    const ps = run.plan;
    while (ps.position < ps.order.length) {
      const ex = plan.executors[ps.order[ps.position]];
      if (plan.selection === 'health-weighted' && !this.breakerAllows(run, plan, ex)) {
        this.event(run, 'plan_breaker_skip', ex.name);
        ps.position++;
        ps.executorRetries = 0;
        continue;
      }
      this.event(run, 'plan_executor_start', ex.name);
      return this.dispatchAction(run, def, step, ex.action, input);
    }
    this.event(run, 'step_completed', step.name);
    return this.transition(run, def, step, 'failure');
  }

  private dispatchAction(run: WorkflowRun, def: WorkflowDefinition, step: RunStep, action: string, input: Uint8Array): Flow {
    const res = this.store.invoke({
      namespace: run.namespace,
      action,
      input,
      caller: { runId: run.id, workflowName: run.workflow },
      source: 1,
    });
    if (res.kind === 'not_found') {
      this.event(run, 'action_not_found', action);
      return this.stepOutcome(run, def, step, 'target_not_found', '{}');
    }
    run.status = WorkflowRunStatus.Waiting;
    run.pendingActionRunId = res.run.id;
    run.waitSignal = `_action_done:${res.run.id}`;
    this.byActionRun.set(res.run.id, run.id);
    this.event(run, 'awaiting_action', action);
    return 'stop';
  }

  private dispatchChild(run: WorkflowRun, def: WorkflowDefinition, step: RunStep, workflow: string, input: Uint8Array): Flow {
    if (!this.getDefinition(run.namespace, workflow)) {
      this.event(run, 'child_not_found', workflow);
      return this.stepOutcome(run, def, step, 'target_not_found', '{}');
    }
    run.status = WorkflowRunStatus.Waiting;
    this.event(run, 'awaiting_child', workflow);
    // started after this advance (trampoline), so the parent is parked first
    this.queue.push(() => {
      if (isTerminalRun(run)) return;
      const child = this.startRun({
        namespace: run.namespace,
        workflow,
        version: 'latest',
        input,
        parentRunId: run.id,
        firstEvent: 'child_started',
      });
      run.pendingChildRunId = child.id;
      run.waitSignal = `_child_done:${child.id}`;
    });
    return 'stop';
  }

  private onActionFinished(ar: ActionRun): void {
    const wfId = this.byActionRun.get(ar.id);
    if (wfId === undefined) return;
    this.byActionRun.delete(ar.id);
    const run = this.runs.get(wfId);
    if (!run || isTerminalRun(run) || run.pendingActionRunId !== ar.id) return;
    this.runWillChange(run);
    const outcome = ar.status === ActionRunStatus.Completed ? ar.outcome || 'success' : 'failure';
    const output = ar.status === ActionRunStatus.Completed && ar.result && ar.result.length > 0 ? fromUtf8(ar.result) : '{}';
    run.pendingActionRunId = undefined;
    run.waitSignal = undefined;
    run.status = WorkflowRunStatus.Running;
    this.event(run, 'action_completed', outcome);
    this.resumeStep(run, outcome, output);
  }

  private onChildFinished(child: WorkflowRun): void {
    const parent = child.parentRunId !== undefined ? this.runs.get(child.parentRunId) : undefined;
    if (!parent || isTerminalRun(parent) || parent.pendingChildRunId !== child.id) return;
    this.runWillChange(parent);
    const outcome = child.status === WorkflowRunStatus.Completed ? 'success' : 'failure';
    parent.pendingChildRunId = undefined;
    parent.waitSignal = undefined;
    parent.status = WorkflowRunStatus.Running;
    this.event(parent, 'child_completed', outcome);
    this.resumeStep(parent, outcome, child.output ? fromUtf8(child.output) : '{}');
  }

  private resumeStep(run: WorkflowRun, outcome: string, output: string): void {
    const def = this.getDefinition(run.namespace, run.workflow)?.def;
    if (!def) return;
    const step = def.steps.get(run.currentStep);
    if (!step || step.kind !== 'run') return this.finish(run, WorkflowRunStatus.Failed, 'step not found in definition');
    if (this.stepOutcome(run, def, step, outcome, output) === 'continue') this.advance(run);
  }

  /** Poll rule, then plan fallback or step retry, then the transition. */
  private stepOutcome(run: WorkflowRun, def: WorkflowDefinition, step: RunStep, outcome: string, output: string): Flow {
    run.stepOutputs.set(step.name, { output, outcome });
    if (step.poll && outcome === 'pending') {
      if (run.pollAttempt < step.poll.maxAttempts) {
        const p = step.poll;
        const delay = run.pollAttempt === 0 ? p.initialDelayMs : backoffDelay(p.backoff, p.baseDelayMs, run.pollAttempt, p.maxDelayMs);
        run.pollAttempt++;
        this.event(run, 'poll_scheduled', step.name);
        return this.reenter(run, delay);
      }
      this.event(run, 'poll_exhausted', step.name);
      outcome = 'timeout';
    }
    if (step.target.kind === 'plan' && run.plan) return this.planOutcome(run, def, step, outcome);
    this.event(run, 'step_completed', step.name);
    if ((outcome === 'failure' || outcome === 'execution_failure') && step.retry && run.retryCount < step.retry.maxAttempts) {
      run.retryCount++;
      this.event(run, 'step_retry', step.name);
      return this.reenter(run, retryDelay(step.retry, run.retryCount));
    }
    return this.transition(run, def, step, outcome);
  }

  private planOutcome(run: WorkflowRun, def: WorkflowDefinition, step: RunStep, outcome: string): Flow {
    const plan = def.plans.get((step.target as { name: string }).name);
    const ps = run.plan!;
    const ex = plan?.executors[ps.order[ps.position]];
    if (plan && ex) this.recordHealth(run, plan, ex, outcome);
    this.event(run, 'step_completed', step.name);
    if (!FAILURE_OUTCOMES.has(outcome) || !plan || !ex) return this.transition(run, def, step, outcome);
    if (ex.retry && ps.executorRetries < ex.retry.maxAttempts) {
      ps.executorRetries++;
      this.event(run, 'plan_executor_retry', ex.name);
      return this.reenter(run, retryDelay(ex.retry, ps.executorRetries));
    }
    this.event(run, 'plan_executor_exhausted', ex.name);
    ps.position++;
    ps.executorRetries = 0;
    if (ps.position < ps.order.length) return this.reenter(run, 0);
    return this.transition(run, def, step, 'failure');
  }

  /** Runs the current step again, at once or after `delay` ms (parked on a timer). */
  private reenter(run: WorkflowRun, delay: number): Flow {
    if (delay <= 0) {
      run.status = WorkflowRunStatus.Running;
      return 'continue';
    }
    run.status = WorkflowRunStatus.Waiting;
    this.armTimer(run, { kind: 'retry', at: this.now() + delay });
    return 'stop';
  }

  private transition(run: WorkflowRun, def: WorkflowDefinition, step: Step, outcome: string): Flow {
    let target = step.transitions.get(outcome);
    if (target === undefined && EXECUTION_OUTCOMES.has(outcome)) target = step.transitions.get('execution_failure') ?? step.transitions.get('failure');
    if (target === undefined) {
      this.finish(run, WorkflowRunStatus.Failed, 'no transition for outcome');
      return 'stop';
    }
    return this.goTo(run, def, target);
  }

  /** Moves to a step (resetting the per-step counters, `docs/protocol-decisions.md` #34) or finishes at a terminal. */
  private goTo(run: WorkflowRun, def: WorkflowDefinition, target: string): Flow {
    const ts = terminalStatus(def, target);
    if (ts) {
      this.finish(run, TERMINAL_CODES[ts], target);
      return 'stop';
    }
    this.clearTimer(run);
    run.retryCount = 0;
    run.plan = undefined;
    run.pollAttempt = 0;
    run.currentStep = target;
    run.status = WorkflowRunStatus.Running;
    return 'continue';
  }

  private finish(run: WorkflowRun, status: number, detail: string): void {
    this.runWillChange(run);
    this.clearTimer(run);
    run.status = status;
    run.completedAt = this.now();
    run.waitSignal = undefined;
    if (run.pendingActionRunId !== undefined) this.byActionRun.delete(run.pendingActionRunId);
    run.pendingActionRunId = undefined;
    const def = this.getDefinition(run.namespace, run.workflow)?.def;
    if (def) {
      const scope = this.scope(run);
      if (status === WorkflowRunStatus.Completed && def.output !== undefined) run.output = utf8(evaluateOutput(def.output, scope));
      const sa = searchAttributesJson(def.searchAttributes, scope);
      if (sa !== undefined) run.searchAttributes = sa;
    }
    this.event(run, `workflow_${workflowRunStatusName(status)}`, detail);
    if (run.parentRunId !== undefined) this.queue.push(() => this.onChildFinished(run));
  }

  // ---- plans: order and health ----------------------------------------------------------------

  private healthKey(run: WorkflowRun, plan: Plan, ex: Executor): string {
    return key(run.namespace, run.workflow, plan.name, ex.name);
  }

  private healthOf(k: string): ExecutorHealth {
    let h = this.health.get(k);
    if (!h) {
      h = { apiOk: 0, apiTotal: 0, bizOk: 0, bizTotal: 0, consecutiveFailures: 0, breaker: 'closed', openedAt: 0, halfOpenCalls: 0 };
      this.health.set(k, h);
    }
    return h;
  }

  private refreshBreaker(h: ExecutorHealth, ex: Executor): void {
    if (h.breaker === 'open' && ex.breaker && this.now() >= h.openedAt + ex.breaker.cooldownMs) {
      h.breaker = 'half_open';
      h.halfOpenCalls = 0;
    }
  }

  /** Health score 0-1: 0.7 × API success rate + 0.3 × business success rate, × 0.1 open, × 0.5 half-open. */
  healthScore(run: WorkflowRun, plan: Plan, ex: Executor): number {
    const h = this.healthOf(this.healthKey(run, plan, ex));
    this.refreshBreaker(h, ex);
    let s = 0.7 * (h.apiTotal ? h.apiOk / h.apiTotal : 1) + 0.3 * (h.bizTotal ? h.bizOk / h.bizTotal : 1);
    if (h.breaker === 'open') s *= 0.1;
    else if (h.breaker === 'half_open') s *= 0.5;
    return s;
  }

  private planOrder(run: WorkflowRun, plan: Plan): number[] {
    const idx = plan.executors.map((_, i) => i);
    if (plan.selection !== 'health-weighted') return idx;
    const scores = idx.map((i) => this.healthScore(run, plan, plan.executors[i]));
    return idx.sort((a, b) => scores[b] - scores[a] || a - b);
  }

  private breakerAllows(run: WorkflowRun, plan: Plan, ex: Executor): boolean {
    if (!ex.breaker) return true;
    const h = this.healthOf(this.healthKey(run, plan, ex));
    this.refreshBreaker(h, ex);
    if (h.breaker === 'open') return false;
    if (h.breaker === 'half_open') {
      if (h.halfOpenCalls >= ex.breaker.halfOpenMaxCalls) return false;
      h.halfOpenCalls++;
    }
    return true;
  }

  private recordHealth(run: WorkflowRun, plan: Plan, ex: Executor, outcome: string): void {
    const h = this.healthOf(this.healthKey(run, plan, ex));
    const failed = FAILURE_OUTCOMES.has(outcome);
    h.apiTotal++;
    h.bizTotal++;
    if (!failed) h.apiOk++;
    if (outcome === 'success') h.bizOk++;
    if (!failed) {
      h.consecutiveFailures = 0;
      if (h.breaker === 'half_open') h.breaker = 'closed';
      return;
    }
    h.consecutiveFailures++;
    if (ex.breaker && (h.breaker === 'half_open' || h.consecutiveFailures >= ex.breaker.failureThreshold)) {
      h.breaker = 'open';
      h.openedAt = this.now();
    }
  }
}

