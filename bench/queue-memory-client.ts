/**
 * Child process of `queue-memory.ts` (forked with `--expose-gc`): drains queue `backlog` through
 * `flo.queue.messages(q, { batch: 64, maxInFlight: 64 })` → `settle(handler, { concurrency: 16 })`
 * for at most BENCH_MEM_SECONDS (default 15) or until the backlog is empty, sampling
 * `process.memoryUsage()` every 100 ms, and every 10th sample right after `global.gc()` (when
 * exposed; a forced full GC every 100 ms would cut the drain rate by about 3×). Usage:
 * `queue-memory-client.ts <port> <backlog>`. Sends the figures to the parent over IPC.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../src/node.js';
import { settle } from '../src/operators/index.js';

const port = Number(process.argv[2]);
const backlog = Number(process.argv[3]);
const SECONDS = Number(process.env.BENCH_MEM_SECONDS ?? 15);
/** Handler delay in ms (0: a fast consumer). */
const DELAY_MS = Number(process.env.BENCH_MEM_DELAY_MS ?? 0);
const gc = process.env.BENCH_MEM_GC === '0' ? undefined : (globalThis as { gc?: () => void }).gc;

interface Sample {
  readonly heap: number;
  readonly rss: number;
  /** Taken right after a forced full GC. */
  readonly gc: boolean;
}

async function main(): Promise<void> {
  const flo = connect(`127.0.0.1:${port}`, { namespace: 'bench' });
  await flo.connect();
  const samples: Sample[] = [];
  const sample = () => {
    const collect = gc !== undefined && samples.length % 10 === 0;
    if (collect) gc();
    const m = process.memoryUsage();
    samples.push({ heap: m.heapUsed, rss: m.rss, gc: collect });
  };
  sample(); // connected, nothing leased yet

  let drained = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const handler = DELAY_MS > 0 ? () => sleep(DELAY_MS) : () => undefined;
  const start = performance.now();
  const sub = flo.queue
    .messages('backlog', { batch: 64, maxInFlight: 64 })
    .pipe(settle(handler, { concurrency: 16 }))
    .subscribe({
      next: () => {
        if (++drained === backlog) resolveDone();
      },
      error: (err: unknown) => {
        console.error(err);
        resolveDone();
      },
    });
  const timer = setInterval(sample, 100);
  await Promise.race([done, sleep(SECONDS * 1000)]);
  const secs = (performance.now() - start) / 1000;
  clearInterval(timer);
  sub.unsubscribe();
  gc?.();
  const m = process.memoryUsage();
  samples.push({ heap: m.heapUsed, rss: m.rss, gc: gc !== undefined });
  const stats = await new Promise((resolve) => flo.queue.stats('backlog').subscribe({ next: resolve, error: () => resolve(undefined) }));
  await flo.close();
  process.send!({ drained, secs, samples, gc: gc !== undefined, delayMs: DELAY_MS, stats: stats && JSON.parse(JSON.stringify(stats, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))) });
}

main().catch((err) => {
  process.send!({ error: String(err) });
});
