/**
 * Processing and schedule costs inside the embedded server (no sockets: the subsystems directly,
 * with a ManualClock moved by hand, so only the engine's own work is timed):
 *
 *   (a) records per second through a job (filter → keyby → running sum → stream sink), batch 1000
 *   (b) croner's cost for one cron step (`parseCron(expr).next(t)`), as a schedule tick pays it
 *
 * Run: `npx tsx bench/processing.ts` (also part of `npm run bench`).
 */
import { utf8 } from '../src/protocol/index.js';
import { ManualClock } from '../src/server/clock.js';
import { createKvSubsystem } from '../src/server/kv/index.js';
import { createProcessingSubsystem, parseProcessingDefinition } from '../src/server/processing/index.js';
import { createQueueSubsystem } from '../src/server/queues/index.js';
import { createPorts } from '../src/server/ports.js';
import { createStreamSubsystem } from '../src/server/streams/index.js';
import { parseCron } from '../src/server/workflows/cron.js';

const RECORDS = Number(process.env.BENCH_PROCESSING_RECORDS ?? 200_000);
const CRON_STEPS = Number(process.env.BENCH_CRON_STEPS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const JOB = `kind: Processing
name: bench
batch_size: 1000
sources:
  - stream: { name: in, poll_interval_ms: 1 }
operators:
  - { type: filter, condition: "json:status=completed" }
  - { type: keyby, key_expression: "$.customer" }
  - { type: aggregate, function: sum, field: "$.amount" }
sinks:
  - stream: { name: out }
`;

function processingRun(): number {
  const clock = new ManualClock();
  const env = { clock, profile: 'go' as const };
  const streams = createStreamSubsystem(env);
  const processing = createProcessingSubsystem(env, createPorts(streams, createKvSubsystem(env), createQueueSubsystem(env)));
  const batch = Array.from({ length: 1000 }, (_, i) => ({
    payload: utf8(JSON.stringify({ customer: `c${i % 50}`, amount: i, status: i % 4 === 0 ? 'cancelled' : 'completed' })),
    headers: [] as Array<[string, string]>,
  }));
  for (let n = 0; n < RECORDS; n += batch.length) streams.append('ns', 'in', batch);
  const job = processing.store.submit('ns', JOB, parseProcessingDefinition(JOB, 'ns'), clock.now());
  const started = performance.now();
  while (job.recordsProcessed < BigInt(RECORDS)) clock.advance(1);
  const seconds = (performance.now() - started) / 1000;
  processing.close?.();
  return RECORDS / seconds;
}

function cronRun(): number {
  const cron = parseCron('15,45 8-18/2 * 1-6 1-5');
  const t0 = Date.UTC(2026, 0, 1);
  const started = performance.now();
  for (let i = 0; i < CRON_STEPS; i++) cron.next(t0 + i * 60_000);
  return ((performance.now() - started) * 1000) / CRON_STEPS;
}

export async function main(): Promise<void> {
  let rate = 0;
  let micros = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    rate = Math.max(rate, processingRun());
    micros = Math.min(micros, cronRun());
  }
  console.log(`processing: ${Math.round(rate).toLocaleString('en-US')} records/s through filter → keyby → sum → stream sink (${RECORDS} records, best of ${ROUNDS})`);
  console.log(`cron step (croner): ${micros.toFixed(1)} µs per next fire time (best of ${ROUNDS})`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
