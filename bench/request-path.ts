/**
 * The cost of the tracing hooks on the request path when nobody listens: our Connection against the
 * fixed-reply server (in a child process), with the `flo-rx:request` / `flo-rx:connect`
 * TracingChannels present but unsubscribed ("hooks") vs the same Connection built without them
 * (`tracing: false`, "no hooks": the path as it was before tracing existed). Both run in this one
 * process, in interleaved rounds (the order flips every round so drift and GC hit both alike); the
 * figure is the median of each, and the median of the per-round ratios. Target: hooks / no hooks
 * ≥ 0.98 (within 2%).
 *
 * Run: `npm run bench` (section request-path) or `npx tsx bench/request-path.ts`.
 * Env: BENCH_ROUNDS (default 9), BENCH_PIPELINED (default 100 000), BENCH_SEQUENTIAL (default 10 000).
 */
import * as diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { Connection } from '../src/connection/connection.js';
import { tcpTransport } from '../src/connection/tcp.js';
import { REQUEST_CHANNEL, tracingFrom } from '../src/connection/tracing.js';
import type { RequestSpec } from '../src/connection/types.js';
import { Op, utf8 } from '../src/protocol/index.js';
import { connectionLoop, startWorker } from './roundtrip.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 100_000);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 10_000);
const IN_FLIGHT = 256;
const WARMUP = 5_000;
const SPEC: RequestSpec = { opcode: Op.KvGet, namespace: 'default', body: { key: utf8('bench:key') } };

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
/** The value at fraction `q` of the sorted values (nearest rank). */
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);

/** One mode (in flight), both variants, interleaved. */
async function compare(hooks: Connection, bare: Connection, total: number, inFlight: number): Promise<{ hooks: number; bare: number; ratio: number; spread: [number, number] }> {
  const withHooks: number[] = [];
  const without: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let a: number;
    let b: number;
    if (round % 2 === 0) {
      a = await connectionLoop(hooks, total, inFlight, SPEC);
      b = await connectionLoop(bare, total, inFlight, SPEC);
    } else {
      b = await connectionLoop(bare, total, inFlight, SPEC);
      a = await connectionLoop(hooks, total, inFlight, SPEC);
    }
    withHooks.push(a);
    without.push(b);
    ratios.push(a / b);
  }
  return { hooks: median(withHooks), bare: median(without), ratio: median(ratios), spread: [quantile(ratios, 0.25), quantile(ratios, 0.75)] };
}

export interface RequestPathResult {
  readonly inFlight: number;
  readonly hooksOpsPerSec: number;
  readonly noHooksOpsPerSec: number;
  /** Median of the per-round ratios hooks / no hooks. */
  readonly ratio: number;
  /** The per-round ratios' quartiles (how noisy the machine was). */
  readonly spread: readonly [number, number];
}

export async function main(): Promise<RequestPathResult[]> {
  if (diagnostics.tracingChannel(REQUEST_CHANNEL).hasSubscribers) throw new Error('request-path bench: flo-rx:request has subscribers');
  console.log(
    `request-path: tracing hooks present but unsubscribed vs disabled, fixed-reply server, ${ROUNDS} interleaved rounds, medians` +
      ` (${PIPELINED} with ${IN_FLIGHT} in flight, ${SEQUENTIAL} one at a time)`,
  );
  const server = await startWorker('fixed');
  const endpoints = [`127.0.0.1:${server.port!}`];
  const hooks = new Connection({ endpoints, transport: tcpTransport, tracing: tracingFrom(diagnostics) });
  const bare = new Connection({ endpoints, transport: tcpTransport, tracing: false });
  const results: RequestPathResult[] = [];
  try {
    await Promise.all([hooks.connect(), bare.connect()]);
    for (const conn of [hooks, bare]) await connectionLoop(conn, WARMUP, IN_FLIGHT, SPEC);
    for (const [total, inFlight] of [
      [PIPELINED, IN_FLIGHT],
      [SEQUENTIAL, 1],
    ] as const) {
      const r = await compare(hooks, bare, total, inFlight);
      results.push({ inFlight, hooksOpsPerSec: r.hooks, noHooksOpsPerSec: r.bare, ratio: r.ratio, spread: r.spread });
      console.log(`  ${String(inFlight).padStart(3)} in flight: hooks ${fmt(r.hooks)} ops/s, no hooks ${fmt(r.bare)} ops/s, hooks/no hooks ${r.ratio.toFixed(3)} (quartiles ${r.spread[0].toFixed(3)}–${r.spread[1].toFixed(3)}; target ≥ 0.98)`);
    }
  } finally {
    await Promise.allSettled([hooks.close(), bare.close()]);
    await server.stop();
  }
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
