/**
 * The client's own cost per consumed item: the three consumer pipelines of `compare` (group →
 * `mergeMap(16)` → `ack()`, group → `settle(…, { concurrency: 16 })`, queue `messages()` →
 * `settle(16)`) against the embedded server in a child process, without the Redis side. Prints
 * items/s, this process's CPU µs per item and the server's, median of BENCH_ROUNDS (default 3),
 * and on Linux each round's read and write system calls per 1,000 items of both processes.
 * Run: `npx tsx bench/consumer-overhead.ts`; BENCH_ITEMS (default 30 000) per pipeline and round.
 * For before/after comparisons run it on both versions of the tree, alternating.
 * BENCH_PIPELINES=merge,group-settle,queue-settle picks pipelines (default: all three), e.g.
 * `BENCH_PIPELINES=merge node --cpu-prof --cpu-prof-dir=prof --import tsx bench/consumer-overhead.ts`.
 * BENCH_CPU_PROFILE=<file> writes a CPU profile of this process covering only the consumer
 * pipelines of rounds 2 and later (warm; no appends or enqueues in it when BENCH_PIPELINES has no
 * `queue-settle`). The stream is appended once and each round reads it with new groups, so a server
 * profile (BENCH_CPU_PROF=<dir>, see CONTRIBUTING.md) is mostly the group reads and acks.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { mergeMap, of } from 'rxjs';
import { connect } from '../src/node.js';
import { ack, settle } from '../src/operators/index.js';
import { readFileSync } from 'node:fs';
import { procCpuSeconds, startFloChild } from './support/processes.js';
import { drain, inFlightLoop, median } from './support/stats.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VALUE = new Uint8Array(100).fill(0x61);
const PIPELINES = new Set((process.env.BENCH_PIPELINES ?? 'merge,group-settle,queue-settle').split(','));
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;

/** The read and write system calls a process has made (`syscr`, `syscw` of /proc/<pid>/io), undefined elsewhere. */
function syscalls(pid: number): { r: number; w: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const r = /syscr: (\d+)/.exec(io);
    const w = /syscw: (\d+)/.exec(io);
    return r && w ? { r: Number(r[1]), w: Number(w[1]) } : undefined;
  } catch {
    return undefined;
  }
}

export async function main(): Promise<void> {
  const server = await startFloChild('embedded');
  const flo = connect(`127.0.0.1:${server.port}`);
  const group = { batch: 64, maxInFlight: 64 };
  const results = new Map<string, { rate: number[]; client: number[]; clientSys: number[]; server: number[]; calls: string[] }>();
  const measure = async (name: string, work: () => Promise<number>) => {
    const cpu0 = procCpuSeconds(server.pid);
    const io0 = [syscalls(process.pid), syscalls(server.pid)];
    const own0 = process.cpuUsage();
    const rate = await work();
    const own = process.cpuUsage(own0);
    const io1 = [syscalls(process.pid), syscalls(server.pid)];
    const cpu1 = procCpuSeconds(server.pid);
    const r = results.get(name) ?? results.set(name, { rate: [], client: [], clientSys: [], server: [], calls: [] }).get(name)!;
    // Read and write system calls per 1,000 items, client / server (reads include epoll's wake-ups' reads).
    const per = (i: number, k: 'r' | 'w') => ((io1[i]![k] - io0[i]![k]) * 1000) / ITEMS;
    if (io0.every(Boolean) && io1.every(Boolean)) r.calls.push(`${per(0, 'r').toFixed(0)}r ${per(0, 'w').toFixed(0)}w / ${per(1, 'r').toFixed(0)}r ${per(1, 'w').toFixed(0)}w`);
    r.rate.push(rate);
    r.client.push((own.user + own.system) / ITEMS);
    r.clientSys.push(own.system / ITEMS);
    if (cpu0 !== undefined && cpu1 !== undefined) r.server.push(((cpu1 - cpu0) * 1e6) / ITEMS);
  };
  const session = CPU_PROFILE ? new Session() : undefined;
  try {
    await flo.connect();
    const stream = 'co-s';
    if (PIPELINES.has('merge') || PIPELINES.has('group-settle')) {
      await inFlightLoop(ITEMS, 256, (_i, done) => void flo.stream.append(stream, VALUE).subscribe({ error: done, complete: () => done() }));
    }
    for (let round = 0; round < ROUNDS; round++) {
      const queue = `co-q-${round}`;
      if (session && round === 1) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      if (PIPELINES.has('queue-settle')) await inFlightLoop(ITEMS, 256, (_i, done) => void flo.queue.enqueue(queue, VALUE).subscribe({ error: done, complete: () => done() }));
      if (PIPELINES.has('merge')) {
        await measure('group → mergeMap(16) → ack()', () =>
          drain(flo.stream.group(stream, `g-merge-${round}`, group).pipe(mergeMap((r) => of(r), 16), ack()), ITEMS),
        );
      }
      let handled = 0;
      if (PIPELINES.has('group-settle')) {
        await measure('group → settle(16)', () =>
          drain(flo.stream.group(stream, `g-settle-${round}`, group).pipe(settle(() => ++handled, { concurrency: 16 })), ITEMS),
        );
      }
      if (PIPELINES.has('queue-settle')) {
        await measure('queue messages() → settle(16)', () =>
          drain(flo.queue.messages(queue, group).pipe(settle(() => ++handled, { concurrency: 16 })), ITEMS),
        );
      }
    }
    if (session && CPU_PROFILE && ROUNDS > 1) writeFileSync(CPU_PROFILE, JSON.stringify((await session.post('Profiler.stop')).profile));
  } finally {
    session?.disconnect();
    await flo.close();
    await server.stop();
  }
  console.log(`consumer-overhead: ${ITEMS.toLocaleString('en-US')} items per pipeline, embedded server in a child process, median of ${ROUNDS} rounds`);
  for (const [name, r] of results) {
    const rate = Math.round(median(r.rate)).toLocaleString('en-US');
    const server = r.server.length > 0 ? median(r.server).toFixed(1) : '–';
    console.log(
      `  ${name.padEnd(30)} ${rate.padStart(9)} items/s  client CPU ${median(r.client).toFixed(2)} µs/item (system ${median(r.clientSys).toFixed(2)})  server CPU ${server} µs/item`,
    );
    if (r.calls.length > 0) console.log(`    syscalls per 1,000 items, client / server, each round: ${r.calls.join('; ')}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
