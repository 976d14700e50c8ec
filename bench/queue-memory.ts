/**
 * Client memory while draining a large queue backlog:
 *
 *   (f) a backlog of BENCH_BACKLOG (default 1 000 000) messages on an embedded server running in a
 *       SEPARATE process; a client process (forked with `--expose-gc`) drains it through
 *       `messages(q, { batch: 64, maxInFlight: 64 })` → `settle(handler, { concurrency: 16 })` for at
 *       most BENCH_MEM_SECONDS (default 15) and samples its heapUsed / rss every 100 ms (every 10th
 *       sample, and the first and last, right after a forced full GC).
 *
 * A leasing source never holds more than `maxInFlight` unsettled messages, so the client's heap must
 * stay flat: bounded by maxInFlight, not by the backlog. Prints figures, asserts nothing.
 * Run: `npm run bench` (or `npx tsx bench/queue-memory.ts`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const MB = 2 ** 20;

function spawn(script: string, args: string[], execArgv: string[]): { child: ChildProcess; message: Promise<Record<string, unknown>>; stop(): Promise<void> } {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    execArgv: [...execArgv, '--import', 'tsx'],
    env: { ...process.env, BENCH_BACKLOG: String(BACKLOG) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const message = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited early (${code})`)));
    child.once('message', (msg) => resolve(msg as Record<string, unknown>));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    });
  return { child, message, stop };
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

export async function main(): Promise<void> {
  console.log(`queue-memory: client draining a backlog of ${BACKLOG.toLocaleString('en-US')} messages (server in a separate process)`);
  const server = spawn('./backlog-server.ts', [], []);
  try {
    const ready = await server.message;
    if (typeof ready.skip === 'string') {
      console.log(`  skipped: ${ready.skip}`);
      return;
    }
    console.log(
      `  (setup) backlog filled in the server process in ${(ready.fillMs as number).toFixed(0)} ms, server rss ${(ready.rssMb as number).toFixed(0)} MB`,
    );
    const client = spawn('./queue-memory-client.ts', [String(ready.port), String(BACKLOG)], ['--expose-gc']);
    let result: Record<string, unknown>;
    try {
      result = await client.message;
    } finally {
      await client.stop();
    }
    if (typeof result.error === 'string') {
      console.log(`  failed: ${result.error}`);
      return;
    }
    const samples = result.samples as Array<{ heap: number; rss: number; gc: boolean }>;
    const heaps = samples.map((s) => s.heap);
    const afterGc = samples.filter((s) => s.gc).map((s) => s.heap);
    const rss = samples.map((s) => s.rss);
    const drained = result.drained as number;
    const secs = result.secs as number;
    const stats = result.stats as { ready?: number; leased?: number; acked?: number } | undefined;
    console.log(
      `  (f) drained ${drained.toLocaleString('en-US')} of ${BACKLOG.toLocaleString('en-US')} in ${secs.toFixed(1)} s ` +
        `(${Math.round(drained / secs).toLocaleString('en-US')} messages/s, handler delay ${result.delayMs as number} ms), ` +
        `${stats ? `${(stats.ready ?? 0).toLocaleString('en-US')} still ready on the server` : 'server stats unavailable'}`,
    );
    console.log(
      `      client heapUsed, all ${samples.length} samples (every 100 ms): ` +
        `first ${mb(heaps[0]!)}, min ${mb(Math.min(...heaps))}, max ${mb(Math.max(...heaps))}, last ${mb(heaps.at(-1)!)}`,
    );
    if (afterGc.length > 0) {
      console.log(
        `      client heapUsed, ${afterGc.length} samples right after a full GC: ` +
          `first ${mb(afterGc[0]!)}, min ${mb(Math.min(...afterGc))}, max ${mb(Math.max(...afterGc))}, last ${mb(afterGc.at(-1)!)}`,
      );
    } else {
      console.log('      (no GC samples: run without --expose-gc or BENCH_MEM_GC=0)');
    }
    console.log(`      client rss: first ${mb(rss[0]!)}, min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}, last ${mb(rss.at(-1)!)}`);
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
