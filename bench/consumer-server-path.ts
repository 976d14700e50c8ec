/**
 * The embedded server's own work per record of `group → mergeMap(16) → ack()`, without sockets:
 * the real stream handlers (the dispatcher's input built from request frames once), per batch one
 * STREAM_GROUP_READ of 64 (its reply written into a reused output buffer, as the connection does)
 * and one STREAM_GROUP_ACK of those 64 ids. No connection, framing, CRC or kernel: what is left is
 * the streams code's JavaScript and its garbage. Each round reads the whole stream with a new group.
 * Prints this process's CPU µs per record of each round and the median of rounds 3 and later.
 *
 * Run: `npx tsx bench/consumer-server-path.ts`. BENCH_ITEMS (default 200 000) records,
 * BENCH_ROUNDS (default 7); BENCH_CPU_PROFILE=<file> profiles the last round.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import {
  decodeRequestBody,
  decodeStreamRecords,
  encodeRequestBody,
  encodeStreamAppend,
  encodeStreamGroupAck,
  encodeStreamGroupRead,
  encodeStreamRead,
  Op,
  OptionsReader,
  utf8,
  type OpPayload,
  type StreamId,
} from '../src/protocol/index.js';
import { systemClock } from '../src/server/clock.js';
import { createStreamSubsystem } from '../src/server/streams/index.js';
import type { Reply, RequestContext } from '../src/server/types.js';
import { median } from './support/stats.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BATCH = 64;
const NS = 'bench';
const signal = new AbortController().signal;

/** The dispatcher's input for one request (the request body parsed from its bytes, as the server does). */
function context(opcode: number, op: OpPayload): RequestContext {
  const body = decodeRequestBody(encodeRequestBody({ namespace: utf8(NS), key: op.key, value: op.value, options: op.options }));
  return { requestId: 1n, opcode, namespace: NS, body, options: new OptionsReader(body.options), signal, connectionId: 1 };
}

export async function main(): Promise<void> {
  const sub = createStreamSubsystem({ clock: systemClock, profile: 'go' });
  const handler = (op: number) => sub.handlers.get(op)!;
  const appendH = handler(Op.StreamAppend);
  const groupReadH = handler(Op.StreamGroupRead);
  const ackH = handler(Op.StreamGroupAck);
  const plainReadH = handler(Op.StreamRead);
  const stream = 'bench-stream';
  const payload = new Uint8Array(100).fill(0x61);
  const appendCtx = context(Op.StreamAppend, encodeStreamAppend({ stream, payload }));
  for (let i = 0; i < ITEMS; i++) appendH(appendCtx);
  // The ack requests of every batch, made before measuring (the ids the reads will hand out, in order).
  const out = new Uint8Array(1 << 20);
  const view = new DataView(out.buffer);
  const written = (r: Reply): Uint8Array => {
    const p = r.payload;
    if (p === undefined || p instanceof Uint8Array) return p ?? new Uint8Array(0);
    p.writeAt(out, view, 0);
    return out.subarray(0, p.byteLength);
  };
  const ids: StreamId[] = [];
  for (let start: StreamId | undefined; ids.length < ITEMS; ) {
    const recs = decodeStreamRecords(written(plainReadH(context(Op.StreamRead, encodeStreamRead({ stream, count: 1000, ...(start ? { start } : {}) }))) as Reply));
    for (const r of recs) ids.push(r.id);
    const last = recs[recs.length - 1]!.id;
    start = { timestampMs: last.timestampMs, sequence: last.sequence + 1n };
  }
  const perRecord: number[] = [];
  const session = new Session();
  session.connect();
  for (let round = 0; round < ROUNDS; round++) {
    const group = `g-${round}`;
    const readCtx = context(Op.StreamGroupRead, encodeStreamGroupRead({ stream, group, consumer: 'c', count: BATCH }));
    const acks: RequestContext[] = [];
    for (let i = 0; i < ITEMS; i += BATCH) acks.push(context(Op.StreamGroupAck, encodeStreamGroupAck({ stream, group, ids: ids.slice(i, i + BATCH) })));
    const profile = round === ROUNDS - 1 ? process.env.BENCH_CPU_PROFILE : undefined;
    if (profile) {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < acks.length; b++) {
      written(groupReadH(readCtx) as Reply);
      ackH(acks[b]!);
    }
    const cpu = process.cpuUsage(cpu0);
    if (profile) writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
    perRecord.push((cpu.user + cpu.system) / ITEMS);
    const left = sub.store.figures().find((f) => f.stream === stream)?.groups.find((g) => g.group === group);
    if (!left || left.pending !== 0 || left.lag !== 0) throw new Error(`round ${round}: group ${group} not drained (${JSON.stringify(left)})`);
  }
  session.disconnect();
  console.log(`consumer-server-path: group read of ${BATCH} + ack per batch, in process, ${ITEMS.toLocaleString('en-US')} records per round`);
  console.log(`  server CPU µs/record per round: ${perRecord.map((v) => v.toFixed(2)).join(', ')}; median of rounds 3+: ${median(perRecord.slice(2)).toFixed(2)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
