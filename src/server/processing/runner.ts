/**
 * Runs the store's running jobs on the server clock: each job polls each of its sources every
 * `poll_interval_ms` (default 1000; the first poll right after submit or restore), reading up to the
 * source's `batch_size` records per partition, pushes them through the compiled operator chain and
 * writes the results to the sinks whose `match` tags they all carry. A sink write that throws fails
 * the job (its positions stay after the last record fully written).
 *
 * Owns the timers and compiled chains only; every piece of state lives in the store, so the runner
 * can be rebuilt from a restored store (`resumeAll`). A tick is one synchronous step: with a data
 * directory its sink writes and its new positions are in the same commit.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { ServerPorts } from '../ports.js';
import type { SinkDef, StreamSourceDef } from './definition.js';
import { compileChain, type AggregateState, type CompiledChain } from './operators.js';
import { makeRecord, type ProcessingRecord } from './record.js';
import type { JobRecord, ProcessingStore } from './store.js';

const EMPTY_KEY = new Uint8Array(0);
const encoder = new TextEncoder();
const SEQ_MASK = (1n << 64n) - 1n;

interface Running {
  timer?: TimerHandle;
  chain: CompiledChain;
  chainState: AggregateState;
  /** Per source: when it is next due (server clock, ms). */
  due: number[];
}

function positionKey(source: number, partition: number | '*'): string {
  return `${source}:${partition}`;
}

function sinkAccepts(sink: SinkDef, rec: ProcessingRecord): boolean {
  for (const tag of sink.match) if (!rec.tags.has(tag)) return false;
  return true;
}

/**
 * A tick's stream-sink output, appended in one batch per stream when the tick ends (one wake of the
 * stream's readers per tick rather than per record). Order within each stream is kept.
 */
class StreamAppends {
  private readonly byStream = new Map<string, { ns: string; stream: string; records: Array<{ payload: Uint8Array; key?: Uint8Array }> }>();

  add(ns: string, stream: string, payload: Uint8Array, key: Uint8Array): void {
    const k = `${ns}\u0000${stream}`;
    let entry = this.byStream.get(k);
    if (!entry) this.byStream.set(k, (entry = { ns, stream, records: [] }));
    entry.records.push(key.length > 0 ? { payload, key } : { payload });
  }

  flush(ports: ServerPorts): void {
    const entries = [...this.byStream.values()];
    this.byStream.clear();
    for (const e of entries) ports.streams.append(e.ns, e.stream, e.records);
  }
}

/** Polls the running jobs of a store on the server clock (see the file header). */
export class ProcessingRunner {
  private readonly running = new Map<string, Running>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: ProcessingStore,
    private readonly clock: Clock,
    private readonly ports: ServerPorts,
  ) {
    this.unsubscribe = store.onChange((job) => this.sync(job));
  }

  /** Starts polling every running job (after the store was restored from a snapshot). */
  resumeAll(): void {
    for (const job of this.store.running()) this.sync(job);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const r of this.running.values()) r.timer?.cancel();
    this.running.clear();
  }

  /** Follows a job's phase: arms its polling when running, drops it otherwise. */
  private sync(job: JobRecord): void {
    const current = this.running.get(job.id);
    if (job.phase.kind !== 'running' || this.closed || !this.store.holds(job)) {
      current?.timer?.cancel();
      this.running.delete(job.id);
      return;
    }
    if (current && current.chainState === job.aggregates) return;
    current?.timer?.cancel();
    const now = this.clock.now();
    const r: Running = {
      chain: compileChain(job.definition.operators, job.aggregates, this.ports.kv),
      chainState: job.aggregates,
      due: job.definition.sources.map(() => now),
    };
    this.running.set(job.id, r);
    this.arm(job, r);
  }

  private arm(job: JobRecord, r: Running): void {
    const next = Math.min(...r.due);
    r.timer = this.clock.setTimer(Math.max(0, next - this.clock.now()), () => {
      r.timer = undefined;
      if (this.running.get(job.id) !== r) return;
      this.tick(job, r);
      if (this.running.get(job.id) === r && job.phase.kind === 'running') this.arm(job, r);
    });
  }

  private tick(job: JobRecord, r: Running): void {
    const now = this.clock.now();
    const positions = { ...job.positions };
    let consumed = 0;
    let watermark = job.watermark;
    const appends = new StreamAppends();
    try {
      job.definition.sources.forEach((source, i) => {
        if (r.due[i] > now) return;
        r.due[i] = now + source.pollIntervalMs;
        for (const partition of this.partitionsOf(source)) {
          const pk = positionKey(i, partition);
          const recs = this.ports.streams.read(source.namespace, source.stream, positions[pk] ?? 0n, source.batchSize, partition === '*' ? undefined : partition);
          // Before the chain touches the aggregate state: the tick's sink writes and the positions
          // it moves are then committed together (exactly once across a crash).
          if (recs.length > 0) this.store.willChange(job);
          for (const rec of recs) {
            const ts = rec.key >> 64n;
            const eventTimeMs = Number(ts);
            const input = makeRecord({ key: EMPTY_KEY, value: rec.payload, eventTimeMs, sourceId: `${ts}-${rec.key & SEQ_MASK}` });
            this.write(job, r.chain.process(input), appends);
            positions[pk] = rec.key + 1n;
            consumed++;
            watermark = Math.max(watermark, eventTimeMs);
          }
        }
      });
      if (watermark > job.watermark) this.write(job, r.chain.advance(watermark), appends);
      appends.flush(this.ports);
      this.store.progress(job, positions, consumed, watermark);
    } catch (err) {
      // What the records before the failing one produced is written; the position stays after them.
      try {
        appends.flush(this.ports);
      } finally {
        this.store.progress(job, positions, consumed, watermark);
        this.store.fail(job, (err as Error)?.message ?? String(err), now);
      }
    }
  }

  private partitionsOf(source: StreamSourceDef): Array<number | '*'> {
    return source.partitions === 'all' ? ['*'] : [...source.partitions];
  }

  private write(job: JobRecord, recs: readonly ProcessingRecord[], appends: StreamAppends): void {
    for (const rec of recs) {
      for (const sink of job.definition.sinks) {
        if (!sinkAccepts(sink, rec)) continue;
        const t = sink.target;
        switch (t.kind) {
          case 'stream':
            appends.add(t.namespace, t.stream, rec.value, rec.key);
            break;
          case 'kv': {
            const id = rec.key.length > 0 ? new TextDecoder().decode(rec.key) : rec.sourceId;
            const key = t.keyPrefix ? `${t.keyPrefix}${t.separator}${id}` : id;
            this.ports.kv.put(t.namespace, encoder.encode(key), rec.value, t.writeMode, t.ttlMs);
            break;
          }
          case 'queue':
            this.ports.queues.enqueue(t.namespace, t.queue, rec.value, t.priority, t.delayMs);
            break;
        }
      }
    }
  }
}
