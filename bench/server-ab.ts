/**
 * The embedded server's request/reply hot path, A/B: the server of this tree and the server of
 * another checkout (`BENCH_AB_OTHER=/path/to/tree`, e.g. the tree before a change) run as child
 * processes side by side; one client process drives both with the same work in alternating order
 * (A B, B A, ...). Prints, per row and per tree, the median throughput and the median server CPU
 * time per operation (from /proc: steadier than throughput on a shared machine).
 *
 * Env: BENCH_AB_OTHER (the other tree; without it only this tree runs), BENCH_AB_ROUNDS (default 5),
 * BENCH_KV_OPS (256 in flight, default 30 000), BENCH_KV_SEQ (1 in flight, default 2 000),
 * BENCH_STREAM_OPS / BENCH_QUEUE_OPS (default 20 000), BENCH_AB_ROWS (comma-separated row names:
 * put256,get256,put1,get1,append,enqueue; default all), BENCH_AB_DURABLE=1 (both servers with a
 * data directory, fsync always). `BENCH_CPU_PROF=<dir>` profiles the children.
 * Run: `BENCH_AB_OTHER=/tmp/old npx tsx bench/server-ab.ts`. Asserts nothing.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import { connect, type FloClient } from '../src/node.js';
import { procCpuSeconds, startFloChild, type ServerChild } from './support/processes.js';
import { inFlightLoop, median } from './support/stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_AB_ROUNDS', 5);
const KV_OPS = env('BENCH_KV_OPS', 30_000);
const KV_SEQ = env('BENCH_KV_SEQ', 2_000);
const STREAM_OPS = env('BENCH_STREAM_OPS', 20_000);
const QUEUE_OPS = env('BENCH_QUEUE_OPS', 20_000);
const ROWS = (process.env.BENCH_AB_ROWS ?? 'put256,get256,put1,get1,append,enqueue').split(',');
const VALUE = new Uint8Array(100).fill(0x61);
const KEYS = 10_000;

interface Side {
  readonly label: string;
  readonly server: ServerChild;
  readonly flo: FloClient;
  readonly rates: Map<string, number[]>;
  readonly cpu: Map<string, number[]>;
}

const subscribeDone = (o: Observable<unknown>, done: (err?: unknown) => void) =>
  void o.subscribe({ error: (e: unknown) => done(e), complete: () => done() });

interface RowSpec {
  readonly name: string;
  readonly ops: number;
  readonly inFlight: number;
  readonly op: (flo: FloClient, i: number, round: number) => Observable<unknown>;
}

const key = (i: number) => `bench:k${i % KEYS}`;
const SPECS: RowSpec[] = [
  { name: 'put256', ops: KV_OPS, inFlight: 256, op: (f, i) => f.kv.put(key(i), VALUE) },
  { name: 'get256', ops: KV_OPS, inFlight: 256, op: (f, i) => f.kv.get(key(i)) },
  { name: 'put1', ops: KV_SEQ, inFlight: 1, op: (f, i) => f.kv.put(key(i), VALUE) },
  { name: 'get1', ops: KV_SEQ, inFlight: 1, op: (f, i) => f.kv.get(key(i)) },
  { name: 'append', ops: STREAM_OPS, inFlight: 256, op: (f, _i, r) => f.stream.append(`bench-s-${r}`, VALUE) },
  { name: 'enqueue', ops: QUEUE_OPS, inFlight: 256, op: (f, _i, r) => f.queue.enqueue(`bench-q-${r}`, VALUE) },
];

async function runRow(side: Side, spec: RowSpec, round: number): Promise<void> {
  const cpu0 = procCpuSeconds(side.server.pid);
  const rate = await inFlightLoop(spec.ops, spec.inFlight, (i, done) => subscribeDone(spec.op(side.flo, i, round), done));
  const cpu1 = procCpuSeconds(side.server.pid);
  (side.rates.get(spec.name) ?? side.rates.set(spec.name, []).get(spec.name)!).push(rate);
  if (cpu0 !== undefined && cpu1 !== undefined) {
    (side.cpu.get(spec.name) ?? side.cpu.set(spec.name, []).get(spec.name)!).push(((cpu1 - cpu0) * 1e6) / spec.ops);
  }
}

async function startSide(label: string, tree: string | undefined, options: Record<string, unknown>): Promise<Side> {
  const server = await startFloChild('embedded', options, tree);
  const flo = connect(`127.0.0.1:${server.port}`, { namespace: 'bench' });
  await flo.connect();
  // warm-up, and the keys the gets read
  await inFlightLoop(KEYS, 256, (i, done) => subscribeDone(flo.kv.put(key(i), VALUE), done));
  return { label, server, flo, rates: new Map(), cpu: new Map() };
}

export async function main(): Promise<void> {
  const other = process.env.BENCH_AB_OTHER;
  const durable = process.env.BENCH_AB_DURABLE === '1';
  const dataDir = mkdtempSync(join(tmpdir(), 'flo-rx-bench-ab-'));
  const opts = (name: string) => {
    if (!durable) return {};
    mkdirSync(join(dataDir, name));
    return { dataDir: join(dataDir, name), fsync: 'always' };
  };
  const sides: Side[] = [await startSide('this tree', undefined, opts('this'))];
  if (other) sides.push(await startSide(`other (${other})`, other, opts('other')));
  const specs = SPECS.filter((s) => ROWS.includes(s.name));
  console.log(
    `server-ab: ${ROUNDS} alternating rounds, medians${durable ? ', durable (fsync always)' : ', in memory'}; rows ${specs.map((s) => `${s.name} ×${s.ops}`).join(', ')}`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const spec of specs) for (const side of order) await runRow(side, spec, round);
    }
    console.log('| row | ' + sides.map((s) => `${s.label}: rate, server CPU µs/op`).join(' | ') + ' |');
    console.log('| --- |' + sides.map(() => ' --- |').join(''));
    for (const spec of specs) {
      const cells = sides.map((s) => {
        const rate = median(s.rates.get(spec.name) ?? [0]);
        const cpu = s.cpu.get(spec.name);
        const shown = spec.inFlight === 1 ? `${(1e6 / rate).toFixed(0)} µs` : `${(rate / 1000).toFixed(1)}k/s`;
        return `${shown}, ${cpu ? median(cpu).toFixed(2) : '–'}`;
      });
      console.log(`| ${spec.name} | ${cells.join(' | ')} |`);
    }
  } finally {
    for (const s of sides) {
      await s.flo.close();
      await s.server.stop();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
