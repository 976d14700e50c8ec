/**
 * KV put/get at 1 request in flight (and, as a guard, at 256 in flight), this tree against another
 * checkout: each tree's embedded server runs as a child process and each tree's client (`connect`
 * from its `src/node.ts`) drives its own server from this process, in alternating rounds
 * (A B, B A, ...). Prints per tree the median latency (µs) or rate and the CPU µs per operation of
 * the server child and of this process; `BENCH_LAT_REDIS=1` adds ioredis → redis-server as a
 * reference column.
 *
 * Env: BENCH_AB_OTHER=<dir> (the other checkout, with node_modules; default: only this tree),
 * BENCH_LAT_ROUNDS (default 5), BENCH_LAT_OPS (1 in flight, default 5 000), BENCH_LAT_PIPE_OPS
 * (256 in flight, default 40 000; 0 skips those rows), BENCH_CPU_PROF (profiles the server children),
 * BENCH_LAT_ATTACH=<s> (prints the pids and waits, to attach `strace -c` or `perf stat`),
 * BENCH_LAT_FIXED=1 (adds this tree's client against the fixed-reply server: a Node server's floor),
 * BENCH_LAT_KEYS (keys written and read, default 1 000; compare uses 10 000).
 * Run: `BENCH_AB_OTHER=/path/to/old npx tsx bench/latency-ab.ts`. Prints figures, asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import { procCpuSeconds, redisServerPath, startFloChild, startRedisChild, type ServerChild } from './support/processes.js';
import { inFlightLoop, median, subscribeDone } from './support/stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_LAT_ROUNDS', 5);
const OPS = env('BENCH_LAT_OPS', 5_000);
const PIPE_OPS = env('BENCH_LAT_PIPE_OPS', 40_000);
const VALUE = new Uint8Array(100).fill(0x61);
const KEYS = env('BENCH_LAT_KEYS', 1_000);
const key = (i: number) => `bench:k${i % KEYS}`;

interface KvLike {
  put(key: string, value: Uint8Array): Observable<unknown>;
  get(key: string): Observable<unknown>;
}
interface Side {
  readonly label: string;
  readonly server: ServerChild;
  put(i: number, done: (err?: unknown) => void): void;
  get(i: number, done: (err?: unknown) => void): void;
  close(): Promise<void>;
}


async function floSide(label: string, tree: string): Promise<Side> {
  const server = await startFloChild('embedded', {}, tree);
  const mod = (await import(resolve(tree, 'src/node.ts'))) as {
    connect: (address: string, opts: Record<string, unknown>) => { kv: KvLike; close(): Promise<void> };
  };
  const client = mod.connect(`127.0.0.1:${server.port}`, { namespace: 'bench' });
  return {
    label,
    server,
    put: (i, done) => subscribeDone(client.kv.put(key(i), VALUE), done),
    get: (i, done) => subscribeDone(client.kv.get(key(i)), done),
    close: async () => {
      await client.close();
      await server.stop();
    },
  };
}

/**
 * This tree's client against the fixed-reply server (`bench/fixed-server.ts`: a bare `net` server
 * that answers every frame with one fixed reply): the floor of a Node server, and the client's
 * cost with next to no server work behind it. Both columns are gets (a put row sends a get too).
 */
async function fixedSide(tree: string): Promise<Side> {
  const server = await startFloChild('fixed');
  const mod = (await import(resolve(tree, 'src/node.ts'))) as {
    connect: (address: string, opts: Record<string, unknown>) => { kv: KvLike; close(): Promise<void> };
  };
  const client = mod.connect(`127.0.0.1:${server.port}`, {});
  return {
    label: 'this tree → fixed-reply server',
    server,
    put: (i, done) => subscribeDone(client.kv.get(key(i)), done),
    get: (i, done) => subscribeDone(client.kv.get(key(i)), done),
    close: async () => {
      await client.close();
      await server.stop();
    },
  };
}

async function redisSide(): Promise<Side | undefined> {
  if (!redisServerPath()) return undefined;
  const { Redis } = await import('ioredis');
  const server = await startRedisChild(redisServerPath()!);
  const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
  await redis.connect();
  const buf = Buffer.from(VALUE);
  return {
    label: 'ioredis → redis',
    server,
    put: (i, done) => void redis.set(key(i), buf).then(() => done(), done),
    get: (i, done) => void redis.getBuffer(key(i)).then(() => done(), done),
    close: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
}

interface Sample {
  value: number;
  server: number;
  client: number;
  /** Read- and write-type system calls per operation (/proc/<pid>/io syscr, syscw) of the server and of this process. */
  serverCalls: number;
  clientCalls: number;
}

/** syscr + syscw of a process so far (/proc/<pid>/io: read- and write-type system calls; epoll waits are not counted), 0 where unreadable. */
function syscalls(pid: number | 'self'): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function measure(side: Side, op: 'put' | 'get', n: number, inFlight: number): Promise<Sample> {
  const calls0 = syscalls(side.server.pid);
  const own0 = syscalls('self');
  const s0 = procCpuSeconds(side.server.pid) ?? 0;
  const c0 = process.cpuUsage();
  const rate = await inFlightLoop(n, inFlight, (i, done) => side[op](i, done));
  const c = process.cpuUsage(c0);
  const s1 = procCpuSeconds(side.server.pid) ?? 0;
  return {
    value: inFlight === 1 ? 1e6 / rate : rate,
    server: ((s1 - s0) * 1e6) / n,
    client: (c.user + c.system) / n,
    serverCalls: (syscalls(side.server.pid) - calls0) / n,
    clientCalls: (syscalls('self') - own0) / n,
  };
}

async function main(): Promise<void> {
  const here = fileURLToPath(new URL('..', import.meta.url));
  const other = process.env.BENCH_AB_OTHER;
  const sides: Side[] = [await floSide('this tree', here)];
  if (other) sides.push(await floSide(`other (${other})`, other));
  if (process.env.BENCH_LAT_FIXED === '1') sides.push(await fixedSide(here));
  if (process.env.BENCH_LAT_REDIS === '1') {
    const r = await redisSide();
    if (r) sides.push(r);
  }
  const rows: Array<[string, 'put' | 'get', number, number]> = [
    ['KV put, 1 in flight', 'put', OPS, 1],
    ['KV get, 1 in flight', 'get', OPS, 1],
    ...(PIPE_OPS > 0
      ? ([
          ['KV put, 256 in flight', 'put', PIPE_OPS, 256],
          ['KV get, 256 in flight', 'get', PIPE_OPS, 256],
        ] as Array<[string, 'put' | 'get', number, number]>)
      : []),
  ];
  const samples = new Map<string, Sample[]>();
  // warm-up: fills the keys and lets the JIT settle
  for (const side of sides) {
    await inFlightLoop(KEYS * 5, 64, (i, done) => side.put(i, done));
    await inFlightLoop(2_000, 1, (i, done) => side.put(i, done)); // the first row is lone puts: warm their path too
    await inFlightLoop(2_000, 1, (i, done) => side.get(i, done));
  }
  // BENCH_LAT_ATTACH=<s>: print the pids and wait, to attach strace/perf before the rounds
  const attach = env('BENCH_LAT_ATTACH', 0);
  if (attach > 0) {
    console.log(`client pid ${process.pid}; ${sides.map((s) => `${s.label} server pid ${s.server.pid}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, attach * 1000));
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, op, n, inFlight] of rows) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const k = `${name}|${side.label}`;
        const list = samples.get(k) ?? [];
        list.push(await measure(side, op, n, inFlight));
        samples.set(k, list);
      }
    }
  }
  console.log(`${ROUNDS} alternating rounds, medians; ${OPS} ops at 1 in flight, ${PIPE_OPS} at 256`);
  console.log('| work | side | median (best round) | CPU/op server, client (medians) | read+write syscalls/op server, client |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, , , inFlight] of rows) {
    for (const side of sides) {
      const list = samples.get(`${name}|${side.label}`)!;
      const v = median(list.map((s) => s.value));
      // the best round too: on a shared machine noise only ever slows
      const best = inFlight === 1 ? Math.min(...list.map((s) => s.value)) : Math.max(...list.map((s) => s.value));
      const fig =
        inFlight === 1 ? `${v.toFixed(1)} µs (best ${best.toFixed(1)})` : `${(v / 1000).toFixed(1)}k ops/s (best ${(best / 1000).toFixed(1)}k)`;
      console.log(
        `| ${name} | ${side.label} | ${fig} | ${median(list.map((s) => s.server)).toFixed(1)}, ${median(list.map((s) => s.client)).toFixed(1)} µs | ${median(list.map((s) => s.serverCalls)).toFixed(2)}, ${median(list.map((s) => s.clientCalls)).toFixed(2)} |`,
      );
    }
  }
  if (sides.length > 1 && other) {
    // Paired by round (both sides ran back to back): the load drifts between rounds much more than
    // within one, so the median of the per-round differences is the steadier A/B figure.
    console.log(`\nthis tree − other, median of the per-round differences:`);
    for (const [name, , , inFlight] of rows) {
      const a = samples.get(`${name}|${sides[0]!.label}`)!;
      const b = samples.get(`${name}|${sides[1]!.label}`)!;
      const d = (f: (x: Sample) => number) => median(a.map((x, i) => f(x) - f(b[i]!)));
      const fig = inFlight === 1 ? `${d((x) => x.value).toFixed(1)} µs` : `${(median(a.map((x, i) => x.value / b[i]!.value)) * 100 - 100).toFixed(1)}% ops/s`;
      console.log(`  ${name}: ${fig}; CPU/op server ${d((x) => x.server).toFixed(2)} µs, client ${d((x) => x.client).toFixed(2)} µs`);
    }
  }
  for (const side of sides) await side.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
