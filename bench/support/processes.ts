/**
 * Server child processes for the comparison bench: the embedded Flo server (or the fixed-reply
 * server) forked from `server-worker.ts`, and `redis-server` when it is on the PATH. Each runs on a
 * free port, alone in its process, so the client process measures only its own work. CPU time and
 * RSS of a child are read from /proc (Linux); elsewhere those columns are left empty.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface ServerChild {
  readonly label: string;
  readonly port: number;
  readonly pid: number;
  /** The server's resident set size in bytes (after a full GC for the embedded server). */
  rss(): Promise<number | undefined>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Resident set size of a process, from /proc/<pid>/status. */
export function procRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds a process has used so far: the sum over its threads of /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds), else user + system time from /proc/<pid>/stat, which counts 10 ms ticks: too coarse
 * for a few µs per operation over a few thousand operations (3,000 lone requests of ~35 µs are about
 * ten ticks, so one tick more or less moved a row's CPU per operation by 3.3 µs). Undefined off Linux.
 */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    if (Number.isFinite(ns) && ns > 0) return ns / 1e9;
  } catch {
    // a thread that ended while being read, or no schedstat: the ticks below
  }
  return procTickSeconds(pid);
}

/** User + system CPU seconds from /proc/<pid>/stat (10 ms ticks), undefined elsewhere. */
function procTickSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

/**
 * `BENCH_CPU_PROF=<dir>`: server children write a V8 CPU profile there when they stop.
 * `BENCH_SERVER_NODE_FLAGS`: more Node/V8 flags for the server children (space-separated, e.g.
 * `--trace-gc` or `--single-threaded-gc`), for experiments.
 */
function cpuProfArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...extra];
}

/**
 * Forks `server-worker.ts` (`kind` fixed or embedded) with extra `startServer` options; `tree` runs
 * the worker of another checkout (its `bench/server-worker.ts`, for A/B runs), default this one.
 */
export async function startFloChild(kind: 'fixed' | 'embedded', options: Record<string, unknown> = {}, tree?: string): Promise<ServerChild> {
  const args = [kind, ...(Object.keys(options).length > 0 ? [JSON.stringify(options)] : [])];
  const worker = tree ? join(tree, 'bench', 'server-worker.ts') : fileURLToPath(new URL('../server-worker.ts', import.meta.url));
  const child = fork(worker, args, {
    execArgv: ['--expose-gc', ...cpuProfArgs(), '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const first = await new Promise<{ port?: number; skip?: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server (${kind}) exited early (${code})`)));
    child.once('message', (msg) => resolve(msg as { port?: number; skip?: string }));
  });
  if (first.port === undefined) {
    await stopChild(child);
    throw new Error(`embedded server unavailable: ${first.skip}`);
  }
  child.removeAllListeners('exit');
  const rss = () =>
    new Promise<number | undefined>((resolve) => {
      const onMessage = (msg: unknown) => {
        const memory = (msg as { memory?: { rss: number } }).memory;
        if (!memory) return;
        child.off('message', onMessage);
        resolve(memory.rss);
      };
      child.on('message', onMessage);
      child.send('memory');
    });
  return { label: kind === 'fixed' ? 'fixed-reply server' : 'flo-rx embedded server', port: first.port, pid: child.pid!, rss, stop: () => stopChild(child) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The `redis-server` on the PATH, or undefined. */
export function redisServerPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early (${child.exitCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`redis-server did not listen on ${port} within ${deadlineMs} ms`);
}

/**
 * Starts `redis-server` on a free port in a temporary directory, with `extraArgs` after the
 * defaults (no snapshots, no AOF: in memory, like the embedded server's default).
 */
export async function startRedisChild(binary: string, extraArgs: readonly string[] = []): Promise<ServerChild> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'flo-rx-bench-redis-'));
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await waitForPort(port, child);
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    label: 'redis-server',
    port,
    pid: child.pid!,
    rss: async () => procRss(child.pid!),
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
