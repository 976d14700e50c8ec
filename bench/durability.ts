/**
 * Durability figures (`npm run bench`, or `npx tsx bench/durability.ts`):
 *
 *   1. KV put and stream append, 256 requests in flight over one connection, against `flo-rx serve`
 *      in its own process: in memory, `--data-dir --fsync everysec`, `--data-dir --fsync always`;
 *      and, when `redis-server` is on the PATH, Redis with `appendonly yes` and `appendfsync
 *      everysec` / `always` (SET and XADD, same payload, same pipelining). Next to each rate, the
 *      server process's CPU µs per request (from /proc, Linux). A first row, a bare Node server that
 *      answers every frame with a fixed reply (`bench/fixed-server.ts`), is the floor of a Node
 *      server on this path: the flo-rx rows' CPU above it is their own work. BENCH_CPU_PROF=<dir>: the flo-rx
 *      servers write V8 CPU profiles there.
 *   2. Start-up of a data directory holding 1,000,000 stream records (100-byte payloads): replay of
 *      the log, then after compaction (snapshot), and the directory size per record.
 *   3. CPU time per write in this process (`BENCH_DURABILITY_PART=cpu`): the KV, stream and queue
 *      stores driven directly (put, append, enqueue), 256 writes per event-loop turn (as with 256 in
 *      flight), in memory and with a data directory. The difference is what the durable write path
 *      costs; steadier than throughput on a loaded machine. BENCH_CPU_OPS (default 200 000) writes
 *      per row; BENCH_CPU_MODES (default `in-memory,everysec,always`) and BENCH_CPU_WRITES (default
 *      `kv,stream,queue`) pick rows and columns (e.g. for a profile of one).
 *
 * Throughput runs in BENCH_ROUNDS interleaved rounds (default 5): every server (all started first)
 * runs once a round, in turn, so a slow minute of the shared machine falls on every row alike.
 * Each rate is the best of its runs (noise only ever slows); the ratios the goals are about
 * (everysec ÷ in memory, always ÷ Redis always) are also printed round by round, with their
 * median. BENCH_DURABILITY_OPS (default 60 000: five rounds keep each log under the 64 MiB
 * compaction threshold) requests per run; BENCH_RECORDS (default 1 000 000) records for the
 * start-up figure; BENCH_DURABILITY_PART=throughput|startup runs one part only (or `cpu`); BENCH_DURABILITY_WARMUP (default 10 000) requests
 * before the measured runs of each server; BENCH_DURABILITY_ONLY=<substring of a row name> (e.g. `always`) runs only
 * those throughput rows. Under each flo-rx row with a data directory, a `storage:` line from the
 * server's `/metrics`: requests and bytes per commit (batch), commits per fdatasync, and the
 * fdatasyncs' mean latency and share of the measured runs' wall time (where `always` waits). A
 * `disk:` line before and after the rows gives the disk's own fdatasync latency at that moment (a
 * 36 KB append, as one commit of 256 puts), which sets the `always` rows of both servers.
 */
import * as net from 'node:net';
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEADER_SIZE, Op, encodeKvPut, encodeRequest, encodeStreamAppend, utf8 } from '../src/protocol/index.js';
import { ManualClock } from '../src/server/clock.js';
import { createKvSubsystem } from '../src/server/kv/index.js';
import { createQueueSubsystem } from '../src/server/queues/index.js';
import { createStreamSubsystem } from '../src/server/streams/index.js';
import { DiskStorage } from '../src/server/storage/index.js';
import { procCpuSeconds } from './support/processes.js';
import { median } from './support/stats.js';

const OPS = Number(process.env.BENCH_DURABILITY_OPS ?? 60_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
/** `throughput` or `startup` runs only that part (interleaved before/after comparisons). */
const PART = process.env.BENCH_DURABILITY_PART ?? 'all';
const IN_FLIGHT = 256;
/** Requests sent to each server before its measured runs (BENCH_DURABILITY_WARMUP, default 10 000). */
const WARMUP = Number(process.env.BENCH_DURABILITY_WARMUP ?? 10_000);
const PAYLOAD = new Uint8Array(100).fill(0x61);
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface Target {
  readonly port: number;
  /** The server process (its CPU time is read from /proc). */
  readonly pid: number | undefined;
  /** A flo-rx server with a data directory: its storage counters are read from `/metrics` (same port). */
  readonly storage?: boolean;
  stop(): Promise<void>;
}

/** The storage counters of a flo-rx server's `/metrics` (served on its protocol port). */
interface StorageScrape {
  commits: number;
  bytes: number;
  fsyncs: number;
  fsyncSeconds: number;
}

function scrapeStorage(port: number): Promise<StorageScrape> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.end('GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      resolve({
        commits: read('flo_rx_server_storage_commits_total'),
        bytes: read('flo_rx_server_storage_written_bytes_total'),
        fsyncs: read('flo_rx_server_storage_fsync_duration_seconds_count'),
        fsyncSeconds: read('flo_rx_server_storage_fsync_duration_seconds_sum'),
      });
    });
  });
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flo-rx-bench-'));
  dirs.push(d);
  return d;
}

/** `BENCH_DURABILITY_SYSCALLS=1`: print the server's read and write syscalls per request (from /proc/<pid>/io). */
const SYSCALLS = process.env.BENCH_DURABILITY_SYSCALLS === '1';

function procIo(pid: number): Record<string, number> | undefined {
  try {
    const out: Record<string, number> = {};
    // utime and stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms): user against kernel time.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.userMs = Number(fields[11]) * 10;
    out.sysMs = Number(fields[12]) * 10;
    for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const [k, v] = line.split(': ');
      if (v !== undefined) out[k] = Number(v);
    }
    // Context switches of every thread (the event loop and the thread pool's): hand-offs per request.
    out.switches = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) out.switches += Number(m[1]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** `BENCH_CPU_PROF=<dir>`: the flo-rx servers write a V8 CPU profile there (stopped by SIGINT then, not SIGKILL). */
const CPU_PROF = process.env.BENCH_CPU_PROF;

function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
}

/**
 * The floor of any Node server on this path: `bench/fixed-server.ts` (reads frames, answers each
 * with one fixed reply, no CRC check, no work) in its own process. What is above its CPU per
 * request in the flo-rx rows is the server's own work.
 */
function startFixed(): Promise<Target> {
  const child = fork(fileURLToPath(new URL('./server-worker.ts', import.meta.url)), ['fixed'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fixed-reply server exited (${code})`)));
    child.once('message', (msg) => resolve({ port: (msg as { port: number }).port, pid: child.pid, stop: stopper(child) }));
  });
}

function startFlo(args: string[]): Promise<Target> {
  const prof = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`flo-rx serve exited (${code}): ${out}`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on flo:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ port: Number(m[1]), pid: child.pid, storage: args.includes('--data-dir'), stop: stopper(child, CPU_PROF ? 'SIGINT' : 'SIGKILL') });
      }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(fsync: 'always' | 'everysec'): Promise<Target> {
  const port = await freePort();
  const dir = tempDir();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--save', ''], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return { port, pid: child.pid, stop: stopper(child) };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopper(child)();
  throw new Error('redis-server did not start');
}

/** Pipelined requests, `IN_FLIGHT` outstanding; `replies(buf)` counts whole replies (and throws on an error reply). */
function pipeline(port: number, total: number, next: (i: number) => Uint8Array, replies: (buf: Buffer) => { count: number; used: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let sent = 0;
    let received = 0;
    let pending: Buffer | undefined;
    let start = 0;
    socket.on('error', reject);
    socket.on('connect', () => {
      start = performance.now();
      const first: Uint8Array[] = [];
      while (sent < Math.min(IN_FLIGHT, total)) first.push(next(sent++));
      socket.write(Buffer.concat(first));
    });
    socket.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let got: { count: number; used: number };
      try {
        got = replies(buf);
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      pending = got.used < buf.length ? Buffer.from(buf.subarray(got.used)) : undefined;
      received += got.count;
      const out: Uint8Array[] = [];
      for (let i = 0; i < got.count && sent < total; i++) out.push(next(sent++));
      if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
      if (received === total) {
        socket.destroy();
        resolve(total / ((performance.now() - start) / 1000));
      }
    });
  });
}

function floReplies(buf: Buffer): { count: number; used: number } {
  let at = 0;
  let count = 0;
  while (buf.length - at >= HEADER_SIZE) {
    const length = buf.readUInt32LE(at + 4);
    if (buf.length - at < HEADER_SIZE + length) break;
    if (buf[at + 21] !== 0) throw new Error(`error reply: status ${buf[at + 21]} ${buf.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length).toString()}`);
    at += HEADER_SIZE + length;
    count++;
  }
  return { count, used: at };
}

/** RESP replies of SET (+OK) and XADD (bulk string id). */
function redisReplies(buf: Buffer): { count: number; used: number } {
  let at = 0;
  let count = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) break;
    const kind = buf[at];
    if (kind === 0x2d) throw new Error(`redis error: ${buf.subarray(at, eol).toString()}`);
    if (kind === 0x24) {
      const len = Number(buf.subarray(at + 1, eol).toString());
      const end = eol + 2 + len + 2;
      if (buf.length < end) break;
      at = end;
    } else at = eol + 2;
    count++;
  }
  return { count, used: at };
}

const resp = (...parts: (string | Uint8Array)[]) => {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p) : Buffer.from(p);
    chunks.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(chunks);
};

type Workload = 'kv put' | 'stream append';
const floRequest = (w: Workload) => (i: number) =>
  w === 'kv put'
    ? encodeRequest(BigInt(i + 1), Op.KvPut, 'default', encodeKvPut({ key: utf8(`key:${i % 10_000}`), value: PAYLOAD }))
    : encodeRequest(BigInt(i + 1), Op.StreamAppend, 'default', encodeStreamAppend({ stream: 'bench', payload: PAYLOAD }));
const redisRequest = (w: Workload) => (i: number) => (w === 'kv put' ? resp('SET', `key:${i % 10_000}`, PAYLOAD) : resp('XADD', 'bench', '*', 'd', PAYLOAD));

/**
 * One server under one workload (a row's cell): started and warmed up once, then measured in every
 * round, between the other lanes' runs. Warm-up: WARMUP requests that count for nothing (the JIT
 * compiles the server's hot paths during the first thousands of requests).
 */
class Lane {
  /** Requests per second of each measured run, in round order. */
  readonly rates: number[] = [];
  private seconds = 0;
  private cpu0: number | undefined;
  private io0: Record<string, number> | undefined;
  private storage0: StorageScrape | undefined;

  private constructor(
    readonly target: Target,
    private readonly run: (total: number) => Promise<number>,
  ) {}

  static async open(target: Target, run: (total: number) => Promise<number>): Promise<Lane> {
    const lane = new Lane(target, run);
    await run(WARMUP);
    lane.io0 = SYSCALLS && target.pid !== undefined ? procIo(target.pid) : undefined;
    lane.storage0 = target.storage ? await scrapeStorage(target.port) : undefined;
    lane.cpu0 = target.pid === undefined ? undefined : procCpuSeconds(target.pid);
    return lane;
  }

  async measure(): Promise<void> {
    const rate = await this.run(OPS);
    this.rates.push(rate);
    this.seconds += OPS / rate;
  }

  /**
   * The best rate, the server process's CPU µs per request over all measured runs (undefined without
   * /proc; an idle server between its runs spends next to nothing, and what it does then, such as
   * an `everysec` fdatasync, is its own work), and lines about its runs (storage, syscalls).
   */
  async finish(): Promise<{ rate: number; cpuUs: number | undefined; notes: string[] }> {
    const { target } = this;
    const requests = OPS * this.rates.length;
    const cpu1 = target.pid === undefined ? undefined : procCpuSeconds(target.pid);
    const notes: string[] = [];
    if (this.storage0) {
      // Where a durable row's time goes: the batch per commit, the commits per fdatasync, and the
      // fdatasyncs' share of its own runs' wall time (with `always`, a reply waits for one; little else runs meanwhile at 256 in flight).
      const s0 = this.storage0;
      const s1 = await scrapeStorage(target.port);
      const commits = s1.commits - s0.commits;
      const fsyncs = s1.fsyncs - s0.fsyncs;
      const fsyncSeconds = s1.fsyncSeconds - s0.fsyncSeconds;
      notes.push(
        `storage: ${(requests / commits).toFixed(0)} requests and ${((s1.bytes - s0.bytes) / commits / 1024).toFixed(1)} KiB per commit, ${(commits / Math.max(1, fsyncs)).toFixed(2)} commits per fdatasync, ` +
          `${fsyncs} fdatasyncs of ${fsyncs ? ((fsyncSeconds / fsyncs) * 1000).toFixed(2) : '—'} ms mean = ${((fsyncSeconds / this.seconds) * 100).toFixed(0)}% of the runs' wall time`,
      );
    }
    if (this.io0 && target.pid !== undefined) {
      const io0 = this.io0;
      const io1 = procIo(target.pid)!;
      const per = (k: string) => (((io1[k] ?? 0) - (io0[k] ?? 0)) / requests).toFixed(3);
      const us = (k: string) => ((((io1[k] ?? 0) - (io0[k] ?? 0)) * 1000) / requests).toFixed(2);
      notes.push(`pid ${target.pid}: per request ${per('syscr')} read and ${per('syscw')} write syscalls (socket and log), ${per('wchar')} bytes written; CPU µs per request user ${us('userMs')}, kernel ${us('sysMs')}; ${((((io1.switches ?? 0) - (io0.switches ?? 0)) * 256) / requests).toFixed(1)} context switches per 256 requests (all threads)`);
    }
    const cpuUs = this.cpu0 === undefined || cpu1 === undefined ? undefined : ((cpu1 - this.cpu0) * 1e6) / requests;
    return { rate: Math.max(...this.rates), cpuUs, notes };
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

/**
 * The disk's fdatasync latency where the data directories are, now: 36 KB (one commit of 256 puts)
 * appended and fdatasynced 100 times, as `--fsync always` does. On a shared disk it moves 10x
 * within minutes (0.2 ms quiet, 3-4 ms while other jobs write), and it sets the `always` rows more
 * than anything the server does: printed before and after the rows, so that runs can be compared.
 */
function diskSyncLine(): string {
  const file = join(tempDir(), 'fsync-probe');
  const fd = openSync(file, 'w');
  const chunk = new Uint8Array(36 * 1024).fill(0x61);
  const times: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      writeSync(fd, chunk);
      const start = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file);
  }
  times.sort((a, b) => a - b);
  return `disk: fdatasync of a 36 KB append in ${tmpdir()}: median ${times[50].toFixed(2)} ms, p10 ${times[10].toFixed(2)}, p90 ${times[90].toFixed(2)} (100 in a row)`;
}

/** Ratios printed under the rows, round by round: [numerator row, denominator row, label, goal]. */
const PAIRED: ReadonlyArray<readonly [string, string, string, string]> = [
  ['flo-rx --fsync everysec', 'flo-rx in-memory', 'flo-rx everysec ÷ in-memory', 'goal ≥ 80%'],
  ['flo-rx --fsync always', 'redis appendfsync always', 'flo-rx always ÷ redis always', 'goal ≥ 100%'],
  ['flo-rx --fsync everysec', 'redis appendfsync everysec', 'flo-rx everysec ÷ redis everysec', ''],
];

async function throughput(): Promise<void> {
  const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  const targets: Array<{ name: string; start: () => Promise<Target>; redis: boolean }> = [
    { name: 'node fixed reply (floor)', start: () => startFixed(), redis: false },
    { name: 'flo-rx in-memory', start: () => startFlo([]), redis: false },
    { name: 'flo-rx --fsync everysec', start: () => startFlo(['--data-dir', tempDir(), '--fsync', 'everysec']), redis: false },
    { name: 'flo-rx --fsync always', start: () => startFlo(['--data-dir', tempDir(), '--fsync', 'always']), redis: false },
  ];
  if (hasRedis) {
    targets.push({ name: 'redis appendfsync everysec', start: () => startRedis('everysec'), redis: true });
    targets.push({ name: 'redis appendfsync always', start: () => startRedis('always'), redis: true });
  }
  // BENCH_DURABILITY_ONLY=always (a substring of the row names) runs only the matching rows.
  const only = process.env.BENCH_DURABILITY_ONLY;
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => t.name.includes(only)));
  const works = ['kv put', 'stream append'] as const;
  console.log(`${OPS.toLocaleString('en-US')} requests per run after ${WARMUP.toLocaleString('en-US')} to warm up, ${IN_FLIGHT} in flight, 100-byte values, each server in its own process`);
  console.log(`${ROUNDS} interleaved rounds: every server runs once a round, in turn (the order reversed every other round), so that a slow minute of the machine falls on all rows; a rate is the best of its ${ROUNDS} runs`);
  console.log('server CPU: the server process\'s CPU time per request (from /proc; steadier than the rates on a loaded machine)');
  console.log(diskSyncLine());
  // One server per row and workload, all started and warmed up before the first round.
  const lanes = new Map<string, Lane>();
  const key = (name: string, w: string) => `${name} / ${w}`;
  try {
    for (const t of targets) {
      for (const w of works) {
        const target = await t.start();
        const run = (total: number) => pipeline(target.port, total, t.redis ? redisRequest(w) : floRequest(w), t.redis ? redisReplies : floReplies);
        try {
          lanes.set(key(t.name, w), await Lane.open(target, run));
        } catch (err) {
          await target.stop();
          throw err;
        }
      }
    }
    const order = [...lanes.values()];
    for (let round = 0; round < ROUNDS; round++) {
      for (const lane of round % 2 ? [...order].reverse() : order) await lane.measure();
    }
    console.log(`${'server'.padEnd(30)} ${'kv put/s'.padStart(10)} ${'append/s'.padStart(10)} ${'server CPU µs/put'.padStart(18)} ${'µs/append'.padStart(10)}`);
    for (const t of targets) {
      const row = await Promise.all(works.map((w) => lanes.get(key(t.name, w))!.finish()));
      const us = (v: number | undefined, width: number) => (v === undefined ? '—' : v.toFixed(1)).padStart(width);
      console.log(`${t.name.padEnd(30)} ${fmt(row[0].rate)} ${fmt(row[1].rate)} ${us(row[0].cpuUs, 18)} ${us(row[1].cpuUs, 10)}`);
      // The row's own storage and syscall lines, under it.
      row.forEach((r, i) => {
        for (const note of r.notes) console.log(`  ${works[i]} ${note}`);
      });
    }
    // The ratios of runs made in the same round (seconds apart): the machine's drift over the whole
    // bench cancels out of these, which it does not from a ratio of two bests taken minutes apart.
    for (const [top, bottom, label, goal] of PAIRED) {
      const parts = works.flatMap((w) => {
        const a = lanes.get(key(top, w));
        const b = lanes.get(key(bottom, w));
        if (!a || !b) return [];
        const ratios = a.rates.map((r, i) => (r / b.rates[i]) * 100);
        return [`${w} median ${median(ratios).toFixed(0)}% (${ratios.map((r) => `${r.toFixed(0)}%`).join(', ')})`];
      });
      if (parts.length) console.log(`${label}, same round: ${parts.join('; ')}${goal ? `   [${goal}]` : ''}`);
    }
  } finally {
    for (const lane of lanes.values()) await lane.target.stop();
  }
  console.log(diskSyncLine());
  if (!hasRedis) console.log('(redis-server not installed: no Redis rows)');
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

async function startup(): Promise<void> {
  const dir = tempDir();
  const clock = new ManualClock();
  let storage = DiskStorage.open({ dir, fsync: 'everysec', compactAfterBytes: Number.MAX_SAFE_INTEGER });
  let streams = createStreamSubsystem({ clock, profile: 'go', persistence: storage });
  storage.restore();
  const batch = Array.from({ length: 1000 }, () => ({ payload: PAYLOAD, headers: [] }));
  for (let i = 0; i < RECORDS; i += 1000) {
    streams.store.append('default', 'big', batch.slice(0, Math.min(1000, RECORDS - i)) as never, 0);
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
  }
  await storage.close();
  const logBytes = dirBytes(dir);
  // CPU time of each start-up (this process: main thread plus GC threads): steadier than wall clock on a shared machine.
  const cpuMs: number[] = [];
  const time = () => {
    // A fresh server process starts with nothing in memory: drop the previous state before timing.
    streams.close?.();
    streams = undefined as never;
    global.gc?.();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    storage = DiskStorage.open({ dir });
    streams = createStreamSubsystem({ clock, profile: 'go', persistence: storage });
    storage.restore();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    const count = streams.store.info('default', 'big').count;
    if (count !== BigInt(RECORDS)) throw new Error(`restored ${count} records, expected ${RECORDS}`);
    return ms;
  };
  const cpu = (i: number) => `CPU ${(cpuMs[i] / 1000).toFixed(2)} s`;
  const replayMs = time();
  await storage.compact();
  await storage.close();
  const snapshotBytes = dirBytes(dir);
  const snapshotMs = time();
  await storage.close();
  const n = RECORDS.toLocaleString('en-US');
  console.log(`start-up with ${n} stream records (100-byte payloads):`);
  console.log(`  replaying the log:   ${(replayMs / 1000).toFixed(2)} s, ${cpu(0)}   (log ${(logBytes / 1e6).toFixed(0)} MB, ${(logBytes / RECORDS).toFixed(0)} bytes/record)`);
  console.log(`  from the snapshot:   ${(snapshotMs / 1000).toFixed(2)} s, ${cpu(1)}   (after compaction ${(snapshotBytes / 1e6).toFixed(0)} MB, ${(snapshotBytes / RECORDS).toFixed(0)} bytes/record = ${(snapshotBytes / RECORDS / 100).toFixed(2)}x the payload)`);
}

/** CPU µs per write of `run(i)`, 256 writes per turn (the storage commits at the end of each turn). */
async function cpuPerWrite(ops: number, run: (i: number) => void, settle: () => Promise<void>): Promise<number> {
  const turn = async (from: number, to: number) => {
    for (let i = from; i < to; i++) run(i);
    await new Promise((r) => setImmediate(r));
  };
  for (let i = 0; i < Math.min(ops, 20_000); i += IN_FLIGHT) await turn(i, i + IN_FLIGHT); // warm-up
  await settle();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ops; i += IN_FLIGHT) await turn(i, Math.min(ops, i + IN_FLIGHT));
  await settle();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / ops;
}

async function cpuPart(): Promise<void> {
  const ops = Number(process.env.BENCH_CPU_OPS ?? 200_000);
  const keys = Array.from({ length: 10_000 }, (_, i) => utf8(`key:${i}`));
  const records = [{ payload: PAYLOAD, headers: [] }];
  console.log(`CPU µs per write in process (${ops.toLocaleString('en-US')} writes, ${IN_FLIGHT} per turn, 100-byte values, keys key:0..9999)`);
  const modes = (process.env.BENCH_CPU_MODES ?? 'in-memory,everysec,always').split(',') as Array<'in-memory' | 'everysec' | 'always'>;
  const writes = (process.env.BENCH_CPU_WRITES ?? 'kv,stream,queue').split(',') as Array<'kv' | 'stream' | 'queue'>;
  const titles = { kv: 'kv put', stream: 'append', queue: 'enqueue' };
  console.log(`${'mode'.padEnd(20)} ${writes.map((w) => titles[w].padStart(8)).join(' ')}`);
  for (const mode of modes) {
    const row: number[] = [];
    for (const w of writes) {
      const clock = new ManualClock();
      // No compaction during the measurement: it is background work, paid per log size, not per write.
      const storage = mode === 'in-memory' ? undefined : DiskStorage.open({ dir: tempDir(), fsync: mode, compactAfterBytes: Number.MAX_SAFE_INTEGER });
      const env = { clock, profile: 'go' as const, ...(storage ? { persistence: storage } : {}) };
      const settle = async () => {
        // Wait until every change is durable (`always`: the fdatasync in flight returned).
        if (storage?.pending) await new Promise<void>((r) => storage.afterCommit(() => r()));
      };
      if (w === 'kv') {
        const kv = createKvSubsystem(env);
        storage?.restore();
        row.push(await cpuPerWrite(ops, (i) => void kv.store.put('default', keys[i % 10_000], PAYLOAD), settle));
        kv.close?.();
      } else if (w === 'queue') {
        const queues = createQueueSubsystem(env);
        storage?.restore();
        row.push(await cpuPerWrite(ops, () => void queues.store.enqueue('default', 'bench', PAYLOAD), settle));
        queues.close?.();
      } else {
        const streams = createStreamSubsystem(env);
        storage?.restore();
        row.push(await cpuPerWrite(ops, () => void streams.store.append('default', 'bench', records as never, 0), settle));
        streams.close?.();
      }
      await storage?.close();
    }
    console.log(`${mode.padEnd(20)} ${row.map((us) => us.toFixed(2).padStart(8)).join(' ')}`);
  }
}

export async function main(): Promise<void> {
  try {
    if (PART === 'cpu') return await cpuPart();
    if (PART !== 'startup') await throughput();
    if (PART !== 'throughput') await startup();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
