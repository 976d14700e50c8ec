/**
 * Fuzzing the embedded server (not in CI): `npx tsx bench/fuzz.ts` (`FUZZ_FRAMES`, `FUZZ_CONNS`).
 *
 * The server runs in a process of its own. Phases:
 * 1. 1,000,000 frames over many connections: valid requests (KV put/get, queue enqueue/dequeue,
 *    stream append, ping) mixed with mutated ones (bit flips, cut lengths, wrong magic, random bytes);
 *    a connection the server rejects is replaced. Afterwards: did the server crash, does it still
 *    answer correctly, and its RSS after all connections closed (goal: ≤ 2 × start + data written).
 * 2. A client that sends 5,000 gets of a 200 KB value and never reads (goal: the server grows by at
 *    most the per-connection hard limit, 64 MiB).
 * 3. 2,000 idle connections (goal: ≤ 100 MB).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  encodeKvPut,
  encodeQueueDequeue,
  encodeQueueEnqueue,
  encodeRequest,
  encodeStreamAppend,
  Op,
  ResponseFrameDecoder,
  Status,
  utf8,
} from '../src/protocol/index.js';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
const CONNS = Number(process.env.FUZZ_CONNS ?? 64);
const IDLE = Number(process.env.FUZZ_IDLE ?? 2000);
const MB = 2 ** 20;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small deterministic PRNG (xorshift32), so runs are repeatable. */
let seed = 0x2545f491;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n: number) => Math.floor(rand() * n);

let dataWritten = 0;
function validFrame(id: bigint): Uint8Array {
  const key = utf8(`k${int(5000)}`);
  switch (int(6)) {
    case 0: {
      const value = new Uint8Array(int(2048));
      dataWritten += value.length + key.length;
      return encodeRequest(id, Op.KvPut, 'fuzz', encodeKvPut({ key, value }));
    }
    case 1:
      return encodeRequest(id, Op.KvGet, 'fuzz', { key });
    case 2: {
      const payload = new Uint8Array(int(512));
      dataWritten += payload.length;
      return encodeRequest(id, Op.QueueEnqueue, 'fuzz', encodeQueueEnqueue({ queue: `q${int(8)}`, payload }));
    }
    case 3:
      return encodeRequest(id, Op.QueueDequeue, 'fuzz', encodeQueueDequeue({ queue: `q${int(8)}`, count: 1 + int(4) }));
    case 4: {
      const value = new Uint8Array(int(256));
      dataWritten += value.length;
      return encodeRequest(id, Op.StreamAppend, 'fuzz', encodeStreamAppend({ stream: `s${int(4)}`, payload: value }));
    }
    default:
      return encodeRequest(id, Op.Ping, 'fuzz', {});
  }
}

function mutated(id: bigint): Uint8Array {
  const kind = int(5);
  if (kind === 0) return Uint8Array.from({ length: 1 + int(64) }, () => int(256)); // random bytes
  const f = validFrame(id).slice();
  const view = new DataView(f.buffer);
  if (kind === 1) f[int(f.length)] ^= 1 << int(8); // a bit flip anywhere (header, CRC, sections)
  else if (kind === 2) view.setUint32(4, int(2 ** 32), true); // a lying length
  else if (kind === 3) f[int(4)] = int(256); // bad magic
  else return f.subarray(0, int(f.length)); // cut short (the next frame continues inside it)
  return f;
}

function startServerProcess(): { child: ChildProcess; ready: Promise<number>; rss(): Promise<number>; exited: () => boolean; stop(): Promise<void> } {
  const child = fork(fileURLToPath(new URL('./fuzz-server.ts', import.meta.url)), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let dead = false;
  child.once('exit', () => (dead = true));
  const ready = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    child.once('message', (m) => resolve((m as { port: number }).port));
  });
  const rss = () =>
    new Promise<number>((resolve) => {
      const on = (m: unknown) => {
        if (typeof m === 'object' && m && 'rss' in m) {
          child.off('message', on);
          resolve((m as { rss: number }).rss);
        }
      };
      child.on('message', on);
      child.send('rss');
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (dead) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { child, ready, rss, exited: () => dead, stop };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One fuzzing connection: sends batches until its share is sent; replaced when the server closes it. */
async function fuzzLane(port: number, share: number, counters: { sent: number; rejected: number }): Promise<void> {
  let left = share;
  let id = 1n;
  while (left > 0) {
    const s = await open(port);
    s.on('data', () => undefined); // read and drop replies
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => undefined);
    let alive = true;
    void closed.then(() => (alive = false));
    while (alive && left > 0) {
      const n = Math.min(left, 200);
      const frames: Uint8Array[] = [];
      for (let i = 0; i < n; i++) frames.push(rand() < 0.02 ? mutated(id++) : validFrame(id++));
      left -= n;
      counters.sent += n;
      if (!s.write(Buffer.concat(frames))) await Promise.race([new Promise((r) => s.once('drain', r)), closed]);
      else await new Promise((r) => setImmediate(r)); // let replies and a close be seen
    }
    if (alive) {
      s.end();
      await Promise.race([closed, sleep(2000)]);
      s.destroy();
    } else counters.rejected++;
  }
}

/** Checks the server still answers correctly: put then get, enqueue then dequeue. */
async function correct(port: number): Promise<boolean> {
  const s = await open(port);
  const decoder = new ResponseFrameDecoder();
  const replies: Array<{ status: number; payload: Uint8Array }> = [];
  s.on('data', (b: Buffer) => replies.push(...decoder.push(b)));
  s.write(Buffer.concat([
    encodeRequest(1n, Op.KvPut, 'check', encodeKvPut({ key: utf8('k'), value: utf8('v42') })),
    encodeRequest(2n, Op.KvGet, 'check', { key: utf8('k') }),
    encodeRequest(3n, Op.QueueEnqueue, 'check', encodeQueueEnqueue({ queue: 'q', payload: utf8('m') })),
    encodeRequest(4n, Op.QueueDequeue, 'check', encodeQueueDequeue({ queue: 'q', count: 1 })),
  ]));
  for (let i = 0; i < 200 && replies.length < 4; i++) await sleep(10);
  s.destroy();
  const get = replies[1];
  return replies.length === 4 && replies.every((r) => r.status === Status.OK) && new TextDecoder().decode(get.payload).endsWith('v42');
}

export async function main(): Promise<void> {
  const server = startServerProcess();
  const port = await server.ready;
  try {
    const rssStart = await server.rss();
    console.log(`fuzz: ${FRAMES.toLocaleString('en-US')} frames over ${CONNS} connections; server RSS at start ${mb(rssStart)}`);

    const counters = { sent: 0, rejected: 0 };
    const started = Date.now();
    await Promise.all(Array.from({ length: CONNS }, () => fuzzLane(port, Math.ceil(FRAMES / CONNS), counters)));
    await sleep(500);
    const crashes = server.exited() ? 1 : 0;
    const ok = !crashes && (await correct(port));
    const rssAfter = crashes ? NaN : await server.rss();
    console.log(`  sent ${counters.sent.toLocaleString('en-US')} frames in ${((Date.now() - started) / 1000).toFixed(1)} s; ${counters.rejected} connections rejected and replaced`);
    console.log(`  crashes: ${crashes}; correct answers after: ${ok ? 'yes' : 'NO'}`);
    console.log(`  RSS after all connections closed: ${mb(rssAfter)} (start ${mb(rssStart)} + data written ${mb(dataWritten)}; goal ≤ ${mb(2 * rssStart + dataWritten)})`);

    // 2. A client that never reads.
    const before = await server.rss();
    const deaf = await open(port);
    deaf.pause();
    deaf.on('error', () => undefined);
    const big = await open(port);
    big.on('data', () => undefined);
    big.write(encodeRequest(1n, Op.KvPut, 'deaf', encodeKvPut({ key: utf8('big'), value: new Uint8Array(200_000) })));
    await sleep(200);
    deaf.write(Buffer.concat(Array.from({ length: 5000 }, (_, i) => encodeRequest(BigInt(i + 1), Op.KvGet, 'deaf', { key: utf8('big') }))));
    let peak = before;
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      peak = Math.max(peak, await server.rss());
    }
    deaf.destroy();
    big.destroy();
    console.log(`  never-reading client (5,000 gets of 200 KB = 1 GB of replies): server grew by ${mb(peak - before)} (goal ≤ 64 MiB hard limit)`);

    // 3. Idle connections.
    await sleep(300);
    const idleBefore = await server.rss();
    const idle: Socket[] = [];
    for (let i = 0; i < IDLE; i++) {
      const s = await open(port);
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.write(encodeRequest(1n, Op.Ping, 'idle', {})); // a binary connection, then silence
      idle.push(s);
    }
    await sleep(500);
    const idleAfter = await server.rss();
    for (const s of idle) s.destroy();
    console.log(`  ${IDLE.toLocaleString('en-US')} idle connections: ${mb(idleAfter - idleBefore)} (goal ≤ 100 MB)`);
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
