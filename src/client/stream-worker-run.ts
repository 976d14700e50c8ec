/**
 * The pipeline of `streamWorker` (`stream-worker.ts`, which checks the streams and has the docs):
 * loaded on demand with the stream calls it reads through.
 */
import { merge, type Observable } from 'rxjs';
import type { HandlerResult, settle as settleOperator, SettleResult } from '../operators/settle.js';
import type { HandlerContext } from '../operators/types.js';
import type { StreamApi } from './stream-api.js';
import { newConsumerId } from './stream-args.js';
import type { StreamWorkerOptions } from './stream-worker.js';
import type { GroupRecord } from './stream.js';

/**
 * `streams`' group sources merged into `settle`. `settle` is handed over rather than imported: it
 * is exported by `flo-rx`, and a bundler puts what the lazy chunk imports from such a file into
 * the start-up chunk of every app (docs/benchmarks.md, bundle round 6).
 */
export function streamWorkerPipeline<R, T>(
  flo: { readonly stream: StreamApi },
  options: StreamWorkerOptions,
  streams: readonly string[],
  handler: (record: GroupRecord<T>, context: HandlerContext) => HandlerResult<R>,
  settle: typeof settleOperator,
): Observable<SettleResult<GroupRecord<T>, R>> {
  const {
    group = 'default',
    consumer = newConsumerId(),
    concurrency = 10,
    batchSize = 10,
    blockMs = 30_000,
    messageTimeoutMs = 300_000,
    renewLease = true,
  } = options;
  const common = {
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    // Each group drains on `until`; their hand-backs at the deadline abort the handlers' signals.
    ...(options.until !== undefined ? { until: options.until } : {}),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
  };
  const maxInFlight = Math.max(concurrency, batchSize);
  return merge(
    ...streams.map((s) => flo.stream.group<T>(s, group, { ...common, consumer, batch: batchSize, maxInFlight, blockMs })),
  ).pipe(
    settle(handler, {
      concurrency,
      timeoutMs: messageTimeoutMs,
      ...(renewLease ? { renewLease: true } : {}),
      ...(options.nackDelayMs !== undefined ? { nackDelayMs: options.nackDelayMs } : {}),
    }),
  );
}
