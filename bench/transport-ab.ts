/**
 * The server's TCP transport alone, this tree against another checkout, in one process: a server
 * socket wrapped in each tree's `TcpTransport` answers every read with one small write (a 32-byte
 * frame-sized reply), a plain `net` client sends 60-byte requests one at a time (1 in flight), and
 * the process's CPU per round trip is measured (client code is the same for both, so the paired
 * difference is the transport's). Alternates A B, B A, ... and prints medians and the median of
 * the per-round differences.
 *
 * Env: BENCH_AB_OTHER=<dir> (required), BENCH_TA_ROUNDS (default 10), BENCH_TA_OPS (default 20 000),
 * BENCH_TA_REQUEST_BYTES (size of each request, default 60).
 * Run: `BENCH_AB_OTHER=/path/to/old npx tsx bench/transport-ab.ts`. Prints figures, asserts nothing.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './support/stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_TA_ROUNDS', 10);
const OPS = env('BENCH_TA_OPS', 20_000);
// A lone get's request is ~60 bytes, a put's with a 100-byte value ~170 (reads above 64 bytes are copied to a slab).
const REQUEST = new Uint8Array(env('BENCH_TA_REQUEST_BYTES', 60)).fill(1);
const REPLY = new Uint8Array(32).fill(2);

interface TransportLike {
  start(events: { data(bytes: Uint8Array, last?: boolean): void; drain(): void; end(): void; close(): void }): void;
  send(bytes: Uint8Array): void;
  resumeReading(): void;
}
type TransportCtor = new (socket: Socket) => TransportLike;

interface Pair {
  readonly label: string;
  readonly server: Server;
  readonly client: Socket;
  onReply: () => void;
}

async function pair(label: string, tree: string): Promise<Pair> {
  const { TcpTransport } = (await import(resolve(tree, 'src/server/transport.ts'))) as { TcpTransport: TransportCtor };
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const t = new TcpTransport(socket);
    t.start({ data: () => t.send(REPLY), drain: () => {}, end: () => {}, close: () => {} });
    t.resumeReading();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const p: Pair = { label, server, client, onReply: () => {} };
  client.on('data', () => p.onReply());
  return p;
}

function run(p: Pair, n: number): Promise<{ us: number; cpu: number }> {
  return new Promise((done) => {
    let left = n;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    p.onReply = () => {
      if (--left > 0) p.client.write(REQUEST);
      else {
        const c = process.cpuUsage(c0);
        done({ us: ((performance.now() - t0) * 1000) / n, cpu: (c.user + c.system) / n });
      }
    };
    p.client.write(REQUEST);
  });
}

async function main(): Promise<void> {
  const other = process.env.BENCH_AB_OTHER;
  if (!other) throw new Error('BENCH_AB_OTHER=<checkout> is required');
  const here = fileURLToPath(new URL('..', import.meta.url));
  const sides = [await pair('this tree', here), await pair(`other (${other})`, other)];
  for (const s of sides) await run(s, 5_000); // warm-up
  const samples = sides.map(() => [] as Array<{ us: number; cpu: number }>);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) samples[i]!.push(await run(sides[i]!, OPS));
  }
  console.log(`${ROUNDS} alternating rounds, ${OPS} round trips each, 1 in flight; CPU of this process (server and client) per round trip`);
  sides.forEach((s, i) => {
    const xs = samples[i]!;
    console.log(`  ${s.label}: ${median(xs.map((x) => x.us)).toFixed(1)} µs, CPU ${median(xs.map((x) => x.cpu)).toFixed(2)} µs`);
  });
  const d = samples[0]!.map((x, i) => x.cpu - samples[1]![i]!.cpu);
  console.log(`  this tree − other, median of the per-round CPU differences: ${median(d).toFixed(2)} µs (rounds: ${d.map((x) => x.toFixed(2)).join(' ')})`);
  for (const s of sides) {
    s.client.destroy();
    s.server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
