/**
 * The durable write path of ONE tree in this process: its KV, stream or queue store with a data
 * directory (or in memory), driven directly as `bench/durable-write-ab.ts` drives them (256 writes
 * per event-loop turn, 100-byte values), after a warm-up. Prints the CPU µs per write
 * (`process.cpuUsage`). Asserts nothing.
 *
 * Why one tree per process: `durable-write-ab.ts` runs two trees in one heap, so one tree's garbage
 * is collected during the other's rounds, and a change that makes less long-lived garbage (a view
 * kept in a KV history) hardly shows there. Run this for each tree in turn, alternated:
 *
 *   for i in 1 2 3 4; do for t in /path/to/base /path/to/this; do
 *     BENCH_SOLO_TREE=$t npx tsx bench/durable-write-solo.ts; done; done
 *
 * On a loaded machine the CPU times move more than a change of 100 ns; the instructions a write
 * costs do not: run it under `valgrind --tool=cachegrind --cache-sim=no node --import tsx ...` with
 * two BENCH_SOLO_OPS (e.g. 20 000 and 120 000) and divide the difference of the `I refs` lines by
 * the difference of the ops (run it once without valgrind first, so that tsx has its transforms
 * cached: the first run of a tree pays them).
 *
 * Env: BENCH_SOLO_TREE (the checkout measured; default this one), BENCH_SOLO_WRITE (`kv`, `stream`
 * or `queue`; default `kv`), BENCH_SOLO_FSYNC (`everysec` by default, `always`, or `off`: in
 * memory), BENCH_SOLO_OPS (measured writes, default 1 000 000, after 100 000 to warm up),
 * BENCH_SOLO_KEYS (KV keys, default 1 000: with the 64 older versions kept, each put after the
 * warm-up also drops a version, as on a long-running server; 10 000 is what `durability.ts` puts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durableWriterOf, type DurableWrite } from './support/durable-writer.js';

const here = resolve(fileURLToPath(import.meta.url), '../..');
const tree = resolve(process.env.BENCH_SOLO_TREE ?? here);
const WRITE = (process.env.BENCH_SOLO_WRITE ?? 'kv') as DurableWrite;
const FSYNC = process.env.BENCH_SOLO_FSYNC ?? 'everysec';
const OPS = Number(process.env.BENCH_SOLO_OPS ?? 1_000_000);
const KEYS = Number(process.env.BENCH_SOLO_KEYS ?? 1_000);
const WARMUP = 100_000;

const writer = await durableWriterOf(tree, WRITE, { fsync: FSYNC, keys: KEYS });
try {
  await writer.run(0, WARMUP);
  const t0 = process.cpuUsage();
  await writer.run(WARMUP, OPS);
  const t = process.cpuUsage(t0);
  console.log(`${WRITE} ${FSYNC} ${KEYS} keys ${tree}: ${((t.user + t.system) / OPS).toFixed(3)} µs/write`);
} finally {
  await writer.close();
}
