/**
 * Micro-benchmark of the protocol codecs on the hot paths (pure CPU, no sockets): the request
 * encoders a client calls per operation, the reply encoders and response frame the server builds
 * per reply, and the dequeue-reply decoder a consumer runs per batch. Prints CPU ns per call
 * (median of BENCH_MICRO_ROUNDS rounds, default 5; BENCH_MICRO_ONLY=<substring> picks cases).
 * For before/after comparisons of `src/protocol` changes run it on both versions, alternating
 * (the old one from `git archive HEAD src bench | tar -x -C /tmp/old`; not `git stash`, which
 * every worktree of the repository shares). Not part of `npm run bench`.
 * Run: `npx tsx bench/protocol-micro.ts`.
 */
import { fileURLToPath } from 'node:url';
import {
  decodeQueueDequeueReply,
  decodeStreamAppend,
  encodeKvGet,
  encodeKvGetReply,
  encodeKvPut,
  encodeQueueDequeueReply,
  encodeQueueEnqueue,
  encodeResponseFrame,
  encodeStreamAppend,
  encodeStreamAppendReply,
  utf8,
} from '../src/protocol/index.js';
import { median } from './support/stats.js';

const ROUNDS = Number(process.env.BENCH_MICRO_ROUNDS ?? 5);
const VALUE = new Uint8Array(100).fill(0x61);
const KEY = utf8('bench:key:1234');
const dequeueReply = (profile: 'go' | 'flo') =>
  encodeQueueDequeueReply(
    { messages: Array.from({ length: 64 }, (_, i) => ({ seq: BigInt(i + 1), payload: VALUE, enqueuedAtMs: 1n, deliveryCount: 1, priority: 0 })) },
    profile,
  );
const compact = dequeueReply('go');
const extended = dequeueReply('flo');
const getReply = encodeKvGetReply({ version: 7n, value: VALUE });
const appendBody = (() => {
  const p = encodeStreamAppend({ stream: 'events', payload: VALUE });
  return { namespace: utf8('default'), key: p.key!, value: p.value!, options: p.options ?? new Uint8Array(0) };
})();

/** Results are kept (a ring of 1,024) so that the optimiser cannot drop the work. */
const kept: unknown[] = new Array(1024);
const cases: Array<[name: string, iterations: number, run: () => unknown]> = [
  ['encodeKvGet (no options)', 200_000, () => encodeKvGet({ key: KEY })],
  ['encodeKvPut (no options)', 200_000, () => encodeKvPut({ key: KEY, value: VALUE })],
  ['encodeQueueEnqueue', 200_000, () => encodeQueueEnqueue({ queue: 'jobs', payload: VALUE })],
  ['encodeStreamAppend', 200_000, () => encodeStreamAppend({ stream: 'events', payload: VALUE })],
  ['decodeStreamAppend (server side)', 200_000, () => decodeStreamAppend(appendBody)],
  ['encodeKvGetReply (100 B)', 200_000, () => encodeKvGetReply({ version: 7n, value: VALUE })],
  ['encodeStreamAppendReply', 200_000, () => encodeStreamAppendReply({ timestampMs: 1700000000000n, sequence: 3n })],
  ['encodeResponseFrame (108 B payload)', 200_000, () => encodeResponseFrame(12345n, 0, getReply)],
  ['decodeQueueDequeueReply, 64 msgs, compact', 20_000, () => decodeQueueDequeueReply(compact)],
  ['decodeQueueDequeueReply, 64 msgs, extended', 20_000, () => decodeQueueDequeueReply(extended)],
];

/** CPU time (not wall time) per call: a shared machine's other processes barely move it. */
function time(iterations: number, run: () => unknown): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) kept[i & 1023] = run();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / iterations;
}

export function main(): void {
  console.log(`protocol-micro: CPU ns per call, median of ${ROUNDS} rounds`);
  const only = process.env.BENCH_MICRO_ONLY;
  for (const [name, iterations, run] of cases) {
    if (only && !name.includes(only)) continue;
    time(Math.min(iterations, 50_000), run); // warm-up
    const rounds = Array.from({ length: ROUNDS }, () => time(iterations, run));
    console.log(`  ${name.padEnd(44)} ${median(rounds).toFixed(0).padStart(7)} ns`);
  }
  if (kept.length !== 1024) console.log(kept.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
