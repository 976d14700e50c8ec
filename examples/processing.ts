/**
 * Stream processing, the flo-rx way: submit a pipeline (filter → keyby → running sum, plus tag
 * routing to a KV sink), append orders, and watch the sink fill through a reactive subscription
 * (`stream.tail` on the output stream) while `processing.watch` reports the job's progress. Then
 * take a savepoint, stop, restore and cancel the job.
 *
 *   npx tsx examples/processing.ts                    # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/processing.ts
 */
import { firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { runIfMain, withFlo } from './support.js';

/** The pipeline: completed orders → running total per customer; big ones also land in KV. */
export const ORDER_TOTALS = `kind: Processing
name: order-totals
sources:
  - name: orders
    stream:
      name: orders
      poll_interval_ms: 100
operators:
  - type: filter
    name: completed-only
    condition: "json:status=completed"
  - type: classify
    name: size
    rules:
      - condition: "json:amount>=100"
        tag: big
  - type: keyby
    name: by-customer
    key_expression: "$.customer"
  - type: aggregate
    name: running-total
    function: sum
    field: "$.amount"
sinks:
  - name: big-orders
    kv:
      key_prefix: big-order
    match: [big]
  - name: totals
    stream:
      name: customer-totals
`;

const ORDERS = [
  { customer: 'ada', amount: 30, status: 'completed' },
  { customer: 'bob', amount: 120, status: 'completed' },
  { customer: 'ada', amount: 70, status: 'cancelled' },
  { customer: 'ada', amount: 15, status: 'completed' },
];

export interface ProcessingExampleResult {
  /** What the reactive subscription saw on the sink stream. */
  readonly sink: unknown[];
  /** Job states `watch` reported, as `status:records`. */
  readonly progress: string[];
  /** The KV sink's entry for bob (a big order). */
  readonly bigOrder: unknown;
}

export async function main(log: (line: string) => void = console.log): Promise<ProcessingExampleResult> {
  return withFlo({ log }, async (flo) => {
    const jobId = await firstValueFrom(flo.processing.submit(ORDER_TOTALS));
    log(`submitted order-totals as ${jobId}`);

    // The sink, reactively: every record the job appends to customer-totals, as it arrives.
    const sink = lastValueFrom(flo.stream.tail('customer-totals', { from: 'start' }).pipe(map((r) => r.data()), take(3), toArray()));
    // The job's progress: a status on every change, until the job ends.
    const progress: string[] = [];
    const watching = lastValueFrom(flo.processing.watch(jobId, { pollMs: 50 }).pipe(map((s) => `${s.status}:${s.recordsProcessed}`), toArray()));
    const watched = watching.then((all) => progress.push(...all));

    for (const order of ORDERS) await firstValueFrom(flo.stream.append('orders', order));
    const totals = await sink;
    for (const t of totals) log(`sink: ${JSON.stringify(t)}`);

    const bigOrder = (await firstValueFrom(flo.kv.get('big-order:bob')))?.data();
    log(`kv big-order:bob = ${JSON.stringify(bigOrder)}`);

    const savepoint = await firstValueFrom(flo.processing.savepoint(jobId));
    await lastValueFrom(flo.processing.stop(jobId), { defaultValue: undefined });
    log(`savepoint ${savepoint}, job stopped`);
    await lastValueFrom(flo.processing.restore(jobId, savepoint), { defaultValue: undefined });
    const page = await firstValueFrom(flo.processing.list());
    log(`jobs: ${page.jobs.map((j) => `${j.name} ${j.status}`).join(', ')}`);
    await lastValueFrom(flo.processing.cancel(jobId), { defaultValue: undefined });
    await watched;
    log(`progress: ${progress.join(' → ')}`);
    return { sink: totals, progress, bigOrder };
  });
}

runIfMain(import.meta.url, main);
