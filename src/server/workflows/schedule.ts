/**
 * Workflow schedules (`schedule:` in a definition): a `cron` expression or an `interval` in ms, at
 * most `max_concurrent` non-terminal runs at once (a tick that finds that many is skipped), the
 * `input` of every scheduled run (default `{}`), and `paused` (not registered at all).
 *
 * One timer per scheduled definition on the server clock. Each tick starts a run with version
 * `latest` and first history event `schedule_started`. A disabled workflow has no timer: DISABLE
 * pauses the schedule and ENABLE resumes it from that moment (the next cron boundary or a full
 * interval later). Re-creating the definition re-arms it from the new schedule.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { parseCron, type CronSchedule } from './cron.js';

export interface ScheduleDef {
  readonly cron?: string;
  readonly intervalMs?: number;
  readonly maxConcurrent: number;
  readonly input: string;
  readonly paused: boolean;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj, ...keys: string[]): unknown => keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);

/** Parses `schedule:`; throws `fail(message)` (the definition's error) on a bad one. */
export function parseScheduleDef(raw: unknown, fail: (msg: string) => never): ScheduleDef | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) return fail('schedule must be a map');
  const cron = pick(raw, 'cron');
  const interval = pick(raw, 'interval', 'intervalMs', 'interval_ms');
  if ((cron === undefined) === (interval === undefined)) return fail('schedule needs exactly one of cron or interval');
  const maxRaw = pick(raw, 'maxConcurrent', 'max_concurrent') ?? 1;
  const maxConcurrent = typeof maxRaw === 'string' ? Number(maxRaw) : maxRaw;
  if (typeof maxConcurrent !== 'number' || !Number.isInteger(maxConcurrent) || maxConcurrent < 1) return fail('schedule.maxConcurrent must be a positive integer');
  const inputRaw = pick(raw, 'input');
  const input = inputRaw === undefined ? '{}' : typeof inputRaw === 'string' ? inputRaw : JSON.stringify(inputRaw);
  const pausedRaw = pick(raw, 'paused') ?? false;
  if (typeof pausedRaw !== 'boolean') return fail('schedule.paused must be true or false');
  if (cron !== undefined) {
    if (typeof cron !== 'string') return fail('schedule.cron must be a string');
    try {
      parseCron(cron);
    } catch (e) {
      return fail(`schedule.cron: invalid cron expression "${cron}": ${(e as Error).message}`);
    }
    return { cron: cron.trim(), maxConcurrent, input, paused: pausedRaw };
  }
  const ms = typeof interval === 'string' && interval.trim() !== '' ? Number(interval) : interval;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1) return fail('schedule.interval must be a positive whole number of milliseconds');
  return { intervalMs: ms, maxConcurrent, input, paused: pausedRaw };
}

/** What the schedules need of the engine. */
export interface ScheduleHost {
  /** The definition's schedule when it should tick now (exists, enabled, not paused). */
  activeSchedule(namespace: string, workflow: string): ScheduleDef | undefined;
  /** Non-terminal runs of the workflow. */
  activeRuns(namespace: string, workflow: string): number;
  startScheduledRun(namespace: string, workflow: string, input: string): void;
}

interface Armed {
  readonly def: ScheduleDef;
  readonly cron?: CronSchedule;
  timer?: TimerHandle;
}

const key = (ns: string, wf: string) => `${ns}\u0000${wf}`;

/** One timer per active schedule; `update` follows definition changes. */
export class WorkflowSchedules {
  private readonly armed = new Map<string, Armed>();

  constructor(
    private readonly clock: Clock,
    private readonly host: ScheduleHost,
  ) {}

  /** Follows a definition change (create, replace, disable, enable): arms, re-arms or drops its timer. */
  update(namespace: string, workflow: string): void {
    const k = key(namespace, workflow);
    this.armed.get(k)?.timer?.cancel();
    this.armed.delete(k);
    const def = this.host.activeSchedule(namespace, workflow);
    if (!def) return;
    const a: Armed = { def, ...(def.cron !== undefined ? { cron: parseCron(def.cron) } : {}) };
    this.armed.set(k, a);
    this.arm(namespace, workflow, a);
  }

  /** Armed schedules (for tests and diagnostics). */
  get size(): number {
    return this.armed.size;
  }

  close(): void {
    for (const a of this.armed.values()) a.timer?.cancel();
    this.armed.clear();
  }

  private arm(namespace: string, workflow: string, a: Armed): void {
    const now = this.clock.now();
    const at = a.cron ? a.cron.next(now) : now + (a.def.intervalMs ?? 0);
    if (at === undefined) return; // a cron that never fires again
    a.timer = this.clock.setTimer(at - now, () => {
      if (this.armed.get(key(namespace, workflow)) !== a) return;
      if (this.host.activeSchedule(namespace, workflow) && this.host.activeRuns(namespace, workflow) < a.def.maxConcurrent) {
        this.host.startScheduledRun(namespace, workflow, a.def.input);
      }
      this.arm(namespace, workflow, a);
    });
  }
}
