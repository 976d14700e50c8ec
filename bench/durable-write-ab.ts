/**
 * The durable write path of two trees in ONE process, A/B: this tree's KV, stream and queue stores
 * with a data directory, and those of another checkout (`BENCH_AB_OTHER=<dir>`), driven directly
 * (no sockets, no dispatcher) in alternating rounds (A B, B A, ...), 256 writes per event-loop
 * turn as the server's group commit sees them at 256 in flight. Prints each tree's median CPU µs
 * per write (`process.cpuUsage`) and the median of the per-round differences (other − this).
 *
 * Why in one process: on a shared machine two runs minutes apart differ more than a change of a
 * few hundred ns; rounds of both trees interleaved within seconds see the same load.
 *
 * Env: BENCH_AB_OTHER (required), BENCH_DWAB_WRITES (`kv,stream,queue` by default),
 * BENCH_DWAB_FSYNC (`everysec` by default, `always`, or `off`: in memory), BENCH_DWAB_OPS (writes
 * per round, default 50 000), BENCH_DWAB_ROUNDS (default 8), BENCH_DWAB_KEYS (KV keys, default
 * 1 000: with the default 64 older versions kept, the warm-up fills every key's history, so each
 * measured put also drops a version, as on a long-running server), BENCH_DWAB_LOCKSTEP=1 (wait
 * until each turn's writes are durable before the next turn, as a client with 256 in flight waits
 * for their replies: with `always`, one fdatasync per turn and nothing to overlap it with; the
 * line then also shows the writes per second of wall time, which include the fdatasyncs).
 * Run: `BENCH_AB_OTHER=/tmp/old node --import tsx bench/durable-write-ab.ts`. Asserts nothing.
 * Run it from both trees and take the mean of the two differences: a run can favour its own side
 * (A) by a few hundred ns per write even where both trees' code is the same.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durableWriterOf, type DurableWrite, type DurableWriter } from './support/durable-writer.js';
import { median } from './support/stats.js';

const here = resolve(fileURLToPath(import.meta.url), '../..');
const other = process.env.BENCH_AB_OTHER;
if (!other) throw new Error('BENCH_AB_OTHER=<the other tree> is required');
const WRITES = (process.env.BENCH_DWAB_WRITES ?? 'kv,stream,queue').split(',') as DurableWrite[];
const FSYNC = process.env.BENCH_DWAB_FSYNC ?? 'everysec';
const OPS = Number(process.env.BENCH_DWAB_OPS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_DWAB_ROUNDS ?? 8);
const KEYS = Number(process.env.BENCH_DWAB_KEYS ?? 1_000);
const PER_TURN = 256; // as durableWriterOf writes them (printed)
const LOCKSTEP = process.env.BENCH_DWAB_LOCKSTEP === '1';

const opened: DurableWriter[] = [];

/** Writes per second of wall time, per side, when LOCKSTEP. */
const rates = new Map<DurableWriter, number[]>();
const cpuUs = async (side: DurableWriter, from: number): Promise<number> => {
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  await side.run(from, OPS, LOCKSTEP);
  const t = process.cpuUsage(t0);
  if (LOCKSTEP) rates.set(side, [...(rates.get(side) ?? []), OPS / ((performance.now() - w0) / 1000)]);
  return (t.user + t.system) / OPS;
};

try {
  console.log(`durable writes in one process, fsync ${FSYNC}, ${OPS.toLocaleString('en-US')} writes per round, ${ROUNDS} rounds alternated, ${PER_TURN} per turn${LOCKSTEP ? ' (each turn waits for its commit)' : ''}, 100-byte values, ${KEYS} KV keys`);
  console.log(`A = ${here}\nB = ${resolve(other)}`);
  console.log(`${'write'.padEnd(8)} ${'A µs/op'.padStart(9)} ${'B µs/op'.padStart(9)} ${'B − A (median of rounds)'.padStart(26)}`);
  for (const write of WRITES) {
    const options = { fsync: FSYNC, keys: KEYS };
    const a = await durableWriterOf(here, write, options);
    opened.push(a);
    const b = await durableWriterOf(resolve(other), write, options);
    opened.push(b);
    // Warm-up: JIT, and every KV key's history full.
    const warm = Math.max(OPS, write === 'kv' ? KEYS * 70 : 0);
    await a.run(0, warm);
    await b.run(0, warm);
    const as: number[] = [];
    const bs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const from = warm + r * OPS;
      if (r % 2 === 0) {
        as.push(await cpuUs(a, from));
        bs.push(await cpuUs(b, from));
      } else {
        bs.push(await cpuUs(b, from));
        as.push(await cpuUs(a, from));
      }
    }
    const diffs = as.map((x, i) => bs[i] - x);
    if (LOCKSTEP) console.log(`${write.padEnd(8)} writes/s of wall time (median): A ${median(rates.get(a)!).toFixed(0)}, B ${median(rates.get(b)!).toFixed(0)}`);
    console.log(`${write.padEnd(8)} ${median(as).toFixed(3).padStart(9)} ${median(bs).toFixed(3).padStart(9)} ${median(diffs).toFixed(3).padStart(26)}   (A ${as.map((x) => x.toFixed(2)).join(' ')}; B ${bs.map((x) => x.toFixed(2)).join(' ')})`);
    await a.close();
    await b.close();
  }
} finally {
  // Data directories are removed also when a round throws (closing twice is a no-op).
  for (const w of opened) await w.close();
}
