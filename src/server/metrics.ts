/**
 * The embedded server's metrics: plain counters updated on the request path (cheap: two clock
 * reads, one map update and one histogram bucket per request), turned into Prometheus text by
 * `prom-client` only when `/metrics` is scraped. Owns `ServerMetrics`; reads the counts the server
 * hands it at scrape time (connections, per-queue and per-stream figures, memory).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { opcodeName } from '../protocol/index.js';
import { Status, statusText } from '../protocol/status.js';
import { FSYNC_BUCKETS, type StorageCounters } from './storage/counters.js';
import type { PersistenceCounts } from './http.js';

/** Upper bounds (seconds) of the request latency histogram. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What is counted per opcode. */
interface OpcodeFigures {
  /** Requests per latency bucket (not cumulative: each in the first bucket whose bound it is within). */
  readonly buckets: Float64Array;
  count: number;
  sum: number;
  /** Answers with status OK (most of them: a field, no map update). */
  ok: number;
  /** Answers with any other status, by status. */
  readonly otherStatuses: Map<number, number>;
}

/** Point-in-time figures of one queue. */
export interface QueueFigures {
  readonly namespace: string;
  readonly queue: string;
  readonly ready: number;
  readonly leased: number;
  readonly dlq: number;
}

/** Point-in-time figures of one stream and its groups. */
export interface StreamFigures {
  readonly namespace: string;
  readonly stream: string;
  readonly length: number;
  /** Records not yet delivered to each group, and records delivered but not acknowledged. */
  readonly groups: ReadonlyArray<{ readonly group: string; readonly lag: number; readonly pending: number }>;
}

/** What the server reports at scrape time. */
export interface ServerFigures {
  connections(): number;
  queues?(): readonly QueueFigures[];
  streams?(): readonly StreamFigures[];
  /** The data directory's counters (servers with a `dataDir` only). */
  readonly storage?: StorageCounters;
}

/** Per-request counts, kept as plain numbers; read by prom-client collectors at scrape time. */
export class ServerMetrics {
  /** Per opcode: answers by status and latency (one map lookup per request). */
  private readonly byOpcode = new Map<number, OpcodeFigures>();
  private parkedNow = 0;
  readonly registry = new Registry();
  private readonly storage: StorageCounters | undefined;

  constructor(figures: ServerFigures) {
    this.storage = figures.storage;
    const self = this;
    // Not prom-client's default metrics: those start process-wide observers that outlive a server.
    new Gauge({
      name: 'flo_rx_server_memory_bytes',
      help: 'Process memory (process.memoryUsage()), by kind.',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const m = process.memoryUsage();
        for (const kind of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const) this.set({ kind }, m[kind]);
      },
    });
    new Counter({
      name: 'flo_rx_server_requests_total',
      help: 'Requests answered, by operation and status.',
      labelNames: ['operation', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [op, h] of self.byOpcode) {
          const operation = opcodeName(op);
          if (h.ok > 0) this.inc({ operation, status: statusText(Status.OK) }, h.ok);
          for (const [status, n] of h.otherStatuses) this.inc({ operation, status: statusText(status) }, n);
        }
      },
    });
    // Our own buckets, exposed as a histogram at scrape time (prom-client's `observe()` would hash
    // labels on every request).
    this.registry.registerMetric({
      name: 'flo_rx_server_request_duration_seconds',
      get: async () => ({
        name: 'flo_rx_server_request_duration_seconds',
        help: 'Time from a request being decoded to its answer being ready, by operation.',
        type: 'histogram',
        aggregator: 'sum',
        values: [...self.byOpcode].flatMap(([op, h]) => {
          const operation = opcodeName(op);
          const metric = 'flo_rx_server_request_duration_seconds';
          // Counted per bucket, exposed cumulative (as Prometheus wants them).
          let below = 0;
          return [
            ...LATENCY_BUCKETS.map((le, i) => ({ metricName: `${metric}_bucket`, labels: { operation, le }, value: (below += h.buckets[i]) })),
            { metricName: `${metric}_bucket`, labels: { operation, le: '+Inf' }, value: h.count },
            { metricName: `${metric}_sum`, labels: { operation }, value: h.sum },
            { metricName: `${metric}_count`, labels: { operation }, value: h.count },
          ];
        }),
      }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    new Gauge({
      name: 'flo_rx_server_connections',
      help: 'Open binary and WebSocket connections.',
      registers: [this.registry],
      collect() {
        this.set(figures.connections());
      },
    });
    new Gauge({
      name: 'flo_rx_server_parked_requests',
      help: 'Requests waiting (long polls, blocking reads) for something to happen.',
      registers: [this.registry],
      collect() {
        this.set(self.parkedNow);
      },
    });
    const queueGauge = (name: string, help: string, pick: (q: QueueFigures) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', 'queue'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const q of figures.queues?.() ?? []) this.set({ namespace: q.namespace, queue: q.queue }, pick(q));
        },
      });
    queueGauge('flo_rx_server_queue_ready', 'Messages ready to be leased.', (q) => q.ready);
    queueGauge('flo_rx_server_queue_leased', 'Messages leased and not settled.', (q) => q.leased);
    queueGauge('flo_rx_server_queue_dlq', 'Messages in the dead-letter queue.', (q) => q.dlq);
    new Gauge({
      name: 'flo_rx_server_stream_length',
      help: 'Records in a stream.',
      labelNames: ['namespace', 'stream'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of figures.streams?.() ?? []) this.set({ namespace: s.namespace, stream: s.stream }, s.length);
      },
    });
    const groupGauge = (name: string, help: string, pick: (g: { lag: number; pending: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', 'stream', 'group'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of figures.streams?.() ?? []) {
            for (const g of s.groups) this.set({ namespace: s.namespace, stream: s.stream, group: g.group }, pick(g));
          }
        },
      });
    groupGauge('flo_rx_server_stream_group_lag', 'Records a consumer group has not been delivered yet.', (g) => g.lag);
    groupGauge('flo_rx_server_stream_group_pending', 'Records delivered to a group and not acknowledged.', (g) => g.pending);
    if (figures.storage) this.registerStorage(figures.storage);
  }

  /** Persistence counters: log writes, commits, fsyncs (with latency), compactions, the last commit error. */
  private registerStorage(c: StorageCounters): void {
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter('flo_rx_server_storage_written_bytes_total', 'Bytes appended to the data directory log.', () => c.bytesWritten);
    counter('flo_rx_server_storage_commits_total', 'Batches of changes written to the log (one per server turn that changed state).', () => c.commits);
    counter('flo_rx_server_storage_commit_errors_total', 'Writes or fsyncs that failed (their changes were rolled back or refused).', () => c.commitErrors);
    counter('flo_rx_server_storage_compactions_total', 'Snapshots written by log compaction.', () => c.compactions);
    counter('flo_rx_server_storage_compaction_errors_total', 'Compactions that failed (retried later).', () => c.compactionErrors);
    counter('flo_rx_server_storage_compaction_seconds_total', 'Time spent in compactions that succeeded.', () => c.compactionSeconds);
    const fsyncName = 'flo_rx_server_storage_fsync_duration_seconds';
    this.registry.registerMetric({
      name: fsyncName,
      get: async () => ({
        name: fsyncName,
        help: 'fdatasync calls on the log and their latency (the count is the number of fsyncs).',
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...FSYNC_BUCKETS.map((le, i) => ({ metricName: `${fsyncName}_bucket`, labels: { le }, value: c.fsync.buckets[i] })),
          { metricName: `${fsyncName}_bucket`, labels: { le: '+Inf' }, value: c.fsync.count },
          { metricName: `${fsyncName}_sum`, labels: {}, value: c.fsync.sum },
          { metricName: `${fsyncName}_count`, labels: {}, value: c.fsync.count },
        ],
      }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    new Gauge({
      name: 'flo_rx_server_storage_last_commit_error_timestamp_seconds',
      help: 'When the last write or fsync failed (unix seconds), labelled with its message; absent while none has.',
      labelNames: ['message'],
      registers: [this.registry],
      collect() {
        this.reset();
        const last = c.lastCommitError;
        if (last) this.set({ message: last.message }, last.at / 1000);
      },
    });
  }

  /** One answered request. */
  record(opcode: number, status: number, seconds: number): void {
    let h = this.byOpcode.get(opcode);
    if (h === undefined) {
      h = { buckets: new Float64Array(LATENCY_BUCKETS.length), count: 0, sum: 0, ok: 0, otherStatuses: new Map() };
      this.byOpcode.set(opcode, h);
    }
    if (status === Status.OK) h.ok++;
    else {
      const s = status & 0xff;
      h.otherStatuses.set(s, (h.otherStatuses.get(s) ?? 0) + 1);
    }
    h.count++;
    h.sum += seconds;
    // Only the request's own bucket (a fast one: the first); the scrape sums them up.
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]) {
        h.buckets[i]++;
        break;
      }
    }
  }

  parked(delta: 1 | -1): void {
    this.parkedNow += delta;
  }

  /** Requests answered so far, by operation name and status text (for the JSON status page). */
  requestCounts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [opcode, h] of this.byOpcode) {
      const op: Record<string, number> = {};
      if (h.ok > 0) op[statusText(Status.OK)] = h.ok;
      for (const [status, n] of h.otherStatuses) op[statusText(status)] = n;
      out[opcodeName(opcode)] = op;
    }
    return out;
  }

  /** The persistence counters for the JSON status page (undefined without a data directory). */
  persistenceCounts(): PersistenceCounts | undefined {
    const c = this.storage;
    if (c === undefined) return undefined;
    return {
      bytesWritten: c.bytesWritten,
      commits: c.commits,
      commitErrors: c.commitErrors,
      fsyncs: c.fsync.count,
      fsyncSeconds: c.fsync.sum,
      compactions: c.compactions,
      compactionSeconds: c.compactionSeconds,
      ...(c.lastCommitError ? { lastCommitError: c.lastCommitError } : {}),
    };
  }

  get parkedRequests(): number {
    return this.parkedNow;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
