/**
 * `flo-rx demo` (`npm start`): the toolkit end to end, on an embedded Flo server started in-process.
 *
 *   producer ──append──▶ stream "orders" ──group "projector"──▶ 2 consumers × settle(project, 8)
 *                                                                 ├─ kv.incr  customers/<id>/orders, /cents
 *                                                                 ├─ kv.put   customers/<id>/profile (CAS, retried on conflict)
 *                                                                 └─ enqueue  queue "order-tasks" (dedup key per task)
 *   queue "order-tasks" ──messages()──▶ settle(runTask, 16, toDlqAfter 3) ──▶ acked | retried | DLQ
 *
 * Every stage is a cold Observable; the three run side by side in one `merge`, over one connection,
 * and stop together (`takeUntil`) once every event is projected and every task is done or
 * dead-lettered. Backpressure is `mergeMap` concurrency all the way: each leasing source holds at
 * most `maxInFlight` unsettled items, and `settle(handler, { concurrency })` is a `mergeMap`.
 * Then the demo reads the projections back and checks them, and the DLQ, against an expectation
 * computed in memory from the same deterministic event generator.
 */
import { performance } from 'node:perf_hooks';
import {
  EMPTY,
  filter,
  forkJoin,
  from,
  ignoreElements,
  lastValueFrom,
  map,
  merge,
  mergeMap,
  retry,
  Subject,
  take,
  takeUntil,
  tap,
  throwError,
  timer,
  toArray,
  type Observable,
} from 'rxjs';
import { connect, isConflict, settle, type FloClient, type GroupRecord, type QueueMessage } from '../node.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type FloServer } from '../server.js';
import { DEMO_USAGE, parseDemoArgs, type DemoOptions } from './args.js';
import {
  CUSTOMERS,
  dollars,
  expectationOf,
  foldProfile,
  isFlaky,
  isPoison,
  MAX_DELIVERIES,
  orderEvents,
  tasksFor,
  type CustomerProfile,
  type Expectation,
  type OrderEvent,
  type OrderTask,
} from './model.js';
import { progressIndicator, type DemoOutput } from './progress.js';

export { parseDemoArgs, DEMO_USAGE, type DemoOptions } from './args.js';

const STREAM = 'orders';
const GROUP = 'projector';
const QUEUE = 'order-tasks';
const CONSUMERS = ['projector-1', 'projector-2'] as const;
/** Records each consumer holds and works on at once (its `maxInFlight` and its `settle` concurrency). */
const PROJECTOR_CONCURRENCY = 8;
/** Tasks the worker holds and works on at once. */
const WORKER_CONCURRENCY = 16;
/** Appends in flight at once (pipelined on the one connection). */
const PRODUCER_CONCURRENCY = 32;

export interface DemoIo {
  /** Progress and summary. Default `process.stdout`. */
  readonly out?: DemoOutput;
  /** Usage and errors. Default `process.stderr`. */
  readonly err?: DemoOutput;
}

/** Live counters of a run (what the progress line shows). */
export interface DemoCounters {
  appended: number;
  /** Events projected and acked. */
  processed: number;
  /** Projection attempts that failed (nacked and redelivered; none expected). */
  projectionFailures: number;
  readonly processedBy: Record<string, number>;
  /** CAS conflicts of the profile updates, each retried. */
  casRetries: number;
  /** Distinct task seqs enqueued. */
  tasksEnqueued: number;
  tasksDone: number;
  /** Failed task deliveries (nacked: redelivered, or dead-lettered after `MAX_DELIVERIES`). */
  failedDeliveries: number;
  dlq: number;
}

export interface DemoResult {
  /** Everything was processed and every check passed. */
  readonly ok: boolean;
  /** What the process should exit with: 0 ok, 1 failed, 2 bad arguments. */
  readonly exitCode: number;
  readonly events: number;
  readonly counters?: DemoCounters;
  readonly expected?: Expectation;
  /** Customers whose projection (counters and profile document) matched the expectation. */
  readonly customersVerified?: number;
  /** What did not match (empty when ok). */
  readonly problems: readonly string[];
  readonly elapsedMs?: number;
  /** The summary text printed at the end. */
  readonly summary?: string;
}

function writerOf(stream: NodeJS.WriteStream): DemoOutput {
  return {
    write: (text: string) => stream.write(text),
    get isTTY() {
      return stream.isTTY === true;
    },
    get columns() {
      return stream.columns;
    },
  };
}

/** Reads a counter written by `kv.incr`: a little-endian i64 on the embedded server, decimal text elsewhere. */
function counterValue(value: Uint8Array): bigint {
  if (value.length === 8) return new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, true);
  const text = new TextDecoder().decode(value).trim();
  return /^-?\d+$/.test(text) ? BigInt(text) : -1n;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

/**
 * Runs the demo (arguments as after `flo-rx demo`); resolves with the outcome and never exits the
 * process itself (the CLI sets the exit code from `exitCode`).
 */
export async function main(args: readonly string[] = [], io: DemoIo = {}): Promise<DemoResult> {
  const out = io.out ?? writerOf(process.stdout);
  const err = io.err ?? writerOf(process.stderr);
  const parsed = parseDemoArgs(args);
  if (parsed.kind === 'help') {
    out.write(DEMO_USAGE);
    return { ok: true, exitCode: 0, events: 0, problems: [] };
  }
  if (parsed.kind === 'error') {
    err.write(`flo-rx demo: ${parsed.message}\n\n${DEMO_USAGE}`);
    return { ok: false, exitCode: 2, events: 0, problems: [parsed.message] };
  }
  return runDemo(parsed.options, out);
}

async function runDemo(options: DemoOptions, out: DemoOutput): Promise<DemoResult> {
  const say = (line = '') => {
    if (!options.quiet) out.write(`${line}\n`);
  };
  const events = orderEvents(options.events);
  const expected = expectationOf(events);

  // The profile 'flo' sends each message's delivery count, which `settle({ toDlqAfter })` reads.
  // A durable server, as a user runs it (`flo-rx serve --data-dir`), on a directory of its own.
  const dataDir = await mkdtemp(join(tmpdir(), 'flo-rx-demo-'));
  const server: FloServer = await startServer({ port: 0, profile: 'flo', dataDir });
  const flo: FloClient = connect(`127.0.0.1:${server.port}`, { namespace: 'demo' });
  try {
    say(`flo-rx demo: embedded Flo server on 127.0.0.1:${server.port}, namespace "demo", ${server.storage} (a temporary one)`);
    say(`  producer   ${events.length} order events → stream "${STREAM}" (${PRODUCER_CONCURRENCY} appends in flight)`);
    say(`  projector  group "${GROUP}": ${CONSUMERS.length} consumers × settle concurrency ${PROJECTOR_CONCURRENCY} → kv.incr, kv.put (CAS), queue "${QUEUE}"`);
    say(`  worker     queue "${QUEUE}": settle concurrency ${WORKER_CONCURRENCY}, failures retried, DLQ after ${MAX_DELIVERIES} deliveries`);
    say();

    const c: DemoCounters = {
      appended: 0,
      processed: 0,
      projectionFailures: 0,
      processedBy: Object.fromEntries(CONSUMERS.map((id) => [id, 0])),
      casRetries: 0,
      tasksEnqueued: 0,
      tasksDone: 0,
      failedDeliveries: 0,
      dlq: 0,
    };
    const enqueuedSeqs = new Set<bigint>();
    const changed$ = new Subject<void>();
    const finished = () => c.appended === events.length && c.processed === events.length && c.tasksDone + c.dlq === expected.tasks;
    const done$ = changed$.pipe(filter(finished), take(1));

    // 1. The producer: every append is a cold Observable; `mergeMap(…, 32)` keeps 32 of them in flight.
    const producer$ = from(events).pipe(
      mergeMap(
        (event) =>
          flo.stream.append(STREAM, event, {
            headers: { 'content-type': 'application/json', source: 'demo-producer', customer: event.customer },
            partitionKey: event.customer,
          }),
        PRODUCER_CONCURRENCY,
      ),
      tap(() => {
        c.appended++;
        changed$.next();
      }),
    );

    // 2. The projector: read-modify-write of the profile document with CAS; a concurrent update of
    //    the same customer makes the put fail with a ConflictError, and `retry` reruns get + put.
    const updateProfile = (event: OrderEvent): Observable<unknown> => {
      const key = `customers/${event.customer}/profile`;
      return flo.kv.get(key).pipe(
        mergeMap((entry) => {
          const next = foldProfile(entry ? entry.data<CustomerProfile>() : null, event);
          return flo.kv.put(key, next, entry ? { casVersion: entry.version } : { ifNotExists: true });
        }),
        // `retry` resubscribes to get + put; anything but a conflict fails the handler (the event is nacked).
        retry({
          count: 50,
          delay: (error: unknown) => {
            if (!isConflict(error)) return throwError(() => error);
            c.casRetries++;
            return timer(0);
          },
        }),
      );
    };
    // One event: two counters, the profile, and the follow-up tasks, all at once (`forkJoin`).
    // (A redelivered event would count twice here; the follow-up tasks would not, thanks to the dedup key.)
    const project = (rec: GroupRecord): Observable<unknown> => {
      const event = rec.data<OrderEvent>();
      const enqueue = (task: OrderTask) =>
        flo.queue.enqueue(QUEUE, task, { dedupKey: task.id, priority: task.kind === 'fraud-check' ? 0 : 10 }).pipe(
          tap((seq) => {
            enqueuedSeqs.add(seq);
            c.tasksEnqueued = enqueuedSeqs.size;
          }),
        );
      return forkJoin([
        flo.kv.incr(`customers/${event.customer}/orders`),
        flo.kv.incr(`customers/${event.customer}/cents`, { delta: event.cents }),
        updateProfile(event),
        forkJoin(tasksFor(event).map(enqueue)),
      ]);
    };
    const projector$ = merge(
      ...CONSUMERS.map((consumer) =>
        flo.stream
          .group(STREAM, GROUP, { consumer, batch: PROJECTOR_CONCURRENCY, maxInFlight: PROJECTOR_CONCURRENCY, blockMs: 250 })
          .pipe(
            settle(project, { concurrency: PROJECTOR_CONCURRENCY }),
            tap((r) => {
              if (r.outcome === 'acked') {
                c.processed++;
                c.processedBy[consumer] = (c.processedBy[consumer] ?? 0) + 1;
              } else c.projectionFailures++;
              changed$.next();
            }),
          ),
      ),
    );

    // 3. The task worker: a flaky task fails its first delivery, a poison one every delivery; `settle`
    //    nacks each failure (redelivered at once) and the MAX_DELIVERIES-th to the DLQ.
    const runTask = (msg: QueueMessage): Observable<string> => {
      const task = msg.data<OrderTask>();
      const delivery = msg.deliveryCount ?? 1;
      if (isPoison(task)) return throwError(() => new Error(`${task.id}: mailbox rejected (delivery ${delivery})`));
      if (isFlaky(task) && delivery === 1) return throwError(() => new Error(`${task.id}: SMTP timeout`));
      return timer(1).pipe(map(() => task.id)); // a little asynchronous work
    };
    const worker$ = flo.queue
      .messages(QUEUE, { batch: WORKER_CONCURRENCY, maxInFlight: WORKER_CONCURRENCY, blockMs: 250, visibilityTimeoutMs: 10_000 })
      .pipe(
        settle(runTask, { concurrency: WORKER_CONCURRENCY, toDlqAfter: MAX_DELIVERIES }),
        tap((r) => {
          if (r.outcome === 'acked') c.tasksDone++;
          else {
            c.failedDeliveries++;
            if ((r.item.deliveryCount ?? 0) >= MAX_DELIVERIES) c.dlq++;
          }
          changed$.next();
        }),
      );

    const render = () =>
      `events ${pad(c.appended, String(events.length).length)}/${events.length} appended · ${pad(c.processed, String(events.length).length)} processed` +
      ` · tasks ${c.tasksDone}/${expected.tasksDone} done · ${c.failedDeliveries} failed · dlq ${c.dlq}`;
    const progress$ = options.quiet ? EMPTY : progressIndicator(out, render);

    // Run everything side by side until all is processed (or the deadline passes).
    const deadlineMs = 20_000 + 10 * events.length;
    let timedOut = false;
    const started = performance.now();
    await lastValueFrom(
      merge(producer$, projector$, worker$, progress$).pipe(
        ignoreElements(),
        takeUntil(merge(done$, timer(deadlineMs).pipe(tap(() => (timedOut = true))))),
      ),
      { defaultValue: undefined },
    );
    const elapsedMs = performance.now() - started;

    // 4. Verification: read the projections and the DLQ back, compare with the expectation.
    const problems: string[] = [];
    const check = (what: string, actual: unknown, wanted: unknown) => {
      if (actual !== wanted) problems.push(`${what}: got ${String(actual)}, expected ${String(wanted)}`);
    };
    if (timedOut) problems.push(`not finished within ${deadlineMs} ms`);
    check('events appended', c.appended, expected.events);
    check('events processed', c.processed, expected.events);
    check('projection failures', c.projectionFailures, 0);
    check('tasks enqueued', c.tasksEnqueued, expected.tasks);
    check('tasks done', c.tasksDone, expected.tasksDone);
    check('failed task deliveries', c.failedDeliveries, expected.failedDeliveries);
    check('tasks dead-lettered', c.dlq, expected.deadLettered.length);

    const customers = [...expected.profiles.keys()].sort();
    const keys = customers.flatMap((id) => [`customers/${id}/orders`, `customers/${id}/cents`, `customers/${id}/profile`]);
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += 255) chunks.push(keys.slice(i, i + 255));
    const entries = (await Promise.all(chunks.map((chunk) => lastValueFrom(flo.kv.mget(chunk))))).flat();
    const byKey = new Map(entries.map((e) => [e.key, e]));
    let customersVerified = 0;
    for (const id of customers) {
      const want = expected.profiles.get(id)!;
      const orders = byKey.get(`customers/${id}/orders`);
      const cents = byKey.get(`customers/${id}/cents`);
      const doc = byKey.get(`customers/${id}/profile`);
      const before = problems.length;
      check(`${id} orders counter`, orders?.found ? counterValue(orders.value) : undefined, BigInt(want.orders));
      check(`${id} cents counter`, cents?.found ? counterValue(cents.value) : undefined, BigInt(want.cents));
      check(`${id} profile`, doc?.found ? JSON.stringify(doc.data<CustomerProfile>()) : undefined, JSON.stringify(want));
      if (problems.length === before) customersVerified++;
    }
    const dlqIds = (await lastValueFrom(flo.queue.dlq.list(QUEUE, { limit: 1000 }).pipe(toArray())))
      .map((e) => e.data<OrderTask>().id)
      .sort();
    check('DLQ contents', dlqIds.join(','), [...expected.deadLettered].sort().join(','));
    const stats = await lastValueFrom(flo.queue.stats(QUEUE));
    check('queue ready + leased', stats.ready + stats.leased, 0n);
    const info = await lastValueFrom(flo.stream.info(STREAM));
    check('stream length', info.count, BigInt(expected.events));

    // 5. The summary.
    const ok = problems.length === 0;
    const seconds = elapsedMs / 1000;
    const samples = customers
      .map((id) => expected.profiles.get(id)!)
      .sort((a, b) => b.cents - a.cents)
      .slice(0, 3);
    const lines = [
      '',
      `summary (${events.length} events, ${customers.length}/${CUSTOMERS} customers)`,
      `  stream     ${c.appended} appended to "${STREAM}" (${info.count} records), ${c.processed} projected by group "${GROUP}" (${CONSUMERS.map((id) => `${id}: ${c.processedBy[id]}`).join(', ')})`,
      `  kv         counters (kv.incr) and profile documents (kv.put with CAS; ${c.casRetries} conflicts retried) of ${customersVerified}/${customers.length} customers match the in-memory expectation`,
      ...samples.map(
        (p) =>
          `               ${p.customer}: ${pad(p.orders, 4)} orders, ${pad(dollars(p.cents), 12)}, largest #${p.largestOrder?.orderId} ${dollars(p.largestOrder?.cents ?? 0)}`,
      ),
      `  queue      ${c.tasksEnqueued} tasks enqueued to "${QUEUE}", ${c.tasksDone} done, ${c.failedDeliveries} failed deliveries (retried, or dead-lettered after ${MAX_DELIVERIES}), ${dlqIds.length} in the DLQ (expected ${expected.deadLettered.length})`,
      `  time       ${seconds.toFixed(2)} s, ${Math.round(events.length / Math.max(seconds, 1e-3))} events/s, ${Math.round((c.tasksDone + c.failedDeliveries) / Math.max(seconds, 1e-3))} task deliveries/s`,
      ...problems.map((p) => `  MISMATCH   ${p}`),
      ok
        ? `demo OK: ${events.length} events processed, ${c.tasksDone} tasks done, ${dlqIds.length} dead-lettered, ${customersVerified} customer projections verified in ${seconds.toFixed(2)} s`
        : `demo FAILED: ${problems.length} check(s) did not pass`,
    ];
    const summary = `${lines.slice(options.quiet ? 1 : 0).join('\n')}\n`;
    out.write(summary);
    return {
      ok,
      exitCode: ok ? 0 : 1,
      events: events.length,
      counters: c,
      expected,
      customersVerified,
      problems,
      elapsedMs,
      summary,
    };
  } finally {
    await flo.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
