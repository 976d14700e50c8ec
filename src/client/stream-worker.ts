import { defer, type Observable } from 'rxjs';
import { settle, type HandlerResult, type SettleResult } from '../operators/settle.js';
import { InvalidArgumentError } from '../protocol/errors.js';
import type { DrainOptions, RequestOptions } from './core/index.js';
import type { HandlerContext } from '../operators/types.js';
import { onDemand } from './on-demand.js';
import type { StreamApi } from './stream-api.js';
import type { GroupRecord } from './stream.js';

const loadRun = /* @__PURE__ */ onDemand(() => import('./on-demand-modules.js'));

/** Options of `streamWorker` (the Go SDK's `StreamWorker` options). */
export interface StreamWorkerOptions extends RequestOptions, DrainOptions {
  /** Stream(s) to consume; merged with `stream`, duplicates dropped. At least one is required. */
  readonly streams?: readonly string[] | string;
  /** A single stream (shorthand, as Go's `Stream`). */
  readonly stream?: string;
  /** Consumer group. Default `'default'`. */
  readonly group?: string;
  /** Consumer id in the group, the same on every stream. Default: generated (`flo-rx-<hex>`). */
  readonly consumer?: string;
  /** Handlers running at once, all streams together. Default 10. */
  readonly concurrency?: number;
  /** Records per group read. Default 10. */
  readonly batchSize?: number;
  /** Long-poll of each group read, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /** A handler still running after this long fails (its record is nacked). Default 300 000 (5 min). */
  readonly messageTimeoutMs?: number;
  /** The groups' ack timeout (lease length). Default 30 000. */
  readonly ackTimeoutMs?: number;
  /**
   * Touch each record's lease while its handler runs (every half ack timeout), so a handler slower
   * than the ack timeout is not redelivered to another consumer meanwhile. Default true (the Go
   * worker does not, and its slow records are redelivered after 30 s).
   */
  readonly renewLease?: boolean;
  /** Redelivery delay of the nack after a failure. Default: at once (as the Go worker). */
  readonly nackDelayMs?: number;
}

/** The streams of `options`: `stream` then `streams`, deduplicated, at least one. */
export function workerStreams(options: Pick<StreamWorkerOptions, 'stream' | 'streams'>): string[] {
  const listed = typeof options.streams === 'string' ? [options.streams] : [...(options.streams ?? [])];
  const all = [...(options.stream !== undefined ? [options.stream] : []), ...listed];
  const unique = [...new Set(all)];
  if (unique.length === 0) throw new InvalidArgumentError('streamWorker: at least one stream is required (stream or streams)');
  return unique;
}

/**
 * The Go SDK's `StreamWorker` as a few lines of RxJS: consumes one or more streams through one
 * consumer group, runs `handler` for each record with at most `concurrency` at once (across all
 * streams), acks on success and nacks (redelivered at once) on error or after `messageTimeoutMs`.
 * Subscribe to start; unsubscribe to stop (group reads are cancelled and the groups left).
 * Reconnects and group re-joins are the group sources' (`flo.stream.group`). Emits one
 * `SettleResult` per record; a failing handler never ends it.
 *
 * It is exactly this pipeline, which you can write inline to change any part of it:
 *
 * ```ts
 * const consumer = 'worker-1';
 * merge(
 *   ...['orders', 'refunds'].map((s) =>
 *     flo.stream.group(s, 'billing', { consumer, batch: 10, maxInFlight: 10, blockMs: 30_000 }),
 *   ),
 * ).pipe(settle((rec) => handle(rec), { concurrency: 10, timeoutMs: 300_000, renewLease: true }));
 * ```
 *
 * Each stream's source holds at most `max(concurrency, batchSize)` unsettled records, so a slow
 * handler never makes the worker lease the whole stream. Unlike the Go worker it registers no
 * worker (no `worker_register` / heartbeat): it is invisible to the worker registry.
 *
 * @example
 * streamWorker(flo, { stream: 'events', group: 'processors', concurrency: 5 }, async (rec) => {
 *   console.log(rec.stream, formatStreamId(rec.id), rec.headers);
 *   await process(rec.data<Event>());
 * }).subscribe();
 */
export function streamWorker<R, T = unknown>(
  flo: { readonly stream: StreamApi },
  options: StreamWorkerOptions,
  handler: (record: GroupRecord<T>, context: HandlerContext) => HandlerResult<R>,
): Observable<SettleResult<GroupRecord<T>, R>> {
  return defer(() => {
    const streams = workerStreams(options);
    // The pipeline's code loads with the stream calls it reads through (one lazy chunk).
    return loadRun((m) => m.streamWorkerPipeline(flo, options, streams, handler, settle));
  });
}
