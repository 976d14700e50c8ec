/**
 * Round trips per second over one connection: one request at a time, and 256 in flight.
 *
 *   (a) baseline: a minimal raw-socket client (no RxJS, no Connection) against the fixed-reply server
 *   (b) our Connection against the same fixed-reply server
 *   (c) our Connection against the embedded server (kv_get of a missing key), if it exists
 *
 * Servers run in a child process. Run: `npm run bench` (or `npx tsx bench/roundtrip.ts`).
 */
import * as net from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Connection } from '../src/connection/connection.js';
import { tcpTransport } from '../src/connection/tcp.js';
import type { RequestSpec } from '../src/connection/types.js';
import { HEADER_SIZE, Op, encodeRequest, utf8 } from '../src/protocol/index.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 20_000);
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 200_000);
const IN_FLIGHT = 256;
const WARMUP = 2_000;
/** Each figure is the best of this many runs: the machine is shared, and noise only ever slows. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function best(run: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < ROUNDS; i++) top = Math.max(top, await run());
  return top;
}

const KEY = utf8('bench:key');
const SPEC: RequestSpec = { opcode: Op.KvGet, namespace: 'default', body: { key: KEY } };

interface ServerHandle {
  readonly port?: number;
  readonly skip?: string;
  stop(): Promise<void>;
}

export function startWorker(kind: 'fixed' | 'embedded'): Promise<ServerHandle> {
  // A child process rather than a worker thread: tsx's loader is not inherited by workers.
  const child = fork(fileURLToPath(new URL('./server-worker.ts', import.meta.url)), [kind], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench server exited early (${code})`)));
    child.once('message', (msg) => resolve({ ...(msg as { port?: number; skip?: string }), stop }));
  });
}

// ---- (a) raw client -----------------------------------------------------------------------------

/** A minimal pipelining client: encodes like the real one, scans reply headers by hand. */
function rawClient(port: number, total: number, inFlight: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let nextId = 1n;
    let sent = 0;
    let received = 0;
    let pending: Buffer | undefined;
    let start = 0;
    const frame = () => {
      sent++;
      return encodeRequest(nextId++, Op.KvGet, 'default', { key: KEY });
    };
    socket.on('error', reject);
    socket.on('connect', () => {
      start = performance.now();
      const first: Uint8Array[] = [];
      for (let i = 0; i < Math.min(inFlight, total); i++) first.push(frame());
      socket.write(Buffer.concat(first));
    });
    socket.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      let at = 0;
      const out: Uint8Array[] = [];
      while (buf.length - at >= HEADER_SIZE) {
        const length = buf.readUInt32LE(at + 4);
        if (buf.length - at < HEADER_SIZE + length) break;
        buf.readBigUInt64LE(at + 8); // the id a real client would route by
        at += HEADER_SIZE + length;
        received++;
        if (sent < total) out.push(frame());
      }
      if (at < buf.length) pending = Buffer.from(buf.subarray(at));
      if (out.length === 1) socket.write(out[0]);
      else if (out.length > 1) socket.write(Buffer.concat(out));
      if (received === total) {
        const secs = (performance.now() - start) / 1000;
        socket.destroy();
        resolve(total / secs);
      }
    });
  });
}

// ---- (b)/(c) our Connection ---------------------------------------------------------------------

/** `inFlight` chains of requests, each issuing its next request when its reply completes. */
export function connectionLoop(conn: Connection, total: number, inFlight: number, spec: RequestSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let done = 0;
    const start = performance.now();
    const observer = {
      error: reject,
      complete: () => {
        done++;
        if (issued < total) issue();
        else if (done === total) resolve(total / ((performance.now() - start) / 1000));
      },
    };
    const request = conn.request(spec);
    const issue = () => {
      issued++;
      request.subscribe(observer);
    };
    for (let i = 0; i < Math.min(inFlight, total); i++) issue();
  });
}

export interface RoundtripResult {
  readonly name: string;
  readonly opsPerSec: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

export async function main(): Promise<RoundtripResult[]> {
  const results: RoundtripResult[] = [];
  const record = (name: string, opsPerSec: number) => {
    results.push({ name, opsPerSec });
    console.log(`  ${name.padEnd(44)} ${fmt(opsPerSec)} ops/s`);
  };
  console.log(`roundtrip: ${SEQUENTIAL} one-at-a-time, ${PIPELINED} with ${IN_FLIGHT} in flight (best of ${ROUNDS})`);

  const fixed = await startWorker('fixed');
  try {
    const port = fixed.port!;
    await rawClient(port, WARMUP, IN_FLIGHT);
    const rawSeq = await best(() => rawClient(port, SEQUENTIAL, 1));
    record('(a) raw socket, 1 in flight', rawSeq);
    const rawPipe = await best(() => rawClient(port, PIPELINED, IN_FLIGHT));
    record(`(a) raw socket, ${IN_FLIGHT} in flight`, rawPipe);

    const conn = new Connection({ endpoints: [`127.0.0.1:${port}`], transport: tcpTransport });
    await conn.connect();
    await connectionLoop(conn, WARMUP, IN_FLIGHT, SPEC);
    const ourSeq = await best(() => connectionLoop(conn, SEQUENTIAL, 1, SPEC));
    record('(b) Connection, 1 in flight', ourSeq);
    const ourPipe = await best(() => connectionLoop(conn, PIPELINED, IN_FLIGHT, SPEC));
    record(`(b) Connection, ${IN_FLIGHT} in flight`, ourPipe);
    await conn.close();

    console.log(`  ours/baseline, ${IN_FLIGHT} in flight:            ${(ourPipe / rawPipe).toFixed(2)} (target ≥ 0.40)`);
    console.log(`  ours/baseline, 1 in flight:              ${(ourSeq / rawSeq).toFixed(2)}`);
    console.log(`  ours ${IN_FLIGHT} in flight / 1 in flight:        ${(ourPipe / ourSeq).toFixed(1)}× (target ≥ 10×)`);
    console.log(`  baseline ${IN_FLIGHT} in flight / 1 in flight:    ${(rawPipe / rawSeq).toFixed(1)}×`);
  } finally {
    await fixed.stop();
  }

  const embedded = await startWorker('embedded');
  try {
    if (embedded.port === undefined) {
      console.log(`  (c) embedded server: skipped: ${embedded.skip}`);
    } else {
      const conn = new Connection({ endpoints: [`127.0.0.1:${embedded.port}`], transport: tcpTransport });
      await conn.connect();
      await connectionLoop(conn, WARMUP, IN_FLIGHT, SPEC);
      const seq = await best(() => connectionLoop(conn, SEQUENTIAL, 1, SPEC));
      record('(c) Connection → embedded, 1 in flight', seq);
      const pipe = await best(() => connectionLoop(conn, PIPELINED, IN_FLIGHT, SPEC));
      record(`(c) Connection → embedded, ${IN_FLIGHT} in flight`, pipe);
      console.log(`  embedded ${IN_FLIGHT} in flight / 1 in flight:    ${(pipe / seq).toFixed(1)}×`);
      await conn.close();
    }
  } finally {
    await embedded.stop();
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
