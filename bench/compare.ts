/**
 * flo-rx next to Redis on the same box, measured.
 *
 * The embedded server (`server-worker.ts embedded`) and, when `redis-server` is on the PATH,
 * `redis-server` run as child processes on free ports; this process drives both with the same
 * concurrency (flo-rx's public API for Flo, ioredis for Redis). Rounds are interleaved
 * (A B, B A, A B, ...) and every figure is the median of BENCH_COMPARE_ROUNDS rounds (default 3).
 * The CPU columns give the server process's CPU time per operation (from /proc) and this client
 * process's (steadier than throughput on a loaded machine).
 *
 * Env: BENCH_COMPARE_ROUNDS, BENCH_KV_OPS (256 in flight, default 40 000), BENCH_KV_SEQ (1 in
 * flight, default 3 000 per sample), BENCH_LONE_REPEATS (samples of each in-memory 1-in-flight row per
 * round and side, alternated, default 3: one sample is only ~0.1 s), BENCH_LONE_WARMUP (lone puts and gets
 * per side before the first round, default 2 000; 0 skips), BENCH_STREAM_OPS (default 30 000), BENCH_QUEUE_OPS (default 30 000),
 * BENCH_MEM_MESSAGES (default 200 000), BENCH_DURABLE=0 (skip the durable rows, see `serverModes`),
 * BENCH_COMPARE_ONLY=memory (only the server-memory rows, queue and stream: a quick, load-independent check),
 * BENCH_COMPARE_ONLY=kv (only the KV rows of the in-memory servers), BENCH_COMPARE_ONLY=stream (only the
 * stream rows of the in-memory servers: append and the two group rows), BENCH_COMPARE_SAMPLES=1 (each
 * row's per-round figures under it: value, server CPU, client CPU per operation, both sides).
 * The 1-in-flight rows come three ways: unpinned, then with this process and the servers pinned
 * (`taskset`) to different vCPUs, then to one vCPU, the same placement for both servers (skipped
 * with a note without `taskset` or a second CPU).
 * BENCH_GROUP_WARMUP (default 150 000): before the first round each side of the two group rows
 * drains this many records through the very pipeline it is measured with (unmeasured), so that
 * both clients are measured warm: a round of 30 000 records is otherwise mostly the JIT's warm-up
 * (flo-rx's first ~150 000 records cost 2-5× the warm ones, `bench/consumer-path.ts`). 0 skips it.
 * Prints figures, asserts nothing. Run: `npm run bench` or `npx tsx bench/compare.ts`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { mergeMap, of } from 'rxjs';
import { Connection } from '../src/connection/connection.js';
import { tcpTransport } from '../src/connection/tcp.js';
import type { RequestSpec } from '../src/connection/types.js';
import { connect, type FloClient } from '../src/node.js';
import { ack, settle } from '../src/operators/index.js';
import { Op, utf8 } from '../src/protocol/index.js';
import { bundleSizes, kb } from './bundle-size.js';
import { procCpuSeconds, redisServerPath, startFloChild, startRedisChild, type ServerChild } from './support/processes.js';
import { drain, inFlightLoop, median, subscribeDone } from './support/stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_COMPARE_ROUNDS', 3);
const KV_OPS = env('BENCH_KV_OPS', 40_000);
const KV_SEQ = env('BENCH_KV_SEQ', 3_000);
const STREAM_OPS = env('BENCH_STREAM_OPS', 30_000);
const QUEUE_OPS = env('BENCH_QUEUE_OPS', 30_000);
const MEM_MESSAGES = env('BENCH_MEM_MESSAGES', 200_000);
const FIXED_OPS = env('BENCH_FIXED_OPS', 100_000);
const GROUP_WARMUP = env('BENCH_GROUP_WARMUP', 150_000);
const LONE_WARMUP = env('BENCH_LONE_WARMUP', 2_000);
const LONE_REPEATS = Math.max(1, env('BENCH_LONE_REPEATS', 3));
const PIPELINE = 256;
const VALUE = new Uint8Array(100).fill(0x61); // 100 bytes: KV values, stream and queue payloads
const VALUE_BUF = Buffer.from(VALUE);
const KEYS = 10_000;

/**
 * The server configurations the table is measured in. The durable rows (the write rows again, both
 * servers writing to disk with an fsync before each reply: our `--fsync always` data directory and
 * Redis's AOF with `appendfsync always`) run by default; `BENCH_DURABLE=0` skips them.
 */
interface ServerMode {
  readonly label: string;
  /** Extra `startServer` options of the embedded server child. */
  readonly flo: Record<string, unknown>;
  /** Extra `redis-server` arguments. */
  readonly redis: readonly string[];
  /** Only the write rows (KV put, stream append, queue enqueue). */
  readonly writesOnly: boolean;
  readonly enabled: boolean;
  readonly note?: string;
}

/** The embedded server's data directory inside the bench's temporary one (the server wants it to exist). */
function floDataDir(parent: string): string {
  const dir = join(parent, 'flo');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function serverModes(dataDir: string): ServerMode[] {
  return [
    { label: 'in memory', flo: {}, redis: [], writesOnly: false, enabled: true },
    {
      label: 'durable, fsync every write',
      flo: { dataDir: floDataDir(dataDir), fsync: 'always' },
      redis: ['--appendonly', 'yes', '--appendfsync', 'always'],
      writesOnly: true,
      enabled: process.env.BENCH_DURABLE !== '0',
      note: 'durable rows skipped (BENCH_DURABLE=0)',
    },
  ];
}

// ---- one side of a row ------------------------------------------------------------------------

/** What one round of one side measured: a rate (or a latency), and the CPU per operation of the server and of this (client) process. */
interface Sample {
  readonly value: number;
  readonly serverCpuUs?: number;
  readonly clientCpuUs?: number;
}

/** Runs `work` (which performs `ops` operations and returns its figure), charging the server's and this process's CPU. */
async function measured(server: ServerChild, ops: number, work: () => Promise<number>): Promise<Sample> {
  const cpu0 = procCpuSeconds(server.pid);
  const own0 = process.cpuUsage();
  const value = await work();
  const own = process.cpuUsage(own0);
  const cpu1 = procCpuSeconds(server.pid);
  const clientCpuUs = (own.user + own.system) / ops;
  return cpu0 === undefined || cpu1 === undefined ? { value, clientCpuUs } : { value, clientCpuUs, serverCpuUs: ((cpu1 - cpu0) * 1e6) / ops };
}

type StreamEntries = Array<[id: string, fields: string[]]>;
const entriesOf = (reply: unknown): StreamEntries => ((reply as Array<[string, StreamEntries]> | null)?.[0]?.[1] ?? []);

/** Redis peer of `group → mergeMap(16) → ack()`: XREADGROUP COUNT 64, one XACK per batch, pipelined with the next read. */
async function redisGroupBatched(redis: Redis, stream: string, group: string, total: number): Promise<number> {
  await redis.xgroup('CREATE', stream, group, '0');
  const start = performance.now();
  const acks: Promise<unknown>[] = [];
  let read = 0;
  while (read < total) {
    const ids = entriesOf(await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 64, 'STREAMS', stream, '>')).map((e) => e[0]);
    if (ids.length === 0) throw new Error(`redis group ${group}: stream ran dry after ${read} records`);
    read += ids.length;
    acks.push(redis.xack(stream, group, ...ids));
  }
  await Promise.all(acks);
  return total / ((performance.now() - start) / 1000);
}

/**
 * Redis peer of `group → settle(…, { concurrency: 16 })` and its 64-record prefetch: 16 workers
 * each handle a record and XACK it on its own, reads of COUNT 64 keep up to 64 records unacked.
 */
async function redisGroupPerRecord(redis: Redis, stream: string, group: string, total: number): Promise<number> {
  await redis.xgroup('CREATE', stream, group, '0');
  const start = performance.now();
  const ready: string[] = [];
  let fetched = 0;
  let acked = 0;
  let reading: Promise<void> | undefined;
  const refill = (): Promise<void> =>
    (reading ??= redis.xreadgroup('GROUP', group, 'c1', 'COUNT', Math.min(64, total - fetched), 'STREAMS', stream, '>').then((reply) => {
      const ids = entriesOf(reply).map((e) => e[0]);
      if (ids.length === 0) throw new Error(`redis group ${group}: stream ran dry after ${fetched} records`);
      fetched += ids.length;
      ready.push(...ids);
      reading = undefined;
    }));
  let handled = 0;
  const worker = async () => {
    while (fetched < total || ready.length > 0) {
      const id = ready.shift();
      if (id === undefined) {
        await refill();
        continue;
      }
      if (ready.length < 16 && fetched < total) void refill();
      handled += id.length > 0 ? 1 : 0; // the handler
      await redis.xack(stream, group, id);
      acked++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  if (acked !== total || handled !== total) throw new Error(`redis group ${group}: acked ${acked} of ${total}`);
  return total / ((performance.now() - start) / 1000);
}

// ---- rows ---------------------------------------------------------------------------------------

interface Row {
  readonly work: string;
  /** 'rate': higher is better, ratio flo/peer; 'latency': µs, lower is better, ratio flo/peer. */
  readonly kind: 'rate' | 'latency' | 'bytes';
  readonly unit: string;
  readonly flo: number[];
  readonly peer: number[];
  readonly floCpu: number[];
  readonly peerCpu: number[];
  readonly floClientCpu: number[];
  readonly peerClientCpu: number[];
  readonly peerLabel: string;
  readonly goal?: string;
  readonly write?: boolean;
}

function newRow(work: string, kind: Row['kind'], unit: string, peerLabel: string, extra: Partial<Pick<Row, 'goal' | 'write'>> = {}): Row {
  return { work, kind, unit, peerLabel, flo: [], peer: [], floCpu: [], peerCpu: [], floClientCpu: [], peerClientCpu: [], ...extra };
}

function push(row: Row, side: 'flo' | 'peer', s: Sample): void {
  row[side].push(s.value);
  if (s.serverCpuUs !== undefined) row[side === 'flo' ? 'floCpu' : 'peerCpu'].push(s.serverCpuUs);
  if (s.clientCpuUs !== undefined) row[side === 'flo' ? 'floClientCpu' : 'peerClientCpu'].push(s.clientCpuUs);
}

/** One sample of `row` from each side (`flo` with `a`, the peer with `b`, if any), in the order `interleaved` gives `index`. */
async function samplePair(s: Sides, row: Row, index: number, ops: number, a: () => Promise<number>, b: () => Promise<number>, conv: (x: Sample) => Sample): Promise<void> {
  await interleaved(
    index,
    async () => push(row, 'flo', conv(await measured(s.floServer, ops, a))),
    s.redis ? async () => push(row, 'peer', conv(await measured(s.redisServer!, ops, b))) : undefined,
  );
}

/** Runs `flo` and `peer` in alternating order (round 0: flo first, round 1: peer first, ...). */
async function interleaved(round: number, flo: () => Promise<void>, peer: (() => Promise<void>) | undefined): Promise<void> {
  if (!peer) return flo();
  if (round % 2 === 0) {
    await flo();
    await peer();
  } else {
    await peer();
    await flo();
  }
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');
function fmtValue(row: Row, v: number): string {
  if (row.kind === 'rate') return v >= 10_000 ? `${(v / 1000).toFixed(1)}k ${row.unit}` : `${num(v)} ${row.unit}`;
  if (row.kind === 'latency') return `${v.toFixed(0)} µs`;
  return `${num(v)} B`;
}
const fmtCpu = (xs: number[]) => (xs.length > 0 ? `${median(xs).toFixed(1)}` : '–');
const cpuPair = (server: number[], client: number[]) => (server.length + client.length > 0 ? `${fmtCpu(server)}, ${fmtCpu(client)} µs` : '');

function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log('| work | flo-rx | CPU/op server, client | peer | peer figure | CPU/op server, client | ratio flo-rx/peer | goal |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    const flo = row.flo.length > 0 ? median(row.flo) : undefined;
    const peer = row.peer.length > 0 ? median(row.peer) : undefined;
    let ratio = '—';
    if (flo !== undefined && peer !== undefined) {
      ratio = row.kind === 'rate' ? `${(flo / peer).toFixed(2)}` : `${(flo / peer).toFixed(2)}×`;
    }
    console.log(
      `| ${row.work} | ${flo !== undefined ? fmtValue(row, flo) : '—'} | ${cpuPair(row.floCpu, row.floClientCpu)} | ${row.peerLabel} | ${peer !== undefined ? fmtValue(row, peer) : '—'} | ${cpuPair(row.peerCpu, row.peerClientCpu)} | ${ratio} | ${row.goal ?? ''} |`,
    );
    if (process.env.BENCH_COMPARE_SAMPLES === '1') {
      const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
      console.log(`|   rounds: flo ${list(row.flo)}; server ${list(row.floCpu)}; client ${list(row.floClientCpu)} / peer ${list(row.peer)}; server ${list(row.peerCpu)}; client ${list(row.peerClientCpu)} | | | | | | | |`);
    }
  }
}

// ---- the measurements ---------------------------------------------------------------------------

interface Sides {
  readonly floServer: ServerChild;
  readonly flo: FloClient;
  readonly redisServer?: ServerChild;
  readonly redis?: Redis;
}

async function kvRows(s: Sides, rows: Row[], writesOnly: boolean): Promise<void> {
  const peer = 'ioredis → redis-server';
  const put256 = newRow(`KV put, ${PIPELINE} in flight`, 'rate', 'ops/s', `${peer} SET`, { goal: 'ratio ≥ 1.0', write: true });
  const get256 = newRow(`KV get, ${PIPELINE} in flight`, 'rate', 'ops/s', `${peer} GET`, { goal: 'ratio ≥ 1.0' });
  const [put1, get1] = loneKvRows(' (latency)');
  rows.push(put256, ...(writesOnly ? [] : [get256]), put1, ...(writesOnly ? [] : [get1]));
  const { flo, redis } = s;
  const key = (i: number) => `bench:k${i % KEYS}`;
  const floPut = (n: number, inFlight: number) => () => inFlightLoop(n, inFlight, (i, done) => subscribeDone(flo.kv.put(key(i), VALUE), done));
  const floGet = (n: number, inFlight: number) => () => inFlightLoop(n, inFlight, (i, done) => subscribeDone(flo.kv.get(key(i)), done));
  const redisPut = (n: number, inFlight: number) => () =>
    inFlightLoop(n, inFlight, (i, done) => void redis!.set(key(i), VALUE_BUF).then(() => done(), done));
  const redisGet = (n: number, inFlight: number) => () =>
    inFlightLoop(n, inFlight, (i, done) => void redis!.getBuffer(key(i)).then(() => done(), done));
  // warm-up (also fills the keys the gets read)
  await floPut(KEYS, PIPELINE)();
  if (redis) await redisPut(KEYS, PIPELINE)();
  if (LONE_WARMUP > 0) {
    // The lone-request path (a write per request, a reply per turn) warmed too, on both sides: else
    // the first round's first lone row ran it cold (flo-rx server and client CPU per lone put 1.5-2×
    // the later rounds', docs/benchmarks.md "Session 7: lone requests").
    await floPut(LONE_WARMUP, 1)();
    await floGet(LONE_WARMUP, 1)();
    if (redis) {
      await redisPut(LONE_WARMUP, 1)();
      await redisGet(LONE_WARMUP, 1)();
    }
  }
  const latency = (rate: number) => 1e6 / rate;
  for (let round = 0; round < ROUNDS; round++) {
    const pairs: Array<[Row, () => Promise<number>, () => Promise<number>, number, boolean]> = [
      [put256, floPut(KV_OPS, PIPELINE), redisPut(KV_OPS, PIPELINE), KV_OPS, false],
      ...(writesOnly ? [] : [[get256, floGet(KV_OPS, PIPELINE), redisGet(KV_OPS, PIPELINE), KV_OPS, false] as [Row, () => Promise<number>, () => Promise<number>, number, boolean]]),
      [put1, floPut(KV_SEQ, 1), redisPut(KV_SEQ, 1), KV_SEQ, true],
      ...(writesOnly ? [] : [[get1, floGet(KV_SEQ, 1), redisGet(KV_SEQ, 1), KV_SEQ, true] as [Row, () => Promise<number>, () => Promise<number>, number, boolean]]),
    ];
    for (const [row, a, b, ops, isLatency] of pairs) {
      const conv = (x: Sample): Sample => (isLatency ? { ...x, value: latency(x.value) } : x);
      // An in-memory latency row is a tenth of a second per side: it samples LONE_REPEATS alternated
      // pairs per round (a durable one, an fsync per request, takes seconds: one).
      const repeats = isLatency && !writesOnly ? LONE_REPEATS : 1;
      for (let r = 0; r < repeats; r++) await samplePair(s, row, round * repeats + r, ops, a, b, conv);
    }
  }
  if (!writesOnly) await pinnedLoneRows(s, rows, { put: [floPut(KV_SEQ, 1), redisPut(KV_SEQ, 1)], get: [floGet(KV_SEQ, 1), redisGet(KV_SEQ, 1)] });
}

/** The KV put and get rows at 1 in flight (latency, against ioredis), `what` following "1 in flight". */
function loneKvRows(what: string): [put: Row, get: Row] {
  return [
    newRow(`KV put, 1 in flight${what}`, 'latency', '', 'ioredis → redis-server SET', { goal: '≤ 1.1×', write: true }),
    newRow(`KV get, 1 in flight${what}`, 'latency', '', 'ioredis → redis-server GET', { goal: '≤ 1.1×' }),
  ];
}

/** Sets the CPUs of every thread of `pid` (`taskset`); false when that failed. */
function pin(pid: number, cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * The 1-in-flight rows again with the placement fixed, the same for both servers: this process
 * (both clients) on vCPU 0 and the server on vCPU 1, then all on vCPU 0. Unpinned, a lone
 * request's latency depends on where the scheduler happens to put the two processes (on a 2-vCPU
 * VM a request across vCPUs is two wake-ups of a halted vCPU, ~3× the time of one on a shared
 * vCPU: docs/benchmarks.md, "lone requests round 3"), so the unpinned rows above mix the two
 * cases differently from run to run. Needs `taskset` and two CPUs; skipped with a note otherwise.
 */
async function pinnedLoneRows(s: Sides, rows: Row[], work: Record<'put' | 'get', [() => Promise<number>, () => Promise<number>]>): Promise<void> {
  const { floServer, redisServer } = s;
  const pids = [process.pid, floServer.pid, ...(redisServer ? [redisServer.pid] : [])];
  const all = `0-${availableParallelism() - 1}`;
  if (availableParallelism() < 2 || !pin(process.pid, all)) {
    console.log('(pinned 1-in-flight rows skipped: they need `taskset` and two CPUs)');
    return;
  }
  const placements = [
    { label: 'client and server pinned to different vCPUs', client: '0', server: '1' },
    { label: 'client and server pinned to one vCPU', client: '0', server: '0' },
  ];
  const latency = (x: Sample): Sample => ({ ...x, value: 1e6 / x.value });
  try {
    for (const place of placements) {
      pin(process.pid, place.client);
      for (const pid of pids.slice(1)) pin(pid, place.server);
      const [put1, get1] = loneKvRows(`, ${place.label}`);
      rows.push(put1, get1);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [row, [a, b]] of [[put1, work.put], [get1, work.get]] as const) {
          for (let r = 0; r < LONE_REPEATS; r++) await samplePair(s, row, round * LONE_REPEATS + r, KV_SEQ, a, b, latency);
        }
      }
    }
  } finally {
    for (const pid of pids) pin(pid, all);
  }
}

async function streamRows(s: Sides, rows: Row[], writesOnly: boolean, tag: string): Promise<void> {
  const append = newRow(`stream append, ${PIPELINE} in flight`, 'rate', '/s', 'Redis XADD', { goal: 'ratio ≥ 1.0', write: true });
  const merge = newRow('group → mergeMap(16) → ack()', 'rate', 'records/s', 'XREADGROUP + XACK per batch', { goal: 'ratio ≥ 1.0, ≥ 150k/s' });
  const settled = newRow('group → settle(…, { concurrency: 16 })', 'rate', 'records/s', 'XACK per record, 16 at once', { goal: '≥ 100k/s' });
  rows.push(append, ...(writesOnly ? [] : [merge, settled]));
  const { flo, redis, floServer, redisServer } = s;
  const group = { batch: 64, maxInFlight: 64 };
  const floMerge = (stream: string, name: string, n: number) => drain(flo.stream.group(stream, name, group).pipe(mergeMap((r) => of(r), 16), ack()), n);
  let handled = 0;
  const floSettle = (stream: string, name: string, n: number) =>
    drain(flo.stream.group(stream, name, group).pipe(settle(() => ++handled, { concurrency: 16 })), n);
  if (!writesOnly && GROUP_WARMUP > 0) {
    // The same warm-up for both sides, unmeasured: records appended, then drained by each group pipeline.
    const warm = `bench-s-${tag}-warm`;
    await inFlightLoop(GROUP_WARMUP, PIPELINE, (_i, done) => subscribeDone(flo.stream.append(warm, VALUE), done));
    await floMerge(warm, 'g-merge', GROUP_WARMUP);
    await floSettle(warm, 'g-settle', GROUP_WARMUP);
    if (redis) {
      await inFlightLoop(GROUP_WARMUP, PIPELINE, (_i, done) => void redis.xadd(warm, '*', 'd', VALUE_BUF).then(() => done(), done));
      await redisGroupBatched(redis, warm, 'g-merge', GROUP_WARMUP);
      await redisGroupPerRecord(redis, warm, 'g-settle', GROUP_WARMUP);
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    const stream = `bench-s-${tag}-${round}`;
    await interleaved(
      round,
      async () =>
        push(append, 'flo', await measured(floServer, STREAM_OPS, () => inFlightLoop(STREAM_OPS, PIPELINE, (_i, done) => subscribeDone(flo.stream.append(stream, VALUE), done)))),
      redis
        ? async () =>
            push(append, 'peer', await measured(redisServer!, STREAM_OPS, () => inFlightLoop(STREAM_OPS, PIPELINE, (_i, done) => void redis.xadd(stream, '*', 'd', VALUE_BUF).then(() => done(), done))))
        : undefined,
    );
    if (writesOnly) continue;
    await interleaved(
      round,
      async () =>
        push(merge, 'flo', await measured(floServer, STREAM_OPS, () => floMerge(stream, 'g-merge', STREAM_OPS))),
      redis ? async () => push(merge, 'peer', await measured(redisServer!, STREAM_OPS, () => redisGroupBatched(redis, stream, 'g-merge', STREAM_OPS))) : undefined,
    );
    await interleaved(
      round,
      async () => push(settled, 'flo', await measured(floServer, STREAM_OPS, () => floSettle(stream, 'g-settle', STREAM_OPS))),
      redis ? async () => push(settled, 'peer', await measured(redisServer!, STREAM_OPS, () => redisGroupPerRecord(redis, stream, 'g-settle', STREAM_OPS))) : undefined,
    );
  }
}

async function queueRows(s: Sides, rows: Row[], writesOnly: boolean, tag: string): Promise<void> {
  const enqueue = newRow(`queue enqueue, ${PIPELINE} in flight`, 'rate', '/s', 'Redis RPUSH', { write: true });
  const consume = newRow('queue messages() → settle(16)', 'rate', 'messages/s', '—', { goal: '≥ 100k/s' });
  rows.push(enqueue, ...(writesOnly ? [] : [consume]));
  const { flo, redis, floServer, redisServer } = s;
  for (let round = 0; round < ROUNDS; round++) {
    const queue = `bench-q-${tag}-${round}`;
    await interleaved(
      round,
      async () =>
        push(enqueue, 'flo', await measured(floServer, QUEUE_OPS, () => inFlightLoop(QUEUE_OPS, PIPELINE, (_i, done) => subscribeDone(flo.queue.enqueue(queue, VALUE), done)))),
      redis
        ? async () =>
            push(enqueue, 'peer', await measured(redisServer!, QUEUE_OPS, () => inFlightLoop(QUEUE_OPS, PIPELINE, (_i, done) => void redis.rpush(queue, VALUE_BUF).then(() => done(), done))))
        : undefined,
    );
    if (writesOnly) continue;
    let handled = 0;
    push(
      consume,
      'flo',
      await measured(floServer, QUEUE_OPS, () =>
        drain(flo.queue.messages(queue, { batch: 64, maxInFlight: 64 }).pipe(settle(() => ++handled, { concurrency: 16 })), QUEUE_OPS),
      ),
    );
  }
}

/** Server RSS growth per queued 100-byte message and per 100-byte stream record, each server fresh. */
async function memoryRow(redisBinary: string | undefined, rows: Row[]): Promise<void> {
  await memoryRowOf(rows, `server memory per queued 100-byte message (RSS growth over ${num(MEM_MESSAGES)})`, 'Redis list (RPUSH)', redisBinary, {
    flo: (flo, done) => subscribeDone(flo.queue.enqueue('mem', VALUE), done),
    redis: (redis, done) => void redis.rpush('mem', VALUE_BUF).then(() => done(), done),
  });
  await memoryRowOf(rows, `server memory per 100-byte stream record (RSS growth over ${num(MEM_MESSAGES)})`, 'Redis stream (XADD)', redisBinary, {
    flo: (flo, done) => subscribeDone(flo.stream.append('mem', VALUE), done),
    redis: (redis, done) => void redis.xadd('mem', '*', 'v', VALUE_BUF).then(() => done(), done),
  });
}

async function memoryRowOf(
  rows: Row[],
  work: string,
  peerLabel: string,
  redisBinary: string | undefined,
  write: { flo: (flo: FloClient, done: (err?: unknown) => void) => void; redis: (redis: Redis, done: (err?: unknown) => void) => void },
): Promise<void> {
  const row = newRow(work, 'bytes', '', peerLabel, { goal: '≤ 2× Redis' });
  rows.push(row);
  const floServer = await startFloChild('embedded');
  const flo = connect(`127.0.0.1:${floServer.port}`, { namespace: 'bench' });
  try {
    await flo.connect();
    const before = await floServer.rss();
    await inFlightLoop(MEM_MESSAGES, PIPELINE, (_i, done) => write.flo(flo, done));
    const after = await floServer.rss();
    if (before !== undefined && after !== undefined) row.flo.push((after - before) / MEM_MESSAGES);
  } finally {
    await flo.close();
    await floServer.stop();
  }
  if (!redisBinary) return;
  const redisServer = await startRedisChild(redisBinary);
  const redis = new Redis({ port: redisServer.port, host: '127.0.0.1', lazyConnect: true });
  try {
    await redis.connect();
    const before = await redisServer.rss();
    await inFlightLoop(MEM_MESSAGES, PIPELINE, (_i, done) => write.redis(redis, done));
    const after = await redisServer.rss();
    if (before !== undefined && after !== undefined) row.peer.push((after - before) / MEM_MESSAGES);
  } finally {
    redis.disconnect();
    await redisServer.stop();
  }
}

/** `flo.kv.get` through the public API vs `Connection.request` on the fixed-reply server. */
async function clientOverheadRow(rows: Row[]): Promise<void> {
  const row = newRow(`kv.get via FloClient vs bare Connection, ${PIPELINE} in flight, fixed-reply server`, 'rate', 'ops/s', 'bare Connection', {
    goal: 'ratio ≥ 0.7',
  });
  rows.push(row);
  const fixed = await startFloChild('fixed');
  const flo = connect(`127.0.0.1:${fixed.port}`);
  const conn = new Connection({ endpoints: [`127.0.0.1:${fixed.port}`], transport: tcpTransport });
  const spec: RequestSpec = { opcode: Op.KvGet, namespace: 'default', body: { key: utf8('bench:key') } };
  try {
    await Promise.all([flo.connect(), conn.connect()]);
    const viaClient = (n: number) => inFlightLoop(n, PIPELINE, (_i, done) => subscribeDone(flo.kv.get('bench:key'), done));
    const request = conn.request(spec);
    const viaConnection = (n: number) => inFlightLoop(n, PIPELINE, (_i, done) => subscribeDone(request, done));
    await viaClient(5_000);
    await viaConnection(5_000);
    for (let round = 0; round < ROUNDS; round++) {
      await interleaved(
        round,
        async () => push(row, 'flo', await measured(fixed, FIXED_OPS, () => viaClient(FIXED_OPS))),
        async () => push(row, 'peer', await measured(fixed, FIXED_OPS, () => viaConnection(FIXED_OPS))),
      );
    }
  } finally {
    await Promise.allSettled([flo.close(), conn.close()]);
    await fixed.stop();
  }
}

async function runMode(mode: ServerMode, redisBinary: string | undefined, rows: Row[]): Promise<void> {
  const floServer = await startFloChild('embedded', mode.flo);
  const redisServer = redisBinary ? await startRedisChild(redisBinary, mode.redis) : undefined;
  const flo = connect(`127.0.0.1:${floServer.port}`, { namespace: 'bench' });
  const redis = redisServer ? new Redis({ port: redisServer.port, host: '127.0.0.1', lazyConnect: true }) : undefined;
  try {
    await flo.connect();
    await redis?.connect();
    const sides: Sides = { floServer, flo, ...(redisServer && redis ? { redisServer, redis } : {}) };
    const tag = mode.writesOnly ? 'durable' : 'mem';
    if (process.env.BENCH_COMPARE_ONLY !== 'stream') await kvRows(sides, rows, mode.writesOnly);
    if (process.env.BENCH_COMPARE_ONLY === 'kv') return;
    await streamRows(sides, rows, mode.writesOnly, tag);
    if (process.env.BENCH_COMPARE_ONLY === 'stream') return;
    await queueRows(sides, rows, mode.writesOnly, tag);
  } finally {
    redis?.disconnect();
    await flo.close();
    await Promise.allSettled([floServer.stop(), redisServer?.stop()]);
  }
}

export async function main(): Promise<void> {
  const redisBinary = redisServerPath();
  if (process.env.BENCH_COMPARE_ONLY === 'memory') {
    const rows: Row[] = [];
    await memoryRow(redisBinary, rows);
    printTable('servers in memory (memory rows only):', rows);
    return;
  }
  const started = performance.now();
  console.log(
    `compare: flo-rx (client + embedded server) vs ioredis + redis-server, servers in child processes, ` +
      `${ROUNDS} interleaved rounds, medians; ${num(KV_OPS)} KV ops (${num(KV_SEQ)} at 1 in flight, ${LONE_REPEATS} samples a round in memory), ` +
      `${num(STREAM_OPS)} stream records, ${num(QUEUE_OPS)} queue messages per round, ${PIPELINE} in flight`,
  );
  if (!redisBinary) console.log('  redis-server is not on the PATH: Redis columns skipped (Debian/Ubuntu: apt-get install redis-server)');
  const dataDir = mkdtempSync(join(tmpdir(), 'flo-rx-bench-data-'));
  const streamOnly = process.env.BENCH_COMPARE_ONLY === 'stream';
  try {
    for (const mode of serverModes(dataDir)) {
      if (!mode.enabled) {
        console.log(`  ${mode.note}`);
        continue;
      }
      if (mode.writesOnly && streamOnly) continue; // only the in-memory stream rows
      const rows: Row[] = [];
      await runMode(mode, redisBinary, rows);
      if (!mode.writesOnly && process.env.BENCH_COMPARE_ONLY !== 'kv' && !streamOnly) {
        await memoryRow(redisBinary, rows);
        await clientOverheadRow(rows);
      }
      printTable(`servers ${mode.label}:`, rows);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (streamOnly) return;
  const sizes = await bundleSizes();
  console.log(`\nbrowser bundle, min+gz, without rxjs: ${sizes.map((s) => `${s.label} ${kb(s.gzipBytes)} (${kb(s.minBytes)} min)`).join(' / ')}; goal ≤ 25 KB / ≤ 10 KB`);
  console.log(`compare took ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
