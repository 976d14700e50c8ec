/**
 * The Go SDK's StreamWorker, the flo-rx way: append some events (with headers) to two streams, then
 * consume both through one consumer group with a handler run 3 at a time; each record is acked
 * when its handler succeeds and nacked (redelivered) when it throws.
 *
 *   npx tsx examples/stream-worker.ts                 # starts an embedded server in-process
 *   FLO_ADDR=localhost:9000 npx tsx examples/stream-worker.ts
 */
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { formatStreamId } from '../src/node.js';
import { streamWorker } from '../src/client/stream-worker.js';
import { runIfMain, withFlo } from './support.js';

interface OrderEvent {
  readonly order: number;
  readonly kind: 'created' | 'refunded';
}

export interface ExampleResult {
  /** `stream/order` of each record the handler processed successfully, in completion order. */
  readonly processed: string[];
  /** How many records were nacked (the handler fails once on purpose) and redelivered. */
  readonly retried: number;
}

export async function main(log: (line: string) => void = console.log): Promise<ExampleResult> {
  return withFlo({ log }, async (flo) => {
    // client.Stream.Append(stream, payload, &StreamAppendOptions{Headers: ...})
    const events: Array<[string, OrderEvent]> = [
      ['orders', { order: 1, kind: 'created' }],
      ['orders', { order: 2, kind: 'created' }],
      ['refunds', { order: 1, kind: 'refunded' }],
      ['orders', { order: 3, kind: 'created' }],
      ['refunds', { order: 3, kind: 'refunded' }],
      ['orders', { order: 4, kind: 'created' }],
    ];
    for (const [stream, event] of events) {
      const id = await firstValueFrom(
        flo.stream.append(stream, event, { headers: { 'content-type': 'application/json', source: 'example' } }),
      );
      log(`appended ${stream} ${formatStreamId(id)} ${JSON.stringify(event)}`);
    }

    // client.NewStreamWorker({Streams, Group, Concurrency, BatchSize, BlockMS}, handler)
    let failedOnce = false;
    const results = await lastValueFrom(
      streamWorker(flo, { streams: ['orders', 'refunds'], group: 'billing', concurrency: 3, batchSize: 10 }, async (rec) => {
        const event = rec.data<OrderEvent>(); // sctx.Into(&data)
        if (event.order === 2 && !failedOnce) {
          failedOnce = true;
          throw new Error('transient failure'); // nacked: redelivered at once
        }
        await new Promise((resolve) => setTimeout(resolve, 5)); // some work
        log(`  ${rec.stream} ${formatStreamId(rec.id)} [${rec.group}/${rec.consumer}] ${rec.headers['source']} → ${event.kind} #${event.order}`);
        return `${rec.stream}/${event.order}`;
      }).pipe(take(events.length + 1), toArray()), // every record once, plus the failed attempt
    );
    const processed = results.filter((r) => r.outcome === 'acked').map((r) => r.result as string);
    const retried = results.filter((r) => r.outcome === 'nacked').length;
    log(`processed ${processed.length} records (${retried} retried): ${processed.join(', ')}`);
    return { processed, retried };
  });
}

runIfMain(import.meta.url, main);
