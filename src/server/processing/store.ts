/**
 * Processing jobs and their savepoints, per namespace: the state machine behind the processing
 * handlers. State is plain data (records keyed by id, positions as bigints, aggregate cells as
 * numbers) so `snapshot()` / `restore()` can persist it; compiled chains and timers live in the
 * runner and are rebuilt from it.
 *
 * ```
 *             submit
 *               │
 *               ▼        stop
 *           running ───────────▶ stopped
 *            │  ▲ ▲   restore(sp)   │
 *            │  │ └─────────────────┘
 *  tick error│  └── restore(sp) ── failed
 *            ▼
 *          failed            running | stopped | failed ──cancel──▶ cancelled (final)
 * ```
 *
 * `completed` exists on the wire (bounded sources) but stream sources never end, so no job reaches it.
 * A source position is the key (`ts << 64 | seq`) of the next record to read, per source and
 * partition; a tick reads, processes, writes its sinks and moves the positions in one synchronous
 * step, so a savepoint always sits between two records and a restore resumes exactly after the
 * last record processed before it.
 *
 * With a data directory the store is three persisted tables: `processing.job` (per job: the
 * definition text, phase, positions, counters and aggregate state), `processing.savepoint` and
 * `processing.meta` (the id counter). A tick announces its job before the chain touches the
 * aggregate state, so the positions it moves and the sink writes it makes land in the same commit:
 * after a crash a job resumes exactly after the last record whose output is stored.
 */
import { ProcessingJobStatus } from '../../protocol/index.js';
import { NO_CHANGE_LOG, type Persistence } from '../storage/types.js';
import { parseProcessingDefinition, type ProcessingDefinition } from './definition.js';
import type { AggregateState } from './operators.js';

export type JobPhase =
  | { readonly kind: 'running' }
  | { readonly kind: 'stopped'; readonly at: number }
  | { readonly kind: 'cancelled'; readonly at: number }
  | { readonly kind: 'failed'; readonly at: number; readonly error: string }
  | { readonly kind: 'completed'; readonly at: number };

export interface JobRecord {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  /** The submitted text, as sent. */
  readonly definitionText: string;
  readonly definition: ProcessingDefinition;
  readonly createdAt: number;
  phase: JobPhase;
  parallelism: number;
  recordsProcessed: bigint;
  /** `<source index>:<partition or *>` → key of the next record to read. */
  positions: Record<string, bigint>;
  /** Highest event time seen (ms); tumbling windows close against it. */
  watermark: number;
  aggregates: AggregateState;
  /** Bumped on every change a `status` shows (phase, counters, parallelism). */
  revision: number;
}

export interface SavepointRecord {
  readonly id: string;
  readonly jobId: string;
  readonly namespace: string;
  readonly createdAt: number;
  readonly recordsProcessed: bigint;
  readonly positions: Record<string, bigint>;
  readonly watermark: number;
  readonly aggregates: AggregateState;
  readonly parallelism: number;
}

/** Everything the store holds, as plain data. */
export interface ProcessingSnapshot {
  readonly nextId: number;
  readonly jobs: readonly JobRecord[];
  readonly savepoints: readonly SavepointRecord[];
}

const STATUS_BYTE: Record<JobPhase['kind'], number> = {
  running: ProcessingJobStatus.Running,
  stopped: ProcessingJobStatus.Stopped,
  cancelled: ProcessingJobStatus.Cancelled,
  failed: ProcessingJobStatus.Failed,
  completed: ProcessingJobStatus.Completed,
};

/** The wire status byte of a phase. */
export function statusByte(phase: JobPhase): number {
  return STATUS_BYTE[phase.kind];
}

/** Most jobs the server keeps (Flo's limit); a submit beyond it is refused. */
export const MAX_JOBS = 100_000;
/** Most savepoints kept per job (the oldest goes first). */
export const MAX_SAVEPOINTS_PER_JOB = 32;

/** Why a transition was refused. */
export class JobStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobStateError';
  }
}

const clone = <T>(v: T): T => structuredClone(v);
const hex = (n: number) => n.toString(16).padStart(8, '0');

/** A job as stored: everything but the parsed definition (parsed again from its text at load). */
type StoredJob = Omit<JobRecord, 'definition'>;

/** The jobs and savepoints of every namespace (see the file header for the transitions). */
export class ProcessingStore {
  private jobs = new Map<string, JobRecord>();
  private savepoints = new Map<string, SavepointRecord>();
  private nextId = 1;
  private listeners = new Set<(job: JobRecord) => void>();
  private readonly changes = { job: NO_CHANGE_LOG, savepoint: NO_CHANGE_LOG, meta: NO_CHANGE_LOG };
  /** Jobs put back (or removed) by the storage since the last `loaded()`: the runner follows them. */
  private readonly loadedJobs = new Map<string, JobRecord>();

  /** `persistence` undefined: in memory only. */
  constructor(persistence?: Persistence) {
    if (persistence) this.persistTo(persistence);
  }

  private persistTo(p: Persistence): void {
    this.changes.job = p.table({
      name: 'processing.job',
      save: (id) => {
        const job = this.jobs.get(id);
        if (!job) return undefined;
        const { definition: _definition, ...stored } = job;
        return clone(stored);
      },
      load: (id, v) => {
        const old = this.jobs.get(id);
        if (v === undefined) {
          this.jobs.delete(id);
          if (old) this.loadedJobs.set(id, old);
          return;
        }
        const stored = v as StoredJob;
        const job: JobRecord = { ...stored, definition: parseProcessingDefinition(stored.definitionText, stored.namespace) };
        this.jobs.set(id, job);
        this.loadedJobs.set(id, job);
      },
      loaded: () => {
        const jobs = [...this.loadedJobs.values()];
        this.loadedJobs.clear();
        for (const job of jobs) this.notify(job);
      },
    });
    this.changes.savepoint = p.table({
      name: 'processing.savepoint',
      save: (id) => {
        const sp = this.savepoints.get(id);
        return sp ? clone(sp) : undefined;
      },
      load: (id, v) => {
        if (v === undefined) this.savepoints.delete(id);
        else this.savepoints.set(id, v as SavepointRecord);
      },
      // Savepoints are kept oldest first (the per-job limit drops the oldest): ids grow with time.
      loaded: () => {
        this.savepoints = new Map([...this.savepoints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      },
    });
    this.changes.meta = p.table({ name: 'processing.meta', save: () => this.nextId, load: (_k, v) => void (this.nextId = typeof v === 'number' ? v : 1) });
  }

  /**
   * Announces that a job is about to change (phase, counters, positions or, through the runner's
   * chain, aggregate state): call it before the change, in the turn that makes it.
   */
  willChange(job: JobRecord): void {
    this.changes.job(job.id);
  }

  /** Whether `job` is the store's current record of its id (a load replaces records). */
  holds(job: JobRecord): boolean {
    return this.jobs.get(job.id) === job;
  }

  /** Called after every change of a job (the runner re-arms its timers from it). */
  onChange(listener: (job: JobRecord) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** After a change announced with `willChange`: bumps the revision and tells the listeners. */
  private changed(job: JobRecord): void {
    job.revision++;
    this.notify(job);
  }

  private notify(job: JobRecord): void {
    for (const l of [...this.listeners]) l(job);
  }

  private enter(job: JobRecord, phase: JobPhase): void {
    this.willChange(job);
    job.phase = phase;
    this.changed(job);
  }

  private newId(prefix: string): string {
    this.changes.meta('nextId');
    return `${prefix}-${hex(this.nextId++)}`;
  }

  submit(namespace: string, text: string, definition: ProcessingDefinition, now: number): JobRecord {
    if (this.jobs.size >= MAX_JOBS) throw new JobStateError(`too many processing jobs (max ${MAX_JOBS})`);
    const job: JobRecord = {
      id: this.newId('job'),
      namespace,
      name: definition.name,
      definitionText: text,
      definition,
      createdAt: now,
      phase: { kind: 'running' },
      parallelism: definition.parallelism,
      recordsProcessed: 0n,
      positions: {},
      watermark: 0,
      aggregates: {},
      revision: 0,
    };
    this.willChange(job);
    this.jobs.set(job.id, job);
    this.changed(job);
    return job;
  }

  /** The job, when it exists in `namespace` (other namespaces do not see it). */
  get(namespace: string, id: string): JobRecord | undefined {
    const job = this.jobs.get(id);
    return job && job.namespace === namespace ? job : undefined;
  }

  /** Jobs of a namespace, oldest first (ids grow, so id order is submit order). */
  list(namespace: string): JobRecord[] {
    return [...this.jobs.values()].filter((j) => j.namespace === namespace);
  }

  running(): JobRecord[] {
    return [...this.jobs.values()].filter((j) => j.phase.kind === 'running');
  }

  stop(job: JobRecord, now: number): void {
    if (job.phase.kind === 'stopped') return;
    if (job.phase.kind !== 'running') throw new JobStateError(`job is ${job.phase.kind}`);
    this.enter(job, { kind: 'stopped', at: now });
  }

  cancel(job: JobRecord, now: number): void {
    if (job.phase.kind === 'cancelled') return;
    if (job.phase.kind === 'completed') throw new JobStateError('job is completed');
    this.enter(job, { kind: 'cancelled', at: now });
  }

  fail(job: JobRecord, error: string, now: number): void {
    if (job.phase.kind !== 'running') return;
    this.enter(job, { kind: 'failed', at: now, error });
  }

  rescale(job: JobRecord, parallelism: number): void {
    if (job.phase.kind === 'cancelled' || job.phase.kind === 'completed') throw new JobStateError(`job is ${job.phase.kind}`);
    this.willChange(job);
    job.parallelism = parallelism;
    this.changed(job);
  }

  /** Records the job's positions, counters and aggregate state; returns the savepoint. */
  savepoint(job: JobRecord, now: number): SavepointRecord {
    if (job.phase.kind === 'cancelled') throw new JobStateError('job is cancelled');
    const sp: SavepointRecord = {
      id: this.newId('sp'),
      jobId: job.id,
      namespace: job.namespace,
      createdAt: now,
      recordsProcessed: job.recordsProcessed,
      positions: clone(job.positions),
      watermark: job.watermark,
      aggregates: clone(job.aggregates),
      parallelism: job.parallelism,
    };
    this.changes.savepoint(sp.id);
    this.savepoints.set(sp.id, sp);
    const mine = [...this.savepoints.values()].filter((s) => s.jobId === job.id);
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_SAVEPOINTS_PER_JOB))) {
      this.changes.savepoint(old.id);
      this.savepoints.delete(old.id);
    }
    return sp;
  }

  getSavepoint(job: JobRecord, id: string): SavepointRecord | undefined {
    const sp = this.savepoints.get(id);
    return sp && sp.jobId === job.id ? sp : undefined;
  }

  /** Puts the job back where the savepoint left it and runs it. */
  restoreFrom(job: JobRecord, sp: SavepointRecord): void {
    if (job.phase.kind === 'cancelled' || job.phase.kind === 'completed') throw new JobStateError(`job is ${job.phase.kind}`);
    this.willChange(job);
    job.positions = clone(sp.positions);
    job.recordsProcessed = sp.recordsProcessed;
    job.watermark = sp.watermark;
    job.aggregates = clone(sp.aggregates);
    this.enter(job, { kind: 'running' });
  }

  /**
   * A tick's outcome: the new positions, how many source records it consumed, the watermark. A tick
   * that consumed records has called `willChange` before its chain ran (this call repeats it).
   */
  progress(job: JobRecord, positions: Record<string, bigint>, consumed: number, watermark: number): void {
    if (consumed > 0 || watermark > job.watermark) this.willChange(job);
    job.positions = positions;
    job.watermark = Math.max(job.watermark, watermark);
    if (consumed > 0) {
      job.recordsProcessed += BigInt(consumed);
      this.changed(job);
    }
  }

  /** Everything, as plain data (deep copies). */
  snapshot(): ProcessingSnapshot {
    return { nextId: this.nextId, jobs: [...this.jobs.values()].map(clone), savepoints: [...this.savepoints.values()].map(clone) };
  }

  /** Replaces the state with a snapshot's; call before the runner starts (it then resumes running jobs). */
  restore(snap: ProcessingSnapshot): void {
    for (const id of new Set([...this.jobs.keys(), ...snap.jobs.map((j) => j.id)])) this.changes.job(id);
    for (const id of new Set([...this.savepoints.keys(), ...snap.savepoints.map((s) => s.id)])) this.changes.savepoint(id);
    this.changes.meta('nextId');
    this.jobs = new Map(snap.jobs.map((j) => [j.id, clone(j)]));
    this.savepoints = new Map(snap.savepoints.map((s) => [s.id, clone(s)]));
    this.nextId = snap.nextId;
    for (const job of this.jobs.values()) this.changed(job);
  }
}
