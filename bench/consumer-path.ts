/**
 * The client's own work per record of `group → mergeMap(16) → ack()` without sockets: the real
 * `stream.group` (leasing source, records, leases, coalescer, `ack()`) with its group read, join,
 * leave and settle requests replaced by in-process fakes that answer on a microtask (the reads
 * decode a prebuilt reply of 64 records with the real decoder). No connection, frames, kernel or
 * server: what is left is the client's per-record JavaScript and its garbage, with much less noise
 * than `bench/consumer-overhead.ts` on a shared machine. Prints this process's CPU µs per record of
 * each round and the median of rounds 3 and later (the first rounds include JIT warm-up).
 *
 * Run: `npx tsx bench/consumer-path.ts`. BENCH_ITEMS (default 300 000) per round, BENCH_ROUNDS
 * (default 7), BENCH_PIPE=ack for `group → ack()` alone (without the `mergeMap(r => of(r), 16)`),
 * BENCH_CPU_PROFILE=<file> / BENCH_HEAP_PROFILE=<file> write a CPU profile / a sampling heap
 * profile (objects collected by GC included) of the last round (`bench/profile-summary.ts` reads
 * the CPU one). It replaces private methods of the stream calls: a scratch tool, not an API.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { mergeMap, Observable, of } from 'rxjs';
import { StreamApi as StreamCalls } from '../src/client/stream.js';
import { connect } from '../src/node.js';
import { ack } from '../src/operators/index.js';
import { decodeStreamGroupReadReply, encodeStreamRecords } from '../src/protocol/stream.js';
import { drain, median } from './support/stats.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PIPE = process.env.BENCH_PIPE ?? 'merge';

/** Emits `make()` on a microtask, then completes (a reply that arrives later than the request). */
function later<T>(make: () => T): Observable<T> {
  return new Observable<T>((subscriber) => {
    let live = true;
    queueMicrotask(() => {
      if (!live) return;
      subscriber.next(make());
      subscriber.complete();
    });
    return () => {
      live = false;
    };
  });
}

export async function main(): Promise<void> {
  const stream = 'bench-stream';
  const payload = new Uint8Array(100).fill(0x61);
  let sequence = 1n;
  const replies = Array.from({ length: 16 }, () =>
    encodeStreamRecords(
      Array.from({ length: 64 }, () => ({ id: { timestampMs: 1_733_480_000_000n, sequence: sequence++ }, tier: 0, partition: 0, stream, payload, headers: [] })),
    ),
  );
  let next = 0;
  const flo = connect('127.0.0.1:1'); // never connects: every request of the group is faked below
  const calls = new StreamCalls((flo.stream as unknown as { core: ConstructorParameters<typeof StreamCalls>[0] }).core);
  const fake = calls as unknown as Record<string, unknown>;
  fake.groupJoin = () => later(() => ({}));
  fake.groupLeave = () => of(undefined);
  fake.settlerFor_ = () => ({ ack: () => later(() => undefined), nack: () => later(() => undefined), touch: () => later(() => 0) });
  fake.groupReadRaw_ = (_s: string, _g: string, _c: string, q: { count: number }, toRecords: (wire: unknown) => unknown[]) =>
    later(() => toRecords(decodeStreamGroupReadReply(replies[next++ & 15]!).slice(0, q.count)));

  const session = new Session();
  session.connect();
  const perRecord: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const last = round === ROUNDS - 1;
    const cpuProfile = last ? process.env.BENCH_CPU_PROFILE : undefined;
    const heapProfile = last ? process.env.BENCH_HEAP_PROFILE : undefined;
    if (cpuProfile) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    if (heapProfile) {
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    }
    const source = calls.group(stream, 'g', { batch: 64, maxInFlight: 64, consumer: 'c' });
    const cpu0 = process.cpuUsage();
    await drain(PIPE === 'ack' ? source.pipe(ack()) : source.pipe(mergeMap((r) => of(r), 16), ack()), ITEMS);
    const cpu = process.cpuUsage(cpu0);
    if (cpuProfile) writeFileSync(cpuProfile, JSON.stringify((await session.post('Profiler.stop')).profile));
    if (heapProfile) writeFileSync(heapProfile, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
    perRecord.push((cpu.user + cpu.system) / ITEMS);
  }
  session.disconnect();
  await flo.close();
  const pipeline = PIPE === 'ack' ? 'group → ack()' : 'group → mergeMap(16) → ack()';
  console.log(`consumer-path: ${pipeline} without sockets, ${ITEMS.toLocaleString('en-US')} records per round`);
  console.log(`  client CPU µs/record per round: ${perRecord.map((v) => v.toFixed(2)).join(', ')}; median of rounds 3+: ${median(perRecord.slice(2)).toFixed(2)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
