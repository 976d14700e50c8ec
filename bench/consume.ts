/**
 * End-to-end consumer throughput over one connection to the embedded server running IN THIS
 * PROCESS (server and client share the event loop and the CPU, so the figures are a lower bound
 * of what the client alone can do):
 *
 *   (d) `flo.stream.group(s, g, { batch: 64, maxInFlight: 64 })` → `mergeMap(r => of(r), 16)` → `ack()`
 *   (e) `flo.queue.messages(q, { batch: 64, maxInFlight: 64 })` → `settle(handler, { concurrency: 16 })`
 *
 * The backlog (BENCH_CONSUME, default 50 000) is produced first by a second client (pipelined,
 * 256 in flight), then the clock starts at subscription and stops when the last item is acked.
 * Prints figures, asserts nothing. Run: `npm run bench` (or `npx tsx bench/consume.ts`).
 */
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, mergeMap, of, type Observable } from 'rxjs';
import { connect, type FloClient } from '../src/node.js';
import { ack, settle } from '../src/operators/index.js';
import { startServer } from '../src/server/server.js';

const TOTAL = Number(process.env.BENCH_CONSUME ?? 50_000);
const PRODUCE_IN_FLIGHT = 256;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

/** Sends `total` writes with `inFlight` outstanding at a time. */
async function produce(total: number, write: (i: number) => Observable<unknown>): Promise<number> {
  const start = performance.now();
  await lastValueFrom(from(Array.from({ length: total }, (_, i) => i)).pipe(mergeMap(write, PRODUCE_IN_FLIGHT)), { defaultValue: undefined });
  return total / ((performance.now() - start) / 1000);
}

/** Subscribes `source`, resolves with items/s once `total` items went through, then unsubscribes. */
function drain(source: Observable<unknown>, total: number): Promise<{ perSec: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const sub = source.subscribe({
      next: () => {
        if (++seen !== total) return;
        const secs = (performance.now() - start) / 1000;
        const used = process.cpuUsage(cpu0);
        queueMicrotask(() => sub.unsubscribe());
        resolve({ perSec: total / secs, cpu: (used.user + used.system) / 1e6 / secs });
      },
      error: reject,
      complete: () => reject(new Error(`completed after ${seen} items`)),
    });
  });
}

export async function main(): Promise<void> {
  const server = await startServer({ port: 0 });
  const open = (): FloClient => connect(`127.0.0.1:${server.port}`, { namespace: 'bench' });
  const producer = open();
  const consumer = open();
  try {
    console.log(`consume: backlog of ${TOTAL} items, embedded server in the same process (shares the CPU with the client)`);
    const payload = { order: 1234, customer: 'c-42', amount: 99.5 };

    // (d) consumer group → mergeMap → ack()
    const appendRate = await produce(TOTAL, () => producer.stream.append('bench-events', payload));
    console.log(`  (setup) stream.append, ${PRODUCE_IN_FLIGHT} in flight        ${fmt(appendRate)} appends/s`);
    const group = await drain(
      consumer.stream.group('bench-events', 'g', { batch: 64, maxInFlight: 64 }).pipe(
        mergeMap((r) => of(r), 16),
        ack(),
      ),
      TOTAL,
    );
    console.log(`  (d) group(batch 64, maxInFlight 64) → mergeMap(16) → ack()  ${fmt(group.perSec)} records/s  (process CPU ${(group.cpu * 100).toFixed(0)}% of one core)`);

    // (e) queue messages → settle
    const enqueueRate = await produce(TOTAL, () => producer.queue.enqueue('bench-jobs', payload));
    console.log(`  (setup) queue.enqueue, ${PRODUCE_IN_FLIGHT} in flight        ${fmt(enqueueRate)} enqueues/s`);
    let handled = 0;
    const queue = await drain(
      consumer.queue.messages('bench-jobs', { batch: 64, maxInFlight: 64 }).pipe(
        settle(
          (m) => {
            handled += m.payload.length > 0 ? 1 : 0;
            return handled;
          },
          { concurrency: 16 },
        ),
      ),
      TOTAL,
    );
    console.log(`  (e) messages(batch 64, maxInFlight 64) → settle(16)     ${fmt(queue.perSec)} messages/s (process CPU ${(queue.cpu * 100).toFixed(0)}% of one core)`);
  } finally {
    await Promise.allSettled([producer.close(), consumer.close()]);
    await server.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
