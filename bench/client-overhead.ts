/**
 * The client's own cost per call: `flo.kv.get` through the public API next to the
 * bare `Connection` (the same request, no API layer), 256 in flight, against the fixed-reply server in
 * a child process (so the figures are all client). Prints ops/s, the ratio to the bare Connection
 * and this process's CPU µs per call, median of BENCH_ROUNDS (default 3) interleaved rounds.
 * Run: `npx tsx bench/client-overhead.ts`. For before/after comparisons run it on both versions
 * of the tree, alternating. `BENCH_OVERHEAD_CALL=append` measures `flo.stream.append(stream, 100 bytes)`
 * instead (the bare `Connection` then sends the same append; the fixed 16-byte reply reads as an id).
 */
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import { Connection } from '../src/connection/connection.js';
import { tcpTransport } from '../src/connection/tcp.js';
import type { RequestSpec } from '../src/connection/types.js';
import { connect } from '../src/node.js';
import { Op, encodeStreamAppend, utf8 } from '../src/protocol/index.js';
import { startFloChild } from './support/processes.js';
import { inFlightLoop, median, subscribeDone } from './support/stats.js';

const OPS = Number(process.env.BENCH_OPS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CALL = process.env.BENCH_OVERHEAD_CALL ?? 'get';
const VALUE = new Uint8Array(100).fill(0x61);

export async function main(): Promise<void> {
  const fixed = await startFloChild('fixed');
  const flo = connect(`127.0.0.1:${fixed.port}`);
  const conn = new Connection({ endpoints: [`127.0.0.1:${fixed.port}`], transport: tcpTransport });
  const bareGet = conn.request({ opcode: Op.KvGet, namespace: 'default', body: { key: utf8('bench:key') } } satisfies RequestSpec);
  const bareAppend = conn.request({ opcode: Op.StreamAppend, namespace: 'default', body: encodeStreamAppend({ stream: 'bench', payload: VALUE }) } satisfies RequestSpec);
  const cases: Array<[string, () => Observable<unknown>]> =
    CALL === 'append'
      ? [
          ['bare Connection', () => bareAppend],
          ['flo.stream.append', () => flo.stream.append('bench', VALUE)],
        ]
      : [
          ['bare Connection', () => bareGet],
          ['flo.kv.get', () => flo.kv.get('bench:key')],
        ];
  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  try {
    await Promise.all([flo.connect(), conn.connect()]);
    for (const [, make] of cases) await inFlightLoop(10_000, 256, (_i, done) => subscribeDone(make(), done));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const [name, make] of order) {
        const c0 = process.cpuUsage();
        const rate = await inFlightLoop(OPS, 256, (_i, done) => subscribeDone(make(), done));
        const c = process.cpuUsage(c0);
        (rates.get(name) ?? rates.set(name, []).get(name)!).push(rate);
        (cpu.get(name) ?? cpu.set(name, []).get(name)!).push((c.user + c.system) / OPS);
      }
    }
  } finally {
    await Promise.allSettled([flo.close(), conn.close()]);
    await fixed.stop();
  }
  const base = median(rates.get('bare Connection')!);
  console.log(`client-overhead: ${OPS.toLocaleString('en-US')} calls, 256 in flight, fixed-reply server, median of ${ROUNDS} rounds`);
  for (const [name] of cases) {
    const r = median(rates.get(name)!);
    console.log(`  ${name.padEnd(18)} ${Math.round(r).toLocaleString('en-US').padStart(9)} ops/s  ${(r / base).toFixed(2)} of bare  client CPU ${median(cpu.get(name)!).toFixed(2)} µs/call`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
